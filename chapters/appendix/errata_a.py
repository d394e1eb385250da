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
# # Errata of Article A: AIGC, a long slope with thick snow

# %% tags=["remove-input"]
from aigc_course.plotting import page_info

page_info("errata_a")

# %% [markdown]
# Article A (source file `000_6a6815629cb8cddd.txt`) is part 6 of the series *Generative AI: gold mine
# or bubble?*, titled "AIGC, a long slope with thick snow" (a long-term opportunity). It covers AIGC
# concepts, GAN and VAE principles and "derivations", a TensorFlow/Keras DCGAN, industry applications
# and a list of 38 references. This page lists its **26 entries** (20 major, 6 minor), E01–E24, E99 and E102.
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
import ast
import builtins
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Normal

import aigc_course as ac
from aigc_course import data, losses, metrics
from aigc_course.config import GANConfig, VAEConfig
from aigc_course.errata_checks import CheckRecord, error_of, fit_logistic_d, entry_number
from aigc_course.gan import build_gan
from aigc_course.plotting import glue
from aigc_course.vae import build_vae

ac.set_seed(0)
# every check is tiny: one thread is fastest and leaves the other cores alone
ac.runtime.set_threads(1)
print(ac.describe())

record = CheckRecord()  # the entries whose check has passed on this page
CHECKED, passed = record.checked, record.passed


# %% [markdown]
# ## 1. GAN maths (4 entries)
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
# | E01 | A | major | Under "discriminator training", the discriminator keeps adjusting the *generator's* parameters (不断调整生成器G的参数). | A discriminator step changes only $\theta_d$ (ascent on $V$). The generator has its own step; its gradient passes *through* $D$ while $\theta_d$ stays fixed. | Algorithm 1 of {cite}`goodfellow2014gan`; [section 2.2](../02_gan_math/02_gradients.ipynb). Check; the article's version (a discriminator loss stepped in the generator's parameters) runs in the check of E62, on [Article D's page](errata_d.ipynb). | article's version (in E62) |
# | E05 | A | major | For $L_G=-\log D(G(z))$: $\partial L_G/\partial G(z)=-1/D(G(z))$. | The chain rule needs $\nabla_x D$: $\dfrac{\partial L_G}{\partial G(z)}=-\dfrac{1}{D(G(z))}\nabla_x D(x)\Big\rvert_{x=G(z)}$. Per fake logit $a$: $\partial L_G/\partial a=-(1-D(G(z)))$. (The loss itself, the non-saturating loss, is fine.) | [Section 2.2](../02_gan_math/02_gradients.ipynb). Check. | article's version |
# | E06 | A | major | "Update" $G(z)=z+\partial L_G/\partial G(z)$, and likewise $G(z)=z+\partial L_D/\partial G(z)$: the gradient is *added*, and the discriminator's loss updates the generator. | Update the **parameters** against the gradient of each player's **own** loss: $\theta_g\leftarrow\theta_g-\eta\nabla_{\theta_g}L_G$, $\theta_d\leftarrow\theta_d-\eta\nabla_{\theta_d}L_D$. $G(z)$ is a network output, not $z$ plus a gradient. | {cite}`goodfellow2014gan`; [section 2.2](../02_gan_math/02_gradients.ipynb). Check. | article's version |
# | E07 | A | major | $\partial L_D/\partial G(z)=D(G(z))-1$. | $\dfrac{\partial L_D}{\partial G(z)}=\dfrac{\nabla_x D(x)}{1-D(x)}\Big\rvert_{x=G(z)}$; per fake logit it is $+D(G(z))$. The article's $D-1$ is the logit gradient of the **real** term $-\log D(x)$. | [Section 2.2](../02_gan_math/02_gradients.ipynb). Check. | article's version |

# %% [markdown]
# **Check E01.** One discriminator step with the discriminator's optimiser leaves every generator
# parameter bit-for-bit unchanged; one generator step sends gradients *through* $D$ into $G$ but leaves
# $D$'s parameters unchanged. We use the course's small MLP GAN.

# %%
G, D = build_gan(GANConfig(kind="mlp", z_dim=4, data_dim=1, hidden=16, depth=2))
opt_g = torch.optim.SGD(G.parameters(), lr=0.1)
opt_d = torch.optim.SGD(D.parameters(), lr=0.1)
real = 3 + torch.randn(64, 1)  # (64, 1) data from N(3, 1)


def snapshot(module: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def unchanged(module: nn.Module, before: list[torch.Tensor]) -> bool:
    return all(torch.equal(p, b) for p, b in zip(module.parameters(), before))


g_before, d_before = snapshot(G), snapshot(D)
loss_d = losses.gan_d_loss(D(real), D(G.sample(64).detach()))
opt_d.zero_grad()
loss_d.backward()
opt_d.step()
assert unchanged(G, g_before) and not unchanged(D, d_before)  # the D step moved only D

g_before, d_before = snapshot(G), snapshot(D)
opt_g.zero_grad()
opt_d.zero_grad()
loss_g = losses.gan_g_nonsaturating(D(G.sample(64)))
loss_g.backward()
# through D into G
assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in G.parameters())
opt_g.step()
assert unchanged(D, d_before) and not unchanged(G, g_before)  # the G step moved only G
passed("E01")

# %% [markdown]
# **Check E05, E06, E07.** A toy discriminator $D(x)=\sigma(wx+b)$ and three generated samples $x=G(z)$.
# Autograd gives the true derivatives; we compare them with the article's.

# %%
w, b = 1.5, -0.5
x = torch.tensor([0.8, -1.0, 2.0], dtype=torch.float64, requires_grad=True)  # three samples G(z)
logits = w * x + b
# E05: per-sample L_G = -log D(x); the course loss is a mean, so multiply by the batch size
(grad_x,) = torch.autograd.grad(losses.gan_g_nonsaturating(logits) * len(x), x)
d = torch.sigmoid(logits).detach()
correct = -(1 / d) * (w * d * (1 - d))  # -1/D times dD/dx
article = -1 / d
print("autograd:", grad_x.numpy(), " chain rule:", correct.numpy(), " article:", article.numpy())
torch.testing.assert_close(grad_x, correct)
assert not torch.allclose(grad_x, article)


# E06: the article moves a sample by +gradient; the loss goes up. Moving against it brings it down.
def per_sample_lg(samples: torch.Tensor) -> torch.Tensor:
    return F.softplus(-(w * samples + b))  # -log D(x) for each sample


x0 = x.detach()
assert (per_sample_lg(x0 + grad_x) > per_sample_lg(x0)).all()  # the article's rule
assert (per_sample_lg(x0 - 0.5 * grad_x) < per_sample_lg(x0)).all()  # gradient descent

# E07: gradient of the discriminator loss at a fake logit a = 0.3
# (the real logit is an arbitrary 1.0)
a = torch.tensor([0.3], dtype=torch.float64, requires_grad=True)
real_logit = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
grad_real, grad_fake = torch.autograd.grad(losses.gan_d_loss(real_logit, a), (real_logit, a))
print(f"dL_D/da = {grad_fake.item():.4f} = D(G(z)); "
      f"the article's D(G(z)) - 1 = {torch.sigmoid(a).item() - 1:.4f}")
torch.testing.assert_close(grad_fake, torch.sigmoid(a.detach()))
assert not torch.allclose(grad_fake, torch.sigmoid(a.detach()) - 1)
# D - 1 belongs to the real term
torch.testing.assert_close(grad_real, torch.sigmoid(real_logit.detach()) - 1)
passed("E05", "E06", "E07")

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
# | E02 | A | major | The core idea of a VAE is "data compression and reconstruction"; the encoder maps an input to a *point*; the objective is reconstructing the input. | The encoder outputs the parameters of a *distribution* $q_\phi(z\mid x)$, and training maximises the ELBO: reconstruction **minus** $D_{KL}(q_\phi(z\mid x)\Vert p(z))$. The KL term is what makes decoding $z\sim p(z)$ produce data. Reconstruction alone gives a plain autoencoder. | {cite}`kingma2014vae,kingma2019introduction`; [section 3.1](../03_vae_math/01_elbo.ipynb). Check. | article's version |
# | E08 | A | major | The decoder's input is $x$ and its output $G(x)$; "encoder loss" $-\log p(x\mid\mu,\sigma)$ plus "decoder loss" $\sum_x-\log p(G(x))$, and no KL term. | The decoder takes $z=\mu+\sigma\odot\varepsilon$ and outputs the parameters of $p_\theta(x\mid z)$. The loss is $-\mathbb{E}_{q_\phi(z\mid x)}[\log p_\theta(x\mid z)]+D_{KL}(q_\phi(z\mid x)\Vert\mathcal N(0,I))$, and both terms train the encoder. | {cite}`kingma2014vae`; [section 3.2](../03_vae_math/02_reparameterisation.ipynb). Check. | illustration |

# %% [markdown]
# **Check E02.** We train the course's MLP VAE on 8×8 digits twice, from the same initial weights, for
# the same number of steps: once as the article describes it (the encoder maps each image to a point,
# the code $\mu$, and the loss is the reconstruction alone) and once on the ELBO (a sampled
# $z=\mu+\sigma\odot\varepsilon$ and the KL term). Then we decode samples of the prior
# $z\sim\mathcal N(0,I)$, which is how a VAE generates data, and compare them with the digits by the
# Fréchet distance (the formula of FID, here on the raw pixels that are not background in every
# image). The article's model reconstructs better, but its codes fill a region of latent space that
# the prior does not match, so its prior samples are far worse. The mismatch is measured by the KL
# divergence of the moment-matched Gaussian of the codes (the aggregate posterior) from
# $\mathcal N(0,I)$.

# %%
digits = data.digits()
x = metrics.to_model_space(digits.images[:512])  # (512, 1, 8, 8) in [-1, 1]


def article_loss(model, images: torch.Tensor) -> torch.Tensor:
    """The article's VAE: encode to a point (mu), reconstruct it; no sampling, no KL term."""
    mu, _ = model.encode(images)
    return -model.log_px(images, model.decode(mu)).mean()


def elbo_loss(model, images: torch.Tensor) -> torch.Tensor:
    return model.loss(images)[0]  # mean negative ELBO


def aggregate_kl(model, images: torch.Tensor, with_sigma: bool) -> float:
    """KL(N(m, diag v) || N(0, I)) for the mean m and variance v of the codes of ``images``."""
    mu, logvar = model.encode(images)
    var = mu.var(dim=0) + (logvar.exp().mean(dim=0) if with_sigma else 0)
    return 0.5 * (mu.mean(dim=0).pow(2) + var - 1 - var.log()).sum().item()


def train_small_vae(loss_fn, images):
    """A 2-D-code MLP VAE on 8x8 images, 200 Adam steps of loss_fn(model, images); the same initial
    weights and noise for every loss (Article B's page trains the ELBO model again, for E30)."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = build_vae(VAEConfig(kind="mlp", z_dim=2, img_size=8, hidden=32))
        opt = torch.optim.Adam(model.parameters(), lr=5e-3)
        for _ in range(200):
            opt.zero_grad()
            loss_fn(model, images).backward()
            opt.step()
    return model


trained = {name: train_small_vae(loss_fn, x)
           for name, loss_fn in (("article", article_loss), ("ELBO", elbo_loss))}

varying = x.flatten(1).std(dim=0) > 0  # pixels that are background in every image carry nothing
scores = {}
with torch.no_grad():
    for name, model in trained.items():
        prior_samples = model.sample(512, generator=torch.Generator().manual_seed(1))
        scores[name] = (
            (model.reconstruct(x) - x).pow(2).mean().item(),  # reconstruction MSE
            aggregate_kl(model, x, with_sigma=name == "ELBO"),  # codes vs the prior
            metrics.fid_from_features(prior_samples.flatten(1)[:, varying],
                                      x.flatten(1)[:, varying]),  # samples vs data
        )
        print(f"{name:>7}: reconstruction MSE {scores[name][0]:.3f}, "
              f"KL(codes || prior) {scores[name][1]:.2f}, "
              f"Fréchet distance of prior samples {scores[name][2]:.1f}")
(mse_a, kl_a, fd_a), (mse_e, kl_e, fd_e) = scores["article"], scores["ELBO"]
assert mse_a < mse_e  # the article's objective is the better autoencoder ...
assert kl_a > 5 > 0.5 > kl_e  # ... its codes are far from the prior, the VAE's are not ...
assert fd_a > 1.5 * fd_e  # ... so it is the worse generator
vae = trained["ELBO"]
passed("E02")

# %% [markdown]
# **Check E08.** The decoder takes latent vectors `(B, z_dim)`; given data-shaped input, as in the
# article, the course model refuses it. At $\mu=0,\ \log\sigma^2=0$ the KL is exactly 0, so the loss
# is the reconstruction term alone.

# %%
err = error_of(lambda: vae.decode(x.flatten(1)))  # the article's decoder input: x
assert isinstance(err, ValueError)
assert vae.decode(torch.zeros(3, 2)).shape == (3, 1, 8, 8)
assert (losses.gaussian_kl(torch.zeros(3, 2), torch.zeros(3, 2)) == 0).all()
passed("E08")

# %% [markdown]
# ## 3. Probability (1 entry)
#
# | ID | Art. | Sev. | The article says | What is right | Evidence | Kind of check |
# |---|---|---|---|---|---|---|
# | E09 | A | major | VAE gradients $\partial L_E/\partial\mu=\frac{x-\mu}{\sigma\sqrt{2\pi}}$, $\partial L_E/\partial\sigma=\frac{(x-\mu)^2}{2\sigma}$, and $\partial L_D/\partial G(x)=-1/p(G(x))$. | $-\log\mathcal N(x;\mu,\sigma^2)=\frac{(x-\mu)^2}{2\sigma^2}+\log\sigma+\tfrac12\log2\pi$, so $\partial_\mu=-\frac{x-\mu}{\sigma^2}$ and $\partial_\sigma=\frac1\sigma-\frac{(x-\mu)^2}{\sigma^3}$. Also $\frac{d}{dy}[-\log p(y)]=-p'(y)/p(y)$, not $-1/p(y)$. | Calculus; [section 1.2](../01_concepts/02_probability.ipynb). Check. | article's version |

# %% [markdown]
# **Check E09.** Autograd on the Gaussian negative log-likelihood at $x=1,\ \mu=0,\ \sigma=2$ gives
# $(-0.25,\ 0.375)$; the article's formulas give $(0.199,\ 0.25)$. For $p=\mathcal N(0,1)$,
# $\frac{d}{dy}[-\log p(y)]=y$, not $-1/p(y)$.

# %%
x = torch.tensor(1.0, dtype=torch.float64)
mu = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
sigma = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
g_mu, g_sigma = torch.autograd.grad(-Normal(mu, sigma).log_prob(x), (mu, sigma))
m, s = mu.item(), sigma.item()
correct = (-(1 - m) / s**2, 1 / s - (1 - m) ** 2 / s**3)
article = ((1 - m) / (s * math.sqrt(2 * math.pi)), 0.5 * (1 - m) ** 2 / s)
print(f"autograd ({g_mu.item():.3f}, {g_sigma.item():.3f}); formula {correct}; article "
      f"({article[0]:.3f}, {article[1]:.3f})")
assert np.allclose([g_mu.item(), g_sigma.item()], correct) and not np.allclose(correct, article)

y = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
standard = Normal(0.0, 1.0)
(g_y,) = torch.autograd.grad(-standard.log_prob(y), y)
minus_one_over_p = -1 / standard.log_prob(y).exp().item()
print(f"d/dy[-log p(y)] = {g_y.item():.3f}; the article's -1/p(y) = {minus_one_over_p:.3f}")
assert math.isclose(g_y.item(), 0.7) and not math.isclose(g_y.item(), minus_one_over_p)
passed("E09")


# %% [markdown]
# ## 5. Code (4 entries)
#
# Articles A, B and D give TensorFlow/Keras code; C and E give PyTorch DCGANs. None of the five
# programs runs as printed. TensorFlow is not installed in the course environment (the course is plain
# PyTorch), and neither is torchvision, so the articles' code is transcribed: layers and losses are
# rebuilt layer for layer in PyTorch and run next to the corrected version, and the names that a
# program uses but never defines are found by reading the whole program as printed (the check of E13).
# E14, E66 and E95 are not run. The course's correct versions are in [section 4.1](../04_hands_on/01_data_pipeline.ipynb) (data pipeline) and [section 4.2](../04_hands_on/02_dcgan.ipynb)
# (DCGAN).
#
# | ID | Art. | Sev. | The article says | What is right | Evidence | Kind of check |
# |---|---|---|---|---|---|---|
# | E11 | A | major | Keras generator: Dense 7×7×256 → ConvTranspose (stride 1) → ConvTranspose (stride 2) → ConvTranspose (stride 2), then `assert model.output_shape == (None,128,128,1)`; the discriminator is built for 128×128. | 7 → 7 → 14 → 28: the output is 28×28 and the assert fails. 128×128 needs a 4×4 seed and five stride-2 stages. The discriminator's input must equal the generator's output. | Transposed-convolution arithmetic $H_{out}=(H_{in}-1)s-2p+k$ {cite}`dumoulin2016guide`; {cite}`radford2016dcgan`. Check. | article's version |
# | E12 | A | major | `D.train_on_batch(...)` on a model that was never compiled; the generator trained with `G.train_on_batch(z, real_labels)`; `D` ends in `Dense(1)` with no activation. | Keras refuses to train an uncompiled model, and neither `D` nor `G` is ever compiled. `G.train_on_batch(z, labels)` would regress the generated images onto the `(B, 1)` label tensor, a target that says nothing about images; the generator must be trained through `D(G(z))` with `D` frozen (or a `GradientTape` loop). Raw scores need `BinaryCrossentropy(from_logits=True)`. | Keras API. Check (the logits part, in PyTorch). | article's version (logits part) |
# | E13 | A | minor | Uses `np` (never imported), `iters` and `load_data()` (never defined); the "generated faces" of the results section are a placeholder URL. | Import and define them; make the figure with the code. A 28×28 grey model cannot produce the claimed faces. | Check (names used but never defined). | article's version |
# | E14 | A | minor | Keras is a library "based on TensorFlow and Theano". | Theano support ended with multi-backend Keras 2.3 (2019); Keras 2.4+ ran on TensorFlow only; Keras 3 (2023) runs on TensorFlow, JAX or PyTorch. | Keras release notes. Not run (Keras is not installed). | — |

# %% [markdown]
# **Check E11.** Article A's generator and discriminator in PyTorch, layer for layer. Keras's
# `padding="same"` transposed convolution multiplies the size by the stride; in PyTorch the same layer
# is `ConvTranspose2d(k=5, stride=s, padding=2, output_padding=s-1)` (in general
# $H_{out}=(H_{in}-1)s-2p+k+\text{output\_padding}$), and a `"same"` convolution with stride 2 is
# `Conv2d(k=5, stride=2, padding=2)`. The article's generator ends at 28×28, so its own
# `assert model.output_shape == (None, 128, 128, 1)` fails, and its discriminator, built for 128×128,
# cannot take the generator's images. The corrected generator, a 4×4 seed and five stride-2 stages,
# makes 128×128 images that the same discriminator accepts.

# %%
def conv_transpose_out(h: int, k: int, s: int, p: int = 0, output_padding: int = 0) -> int:
    return (h - 1) * s - 2 * p + k + output_padding


def keras_generator(seed: int, channels: list[int], strides: list[int]) -> nn.Sequential:
    """Dense(seed*seed*channels[0]) + BatchNorm + LeakyReLU + Reshape, then one 5x5 "same"
    Conv2DTranspose per stride (BatchNorm + LeakyReLU between them, tanh at the end)."""
    layers = [nn.Linear(100, seed * seed * channels[0], bias=False),
              nn.BatchNorm1d(seed * seed * channels[0], momentum=0.2), nn.LeakyReLU(0.3),
              nn.Unflatten(1, (channels[0], seed, seed))]  # (B, C, seed, seed)
    for i, s in enumerate(strides):
        layers.append(nn.ConvTranspose2d(channels[i], channels[i + 1], 5, stride=s, padding=2,
                                         output_padding=s - 1, bias=False))  # size x s
        last = i == len(strides) - 1
        layers += [nn.Tanh()] if last else [nn.BatchNorm2d(channels[i + 1], momentum=0.2),
                                            nn.LeakyReLU(0.3)]
    return nn.Sequential(*layers)


def keras_discriminator(size: int) -> nn.Sequential:
    """The article's build_discriminator((size, size, 1)): two 5x5 "same" convs with stride 2."""
    return nn.Sequential(nn.Conv2d(1, 64, 5, 2, 2), nn.LeakyReLU(0.3), nn.Dropout(0.3),
                         nn.Conv2d(64, 128, 5, 2, 2), nn.LeakyReLU(0.3), nn.Dropout(0.3),
                         nn.Flatten(), nn.Linear(128 * (size // 4) ** 2, 1))  # Dense(1)


def article_shape_assert(images: torch.Tensor) -> None:
    """The article's `assert model.output_shape == (None, 128, 128, 1)`, channels first."""
    shape = tuple(images.shape[1:])
    assert shape == (1, 128, 128), f"output shape {shape}, not (1, 128, 128)"


sizes = [7]
for stride in (1, 2, 2):  # the article's three transposed convolutions
    sizes.append(conv_transpose_out(sizes[-1], k=5, s=stride, p=2, output_padding=stride - 1))
article_g = keras_generator(7, [256, 128, 64, 1], [1, 2, 2]).eval()
fixed_g = keras_generator(4, [256, 128, 64, 32, 16, 1], [2, 2, 2, 2, 2]).eval()
d_128 = keras_discriminator(128).eval()  # the article builds D for (128, 128, 1)
z = torch.randn(2, 100)
with torch.no_grad():
    article_images, fixed_images = article_g(z), fixed_g(z)
    print("sizes:", sizes, "article's generator:", tuple(article_images.shape),
          "corrected:", tuple(fixed_images.shape))
    assert sizes[-1] == 28 and article_images.shape == (2, 1, 28, 28)
    assert isinstance(error_of(lambda: article_shape_assert(article_images)), AssertionError)
    err = error_of(lambda: d_128(article_images))  # D cannot take G's images
    assert "cannot be multiplied" in str(err)
    article_shape_assert(fixed_images)  # the corrected generator passes the article's own assert
    assert d_128(fixed_images).shape == (2, 1)
passed("E11")

# %% [markdown]
# **Check E12 (the logits part).** A discriminator that ends in `Dense(1)` outputs raw scores. Feeding
# them to a probability-based BCE is refused by PyTorch (Keras would silently clip them); the right loss
# is BCE *with logits*, which for the generator with target "real" is exactly the course's
# non-saturating loss.

# %%
scores = torch.randn(8) * 3  # raw outputs of Dense(1)
err = error_of(lambda: nn.BCELoss()(scores, torch.ones(8)))
assert "between 0 and 1" in str(err)
torch.testing.assert_close(F.binary_cross_entropy_with_logits(scores, torch.ones(8)),
                           losses.gan_g_nonsaturating(scores))
passed("E12")

# %% [markdown]
# **Check E13, E34, E47, E89, E100.** These entries are about names that a program uses but never
# defines. To show it without building the answer in, the next (folded) cell holds each article's
# training program as printed (for B and E, the code blocks that make it up, in order), with the
# Chinese comments translated and four long lines re-wrapped, otherwise character for character.
# (We checked that Python's parser gives our copy the same syntax tree as the original.) We cannot run
# them: they need TensorFlow, torchvision and data sets that the course does not install. Instead a
# small static analysis reads each program, a cousin of pyflakes' "undefined name": it follows the
# module's statements in the order they run and reports every name read before any statement has
# bound it; the body of a function runs later, so it may use any name the module binds anywhere. On
# each article's program it finds exactly the names of the entry. On the same program with those
# names supplied (the fixes below, applied as text) it finds none, so it is not flagging names at
# random.

# %% tags=["hide-cell"]
ARTICLE_PROGRAMS = {  # the programs of the five articles, as printed
    "A": r'''
import tensorflow as tf
from tensorflow.keras import layers

# define the generator and discriminator models
def build_generator(z_dim):
    model = tf.keras.Sequential()
    model.add(layers.Dense(7 * 7 * 256, use_bias=False, input_shape=(z_dim,)))
    model.add(layers.BatchNormalization(momentum=0.8))
    model.add(layers.LeakyReLU())

    model.add(layers.Reshape((7, 7, 256)))
    assert model.output_shape == (None, 7, 7, 256)  # Note: None is the batch size

    model.add(layers.Conv2DTranspose(128, (5, 5), strides=(1, 1), padding='same', use_bias=False))
    model.add(layers.BatchNormalization(momentum=0.8))
    model.add(layers.LeakyReLU())

    model.add(layers.Conv2DTranspose(64, (5, 5), strides=(2, 2), padding='same', use_bias=False))
    model.add(layers.BatchNormalization(momentum=0.8))
    model.add(layers.LeakyReLU())

    model.add(layers.Conv2DTranspose(1, (5, 5), strides=(2, 2), padding='same', use_bias=False,
                                     activation='tanh'))
    assert model.output_shape == (None, 128, 128, 1)

    return model

def build_discriminator(img_shape):
    model = tf.keras.Sequential()
    model.add(layers.Conv2D(64, (5, 5), strides=(2, 2), padding='same',
                                     input_shape=img_shape))
    model.add(layers.LeakyReLU())
    model.add(layers.Dropout(0.3))

    model.add(layers.Conv2D(128, (5, 5), strides=(2, 2), padding='same'))
    model.add(layers.LeakyReLU())
    model.add(layers.Dropout(0.3))

    model.add(layers.Flatten())
    model.add(layers.Dense(1))

    return model

# train the model
def train(G, D, dataset, z_dim=100, num_epochs=100, batch_size=128, save_interval=50):
    for epoch in range(num_epochs):

        for i, (images, _) in enumerate(dataset):
            if i % 100 == 0:
                print(f"{epoch} [ {i * len(images) / len(dataset)} ]")

            # train the discriminator
            real_images = images
            real_labels = tf.ones((batch_size, 1))

            z = tf.random.normal([batch_size, z_dim])
            fake_images = G(z)
            fake_labels = tf.zeros((batch_size, 1))

            d_loss_real = D.train_on_batch(real_images, real_labels)
            d_loss_fake = D.train_on_batch(fake_images, fake_labels)
            d_loss = 0.5 * np.add(d_loss_real, d_loss_fake)

            # train the generator
            z = tf.random.normal([batch_size, z_dim])
            g_loss = G.train_on_batch(z, real_labels)

            # print training information
            print(f"{epoch} [ {i * len(images) / len(dataset)} ] "
                  f"[D: {d_loss:.3f}, G: {g_loss:.3f}]")

            # save the model
            if (iters % save_interval == 0) or ((epoch == num_epochs - 1)
                                                and (i == len(dataset) - 1)):
                G.save(f"{epoch}_{i:04d}.h5")

# main program
def main():
    # hyperparameters
    batch_size = 64
    z_dim = 100
    epochs = 20

    # load the dataset
    dataset = load_data()

    # build the generator and discriminator models
    G = build_generator(z_dim)
    D = build_discriminator((128, 128, 1))

    # train the model
    train(G, D, dataset, z_dim, epochs, batch_size)

if __name__ == "__main__":
    main()
''',  # Article A, section 5.2
    "B": r'''
import tensorflow as tf
from tensorflow.keras.preprocessing import image
from tensorflow.keras.preprocessing.sequence import pad_sequences

# load the video dataset
video_dataset = load_video_dataset("path/to/YouTube_video_dataset")

# preprocess the video data
preprocessed_videos = preprocess_videos(video_dataset)

import tensorflow.keras.models as models
from tensorflow.keras.layers import Conv2D, Flatten, Dense, Reshape, Input

# design the generator model
def build_generator(input_shape):
    model = models.Sequential()
    model.add(Reshape((input_shape[0], input_shape[1], 1), input_shape=input_shape))
    model.add(Conv2D(32, (3, 3), activation='relu', padding='same'))
    model.add(Conv2D(32, (3, 3), activation='relu', padding='same'))
    model.add(Conv2D(64, (3, 3), activation='relu', padding='same'))
    model.add(Conv2D(64, (3, 3), activation='relu', padding='same'))
    model.add(Conv2D(128, (3, 3), activation='relu', padding='same'))
    model.add(Conv2D(128, (3, 3), activation='relu', padding='same'))
    model.add(Flatten())
    model.add(Dense(128, activation='relu'))
    model.add(Dense(np.prod(input_shape), activation='tanh'))
    model.add(Reshape(input_shape))
    return model

# design the discriminator model
def build_discriminator(input_shape):
    model = models.Sequential()
    model.add(Reshape((input_shape[0], input_shape[1], 1), input_shape=input_shape))
    model.add(Conv2D(32, (3, 3), activation='relu', padding='same'))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Conv2D(64, (3, 3), activation='relu', padding='same'))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Conv2D(128, (3, 3), activation='relu', padding='same'))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Flatten())
    model.add(Dense(1, activation='sigmoid'))
    return model

# GAN training code
def train_gan(generator, discriminator, data_loader, batch_size, num_epochs):
    for epoch in range(num_epochs):
        for batch in data_loader:
            real_images = batch
            noise = np.random.normal(0, 1, (batch_size, noise_dim))

            # train the discriminator
            with tf.GradientTape() as disc_tape:
                disc_loss = compute_discriminator_loss(discriminator, real_images, fake_images)
            disc_gradients = disc_tape.gradient(disc_loss, discriminator.trainable_variables)
            optimizer.apply_gradients(zip(disc_gradients, discriminator.trainable_variables))

            # train the generator
            with tf.GradientTape() as gen_tape:
                gen_loss = compute_generator_loss(generator, noise)
            gen_gradients = gen_tape.gradient(gen_loss, generator.trainable_variables)
            optimizer.apply_gradients(zip(gen_gradients, generator.trainable_variables))

            # log the training
            print(f"Epoch: {epoch}, Generator Loss: {gen_loss}, Discriminator Loss: {disc_loss}")

# generate new short videos
def generate_videos(generator, num_videos, video_length):
    noise = np.random.normal(0, 1, (num_videos, noise_dim))
    generated_videos = generator.predict(noise)
    return generated_videos
''',  # Article B, the project's four code blocks
    "C": r'''
import torch
import torch.nn as nn
import torch.optim as optim
import torchvision.transforms as transforms
from torchvision.datasets import MNIST
from torchvision.utils import save_image

# define the generator and discriminator models
class Generator(nn.Module):
    def __init__(self):
        super(Generator, self).__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(100, 256, 4, 1, 0, bias=False),
            nn.BatchNorm2d(256),
            nn.ReLU(True),
            nn.ConvTranspose2d(256, 128, 4, 2, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(True),
            nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(True),
            nn.ConvTranspose2d(64, 1, 4, 2, 1, bias=False),
            nn.Tanh()
        )

    def forward(self, input):
        return self.main(input)

class Discriminator(nn.Module):
    def __init__(self):
        super(Discriminator, self).__init__()
        self.main = nn.Sequential(
            nn.Conv2d(1, 64, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(64, 128, 4, 2, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(128, 256, 4, 2, 1, bias=False),
            nn.BatchNorm2d(256),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(256, 1, 4, 1, 0, bias=False),
            nn.Sigmoid()
        )

    def forward(self, input):
        return self.main(input)

# define the loss function
criterion = nn.BCELoss()

# define the optimizers
G_optimizer = optim.Adam(G.parameters(), lr=0.0002, betas=(0.5, 0.999))
D_optimizer = optim.Adam(D.parameters(), lr=0.0002, betas=(0.5, 0.999))

# prepare the data
transform = transforms.Compose([
    transforms.ToTensor(),
    transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
])
train_dataset = MNIST(root='data', train=True, transform=transform, download=True)
train_loader = torch.utils.data.DataLoader(train_dataset, batch_size=64, shuffle=True)

# training
for epoch in range(100):
    for i, (imgs, _) in enumerate(train_loader):
        # generator training
        G_optimizer.zero_grad()
        z = torch.randn(imgs.size(0), 100, 1, 1, device=device)
        g_imgs = G(z)
        g_reality = criterion(D(g_imgs), torch.ones(g_imgs.size(0), 1, device=device))
        g_loss = g_reality
        g_loss.backward()
        G_optimizer.step()

        # discriminator training
        D_optimizer.zero_grad()
        real_imgs = imgs.to(device)
        real_reality = criterion(D(real_imgs), torch.ones(real_imgs.size(0), 1, device=device))
        fake_imgs = g_imgs.to(device)
        fake_reality = criterion(D(fake_imgs.detach()),
                                 torch.zeros(fake_imgs.size(0), 1, device=device))
        d_loss = real_reality + fake_reality
        d_loss.backward()
        D_optimizer.step()

        # save images
        if i % 50 == 0:
            real_images = real_imgs.view(-1, 28, 28).data.cpu().numpy()
            fake_images = g_imgs.view(-1, 28, 28).data.cpu().numpy()
            save_image(torch.cat((real_images, fake_images), 0), f'images/{epoch + 1}/{i}.png')

# save the models after training
torch.save(G.state_dict(), 'gen_model.pth')
torch.save(D.state_dict(), 'dis_model.pth')
''',  # Article C, section 5.2 (training program)
    "D": r'''
import tensorflow as tf
from tensorflow.keras import layers
import numpy as np
import matplotlib.pyplot as plt

# parameters
latent_dim = 100
image_dim = (28, 28, 1)
batch_size = 64
learning_rate = 0.0002

# generator model
def build_generator(z):
    z = layers.Dense(units=128, activation='relu')(z)
    z = layers.Dense(units=64, activation='relu')(z)
    z = layers.Dense(units=image_dim[0] * image_dim[1], activation='tanh')(z)
    img = layers.Reshape(image_dim)(z)
    return img

# discriminator model
def build_discriminator(x):
    x = layers.Conv2D(units=64, kernel_size=(3, 3), stride=(2, 2), activation='relu')(x)
    x = layers.Conv2D(units=128, kernel_size=(3, 3), stride=(2, 2), activation='relu')(x)
    x = layers.Flatten()(x)
    x = layers.Dense(units=1, activation='sigmoid')(x)
    return x

# GAN model
def build_gan(generator, discriminator):
    z = layers.Input(shape=(latent_dim,))
    img = generator(z)
    valid = discriminator(img)
    fake = discriminator(img)
    model = tf.keras.Model(z, [valid, fake])
    return model

# compile the models
discriminator_optimizer = tf.keras.optimizers.Adam(learning_rate)
generator_optimizer = tf.keras.optimizers.Adam(learning_rate)
discriminator.compile(optimizer=discriminator_optimizer, loss='binary_crossentropy')
gan = build_gan(build_generator(z), discriminator)
gan.compile(optimizer=generator_optimizer, loss=['binary_crossentropy', 'binary_crossentropy'])

# data preprocessing
(x_train, _), (_, _) = tf.keras.datasets.mnist.load_data()
x_train = x_train.astype(np.float32) / 127.5 - 1.0
x_train = np.expand_dims(x_train, axis=3)

# train the model
for epoch in range(100):
    for batch in range(len(x_train) // batch_size):
        z = np.random.normal(size=(batch_size, latent_dim))
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            img = generator(z)
            valid = discriminator(x_train[batch * batch_size: (batch + 1) * batch_size])
            fake = discriminator(img)
            g_loss = tf.reduce_mean(fake) + tf.reduce_mean(valid)
            disc_loss = tf.reduce_mean(valid) + tf.reduce_mean(1 - fake)
        grads = disc_tape.gradient(disc_loss, discriminator.trainable_variables)
        discriminator_optimizer.apply_gradients(zip(grads, discriminator.trainable_variables))
        grads = gen_tape.gradient(g_loss, generator.trainable_variables)
        generator_optimizer.apply_gradients(zip(grads, generator.trainable_variables))
    print(f'Epoch {epoch + 1}, g_loss = {g_loss.numpy()}, disc_loss = {disc_loss.numpy()}')

# generate images
generator = build_generator(z)
generated_images = generator.predict(np.random.normal(size=(batch_size, latent_dim)))
generated_images = (generated_images + 1) * 127.5

# show the generated images
plt.figure(figsize=(10, 10))
for i in range(batch_size):
    plt.subplot(1, batch_size, i + 1)
    plt.imshow(generated_images[i, :, :, 0], cmap='gray')
    plt.axis('off')
plt.show()
''',  # Article D, section 5.2
    "E": r'''
import torch
import torchvision
import torchvision.transforms as transforms

# data preprocessing
transform = transforms.Compose([
    transforms.ToTensor(),
    transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
])

trainset = torchvision.datasets.CIFAR10(
    root='./data', train=True, download=True, transform=transform)
trainloader = torch.utils.data.DataLoader(
    trainset, batch_size=128, shuffle=True, num_workers=2)

testset = torchvision.datasets.CIFAR10(
    root='./data', train=False, download=True, transform=transform)
testloader = torch.utils.data.DataLoader(
    testset, batch_size=100, shuffle=False, num_workers=2)

import torch.nn as nn

# generator model
class Generator(nn.Module):
    def __init__(self):
        super(Generator, self).__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(100, 256, 4, 1, 0, bias=False),
            nn.BatchNorm2d(256),
            nn.ReLU(True),
            nn.ConvTranspose2d(256, 128, 4, 2, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(True),
            nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(True),
            nn.ConvTranspose2d(64, 3, 4, 2, 1, bias=False),
            nn.Tanh()
        )

    def forward(self, input):
        return self.main(input)

# discriminator model
class Discriminator(nn.Module):
    def __init__(self):
        super(Discriminator, self).__init__()
        self.main = nn.Sequential(
            nn.Conv2d(3, 64, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(64, 128, 4, 2, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(128, 256, 4, 2, 1, bias=False),
            nn.BatchNorm2d(256),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(256, 1, 4, 1, 0, bias=False),
            nn.Sigmoid()
        )

    def forward(self, input):
        return self.main(input)

import torch.optim as optim

device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")

# initialise the models
netG = Generator().to(device)
netD = Discriminator().to(device)

# initialise the loss function
criterion = nn.BCELoss()

# initialise the optimizers
optimizerG = optim.Adam(netG.parameters(), lr=0.0002)
optimizerD = optim.Adam(netD.parameters(), lr=0.00005)

# training
for epoch in range(num_epochs):
    for i, data in enumerate(trainloader, 0):
        # update the discriminator
        netD.zero_grad()
        real_images = data[0].to(device)
        batch_size = real_images.size(0)
        labels = torch.full((batch_size,), 1, device=device)
        output = netD(real_images).view(-1)
        errD_real = criterion(output, labels)
        errD_real.backward()

        fake_images = netG(noise).to(device)
        labels.fill_(0)
        output = netD(fake_images.detach()).view(-1)
        errD_fake = criterion(output, labels)
        errD_fake.backward()
        optimizerD.step()

        # update the generator
        netG.zero_grad()
        labels.fill_(1)
        output = netD(fake_images).view(-1)
        errG = criterion(output, labels)
        errG.backward()
        optimizerG.step()

        # print training information
        if i % 50 == 0:
            print(
                '[%d/%d][%d/%d]\tLoss_D: %.4f\tLoss_G: %.4f'
                % (epoch, num_epochs, i, len(trainloader),
                   errD_real + errD_fake, errG))
''',  # Article E, data, models and training (its first three code blocks)
}

# %%
MODULE_NAMES = set(dir(builtins)) | {"__name__", "__file__", "__doc__"}


class _InOrder(ast.NodeVisitor):
    """Walks module-level code in the order it runs; function and class bodies are set aside."""

    def __init__(self):
        self.bound, self.first_use, self.deferred = set(MODULE_NAMES), {}, []

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load):
            if node.id not in self.bound:
                self.first_use.setdefault(node.id, (node.lineno, node.col_offset))
        else:
            self.bound.add(node.id)

    def visit_Assign(self, node):  # the value runs before the targets are bound
        self.visit(node.value)
        for target in node.targets:
            self.visit(target)

    def visit_AugAssign(self, node):
        self.visit(node.value)
        self.visit(node.target)

    def visit_For(self, node):
        self.visit(node.iter)
        self.visit(node.target)
        for stmt in node.body + node.orelse:
            self.visit(stmt)

    def visit_Import(self, node):
        self.bound.update((a.asname or a.name).split(".")[0] for a in node.names)

    visit_ImportFrom = visit_Import

    def visit_FunctionDef(self, node):
        for expr in node.decorator_list + node.args.defaults:
            self.visit(expr)
        self.bound.add(node.name)
        self.deferred.append(node)

    def visit_ClassDef(self, node):
        for expr in node.decorator_list + node.bases:
            self.visit(expr)
        self.bound.add(node.name)
        self.deferred.append(node)

    def visit_Lambda(self, node):
        self.deferred.append(node)


def unbound_names(source: str) -> list[str]:
    """Names that ``source`` reads before anything binds them, in order of first use."""
    walk = _InOrder()
    walk.visit(ast.parse(source))
    for scope in walk.deferred:  # runs later: may use any name the module binds anywhere
        nodes = list(ast.walk(scope))
        local = {n.id for n in nodes
                 if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
        local |= {a.arg for n in nodes if isinstance(n, ast.arguments)
                  for a in n.posonlyargs + n.args + n.kwonlyargs + [n.vararg, n.kwarg] if a}
        local |= {n.name for n in nodes if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        local |= {(a.asname or a.name).split(".")[0] for n in nodes
                  if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
        for n in nodes:
            if (isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
                    and n.id not in local | walk.bound):
                walk.first_use.setdefault(n.id, (n.lineno, n.col_offset))
    return sorted(walk.first_use, key=walk.first_use.get)


FIXES = {  # the smallest change to each program that supplies its missing names: (old, new) text
    "A": [("from tensorflow.keras import layers\n",
           "from tensorflow.keras import layers\nimport numpy as np\n"),
          ("if (iters % save_interval == 0)",
           "if ((epoch * len(dataset) + i) % save_interval == 0)"),
          ("    dataset = load_data()\n",
           "    dataset = tf.keras.utils.image_dataset_from_directory(\n"
           "        'faces', color_mode='grayscale', image_size=(128, 128),\n"
           "        batch_size=batch_size)\n")],
    "B": [("import tensorflow as tf\n", "import numpy as np\nimport tensorflow as tf\n"
           "from video_data import load_video_dataset, preprocess_videos  # the reader's own\n"),
          ("Reshape, Input\n", "Reshape, Input, MaxPooling2D\n"),
          ("# GAN training code\n",
           "noise_dim = 100\n"
           "bce = tf.keras.losses.BinaryCrossentropy()\n"
           "disc_optimizer = tf.keras.optimizers.Adam(2e-4, beta_1=0.5)\n"
           "gen_optimizer = tf.keras.optimizers.Adam(2e-4, beta_1=0.5)\n\n\n"
           "def compute_discriminator_loss(discriminator, real_images, fake_images):\n"
           "    real, fake = discriminator(real_images), discriminator(fake_images)\n"
           "    return bce(tf.ones_like(real), real) + bce(tf.zeros_like(fake), fake)\n\n\n"
           "def compute_generator_loss(generator, discriminator, noise):\n"
           "    fake = discriminator(generator(noise))\n"
           "    return bce(tf.ones_like(fake), fake)\n\n\n"
           "# GAN training code\n"),
          ("                disc_loss = compute_discriminator_loss(",
           "                fake_images = generator(noise)\n"
           "                disc_loss = compute_discriminator_loss("),
          ("optimizer.apply_gradients(zip(disc", "disc_optimizer.apply_gradients(zip(disc"),
          ("optimizer.apply_gradients(zip(gen", "gen_optimizer.apply_gradients(zip(gen"),
          ("compute_generator_loss(generator, noise)",
           "compute_generator_loss(generator, discriminator, noise)")],
    "C": [("# define the loss function\n",
           "device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')\n"
           "G = Generator().to(device)\nD = Discriminator().to(device)\n\n"
           "# define the loss function\n")],
    "D": [("# compile the models\n",
           "z_input = layers.Input(shape=(latent_dim,))\n"
           "generator = tf.keras.Model(z_input, build_generator(z_input))\n"
           "x_input = layers.Input(shape=image_dim)\n"
           "discriminator = tf.keras.Model(x_input, build_discriminator(x_input))\n\n"
           "# compile the models\n"),
          ("gan = build_gan(build_generator(z), discriminator)",
           "gan = build_gan(generator, discriminator)"),
          ("generator = build_generator(z)\n", "")],
    "E": [("for epoch in range(num_epochs):\n",
           "num_epochs = 25\nfor epoch in range(num_epochs):\n"),
          ("        fake_images = netG(noise).to(device)\n",
           "        noise = torch.randn(batch_size, 100, 1, 1, device=device)\n"
           "        fake_images = netG(noise)\n")],
}


def patched(program: str, fixes: list[tuple[str, str]]) -> str:
    for old, new in fixes:
        assert program.count(old) == 1, f"the fix does not apply: {old!r}"
        program = program.replace(old, new)
    return program


missing_names = {  # entry: (article, the names the entry says are never defined)
    "E13": ("A", ["np", "iters", "load_data"]),
    "E34": ("B", ["load_video_dataset", "preprocess_videos", "np", "MaxPooling2D", "noise_dim",
                  "compute_discriminator_loss", "fake_images", "optimizer",
                  "compute_generator_loss"]),
    "E47": ("C", ["G", "D", "device"]),
    "E89": ("E", ["num_epochs", "noise"]),
    "E100": ("D", ["discriminator", "z", "generator"]),  # z: see E67
}
for entry, (article, expected) in missing_names.items():
    found = unbound_names(ARTICLE_PROGRAMS[article])
    print(f"{entry} (Article {article}): used but never defined: {', '.join(found)}")
    assert found == expected
    assert unbound_names(patched(ARTICLE_PROGRAMS[article], FIXES[article])) == []
passed(*missing_names)

# %% [markdown]
# ## 6. Concepts and history (2 entries)
#
# | ID | Art. | Sev. | The article says | What is right | Evidence | Kind of check |
# |---|---|---|---|---|---|---|
# | E03 | A | major | A disadvantage of VAEs is that they need labels (需要真实数据的标签). | VAEs are trained without labels: the ELBO uses only $x$. Labels appear only in conditional variants (CVAE; for GANs, cGAN {cite}`mirza2014cgan`). | {cite}`kingma2014vae`; [section 3.1](../03_vae_math/01_elbo.ipynb). Check. | correct statement |
# | E99 | A | major | AIGC's core algorithms "mainly include" (主要包括) GANs and VAEs (§2.2); §2.1 introduces generative AI and AIGC, and the §2.3 diagram splits AIGC into GANs and VAEs alone. | Both are worth teaching, and they led image generation from about 2014 to 2020, but today's AIGC rests on two other families. Text generation is dominated by autoregressive Transformer language models {cite}`vaswani2017attention`, such as GPT-3 {cite}`brown2020gpt3` and ChatGPT (trained with the method of InstructGPT {cite}`ouyang2022instructgpt`). Image generation is dominated by diffusion models {cite}`sohldickstein2015deep,ho2020ddpm`, above all latent diffusion (Stable Diffusion) {cite}`rombach2022ldm`. | [Section 1.1](../01_concepts/01_what_is_aigc.ipynb). | — |

# %% [markdown]
# **Check E03 and E41.** Neither model needs labels.
#
# * *E03.* The VAE of the check of E02 was trained on the images alone: its loss, `model.loss(images)`,
#   receives no label. Yet its two-dimensional codes $\mu(x)$ sort the digits by class: a
#   nearest-neighbour classifier on the codes (each digit takes the label of the nearest other code)
#   is far above the 10 % of chance, and the same classifier with the labels shuffled is at chance.
#   The labels are used only here, to score the codes after training.
# * *E41.* A 1-D GAN whose training data are 2 000 unlabelled numbers from $\mathcal N(3,1)$:
#   generator $G(z)=z+\theta$ from $\theta=0$, and at each step a logistic discriminator fitted to the
#   current real and generated samples (by L-BFGS, as in the check of E32 on [Article B's page](errata_b.ipynb)), then one
#   non-saturating step in
#   $\theta$. The only "labels" are real and generated, which the algorithm assigns itself. The
#   generator reaches the data distribution. Labels are needed only for conditional models
#   ([section 4.3](../04_hands_on/03_cgan_wgan.ipynb)).

# %%


# E03: codes learned without labels, scored with labels afterwards
x8 = metrics.to_model_space(digits.images[:512])  # the digits of the check of E02
with torch.no_grad():
    codes, _ = vae.encode(x8)  # (512, 2)
classes = digits.labels[:512]
distance = torch.cdist(codes, codes).fill_diagonal_(float("inf"))
nearest = distance.argmin(dim=1)  # the nearest other code
shuffled = classes[torch.randperm(len(classes), generator=torch.Generator().manual_seed(3))]
accuracy_codes = (classes[nearest] == classes).double().mean().item()
accuracy_shuffled = (shuffled[nearest] == shuffled).double().mean().item()
print(f"nearest-neighbour accuracy on the VAE's codes {accuracy_codes:.1%}, "
      f"with shuffled labels {accuracy_shuffled:.1%}, chance 10%")
assert accuracy_codes > 0.35 and accuracy_shuffled < 0.2

# E41: a GAN trained on unlabelled data
data_1d = 3 + torch.randn(2000, dtype=torch.float64)  # the training set: numbers, no labels
theta = torch.tensor(0.0, dtype=torch.float64)
for _ in range(10):
    z = torch.randn(2000, dtype=torch.float64)
    wb = fit_logistic_d(data_1d, z + theta)  # D: real vs generated
    theta_ = theta.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(losses.gan_g_nonsaturating(wb[0] * (z + theta_) + wb[1]), theta_)
    theta = theta - 1.0 * g  # G: one non-saturating step
print(f"generator shift after 10 steps: {theta.item():.3f} (data mean 3)")
assert abs(theta.item() - 3) < 0.15
passed("E03", "E41")

# %% [markdown]
# ## 7. Applications and evaluation (3 entries)
#
# | ID | Art. | Sev. | The article says | What is right | Evidence | Kind of check |
# |---|---|---|---|---|---|---|
# | E04 | A | minor | VAEs do "data augmentation" (数据增强), illustrated by image enhancement and speech enhancement (图像增强、语音增强). | *Data augmentation* enlarges a training set with transformed or synthetic samples; *enhancement* improves the signal quality of one input. Different tasks with different metrics. | [Section 5.4](../05_applications/04_augmentation.ipynb); see the glossary. | — |
# | E10 | A | major | VAE denoising: the encoder maps a *noisy* image to a point, the decoder reconstructs a "denoised" image from it, encoder and decoder are optimised to "capture the data distribution", and so the reconstruction comes ever closer to the original image (越来越接近原始图像). | A bottleneck does remove some noise: a model that reconstructs noisy images through a narrow code (PCA, an undercomplete autoencoder, a VAE) keeps the few directions that carry most of the variance and drops the noise in the others. What is wrong is the claim that this training leads to the clean image. Nothing in the objective asks for it: the gain comes from the limited capacity and stops there (the noise inside the kept directions stays, and the detail outside them is lost), and a wider code reproduces more of the noise, not less. To make denoising the objective, train on clean targets, $\mathbb{E}\Vert x_{clean}-\mathrm{dec}(\mathrm{enc}(x_{noisy}))\Vert^2$ (a denoising autoencoder: Vincent, Larochelle, Bengio & Manzagol, "Extracting and Composing Robust Features with Denoising Autoencoders", ICML 2008), or put an explicit noise model in $p_\theta(x\mid z)$. | PCA as the optimal linear bottleneck {cite}`bishop2006pattern`, ch. 12; [section 5.2](../05_applications/02_denoising.ipynb). Check. | article's version |
# | E102 | A | minor | Under the heading "how to guarantee (保证) data privacy and security", §9.3 lists data encryption, privacy-preserving algorithms (differential privacy, federated learning), which it says reduce the risk (降低数据隐私风险), and access control, as the measures that achieve that aim; it names no risk they leave. | The list leaves out the main risk of a generative model, what the trained model itself reveals, which encryption and access control do not touch: generative models can reproduce training images {cite}`carlini2023extracting`. Federated learning alone shares model updates instead of data, and updates can give the data back. For one gradient through a linear layer the input is the ratio of a row of the weight gradient to the matching bias gradient, exactly; deeper networks leak it to an optimiser {cite}`zhu2019deep`; and the multi-step updates of federated averaging leak too (Geiping, Bauermeister, Dröge & Moeller, "Inverting Gradients: How easy is it to break privacy in federated learning?", NeurIPS 2020). Differential privacy does give a guarantee, but a quantified one, for a stated ε, paid for in accuracy {cite}`abadi2016dpsgd`. | Check. | correct statement |

# %% [markdown]
# **Check E10.** Noisy 8×8 digits (Gaussian noise of standard deviation 0.5 on the $[-1,1]$ scale). The
# article's recipe, noisy images as both input and target, has an exact solution for a linear model:
# the best code of width $k$ is the projection on the top $k$ principal components of the noisy
# training images (PCA), the optimum that a linear autoencoder reaches {cite}`bishop2006pattern`. We
# measure the PSNR of its reconstructions against the *clean* held-out images. A narrow code does
# remove noise, so the PSNR rises above the noisy input's. But the gain belongs to the bottleneck, not
# to the objective: it peaks at a middle width and falls back to the noisy input's PSNR when the code
# is as wide as the image. The same linear model trained on clean targets (noisy → clean, least
# squares) beats every width.

# %%
clean = metrics.to_model_space(digits.images).flatten(1).double()  # (1797, 64)
noisy = clean + 0.5 * torch.randn(clean.shape, dtype=torch.float64)
train, held_out = slice(0, 1200), slice(1200, None)


def with_bias(t: torch.Tensor) -> torch.Tensor:
    return torch.cat([t, torch.ones(len(t), 1, dtype=t.dtype)], dim=1)  # (N, 65)


def fit_linear(inputs: torch.Tensor, targets: torch.Tensor):
    """Least-squares affine map inputs -> targets; returns it as a function."""
    weights = torch.linalg.lstsq(with_bias(inputs), targets).solution  # (65, 64)
    return lambda t: with_bias(t) @ weights


def psnr_vs_clean(images: torch.Tensor) -> float:
    return metrics.psnr(images.reshape(-1, 1, 8, 8), clean[held_out].reshape(-1, 1, 8, 8)).item()


centre = noisy[train].mean(dim=0)  # (64,)
_, _, components = torch.linalg.svd(noisy[train] - centre, full_matrices=False)  # (64, 64)


def bottleneck(images: torch.Tensor, k: int) -> torch.Tensor:
    """The best noisy -> noisy linear model with a k-dimensional code: PCA projection."""
    basis = components[:k]  # (k, 64): the top k principal directions
    return centre + (images - centre) @ basis.T @ basis


widths = (2, 4, 8, 16, 32, 64)
psnr_input = psnr_vs_clean(noisy[held_out])
psnr_code = {k: psnr_vs_clean(bottleneck(noisy[held_out], k)) for k in widths}
psnr_clean_targets = psnr_vs_clean(fit_linear(noisy[train], clean[train])(noisy[held_out]))
best = max(psnr_code, key=psnr_code.get)
print(f"PSNR vs clean: noisy input {psnr_input:.2f} dB; noisy -> noisy with a code of width "
      + ", ".join(f"{k}: {v:.2f}" for k, v in psnr_code.items())
      + f" dB; noisy -> clean {psnr_clean_targets:.2f} dB")
assert psnr_code[best] > psnr_input + 2  # a bottleneck does remove noise ...
assert widths[0] < best < widths[-1]  # ... most at a middle width ...
assert abs(psnr_code[64] - psnr_input) < 0.1  # ... and a full-width code keeps all of it
assert psnr_clean_targets > psnr_code[best] + 1  # clean targets make denoising the objective
passed("E10")

# %% tags=["hide-input"]
glue("e10_best", best, display=False)
glue("e10_gain", psnr_code[best] - psnr_input, display=False)
glue("e10_gain_clean", psnr_clean_targets - psnr_input, display=False)

# %% [markdown]
# Here the best code, of width {glue:text}`e10_best`, gains {glue:text}`e10_gain:.1f` dB over the noisy
# input; the model trained on clean targets gains {glue:text}`e10_gain_clean:.1f` dB.

# %% [markdown]
# **Check E102.** What a federated client sends for one private image: the gradient of its loss through a
# linear layer (784 pixels to 10 classes). Since $\partial L/\partial W = (\partial L/\partial y)\,x^\top$
# and $\partial L/\partial b = \partial L/\partial y$, any row of the weight gradient divided by the
# matching bias gradient is the image itself. Encrypting the stored data does not touch this channel.

# %%
test = data.fashion_mnist("test")
torch.manual_seed(0)
layer = nn.Linear(784, 10)
x_private = metrics.to_model_space(test.images[:1]).flatten(1)          # one real image, (1, 784)
loss = F.cross_entropy(layer(x_private), torch.tensor([int(test.labels[0])]))
grad_w, grad_b = torch.autograd.grad(loss, [layer.weight, layer.bias])  # (10, 784), (10,)
row = int(grad_b.abs().argmax())
x_rebuilt = grad_w[row] / grad_b[row]                                   # (784,)
error = (x_rebuilt - x_private[0]).abs().max()
print(f"image rebuilt from one gradient: max |error| = {error:.1e} (pixels in [-1, 1])")
torch.testing.assert_close(x_rebuilt, x_private[0], atol=1e-4, rtol=1e-4)
passed("E102")


# %% [markdown]
# ## 8. References (10 entries)
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
# | E15 | A | major | "Variational Autoencoders", Kingma & Welling 2014, as the paper that proposed VAEs | real, wrong title | "Auto-Encoding Variational Bayes", ICLR 2014, arXiv:1312.6114 {cite}`kingma2014vae`. The article's own reference list ([3]) has the right title. | — |
# | E16 | A | minor | Bengio, Simard & Frasconi 1994, *IEEE Trans. Pattern Analysis and Machine Intelligence* 16(8), 1489–1499 | real, wrong venue | "Learning long-term dependencies with gradient descent is difficult", *IEEE Transactions on Neural Networks* 5(2):157–166, 1994 (doi:10.1109/72.279181). | — |
# | E17 | A | major | [9] Kolesnikov & Khvostov 2018, "GANs for multimodal generation", CVPR; [17] Huang, Li, Lin & Theilliol 2018, "Towards a principled multi-scale GAN for image synthesis"; [19] Cheng, Mao & He 2016, "Web-scale image annotation…"; [21] Huang, Urtasun & He 2018, "Multi-scale dense convolutional network for semantic segmentation" | fabricated | None exists; [9] reuses the page range of [16]. The nearest real work to [21] is Huang et al., "Multi-Scale Dense Networks for Resource Efficient Image Classification", ICLR 2018. | — |
# | E18 | A | major | "BigGANs at 512x512" (2019), "BigGANs at 256x256" (2020), "BigGANs at 1024x1024" (2020), "BigGAN Dissection" (CVPR 2020) | fabricated | BigGAN is Brock, Donahue & Simonyan, "Large Scale GAN Training for High Fidelity Natural Image Synthesis", ICLR 2019 (arXiv:1809.11096). GAN dissection is Bau et al., "GAN Dissection: Visualizing and Understanding Generative Adversarial Networks", ICLR 2019. | — |
# | E19 | A | major | Salimans, Chen, Cheung, Karras & Le Brun 2019, "Improved techniques for training GANs", ICLR | real, wrong authors and venue | Salimans, Goodfellow, Zaremba, Cheung, Radford & Chen, NeurIPS 2016 {cite}`salimans2016improved`. | — |
# | E20 | A | major | Zhang, Cai & Hasegawa-Johnson 2016, "Variational image compression with a continuous prior", arXiv:1611.05644 | fabricated (not found) | Real VAE-style compression: Ballé, Laparra & Simoncelli, ICLR 2017 {cite}`balle2017endtoend`; Ballé, Minnen, Singh, Hwang & Johnston, "Variational image compression with a scale hyperprior", ICLR 2018 (arXiv:1802.01436). | — |
# | E21 | A | major | Ulyanov, Lempitsky & Ekiert 2017, "Non-local attention in deep visual representation learning", CVPR 5566–5574 | fabricated | Non-local blocks come from Wang, Girshick, Gupta & He, "Non-local Neural Networks", CVPR 2018. | — |
# | E22 | A | major | Radford, Besbridge, … Marras 2022, "Language models are few-shot learners", arXiv:2203.02155 | real title, invented authors, wrong ID | Brown et al., NeurIPS 2020, arXiv:2005.14165. arXiv:2203.02155 is Ouyang et al. 2022, "Training language models to follow instructions with human feedback". | — |
# | E23 | A | major | Dosovitskiy, Springenberg & Brox 2019, "An image is worth 16x16 words", arXiv:2010.11929 | real, wrong authors and year | Dosovitskiy, Beyer, Kolesnikov, Weissenborn, Zhai, Unterthiner, Dehghani, Minderer, Heigold, Gelly, Uszkoreit & Houlsby, arXiv October 2020, ICLR 2021. Check: the arXiv identifier itself says 2020. | illustration |
# | E24 | A | minor | [13] gives the GAN paper as "Generative adversarial networks"; [10] and [14] repeat [3] ([14] dated 2013); [31] and [33] date GoogLeNet to 2013; [32] dates DenseNet to 2018; [32]–[38] all repeat earlier entries ([32] and [35] repeat [27], [33] repeats [31], [34] repeats [26], [36] [30], [37] [29], [38] [28]); none of [1]–[38] is cited in the text | real, duplicated, wrong years | "Generative Adversarial Nets" {cite}`goodfellow2014gan`; Szegedy et al., "Going Deeper with Convolutions", CVPR 2015 (arXiv:1409.4842, September 2014); Huang et al., "Densely Connected Convolutional Networks", CVPR 2017. Check (the duplicates and the GoogLeNet year). | article's version |

# %% [markdown]
# **Check E23 and E24.** New-style arXiv identifiers (since 2007) begin with the year and month of
# submission, `YYMM.NNNNN`. The identifier the article gives for the Vision Transformer dates it to
# October 2020, so its year 2019 is impossible; GoogLeNet's (arXiv:1409.4842) dates it to September
# 2014, so the year 2013 of [31] and [33] is impossible too. For the duplicates of E24 we transcribe
# the first author, year and title of the entries of Article A's list that repeat a paper, and find
# each entry whose title (ignoring case) already appeared under a smaller number.

# %%
def arxiv_year_month(identifier: str) -> tuple[int, int]:
    yymm = identifier.split(".")[0]
    return 2000 + int(yymm[:2]), int(yymm[2:])


assert (arxiv_year_month("2010.11929") == (2020, 10)
        and arxiv_year_month("2010.11929")[0] != 2019)  # E23
# AEVB: arXiv December 2013, ICLR 2014 (E24, E25)
assert arxiv_year_month("1312.6114") == (2013, 12)
assert arxiv_year_month("2005.14165") == (2020, 5)  # Brown et al., the real few-shot paper (E22)
assert arxiv_year_month("1409.4842")[0] > 2013  # GoogLeNet, dated 2013 in [31] and [33] (E24)

references_a = {  # number: (first author, year, title) as Article A prints them
    1: ("Goodfellow", 2014, "Generative adversarial nets"),
    3: ("Kingma", 2014, "Auto-encoding variational bayes"),
    10: ("Kingma", 2014, "Auto-encoding variational bayes"),
    13: ("Goodfellow", 2014, "Generative adversarial networks"),
    14: ("Kingma", 2013, "Auto-encoding variational bayes"),
    26: ("He", 2016, "Deep residual learning for image recognition"),
    27: ("Huang", 2017, "Densely connected convolutional networks"),
    28: ("Deng", 2009, "Imagenet: A large-scale hierarchical image database"),
    29: ("Krizhevsky", 2012, "Imagenet classification with deep convolutional neural networks"),
    30: ("Simonyan", 2014, "Very deep convolutional networks for large-scale image recognition"),
    31: ("Szegedy", 2013, "Going deeper with convolutions"),
    32: ("Huang", 2018, "Densely connected convolutional networks"),
    33: ("Szegedy", 2013, "Going deeper with convolutions"),
    34: ("He", 2016, "Deep residual learning for image recognition"),
    35: ("Huang", 2017, "Densely connected convolutional networks"),
    36: ("Simonyan", 2014, "Very deep convolutional networks for large-scale image recognition"),
    37: ("Krizhevsky", 2012, "Imagenet classification with deep convolutional neural networks"),
    38: ("Deng", 2009, "Imagenet: A large-scale hierarchical image database"),
}
first_with_title: dict[str, int] = {}
repeats = {}  # entry -> the earlier entry it repeats
for number, (_, _, title) in sorted(references_a.items()):
    if title.casefold() in first_with_title:
        repeats[number] = first_with_title[title.casefold()]
    first_with_title.setdefault(title.casefold(), number)
print("repeats:", ", ".join(f"[{n}] = [{m}]" for n, m in repeats.items()))
assert repeats == {10: 3, 14: 3, 32: 27, 33: 31, 34: 26, 35: 27, 36: 30, 37: 29, 38: 28}  # E24
passed("E23", "E24")

# %% [markdown]
# ### Every work the articles cite
#
# For completeness, every cited work, including those the articles get right.
#
# **Article A** (sections 7.1, 7.3 and the reference list [1]–[38]):
#
# | Ref. | As cited | Status | Correct form |
# |---|---|---|---|
# | 7.1 | The article's own series, *Generative AI: gold mine or bubble?*, as a book | unverified | a blog series, not a book |
# | 7.1 | 《深度学习》, Goodfellow et al. | OK | *Deep Learning*, MIT Press 2016 |
# | 7.1 | A book on GAN theory and applications, no author | unverified | — |
# | 7.3 | "Generative Adversarial Nets", Goodfellow 2014 | OK | {cite}`goodfellow2014gan` |
# | 7.3 | DCGAN, Radford et al. 2015 | OK | arXiv 2015, ICLR 2016 {cite}`radford2016dcgan` |
# | 7.3 | "Variational Autoencoders", Kingma & Welling 2014 | real, wrong title | E15 |
# | [1] | Goodfellow et al. 2014, NeurIPS 27 | OK | {cite}`goodfellow2014gan` |
# | [2] | Radford, Metz & Chintala 2015, arXiv:1511.06434 | OK | {cite}`radford2016dcgan` |
# | [3], [10], [14] | Kingma & Welling, "Auto-Encoding Variational Bayes", arXiv:1312.6114 | OK ([10], [14] duplicates; [14] dated 2013) | {cite}`kingma2014vae`; E24 |
# | [4] | Bengio, Simard & Frasconi 1994 | real, wrong venue | E16 |
# | [5] | LeCun, Bengio & Hinton 2015, *Nature* 521 | OK | pp. 436–444 |
# | [6] | Hochreiter & Schmidhuber 1997, LSTM | OK | *Neural Computation* 9(8) |
# | [7] | Hinton, Osindero & Teh 2006, deep belief nets | OK | *Neural Computation* 18(7) |
# | [8] | Srivastava et al. 2014, Dropout | OK | *JMLR* 15 |
# | [9], [17], [19], [21] | four CVPR papers | fabricated | E17 |
# | [11], [23], [24], [25] | "BigGANs at …" and "BigGAN Dissection" | fabricated | E18 |
# | [12] | Salimans et al. 2019, ICLR | real, wrong authors and venue | E19 |
# | [13] | Goodfellow et al., "Generative adversarial networks" | real, wrong title (duplicate of [1]) | E24 |
# | [15] | Zhang, Cai & Hasegawa-Johnson 2016 | fabricated | E20 |
# | [16] | Ulyanov, Lempitsky & Ekiert 2017 | fabricated | E21 |
# | [18] | "Language models are few-shot learners", Radford et al. 2022 | real title, invented authors | E22 |
# | [20] | Arjovsky, Chintala & Bottou 2017, WGAN | OK | ICML 2017 {cite}`arjovsky2017wgan` |
# | [22] | Dosovitskiy, Springenberg & Brox 2019, ViT | real, wrong authors and year | E23 |
# | [26], [34] | He et al. 2016, ResNet | OK (duplicate) | CVPR 2016 |
# | [27], [35] | Huang et al. 2017, DenseNet | OK (duplicate; [32] repeats it too) | CVPR 2017 |
# | [28], [38] | Deng et al. 2009, ImageNet | OK (duplicate) | CVPR 2009 |
# | [29], [37] | Krizhevsky, Sutskever & Hinton 2012, AlexNet | OK (duplicate) | NIPS 2012 |
# | [30], [36] | Simonyan & Zisserman 2014, VGG | OK (duplicate) | ICLR 2015 |
# | [31], [33] | Szegedy et al. "2013", GoogLeNet | real, wrong year | CVPR 2015; E24 |
# | [32] | Huang et al. "2018", DenseNet | real, wrong year | CVPR 2017; E24 |

# %% [markdown]
# ## Summary
#
# The entries whose check ran on this page (a check that serves entries of several articles counts
# them all). The [summary of the appendix](errata.ipynb) counts the checks of all five pages.

# %%


print(f"{len(CHECKED)} entries have an executable check that passed on this page:")
print(", ".join(sorted(CHECKED, key=entry_number)))
assert len(CHECKED) == 20  # update when a check is added
