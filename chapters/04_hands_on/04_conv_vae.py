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
# # 4.4 A convolutional VAE
#
# Part III derived the **variational auto-encoder** (变分自编码器, VAE) {cite}`kingma2014vae`: an encoder gives
# a Gaussian $q(z \mid x) = \mathcal N(\mu(x), \operatorname{diag}\sigma^2(x))$, a decoder gives $p(x \mid z)$,
# and training maximises the evidence lower bound (证据下界, ELBO)
#
# $$ \mathcal L(x) = \mathbb E_{q(z \mid x)}[\log p(x \mid z)] - \mathrm{KL}\big(q(z \mid x)\,\|\,p(z)\big)
#    \le \log p(x) . $$
#
# Here we train it on Fashion-MNIST with convolutional networks and look at what it learnt: reconstructions,
# samples, a two-dimensional latent space we can draw, and what happens when the KL term is weighted by a
# factor $\beta$ {cite}`higgins2017betavae`.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import aigc_course as ac
from aigc_course import data, losses, plotting, recipes
from aigc_course.exercises import ch4
from aigc_course.train import train_vae

ac.set_seed(0)
dev = ac.device()
print(ac.describe(dev))
QUICK = ac.profile() == "quick"
train, test = data.fashion_mnist("train"), data.fashion_mnist("test")
x_test = (test.images[:1000].float() / 127.5 - 1).to(dev)  # (1000, 1, 28, 28) in [-1, 1]

# %% [markdown]
# ## The model
#
# The encoder halves the side twice with strided convolutions (28 → 14 → 7) and a linear layer outputs
# $(\mu, \log\sigma^2)$, $2 \times 16$ numbers; the decoder mirrors it with transposed convolutions. There is
# no batch norm, so every image is encoded on its own. The decoder outputs one **logit** per pixel, and the
# reconstruction term is the binary cross-entropy between the sigmoid of that logit and the pixel's grey level
# scaled to $[0, 1]$, summed over the 784 pixels. This is the usual choice, but be precise about what it is:
# a Bernoulli distribution is defined on $\{0, 1\}$, so for grey levels in between this "$-\log p(x \mid
# z)$" is not the log of a normalised density (3.4 shows the missing normaliser), and the loss is a training
# objective, not a bound on a real likelihood. 4.5 reports it as a score, and measures a real likelihood on
# binarised images.

# %%
recipe = recipes.get_recipe("vae-fashion")
print(recipe.description)
vae = recipes.load_or_train("vae-fashion", device=dev)
print(vae)
with torch.no_grad():
    mu, logvar = vae.encode(x_test[:4])
    logits = vae.decode(mu)
assert mu.shape == logvar.shape == (4, 16) and logits.shape == (4, 1, 28, 28)

# %% [markdown]
# ### Checking the loss
#
# `vae.loss(x, beta)` returns the mean negative ELBO and its two parts: `recon` $= -\overline{\log p(x\mid z)}$
# and `kl` $= \overline{\mathrm{KL}}$. The loss must equal $\text{recon} + \beta\cdot\text{KL}$ from the same
# call (the reparameterised $z$ is random, so two calls differ). The KL of two Gaussians is non-negative for
# every image, and the closed form (3.3) must agree with `torch.distributions`.

# %%
with torch.no_grad():
    for beta in (1.0, 4.0):
        loss, parts = vae.loss(x_test[:256], beta=beta)
        torch.testing.assert_close(loss, parts["recon"] + beta * parts["kl"])
        print(f"beta={beta}: loss {loss:.2f} = recon {parts['recon']:.2f} + "
              f"{beta} x KL {parts['kl']:.2f}")
    mu, logvar = vae.encode(x_test)
    kl = losses.gaussian_kl(mu, logvar)                                   # (1000,)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    torch.testing.assert_close(kl, torch.distributions.kl_divergence(q, p).sum(dim=1),
                               rtol=1e-4, atol=1e-4)
assert (kl >= 0).all()
print(f"KL per test image: min {kl.min():.2f}, mean {kl.mean():.2f}, max {kl.max():.2f} nats")

# %% [markdown]
# ## Reconstructions and samples
#
# Top row: test images. Bottom row: the decoder's mean image for the encoder's mean $\mu(x)$
# (`vae.reconstruct`).

# %%
with torch.no_grad():
    recon = vae.reconstruct(x_test[:12])
plotting.show_grid(torch.cat([x_test[:12], recon]).cpu(), nrow=12,
                   row_labels=["input", "reconstruction"], figsize=9)
plt.show()
mse = (recon - x_test[:12]).pow(2).mean().item()
print(f"mean squared error per pixel (images in [-1, 1]): {mse:.4f}")
assert mse < 0.1

# %% [markdown]
# The reconstructions keep the shape and the overall brightness but lose fine texture: prints, logos, the
# stitching of a sneaker. Sixteen latent numbers cannot store every detail, and the Bernoulli decoder shows its
# *mean* image, which averages over the details it is unsure of.
#
# Samples: draw $z \sim \mathcal N(0, I)$ and decode.

# %%
with torch.no_grad():
    samples = vae.sample(64, generator=torch.Generator().manual_seed(0)).cpu()
plotting.show_grid(samples, nrow=8, title="64 samples of vae-fashion (decoder means)", figsize=6)
plt.show()
assert samples.shape == (64, 1, 28, 28) and samples.min() >= -1 and samples.max() <= 1

# %% [markdown]
# The samples are plausible garments but blurrier than the GAN's of 4.2. Two reasons, both from the
# objective: the decoder's mean is an average over the images that could have produced $z$, and the ELBO
# punishes *missing* any training image (the reconstruction term acts as a log-likelihood) far more than it
# punishes putting probability on blurry images in between. A GAN's discriminator punishes exactly those. 4.5
# measures the difference.
#
# ## A latent space you can see
#
# With a two-dimensional latent space (`vae2d-fashion`, same architecture with $z \in \mathbb R^2$) the whole
# model fits in two pictures. Left: decode a grid of $z$ over $[-3, 3]^2$, where the prior puts almost all its
# mass. Right: the encoder means $\mu(x)$ of test images, coloured by their class (the model never saw the
# labels).

# %%
vae2d = recipes.load_or_train("vae2d-fashion", device=dev)
n_side = 15
ticks = torch.linspace(-3, 3, n_side)
z1, z2 = torch.meshgrid(ticks, ticks.flip(0), indexing="xy")  # z1 grows to the right, z2 upwards
# read row by row like the image grid
z_grid = torch.stack([z1, z2], dim=-1).reshape(-1, 2)        # (225, 2)
with torch.no_grad():
    tiles = vae2d.to_image(vae2d.decode(z_grid.to(dev))).cpu()          # (225, 1, 28, 28)
    mu2d, _ = vae2d.encode((test.images[:5000].float() / 127.5 - 1).to(dev))
mu2d = mu2d.cpu()

fig, axes = plt.subplots(1, 2, figsize=(14, 6.5))
axes[0].imshow(plotting.make_grid(tiles, nrow=n_side, padding=0), cmap="gray",
               extent=(-3, 3, -3, 3))
axes[0].set_xlabel("$z_1$")
axes[0].set_ylabel("$z_2$")
axes[0].set_title("decoded grid of z")
scatter = axes[1].scatter(mu2d[:, 0], mu2d[:, 1], c=test.labels[:5000], cmap="tab10", s=3)
axes[1].legend(scatter.legend_elements()[0], test.classes, fontsize=8, loc="upper right",
               markerscale=1.5)
axes[1].set_xlim(-3.5, 3.5)
axes[1].set_ylim(-3.5, 3.5)
axes[1].set_aspect("equal")
axes[1].set_title("encoder means of 5 000 test images")
plt.show()
assert tiles.shape == (n_side**2, 1, 28, 28) and mu2d.shape == (5000, 2)
print(f"share of test means inside [-3, 3]^2: {(mu2d.abs() <= 3).all(dim=1).float().mean():.1%}")

# %% [markdown]
# The two pictures are the same map. Regions of the latent plane that decode to trousers on the left hold the
# trousers on the right; footwear (sandal, sneaker, ankle boot) forms its own region, and the four upper-body
# classes (T-shirt, pullover, coat, shirt) overlap, exactly the classes a classifier confuses. The KL term pulls
# the means towards the origin, so the classes pack into a disc instead of spreading out, and the decoder
# must make sense of every point in between: moving in $z$ morphs one garment smoothly into another.
#
# ## The β trade-off
#
# Weighting the KL term by $\beta$ gives the β-VAE objective {cite}`higgins2017betavae`
#
# $$ \text{loss} = \underbrace{-\mathbb E_q[\log p(x \mid z)]}_{\text{recon}} + \beta\,
#    \underbrace{\mathrm{KL}(q(z \mid x)\,\|\,p(z))}_{\text{rate}} . $$
#
# The KL term is the **rate** (码率): the average number of nats the code $z$ carries about $x$ beyond the
# prior. $\beta > 1$ makes information in $z$ expensive: the model keeps less of it, reconstructs worse, and
# switches latent dimensions off entirely (the extreme is **posterior collapse** (后验坍缩), where
# $q(z \mid x) = p(z)$ for every $x$ {cite}`bowman2016generating`). $\beta < 1$ buys sharper reconstructions
# with a code the prior describes less well, so samples from the prior get worse. We train the same model
# briefly with three values of β, from the same initial weights, and measure both terms on test images.

# %%
betas = [0.5, 1.0, 4.0] if QUICK else [0.25, 0.5, 1.0, 2.0, 4.0, 8.0]
sweep_steps = 150 if QUICK else 3000
rows = []
for beta in betas:
    cfg = recipe.config().replace(steps=sweep_steps, beta=beta, log_every=sweep_steps,
                                  sample_every=0)
    ac.set_seed(cfg.seed)  # the same initial weights and data order for every beta
    model = recipe.build()["model"].to(dev)
    train_vae(model, recipes.make_data(recipe, device=dev), cfg, progress=False)
    with torch.no_grad():
        mu, logvar = model.encode(x_test)
        recon_nats = -model.log_px(
            x_test, model.decode(mu + torch.exp(0.5 * logvar) * torch.randn_like(mu))).mean()
        rate = losses.gaussian_kl(mu, logvar).mean()
    rows.append((beta, recon_nats.item(), rate.item()))

print(f"{sweep_steps} steps each, measured on 1 000 test images")
print(f"{'beta':>6} {'recon (nats)':>13} {'KL (nats)':>10} {'-ELBO (beta=1)':>15}")
for beta, rec, rate in rows:
    print(f"{beta:>6} {rec:>13.1f} {rate:>10.2f} {rec + rate:>15.1f}")

fig, ax = plt.subplots(figsize=(5, 4))
ax.plot([r[2] for r in rows], [r[1] for r in rows], "o-")
for beta, rec, rate in rows:
    ax.annotate(f"β={beta}", (rate, rec), textcoords="offset points", xytext=(6, 4))
ax.set_xlabel("rate: KL(q(z|x) || p(z)) (nats)")
ax.set_ylabel("distortion: −log p(x|z) (nats)")
ax.set_title("rate–distortion trade-off")
plt.show()
rates, recons = [r[2] for r in rows], [r[1] for r in rows]
assert rates == sorted(rates, reverse=True), "a larger beta must give a smaller KL"
assert recons == sorted(recons), "... and a worse reconstruction"

# %% [markdown]
# Larger β moves along the curve to the left: fewer nats in the code, worse reconstructions. Only β = 1
# optimises a bound on $\log p(x)$ (the column "−ELBO (β=1)"), which is why the shipped models use it. The
# short trainings here are far from converged; the ordering is the point, and it appears within a few hundred
# steps.
#
# ## Exercises
#
# **Exercise 4.4a: the β-VAE loss.** Write `beta_vae_loss(recon, kl, beta)`: the batch loss from the
# per-image reconstruction term `recon` $= -\log p(x \mid z)$ and the per-image KL (1-D tensors).

# %%
def beta_vae_loss(recon, kl, beta):
    ...  # your code


ch4.q44a.check(beta_vae_loss);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def beta_vae_loss(recon, kl, beta):
#     return (recon + beta * kl).mean()
# ```
# β weighs the KL, the price of information in $z$. Putting it on the reconstruction term instead,
# $\beta\cdot\text{recon} + \text{KL}$, gives the same minimiser as a β-VAE with $1/\beta$, the *opposite* trade-off.
# :::

# %% tags=["hide-cell"]
def beta_vae_loss(recon, kl, beta):
    return (recon + beta * kl).mean()


assert ch4.q44a.check(beta_vae_loss, quiet=True)

# %% [markdown]
# **Exercise 4.4b: active units.** Posterior collapse can hit single latent dimensions: the encoder ignores
# $x$ in them and the decoder ignores them. Burda et al. {cite}`burda2016iwae` call a dimension **active**
# when its mean varies with the input, $\operatorname{Var}_x(\mu_j(x)) > 0.01$. Write
# `active_units(mu, threshold=0.01)` returning how many dimensions are active, from the encoder means `mu` of
# shape (N, z_dim). Then apply it to the shipped model.

# %%
def active_units(mu, threshold=0.01):
    ...  # your code


ch4.q44b.check(active_units);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def active_units(mu, threshold=0.01):
#     return int((mu.var(dim=0) > threshold).sum())
# ```
# The variance is over the *data* (dim 0): a dimension whose mean is the same for every image carries no
# information about $x$, whatever its value.
# :::

# %% tags=["hide-cell"]
def active_units(mu, threshold=0.01):
    return int((mu.var(dim=0) > threshold).sum())


assert ch4.q44b.check(active_units, quiet=True)
with torch.no_grad():
    shipped_active = active_units(vae.encode(x_test)[0])
print(f"active units of the shipped vae-fashion: {shipped_active} / {vae.z_dim}")

# %% [markdown]
# ## Summary
#
# * A convolutional VAE: strided convolutions to $(\mu, \log\sigma^2)$, transposed convolutions back to one
#   Bernoulli logit per pixel; loss = recon + β·KL with KL ≥ 0 for every image.
# * Reconstructions and samples are blurry because the decoder outputs mean images and the loss punishes
#   missing data more than blur.
# * A 2-D latent space shows the structure: classes form regions, similar classes overlap, and the prior keeps
#   everything near the origin.
# * β trades rate (KL) against distortion (reconstruction): larger β, fewer active units, blurrier reconstructions.
