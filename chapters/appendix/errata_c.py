# ---
# jupyter:
#   jupytext:
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Errata of Article C: how widespread AIGC is

# %% tags=["remove-input"]
from aigc_course.plotting import page_info

page_info("errata_c")

# %% [markdown]
# Article C (source file `002_342ad59ca38063a2.txt`) is titled *An analysis of how widespread AIGC
# technology is*. It covers the drivers of adoption, the GAN objective, a PyTorch DCGAN on MNIST,
# applications (media, games, medicine) and "seminal papers". This page lists its **18 entries** (12 major, 6 minor), E41–E57 and E104.
#
# It is one of the five article pages of the [errata appendix](errata.ipynb), which says how to read the
# tables and what each **Kind of check** means, and lists every entry of the five articles. The entries
# are grouped by topic, with the topic numbers of the appendix; a topic without an entry of this article
# is left out. A cell below runs the check of each entry whose table says "Check". Where one cell serves
# entries of several articles, it is on the page of the entry with the smallest number, and the others
# link to it.
#
# The book is built by executing this page, so if a check ever stopped passing, the book would not
# build.

# %%

import torch
import torch.nn.functional as F
from torch import nn

import aigc_course as ac
from aigc_course import data, losses, metrics
from aigc_course.config import GANConfig
from aigc_course.errata_checks import (
    CheckRecord, accuracy, error_of, fit_logistic_d, entry_number,
)
from aigc_course.gan import build_gan

ac.set_seed(0)
# every check is tiny: one thread is fastest and leaves the other cores alone
ac.runtime.set_threads(1)
print(ac.describe())

record = CheckRecord()  # the entries whose check has passed on this page
CHECKED, passed = record.checked, record.passed


# %% [markdown]
# ## 1. GAN maths (3 entries)
#
# The correct game {cite}`goodfellow2014gan`, taught in [section 2.1](../02_gan_math/01_minimax.ipynb), is
# $\min_G\max_D V(D,G)$ with
# $V(D,G)=\mathbb{E}_{x\sim p_{data}}[\log D(x)]+\mathbb{E}_{z\sim p_z}[\log(1-D(G(z)))]$.
# For a fixed $G$ the best discriminator is $D^*_G(x)=\dfrac{p_{data}(x)}{p_{data}(x)+p_g(x)}$, and
# $\max_D V=-\log 4+2\,\mathrm{JSD}(p_{data}\Vert p_g)$, smallest exactly when $p_g=p_{data}$. There
# $D^*\equiv\tfrac12$. Algorithm 1 alternates $k$ ascent steps on $V$ in $\theta_d$ with one descent step
# in $\theta_g$; in practice the generator minimises the non-saturating loss
# $-\mathbb{E}_z[\log D(G(z))]$ ([section 2.2](../02_gan_math/02_gradients.ipynb)).
#
# | ID | Art. | Sev. | The article says | What is right | Evidence | Kind of check |
# |---|---|---|---|---|---|---|
# | E42 | C | major | Update rules $G\leftarrow\nabla_G\mathbb{E}_z[\log(1-D(G(z)))]$ and $D\leftarrow\nabla_D\mathbb{E}_x[\log D(x)]+\mathbb{E}_z[\log(1-D(G(z)))$ (the second bracket is never closed, so as printed $\nabla_D$ applies to the first term only). | $\theta_d\leftarrow\theta_d+\eta\nabla_{\theta_d}V$ (ascent) and $\theta_g\leftarrow\theta_g-\eta\nabla_{\theta_g}\mathbb{E}_z[\log(1-D(G(z)))]$ (descent; in practice the non-saturating loss). Assigning a gradient to a network is not an update. | Algorithm 1 of {cite}`goodfellow2014gan`; [section 2.2](../02_gan_math/02_gradients.ipynb). Check. | article's version |
# | E43 | C | major | The discriminator's *loss* is $\mathbb{E}_x[\log D(x)]+\mathbb{E}_z[\log(1-D(G(z)))]$, minimised by gradient descent. | That quantity is what $D$ **maximises**. As a loss: $\mathcal L_D=-\mathbb{E}_x[\log D(x)]-\mathbb{E}_z[\log(1-D(G(z)))]$, the BCE with labels 1 (real) and 0 (fake). | {cite}`goodfellow2014gan`; [section 2.1](../02_gan_math/01_minimax.ipynb). Check. | article's version |
# | E44 | C | major | "Compute the real image's probability $p_D$", then the loss $\mathbb{E}[\log p_D]+\mathbb{E}[\log(1-p_D)]$, with the same $p_D$ in both terms. | The second term needs the **fake** score $D(G(z))$: $-\mathbb{E}_x[\log D(x)]-\mathbb{E}_z[\log(1-D(G(z)))]$. With $p_D$ in both terms the loss never sees a generated sample, and minimising it drives $D$ to $\tfrac12$ on the real data. | {cite}`goodfellow2014gan`; [section 2.1](../02_gan_math/01_minimax.ipynb). Check: trained on the article's loss, a discriminator unlearns the separation. | article's version |

# %% [markdown]
# **Check E42.** A 1-D toy GAN: data $\mathcal N(3,1)$, generator $G(z)=z+\theta$, discriminator
# $\sigma(wx+b)$, starting at $\theta=0$. One ascent step on $V$ in $(w,b)$ raises $V$; one descent step
# in $\theta$ lowers it and raises $D(G(z))$. The article's rules instead *assign* the gradient to the
# network. Run as printed, the generator's rule moves $\theta$ away from the data, so $D(G(z))$ falls,
# and the discriminator's rule (the gradient of the first term only, as printed) lowers $V$, the
# quantity $D$ should raise. At the equilibrium ($\theta=3$, $D\equiv\tfrac12$) the gradient is 0,
# so the article's rule would even reset the perfect generator to $\theta=0$; a real update leaves it
# where it is (that last part is an illustration).

# %%
real = 3 + torch.randn(4000, dtype=torch.float64)
z = torch.randn(4000, dtype=torch.float64)


def value(theta: torch.Tensor, wb: torch.Tensor) -> torch.Tensor:
    """V(D, G) for G(z) = z + theta and D(x) = sigmoid(w x + b)."""
    return -losses.gan_d_loss(wb[0] * real + wb[1], wb[0] * (z + theta) + wb[1])


theta = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
wb = torch.tensor([0.5, -0.75], dtype=torch.float64, requires_grad=True)
v0 = value(theta, wb)
g_theta, g_wb = torch.autograd.grad(v0, (theta, wb))
eta = 0.1
assert value(theta, wb + eta * g_wb) > v0  # D: gradient ascent on V
assert value(theta - eta * g_theta, wb) < v0  # G: gradient descent on V

# the article's rules, as printed: assign the gradient (for D, of the first term only)
theta_assigned = g_theta.detach()  # G <- grad_G E_z[log(1 - D(G(z)))]
(g_first,) = torch.autograd.grad(torch.log(torch.sigmoid(wb[0] * real + wb[1])).mean(), wb)
wb_assigned = g_first.detach()  # D <- grad_D E_x[log D(x)] + ...


def mean_d_of_fakes(th: torch.Tensor) -> float:
    return torch.sigmoid(wb[0] * (z + th) + wb[1]).mean().item()


print(f"mean D(G(z)): at theta = 0 {mean_d_of_fakes(theta.detach()):.4f}, "
      f"after the article's G rule {mean_d_of_fakes(theta_assigned):.4f}, after a descent step "
      f"{mean_d_of_fakes(theta.detach() - eta * g_theta):.4f}")
print(f"V: at the start {v0.item():.4f}, after the article's D rule "
      f"{value(theta, wb_assigned).item():.4f}, after an ascent step "
      f"{value(theta, wb + eta * g_wb).item():.4f}")
assert (mean_d_of_fakes(theta_assigned) < mean_d_of_fakes(theta.detach())
        < mean_d_of_fakes(theta.detach() - eta * g_theta))  # the article's G rule helps D
assert value(theta, wb_assigned) < v0 < value(theta, wb + eta * g_wb)  # its D rule lowers V

theta_star = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)  # p_g = p_data
wb_half = torch.zeros(2, dtype=torch.float64)  # D = 1/2 everywhere
(g_star,) = torch.autograd.grad(
    losses.gan_g_saturating(wb_half[0] * (z + theta_star) + wb_half[1]), theta_star)
theta_article = g_star  # "G <- gradient"
theta_update = theta_star.detach() - eta * g_star
print(f"at equilibrium: article's rule gives theta = {theta_article.item():.1f}, "
      f"gradient descent keeps theta = {theta_update.item():.1f}")
assert theta_article == 0 and theta_update == 3
passed("E42")

# %% [markdown]
# **Check E43.** The same data, and a logistic discriminator trained for 200 steps of gradient descent,
# once on the correct loss `gan_d_loss` and once on the article's "loss" (which is $V$, its negative).
# The article's version learns the inverse classifier: its accuracy falls far below 50 %.

# %%


real = 3 + torch.randn(2000)
fake = torch.randn(2000)


def train_logistic_d(loss_fn, steps: int = 200, lr: float = 0.5) -> torch.Tensor:
    wb = torch.zeros(2, requires_grad=True)
    opt = torch.optim.SGD([wb], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(wb[0] * real + wb[1], wb[0] * fake + wb[1]).backward()
        opt.step()
    return wb.detach()


acc_correct = accuracy(train_logistic_d(losses.gan_d_loss), real, fake)
acc_article = accuracy(train_logistic_d(lambda r, f: -losses.gan_d_loss(r, f)), real, fake)
print(f"accuracy after descent on the correct loss {acc_correct:.3f}, "
      f"on the article's {acc_article:.3f}")
assert acc_correct > 0.9 and acc_article < 0.5
passed("E43")

# %% [markdown]
# **Check E44.** The article's recipe, run as written (with the sign of E43 already corrected, so that
# only this error is left): compute $p_D$ for the real images and minimise
# $-\mathbb{E}[\log p_D]-\mathbb{E}[\log(1-p_D)]$, with the same $p_D$ in both terms. We start both
# versions from the same discriminator $D(x)=\sigma(x-1.5)$, which already separates real
# $\mathcal N(3,1)$ from generated $\mathcal N(0,1)$ samples, and minimise each loss (L-BFGS, as in
# the check of E32 on [Article B's page](errata_b.ipynb)). The article's loss never sees a generated sample: it pulls $D$ to $\tfrac12$ on
# the real data and unlearns the separation. The correct loss, with $D(G(z))$ in its second term,
# sharpens it.

# %%


def article_p_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-E[log p_D] - E[log(1 - p_D)], both terms on the real images' p_D (fake_logits unused)."""
    return F.softplus(-real_logits).mean() + F.softplus(real_logits).mean()


real64, fake64 = real.double(), fake.double()  # the samples of the check of E43


def separation(wb: torch.Tensor) -> float:
    """Mean D(x) on the real samples minus mean D on the generated ones (0: no separation)."""
    return (torch.sigmoid(wb[0] * real64 + wb[1]).mean()
            - torch.sigmoid(wb[0] * fake64 + wb[1]).mean()).item()


start = (1.0, -1.5)  # D(x) = sigmoid(x - 1.5)
wb_article = fit_logistic_d(real64, fake64, article_p_d_loss, init=start)
wb_correct = fit_logistic_d(real64, fake64, losses.gan_d_loss, init=start)
print(f"mean D(real) - mean D(fake): at the start {separation(torch.tensor(start)):.3f}, "
      f"after the article's loss {separation(wb_article):.3f}, "
      f"after the correct loss {separation(wb_correct):.3f}")
assert separation(torch.tensor(start)) > 0.5
assert abs(separation(wb_article)) < 0.05  # the article's D no longer tells them apart
assert separation(wb_correct) > separation(torch.tensor(start))  # the correct D separates better
passed("E44")


# %% [markdown]
# ## 5. Code (5 entries)
#
# Articles A, B and D give TensorFlow/Keras code; C and E give PyTorch DCGANs. None of the five
# programs runs as printed. TensorFlow is not installed in the course environment (the course is plain
# PyTorch), and neither is torchvision, so the articles' code is transcribed: layers and losses are
# rebuilt layer for layer in PyTorch and run next to the corrected version, and the names that a
# program uses but never defines are found by reading the whole program as printed (the check of E13, on
# [Article A's page](errata_a.ipynb)).
# E14, E66 and E95 are not run. The course's correct versions are in [section 4.1](../04_hands_on/01_data_pipeline.ipynb) (data pipeline) and [section 4.2](../04_hands_on/02_dcgan.ipynb)
# (DCGAN).
#
# | ID | Art. | Sev. | The article says | What is right | Evidence | Kind of check |
# |---|---|---|---|---|---|---|
# | E45 | C | major | DCGAN for MNIST: generator ConvT(100→256, k4, s1, p0) then three ConvT(k4, s2, p1) and Tanh; discriminator three Conv(k4, s2, p1) then Conv(256→1, k4, s1, p0). | The generator outputs **32×32** (1→4→8→16→32) but MNIST is **28×28**; on 28×28 input the discriminator goes 28→14→7→3 and the last 4×4 convolution fails. Resize the data to 32, or use a 7→14→28 generator with a matching discriminator. `view(-1, 28, 28)` on 32×32 fakes fails too. | Check (torch's error reproduced); [section 4.2](../04_hands_on/02_dcgan.ipynb). | article's version |
# | E46 | C | major | `transforms.Normalize((0.5,0.5,0.5),(0.5,0.5,0.5))` on MNIST. | MNIST has one channel: `Normalize((0.5,),(0.5,))`, which maps $[0,1]$ to $[-1,1]$, the range of the generator's `Tanh`. | [Section 4.1](../04_hands_on/01_data_pipeline.ipynb). Check (torch's error reproduced). | article's version |
# | E47 | C | major | `G.parameters()`, `D.parameters()` and `device` are used, but `G`, `D` and `device` are never created. | Create `device`, `G = Generator().to(device)` and `D = Discriminator().to(device)` before the optimizers; move the real images to `device` too. | Check (names used but never defined), with E13 on [Article A's page](errata_a.ipynb). | article's version |
# | E48 | C | major | `criterion(D(g_imgs), torch.ones(g_imgs.size(0), 1, device=device))` with `nn.BCELoss`, where `D` returns shape `(N, 1, 1, 1)`. | `BCELoss` needs input and target of the same shape: `D(x).view(-1)` with `torch.ones(N)`. Better: drop the final `Sigmoid` and use `BCEWithLogitsLoss` (numerically stable). | Check (torch's error reproduced). | article's version |
# | E49 | C | minor | `save_image(torch.cat((real_images, fake_images), 0), ...)` on NumPy arrays, into `images/{epoch + 1}/` folders never created; the display code indexes a 3-D array with `[0, :, :, :]` and creates 5 000 folders. | Keep tensors; `os.makedirs(path, exist_ok=True)`; `save_image(torch.cat([real, fake]), path, normalize=True)`. | Check (TypeError and IndexError). | article's version |

# %% [markdown]
# **Check E45.** Articles C and E share one DCGAN (one grey channel for MNIST in C, three colour channels
# for CIFAR-10 in E); we retype it below. Its generator makes 32×32 images; on 28×28 MNIST-sized images its
# discriminator fails. The course's DCGAN for 28×28 ([section 4.2](../04_hands_on/02_dcgan.ipynb)) works.

# %%
def article_dcgan(channels: int) -> tuple[nn.Sequential, nn.Sequential]:
    """The generator and discriminator of Articles C (channels=1) and E (channels=3),
    as printed."""
    generator = nn.Sequential(
        nn.ConvTranspose2d(100, 256, 4, 1, 0, bias=False),  # (B, 256, 4, 4)
        nn.BatchNorm2d(256), nn.ReLU(True),
        nn.ConvTranspose2d(256, 128, 4, 2, 1, bias=False),  # (B, 128, 8, 8)
        nn.BatchNorm2d(128), nn.ReLU(True),
        nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False),  # (B, 64, 16, 16)
        nn.BatchNorm2d(64), nn.ReLU(True),
        nn.ConvTranspose2d(64, channels, 4, 2, 1, bias=False), nn.Tanh(),  # (B, C, 32, 32)
    )
    discriminator = nn.Sequential(
        nn.Conv2d(channels, 64, 4, 2, 1, bias=False),  # (B, 64, H/2, W/2)
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(64, 128, 4, 2, 1, bias=False),
        nn.BatchNorm2d(128), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(128, 256, 4, 2, 1, bias=False),
        nn.BatchNorm2d(256), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(256, 1, 4, 1, 0, bias=False), nn.Sigmoid(),  # (B, 1, 1, 1) for 32x32 inputs
    )
    return generator, discriminator


test = data.fashion_mnist("test")
G_c, D_c = article_dcgan(channels=1)
fakes = G_c(torch.randn(2, 100, 1, 1)).detach()
mnist_sized = metrics.to_model_space(test.images[:2])  # (2, 1, 28, 28)
print("generator output:", tuple(fakes.shape))
assert fakes.shape == (2, 1, 32, 32)
err = error_of(lambda: D_c(mnist_sized))
assert "Kernel size can't be greater than actual input size" in str(err)
err = error_of(lambda: fakes.view(-1, 28, 28))  # the article's image-saving code
assert isinstance(err, RuntimeError)

G28, D28 = build_gan(GANConfig(kind="dcgan", z_dim=100, img_size=28, channels=1, width=16))
assert G28(G28.noise(2)).shape == (2, 1, 28, 28) and D28(mnist_sized).shape == (2,)
passed("E45")

# %% [markdown]
# **Check E46.** `transforms.Normalize` subtracts a per-channel mean in place,
# `tensor.sub_(mean.view(-1, 1, 1)).div_(std.view(-1, 1, 1))`; we run those two operations on one
# 1×28×28 image as `ToTensor` gives it (values in $[0,1]$). Three means on one channel fail; one mean
# gives $[-1,1]$, the same as the course's data pipeline ([section 4.1](../04_hands_on/01_data_pipeline.ipynb)).

# %%
def normalize(image: torch.Tensor, mean: tuple, std: tuple) -> torch.Tensor:
    """What torchvision's transforms.Normalize does to a (C, H, W) tensor."""
    mean_t, std_t = torch.tensor(mean).view(-1, 1, 1), torch.tensor(std).view(-1, 1, 1)
    return image.clone().sub_(mean_t).div_(std_t)


image01 = test.images[0].float() / 255  # (1, 28, 28) in [0, 1], as ToTensor gives it
err = error_of(lambda: normalize(image01, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)))
assert "doesn't match the broadcast shape [3, 28, 28]" in str(err)
scaled = normalize(image01, (0.5,), (0.5,))
assert scaled.shape == (1, 28, 28) and scaled.min() >= -1 and scaled.max() <= 1
loader = data.TensorLoader(test.images[:1], batch_size=1, shuffle=False)
pipeline_x, _ = next(iter(loader))  # the course pipeline scales uint8 to [-1, 1] on the device
torch.testing.assert_close(scaled[None], pipeline_x.cpu())
passed("E46")

# %% [markdown]
# **Check E48.** The article's discriminator returns `(N, 1, 1, 1)` and the target is `(N, 1)`:
# `BCELoss` refuses. Flattening fixes the shape; dropping the `Sigmoid` and using `BCEWithLogitsLoss`
# gives the course's non-saturating generator loss.

# %%
scores = D_c(G_c(torch.randn(2, 100, 1, 1)))  # (2, 1, 1, 1) probabilities
err = error_of(lambda: nn.BCELoss()(scores, torch.ones(2, 1)))
assert "different to the input size" in str(err)
fixed = nn.BCELoss()(scores.view(-1), torch.ones(2))  # runs
logits = D_c[:-1](G_c(torch.randn(2, 100, 1, 1))).view(-1)  # (2,) without the final Sigmoid
torch.testing.assert_close(nn.BCEWithLogitsLoss()(logits, torch.ones(2)),
                           losses.gan_g_nonsaturating(logits))
passed("E48")

# %% [markdown]
# **Check E49.** `torch.cat` refuses NumPy arrays, and a 3-D array has no fourth index.

# %%
real_np = mnist_sized.view(-1, 28, 28).numpy()  # as the article converts them before saving
err = error_of(lambda: torch.cat((real_np, real_np), 0))
assert isinstance(err, TypeError)
err = error_of(lambda: real_np[0, :, :, :])
assert isinstance(err, IndexError)
passed("E49")

# %% [markdown]
# ## 6. Concepts and history (1 entry)
#
# | ID | Art. | Sev. | The article says | What is right | Evidence | Kind of check |
# |---|---|---|---|---|---|---|
# | E41 | C | major | Image-generation GANs need "large amounts of labelled data"; the training set is $\{(x_i,y_i)\}$, and labelling cost is a key obstacle. | An unconditional GAN or VAE trains on unlabelled $\{x_i\}$; the article's own objective never uses $y$. Labels are needed only for conditional models, e.g. $V=\mathbb{E}[\log D(x\mid y)]+\mathbb{E}[\log(1-D(G(z\mid y)\mid y))]$. | {cite}`mirza2014cgan`; [section 4.3](../04_hands_on/03_cgan_wgan.ipynb). Check, with E03 on [Article A's page](errata_a.ipynb). | correct statement |

# %% [markdown]
# ## 7. Applications and evaluation (3 entries)
#
# | ID | Art. | Sev. | The article says | What is right | Evidence | Kind of check |
# |---|---|---|---|---|---|---|
# | E50 | C | minor | Disney Animation Studios used GANs for backgrounds and character animation; "Unity's AIGC plugin" uses GANs to generate game images and videos. | No source is given and none was found; Unity's 2023 generative tools (Muse, Sentis) are not described as GAN-based. **Unverified**: do not repeat without a primary source. | — | — |
# | E51 | C | major | AIGC generates "high-quality CT and MRI images" and pathology slides to help doctors diagnose and treat. | An image generated from noise, or from other patients, holds no information about a particular patient and may invent structures, so it cannot support that patient's diagnosis; the article does not distinguish this from the uses that are documented. Those work with real data: image-to-image models that start from the patient's *own* acquired scans, such as MR-to-CT synthesis for radiotherapy planning (Wolterink et al., "Deep MR to CT Synthesis Using Unpaired Data", SASHIMI workshop at MICCAI 2017) and low-dose CT reconstruction (Yang et al., "Low-Dose CT Image Denoising Using a Generative Adversarial Network With Wasserstein Distance and Perceptual Loss", IEEE Trans. Medical Imaging 2018); training-data augmentation for classifiers {cite}`fridadar2018augmentation`; anomaly detection {cite}`schlegl2017anogan`. Each is validated against real scans, and a synthesised scan can still invent or hide a lesion. | Two of those uses, each scored on real test images: anomaly detection in [5.3](../05_applications/03_anomaly.ipynb) (ROC AUC of the VAE's score on held-out real images), augmentation in [5.4](../05_applications/04_augmentation.ipynb) (10-class accuracy of a classifier tested on real images only). Neither page uses a generated image as evidence about a real one. | — |
# | E104 | C | minor | In its research outlook (§8.4, 研究展望), under data augmentation: generating more high-quality labelled data improves the model's generalisation (提升模型泛化能力), with no condition attached. | As a research direction this is fair, and there are documented cases. But it is not a general result: whether synthetic training data helps is an empirical question, answered by a classifier evaluated on **real** held-out data with and without the synthetic images, over several seeds {cite}`fridadar2018augmentation`. With the course's conditional GAN no mix ratio gave a resolved improvement (each within two standard errors of zero, or lower), and training on its samples alone was clearly worse. | [Section 5.4](../05_applications/04_augmentation.ipynb) (measured, with standard errors, and asserted there). | — |

# %% [markdown]
# ## 8. References (6 entries)
#
# Status: **fabricated** means no such work could be found (exact-title searches on arXiv, DBLP, the CVF
# index and publishers' catalogues), so it must not be cited. **Real, wrong details** means the work
# exists but the title, authors, year, venue or link is wrong. **Unverified** means it could be confirmed
# neither way. Real works are cited with the course bibliography where it has them, otherwise written out.
#
# One rule for wrong titles. A wrong title is **minor** when the reference still identifies the paper by
# its authors (and, in Article E, by the real English title printed beside it); that is the case of the
# Chinese titles that translate nothing, which the articles give to real papers (E73, E96). It is
# **major** when the title or the attribution leads the reader to a different work, or to none: E15's
# "Variational Autoencoders" by Kingma & Welling is nearly the title of their *other* paper, the 2019
# introduction, and E55 credits GANs to a later tutorial.
#
# | ID | Art. | Sev. | Cited as | Status | Correct citation and evidence | Kind of check |
# |---|---|---|---|---|---|---|
# | E52 | C | minor | The book 《深度学习》 was "written by Yoshua Bengio and other experts" | real, misleading attribution | Ian Goodfellow, Yoshua Bengio & Aaron Courville, *Deep Learning*, MIT Press 2016. Literally true (Bengio is the second author), but naming him alone hides the first author: cite all three. | — |
# | E53 | C | minor | Coursera's "Deep Learning Specialization" is offered by Stanford University | real, wrong provider | Offered by DeepLearning.AI and taught by Andrew Ng; Stanford's deep-learning course is CS230, not on Coursera. | — |
# | E54 | C | major | The AlexNet paper "proposed convolutional neural networks" | real, wrong claim | CNNs predate it: Fukushima's Neocognitron (1980) and LeCun et al. 1989/1998 {cite}`lecun1998gradient`. Krizhevsky, Sutskever & Hinton (NIPS 2012) scaled them up with GPUs, ReLU and dropout. Check (timeline), with E25 on [Article B's page](errata_b.ipynb). | illustration |
# | E55 | C | major | "A Tutorial on Generative Adversarial Nets" proposed GANs | wrong title | GANs were proposed in "Generative Adversarial Nets" {cite}`goodfellow2014gan`. The tutorial is Goodfellow, "NIPS 2016 Tutorial: Generative Adversarial Networks", arXiv:1701.00160. | — |
# | E56 | C | minor | "Attention Is All You Need" proposed the self-attention mechanism | real, imprecise claim | It proposed the **Transformer**, built entirely on attention {cite}`vaswani2017attention`. Attention for translation came earlier {cite}`bahdanau2015attention`, and so did self-attention (e.g. Cheng, Dong & Lapata 2016; Lin et al. 2017). Check (timeline), with E25 on [Article B's page](errata_b.ipynb). | illustration |
# | E57 | C | major | "Generating Pre-trained Text for Natural Language Generation" proposed BERT, GPT and other pretrained models | fabricated | BERT: Devlin, Chang, Lee & Toutanova, NAACL 2019. GPT: Radford, Narasimhan, Salimans & Sutskever 2018, "Improving Language Understanding by Generative Pre-Training" (OpenAI report). No single paper proposed both. | — |

# %% [markdown]
# ### Every work the articles cite
#
# For completeness, every cited work, including those the articles get right.
#
# **Article C**:
#
# | As cited | Status | Correct form |
# |---|---|---|
# | 《深度学习》 "by Yoshua Bengio et al." | real, first author left out | E52 |
# | Coursera's deep-learning specialization "by Stanford" | real, wrong provider | E53 |
# | "ImageNet Classification with Deep Convolutional Neural Networks" (AlexNet) | real, wrong claim | E54 |
# | "A Tutorial on Generative Adversarial Nets" | wrong title | E55 |
# | "Attention Is All You Need" | real, imprecise claim | E56 |
# | "Generating Pre-trained Text for Natural Language Generation" | fabricated | E57 |

# %% [markdown]
# ## Summary
#
# The entries whose check ran on this page (a check that serves entries of several articles counts
# them all). The [summary of the appendix](errata.ipynb) counts the checks of all five pages.

# %%


print(f"{len(CHECKED)} entries have an executable check that passed on this page:")
print(", ".join(sorted(CHECKED, key=entry_number)))
assert len(CHECKED) == 7  # update when a check is added
