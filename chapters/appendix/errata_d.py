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
# # Errata of Article D: AIGC from beginner to practice, image generation

# %% tags=["remove-input"]
from aigc_course.plotting import page_info

page_info("errata_d")

# %% [markdown]
# Article D (source file `003_7dabdeebb5d8ba9e.txt`) has no title of its own: it takes AIGC "from
# beginner to practice" on image generation. It covers the image-generation pipeline, GAN vs VAE, GAN
# and VAE loss formulas, a TensorFlow/Keras MNIST GAN, and applications. This page lists its **19 entries** (16 major, 3 minor), E58–E74, E100 and E101.
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
import math

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from torch import nn
from torch.distributions import Normal

import aigc_course as ac
from aigc_course import data, losses, metrics
from aigc_course.config import GANConfig, VAEConfig
from aigc_course.errata_checks import CheckRecord, error_of, fit_logistic_d, entry_number
from aigc_course.gan import build_gan
from aigc_course.nn import View
from aigc_course.vae import build_vae

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
# | E61 | D | major | $G(x)=\mathrm{Generator}(x)$, "where $x$ is the input data". | The generator maps latent noise to data space: $x=G(z)$, $z\sim p_z$ such as $\mathcal N(0,I)$. Data enter only $D$ (or $G$ in image-to-image models). | {cite}`goodfellow2014gan`; [section 2.1](../02_gan_math/01_minimax.ipynb). Check (with E78). | illustration |
# | E62 | D | major | $L_G=-\mathbb{E}_x[\log D(x)]-\mathbb{E}_z[\log(1-D(G(z)))]$. | That is the *discriminator's* loss: minimised in $G$ it drives $D(G(z))\to0$, helping $D$. Use $L_G=\mathbb{E}_z[\log(1-D(G(z)))]$ (minimax) or $L_G=-\mathbb{E}_z[\log D(G(z))]$ (non-saturating). | {cite}`goodfellow2014gan`; [section 2.2](../02_gan_math/02_gradients.ipynb). Check. | article's version |
# | E63 | D | major | $L_D=-\mathbb{E}_x[\log D(x)]-\mathbb{E}_z[\log D(G(z))]$. | $L_D=-\mathbb{E}_x[\log D(x)]-\mathbb{E}_z[\log(1-D(G(z)))]$: fakes have label 0. | {cite}`goodfellow2014gan`; [section 2.1](../02_gan_math/01_minimax.ipynb). Check: a constant $D\equiv1$ minimises the article's loss. | article's version |

# %% [markdown]
# **Check E61 and E78.** The course's DCGAN generator takes latent vectors $z$ of shape
# `(B, z_dim)` and returns images; the discriminator takes images. Handing the generator an image
# (the articles' "input data") is refused with a message that says what it expects.

# %%
G, D = build_gan(GANConfig(kind="dcgan", z_dim=64, img_size=28, channels=1, width=16))
z = G.noise(4)  # (4, 64) ~ N(0, I)
images = G(z)  # (4, 1, 28, 28)
assert images.shape == (4, 1, 28, 28) and D(images).shape == (4,)
err = error_of(lambda: G(images))
assert isinstance(err, ValueError)
passed("E61", "E78")

# %% [markdown]
# **Check E62.** Data $\mathcal N(3,1)$, fixed discriminator $\sigma(x-1.5)$, generator
# $G(z)=z+\theta$. One gradient step on the article's $L_G$ (the discriminator's loss) *lowers*
# $D(G(z))$; one step on the non-saturating loss raises it.

# %%
real = 3 + torch.randn(512)
z = torch.randn(512)
w, b = 1.0, -1.5


def mean_d_fake(theta: torch.Tensor) -> float:
    return torch.sigmoid(w * (z + theta) + b).mean().item()


def one_generator_step(loss_fn, lr: float = 0.5) -> torch.Tensor:
    theta = torch.tensor(0.0, requires_grad=True)
    (g,) = torch.autograd.grad(loss_fn(w * (z + theta) + b), theta)
    return (theta - lr * g).detach()


theta_article = one_generator_step(lambda f: losses.gan_d_loss(w * real + b, f))
theta_ns = one_generator_step(losses.gan_g_nonsaturating)
print(f"mean D(G(z)): before {mean_d_fake(torch.tensor(0.0)):.3f}, after the article's step "
      f"{mean_d_fake(theta_article):.3f}, "
      f"after the non-saturating step {mean_d_fake(theta_ns):.3f}")
assert mean_d_fake(theta_article) < mean_d_fake(torch.tensor(0.0)) < mean_d_fake(theta_ns)
passed("E62")

# %% [markdown]
# **Check E63.** A discriminator that calls everything real ($D\equiv1$, logit 20) reaches the
# article's minimum, 0, while classifying nothing. The correct loss punishes it and is 0 only for a
# perfect discriminator.

# %%
big = torch.tensor([20.0])  # logit 20: D = 1 - 2e-9


def article_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-E[log D(x)] - E[log D(G(z))]: the article's discriminator loss, from logits."""
    return F.softplus(-real_logits).mean() + F.softplus(-fake_logits).mean()


assert article_d_loss(big, big) < 1e-8 and losses.gan_d_loss(big, big) > 19  # D = 1 everywhere
assert losses.gan_d_loss(big, -big) < 1e-8 and article_d_loss(big, -big) > 19  # a perfect D
passed("E63")

# %% [markdown]
# ## 2. VAE maths (2 entries)
#
# The VAE {cite}`kingma2014vae,kingma2019introduction` ([sections 3.1](../03_vae_math/01_elbo.ipynb) to 3.4) maximises the evidence lower
# bound (ELBO, 证据下界)
# $\log p_\theta(x)\ge\mathbb{E}_{q_\phi(z\mid x)}[\log p_\theta(x\mid z)]-D_{KL}(q_\phi(z\mid x)\Vert p(z))$,
# with $q_\phi(z\mid x)=\mathcal N(\mu,\operatorname{diag}\sigma^2)$ and $p(z)=\mathcal N(0,I)$, so that
# $D_{KL}=\tfrac12\sum_{j=1}^{J}(\mu_j^2+\sigma_j^2-\log\sigma_j^2-1)$ over the $J$ latent dimensions.
# Samples are drawn as $z=\mu+\sigma\odot\varepsilon$, $\varepsilon\sim\mathcal N(0,I)$ (the
# reparameterisation trick, 重参数化技巧).
#
# | ID | Art. | Sev. | The article says | What is right | Evidence | Kind of check |
# |---|---|---|---|---|---|---|
# | E60 | D | major | The steps for both GAN and VAE are to "build the generator and discriminator"; the VAE section gives losses for a generative and a **discriminative** model. | A VAE has an **encoder** $q_\phi(z\mid x)$ and a **decoder** $p_\theta(x\mid z)$, and no discriminator. Hybrids such as VAE-GAN add one, but they are other models. | {cite}`kingma2014vae`; [section 3.2](../03_vae_math/02_reparameterisation.ipynb). Check. | illustration |
# | E64 | D | major | VAE loss $L_G=\mathbb{E}_x[\log D(x)]+\beta\,\mathbb{E}_x[\log p_\theta(x\mid x)]$ plus a discriminator loss; $p_\theta(x\mid x)$ is called the log-likelihood. | $\beta$-VAE: minimise $-\mathbb{E}_{q_\phi(z\mid x)}[\log p_\theta(x\mid z)]+\beta D_{KL}(q_\phi(z\mid x)\Vert p(z))$. It conditions on $z$, not $x$; $\beta$ weights the **KL**; $\beta=1$ is the VAE; there is no $D$. | {cite}`higgins2017betavae,kingma2014vae`; [sections 3.1](../03_vae_math/01_elbo.ipynb) and 3.4. Check. | article's version |

# %% [markdown]
# **Check E60.** The course VAE (the MLP VAE of the check of E02 on [Article A's page](errata_a.ipynb), here untrained) is
# made of exactly two networks, an encoder and a decoder.

# %%
vae = build_vae(VAEConfig(kind="mlp", z_dim=2, img_size=8, hidden=32))
parts = {name for name, _ in vae.named_children()}
print(parts)
assert parts == {"encoder", "decoder"}
passed("E60")

# %% [markdown]
# **Check E64.** A linear-Gaussian model where $\log p(x)$ is known exactly ([section 3.1](../03_vae_math/01_elbo.ipynb)):
# $p(z)=\mathcal N(0,1)$, $p(x\mid z)=\mathcal N(z,1)$, so $p(x)=\mathcal N(0,2)$ and the posterior is
# $\mathcal N(x/2,\tfrac12)$. For $q=\mathcal N(m,s^2)$,
# $\mathbb{E}_q[\log p(x\mid z)]=-\tfrac12\log2\pi-\tfrac12\big((x-m)^2+s^2\big)$. The ELBO equals
# $\log p(x)$ at the true posterior and is below it elsewhere; $\beta>1$ weights the KL and lowers it
# further. The article's "$\log p_\theta(x\mid x)$" is not a bound at all: a model that copies its
# input, $\mathcal N(x;x,0.01^2)$, scores far *above* $\log p(x)$ while learning nothing.

# %%
x = torch.tensor([-1.5, 0.0, 2.0], dtype=torch.float64)
log_px = Normal(0.0, math.sqrt(2.0)).log_prob(x)


def linear_gaussian_elbo(m: torch.Tensor, s2: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
    expected_loglik = -0.5 * math.log(2 * math.pi) - 0.5 * ((x - m) ** 2 + s2)
    kl = losses.gaussian_kl(m.unsqueeze(-1), torch.log(s2).unsqueeze(-1))  # (3,)
    return losses.elbo(expected_loglik, kl, beta)


posterior = (x / 2, torch.full_like(x, 0.5))
prior = (torch.zeros_like(x), torch.ones_like(x))
torch.testing.assert_close(linear_gaussian_elbo(*posterior), log_px)  # tight at the posterior
assert (linear_gaussian_elbo(*prior) < log_px).all()  # a lower bound elsewhere
assert (linear_gaussian_elbo(*posterior, beta=4.0) < linear_gaussian_elbo(*posterior)).all()
copy_model = Normal(x, 0.01).log_prob(x)  # the article's log p(x | x), for a decoder that copies x
print(f"log p(x) = {log_px.numpy().round(3)}, "
      f"'log p(x|x)' of a copying model = {copy_model.numpy().round(3)}")
assert (copy_model > log_px).all()  # not a lower bound on log p(x)
passed("E64")

# %% [markdown]
# ## 5. Code (7 entries)
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
# | E65 | D | major | Generator: three stride-1 `Conv2D` layers applied directly to $z$, the last with sigmoid. Discriminator: three stride-2 `Conv2D` layers, the last with sigmoid. | A latent vector cannot enter `Conv2D`: first Dense + Reshape, then transposed convolutions up to 28×28, with an output activation that matches the data range ($\tanh$ for $[-1,1]$). The discriminator must end in Flatten + Dense(1); the article's outputs a 4×4 map. | {cite}`radford2016dcgan`. Check (shape arithmetic, in PyTorch). | article's version |
# | E66 | D | major | `layers.Conv2D(units=64, kernel_size=(3,3), stride=(2,2), ...)`. | The signature is `Conv2D(filters, kernel_size, strides=..., padding=...)`: `units` belongs to `Dense` and `stride` is misspelt, so the constructor raises a TypeError. | Keras API documentation. Not run (TensorFlow is not installed). | — |
# | E67 | D | major | The builders return tensors, not models; `z` is undefined where `build_gan(build_generator(z), ...)` is called; inside `build_gan`, `valid = discriminator(img)` and `fake = discriminator(img)` score the same generated image. | Wrap each builder in `tf.keras.Model(inputs, outputs)`. "Valid" must be the discriminator's score of **real** images. | Check (the article's "valid" is the fake score). | article's version |
# | E68 | D | major | `g_loss = tf.reduce_mean(fake) + tf.reduce_mean(valid)` and `disc_loss = tf.reduce_mean(valid) + tf.reduce_mean(1 - fake)`. | $L_D=-\overline{\log D(x)}-\overline{\log(1-D(G(z)))}$ and $L_G=-\overline{\log D(G(z))}$, i.e. BCE with labels 1/0. The article's $L_D$ is minimised by the *inverted* discriminator and equals 2, its maximum, for a perfect one. | {cite}`goodfellow2014gan`; [section 2.1](../02_gan_math/01_minimax.ipynb). Check. | article's version |
# | E69 | D | major | After training, `generator = build_generator(z)` builds a generator from the last batch of noise (the training loop called a `generator` that did not exist yet, E100) and then calls `.predict(...)`; the results claim digits "highly similar to real images" (a placeholder image). | Rebuilding creates a fresh, **untrained** network (and `build_generator` returns a tensor, which has no `.predict`). Sample from the trained model, and back a quality claim with a metric such as FID {cite}`heusel2017fid`. | Check (the rebuilt generator differs). | illustration |
# | E100 | D | major | The program uses `discriminator` and `generator` before it creates them: `build_discriminator` is never called, yet `discriminator.compile(...)` follows the optimizers; `generator`, called in the training loop (`img = generator(z)`), is first assigned after the loop. The compiled `gan` model is never used: training runs through a `GradientTape` loop. (The article's own section 5.3, its code walk-through (代码解读与分析), says the generator has fully connected and convolutional layers and that both models are compiled; the code's generator has only `Dense` layers, and only the discriminator and `gan` are compiled.) | Build both models before using them, e.g. `generator = tf.keras.Model(z_in, build_generator(z_in))` with `z_in = layers.Input(shape=(latent_dim,))`, and `discriminator` likewise on `layers.Input(shape=image_dim)`; then train either through `gan` or through the tape loop, not set up both. As printed, the program stops with a `NameError` at `discriminator.compile`. | Check (names used before they exist), with E13 on [Article A's page](errata_a.ipynb). | article's version |
# | E101 | D | minor | The samples are shown with `plt.figure(figsize=(10, 10))` and `plt.subplot(1, batch_size, i + 1)` for each of the `batch_size` (64) images. | That is one row of 64 panels across a 10-inch figure: each panel is narrower than the digit's 28 pixels at matplotlib's default resolution, so every sample is drawn shrunk to a sliver and most of the figure stays empty. Use a grid, `plt.subplot(8, 8, i + 1)`, or the course's `plotting.show_grid`. | Check. | article's version |

# %% [markdown]
# **Check E65.** Keras's `padding="same"` with stride 2 gives $\lceil H/2\rceil$: the article's
# discriminator goes 28 → 14 → 7 → 4 and returns a 4×4 map, not one score. The same layers in
# PyTorch agree; Flatten + Linear fixes it. And a latent *vector* cannot enter a 2-D convolution at all.

# %%
sizes = [28]
for _ in range(3):
    sizes.append(math.ceil(sizes[-1] / 2))
convs = [nn.Conv2d(1, 64, 3, 2, 1), nn.ReLU(), nn.Conv2d(64, 128, 3, 2, 1), nn.ReLU(),
         nn.Conv2d(128, 1, 3, 2, 1)]
article_d = nn.Sequential(*convs, nn.Sigmoid())  # (B, 1, 4, 4)
fixed_d = nn.Sequential(*convs[:4], nn.Conv2d(128, 128, 3, 2, 1), nn.Flatten(),
                        nn.Linear(128 * 4 * 4, 1))
x = torch.zeros(1, 1, 28, 28)
print("Keras sizes:", sizes, " article's D:", tuple(article_d(x).shape),
      " fixed D:", tuple(fixed_d(x).shape))
assert sizes[-1] == 4 and article_d(x).shape == (1, 1, 4, 4) and fixed_d(x).shape == (1, 1)
# z straight into Conv2D
err = error_of(lambda: nn.Conv2d(1, 32, 3, padding=1)(torch.randn(2, 100)))
assert isinstance(err, RuntimeError)
passed("E65")

# %% [markdown]
# **Check E67.** Article D's `build_gan`, transcribed, against the corrected one, with the same
# generator (Article D's, untrained: Dense 128, Dense 64, Dense 784 with tanh) and the same
# discriminator, one that does tell real images from these generated ones: a logistic function of the
# fraction of background pixels (values at $-1$), fitted as in the check of E32 on [Article B's page](errata_b.ipynb). The corrected model's
# "valid" output scores real Fashion-MNIST images and is close to 1. The article's scores the generated
# image a second time, so its "valid" is close to 0: it is the fake score under another name.

# %%


def article_d_generator() -> nn.Sequential:
    """Article D's build_generator: Dense(128, relu), Dense(64, relu), Dense(784, tanh),
    Reshape."""
    return nn.Sequential(nn.Linear(100, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                         nn.Linear(64, 28 * 28), nn.Tanh(), View(1, 28, 28))


def article_build_gan(generator, discriminator):
    def gan(z):
        img = generator(z)
        valid = discriminator(img)
        fake = discriminator(img)
        return valid, fake
    return gan


def corrected_build_gan(generator, discriminator):
    def gan(z, real_images):
        valid = discriminator(real_images)  # D's score of real images
        fake = discriminator(generator(z))
        return valid, fake
    return gan


def background(images: torch.Tensor) -> torch.Tensor:
    return (images < -0.99).double().mean(dim=(1, 2, 3))  # (B,) fraction of pixels at -1


test = data.fashion_mnist("test")
generator_d = article_d_generator()
real_images = metrics.to_model_space(test.images[:256])  # (256, 1, 28, 28)
z = torch.randn(256, 100)
with torch.no_grad():
    wb = fit_logistic_d(background(real_images), background(generator_d(z)))


def discriminator_d(images: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(wb[0] * background(images) + wb[1])  # (B,) probability "real"


with torch.no_grad():
    valid_article, fake_article = article_build_gan(generator_d, discriminator_d)(z)
    valid_fixed, fake_fixed = corrected_build_gan(generator_d, discriminator_d)(z, real_images)
print(f"mean 'valid': corrected {valid_fixed.mean():.3f}, article {valid_article.mean():.3f}; "
      f"mean 'fake': {fake_fixed.mean():.3f}")
assert valid_fixed.mean() > 0.9 and fake_fixed.mean() < 0.1  # D separates real from generated
assert valid_article.mean() < 0.1  # the article's "valid" is D's score of generated images
passed("E67")

# %% [markdown]
# **Check E68.** Feed the article's losses the outputs of a perfect discriminator ($D(x)=1$,
# $D(G(z))=0$): the correct loss is 0, the article's `disc_loss` is 2, its maximum. Its minimum, 0,
# belongs to the inverted discriminator.

# %%
def article_disc_loss(valid: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return valid.mean() + (1 - fake).mean()


def bce_d_loss(valid: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return (F.binary_cross_entropy(valid, torch.ones_like(valid))
            + F.binary_cross_entropy(fake, torch.zeros_like(fake)))


one, zero = torch.ones(4), torch.zeros(4)
assert bce_d_loss(one, zero) == 0 and article_disc_loss(one, zero) == 2  # perfect D
assert article_disc_loss(zero, one) == 0  # the inverted D is the article's optimum
passed("E68")

# %% [markdown]
# **Check E69.** One training step changes the generator; "rebuilding" it afterwards gives a different,
# untrained network whose samples for the same $z$ differ.

# %%
cfg = GANConfig(kind="mlp", z_dim=4, data_dim=2, hidden=16, depth=2)
G_trained, D_small = build_gan(cfg)
opt = torch.optim.Adam(G_trained.parameters(), lr=1e-2)
opt.zero_grad()
losses.gan_g_nonsaturating(D_small(G_trained.sample(32))).backward()
opt.step()
G_rebuilt, _ = build_gan(cfg)  # what the article does after training
z = G_trained.noise(8)
assert not torch.allclose(G_trained(z), G_rebuilt(z))
passed("E69")


# %% [markdown]
# **Check E101.** Article D's plotting loop, run as printed on 64 samples of Article D's generator
# (into a matplotlib figure that is measured, not shown), against the 8×8 grid it needs. After drawing
# at matplotlib's default 100 dpi we measure each panel in pixels and the share of the figure that
# the images cover. The article's panels are narrower than the 28-pixel digits they show, and the
# images cover only a sliver of the figure; the grid draws every digit larger than its own size.

# %%
def panels(nrows: int, ncols: int, images: np.ndarray) -> tuple[float, float]:
    """Draw ``images`` with subplot(nrows, ncols, i + 1) + imshow, as Article D does; return the
    narrowest panel's width in pixels and the fraction of the figure the panels cover."""
    fig = Figure(figsize=(10, 10), dpi=100)  # plt.figure(figsize=(10, 10))
    FigureCanvasAgg(fig)
    axes = []
    for i in range(len(images)):
        ax = fig.add_subplot(nrows, ncols, i + 1)  # plt.subplot(nrows, ncols, i + 1)
        ax.imshow(images[i, :, :, 0], cmap="gray")
        ax.axis("off")
        axes.append(ax)
    fig.canvas.draw()  # applies the images' aspect ratio to the panels
    boxes = [ax.get_window_extent() for ax in axes]
    covered = sum(box.width * box.height for box in boxes) / (fig.bbox.width * fig.bbox.height)
    return min(box.width for box in boxes), covered


with torch.no_grad():
    samples = generator_d(torch.randn(64, 100)).permute(0, 2, 3, 1).numpy()  # (64, 28, 28, 1)
generated_images = (samples + 1) * 127.5  # as the article rescales them
width_article, covered_article = panels(1, 64, generated_images)  # plt.subplot(1, batch_size, ...)
width_grid, covered_grid = panels(8, 8, generated_images)
print(f"panel width: article {width_article:.1f} px, 8x8 grid {width_grid:.1f} px "
      f"(a digit is 28 px); "
      f"figure covered: article {covered_article:.1%}, grid {covered_grid:.1%}")
assert width_article < 28 <= width_grid
assert covered_article < 0.02 and covered_grid > 0.3
passed("E101")

# %% [markdown]
# ## 6. Concepts and history (1 entry)
#
# | ID | Art. | Sev. | The article says | What is right | Evidence | Kind of check |
# |---|---|---|---|---|---|---|
# | E58 | D | major | In the 1980s researchers began exploring generative adversarial networks. | GANs were introduced in **2014** {cite}`goodfellow2014gan`; VAEs in 2013/14 {cite}`kingma2014vae`. | Check (timeline), with E25 on [Article B's page](errata_b.ipynb). | illustration |

# %% [markdown]
# ## 7. Applications and evaluation (2 entries)
#
# | ID | Art. | Sev. | The article says | What is right | Evidence | Kind of check |
# |---|---|---|---|---|---|---|
# | E59 | D | major | The loss function is the key measure of a generative model's performance: the gap between generated and real images, commonly MSE and SSIM. | A loss is a training objective; an evaluation metric is something else. An unconditional sample has **no paired real image**, so pixel MSE or SSIM {cite}`wang2004ssim` against real images says nothing about quality. Use distribution-level metrics: FID {cite}`heusel2017fid`, Inception Score {cite}`salimans2016improved`, precision/recall {cite}`kynkaanniemi2019precision`; see {cite}`theis2016note`. | [Section 4.5](../04_hands_on/05_evaluation.ipynb). Check (with E91). | article's version |
# | E70 | D | major | AIGC helps doctors by generating the patient's X-rays and CTs, improving diagnostic accuracy, even guiding surgery. | As [E51](errata_c.ipynb): an image generated without the patient's own scans is no evidence about the patient. Models that reconstruct or translate the patient's acquired scans (low-dose CT, MR to CT) are a real, narrower use, validated against real scans; the article claims improved diagnostic accuracy and surgical guidance without any such source. | {cite}`fridadar2018augmentation,schlegl2017anogan`; [sections 5.3](../05_applications/03_anomaly.ipynb) and 5.4. | — |

# %% [markdown]
# **Check E59 and E91.** 2 000 Fashion-MNIST test images in $[-1,1]$ (CIFAR-10, which Article E used, is
# not in the course data; the argument is the same).
#
# * Pixel MSE between *different real images* is large, and a "generator" that always outputs the average
#   image scores *better* than real images. The average image is the best any generator can do against
#   unpaired test images: its MSE, the mean per-pixel variance of the test set, is a floor. The article's
#   0.0339 is far below that floor here.
# * SSIM between different real images is near 0, nowhere near the article's 0.85.
# * A distribution-level score, here the Fréchet distance (the formula of FID) on 7×7 average-pooled
#   pixels instead of classifier features, is near 0 for real vs real and large for the average image.

# %%
x = metrics.to_model_space(test.images[:2000])  # (2000, 1, 28, 28)
others = x[torch.roll(torch.arange(2000), 1)]  # each image paired with a different real image
mean_image = x.mean(dim=0, keepdim=True).expand_as(x)
mse_real = (x - others).pow(2).mean().item()
mse_floor = (x - mean_image).pow(2).mean().item()  # = average per-pixel variance
ssim_real = metrics.ssim(x[:500], others[:500]).item()
print(f"pixel MSE: real vs other real {mse_real:.3f}, "
      f"average image vs real {mse_floor:.3f}, article 0.0339")
print(f"SSIM real vs other real {ssim_real:.3f}; article 0.8522")
assert mse_floor < mse_real  # MSE prefers one blurry average to real images
assert 0.0339 < mse_floor and ssim_real < 0.5


def pooled(images: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(images, 4).flatten(1)  # (N, 49) simple features


# the average image, slightly jittered
blurry = mean_image[:1000] + 0.01 * torch.randn(1000, 1, 28, 28)
fd_real = metrics.fid_from_features(pooled(x[:1000]), pooled(x[1000:]))
fd_blurry = metrics.fid_from_features(pooled(blurry), pooled(x[1000:]))
print(f"Fréchet distance: real vs real {fd_real:.3f}, average image vs real {fd_blurry:.2f}")
assert fd_blurry > 20 * fd_real  # the distribution metric ranks them the right way round
passed("E59", "E91")

# %% [markdown]
# ## 8. References (4 entries)
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
# | E71 | D | major | The book 《生成对抗网络》 by Ilg, Reichert & Schiele | fabricated (not found) | No such book; for a GAN overview use Goodfellow's NIPS 2016 tutorial (arXiv:1701.00160). | — |
# | E72 | D | minor | 《Python深度学习》 (*Python Deep Learning*) by Raschka & Mirjalili | real books, mixed up | Raschka & Mirjalili wrote *Python Machine Learning* (Packt, 2nd ed. 2017). 《Python深度学习》 is the Chinese edition of Chollet, *Deep Learning with Python* (Manning 2017; 2nd ed. 2021). | — |
# | E73 | D | minor | Section 7.3 lists its three papers under Chinese titles only, none of which translates the real title: the GAN paper (Goodfellow, …, Bengio) as "generative adversarial networks: a new method for training generative models", the VAE paper (Kingma, Welling) as "VAE: learning for generative models and loss functions", and the ImageNet paper as "ImageNet: a large-scale image-recognition database" (its authors are E74) | real, invented Chinese titles | "Generative Adversarial Nets", NeurIPS 2014 {cite}`goodfellow2014gan`; "Auto-Encoding Variational Bayes", ICLR 2014 {cite}`kingma2014vae`; "ImageNet: A Large-Scale Hierarchical Image Database", CVPR 2009. The authors still identify each paper, so, by the rule above, the error is minor. | — |
# | E74 | D | major | The ImageNet paper by Deng, Dong, Socher, Li, Li, Li and **Lafferty**, as the founding paper of the ImageNet *competition* | real, wrong authors and claim | Deng, Dong, Socher, Li, Li & Fei-Fei, "ImageNet: A Large-Scale Hierarchical Image Database", CVPR 2009, pp. 248–255: a *dataset* paper. The challenge paper is Russakovsky et al., "ImageNet Large Scale Visual Recognition Challenge", IJCV 2015. | — |

# %% [markdown]
# ### Every work the articles cite
#
# For completeness, every cited work, including those the articles get right.
#
# **Article D**:
#
# | As cited | Status | Correct form |
# |---|---|---|
# | 《深度学习》, Goodfellow, Bengio & Courville | OK | MIT Press 2016 |
# | 《生成对抗网络》, Ilg, Reichert & Schiele | fabricated | E71 |
# | 《Python深度学习》, Raschka & Mirjalili | real books, mixed up | E72 |
# | The GAN paper (Goodfellow, …, Courville, Bengio) | real, invented Chinese title | {cite}`goodfellow2014gan`; E73 |
# | The VAE paper (Kingma, Welling) | real, invented Chinese title | {cite}`kingma2014vae`; E73 |
# | ImageNet (Deng, …, Lafferty) | real, wrong authors, invented Chinese title | E74, E73 |

# %% [markdown]
# ## Summary
#
# The entries whose check ran on this page (a check that serves entries of several articles counts
# them all). The [summary of the appendix](errata.ipynb) counts the checks of all five pages.

# %%


print(f"{len(CHECKED)} entries have an executable check that passed on this page:")
print(", ".join(sorted(CHECKED, key=entry_number)))
assert len(CHECKED) == 13  # update when a check is added
