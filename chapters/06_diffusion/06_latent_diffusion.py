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
# # 6.6 Latent diffusion

# %% tags=["remove-input"]
from aigc_course.plotting import page_info

page_info("06_latent_diffusion")

# %% [markdown]
# The U-Net of 6.4 denoises all 784 pixels at every step, and most of its work goes into detail that a
# good autoencoder could restore on its own. **Latent diffusion** (潜在扩散) {cite}`rombach2022ldm`, the
# idea behind Stable Diffusion, splits the job in two: an autoencoder compresses images into a small latent
# code once, and a diffusion model learns the distribution of the *codes*. Sampling draws a code with the
# diffusion model and decodes it once.
#
# The course already has an autoencoder: the convolutional VAE of 4.4 (`vae-fashion`, 16 latent
# dimensions). This page trains flow matching (6.3) on its codes, with the small MLP denoiser of 6.1, and
# measures what the split buys and what it costs. The answer is a bound: the samples can never be better
# than the decoder's reconstructions.

# %%
import json
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

import aigc_course as ac
from aigc_course import checkpoint, data, diffusion, plotting, recipes
from aigc_course.exercises import ch6_latent
from aigc_course.plotting import glue

ac.set_seed(0)
ac.runtime.set_threads(1)  # small MLPs: one thread avoids hand-off costs between cores
dev = ac.device()
print(ac.describe(dev))
QUICK = ac.profile() == "quick"
# the measured curves (AIGC_RESULTS_DIR: your own, made with tools/evaluate_diffusion.py)
SHIPPED_RESULTS = Path(ac.__file__).parents[1] / "benchmarks" / "results"
RESULTS = Path(os.environ.get("AIGC_RESULTS_DIR") or SHIPPED_RESULTS)

# %% [markdown]
# ## The codes
#
# The data of the latent model are codes $z \sim q(z \mid x)$ of the 60,000 training images, one draw per
# image, under the shipped VAE's encoder (`recipes.latent_codes`). Rombach et al. also train on draws from
# the encoder's Gaussian, not on its means. The VAE's KL term (3.3) pulled these codes towards the prior
# $\mathcal N(0, I)$: are they distributed like it?

# %%
vae = recipes.pretrained("vae-fashion", device=dev)
codes, code_labels = recipes.latent_codes("vae-fashion", "train", device=dev)
print(
    f"codes: {tuple(codes.shape)}; per-dimension mean in [{codes.mean(0).min():.2f}, "
    f"{codes.mean(0).max():.2f}], std in [{codes.std(0).min():.2f}, {codes.std(0).max():.2f}]"
)

prior = torch.randn(codes.shape, generator=torch.Generator().manual_seed(1))
# first and second moments: the KL term did its job on them
evals = torch.linalg.eigvalsh(torch.cov(codes.T))
print(f"covariance of the codes: eigenvalues {evals[0]:.2f} to {evals[-1]:.2f} (prior: all 1)")

# %% [markdown]
# The first two moments are not far from the prior's. The difference is in the *shape*, and two views
# show it. The picture: project the codes on the two directions that best separate the ten classes
# (linear discriminant analysis, fitted on the codes), and project prior draws the same way. The number:
# a nearest-neighbour two-sample statistic {cite}`schilling1986multivariate`. Pool 2,000 codes and 2,000
# prior draws and ask, for each point, which share of its 10 nearest neighbours comes from its own set.
# If the two sets had the same distribution the answer would be one half, up to noise; a control, prior
# against fresh prior draws, shows how close to one half that is.

# %%
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis


def same_set_share(a, b, k=10):
    """Mean share of each point's k nearest neighbours (a and b pooled) from its own set."""
    x = torch.cat([a, b])
    dist = torch.cdist(x, x)
    dist.fill_diagonal_(float("inf"))
    nearest = dist.topk(k, largest=False).indices
    source = torch.cat([torch.zeros(len(a)), torch.ones(len(b))])
    return (source[nearest] == source[:, None]).float().mean().item()


gen = torch.Generator().manual_seed(2)
some_codes = codes[torch.randperm(len(codes), generator=gen)[:2000]]
share = same_set_share(some_codes, prior[:2000])
control = same_set_share(torch.randn(2000, codes.shape[1], generator=gen), prior[:2000])
print(f"same-set share of 10 nearest neighbours: codes vs prior {share:.3f}; "
      f"prior vs prior {control:.3f}")

lda = LinearDiscriminantAnalysis(n_components=2).fit(codes.numpy(), code_labels.numpy())
fig, axes = plt.subplots(1, 2, figsize=(9, 4), sharex=True, sharey=True)
for ax, pts, what in (
    (axes[0], codes, "codes z ~ q(z|x) of training images"),
    (axes[1], prior, "prior draws N(0, I), same projection"),
):
    proj = lda.transform(pts[:5000].numpy())
    colour = {"c": code_labels[:5000], "cmap": "tab10"} if pts is codes else {"color": "0.4"}
    ax.scatter(proj[:, 0], proj[:, 1], s=1, alpha=0.4, **colour)
    ax.set(title=what, xlabel="discriminant direction 1")
axes[0].set_ylabel("discriminant direction 2")
fig.suptitle(
    "The codes are not the prior: they cluster by class (colour), the prior does not",
    fontsize=10,
)
plt.tight_layout()
plt.show()

# %% tags=["hide-input"]
glue("e66_var_min", float(evals[0]), display=False)
glue("e66_var_max", float(evals[-1]), display=False)
glue("e66_nn_share", share, display=False)
glue("e66_nn_control", control, display=False)
assert 0.5 < evals[0] and evals[-1] < 2.0  # moments: close to N(0, I) ...
assert abs(control - 0.5) < 0.02 and share > control + 0.1  # ... the distribution: far from it

# %% [markdown]
# The codes' variances run from {glue:text}`e66_var_min:.2f` to {glue:text}`e66_var_max:.2f` along their
# principal directions (the prior: 1 in every direction), yet a point's nearest neighbours come from its
# own set {glue:text}`e66_nn_share:.2f` of the time, against {glue:text}`e66_nn_control:.2f` for two prior
# samples. The codes cluster by class, and the prior fills the gaps between the clusters. Decoding draws
# from the prior that land in those gaps, where the decoder was never trained, gives the blurred or mixed
# images of 4.4: the "holes" in the aggregate posterior (聚合后验). A model of the codes' real
# distribution should do better than the prior, and that is what latent diffusion is.
#
# ## Flow matching on the codes
#
# The latent model is 6.3's flow matching with the MLP denoiser of 6.1, made wider for 16 dimensions: a
# recipe of the package like every other, trained by the course's trainer. In the quick profile the page
# trains it briefly from scratch to show the loop, then loads the shipped weights.

# %%
recipe = recipes.get_recipe("latent-flow-fashion")
print(recipe.model)
demo_steps = 200 if QUICK else recipe.full.steps
_, demo = recipes.train_recipe(recipe, steps=demo_steps, progress=False)
print(
    f"{demo.steps} steps in {demo.wall_time:.1f} s "
    f"({demo.wall_time / demo.steps * 1000:.1f} ms per step); "
    f"loss {demo.history.as_arrays('loss')[1][0]:.3f} -> {demo.history.last('loss'):.3f}"
)
ldm = recipes.load_or_train("latent-flow-fashion", device=dev).eval()
entry = checkpoint.manifest_entry("latent-flow-fashion")
pixel = checkpoint.manifest_entry("flow-fashion")

# %% tags=["hide-input"]
glue("e66_steps", entry["steps"], display=False)
glue("e66_minutes", entry["wall_time_s"] / 60, display=False)
glue("e66_pixel_hours", pixel["wall_time_s"] / 3600, display=False)
glue("e66_params", sum(p.numel() for p in ldm.parameters()) / 1e6, display=False)

# %% [markdown]
# The shipped latent model ({glue:text}`e66_params:.1f` million parameters) trained
# {glue:text}`e66_steps:,` steps in {glue:text}`e66_minutes:.0f` minutes on the course's CPU; the pixel
# model of 6.4 took {glue:text}`e66_pixel_hours:.1f` hours.
#
# ## Samples, and what bounds them
#
# Three ways to get images from the same decoder: decode prior draws (the VAE as a generator, 4.4), decode
# latent-diffusion draws, and decode the codes of real test images (reconstructions, the best any model of
# the codes can do).

# %%
n_show = 16
with torch.no_grad():
    gen = torch.Generator().manual_seed(2)
    z_flow = ldm.sample(n_show, gen, steps=10, sampler="heun")
    grids = {
        "VAE prior samples": vae.sample(n_show, generator=torch.Generator().manual_seed(2)),
        "latent flow matching": vae.to_image(vae.decode(z_flow)),
        "VAE reconstructions of test images": vae.to_image(
            vae.decode(
                vae.encode(
                    data.to_model_space(data.fashion_mnist("test").images[:n_show].to(dev))
                )[0]
            )
        ),
    }
fig, axes = plt.subplots(3, 1, figsize=(8, 3.6))
for ax, (title, imgs) in zip(axes, grids.items()):
    ax.imshow(plotting.make_grid(imgs.cpu(), nrow=n_show, padding=1), cmap="gray")
    ax.set_axis_off()
    ax.set_title(title, fontsize=9, loc="left")
plt.tight_layout()
plt.show()

# %% [markdown]
# `tools/evaluate_diffusion.py latent` measured all three with the metrics of 4.5, on thousands of images
# and several seeds (the reconstructions twice: decoding the encoder's mean, and decoding a draw
# $z \sim q(z\mid x)$, which is what the latent model learns to produce):

# %%
lat = json.loads((RESULTS / "diffusion-latent-cpu.json").read_text())
names = {
    "vae_prior": "VAE prior samples",
    "latent_flow": "latent flow matching",
    "vae_reconstruction_sampled_z": "reconstructions, z ~ q(z|x)",
    "vae_reconstruction_mean_z": "reconstructions, z = mean",
}
print(
    f"{lat['n_samples']} images per set, mean ± sd over {lat['seeds']} seeds; "
    f"real-vs-real floor {lat['fid_floor']:.2f}"
)
for key, label in names.items():
    r = lat["latent"][key]
    print(
        f"{label:30s} FID {r['fid']['mean']:6.2f} ± {r['fid']['std']:.2f}   precision "
        f"{r['precision']['mean']:.3f}   recall {r['recall']['mean']:.3f}   "
        f"coverage {r['coverage']['mean']:.3f}"
    )

# %% tags=["hide-input"]
L = {k: v["fid"]["mean"] for k, v in lat["latent"].items()}
assert L["latent_flow"] < L["vae_prior"]  # a better model of the codes ...
# ... and within a few tenths of its bound (decoded codes of real images): the decoder limits it
to_bound = L["latent_flow"] - L["vae_reconstruction_sampled_z"]
assert to_bound < 0.1 * (L["vae_prior"] - L["latent_flow"])
gap_closed = (L["vae_prior"] - L["latent_flow"]) / (
    L["vae_prior"] - L["vae_reconstruction_sampled_z"]
)
glue("e66_fid_prior", L["vae_prior"], display=False)
glue("e66_fid_flow", L["latent_flow"], display=False)
glue("e66_fid_rec", L["vae_reconstruction_sampled_z"], display=False)
glue("e66_fid_rec_mean", L["vae_reconstruction_mean_z"], display=False)
glue("e66_gap_closed", 100 * gap_closed, display=False)
flow_pixel = pixel["metrics"]["uncond_fid"]
glue("e66_fid_pixel", flow_pixel, display=False)
glue("e66_n", lat["n_samples"], display=False)
ms_latent, ms_pixel = entry["metrics"]["sample_ms"], pixel["metrics"]["sample_ms"]
assert ms_latent < ms_pixel  # same sampler, same steps: the small MLP is the cheaper step
glue("e66_ms_latent", ms_latent, display=False)
glue("e66_ms_pixel", ms_pixel, display=False)
glue("e66_ms_ratio", ms_pixel / ms_latent, display=False)

# %% [markdown]
# Latent flow matching improves on the prior, FID {glue:text}`e66_fid_flow:.2f` against
# {glue:text}`e66_fid_prior:.2f`, and closes {glue:text}`e66_gap_closed:.0f`% of the gap to the
# reconstructions of sampled codes, {glue:text}`e66_fid_rec:.2f`. Those reconstructions are the bound: a
# perfect model of the codes would reproduce the codes' distribution, and its decoded samples would still
# show the decoder's blur. (Decoding the encoder's *means* scores worse, {glue:text}`e66_fid_rec_mean:.2f`:
# one average code per image decodes to smoother, less varied clothes than the codes the decoder was
# trained on.) The pixel-space model of 6.4 scores {glue:text}`e66_fid_pixel:.2f` on 10,000 samples (these
# {glue:text}`e66_n`-sample numbers are biased upwards a little by their size, 4.5): its "decoder" is
# perfect.
#
# This is why real latent-diffusion systems spend so much effort on the autoencoder. Rombach et al.
# train theirs with a perceptual loss and a patch discriminator (the GAN of Part II) so that its
# reconstructions are sharp, and keep a latent grid (e.g. 64×64×4 for 512×512 images) rather than a vector,
# so that little is lost; a 16-number code of a blurry VAE loses too much. The split still pays where it
# was meant to: the latent model trained in minutes instead of hours, and with the same sampler (Heun, 25
# steps) an image costs {glue:text}`e66_ms_latent:.0f` ms, decoder included, against
# {glue:text}`e66_ms_pixel:.0f` ms for the U-Net ({glue:text}`e66_ms_ratio:.0f` times more; manifest, same machine
# CPU).
#
# ## Exercises
#
# ### 6.6a Apply: how far is the aggregate posterior from the prior?
#
# Fit a Gaussian $\mathcal N(m, \Sigma)$ (full covariance) to a set of codes and return
# $\mathrm{KL}\big(\mathcal N(m, \Sigma)\,\|\,\mathcal N(0, I)\big)$ in nats. Section 3.3 derived the KL of
# diagonal Gaussians; here $\Sigma$ is full:
# $\tfrac12\big(\operatorname{tr}\Sigma + m^\top m - d - \log\det\Sigma\big)$. The checker runs your function
# on its own codes and on the page's.


# %%
def gaussian_fit_kl(codes):
    ...  # your code: codes is (N, d); return a float


ch6_latent.q66a.check(gaussian_fit_kl)

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def gaussian_fit_kl(codes):
#     codes = codes.double()
#     m = codes.mean(0)
#     cov = torch.cov(codes.T)
#     d = codes.shape[1]
#     return 0.5 * (torch.trace(cov) + m @ m - d - torch.logdet(cov)).item()
# ```
# A diagonal fit would ignore the correlations between dimensions; for these codes the full covariance
# gives a larger KL.
# :::


# %% tags=["hide-cell"]
def gaussian_fit_kl_reference(codes):
    codes = codes.double()
    m = codes.mean(0)
    cov = torch.cov(codes.T)
    return 0.5 * (torch.trace(cov) + m @ m - codes.shape[1] - torch.logdet(cov)).item()


assert ch6_latent.q66a.check(gaussian_fit_kl_reference, quiet=True)

# %% [markdown]
# ### 6.6b Debug: grey clouds instead of clothes
#
# This function is meant to draw `n` images with the latent model and the VAE, but its images are harsher
# and more distorted than the model's samples. Fix it (two mistakes); the checker compares your images with
# decoded Heun samples from the same generator.


# %%
def latent_samples(ldm, vae, n, generator):
    z = ldm.sample(n, generator, steps=10, sampler="heun")
    z = (z - z.mean()) / z.std()  # normalise the codes
    return torch.tanh(vae.decode(z))  # images in [-1, 1]


ch6_latent.q66b.check(latent_samples)

# %% [markdown]
# :::{dropdown} Solution
# The model already produces codes on the scale the decoder was trained on; "normalising" them mixes all
# samples' statistics and shrinks the spread of the directions that vary most. And the decoder outputs
# Bernoulli logits: the image is their mean, `vae.to_image(logits)`, that is $2\sigma(\ell) - 1 =
# \tanh(\ell/2)$; $\tanh(\ell)$ doubles every logit and exaggerates the contrast.
# ```python
# def latent_samples(ldm, vae, n, generator):
#     z = ldm.sample(n, generator, steps=10, sampler="heun")
#     return vae.to_image(vae.decode(z))
# ```
# :::


# %% tags=["hide-cell"]
def latent_samples_fixed(ldm, vae, n, generator):
    z = ldm.sample(n, generator, steps=10, sampler="heun")
    return vae.to_image(vae.decode(z))


assert ch6_latent.q66b.check(latent_samples_fixed, quiet=True)

# %% [markdown]
# ## Summary
#
# * Latent diffusion models the codes of an autoencoder instead of the pixels, and decodes once.
# * The codes of a VAE are not distributed like its prior; a diffusion model of the codes beats prior
#   sampling.
# * The decoder bounds the result: samples can be no better than reconstructions. A better autoencoder
#   (perceptual and adversarial losses, a spatial latent) is what makes latent diffusion work at scale.
