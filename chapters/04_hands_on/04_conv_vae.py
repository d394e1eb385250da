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

# %% tags=["remove-input"]
from aigc_course.plotting import page_info

page_info("04_conv_vae")

# %% [markdown]
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
import copy
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import aigc_course as ac
from aigc_course import data, losses, plotting, recipes
from aigc_course.exercises import ch4
from aigc_course.nn import count_parameters
from aigc_course.plotting import glue
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
# $(\mu, \log\sigma^2)$, {glue:text}`e44_zdim` numbers each; the decoder mirrors it with transposed
# convolutions. There is no batch norm, so every image is encoded on its own. To draw $z \sim q(z \mid x)$
# in a way gradients can pass through, the model uses the **reparameterisation** (重参数化) of 3.2:
# $z = \mu + \sigma \odot \varepsilon$ with $\varepsilon \sim \mathcal N(0, I)$ drawn independently of
# the weights.
#
# The decoder outputs one **logit** per pixel, and the reconstruction term is the binary cross-entropy
# between the sigmoid of that logit and the pixel's grey level scaled to $[0, 1]$, summed over the 784
# pixels. This is the usual choice, but be precise about what it is: a Bernoulli distribution is defined on
# $\{0, 1\}$, so for grey levels in between this "$-\log p(x \mid z)$" is not the log of a normalised
# density (3.4 shows the missing normaliser), and the loss is a training objective, not a bound on a real
# likelihood. 4.5 reports it as a score, and measures a real likelihood on binarised images.
#
# The whole model, written out:

# %%
class ConvVAE(nn.Module):
    """Convolutional VAE for (B, 1, 28, 28) images in [-1, 1] with a Bernoulli decoder."""

    def __init__(self, z_dim: int = 16, width: int = 32):
        super().__init__()
        w = width
        self.encoder = nn.Sequential(
            nn.Conv2d(1, w, 4, 2, 1), nn.ReLU(),                         # (B, w, 14, 14)
            nn.Conv2d(w, 2 * w, 4, 2, 1), nn.ReLU(),                     # (B, 2w, 7, 7)
            nn.Flatten(), nn.Linear(2 * w * 7 * 7, 2 * z_dim))           # (B, 2 z_dim)
        self.decoder = nn.Sequential(
            nn.Linear(z_dim, 2 * w * 7 * 7), nn.ReLU(),
            nn.Unflatten(1, (2 * w, 7, 7)),                              # (B, 2w, 7, 7)
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1), nn.ReLU(),            # (B, w, 14, 14)
            nn.ConvTranspose2d(w, 1, 4, 2, 1))                           # (B, 1, 28, 28) logits

    def encode(self, x):
        mu, logvar = self.encoder(x).chunk(2, dim=1)                     # (B, z_dim) each
        return mu, logvar.clamp(-30.0, 20.0)                   # exp(±logvar) stays finite

    def loss(self, x, eps):
        """Mean negative ELBO, -log p(x|z) and KL, for noise ``eps`` ~ N(0, I), (B, z_dim)."""
        mu, logvar = self.encode(x)
        z = mu + torch.exp(0.5 * logvar) * eps                           # reparameterisation
        recon = F.binary_cross_entropy_with_logits(                      # -log p(x|z), (B,)
            self.decoder(z), (x + 1) / 2, reduction="none").sum(dim=(1, 2, 3))
        kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=1)        # KL(q || N(0, I)), (B,)
        return (recon + kl).mean(), recon.mean(), kl.mean()


# %% [markdown]
# The package's `vae.ConvVAE` builds the same layers from a `VAEConfig` (and adds input checks, a Gaussian
# decoder option, sampling and the importance weights of 4.5). We load the shipped `vae-fashion` weights,
# copy them into our model tensor by tensor, and check parameter count, encoder and decoder outputs, and the
# loss for the same noise $\varepsilon$ (`vae.loss` draws it with `torch.randn_like`, so we seed both).

# %%
recipe = recipes.get_recipe("vae-fashion")
print(recipe.description)
vae = recipes.load_or_train("vae-fashion", device=dev)
shipped = recipes.pretrained("vae-fashion", device="cpu")         # SHA-256 checked
ours = ConvVAE(recipe.model.z_dim, recipe.model.width)
ours.load_state_dict(dict(zip(ours.state_dict(), shipped.state_dict().values())))
x8 = x_test[:8].cpu()
with torch.no_grad():
    mu, logvar = ours.encode(x8)
    mu_ref, logvar_ref = shipped.encode(x8)
    torch.testing.assert_close((mu, logvar), (mu_ref, logvar_ref))
    torch.testing.assert_close(ours.decoder(mu), shipped.decode(mu))
    torch.manual_seed(7)
    loss_ref, parts = shipped.loss(x8)
    torch.manual_seed(7)
    loss_ours, recon_ours, kl_ours = ours.loss(x8, torch.randn_like(mu))
torch.testing.assert_close((loss_ours, recon_ours, kl_ours),
                           (loss_ref, parts["recon"], parts["kl"]))
assert count_parameters(ours) == count_parameters(shipped)
print(f"{count_parameters(ours):,} parameters; same encoder, decoder and loss as vae.ConvVAE "
      f"(loss on 8 test images {loss_ours:.2f} = recon {recon_ours:.2f} + KL {kl_ours:.2f})")

# %% tags=["hide-input"]
glue("e44_zdim", recipe.model.z_dim, display=False)

# %% [markdown]
# The `clamp` in `encode` keeps the log-variance in [{glue:text}`e44_lv_lo:.0f`,
# {glue:text}`e44_lv_hi:.0f`], as the package's `vae.LOGVAR_RANGE`. The shipped encoder stays well inside
# (from {glue:text}`e44_trained_lv_lo:.1f` to {glue:text}`e44_trained_lv_hi:.1f` on test images, so the
# check above passes with or without the clamp), but early in training, or with a learning rate
# that is too large, one large log-variance makes $e^{\log\sigma^2}$ overflow to infinity (in float32 when
# it exceeds {glue:text}`e44_f32_log_max:.1f`, in float16 already above {glue:text}`e44_f16_log_max:.1f`),
# and the loss becomes `inf`, then `nan`. With the clamp, $\sigma^2$ is at most
# {glue:text}`e44_var_max:.1e`: absurd for a posterior, but finite, so the gradient can pull it back. We
# break the encoder on purpose, pushing every log-variance far up:

# %%
broken = copy.deepcopy(ours)
with torch.no_grad():
    broken.encoder[-1].bias[recipe.model.z_dim:] += 100.0                # the log-variance half
    raw_logvar = broken.encoder(x8).chunk(2, dim=1)[1]                   # before the clamp
    kl_unclamped = 0.5 * (raw_logvar.exp() - 1 - raw_logvar).sum(dim=1)
    loss_clamped = broken.loss(x8, torch.zeros(8, recipe.model.z_dim))[0]
    broken_ref = copy.deepcopy(shipped)                        # the package's, same weights
    broken_ref.load_state_dict(dict(zip(broken_ref.state_dict(), broken.state_dict().values())))
    torch.testing.assert_close(broken.encode(x8), broken_ref.encode(x8))  # the same clamp
print(f"log-variances from {raw_logvar.min():.0f} to {raw_logvar.max():.0f}: KL without the clamp "
      f"{kl_unclamped.max()}, loss with it {loss_clamped:.3g}")
assert torch.isinf(kl_unclamped).all() and torch.isfinite(loss_clamped)

# %% tags=["hide-input"]
lv_lo, lv_hi = ac.vae.LOGVAR_RANGE
assert broken.encode(x8)[1].max() == lv_hi
with torch.no_grad():
    broken.encoder[-1].bias[recipe.model.z_dim:] -= 200.0             # now every one far down
    assert broken.encode(x8)[1].min() == lv_lo
f32_log_max = math.log(torch.finfo(torch.float32).max)
assert raw_logvar.min() > f32_log_max > lv_hi  # every variance overflows; the clamp is below that
with torch.no_grad():
    trained_lv = shipped.encoder(x_test[:1000].cpu()).chunk(2, dim=1)[1]   # no clamp applied
assert lv_lo + 10 < trained_lv.min() and trained_lv.max() < lv_hi - 10, "well inside the limits"
glue("e44_trained_lv_lo", trained_lv.min().item(), display=False)
glue("e44_trained_lv_hi", trained_lv.max().item(), display=False)
glue("e44_lv_lo", lv_lo, display=False)
glue("e44_lv_hi", lv_hi, display=False)
glue("e44_f32_log_max", f32_log_max, display=False)
glue("e44_f16_log_max", math.log(torch.finfo(torch.float16).max), display=False)
glue("e44_var_max", math.exp(lv_hi), display=False)

# %% [markdown]
# ### Checking the loss
#
# `vae.loss(x, beta)` returns the mean negative ELBO and its two parts: `recon` $= -\overline{\log p(x\mid z)}$
# and `kl` $= \overline{\mathrm{KL}}$, and the loss must equal $\text{recon} + \beta\cdot\text{KL}$ from the
# same call. The KL term uses the closed form of 3.3; we check it two ways: against `torch.distributions`,
# and against its definition $\mathrm{KL} = \mathbb E_{q}[\log q(z \mid x) - \log p(z)]$ estimated by Monte
# Carlo with 64 reparameterised draws per image, which must agree within four standard errors.

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
    eps = torch.randn(64, *mu.shape, generator=torch.Generator().manual_seed(0)).to(dev)
    z = mu + torch.exp(0.5 * logvar) * eps                                # (64, 1000, z_dim)
    log_ratio = (losses.gaussian_log_density(z, mu, logvar)
                 - losses.gaussian_log_density(z, 0.0, 0.0))               # (64, 1000)
error = log_ratio.mean(0) - kl                      # Monte Carlo minus closed form, per image
mc_se = (error.std() / math.sqrt(len(kl))).item()
print(f"KL per test image: min {kl.min():.2f}, mean {kl.mean():.2f}, max {kl.max():.2f} nats; "
      f"Monte Carlo minus closed form, averaged over the images: {error.mean():+.3f} "
      f"(standard error {mc_se:.3f})")
assert abs(error.mean().item()) < 4 * mc_se

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

# %% [markdown]
# The reconstructions keep the shape and the overall brightness but lose fine texture: prints, logos, the
# stitching of a sneaker. To measure that, split every image into a **coarse** part, a Gaussian blur of
# width 1.5 pixels, and the **detail** that the blur removes, and ask how much of each part's variation over
# the 1 000 test images the reconstruction explains: $R^2 = 1 - \lVert \hat b - b\rVert^2 / \lVert b - \bar
# b\rVert^2$ for each part $b$ ($\bar b$ its mean image; 1 is perfect, 0 no better than the mean).

# %%
def coarse(x: torch.Tensor, sigma: float = 1.5) -> torch.Tensor:
    """Gaussian blur of (B, 1, 28, 28) images, 9x9 kernel."""
    t = torch.arange(-4, 5, dtype=x.dtype, device=x.device)
    g = torch.exp(-t**2 / (2 * sigma**2))
    kernel = (g[:, None] * g[None, :] / g.sum() ** 2)[None, None]                # (1, 1, 9, 9)
    return F.conv2d(F.pad(x, (4, 4, 4, 4), mode="replicate"), kernel)


def explained(pred: torch.Tensor, target: torch.Tensor) -> float:
    """R^2 of ``pred`` for ``target`` over a batch of images."""
    return 1 - ((pred - target).pow(2).sum() / (target - target.mean(0)).pow(2).sum()).item()


with torch.no_grad():
    recon_all = vae.reconstruct(x_test)
r2_coarse = explained(coarse(recon_all), coarse(x_test))
r2_detail = explained(recon_all - coarse(recon_all), x_test - coarse(x_test))
print(f"R^2 of the reconstructions: coarse part {r2_coarse:.3f}, detail {r2_detail:.3f}")
assert r2_coarse > 0.9 and r2_detail < r2_coarse - 0.25, "shape kept, much of the detail lost"

# %% tags=["hide-input"]
glue("e44_r2_coarse", r2_coarse, display=False)
glue("e44_r2_detail", r2_detail, display=False)

# %% [markdown]
# The coarse part is explained to {glue:text}`e44_r2_coarse:.1%`, the detail only to
# {glue:text}`e44_r2_detail:.1%`: much of the fine structure is gone. {glue:text}`e44_zdim` latent numbers
# cannot store every detail, and the Bernoulli decoder shows its *mean* image, which averages over the
# details it is unsure of.
#
# Samples: draw $z \sim \mathcal N(0, I)$ and decode.

# %%
with torch.no_grad():
    samples = vae.sample(64, generator=torch.Generator().manual_seed(0)).cpu()
plotting.show_grid(samples, nrow=8, title="64 samples of vae-fashion (decoder means)", figsize=6)
plt.show()


def detail_energy(x: torch.Tensor) -> float:
    """Mean squared size of the detail part (image minus its blur), per pixel."""
    return (x - coarse(x)).pow(2).mean().item()


dcgan = recipes.load_or_train("dcgan-fashion", device=dev)
with torch.no_grad():
    vae_many = vae.sample(1000, generator=torch.Generator().manual_seed(1))
    gan_many = dcgan.sample(1000, generator=torch.Generator().manual_seed(1))
sharpness = {name: detail_energy(x) / detail_energy(x_test)
             for name, x in [("vae", vae_many), ("dcgan", gan_many)]}
print(f"detail energy relative to real test images: VAE samples {sharpness['vae']:.2f}, "
      f"DCGAN samples {sharpness['dcgan']:.2f}")
assert sharpness["vae"] < 0.5 * sharpness["dcgan"], "VAE samples are much blurrier"

# %% tags=["hide-input"]
glue("e44_sharp_vae", sharpness["vae"], display=False)
glue("e44_sharp_gan", sharpness["dcgan"], display=False)

# %% [markdown]
# The samples are plausible garments but blurrier than the GAN's of 4.2: their detail part carries
# {glue:text}`e44_sharp_vae:.0%` of the energy of the real test images' detail, the DCGAN samples'
# {glue:text}`e44_sharp_gan:.0%`. Two reasons, both from the
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
    mu2d, logvar2d = (t.cpu() for t in vae2d.encode(
        (test.images[:5000].float() / 127.5 - 1).to(dev)))

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
inside = (mu2d.abs() <= 3).all(dim=1).float().mean().item()
print(f"share of test means inside [-3, 3]^2: {inside:.1%}")
assert inside > 0.95, "the KL term keeps the codes where the prior has its mass"

# %% tags=["hide-input"]
glue("e44_inside", inside, display=False)

# %% [markdown]
# The two pictures are the same map. Regions of the latent plane that decode to trousers on the left hold the
# trousers on the right. In the figure, footwear (sandal, sneaker, ankle boot) forms its own region and the
# four upper-body classes (T-shirt, pullover, coat, shirt) overlap, the classes a classifier confuses most. The KL term pulls
# the means towards the origin ({glue:text}`e44_inside:.1%` of them lie in $[-3, 3]^2$), so the classes pack
# into a disc instead of spreading out, and the decoder must make sense of every point in between: moving in
# $z$ morphs one garment smoothly into another.
#
# Move through the plane yourself: on the course website the two sliders below set $z$ and the decoder (its
# ONNX export, {glue:text}`e44_onnx_kb:.0f` kB, running in your browser) redraws the image as they move; the
# ring marks $z$ on the decoded grid, and *Latent walk* sends $z$ on a loop through the plane. In a
# notebook the box shows the static grid of decoded images.

# %%
from aigc_course import export
from aigc_course.demos import live_demo

live_demo("vae2d-fashion", "latent2d", points=9, lim=3.0)

# %% tags=["hide-input"]
glue("e44_onnx_kb", export.shipped_onnx("vae2d-fashion").stat().st_size / 1e3, display=False)


# %% [markdown]
# ## What the KL term measures
#
# Averaged over the data, the KL term is called the **rate** (码率), and it is worth being exact about what
# it measures. It splits into two non-negative parts {cite}`hoffman2016elbo,alemi2018fixing`:
#
# $$ \underbrace{\mathbb E_x\,\mathrm{KL}\big(q(z \mid x)\,\|\,p(z)\big)}_{\text{rate}}
#    = I_q(x; z) + \mathrm{KL}\big(q(z)\,\|\,p(z)\big), \qquad q(z) = \mathbb E_x\, q(z \mid x) . $$
#
# $I_q(x; z)$ is the **mutual information** (互信息) between an image and its code under the encoder, and
# $q(z)$, the **aggregate posterior** (聚合后验), is the distribution of the codes of all images together;
# the second term says how far it is from the prior. So the rate is an **upper bound** on the information
# the code carries about $x$, not that information itself: a model can pay rate for codes that are merely
# badly placed with respect to the prior.
#
# We check the split on the 2-D model. Take the 5 000 test images above as the data, each with probability
# 1/5 000. Then $q(z)$ is a mixture of 5 000 Gaussians, and both terms are expectations over
# $z \sim q(z \mid x)$ that Monte Carlo estimates; their sum must reproduce the closed-form rate. (On a
# finite set $I_q \le \log 5000 \approx 8.5$ nats: a code cannot say more than which image it came from.)

# %%
def rate_split(mu: torch.Tensor, logvar: torch.Tensor, draws: int = 4, seed: int = 0):
    """Monte Carlo terms I_q(x; z) and KL(q(z) || p(z)) per draw and image, (draws * N,) each,
    for data uniform over the N images whose posteriors are N(mu, exp(logvar))."""
    gen = torch.Generator().manual_seed(seed)
    info, marginal = [], []
    for _ in range(draws):
        z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=gen)      # (N, d)
        log_own = losses.gaussian_log_density(z, mu, logvar)                    # log q(z|x_i)
        log_agg = torch.cat([losses.gaussian_log_density(zc[:, None], mu, logvar)  # log q(z)
                             .logsumexp(dim=1) for zc in z.split(500)]) - math.log(len(mu))
        info.append(log_own - log_agg)
        marginal.append(log_agg - losses.gaussian_log_density(z, 0.0, 0.0))
    return torch.cat(info), torch.cat(marginal)


rate2d = losses.gaussian_kl(mu2d, logvar2d).mean().item()
info, marginal = rate_split(mu2d, logvar2d, draws=2)
se_sum = ((info + marginal).std() / math.sqrt(len(info))).item()
print(f"vae2d-fashion on 5 000 test images: rate {rate2d:.3f} nats = "
      f"I_q(x; z) {info.mean():.3f} + KL(q(z) || p(z)) {marginal.mean():.3f} "
      f"(Monte Carlo sum {(info + marginal).mean():.3f} ± {se_sum:.3f})")
assert abs((info + marginal).mean().item() - rate2d) < 4 * se_sum
assert info.mean() < rate2d and marginal.mean() > 0, "the rate bounds the information from above"

# %% tags=["hide-input"]
glue("e44_rate2d", rate2d, display=False)
glue("e44_info2d", info.mean().item(), display=False)
glue("e44_marg2d", marginal.mean().item(), display=False)

# %% [markdown]
# Of the 2-D model's rate of {glue:text}`e44_rate2d:.2f` nats, {glue:text}`e44_info2d:.2f` nats are
# information about the image and {glue:text}`e44_marg2d:.2f` nats pay for the mismatch between the cloud of
# codes on the right and the standard normal prior (the classes pack into clumps with gaps between them).
# Samples drawn from the prior fall into those gaps too; they decode to the in-between garments of the left
# picture.
#
# ## The β trade-off
#
# Weighting the KL term by $\beta$ gives the β-VAE objective {cite}`higgins2017betavae`
#
# $$ \text{loss} = \underbrace{-\mathbb E_q[\log p(x \mid z)]}_{\text{recon (distortion)}} + \beta\,
#    \underbrace{\mathrm{KL}(q(z \mid x)\,\|\,p(z))}_{\text{rate}} . $$
#
# $\beta > 1$ makes rate expensive: the model keeps less of it, reconstructs worse, and switches latent
# dimensions off entirely (the extreme is **posterior collapse** (后验坍塌), where $q(z \mid x) = p(z)$ for
# every $x$ {cite}`bowman2016generating`). $\beta < 1$ buys sharper reconstructions with a higher rate. We
# train the same model briefly with several values of β, from the same initial weights, and measure both terms
# on test images.

# %%
betas = [0.5, 1.0, 4.0] if QUICK else [0.25, 0.5, 1.0, 2.0, 4.0, 8.0]
sweep_steps = 150 if QUICK else 3000
rows, sweep_mu = [], {}
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
    sweep_mu[beta] = mu.cpu()

print(f"{sweep_steps} steps each, measured on 1 000 test images")
print(f"{'beta':>6} {'recon (nats)':>13} {'KL (nats)':>10} {'recon + KL':>11}")
for beta, rec, rate in rows:
    print(f"{beta:>6} {rec:>13.1f} {rate:>10.2f} {rec + rate:>11.1f}")

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
# Larger β moves along the curve to the left: a smaller rate, worse reconstructions. The short
# trainings here are far from converged; the ordering is the point, and it is already there after the
# {glue:text}`e44_sweep_steps` steps of each run.
#
# **Which β give a bound on $\log p(x)$?** Since the KL is non-negative, for $\beta \ge 1$
#
# $$ \mathbb E_q[\log p(x \mid z)] - \beta\,\mathrm{KL} \;\le\; \mathbb E_q[\log p(x \mid z)] -
#    \mathrm{KL} = \mathcal L(x) \;\le\; \log p(x) , $$
#
# so every $\beta \ge 1$ still maximises a lower bound on $\log p(x)$, a looser one as β grows. For
# $\beta < 1$ the inequality turns around and the objective is no bound at all: it can exceed
# $\log p(x)$. A one-dimensional model where everything is exact shows both: $p(z) = \mathcal N(0, 1)$,
# $p(x \mid z) = \mathcal N(z, s^2)$, so $p(x) = \mathcal N(0, 1 + s^2)$. The best value of the β-objective
# over all $q$ is $\beta \log \int p(z)\, p(x \mid z)^{1/\beta}\,dz$ (the maximiser is
# $q \propto p(z)\,p(x \mid z)^{1/\beta}$), which we integrate on a grid.

# %%
s_x, x_obs = 0.5, 1.5
z_grid = torch.linspace(-12, 12, 24_001, dtype=torch.float64)
log_prior = torch.distributions.Normal(0.0, 1.0).log_prob(z_grid)
x_t = torch.tensor(x_obs, dtype=torch.float64)
log_lik = torch.distributions.Normal(z_grid, s_x).log_prob(x_t)
log_px = torch.distributions.Normal(0.0, math.sqrt(1 + s_x**2)).log_prob(x_t).item()
best = {beta: beta * math.log(torch.trapezoid(torch.exp(log_prior + log_lik / beta),
                                               z_grid).item())
        for beta in (0.5, 1.0, 2.0, 4.0)}
print(f"log p(x) = {log_px:.4f}")
for beta, value in best.items():
    print(f"beta = {beta}: best beta-objective {value:.4f} ({value - log_px:+.4f} vs log p(x))")
assert abs(best[1.0] - log_px) < 1e-6, "beta = 1: the ELBO is tight at the true posterior"
assert best[4.0] < best[2.0] < log_px, "beta > 1: lower bounds, looser as beta grows"
assert best[0.5] > log_px, "beta < 1: no bound"

# %% tags=["hide-input"]
glue("e44_best_half", best[0.5] - log_px, display=False)


# %% [markdown]
# With β = 1 the best $q$ is the true posterior and the bound is tight; β = 2 and 4 stay below $\log p(x)$;
# β = 0.5 exceeds it by {glue:text}`e44_best_half:.3f` nats. So β = 1 gives the tightest bound of the family,
# the ELBO itself, which is why the shipped models use it. (For these grey-level models "$\log p(x)$" is
# itself only a score, as said above: the column "recon + KL" of the table is the β = 1 loss, not a bound on
# a negative log-likelihood.)
#
# ## Exercises
#
# ### 4.4a Warm-up: the β-VAE loss
#
# Write `beta_vae_loss(recon, kl, beta)`: the batch loss, the mean over
# the batch of recon + β·KL, from the per-image reconstruction term `recon` $= -\log p(x \mid z)$ and the
# per-image KL (1-D tensors).

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
def reference_beta_vae_loss(recon, kl, beta):
    return (recon + beta * kl).mean()


assert ch4.q44a.check(reference_beta_vae_loss, quiet=True)

# %% [markdown]
# ### 4.4b Warm-up: active units
#
# Posterior collapse can hit single latent dimensions: the encoder ignores
# $x$ in them and the decoder ignores them. Burda et al. {cite}`burda2016iwae` call a dimension **active**
# when its mean varies with the input, $\operatorname{Var}_x(\mu_j(x)) > 0.01$. Write
# `active_units(mu, threshold=0.01)` returning how many dimensions are active, from the encoder means `mu` of
# shape (N, z_dim). The cell after the solution applies *your* function to the shipped model and to the β
# sweep (as long as it does not pass the checker, the reference stands in, and the cell says so).

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
def reference_active_units(mu, threshold=0.01):
    return int((mu.var(dim=0) > threshold).sum())


assert ch4.q44b.check(reference_active_units, quiet=True)

# %%
if ch4.q44b.check(active_units, quiet=True):
    count_active, whose = active_units, "your active_units"
else:
    count_active, whose = reference_active_units, "the reference (yours does not pass yet)"
with torch.no_grad():
    shipped_active = count_active(vae.encode(x_test)[0].cpu())
print(f"using {whose}")
print(f"active units of the shipped vae-fashion: {shipped_active} / {vae.z_dim}")
sweep_active = {beta: count_active(mu) for beta, mu in sweep_mu.items()}
for beta, n_active in sweep_active.items():
    print(f"  beta = {beta}: {n_active} active units after {sweep_steps} steps")
active = list(sweep_active.values())
assert active == sorted(active, reverse=True), "never more active units with a larger beta"
assert not QUICK or min(active) == vae.z_dim  # the quick sweep described below

# %% tags=["hide-input"]
glue("e44_active_shipped", shipped_active, display=False)
glue("e44_active_min", min(active), display=False)
glue("e44_sweep_steps", sweep_steps, display=False)

# %% [markdown]
# The shipped model uses {glue:text}`e44_active_shipped` of its {glue:text}`e44_zdim` dimensions. In this
# sweep the fewest active units at any β is {glue:text}`e44_active_min` of {glue:text}`e44_zdim`, after
# {glue:text}`e44_sweep_steps` steps: β shows in the rate before whole units switch off, if they do at all
# in so short a training.

# %% [markdown]
# ### 4.4c Debug: Article E's VAE loss (errata E87)
#
# Article E writes the VAE loss for data $x_i \in \mathbb R^D$ as
# $L = \frac1N\sum_i\big(\frac12\sum_{j=1}^D (x_i - \hat x_i)^2 + \frac12\sum_{j=1}^D(\log\sigma_i^2 + \sigma_i^2 - 1 -
# x_i^2)\big)$. Typed in, it becomes the function below (a Gaussian decoder's squared error, so `x` and
# `x_hat` have shape (N, D); `mu` and `logvar` have shape (N, J)). Its KL term is wrong in more than one
# way. Repair it; the checker tries latent sizes equal to D and smaller than D.

# %%
def vae_loss(x, x_hat, mu, logvar):
    recon = 0.5 * ((x - x_hat) ** 2).sum(dim=1)
    kl = 0.5 * (logvar + logvar.exp() - 1 - x**2).sum(dim=1)
    return (recon + kl).mean()


ch4.q44c.check(vae_loss);

# %% [markdown]
# :::{dropdown} Solution
# The KL of $\mathcal N(\mu, \sigma^2)$ from $\mathcal N(0, 1)$ is $\frac12(\mu^2 + \sigma^2 - \log\sigma^2 - 1)$ per
# latent dimension (3.3). The article flips the sign of $\log\sigma^2$, puts the data's $-x^2$ where the
# posterior mean's $+\mu^2$ belongs, and so sums over the $D$ data dimensions instead of the $J$ latent ones:
# ```python
# def vae_loss(x, x_hat, mu, logvar):
#     recon = 0.5 * ((x - x_hat) ** 2).sum(dim=1)                        # (N,)
#     kl = 0.5 * (mu**2 + logvar.exp() - logvar - 1).sum(dim=1)          # (N,), over the J latent dimensions
#     return (recon + kl).mean()
# ```
# A quick test catches the sign: at $\mu = 0$, $\sigma = 1$ the posterior *is* the prior and the KL must be 0;
# the article's term gives $-\frac12\sum x^2$ there, a negative "divergence".
# :::

# %% tags=["hide-cell"]
def reference_vae_loss(x, x_hat, mu, logvar):
    recon = 0.5 * ((x - x_hat) ** 2).sum(dim=1)
    return (recon + losses.gaussian_kl(mu, logvar)).mean()


assert ch4.q44c.check(reference_vae_loss, quiet=True)

# %% [markdown]
# ### 4.4d Apply: a Gaussian decoder's reconstruction term
#
# The model above has a Bernoulli decoder. The package also offers a Gaussian one,
# `VAEConfig(decoder="gaussian", sigma=0.1)`: $p(x \mid z) = \mathcal N(x;\, m(z),\, \sigma^2 I)$ with the decoder's
# output $m(z)$ as the mean and a fixed $\sigma$, on pixels in $[-1, 1]$. Write `gaussian_nll(x, mean, sigma)`,
# its reconstruction term $-\log p(x \mid z)$ per image, for `x` and `mean` of shape (B, C, H, W): a tensor
# of shape (B,). Then think about what $\sigma$ does to the balance between the two terms of the loss.

# %%
def gaussian_nll(x, mean, sigma):
    ...  # your code


ch4.q44d.check(gaussian_nll);

# %% [markdown]
# :::{dropdown} Solution
# Per pixel $-\log\mathcal N(x; m, \sigma^2) = \frac{(x - m)^2}{2\sigma^2} + \log\sigma + \frac12\log 2\pi$, and the
# pixels are independent given $z$, so the terms add:
# ```python
# def gaussian_nll(x, mean, sigma):
#     per_pixel = (x - mean) ** 2 / (2 * sigma**2) + math.log(sigma) + 0.5 * math.log(2 * math.pi)
#     return per_pixel.flatten(1).sum(dim=1)            # (B,): independent pixels, so the logs add
# ```
# With σ fixed the normaliser is a constant and does not change the gradients, but without it the number
# is not a $-\log$ density and cannot be compared with other models. σ sets the exchange rate between
# squared error and KL: the loss is $\lVert x - m\rVert^2/(2\sigma^2) + \mathrm{KL} + \text{const}$, which has the
# same minimiser as $\lVert x - m\rVert^2/2 + 2\sigma^2\,\mathrm{KL}$: a β-VAE with $\beta = 2\sigma^2$
# on the plain squared error. σ = 0.1 means β = 0.02 in those units: sharp reconstructions, much rate.
# :::

# %% tags=["hide-cell"]
def reference_gaussian_nll(x, mean, sigma):
    return -torch.distributions.Normal(mean, sigma).log_prob(x).sum(dim=(1, 2, 3))


assert ch4.q44d.check(reference_gaussian_nll, quiet=True)

# %% [markdown]
# ## Summary
#
# * A convolutional VAE: strided convolutions to $(\mu, \log\sigma^2)$, the reparameterised
#   $z = \mu + \sigma\odot\varepsilon$, transposed convolutions back to one Bernoulli logit per pixel;
#   loss = recon + β·KL. On grey levels the "recon" is a cross-entropy, not a log-likelihood.
# * Reconstructions and samples are blurry because the decoder outputs mean images and the loss punishes
#   missing data more than blur.
# * A 2-D latent space shows the structure: classes form regions, similar classes overlap, and the prior keeps
#   everything near the origin.
# * The rate $\mathbb E_x \mathrm{KL}(q(z\mid x)\,\|\,p(z)) = I_q(x; z) + \mathrm{KL}(q(z)\,\|\,p(z))$ is an
#   upper bound on the information the code carries.
# * β trades rate (KL) against distortion (reconstruction): larger β, less rate and blurrier
#   reconstructions (and, given enough training, possibly switched-off latent dimensions). β ≥ 1 gives lower bounds on $\log p(x)$ (β = 1 the tightest, the ELBO); β < 1 none.
