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
# # Errata of Article B: AIGC concepts and short-video creation

# %% tags=["remove-input"]
from aigc_course.plotting import page_info

page_info("errata_b")

# %% [markdown]
# Article B (source file `001_462d302aa808bfd9.txt`) has no title of its own: it presents AIGC concepts
# and AI-assisted short-video creation. It covers history, GAN/VAE/attention concepts, probability
# basics, GAN and VAE losses, and a TensorFlow "short-video GAN". This page lists its **17 entries** (9 major, 8 minor), E25–E40 and E103.
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
import re
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.distributions import Normal, kl_divergence

import aigc_course as ac
from aigc_course import data, losses, metrics
from aigc_course.config import VAEConfig
from aigc_course.errata_checks import (
    CheckRecord, accuracy, error_of, fit_logistic_d, entry_number,
)
from aigc_course.nn import View
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
# | E26 | B | major | "Generator objective $\min_G\max_D V$" with $V=-\mathbb{E}_x[\log D(x)]-\mathbb{E}_z[\log(1-D(G(z)))]$, then "discriminator objective $\min_D V$". | $V=+\mathbb{E}_x[\log D(x)]+\mathbb{E}_z[\log(1-D(G(z)))]$ inside $\min_G\max_D$. The article's $V$ is the discriminator's BCE loss: $\max_D$ of it has no solution, and the second line contradicts the first. | {cite}`goodfellow2014gan`, eq. 1; [section 2.1](../02_gan_math/01_minimax.ipynb). Check. | article's version |
# | E29 | B | major | The overall GAN loss is $\mathcal L_{GAN}=\mathcal L_D+\mathcal L_G$. | Two players, two losses: $D$ minimises $\mathcal L_D$ in $\theta_d$, $G$ minimises $\mathcal L_G$ in $\theta_g$, in alternation. Summed, the gradient at the fake logit is $2D(G(z))-1$: it vanishes at $D=\tfrac12$ whatever $p_g$ is, and pushes $D(G(z))$ *down* above $\tfrac12$. | {cite}`goodfellow2014gan`; [section 2.2](../02_gan_math/02_gradients.ipynb). Check (with E81). | article's version |
# | E32 | B | major | Early in training the discriminator finds it hard to tell real from generated, and its scores fluctuate; only later does it separate them. | Early on the generator is poor and $D$ rejects its samples confidently. That is exactly when $\log(1-D(G(z)))$ saturates, which is why the non-saturating loss is used. | {cite}`goodfellow2014gan`, section 3; [section 2.2](../02_gan_math/02_gradients.ipynb). Check. | correct statement |
# | E33 | B | major | At the balance point the discriminator can accurately distinguish real from generated images. | At the optimum $p_g=p_{data}$, so $D^*(x)=\tfrac12$ everywhere: $D$ **cannot** distinguish them, and $V=-\log 4$. | {cite}`goodfellow2014gan`, Prop. 1 and Thm. 1; [section 2.1](../02_gan_math/01_minimax.ipynb). Check. | correct statement |

# %% [markdown]
# **Check E26.** Take $p_g=p_{data}$. Then $V$ depends on $D$ only through $\log D+\log(1-D)$ at each
# point, so a constant $D\equiv c$ loses nothing. The correct $V$ has its maximum $-\log 4$ at
# $c=\tfrac12$ ([section 2.1](../02_gan_math/01_minimax.ipynb)). The article's $V$ is the discriminator loss `gan_d_loss`, the negative of
# the correct one: it grows without bound as $c\to0$ or $c\to1$, so "$\max_D$" has no solution.

# %%
# constant D
c = torch.tensor([1e-8, 1e-4, 0.1, 0.3, 0.5, 0.7, 0.9, 1 - 1e-4], dtype=torch.float64)
t = torch.logit(c)
v_correct = torch.stack([-losses.gan_d_loss(ti.view(1), ti.view(1)) for ti in t])
v_article = torch.stack([losses.gan_d_loss(ti.view(1), ti.view(1)) for ti in t])
for ci, vc, va in zip(c.tolist(), v_correct.tolist(), v_article.tolist()):
    print(f"D = {ci:<8.4g} correct V = {vc:8.4f}   article's V = {va:8.4f}")
assert (c[v_correct.argmax()] == 0.5
        and math.isclose(v_correct.max().item(), -math.log(4), rel_tol=1e-12))
# -log(1e-8) = 18.4, and no bound
assert v_article[0] > v_article[1] > v_article[4] and v_article[0] > 18
passed("E26")

# %% [markdown]
# **Check E29 and E81.** Seen from a fake logit $a$ (with $D(G(z))=\sigma(a)$), the summed loss
# $\mathcal L_D+\mathcal L_G$ has gradient $2\sigma(a)-1$. It is zero at $D(G(z))=\tfrac12$ and
# positive above it, so descent pushes $D(G(z))$ back down: the generator stops trying to fool $D$.
# The non-saturating generator loss alone has gradient $-(1-\sigma(a))<0$ everywhere.

# %%
a = torch.linspace(-6, 6, 13, dtype=torch.float64, requires_grad=True)  # fake logits
real_logits = torch.zeros_like(a)  # the real term of L_D does not involve a
# the articles' single loss
summed = losses.gan_d_loss(real_logits, a) + losses.gan_g_nonsaturating(a)
(g_sum,) = torch.autograd.grad(summed * len(a), a)
(g_ns,) = torch.autograd.grad(losses.gan_g_nonsaturating(a) * len(a), a)
d_fake = torch.sigmoid(a.detach())
torch.testing.assert_close(g_sum, 2 * d_fake - 1)
torch.testing.assert_close(g_ns, -(1 - d_fake))
assert (g_ns < 0).all()  # the generator's own loss always asks for a larger D(G(z))
assert g_sum[6] == 0 and (g_sum[7:] > 0).all()  # the sum stalls at D = 1/2 and reverses above it
passed("E29", "E81")

# %% [markdown]
# **Check E32, E33 and E80.** We fit a logistic discriminator $D(x)=\sigma(wx+b)$ by minimising the
# discriminator loss (L-BFGS) in two situations.
#
# * *Early training* (E32): real data $\mathcal N(4,1)$, an untrained generator's samples
#   $\mathcal N(0,1)$. $D$ separates them easily, $D(G(z))$ is near 0, and there the saturating
#   generator loss has a tiny gradient while the non-saturating one does not.
# * *Equilibrium* (E33, E80): $p_g=p_{data}=\mathcal N(0,1)$. The fitted $D$ is $\tfrac12$ to within
#   sampling noise, its accuracy is 50 %, and $V=-\log 4$ ([section 2.1](../02_gan_math/01_minimax.ipynb)).

# %%


n = 20_000
fake = torch.randn(n, dtype=torch.float64)  # samples of the generator, N(0, 1)

# E32: early training, the generator is far from the data
real = 4 + torch.randn(n, dtype=torch.float64)
wb = fit_logistic_d(real, fake)
fake_logits = (wb[0] * fake + wb[1]).requires_grad_(True)
(g_sat,) = torch.autograd.grad(losses.gan_g_saturating(fake_logits), fake_logits)
(g_nonsat,) = torch.autograd.grad(losses.gan_g_nonsaturating(fake_logits), fake_logits)
d_fake_mean = torch.sigmoid(fake_logits).mean().item()
print(f"early: accuracy {accuracy(wb, real, fake):.3f}, mean D(G(z)) {d_fake_mean:.3f}, "
      f"gradient size saturating {g_sat.abs().sum():.4f} "
      f"vs non-saturating {g_nonsat.abs().sum():.4f}")
assert accuracy(wb, real, fake) > 0.95 and d_fake_mean < 0.1
assert g_nonsat.abs().sum() > 10 * g_sat.abs().sum()

# E33 and E80: equilibrium, p_g = p_data
real = torch.randn(n, dtype=torch.float64)
wb = fit_logistic_d(real, fake)
grid = torch.linspace(-3, 3, 7, dtype=torch.float64)
d_grid = torch.sigmoid(wb[0] * grid + wb[1])
v = -losses.gan_d_loss(wb[0] * real + wb[1], wb[0] * fake + wb[1]).item()
print(f"equilibrium: accuracy {accuracy(wb, real, fake):.3f}, "
      f"D on [-3, 3]: {np.round(d_grid.numpy(), 3)}, "
      f"V = {v:.4f} (-log 4 = {-math.log(4):.4f})")
assert (d_grid - 0.5).abs().max() < 0.05  # D is 1/2 (not 1, and not a confident classifier)
assert abs(accuracy(wb, real, fake) - 0.5) < 0.03
assert abs(v + math.log(4)) < 1e-3
passed("E32", "E33", "E80")

# %% [markdown]
# ## 2. VAE maths (3 entries)
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
# | E27 | B | minor | $\mathcal L(x,z)=\mathcal L_{RECON}(x,\hat x)+\mathcal L_{KL}(\hat z\Vert z)$: a KL between latent vectors. | A KL divergence compares **distributions**: $\mathcal L=-\mathbb{E}_{q_\phi(z\mid x)}[\log p_\theta(x\mid z)]+D_{KL}(q_\phi(z\mid x)\Vert p(z))$ with $p(z)=\mathcal N(0,I)$. | {cite}`kingma2014vae`; [section 3.3](../03_vae_math/03_kl.ipynb). Check (with E30). | correct statement |
# | E30 | B | major | "Encoder loss" $\frac1n\sum_x D_K(\mu(x),\log\sigma^2(x))$, a KL "between" $\mu$ and $\log\sigma^2$; the reconstruction is a separate "decoder loss". | $D_{KL}(\mathcal N(\mu,\operatorname{diag}\sigma^2)\Vert\mathcal N(0,I))=\tfrac12\sum_j(\mu_j^2+\sigma_j^2-\log\sigma_j^2-1)$ is a function **of** $(\mu,\sigma)$, not a divergence between them. Reconstruction gradients reach the encoder through $z=\mu+\sigma\odot\varepsilon$, so there is no encoder/decoder split of the loss. | {cite}`kingma2014vae`, appendix B; [section 3.3](../03_vae_math/03_kl.ipynb). Check. | article's version |
# | E31 | B | minor | $\log\sigma^2(x)$ is the encoder's estimate of the standard deviation (标准差估计). | $\log\sigma^2$ is the log-**variance**; the standard deviation is $\sigma=\exp(\tfrac12\log\sigma^2)$. | [Section 3.3](../03_vae_math/03_kl.ipynb). Check. | article's version |

# %% [markdown]
# **Check E27.** The KL term is a function of the distribution's parameters. The closed form
# (`losses.gaussian_kl`, [section 3.3](../03_vae_math/03_kl.ipynb)) equals `torch.distributions.kl_divergence` and a Monte Carlo
# estimate $\frac1S\sum_s[\log q(z_s)-\log p(z_s)]$, and it is 0 exactly at $(\mu,\log\sigma^2)=(0,0)$.

# %%
mu = torch.tensor([[0.5, -1.0, 2.0]], dtype=torch.float64)
logvar = torch.tensor([[0.0, -1.0, 0.7]], dtype=torch.float64)
q, p = Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)
closed = losses.gaussian_kl(mu, logvar)
reference = kl_divergence(q, p).sum(-1)
zs = q.sample((200_000,))  # (S, 1, 3)
monte_carlo = (q.log_prob(zs) - p.log_prob(zs)).sum(-1).mean(0)
print(f"closed form {closed.item():.4f}, torch.distributions {reference.item():.4f}, "
      f"Monte Carlo {monte_carlo.item():.4f}")
torch.testing.assert_close(closed, reference)
assert abs(closed - monte_carlo).item() < 0.03
assert losses.gaussian_kl(torch.zeros(1, 3), torch.zeros(1, 3)).item() == 0
passed("E27")

# %% [markdown]
# **Check E30.** Article B's split loss, run as written: the "encoder loss" is the KL term alone and the
# reconstruction is a separate "decoder loss", so no reconstruction gradient reaches the encoder (we stop
# it at $z$). We train the same MLP VAE as in the check of E02 (on [Article A's page](errata_a.ipynb)), from the same initial
# weights, with the same noise and for the same steps, once on the split loss and once on the ELBO, which
# gives the ELBO model of that check again. The KL alone pulls every code to the prior, $\mu(x)=0,\ \sigma(x)=1$ for every image:
# the encoder learns nothing about $x$, and the decoder can only output the average image. The ELBO,
# whose reconstruction gradient passes through $z=\mu+\sigma\odot\varepsilon$ into the encoder,
# reconstructs better than the average image.

# %%
def train_small_vae(loss_fn, images):
    """A 2-D-code MLP VAE on 8x8 images, 200 Adam steps of loss_fn(model, images); the same initial
    weights and noise for every loss (as in the check of E02)."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = build_vae(VAEConfig(kind="mlp", z_dim=2, img_size=8, hidden=32))
        opt = torch.optim.Adam(model.parameters(), lr=5e-3)
        for _ in range(200):
            opt.zero_grad()
            loss_fn(model, images).backward()
            opt.step()
    return model


def elbo_loss(model, images: torch.Tensor) -> torch.Tensor:
    return model.loss(images)[0]  # mean negative ELBO


def article_b_loss(model, images: torch.Tensor) -> torch.Tensor:
    """Article B: encoder loss = KL(mu, log sigma^2) alone; decoder loss = reconstruction."""
    mu, logvar = model.encode(images)
    encoder_loss = losses.gaussian_kl(mu, logvar).mean()
    z = (mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)).detach()  # none to the encoder
    decoder_loss = -model.log_px(images, model.decode(z)).mean()
    return encoder_loss + decoder_loss


digits = data.digits()
x8 = metrics.to_model_space(digits.images[:512])  # the 8x8 digits of the check of E02
split_model = train_small_vae(article_b_loss, x8)  # the same start as the models of E02
vae = train_small_vae(elbo_loss, x8)  # the ELBO model of the check of E02

average_image_mse = (x8 - x8.mean(dim=0)).pow(2).mean().item()
with torch.no_grad():
    for name, model in (("article B", split_model), ("ELBO", vae)):
        mu, _ = model.encode(x8)
        code_spread = mu.var(dim=0).sum().item()  # how much the codes vary from image to image
        mse = (model.reconstruct(x8) - x8).pow(2).mean().item()
        print(f"{name:>9}: variance of the codes over images {code_spread:.5f}, "
              f"reconstruction MSE {mse:.4f} (average image: {average_image_mse:.4f})")
        if name == "article B":
            spread_b, mse_b = code_spread, mse
        else:
            spread_e, mse_e = code_spread, mse
assert spread_b < 1e-3 < 0.1 < spread_e  # Article B's codes carry nothing about x
assert abs(mse_b - average_image_mse) < 0.01 * average_image_mse  # ... so it decodes the average
assert mse_e < 0.9 * average_image_mse  # the ELBO's encoder learned the images
passed("E30")

# %% [markdown]
# **Check E31.** The encoder of the VAE trained on the ELBO in the check of E30 (the ELBO model of
# the check of E02) outputs $\log\sigma^2$. Read as the
# standard deviation, as the article says, most of its values are negative, which no standard deviation
# can be. Sampling $z=\mu+\log\sigma^2\odot\varepsilon$ with it gives the wrong spread: decoded, those
# codes reconstruct the digits worse than the average image does, while the correct
# $z=\mu+\exp(\tfrac12\log\sigma^2)\odot\varepsilon$ reconstructs them better.

# %%
@torch.no_grad()
def sampled_mse(std: torch.Tensor) -> float:
    """Reconstruction MSE of the digits decoded from z = mu + std * eps."""
    return (vae.to_image(vae.decode(mu + std * eps)) - x8).pow(2).mean().item()


with torch.no_grad():
    mu, logvar = vae.encode(x8)  # (512, 2) each
eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(2))
mse_right, mse_article = sampled_mse(torch.exp(0.5 * logvar)), sampled_mse(logvar)
negative = (logvar < 0).double().mean().item()
print(f"'standard deviations' below 0: {negative:.0%}; reconstruction MSE with sigma = "
      f"exp(logvar / 2) {mse_right:.3f}, with sigma = logvar (the article) {mse_article:.3f}, "
      f"average image {average_image_mse:.3f}")
assert negative > 0.5
assert mse_right < average_image_mse < mse_article
passed("E31")

# %% [markdown]
# ## 3. Probability (1 entry)
#
# | ID | Art. | Sev. | The article says | What is right | Evidence | Kind of check |
# |---|---|---|---|---|---|---|
# | E28 | B | minor | Covariance is a measure of the *difference* between two random variables (随机变量之间差异的度量). | $\mathrm{Cov}(X,Y)=\mathbb{E}[(X-\mathbb{E}X)(Y-\mathbb{E}Y)]$ measures how two variables vary **together**; it is not a distance between them. (The article's formula is right; its wording is not.) | [Section 1.2](../01_concepts/02_probability.ipynb). Check. | illustration |

# %% [markdown]
# **Check E28.** $X$ and $X+5$ always differ by 5, yet $\mathrm{Cov}(X,X+5)=\mathrm{Var}(X)>0$;
# $\mathrm{Cov}(X,-X)=-\mathrm{Var}(X)<0$. Covariance measures co-variation, not difference.

# %%
rng = np.random.default_rng(0)
X = rng.normal(size=100_000)
cov_shift, cov_neg, var = np.cov(X, X + 5)[0, 1], np.cov(X, -X)[0, 1], X.var(ddof=1)
print(f"Cov(X, X+5) = {cov_shift:.4f}, Cov(X, -X) = {cov_neg:.4f}, Var(X) = {var:.4f}")
assert math.isclose(cov_shift, var, rel_tol=1e-9) and math.isclose(cov_neg, -var, rel_tol=1e-9)
passed("E28")


# %% [markdown]
# ## 5. Code (2 entries)
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
# | E34 | B | major | The training loop uses `fake_images` without generating them; `noise_dim`, `optimizer`, `compute_discriminator_loss`, `compute_generator_loss`, `np`, `MaxPooling2D`, `load_video_dataset`, `preprocess_videos` are never defined or imported; one optimizer serves both networks. | Compute `fake = G(noise)` inside the discriminator's tape, define the BCE losses (from logits), and use one optimizer per player (DCGAN: Adam, lr $2\times10^{-4}$, $\beta_1=0.5$). | {cite}`radford2016dcgan`. Check (names used but never defined), with E13 on [Article A's page](errata_a.ipynb). | article's version |
# | E35 | B | major | The project's goal is to "use a GAN to generate high-quality short videos" (使用GAN生成高质量的短视频). Its `build_generator(input_shape)` begins with `Reshape((input_shape[0], input_shape[1], 1), input_shape=input_shape)`, applies six stride-1 `Conv2D` layers, `Flatten`, `Dense(128, activation='relu')` and `Dense(np.prod(input_shape), activation='tanh')`, and ends with `Reshape(input_shape)`; `generate_videos(generator, num_videos, video_length)` calls `generator.predict` on noise of shape `(num_videos, noise_dim)` and never uses `video_length`. | The generator takes a 2-D frame of shape `input_shape` and returns one of the same shape. Built for the noise, `input_shape=(noise_dim,)`, its first line fails (there is no `input_shape[1]`); built for frames, it cannot take the noise that `generate_videos` feeds it. Either way it has no time axis, so it cannot make a video of `video_length` frames. A video generator maps noise to frames $\times$ height $\times$ width, e.g. with 3-D (space-time) transposed convolutions (Vondrick, Pirsiavash & Torralba, "Generating Videos with Scene Dynamics", NeurIPS 2016) or with separate content and motion codes (Tulyakov, Liu, Yang & Kautz, "MoCoGAN: Decomposing Motion and Content for Video Generation", CVPR 2018). | Check. | article's version |

# %% [markdown]
# **Check E35.** Article B's `build_generator` and `generate_videos` in PyTorch, layer for layer
# (Keras's `Reshape`, `"same"` `Conv2D`, `Flatten` and `Dense` become `View`, `Conv2d(padding=1)`,
# `Flatten` and `Linear`), against a minimal video generator made of 3-D transposed convolutions (in
# the spirit of Vondrick et al. 2016). We ask each for two videos of 8 frames of 16×16 pixels. Built
# for the noise, the article's generator fails on its first line; built for 16×16 frames, it refuses
# the noise and, given a frame, returns a frame. The video generator returns the videos.

# %%
def article_build_generator(input_shape: tuple[int, ...]) -> nn.Sequential:
    """Article B's build_generator(input_shape), channels first."""
    h, w = input_shape[0], input_shape[1]  # Reshape((input_shape[0], input_shape[1], 1), ...)
    convs = []
    for c_in, c_out in ((1, 32), (32, 32), (32, 64), (64, 64), (64, 128), (128, 128)):
        convs += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU()]  # Conv2D(c_out, (3, 3), same)
    return nn.Sequential(View(1, h, w), *convs, nn.Flatten(),
                         nn.Linear(128 * h * w, 128), nn.ReLU(),  # Dense(128, relu)
                         nn.Linear(128, math.prod(input_shape)), nn.Tanh(),  # Dense(prod, tanh)
                         View(*input_shape))  # Reshape(input_shape)


def article_generate_videos(generator: nn.Module, num_videos: int, video_length: int,
                            noise_dim: int = 100) -> torch.Tensor:
    noise = torch.randn(num_videos, noise_dim)  # np.random.normal(0, 1, (num_videos, noise_dim))
    return generator(noise)  # generator.predict(noise); video_length is never used


def video_generator(noise_dim: int, frames: int, size: int) -> nn.Sequential:
    """Noise (B, noise_dim) -> videos (B, 1, frames, size, size): 3-D transposed convolutions."""
    return nn.Sequential(
        View(noise_dim, 1, 1, 1),
        nn.ConvTranspose3d(noise_dim, 32, (frames // 4, size // 4, size // 4)),  # (B, 32, T/4..)
        nn.BatchNorm3d(32), nn.ReLU(),
        nn.ConvTranspose3d(32, 16, 4, 2, 1), nn.BatchNorm3d(16), nn.ReLU(),  # (B, 16, T/2, ...)
        nn.ConvTranspose3d(16, 1, 4, 2, 1), nn.Tanh(),  # (B, 1, T, H, W)
    )


num_videos, video_length, size = 2, 8, 16
with torch.no_grad():
    err = error_of(lambda: article_build_generator((100,)))  # built for the noise
    assert isinstance(err, IndexError)
    frame_generator = article_build_generator((size, size))  # built for frames
    err = error_of(lambda: article_generate_videos(frame_generator, num_videos, video_length))
    assert isinstance(err, RuntimeError) and "invalid for input of size 200" in str(err)
    frames_out = frame_generator(torch.zeros(num_videos, size, size))
    assert frames_out.shape == (num_videos, size, size)  # a frame in, a frame out: no time axis
    videos = video_generator(100, video_length, size)(torch.randn(num_videos, 100))
print("article's generator, given frames:", tuple(frames_out.shape),
      " video generator:", tuple(videos.shape))
assert videos.shape == (num_videos, 1, video_length, size, size)
passed("E35")


# %% [markdown]
# ## 6. Concepts and history (1 entry)
#
# | ID | Art. | Sev. | The article says | What is right | Evidence | Kind of check |
# |---|---|---|---|---|---|---|
# | E25 | B | minor | AIGC goes back to the 1990s, and its real breakthrough came in the early 2000s with deep learning. | Computer-generated content is much older: the Illiac Suite (algorithmic music, 1957) and ELIZA (1966). The deep-learning breakthroughs were 2006 (deep belief nets) and 2012 (AlexNet). Deep generative models came with the VAE (arXiv December 2013) and the GAN (2014), then Transformers (2017) and diffusion models (2015, {cite}`sohldickstein2015deep`; competitive with GANs from DDPM, 2020, {cite}`ho2020ddpm`). | [Section 1.1](../01_concepts/01_what_is_aigc.ipynb). Check (timeline). | illustration |

# %% [markdown]
# **Check E25, E54, E56, E58.** A timeline from the course bibliography: convolutional networks
# (LeCun et al. 1998) long before AlexNet (2012), attention for translation (Bahdanau et al. 2015) before
# the Transformer (2017), GANs in 2014, not the 1980s, and diffusion models in 2015 (Sohl-Dickstein et
# al.), five years before DDPM (Ho et al. 2020).

# %%
def bib_years() -> dict[str, int]:
    """{key: year} of every entry in the course's references.bib (found from this page upwards)."""
    here = Path.cwd().resolve()
    bib = next(p / "references.bib" for p in (here, *here.parents)
               if (p / "references.bib").exists())
    years = {}
    for entry in re.split(r"\n(?=@)", bib.read_text(encoding="utf-8")):
        key, year = (re.match(r"@\w+\{([^,]+),", entry),
                     re.search(r"year\s*=\s*[{\"]?(\d{4})", entry))
        if key and year:
            years[key.group(1).strip()] = int(year.group(1))
    return years


years = bib_years()
timeline = ["lecun1998gradient", "kingma2014vae", "goodfellow2014gan", "bahdanau2015attention",
            "sohldickstein2015deep", "vaswani2017attention", "ho2020ddpm"]
for key in sorted(timeline, key=years.get):
    print(years[key], key)
alexnet = 2012  # Krizhevsky, Sutskever & Hinton, NIPS 2012 (not in the bibliography)
# E58, E25: not the 1980s
assert years["goodfellow2014gan"] == 2014 and years["kingma2014vae"] >= 2013
assert min(years[k] for k in ("kingma2014vae", "goodfellow2014gan", "ho2020ddpm")) >= 2013  # E25
# E25: diffusion models date from 2015; DDPM (2020) made them competitive
assert years["sohldickstein2015deep"] == 2015 < years["ho2020ddpm"] == 2020
assert years["lecun1998gradient"] < alexnet  # E54: CNNs predate AlexNet
# E56: attention predates the Transformer
assert years["bahdanau2015attention"] < years["vaswani2017attention"]
passed("E25", "E54", "E56", "E58")

# %% [markdown]
# ## 7. Applications and evaluation (2 entries)
#
# | ID | Art. | Sev. | The article says | What is right | Evidence | Kind of check |
# |---|---|---|---|---|---|---|
# | E36 | B | minor | AIGC does personalised video recommendation and content moderation; given an audio waveform, a generator produces the lyrics. | Recommendation and moderation are ranking and classification (discriminative) tasks; audio to lyrics is speech recognition. They are neighbouring AI, not GAN/VAE applications. | [Section 1.1](../01_concepts/01_what_is_aigc.ipynb) (generative vs discriminative). | — |
# | E103 | B | minor | Automated review before upload "ensures" (确保) that a platform's content is compliant. | A moderation model is a classifier with error rates. At platform scale even very good rates let violations through and flag many innocent videos, so automated review reduces the human reviewers' load but ensures nothing; report its miss and false-alarm rates at the platform's base rate. | [Section 5.6](../05_applications/06_responsible.ipynb) (base rates of detectors). Check. | illustration |

# %% [markdown]
# **Check E103.** A moderation classifier far better than real ones, catching 99% of violating videos and
# flagging 1% of the others, on a platform where one upload in a thousand violates the rules: "ensures
# compliance" would mean no violation gets through.

# %%
uploads, base_rate, tpr, fpr = 1_000_000, 0.001, 0.99, 0.01
violating = uploads * base_rate
missed = violating * (1 - tpr)                   # violations published anyway
false_alarms = (uploads - violating) * fpr       # innocent videos held back
flag_precision = violating * tpr / (violating * tpr + false_alarms)
print(f"per {uploads:,} uploads: {missed:.0f} violations published, "
      f"{false_alarms:,.0f} innocent videos flagged; "
      f"{flag_precision:.1%} of the flagged videos really violate the rules")
assert missed > 0 and false_alarms > 10 * violating * tpr  # not ensured, and most alarms are false
passed("E103")

# %% tags=["hide-input"]
glue("e103_missed", missed, display=False)
glue("e103_precision", flag_precision, display=False)

# %% [markdown]
# {glue:text}`e103_missed:.0f` violating videos per million uploads are published anyway, and only
# {glue:text}`e103_precision:.1%` of the flagged ones really violate the rules: automated review needs
# human review behind it, and "ensures" is the wrong word.

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
# | E37 | B | major | "Ganapati" / "GANapati", a Python library that simplifies GANs, at `github.com/jtseng/ganapati` | fabricated (not found) | No such library was found; use plain PyTorch (`torch.nn`) or the course package. | — |
# | E38 | B | minor | "Attention Is All You Need", listed under books | real paper, wrong type | Vaswani et al., NeurIPS 2017 {cite}`vaswani2017attention`. | — |
# | E39 | B | major | "Variational Autoencoders: A Review" (Hannun et al. 2018) | fabricated | Real reviews: Kingma & Welling, "An Introduction to Variational Autoencoders", 2019 {cite}`kingma2019introduction`; Doersch, "Tutorial on Variational Autoencoders", arXiv:1606.05908, 2016. | — |
# | E40 | B | minor | Books 《生成对抗网络：入门…》 (by 李航 et al.), 《自编码器与变分自编码器…》 (by 曹志宏), "Generative Adversarial Networks: An Introduction"; the survey "Unsupervised Representation Learning" | unverified | None could be identified (Li Hang's known books are 《统计学习方法》 and 《机器学习方法》, neither about GANs); do not cite. Real: Blei, Kucukelbir & McAuliffe, "Variational Inference: A Review for Statisticians", *JASA* 2017; Goodfellow, Bengio & Courville, *Deep Learning*, MIT Press 2016. | — |

# %% [markdown]
# ### Every work the articles cite
#
# For completeness, every cited work, including those the articles get right.
#
# **Article B**:
#
# | As cited | Status | Correct form |
# |---|---|---|
# | *Deep Learning*, Goodfellow et al. | OK | MIT Press 2016 |
# | *Generative Adversarial Networks: An Introduction* | unverified | E40 |
# | "Generative Adversarial Nets", Goodfellow 2014 | OK | {cite}`goodfellow2014gan` |
# | DCGAN, Radford et al. 2016 | OK | {cite}`radford2016dcgan` |
# | "Ganapati" library | fabricated | E37 |
# | "Variational Autoencoders: A Review", Hannun et al. 2018 | fabricated | E39 |
# | "Attention Is All You Need", as a book | real paper, wrong type | E38 |
# | "Variational Inference: A Review for Statisticians" | OK | Blei, Kucukelbir & McAuliffe, *JASA* 2017 |
# | "Unsupervised Representation Learning" (survey) | unverified | E40 |
# | Two Chinese books on GANs and on autoencoders | unverified | E40 |
# | TensorFlow and Keras sites and tutorials; Coursera's deep-learning specialization | OK | the Keras `/tutorials` path is outdated |
# | deeplearning.net; aitechtoday.com | unverified | deeplearning.net was the Theano-era LISA lab site and is no longer maintained |

# %% [markdown]
# ## Summary
#
# The entries whose check ran on this page (a check that serves entries of several articles counts
# them all). The [summary of the appendix](errata.ipynb) counts the checks of all five pages.

# %%


print(f"{len(CHECKED)} entries have an executable check that passed on this page:")
print(", ".join(sorted(CHECKED, key=entry_number)))
assert len(CHECKED) == 16  # update when a check is added
