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
# # 5.1 Latent walks and a short generated video

# %% tags=["remove-input"]
from aigc_course.plotting import page_info

page_info("01_latent_walks")

# %% [markdown]
# A generator turns a code $z$ into an image. Move $z$ a little and the image changes a little; move it
# along a path and the images make a film. Such **latent walks** (潜在空间漫游) are the simplest application
# of a trained model, and the DCGAN paper used them to show that its generator had learnt smooth structure
# rather than memorised pictures {cite}`radford2016dcgan`. This page asks *which* path to take, and
# measures the answer:
#
# 1. where the samples of a Gaussian prior live: not near the origin, but on a thin shell of radius about
#    $\sqrt d$, and why the straight line between two codes leaves that shell;
# 2. **linear interpolation** (线性插值, "lerp") against **spherical linear interpolation** (球面线性插值,
#    "slerp") {cite}`shoemake1985animating,white2016sampling`, on the shipped DCGAN;
# 3. a short generated video: a looping GIF in which every frame is an exact sample of the prior;
# 4. class morphs (类别渐变) with the conditional GAN of 4.3;
# 5. an interactive latent explorer over the 2-D VAE of 4.4, with a static map for the website.

# %%
import io
import math
import tempfile
from pathlib import Path

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Image as GifImage
from IPython.display import display
from PIL import Image
from scipy import stats

import aigc_course as ac
from aigc_course import data, metrics, plotting, recipes
from aigc_course.exercises import ch5a
from aigc_course.plotting import glue

ac.set_seed(0)
ac.runtime.set_threads(1)  # small batches on the CPU: one thread is fastest
dev = ac.device()
print(ac.describe(dev))
QUICK = ac.profile() == "quick"
N_PAIRS = 1000 if QUICK else 5000  # pairs of codes for the measurements
test = data.fashion_mnist("test")

# %% [markdown]
# ## Where the prior's samples live
#
# The generators of this course draw $z \in \mathbb R^d$ from $\mathcal N(0, I)$; the DCGAN of 4.2 has
# $d = 64$. The density of this prior is largest at the origin, yet almost no sample lies near it. The
# squared norm $\lVert z\rVert^2 = \sum_j z_j^2$ is a sum of $d$ independent squares with mean 1 and
# variance 2, so it has a $\chi^2_d$ distribution with mean $d$ and standard deviation $\sqrt{2d}$. The norm
# itself has a $\chi_d$ distribution, with mean close to $\sqrt d$ and a standard deviation that tends
# to $1/\sqrt 2$ as $d$ grows: relative to its radius, the shell gets thinner and thinner. In high
# dimensions the volume near the origin is tiny, and the density times the volume, the probability, sits
# on the shell.
#
# Now take two independent codes $z_0, z_1$ and the straight line between them,
# $z(t) = (1 - t)\,z_0 + t\,z_1$. A sum of independent Gaussians is Gaussian:
# $z(t) \sim \mathcal N\big(0, ((1-t)^2 + t^2)\,I\big)$. At the midpoint the variance is $\tfrac12$ per
# coordinate and the norm is about $\sqrt{d/2}$: for $d = 64$, about 5.7 instead of 8. We measure both on
# {glue:text}`w51_n_norm` samples and assert them at 1%.

# %%
G = recipes.load_or_train("dcgan-fashion", device=dev)
d = G.z_dim
gen = torch.Generator().manual_seed(1)
n_norm = 10 * N_PAIRS
z0, z1 = torch.randn(n_norm, d, generator=gen), torch.randn(n_norm, d, generator=gen)
norm_end, norm_mid = z0.norm(dim=1), (0.5 * (z0 + z1)).norm(dim=1)        # (n,) each
chi = stats.chi(d)
print(f"d = {d}: mean norm of prior samples {norm_end.mean():.3f} (sqrt(d) = {math.sqrt(d):.3f}, "
      f"chi_d mean {chi.mean():.3f}), standard deviation {norm_end.std():.3f} "
      f"(chi_d: {chi.std():.3f})")
print(f"mean norm of linear midpoints {norm_mid.mean():.3f} "
      f"(sqrt(d/2) = {math.sqrt(d / 2):.3f}, "
      f"chi_d mean / sqrt 2 = {chi.mean() / math.sqrt(2):.3f})")
se_end, se_mid = norm_end.std() / math.sqrt(n_norm), norm_mid.std() / math.sqrt(n_norm)
assert abs(norm_end.mean() - chi.mean()) < 4 * se_end                      # exactly chi_d
assert abs(norm_mid.mean() - chi.mean() / math.sqrt(2)) < 4 * se_mid       # exactly chi_d / sqrt 2
assert abs(norm_end.mean() / math.sqrt(d) - 1) < 0.01
assert abs(norm_mid.mean() / math.sqrt(d / 2) - 1) < 0.01
assert abs(norm_end.std() - 1 / math.sqrt(2)) < 0.05
r_low = chi.ppf(0.001)                            # 0.1% of prior samples have a smaller norm
share_mid_low = (norm_mid < r_low).float().mean().item()
print(f"share of linear midpoints with a norm below the prior's 0.1% quantile {r_low:.2f}: "
      f"{share_mid_low:.1%}")
assert share_mid_low > 0.5

# %% tags=["hide-input"]
glue("w51_n_norm", n_norm, display=False)
glue("w51_norm_end", norm_end.mean().item(), display=False)
glue("w51_norm_mid", norm_mid.mean().item(), display=False)
glue("w51_r_low", float(r_low), display=False)
glue("w51_share_mid_low", 100 * share_mid_low, display=False)


# %% [markdown]
# Prior samples have norm {glue:text}`w51_norm_end:.2f` on average, linear midpoints
# {glue:text}`w51_norm_mid:.2f`, and {glue:text}`w51_share_mid_low:.0f`% of the midpoints have a smaller
# norm than all but 0.1% of prior samples (radius {glue:text}`w51_r_low:.2f`). The generator was trained only
# on codes from the shell; the middle of a straight path takes it to codes it has practically never seen.
#
# ### Spherical interpolation
#
# Shoemake's slerp {cite}`shoemake1985animating`, proposed for generative models by White
# {cite}`white2016sampling`, moves along the great circle between the two codes instead. With $\Omega$ the
# angle between them, $\cos\Omega = z_0^\top z_1 / (\lVert z_0\rVert\,\lVert z_1\rVert)$,
#
# $$ \operatorname{slerp}(z_0, z_1; t) = \frac{\sin((1-t)\,\Omega)}{\sin\Omega}\, z_0
#    + \frac{\sin(t\,\Omega)}{\sin\Omega}\, z_1 . $$
#
# For endpoints of equal norm it is a rotation in the plane of $z_0$ and $z_1$ at constant angular speed,
# and the norm stays fixed. Near $\Omega = 0$ the formula divides $0$ by $0$; there slerp and lerp agree, so
# implementations fall back to lerp. We check the code on the page against two facts: it returns the
# endpoints at $t = 0$ and $t = 1$, and for equal norms it equals the rotation
# $\cos(t\Omega)\,z_0 + \sin(t\Omega)\,\lVert z_0\rVert\,u$, with $u$ the unit vector in the plane orthogonal
# to $z_0$ (Gram–Schmidt).

# %%
def lerp(z0: torch.Tensor, z1: torch.Tensor, t: float) -> torch.Tensor:
    """The straight line (1 - t) z0 + t z1, row by row: (B, d)."""
    return (1 - t) * z0 + t * z1


def slerp(z0: torch.Tensor, z1: torch.Tensor, t: float, eps: float = 1e-7) -> torch.Tensor:
    """Spherical interpolation of each row of z0 and z1 (B, d); lerp where they are parallel."""
    cos = torch.cosine_similarity(z0, z1, dim=1).clamp(-1, 1)[:, None]      # (B, 1)
    omega = torch.arccos(cos)
    sin = torch.sin(omega)
    safe = sin.clamp(min=eps)
    curved = (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / safe
    return torch.where(sin > eps, curved, lerp(z0, z1, t))


a = torch.randn(5, d, generator=gen, dtype=torch.float64)
b = torch.randn(5, d, generator=gen, dtype=torch.float64)
torch.testing.assert_close(slerp(a, b, 0.0), a)
torch.testing.assert_close(slerp(a, b, 1.0), b)
b_eq = b * a.norm(dim=1, keepdim=True) / b.norm(dim=1, keepdim=True)   # same norms as a
u = b_eq - (b_eq * a).sum(1, keepdim=True) / (a * a).sum(1, keepdim=True) * a
u = u / u.norm(dim=1, keepdim=True)                                       # (5, d), orthogonal to a
omega = torch.arccos(torch.cosine_similarity(a, b_eq, dim=1))[:, None]
for t in [0.25, 0.5, 0.9]:
    rotation = torch.cos(t * omega) * a + torch.sin(t * omega) * a.norm(dim=1, keepdim=True) * u
    torch.testing.assert_close(slerp(a, b_eq, t), rotation)
torch.testing.assert_close(slerp(a, a.clone(), 0.3), a)                   # parallel: no 0/0
assert torch.isfinite(slerp(a, 2 * a, 0.3)).all()

# %% [markdown]
# For two *independent* prior samples something more holds. In high dimensions they are nearly orthogonal:
# $\cos\Omega$ has mean 0 and standard deviation about $1/\sqrt d$, so $\Omega \approx 90°$ and slerp is
# close to $\cos(t\pi/2)\,z_0 + \sin(t\pi/2)\,z_1$. Any path of the form $\cos\theta\, z_0 + \sin\theta\, z_1$
# is *exactly* distributed as the prior, at every $\theta$: it is a sum of independent Gaussians with
# variance $\cos^2\theta + \sin^2\theta = 1$. The figure follows the norm along both paths for
# {glue:text}`w51_n_pairs` pairs, against the band that holds 98% of the prior's samples.

# %%
ts = torch.linspace(0, 1, 21)
pz0, pz1 = z0[:N_PAIRS], z1[:N_PAIRS]
path_norms = {name: torch.stack([f(pz0, pz1, t.item()).norm(dim=1) for t in ts])  # (21, N_PAIRS)
              for name, f in [("lerp", lerp), ("slerp", slerp)]}
angles = torch.rad2deg(torch.arccos(torch.cosine_similarity(pz0, pz1, dim=1)))
dims = np.unique(np.geomspace(1, 1024, 41).round().astype(int))
# how rare is the typical (median) linear midpoint under the prior?
rarity = stats.chi2.cdf(stats.chi2.median(dims) / 2, dims)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.8))
ax1.axhspan(chi.ppf(0.01), chi.ppf(0.99), color="0.85", label="98% of prior samples")
for name, color in [("lerp", "tab:red"), ("slerp", "tab:blue")]:
    m, s = path_norms[name].mean(1), path_norms[name].std(1)
    ax1.plot(ts, m, color=color, label=name)
    ax1.fill_between(ts, m - s, m + s, color=color, alpha=0.2)
ax1.set_xlabel("t along the path")
ax1.set_ylabel("norm of z(t)")
ax1.set_title(f"d = {d}: the straight path leaves the shell")
ax1.legend(loc="lower left")
ax2.loglog(dims, rarity, "o-", ms=3)
ax2.axvline(d, color="0.5", ls="--")
ax2.set_xlabel("dimension d")
ax2.set_ylabel("P(prior norm < median lerp midpoint)")
ax2.set_title("the midpoint becomes atypical as d grows")
plt.show()

mid = len(ts) // 2
share_slerp_low = (path_norms["slerp"][mid] < r_low).float().mean().item()
print(f"angle between independent codes: {angles.mean():.1f} ± {angles.std():.1f} degrees "
      f"(90 ± {math.degrees(1 / math.sqrt(d)):.1f} predicted)")
print(f"midpoint norms: lerp {path_norms['lerp'][mid].mean():.2f}, "
      f"slerp {path_norms['slerp'][mid].mean():.2f}; below the 0.1% quantile: slerp "
      f"{share_slerp_low:.1%}")
rare = dict(zip(dims.tolist(), rarity.tolist()))
print(f"P(prior norm < median lerp midpoint): d=2 {rare[2]:.3f}, d=16 {rare[16]:.4f}, "
      f"d=64 {rare[64]:.2e}")
assert abs(angles.mean() - 90) < 1 and abs(angles.std() / math.degrees(d**-0.5) - 1) < 0.1
assert (path_norms["slerp"].mean(1) - math.sqrt(d)).abs().max() < 0.05 * math.sqrt(d)
assert share_slerp_low < 0.01
assert rare[2] > 0.25 and rare[64] < 1e-3
# the closed form against the samples at d = 64
mc = (norm_end < norm_mid.median()).float().mean().item()
assert abs(mc - rare[64]) < 5 * math.sqrt(rare[64] / n_norm) + 1e-4

# %% tags=["hide-input"]
glue("w51_n_pairs", N_PAIRS, display=False)
glue("w51_angle_sd", angles.std().item(), display=False)
glue("w51_rare2", rare[2], display=False)
glue("w51_rare64", rare[64], display=False)

# %% [markdown]
# The slerp path keeps the norm of the endpoints, the straight one sags to $\sqrt{d/2}$ in the middle. The
# right panel says when this matters. In $d = 2$ a prior sample has a norm below that of the typical
# midpoint with probability {glue:text}`w51_rare2:.2f`: nothing unusual, and 4.4's 2-D VAE can be walked
# in straight lines. In $d = 64$ that probability is {glue:text}`w51_rare64:.1e`. (The angle between two
# independent codes in 64 dimensions is 90° give or take {glue:text}`w51_angle_sd:.1f` degrees, as
# predicted.)
#
# ## Lerp and slerp on the DCGAN
#
# Does the generator care? Five pairs of codes, each walked both ways in nine steps, and, on the right, what
# it makes of the origin: the single most probable code under the prior, which is the least typical one.

# %%
n_show, n_steps = 5, 9
ws = torch.linspace(0, 1, n_steps).tolist()
with torch.no_grad():
    rows = []
    for i in range(n_show):
        for f in (lerp, slerp):
            rows.append(torch.cat([f(pz0[i:i + 1], pz1[i:i + 1], t) for t in ws]))
    walks = G(torch.cat(rows).to(dev)).cpu()                             # (2 * 5 * 9, 1, 28, 28)
    origin = G(torch.zeros(1, d, device=dev)).cpu()

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 6.5), width_ratios=[9, 1.5])
plotting.show_grid(walks, nrow=n_steps, ax=ax1, row_labels=["lerp", "slerp"] * n_show,
                   title="dcgan-fashion: each pair of rows walks the same two codes")
plotting.show_grid(origin, nrow=1, ax=ax2, title="G(0)")
plt.show()
assert walks.shape == (2 * n_show * n_steps, 1, 28, 28)
torch.testing.assert_close(walks[0], walks[n_steps])                  # same start for both paths

# %% [markdown]
# The two rows of a pair start and end on the same images and differ in between: the straight path's middle
# images are dimmer and flatter. The origin itself decodes to an almost empty picture. We measure the
# difference on {glue:text}`w51_n_pairs` pairs: the contrast (standard deviation of the pixels) of the two
# midpoint images of each pair, and the FID of each set of midpoints against test images in the course
# classifier's feature space (4.5), next to the FID of the endpoints.

# %%
classifier = recipes.classifier(device=dev)
test_feats = metrics.extract_features(classifier, test.images[:N_PAIRS])
with torch.no_grad():
    images = {"endpoints": G(pz0.to(dev)).cpu(),
              "lerp midpoints": G(lerp(pz0, pz1, 0.5).to(dev)).cpu(),
              "slerp midpoints": G(slerp(pz0, pz1, 0.5).to(dev)).cpu()}
contrast = {k: v.flatten(1).std(dim=1) for k, v in images.items()}    # (N_PAIRS,) each
fid = {k: metrics.fid(metrics.extract_features(classifier, v), test_feats)
       for k, v in images.items()}
gap = contrast["slerp midpoints"] - contrast["lerp midpoints"]         # paired, (N_PAIRS,)
gap_se = gap.std() / math.sqrt(len(gap))
for k in images:
    print(f"{k:<16} contrast {contrast[k].mean():.3f}   FID {fid[k]:6.2f}")
print(f"contrast(slerp) - contrast(lerp) = {gap.mean():.3f} ± {gap_se:.3f} (paired s.e.); "
      f"contrast of G(0): {origin.std():.3f}")
scales = [0.0, 0.25, 0.5, 1 / math.sqrt(2), 1.0]
with torch.no_grad():
    by_scale = [G((s * pz0).to(dev)).cpu().flatten(1).std(dim=1).mean().item() for s in scales]
print("contrast of G(s z) for s = "
      + ", ".join(f"{s:.2f}: {c:.3f}" for s, c in zip(scales, by_scale)))
assert gap.mean() > 4 * gap_se
assert origin.std() < 0.5 * contrast["endpoints"].mean()
assert by_scale == sorted(by_scale), "shorter codes, fainter pictures"
# the text describes the shipped weights, which the quick profile loads
assert not QUICK or fid["lerp midpoints"] > fid["slerp midpoints"]

# %% tags=["hide-input"]
glue("w51_contrast_lerp", contrast["lerp midpoints"].mean().item(), display=False)
glue("w51_contrast_slerp", contrast["slerp midpoints"].mean().item(), display=False)
glue("w51_contrast_end", contrast["endpoints"].mean().item(), display=False)
glue("w51_contrast_origin", origin.std().item(), display=False)
glue("w51_fid_lerp", fid["lerp midpoints"], display=False)
glue("w51_fid_slerp", fid["slerp midpoints"], display=False)
glue("w51_fid_end", fid["endpoints"], display=False)

# %% [markdown]
# Slerp midpoints keep the contrast of the endpoints ({glue:text}`w51_contrast_slerp:.3f` against
# {glue:text}`w51_contrast_end:.3f`); lerp midpoints lose some ({glue:text}`w51_contrast_lerp:.3f`), and
# the origin has almost none ({glue:text}`w51_contrast_origin:.3f`). The FIDs are
# {glue:text}`w51_fid_end:.2f` (endpoints), {glue:text}`w51_fid_slerp:.2f` (slerp midpoints) and
# {glue:text}`w51_fid_lerp:.2f` (lerp midpoints). The effect is real but modest for this generator. Scaling
# codes down shows why: the contrast of $G(s\,z)$ falls steadily as $s$ goes from 1 to 0, so for this
# generator a shorter code means a fainter picture, and the middle of a straight path fades rather than
# breaking up. White {cite}`white2016sampling` shows the same effect on larger generators. The lesson holds
# either way: interpolate where the prior puts its samples.
#
# ## A short generated video
#
# A video is a sequence of frames. To make one that loops and never leaves the prior, walk a great circle:
#
# $$ z(\theta) = \cos\theta\; z_a + \sin\theta\; z_b, \qquad \theta \in [0, 2\pi), $$
#
# which returns to $z_a$ at $\theta = 2\pi$ and is an exact prior sample at every $\theta$ (the argument
# above). Sixteen such loops, one per tile, {glue:text}`w51_n_frames` frames. The frames are encoded as an animated GIF with
# Pillow in memory and shown inline, so nothing is written next to the notebook; we check that the page's
# encoder gives byte for byte the file that the package's `plotting.save_gif` writes (into a temporary
# folder), and decode the GIF again to check its frames.

# %%
n_frames, n_loops = 36, 16
za, zb = torch.randn(n_loops, d, generator=gen), torch.randn(n_loops, d, generator=gen)
thetas = torch.arange(n_frames) * 2 * math.pi / n_frames
with torch.no_grad():
    clips = torch.stack([G((torch.cos(th) * za + torch.sin(th) * zb).to(dev)).cpu()
                         for th in thetas])                              # (36, 16, 1, 28, 28)
frames = [plotting.make_grid(c, nrow=4) for c in clips]                  # 36 uint8 (H, W)


def gif_bytes(frames: list[np.ndarray], fps: float = 10.0, scale: int = 1) -> bytes:
    """Encode uint8 frames as a looping GIF with Pillow, in memory."""
    pics = [Image.fromarray(f) for f in frames]
    pics = [p.resize((p.width * scale, p.height * scale), Image.NEAREST) for p in pics]
    buf = io.BytesIO()
    pics[0].save(buf, format="GIF", save_all=True, append_images=pics[1:],
                 duration=int(1000 / fps), loop=0, optimize=False)
    return buf.getvalue()


video = gif_bytes(frames)
with tempfile.TemporaryDirectory() as tmp:
    packaged = plotting.save_gif(frames, Path(tmp) / "walk.gif", fps=10.0, scale=1).read_bytes()
assert video == packaged
decoded = Image.open(io.BytesIO(video))
assert decoded.n_frames == n_frames and decoded.info["loop"] == 0
assert decoded.info["duration"] == 100                   # milliseconds: 10 frames a second
for k in [0, n_frames // 2, n_frames - 1]:
    decoded.seek(k)
    np.testing.assert_array_equal(np.asarray(decoded.convert("L")), frames[k])
step_change = (clips.roll(-1, dims=0) - clips).abs().mean().item()      # includes the wrap-around
random_change = (clips[0] - clips[0].roll(1, dims=0)).abs().mean().item()   # different loops
print(f"GIF of {len(video) / 1024:.0f} KiB, {n_frames} frames; mean pixel change per frame "
      f"{step_change:.3f}, between unrelated samples {random_change:.3f}")
assert step_change < 0.25 * random_change
display(GifImage(data=video, format="gif", width=2 * frames[0].shape[1]))  # shown twice as large

# %% tags=["hide-input"]
glue("w51_n_frames", n_frames, display=False)
glue("w51_step_change", step_change, display=False)
glue("w51_random_change", random_change, display=False)

# %% [markdown]
# Consecutive frames differ by {glue:text}`w51_step_change:.3f` per pixel on average (grey levels in
# $[-1, 1]$), unrelated samples by {glue:text}`w51_random_change:.3f`: the garments morph instead of
# jumping, and the loop closes without a seam. This is what a "generated video" from an image generator
# honestly is: a walk through its latent space. Motion with a story, a person walking or a ball bouncing,
# needs a model of time, which this generator does not have (see errata E35).
#
# ## Class morphs with the conditional GAN
#
# The conditional generator of 4.3 concatenates $z$ with a learnt class embedding $e(y) \in \mathbb R^{64}$.
# Keep $z$ fixed (the "style") and move the embedding from $e(y_0)$ to $e(y_1)$: the garment changes class
# while keeping its style. Embeddings are not drawn from a Gaussian, so there is no shell to stay on, and
# we move along the straight line. The page calls the generator's layers with the mixed embedding; first we
# check that this reproduces the package's `G_c(z, labels)` when the embedding is a class's own.

# %%
G_c = recipes.load_or_train("cgan-fashion", device=dev)


def generate_with_embedding(G, z: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
    """The conditional generator's network on [z, emb]: (B, 1, 28, 28)."""
    return G.net(torch.cat([z, emb], dim=1))


z_style = G_c.noise(N_PAIRS // 10, generator=torch.Generator().manual_seed(2))   # (n, 64)
with torch.no_grad():
    y = torch.arange(len(z_style), device=dev) % 10
    torch.testing.assert_close(generate_with_embedding(G_c, z_style, G_c.embed(y)),
                               G_c(z_style, y))

pairs = [(0, 3), (1, 3), (2, 4), (7, 9), (8, 2)]            # (from, to) as class indices
names = test.classes
morph_t = torch.linspace(0, 1, 11)
probs = torch.empty(len(pairs), len(morph_t), 10)           # mean class probabilities on each path
with torch.no_grad():
    morph_rows = []
    for p, (c0, c1) in enumerate(pairs):
        e0, e1 = G_c.embed.weight[c0], G_c.embed.weight[c1]
        for k, t in enumerate(morph_t):
            emb = ((1 - t) * e0 + t * e1).expand(len(z_style), -1)
            x = generate_with_embedding(G_c, z_style, emb)
            probs[p, k] = torch.softmax(classifier(x), dim=1).mean(0).cpu()
            morph_rows.append(x[:1].cpu())

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.6), width_ratios=[1.2, 1])
plotting.show_grid(torch.cat(morph_rows), nrow=len(morph_t), ax=ax1,
                   row_labels=[f"{names[a]} → {names[b]}" for a, b in pairs],
                   title="cgan-fashion: one z, embedding moved from class to class")
for p, (c0, c1) in enumerate(pairs):
    ax2.plot(morph_t, probs[p, :, c1], label=f"{names[c0]} → {names[c1]}")
ax2.set_xlabel("t (0: first class, 1: second class)")
ax2.set_ylabel("classifier's mean probability of the target class")
ax2.set_title(f"the class flips along the morph ({len(z_style)} z per pair)")
ax2.legend(fontsize=8)
plt.show()

crossing = {}
for p, (c0, c1) in enumerate(pairs):
    above = (probs[p, :, c1] > probs[p, :, c0]).nonzero()
    crossing[p] = morph_t[above[0, 0]].item() if len(above) else float("nan")
    print(f"{names[c0]:>12} → {names[c1]:<10} p(target) {probs[p, 0, c1]:.2f} → "
          f"{probs[p, -1, c1]:.2f}; target ahead from t = {crossing[p]:.1f}")
    assert probs[p, -1, c1] - probs[p, 0, c1] > 0.5 and probs[p, 0, c0] > probs[p, 0, c1]

# %% tags=["hide-input"]
glue("w51_morph_from", max(probs[p, 0, c1].item() for p, (c0, c1) in enumerate(pairs)),
     display=False)
glue("w51_morph_to_min", min(probs[p, -1, c1].item() for p, (c0, c1) in enumerate(pairs)),
     display=False)
glue("w51_cross_min", min(crossing.values()), display=False)
glue("w51_cross_max", max(crossing.values()), display=False)

# %% [markdown]
# For every pair the classifier's probability of the target class climbs from at most
# {glue:text}`w51_morph_from:.2f` to at least {glue:text}`w51_morph_to_min:.2f`, and the target class takes the lead between $t =$
# {glue:text}`w51_cross_min:.1f` and $t =$ {glue:text}`w51_cross_max:.1f`, not always in the middle: the
# embedding space is not calibrated so that halfway means "half of each". Along the way the generator makes
# garments that belong to neither class, which is what a morph is for.
#
# ## A latent explorer
#
# With two latent dimensions (`vae2d-fashion`, 4.4) the whole latent space fits on a page. The static map
# below decodes a 20 × 20 grid, but not a uniform one: as in Kingma and Welling's Figure 4
# {cite}`kingma2014vae`, the coordinates are Gaussian quantiles $\Phi^{-1}\big((i + \tfrac12)/20\big)$, so
# every tile stands for the same prior probability, 1/400. Regions the prior rarely visits get few tiles.
# Then a quantitative check that the map means something: for each tile, the classifier's class for the
# decoded image against the majority class of the ten test images whose encoder means lie nearest that
# point of the plane.

# %%
vae2d = recipes.load_or_train("vae2d-fashion", device=dev)
n_side = 20
q = torch.tensor(stats.norm.ppf((np.arange(n_side) + 0.5) / n_side), dtype=torch.float32)
z_a, z_b = torch.meshgrid(q, q.flip(0), indexing="xy")          # z1 to the right, z2 upwards
z_map = torch.stack([z_a, z_b], dim=-1).reshape(-1, 2)            # (400, 2), row by row
x_test = data.to_model_space(test.images[:2000])
with torch.no_grad():
    tiles = vae2d.to_image(vae2d.decode(z_map.to(dev))).cpu()     # (400, 1, 28, 28)
    tile_class = classifier(tiles.to(dev)).argmax(1).cpu()
    mu2d = vae2d.encode(x_test.to(dev))[0].cpu()                  # (2000, 2)
nearest = torch.cdist(z_map, mu2d).topk(10, largest=False).indices  # (400, 10)
neighbour_class = test.labels[:2000][nearest].mode(dim=1).values
agreement = (tile_class == neighbour_class).float().mean().item()
print(f"tile class = majority class of the 10 nearest encoded test images: {agreement:.1%} "
      f"of the tiles (chance about 10%)")
assert agreement > 0.5

fig, ax = plt.subplots(figsize=(7, 7))
ax.imshow(plotting.make_grid(tiles, nrow=n_side, padding=0), cmap="gray")
ax.set_xticks(np.arange(n_side) * 28 + 14, [f"{v:.1f}" for v in q.tolist()], fontsize=6,
              rotation=90)
ax.set_yticks(np.arange(n_side) * 28 + 14, [f"{v:.1f}" for v in q.flip(0).tolist()], fontsize=6)
ax.set_xlabel("$z_1$ (Gaussian quantiles: equal prior mass per tile)")
ax.set_ylabel("$z_2$")
ax.set_title("vae2d-fashion: the whole latent plane, 400 equally likely tiles")
plt.show()

# %% tags=["hide-input"]
glue("w51_agreement", 100 * agreement, display=False)


# %% [markdown]
# On {glue:text}`w51_agreement:.0f`% of the tiles the decoded garment is of the class that dominates among
# the test images encoded nearby: the decoder's map and the encoder's map agree. Now the explorer: two
# sliders set $z_1$ and $z_2$, the left panel marks the point among the encoder means of 2 000 test images
# (coloured by class), the right one shows the decoder's mean image and the classifier's guess. These
# sliders need a running kernel (JupyterLab), so the website leaves them out; the live demo after them
# runs without one.

# %% tags=["remove-output"]
def decode_point(z1: float, z2: float) -> torch.Tensor:
    """The decoder's mean image at (z1, z2): (1, 28, 28) in [-1, 1]."""
    with torch.no_grad():
        return vae2d.to_image(vae2d.decode(torch.tensor([[z1, z2]], device=dev)))[0].cpu()


def explore(z1: float = 0.0, z2: float = 0.0) -> None:
    image = decode_point(z1, z2)
    with torch.no_grad():
        guess = names[classifier(image[None].to(dev)).argmax(1).item()]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 4.2))
    ax1.scatter(mu2d[:, 0], mu2d[:, 1], c=test.labels[:2000], cmap="tab10", s=3)
    ax1.plot([z1], [z2], "k+", ms=18, mew=3)
    ax1.set_xlim(-3.5, 3.5)
    ax1.set_ylim(-3.5, 3.5)
    ax1.set_aspect("equal")
    ax1.set_title("encoder means of test images")
    plotting.show_grid(image[None], nrow=1, ax=ax2,
                       title=f"decoded at ({z1:.1f}, {z2:.1f}): {guess}")
    plt.show()


k = 7 * n_side + 12                                     # any tile: same image as the static map
torch.testing.assert_close(decode_point(*z_map[k].tolist()), tiles[k])
sliders = {name: widgets.FloatSlider(value=0.0, min=-3.0, max=3.0, step=0.1, description=name)
           for name in ("z1", "z2")}
widgets.interact(explore, **sliders);

# %% [markdown]
# **The explorer without a kernel.** On the course website the box below runs the same decoder in your
# browser (its ONNX export, {glue:text}`w51_onnx_kb:.0f` kB, with ONNX Runtime Web, on the CPU, offline):
# the sliders redraw the image as they move, the ring marks $z$ on the decoded grid, and *Latent walk*
# animates a loop through the plane, a latent walk drawn live, frame by frame. The walk is a Lissajous
# curve $z(t) = (2.2 \sin 0.7t,\ 2.2 \sin(1.1t + 0.5))$: it sweeps the square $[-2.2, 2.2]^2$, where most
# of the data's codes lie (4.4). In a notebook the box shows its static grid.

# %%
from aigc_course import export
from aigc_course.demos import live_demo

live_demo("vae2d-fashion", "latent2d", points=9, lim=3.0)

# %% tags=["hide-input"]
glue("w51_onnx_kb", export.shipped_onnx("vae2d-fashion").stat().st_size / 1e3, display=False)


# %% [markdown]
# ## Exercises
#
# ### 5.1a Warm-up: slerp
#
# Write `slerp(z0, z1, t)` for rows of (B, d) tensors and a number $t$, with the
# formula above. Where two rows are parallel ($\Omega = 0$) return the linear interpolation. The checker
# uses endpoints of different norms, and a pair of identical rows.

# %%
def my_slerp(z0, z1, t):
    ...  # your code


ch5a.q51a.check(my_slerp);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def my_slerp(z0, z1, t):
#     cos = torch.cosine_similarity(z0, z1, dim=1).clamp(-1, 1)[:, None]
#     omega = torch.arccos(cos)
#     sin = torch.sin(omega)
#     curved = (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / sin.clamp(min=1e-7)
#     return torch.where(sin > 1e-7, curved, (1 - t) * z0 + t * z1)
# ```
# $\Omega$ comes from the *normalised* dot product (the cosine), clamped to $[-1, 1]$ because rounding can
# put it just outside and `arccos` would return `nan`. The weights are sines of angles, not $1 - t$ and $t$.
# :::

# %% tags=["hide-cell"]
assert ch5a.q51a.check(slerp, quiet=True)   # the page's slerp passes the checker
assert not ch5a.q51a.check(lerp, quiet=True)

# %% [markdown]
# ### 5.1b Warm-up: how rare is a norm?
#
# Write `prob_norm_below(r, d)`: the probability that a sample of
# $\mathcal N(0, I_d)$ has norm at most `r`, for a tensor of radii `r` and a whole number `d`. (It is what
# the right panel of the norm figure plots.)

# %%
def prob_norm_below(r, d):
    ...  # your code


ch5a.q51b.check(prob_norm_below);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def prob_norm_below(r, d):
#     return torch.special.gammainc(torch.tensor(d / 2, dtype=r.dtype), r**2 / 2)
# ```
# $\lVert z\rVert^2 \sim \chi^2_d$, whose distribution function is the regularised lower incomplete gamma
# function $P(d/2, x/2)$ at $x = r^2$. `scipy.stats.chi2.cdf(r**2, d)` and `scipy.stats.chi.cdf(r, d)` are
# the same thing; `chi2.cdf(r, d)` (forgetting the square) is not.
# :::

# %% tags=["hide-cell"]
def prob_norm_below_reference(r, d):
    return torch.special.gammainc(torch.tensor(d / 2, dtype=r.dtype), r**2 / 2)


assert ch5a.q51b.check(prob_norm_below_reference, quiet=True)
r_mid = torch.tensor(math.sqrt(stats.chi2.median(d) / 2), dtype=torch.float64)
torch.testing.assert_close(prob_norm_below_reference(r_mid, d).item(), rare[64], rtol=1e-6, atol=0)

# %% [markdown]
# ### 5.1c Predict: how much longer is the arc?
#
# Slerp walks round an arc where lerp takes the straight line. For two independent codes $z_0, z_1$ of
# $\mathcal N(0, I_{64})$, how much longer is the slerp path than the straight one? Write down the ratio
# of their mean lengths before computing anything; the checker measures it on 1 000 pairs.

# %%
answer = ...  # your prediction: mean slerp path length / mean straight path length

ch5a.q51c.check(answer);

# %% [markdown]
# :::{dropdown} Solution
# Two independent codes are nearly orthogonal ($\Omega \approx 90°$, measured above) and of nearly the
# same norm $r \approx \sqrt d$. The straight path is the hypotenuse of a right isosceles triangle,
# $r\sqrt 2$; slerp is a quarter of a circle, $r\pi/2$:
# ```python
# answer = (math.pi / 2) / math.sqrt(2)     # about 1.11
# ```
# Only 11% longer, in any dimension: slerp costs almost no extra distance, yet keeps every point on the
# shell.
# :::

# %% tags=["hide-cell"]
answer_solution = (math.pi / 2) / math.sqrt(2)
assert ch5a.q51c.check(answer_solution, quiet=True)

# %% [markdown]
# ### 5.1d Apply: a straight path that stays on the prior
#
# The straight line sags because $(1-t)\,z_0 + t\,z_1$ has variance $(1-t)^2 + t^2$ per coordinate. Keep
# the straight line but rescale it: write `prior_lerp(z0, z1, t)`, the point $(1-t)\,z_0 + t\,z_1$
# multiplied by the one number (depending on $t$ only, not on the codes) that makes it *exactly* a sample
# of $\mathcal N(0, I_d)$ when $z_0$ and $z_1$ are independent prior samples. Then, if you like, decode
# its midpoints with `G` and compare their contrast with the lerp and slerp midpoints above.

# %%
def prior_lerp(z0, z1, t):
    ...  # your code


ch5a.q51d.check(prior_lerp);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def prior_lerp(z0, z1, t):
#     sd = math.sqrt((1 - t) ** 2 + t**2)          # standard deviation of (1 - t) z0 + t z1
#     return ((1 - t) * z0 + t * z1) / sd
# ```
# A sum of independent Gaussians is Gaussian, so dividing by its standard deviation gives
# $\mathcal N(0, I)$ at every $t$: the same argument that makes $\cos\theta\,z_0 + \sin\theta\,z_1$ a
# prior sample. Rescaling each point to norm $\sqrt d$, or to the interpolated norm, also stays near the
# shell but is not an exact prior sample: it looks at the codes, and a fixed norm is not $\chi_d$.
# :::

# %% tags=["hide-cell"]
def prior_lerp_solution(z0, z1, t):
    return ((1 - t) * z0 + t * z1) / math.sqrt((1 - t) ** 2 + t**2)


assert ch5a.q51d.check(prior_lerp_solution, quiet=True)
mid_norm = prior_lerp_solution(pz0, pz1, 0.5).norm(dim=1)
assert abs(mid_norm.mean() - chi.mean()) < 4 * mid_norm.std() / math.sqrt(len(mid_norm))

# %% [markdown]
# ## Summary
#
# * Samples of $\mathcal N(0, I_d)$ lie on a shell of radius about $\sqrt d$; the most probable point, the
#   origin, is not a typical one. Straight paths between two samples cut through the inside of the shell
#   (norm $\sqrt{d/2}$ at the midpoint), which in $d = 64$ is rarer than one prior sample in a thousand.
# * Slerp keeps the norm; the great circle $\cos\theta\,z_a + \sin\theta\,z_b$ is an exact prior sample at
#   every angle, which makes seamless looping videos.
# * On the shipped DCGAN the straight path's midpoints are measurably fainter; the origin is nearly blank.
# * Class embeddings can be mixed too: the conditional GAN morphs one garment class into another.
# * In two dimensions there is no shell to leave, and the whole latent space fits in one explorable map.
