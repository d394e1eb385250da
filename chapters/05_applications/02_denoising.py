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
# # 5.2 Denoising and inpainting

# %% tags=["remove-input"]
from aigc_course.plotting import page_info

page_info("02_denoising")

# %% [markdown]
# A generative model knows what images of its data look like. That knowledge helps to repair damaged
# images: **denoising** (去噪) removes noise, **inpainting** (图像修复) fills in missing pixels. Both are
# **inverse problems** (逆问题): we observe $y$, a degraded version of an unknown image $x$, and want $x$
# back. Bayes' rule splits the task in two,
#
# $$ p(x \mid y) \;\propto\; \underbrace{p(y \mid x)}_{\text{how the damage happens}}\;
#    \underbrace{p(x)}_{\text{what images look like}} , $$
#
# and a generative model supplies the second factor: $x = g(z)$ with $z \sim \mathcal N(0, I)$, where $g$
# is a VAE's decoder (4.4) or a GAN's generator (4.2). Searching the latent space for the code that best
# explains the observation, $z^\star = \arg\max_z p(y \mid g(z))\,p(z)$, is called **inversion** (反演) of
# the model {cite}`zhu2016generative,bora2017compressed`; Yeh et al. used it for inpainting with a GAN
# {cite}`yeh2017semantic`.
#
# This page compares inversion of the shipped VAE and DCGAN with classical methods that know nothing about
# clothes: a Gaussian blur, a median filter, total-variation (TV) restoration {cite}`rudin1992tv`, and
# copying from the nearest training image {cite}`hays2007scene`. TV stands in for the stronger classical
# denoisers here: in a check made for the course's review (not rerun on this page), a non-local-means
# filter tuned on the same validation images beat it only at the weakest noise, by a fraction of a dB,
# and lost at the stronger levels. The learned baseline that is not generative is a supervised denoiser,
# a small CNN trained on noisy and clean pairs from the same training images at the known $\sigma$: the
# standard tool when the damage is known in advance. The scores are PSNR and SSIM
# {cite}`wang2004ssim` on a fixed set of test images, and the winner of each row is computed, not chosen.
# PSNR rewards the posterior *mean* (the minimum-MSE estimate), not the most probable image or a sample
# from the posterior, which can look sharper and still score lower: Blau and Michaeli (2018) showed that
# distortion and perceptual quality cannot both be optimal at once, the perception–distortion trade-off.

# %%
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from IPython.display import HTML, display

import aigc_course as ac
from aigc_course import data, metrics, plotting, recipes
from aigc_course.exercises import ch5a
from aigc_course.plotting import glue

ac.set_seed(0)
ac.runtime.set_threads(1)  # small batches on the CPU: one thread is fastest
dev = ac.device()
print(ac.describe(dev))
QUICK = ac.profile() == "quick"
N_TEST = 64 if QUICK else 512     # test images scored in the table
N_VAL = 32 if QUICK else 128      # training images held out to choose the baselines' settings
STEPS_VAE, STEPS_GAN = (50, 30) if QUICK else (200, 500)    # optimisation steps of the inversions
TV_ITER, TV_FILL_ITER = 300, 500  # iterations of the TV solver: denoising, inpainting
CNN_STEPS, CNN_BATCH = (300, 32) if QUICK else (3000, 64)   # training of the supervised CNNs
t_start = time.perf_counter()

train, test = data.fashion_mnist("train"), data.fashion_mnist("test")
x_test = data.to_model_space(test.images[:N_TEST])           # (N_TEST, 1, 28, 28) in [-1, 1]
x_val = data.to_model_space(train.images[-N_VAL:])           # (N_VAL, 1, 28, 28)
bank = data.to_model_space(train.images[:-N_VAL])            # the rest, for nearest neighbours

# %% [markdown]
# ## The damage
#
# **Noise.** $y = x + \sigma\varepsilon$ with $\varepsilon \sim \mathcal N(0, I)$, for three strengths
# $\sigma$ (pixel values live in $[-1, 1]$, so $\sigma = 1$ is very strong noise). This observation model
# is a proper likelihood: $p(y \mid x) = \mathcal N(y; x, \sigma^2 I)$ is a density over $y \in \mathbb R^D$,
# and $-\log p(y \mid x) = \lVert y - x\rVert^2 / (2\sigma^2) + \text{const}$.
#
# **Holes.** A mask $m$ (1 = observed, 0 = missing) removes a square in the centre of the image, of side 8,
# 12 or 16 pixels; the missing pixels carry no information, so a method may look only at $m \odot y$.

# %%
SIGMAS = [0.2, 0.5, 1.0]
HOLES = [8, 12, 16]


def centre_hole(side: int, n: int) -> torch.Tensor:
    """Masks (n, 1, 28, 28): 1 = observed, 0 in a centred side x side square."""
    mask = torch.ones(n, 1, 28, 28)
    a = (28 - side) // 2
    mask[:, :, a:a + side, a:a + side] = 0
    return mask


def degrade(x: torch.Tensor, task: tuple[str, float], seed: int) -> tuple[torch.Tensor, ...]:
    """(observed y, mask, noise sigma) for task ("noise", sigma) or ("hole", side)."""
    kind, value = task
    if kind == "noise":
        noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed))
        return x + value * noise, torch.ones_like(x), value
    mask = centre_hole(int(value), len(x))
    return torch.where(mask > 0, x, torch.zeros_like(x)), mask, 0.0   # the hole shown grey


TASKS = [("noise", s) for s in SIGMAS] + [("hole", h) for h in HOLES]
LABELS = [f"noise σ = {v}" if k == "noise" else f"hole {v}×{v}" for k, v in TASKS]
observed = {task: degrade(x_test, task, seed=i) for i, task in enumerate(TASKS)}
observed_val = {task: degrade(x_val, task, seed=100 + i) for i, task in enumerate(TASKS)}

show = torch.cat([x_test[:6]] + [observed[t][0][:6].clamp(-1, 1) for t in TASKS])
plotting.show_grid(show, nrow=6, row_labels=["clean"] + LABELS, figsize=5,
                   title="six test images and their damaged versions")
plt.show()

# %% [markdown]
# ## Scores: PSNR and SSIM
#
# The **peak signal-to-noise ratio** (峰值信噪比) compares the mean squared error with the squared range of
# the pixel values, in decibels:
#
# $$ \mathrm{PSNR}(\hat x, x) = 10 \log_{10} \frac{(\text{range})^2}{\mathrm{MSE}(\hat x, x)}, \qquad
#    \mathrm{MSE} = \frac1D \sum_{i=1}^D (\hat x_i - x_i)^2 . $$
#
# Our pixels live in $[-1, 1]$, so the range is 2 (for images in $[0, 1]$ it would be 1; the PSNR is the
# same either way, because the MSE scales too). Higher is better; each halving of the MSE adds 3 dB. For
# noise of strength $\sigma$ the MSE of the raw observation is about $\sigma^2$, so its PSNR is about
# $10\log_{10}(4/\sigma^2)$: we check that, and the page's PSNR against `metrics.psnr`. For the holes we
# score only the missing pixels, where the methods differ (the observed ones are kept as they are): a PSNR
# from the MSE over the pixels with $m = 0$.
#
# The **structural similarity** (结构相似性) SSIM {cite}`wang2004ssim` compares local means, variances
# and covariances in 11 × 11 Gaussian windows and is 1 for identical images; it is more sensitive than the
# MSE to blur and to lost edges. We use `metrics.ssim` (4.5), averaged over the window positions that
# fit inside the image (the central 18 × 18 of 28 × 28). Every output is clipped
# to $[-1, 1]$ before it is scored.

# %%
def psnr(restored: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
    """PSNR in dB of each image (B,), for values in [-1, 1] (range 2)."""
    mse = (restored - clean).pow(2).flatten(1).mean(dim=1)
    return 10 * torch.log10(2.0**2 / mse)


def masked_mse(x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error of each image over the pixels where mask = 1: (B,)."""
    return (mask * (x - y) ** 2).flatten(1).sum(dim=1) / mask.flatten(1).sum(dim=1)


def scores(restored: torch.Tensor, task, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(PSNR, SSIM) of each test image: PSNR over the hole for inpainting; SSIM averaged over the
    11 x 11 windows that fit inside the image."""
    r = restored.clamp(-1, 1)
    if task[0] == "noise":
        p = psnr(r, x_test)
    else:
        p = 10 * torch.log10(4.0 / masked_mse(r, x_test, 1 - mask))
    return p, metrics.ssim(r, x_test, reduction="none")


torch.testing.assert_close(psnr(observed[TASKS[0]][0], x_test),
                           metrics.psnr(observed[TASKS[0]][0], x_test, reduction="none"))
for task in TASKS[:3]:
    sigma = task[1]
    raw = psnr(observed[task][0], x_test).mean().item()
    print(f"σ = {sigma}: PSNR of the raw noisy image {raw:.2f} dB, "
          f"10 log10(4 / σ²) = {10 * math.log10(4 / sigma**2):.2f} dB")
    assert abs(raw - 10 * math.log10(4 / sigma**2)) < 0.1
ssim_noisy = [metrics.ssim(observed[t][0].clamp(-1, 1), x_test).item() for t in TASKS[:3]]
assert metrics.ssim(x_test, x_test).item() > 0.9999
assert ssim_noisy == sorted(ssim_noisy, reverse=True), "more noise, lower SSIM"

# %% [markdown]
# ## Classical baselines
#
# Four methods that know nothing about Fashion-MNIST, except for the last, which knows the training set by
# heart:
#
# * **Gaussian blur**: average each pixel with its neighbours, weights $e^{-r^2/2s^2}$. For a hole, blur
#   repeatedly and put the observed pixels back after each pass: the hole fills with a smooth diffusion of
#   its border (in the limit, the steady state of that diffusion: the harmonic fill, which solves Laplace's
#   equation with the border as boundary values; diffusion-based inpainting
#   {cite}`bertalmio2000inpainting` refines this idea).
# * **Median filter** (中值滤波): the median of each 3 × 3 (or 5 × 5) neighbourhood; it removes outliers
#   and keeps edges better than the blur. Holes are filled from the border inwards: each pass gives the
#   missing pixels next to known ones the median of their known neighbours.
# * **Total-variation restoration** (全变分): the Rudin–Osher–Fatemi model {cite}`rudin1992tv` finds the
#   image $x$ that is close to the observation yet has a small total variation
#   $\mathrm{TV}(x) = \sum_i \lVert \nabla x_i\rVert_2$, the summed length of its gradients, which favours
#   flat regions with sharp edges:
#
#   $$ \min_x\; \mathrm{TV}(x) + \frac{w}{2}\,\lVert m \odot (x - y)\rVert^2 . $$
#
#   For denoising $m = 1$ and the weight $w$ sets the trade-off; for inpainting we keep the observed
#   pixels fixed ($w = \infty$) and the hole gets the fill with the least total variation
#   {cite}`chan2002mathematical`. The problem is convex but not smooth; the primal–dual algorithm of
#   Chambolle and Pock {cite}`chambolle2011primaldual` solves it in a few lines, and for denoising, where
#   the data term is strongly convex, their accelerated variant shrinks the primal step and grows the dual
#   step as it goes (their product stays fixed).
# * **Nearest neighbour** (最近邻): find the training image closest to $y$ on the observed pixels and
#   copy it (denoising) or its pixels in the hole (inpainting), the idea of Hays and Efros' scene
#   completion {cite}`hays2007scene` with whole images as the patches.
#
# Each method's one setting (blur width, median size, TV weight) is chosen per noise level on
# {glue:text}`d52_n_val` held-out *training* images, never on the test images.

# %%
def gaussian_blur(u: torch.Tensor, s: float) -> torch.Tensor:
    """Separable Gaussian blur of standard deviation s pixels, edges replicated: same shape."""
    r = max(1, math.ceil(3 * s))
    t = torch.arange(-r, r + 1, dtype=u.dtype, device=u.device)
    g = torch.exp(-t**2 / (2 * s**2))
    g = g / g.sum()
    u = F.pad(u, (r, r, r, r), mode="replicate")
    return F.conv2d(F.conv2d(u, g.view(1, 1, 1, -1)), g.view(1, 1, -1, 1))


def median_filter(u: torch.Tensor, k: int) -> torch.Tensor:
    """Median of each k x k neighbourhood, edges replicated: same shape."""
    r = k // 2
    patches = F.pad(u, (r, r, r, r), mode="replicate").unfold(2, k, 1).unfold(3, k, 1)
    return patches.reshape(*u.shape, k * k).median(dim=-1).values


def blur_fill(y: torch.Tensor, mask: torch.Tensor, s: float = 1.0, passes: int = 100):
    """Fill the hole by diffusion: blur, put the observed pixels back, repeat."""
    start = (mask * y).sum((2, 3), keepdim=True) / mask.sum((2, 3), keepdim=True)  # observed mean
    x = torch.where(mask > 0, y, start)
    for _ in range(passes):
        x = torch.where(mask > 0, y, gaussian_blur(x, s))
    return x


def median_fill(y: torch.Tensor, mask: torch.Tensor, k: int = 3) -> torch.Tensor:
    """Fill the hole from its border inwards: each pass gives every missing pixel next to a known
    one the median of its known neighbours (an "onion peel")."""
    x = torch.where(mask > 0, y, torch.full_like(y, math.nan))
    r = k // 2
    while x.isnan().any():
        patches = F.pad(x, (r, r, r, r), value=math.nan).unfold(2, k, 1).unfold(3, k, 1)
        x = torch.where(x.isnan(), patches.reshape(*x.shape, k * k).nanmedian(dim=-1).values, x)
    return x


def grad(u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward differences (zero at the last row/column): the discrete gradient."""
    gx, gy = torch.zeros_like(u), torch.zeros_like(u)
    gx[..., :, :-1] = u[..., :, 1:] - u[..., :, :-1]
    gy[..., :-1, :] = u[..., 1:, :] - u[..., :-1, :]
    return gx, gy


def div(px: torch.Tensor, py: torch.Tensor) -> torch.Tensor:
    """Discrete divergence, minus the adjoint of grad: <grad u, p> = -<u, div p>."""
    dx = torch.cat([px[..., :, :1], px[..., :, 1:-1] - px[..., :, :-2], -px[..., :, -2:-1]], -1)
    dy = torch.cat([py[..., :1, :], py[..., 1:-1, :] - py[..., :-2, :], -py[..., -2:-1, :]], -2)
    return dx + dy


def total_variation(u: torch.Tensor) -> torch.Tensor:
    gx, gy = grad(u)
    return (gx**2 + gy**2).sqrt().flatten(1).sum(dim=1)                     # (B,)


def tv_restore(y: torch.Tensor, mask: torch.Tensor, w: float, n_iter: int = 300):
    """min_x TV(x) + w/2 |mask * (x - y)|^2 by Chambolle-Pock; w = inf keeps observed pixels.
    Returns x and the dual variable p = (px, py), |p_i| <= 1."""
    tau = sigma = 1 / math.sqrt(8)                 # tau * sigma * |grad|^2 <= 1, |grad|^2 <= 8
    # with every pixel observed the data term is w-strongly convex: accelerate (their Algorithm 2)
    gamma = w if (mask > 0).all() and not math.isinf(w) else 0.0
    x, x_bar = y.clone(), y.clone()
    px, py = torch.zeros_like(y), torch.zeros_like(y)
    for _ in range(n_iter):
        gx, gy = grad(x_bar)
        px, py = px + sigma * gx, py + sigma * gy
        scale = (px**2 + py**2).sqrt().clamp(min=1)                   # project onto |p| <= 1
        px, py = px / scale, py / scale
        v = x + tau * div(px, py)                                      # prox of the data term:
        if math.isinf(w):
            x_new = torch.where(mask > 0, y, v)                        # observed pixels fixed
        else:
            x_new = (v + tau * w * mask * y) / (1 + tau * w * mask)
        theta = 1 / math.sqrt(1 + 2 * gamma * tau)
        tau, sigma = theta * tau, sigma / theta
        x_bar, x = x_new + theta * (x_new - x), x_new
    return x, (px, py)


def nearest_neighbour(y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The training image closest to y on the observed pixels (one mask for the whole batch);
    for inpainting only its pixels in the hole are used."""
    m = mask[0].flatten()                                                   # (784,)
    dist = torch.cdist(y.flatten(1) * m, bank.flatten(1) * m)               # (B, N_bank)
    match = bank[dist.argmin(dim=1)]
    return torch.where(mask > 0, y, match) if m.min() == 0 else match

# %% [markdown]
# Two checks of the TV solver. `div` must be minus the adjoint of `grad`, or the algorithm solves a
# different problem. And for denoising the dual variable certifies the answer: the dual of the ROF problem
# (with weight $\lambda = 1/w$ on the TV term) is $D(p) = \tfrac12\lVert y\rVert^2 - \tfrac12\lVert y +
# \lambda \operatorname{div} p\rVert^2$ over $\lvert p_i\rvert \le 1$, every $D(p)$ is a lower bound on the
# primal minimum, so the **duality gap** (对偶间隙) $P(x) - D(p) \ge 0$ bounds how far $x$ is from
# optimal. We require it below 0.1% of $P$, and show that too few iterations fail that test. For
# inpainting, the fill must keep every observed pixel and have less total variation than the blur and
# median fills with the same border.

# %%
gen = torch.Generator().manual_seed(0)
u = torch.randn(3, 1, 28, 28, generator=gen, dtype=torch.float64)
p1, p2 = torch.randn_like(u), torch.randn_like(u)
gx, gy = grad(u)
torch.testing.assert_close((gx * p1 + gy * p2).sum(), -(u * div(p1, p2)).sum())


def rof_gap(y: torch.Tensor, lam: float, n_iter: int) -> torch.Tensor:
    x, (px, py) = tv_restore(y, torch.ones_like(y), 1 / lam, n_iter)
    primal = 0.5 * (x - y).pow(2).flatten(1).sum(1) + lam * total_variation(x)
    dual = 0.5 * (y.pow(2) - (y + lam * div(px, py)).pow(2)).flatten(1).sum(1)
    return (primal - dual) / primal                                          # (B,)


y_check = observed_val[TASKS[1]][0][:8].double()
gap_few = rof_gap(y_check, 0.4, 20).max().item()
gap_many = rof_gap(y_check, 0.4, TV_ITER).max().item()
print(f"relative duality gap: {gap_few:.1e} after 20 iterations, {gap_many:.1e} after {TV_ITER}")
assert gap_few > 1e-3 > gap_many

y_hole, m_hole = (v[:8] for v in observed_val[TASKS[4]][:2])
fills = {"TV": tv_restore(y_hole, m_hole, math.inf, TV_FILL_ITER)[0],
         "blur": blur_fill(y_hole, m_hole), "median": median_fill(y_hole, m_hole)}
for fill in fills.values():
    assert torch.equal(fill[m_hole > 0], y_hole[m_hole > 0]) and torch.isfinite(fill).all()
tv_of = {k: total_variation(v).mean().item() for k, v in fills.items()}
print("mean total variation of the fills: " + ", ".join(f"{k} {v:.1f}" for k, v in tv_of.items()))
assert tv_of["TV"] < min(tv_of["blur"], tv_of["median"])

# %% tags=["hide-input"]
glue("d52_n_val", N_VAL, display=False)

# %% [markdown]
# Now the settings. For each noise level we try a few values of each method's parameter on the held-out
# images and keep the one with the best mean PSNR. The hole fills keep fixed settings (a blur of width 1
# pixel, 3 × 3 medians, the TV fill run to convergence).

# %%
BLUR_S = [0.5, 0.75, 1.0, 1.5, 2.0]
MEDIAN_K = [3, 5]
TV_LAMBDA = [0.1, 0.2, 0.4, 0.8, 1.2]             # weight of the TV term, w = 1 / lambda


def best_setting(method, options, task) -> float:
    y, _, _ = observed_val[task]
    return max(options, key=lambda o: psnr(method(y, o).clamp(-1, 1), x_val).mean().item())


settings = {}
for task in TASKS[:3]:
    settings[task] = {
        "blur": best_setting(gaussian_blur, BLUR_S, task),
        "median": best_setting(median_filter, MEDIAN_K, task),
        "TV": best_setting(lambda y, lam: tv_restore(y, torch.ones_like(y), 1 / lam, TV_ITER)[0],
                           TV_LAMBDA, task),
    }
    gap = rof_gap(observed_val[task][0].double(), settings[task]["TV"], TV_ITER).max().item()
    print(f"σ = {task[1]}: blur s = {settings[task]['blur']}, median {settings[task]['median']}"
          f" x {settings[task]['median']}, TV λ = {settings[task]['TV']} (duality gap {gap:.1e})")
    assert gap < 1e-3


def classical(task, y: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
    """The four classical restorations of the observations y."""
    if task[0] == "noise":
        s = settings[task]
        return {"blur": gaussian_blur(y, s["blur"]), "median": median_filter(y, s["median"]),
                "TV": tv_restore(y, mask, 1 / s["TV"], TV_ITER)[0],
                "nearest": nearest_neighbour(y, mask)}
    return {"blur": blur_fill(y, mask), "median": median_fill(y, mask),
            "TV": tv_restore(y, mask, math.inf, TV_FILL_ITER)[0],
            "nearest": nearest_neighbour(y, mask)}

# %% [markdown]
# ## A supervised denoiser
#
# The generative models learnt what clothes look like from the 60 000 training images, and the nearest
# neighbour copies from them; the blur, median and TV filters know nothing of the data. The standard
# learned baseline when the damage is known in advance is neither: a **supervised denoiser**
# (监督去噪器), a network trained on pairs (noisy $y$, clean $x$) made from the same training images, for one
# known $\sigma$, to minimise $\lVert f(y) - x\rVert^2$. Ours follows the DnCNN of Zhang et al. (2017):
# a few 3 × 3 convolutions that predict the *noise* (**residual learning**, 残差学习), so
# $f(y) = y - \mathrm{net}(y)$. It is much smaller than the original (17 layers of 64 channels): four
# layers of 16 channels, so each output pixel sees only a {glue:text}`d52_cnn_view` ×
# {glue:text}`d52_cnn_view` neighbourhood of the input. It is also trained briefly: one model
# per noise level, {glue:text}`d52_cnn_steps` Adam steps of {glue:text}`d52_cnn_batch` training images
# with fresh noise at each step, the held-out images excluded (the same bank as the nearest neighbour).
#
# A network trained on the squared error learns, as far as its capacity and training allow, the
# **posterior mean** $\mathbb E[x \mid y]$ (the minimum-MSE estimate, 最小均方误差估计), the estimate
# that PSNR rewards. Inversion instead returns $g(z^\star)$ at the most probable code: one point on the
# model's set of images, not an average over the images that could have produced $y$.

# %%
class SmallDnCNN(nn.Module):
    """DnCNN-style residual denoiser: f(y) = y - net(y), the net predicts the noise."""

    def __init__(self, channels: int = 16, depth: int = 4):
        super().__init__()
        layers = [nn.Conv2d(1, channels, 3, padding=1), nn.ReLU()]        # (B, C, 28, 28)
        for _ in range(depth - 2):
            layers += [nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU()]
        layers.append(nn.Conv2d(channels, 1, 3, padding=1))               # (B, 1, 28, 28)
        self.net = nn.Sequential(*layers)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return y - self.net(y)


def train_denoiser(sigma: float, seed: int, lr: float = 1e-2):
    """A SmallDnCNN trained on (x + sigma * noise, x) pairs from the bank; returns the model and
    its validation PSNR every 50 steps."""
    torch.manual_seed(seed)                                   # the initial weights
    gen = torch.Generator().manual_seed(seed)                 # the images and the noise
    model = SmallDnCNN()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=CNN_STEPS)
    y_val = observed_val[("noise", sigma)][0]
    curve = []
    for step in range(CNN_STEPS):
        x = bank[torch.randint(len(bank), (CNN_BATCH,), generator=gen)]
        y = x + sigma * torch.randn(x.shape, generator=gen)
        loss = F.mse_loss(model(y), x)
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
        if (step + 1) % 50 == 0:
            with torch.no_grad():
                curve.append(psnr(model(y_val).clamp(-1, 1), x_val).mean().item())
    return model.requires_grad_(False), curve


cnn, cnn_curve = {}, {}
t0 = time.process_time()
for i, sigma in enumerate(SIGMAS):
    cnn[sigma], cnn_curve[sigma] = train_denoiser(sigma, seed=200 + i)
    print(f"σ = {sigma}: validation PSNR every 50 steps "
          + " ".join(f"{v:.2f}" for v in cnn_curve[sigma]))
cnn_seconds = time.process_time() - t0
print(f"three denoisers trained in {cnn_seconds:.1f} s of CPU time")

# %% [markdown]
# The catch is the word *known*. Each network learnt one noise level; the matrix below applies every
# model to every level (mean PSNR on the validation images, rows: the $\sigma$ the model was trained for,
# columns: the $\sigma$ of the noise).

# %%
with torch.no_grad():
    cross = torch.tensor([[psnr(cnn[s_train](observed_val[("noise", s)][0]).clamp(-1, 1),
                                x_val).mean().item() for s in SIGMAS] for s_train in SIGMAS])
print("trained \\ applied  " + "  ".join(f"σ = {s:<4}" for s in SIGMAS))
for s_train, r in zip(SIGMAS, cross):
    print(f"σ = {s_train:<14}" + "  ".join(f"{v:8.2f}" for v in r))

# %% tags=["hide-input"]
# each column's best model is the one trained for that sigma: a model used at the wrong sigma loses
assert all(cross[:, j].argmax().item() == j for j in range(len(SIGMAS))), cross
mismatch = (cross[0, 2] - cross[2, 2]).item()       # the sigma = 0.2 model on sigma = 1.0 noise
assert mismatch < -1.0, mismatch
gain_late = {s: c[-1] - c[len(c) // 2 - 1] for s, c in cnn_curve.items()}   # last half of training
glue("d52_cnn_steps", CNN_STEPS, display=False)
glue("d52_cnn_batch", CNN_BATCH, display=False)
depth = sum(isinstance(m, nn.Conv2d) for m in cnn[SIGMAS[0]].net)
glue("d52_cnn_view", 1 + 2 * depth, display=False)     # each 3 x 3 layer: one pixel a side
glue("d52_cnn_seconds", cnn_seconds, display=False)
glue("d52_cnn_mismatch", -mismatch, display=False)
glue("d52_cnn_late_strong", gain_late[SIGMAS[2]], display=False)
glue("d52_cnn_late_weak", gain_late[SIGMAS[0]], display=False)
glue("d52_cnn_trained", "still rising when the training stopped; the full profile trains longer"
     if max(gain_late.values()) > 0.1 else "levelling off", display=False)

# %% [markdown]
# Used on σ = {glue:text}`d52_sigma2` noise, the model trained for σ = {glue:text}`d52_sigma0` scores
# {glue:text}`d52_cnn_mismatch:.1f` dB below the one trained for σ = {glue:text}`d52_sigma2`; each
# damage needs its own training pairs and its own model (the holes would need masked images). The
# inversions below use one VAE and one GAN for all six rows; only $s$ and the mask change. Training took
# {glue:text}`d52_cnn_seconds:.0f` s of CPU time for the three models; in the last half of the steps
# the validation PSNR changed by {glue:text}`d52_cnn_late_weak:+.2f` dB at σ = {glue:text}`d52_sigma0`
# and {glue:text}`d52_cnn_late_strong:+.2f` dB at σ = {glue:text}`d52_sigma2`
# ({glue:text}`d52_cnn_trained`).

# %% [markdown]
# ## Inverting a generative model
#
# With a generator $g$ and the prior $p(z) = \mathcal N(0, I)$, the most probable code given the
# observation, the **maximum a posteriori** (MAP, 最大后验) code, minimises the **energy** (the negative
# log-posterior up to a constant)
#
# $$ E(z) = \frac{\lVert m \odot (y - g(z))\rVert^2}{2 s^2} + \frac{\lVert z\rVert^2}{2} , $$
#
# the first term from the Gaussian likelihood of the observed pixels, the second from the prior; the loss
# looks only at observed pixels, so the hole is filled by whatever the model finds consistent with the rest
# {cite}`yeh2017semantic`. We minimise it with Adam over $z$, the networks' weights fixed, and return
# $g(z^\star)$ (for holes: with the observed pixels put back). Two choices remain.
#
# *The noise level $s$.* Even a clean image is not exactly $g(z)$ for any $z$: the model has a **misfit**.
# We measure it once per model, as the root-mean-square error of the best fit to clean validation images,
# $\sigma_g$ (the last training images: held out from the nearest-neighbour bank and used to choose the
# baselines' settings, but seen by the generative models in training, so $\sigma_g$ is if anything
# optimistic for test images), and treat it as extra Gaussian noise: $s^2 = \sigma^2 + \sigma_g^2$
# ($s = \sigma_g$ for the
# holes, where $\sigma = 0$). That is an assumption, not a property of the model; it keeps the prior's
# weight sensible when $\sigma$ is small.
#
# *The starting point.* For the VAE, the encoder gives one for free: $\mu(y)$, its **amortised** guess
# (摊销推断), trained to invert the decoder on clean images. Decoding $\mu(y)$ directly is the cheapest
# method of all, and it is what Article A calls "VAE denoising" (errata E10). Note what makes it a
# denoiser at all: the VAE was trained on *clean* images, so its decoder can only produce clean-looking
# ones; a VAE trained to reconstruct noisy images would keep the part of the noise that fits through its
# code, while the rest is dropped by the bottleneck, not learnt away (errata E10). A GAN has no encoder, so we
# start from the best of {glue:text}`d52_n_bank` random codes (lowest energy), generated once and shared
# by all images.
#
# The VAE's own decoder "likelihood", a Bernoulli cross-entropy on grey levels, is not used: it is not a
# density of grey levels (3.4), and it has no place for noise that pushes pixels outside $[0, 1]$. The
# Gaussian $p(y \mid x)$ above is the observation's actual likelihood.

# %%
# trained (full profile) on the best device, then used on the CPU with the page's CPU tensors
vae = recipes.load_or_train("vae-fashion", device=dev).cpu()
G = recipes.load_or_train("dcgan-fashion", device=dev).cpu()
for p in [*vae.parameters(), *G.parameters()]:
    p.requires_grad_(False)


def vae_mean(z: torch.Tensor) -> torch.Tensor:
    """The VAE decoder's mean image in [-1, 1]."""
    return vae.to_image(vae.decode(z))


def energy(g, z: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, s: float) -> torch.Tensor:
    """E(z) of each image, (B,): Gaussian misfit on the observed pixels + the prior's |z|^2 / 2."""
    return (mask * (y - g(z)) ** 2).flatten(1).sum(1) / (2 * s**2) + 0.5 * (z**2).sum(1)


def invert(g, y, mask, s, z_init, steps, lr=0.1):
    """Minimise the energy of each image over z with Adam; return z* and the energy per step."""
    z = z_init.clone().requires_grad_()
    opt = torch.optim.Adam([z], lr=lr)
    trace = []
    for _ in range(steps):
        e = energy(g, z, y, mask, s)
        opt.zero_grad()
        e.sum().backward()       # a sum: each image's code gets its own gradient
        opt.step()
        trace.append(e.detach())
    final = energy(g, z.detach(), y, mask, s).detach()
    return z.detach(), torch.stack(trace + [final])                         # (steps + 1, B)


def vae_guess(y: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return vae.encode(y.clamp(-1, 1))[0]


with torch.no_grad():
    z_bank = torch.randn(2048, G.z_dim, generator=torch.Generator().manual_seed(1))
    g_bank = G(z_bank)                                                      # (2048, 1, 28, 28)


def gan_guess(y: torch.Tensor, mask: torch.Tensor, s: float) -> torch.Tensor:
    """The lowest-energy code of the bank for each image (one mask for the whole batch)."""
    m = mask[0].flatten()
    misfit = torch.cdist(y.flatten(1) * m, g_bank.flatten(1) * m) ** 2 / (2 * s**2)
    return z_bank[(misfit + 0.5 * (z_bank**2).sum(1)).argmin(dim=1)]


ones = torch.ones_like(x_val)
z_v, _ = invert(vae_mean, x_val, ones, 0.05, vae_guess(x_val), STEPS_VAE)
z_g, _ = invert(G, x_val, ones, 0.05, gan_guess(x_val, ones, 0.05), STEPS_GAN)
with torch.no_grad():
    misfit = {"VAE": (vae_mean(z_v) - x_val).pow(2).mean().sqrt().item(),
              "VAE encoder": (vae_mean(vae_guess(x_val)) - x_val).pow(2).mean().sqrt().item(),
              "GAN": (G(z_g) - x_val).pow(2).mean().sqrt().item()}
print("RMS misfit to clean validation images: "
      + ", ".join(f"{k} {v:.3f}" for k, v in misfit.items()))
assert misfit["VAE"] < misfit["VAE encoder"], "the optimised code fits better than the guess"

# %% tags=["hide-input"]
glue("d52_n_bank", len(z_bank), display=False)
glue("d52_misfit_vae", misfit["VAE"], display=False)
glue("d52_misfit_enc", misfit["VAE encoder"], display=False)
glue("d52_misfit_gan", misfit["GAN"], display=False)


# %% [markdown]
# The VAE's decoder reaches clean images to within {glue:text}`d52_misfit_vae:.3f` (RMS, on a range of 2)
# after optimisation and {glue:text}`d52_misfit_enc:.3f` from the encoder's guess; the GAN to within
# {glue:text}`d52_misfit_gan:.3f`. That misfit is roughly a ceiling on what inversion can do: even with no
# damage at all, its PSNR stays near $10\log_{10}(4/\sigma_g^2)$ (only roughly: the table below averages
# per-image PSNRs, which by Jensen's inequality is at least the PSNR of the pooled error, and $\sigma_g$ was
# measured on other images).
#
# ## The comparison
#
# Every method on every task, on the same {glue:text}`d52_n_test` test images.

# %%
def restore_all(task) -> tuple[dict[str, torch.Tensor], dict]:
    y, mask, sigma = observed[task]
    out = {"input": y.clone()}
    out.update(classical(task, y, mask))
    if task[0] == "noise":                           # a supervised model exists only for noise
        with torch.no_grad():
            out["supervised CNN"] = cnn[sigma](y)
    s_vae = math.sqrt(sigma**2 + misfit["VAE"] ** 2)
    s_gan = math.sqrt(sigma**2 + misfit["GAN"] ** 2)
    guess = vae_guess(y)
    with torch.no_grad():
        out["VAE encoder"] = vae_mean(guess)
    z, trace_v = invert(vae_mean, y, mask, s_vae, guess, STEPS_VAE)
    with torch.no_grad():
        out["VAE inversion"] = vae_mean(z)
    z, trace_g = invert(G, y, mask, s_gan, gan_guess(y, mask, s_gan), STEPS_GAN)
    with torch.no_grad():
        out["GAN inversion"] = G(z)
    if task[0] == "hole":                                  # keep what was observed
        out = {k: torch.where(mask > 0, y, v) for k, v in out.items()}
    return out, {"VAE": trace_v, "GAN": trace_g}


results, traces, restored = {}, {}, {}
for task in TASKS:
    restored[task], traces[task] = restore_all(task)
    results[task] = {k: scores(v, task, observed[task][1]) for k, v in restored[task].items()}
METHODS = list(results[TASKS[0]])
for task in TASKS:
    for name, trace in traces[task].items():
        improved = (trace[-1] < trace[0]).float().mean().item()
        assert improved > 0.95, (task, name, improved)   # the optimiser lowers the energy
print(f"all restorations in {time.perf_counter() - t_start:.0f} s since the first cell")

# %% tags=["hide-input"]
glue("d52_n_test", N_TEST, display=False)


# %% [markdown]
# The table gives the mean PSNR (dB) and, below it, the mean SSIM of each method, with the best of each row
# in bold. For the holes the PSNR counts only the missing pixels, and the "input" column is the hole left
# grey. The supervised CNN has no entry for the holes: it was trained for noise only. The last column says
# by how much the PSNR winner beats the runner-up, with the standard error of the per-image differences
# (a paired comparison: the same images for both).

# %%
def winner(task, metric: int) -> tuple[str, str, float, float]:
    """(best method, runner-up, mean margin, its paired standard error) on metric 0 (PSNR) or 1."""
    means = {k: v[metric].mean().item() for k, v in results[task].items()}
    first, second = sorted(means, key=means.get, reverse=True)[:2]
    diff = results[task][first][metric] - results[task][second][metric]
    return first, second, diff.mean().item(), (diff.std() / math.sqrt(len(diff))).item()


def row(cells: list[str], tag: str = "td") -> str:
    return "<tr>" + "".join(f"<{tag}>{c}</{tag}>" for c in cells) + "</tr>"


rows = [row(["task"] + METHODS + ["best PSNR: margin (dB)"], "th")]
for label, task in zip(LABELS, TASKS):
    cells = []
    for k in METHODS:
        if k not in results[task]:                   # no supervised model for the holes
            cells.append("—")
            continue
        p, q = (results[task][k][m].mean().item() for m in (0, 1))
        p = f"<b>{p:.2f}</b>" if k == winner(task, 0)[0] else f"{p:.2f}"
        q = f"<b>{q:.3f}</b>" if k == winner(task, 1)[0] else f"{q:.3f}"
        cells.append(f"{p}<br>{q}")
    best, second, margin, se = winner(task, 0)
    rows.append(row([label] + cells + [f"{best}: +{margin:.2f} ± {se:.2f}<br>over {second}"]))
display(HTML('<table style="font-size: 0.85em">' + "".join(rows) + "</table>"))

# %% tags=["hide-input"]
wins = {label: winner(task, 0) for label, task in zip(LABELS, TASKS)}
wins_ssim = {label: winner(task, 1) for label, task in zip(LABELS, TASKS)}
for i, label in enumerate(LABELS):
    best, second, margin, se = wins[label]
    glue(f"d52_win{i}", best, display=False)
    glue(f"d52_win{i}_second", second, display=False)
    glue(f"d52_win{i}_margin", margin, display=False)
    verdict = (f"clearly ahead of {second}" if margin > 2 * se
               else f"tied with {second} within the noise of the comparison")
    glue(f"d52_win{i}_verdict", verdict, display=False)
    glue(f"d52_win{i}_ssim", wins_ssim[label][0], display=False)
glue("d52_sigma0", SIGMAS[0], display=False)
glue("d52_sigma1", SIGMAS[1], display=False)
glue("d52_sigma2", SIGMAS[2], display=False)


def mean_psnr(task, method: str) -> float:
    return results[task][method][0].mean().item()


# the claims of the text below
GENERATIVE = ["VAE encoder", "VAE inversion", "GAN inversion"]
CLASSICAL = ["blur", "median", "TV"]
weak, strong, big_hole = TASKS[0], TASKS[2], TASKS[-1]
assert wins[LABELS[0]][0] not in GENERATIVE                  # weak noise: not a generative model
assert all(mean_psnr(weak, "input") > mean_psnr(weak, k) for k in GENERATIVE)
best_gen = {t: max(GENERATIVE, key=lambda k: mean_psnr(t, k)) for t in TASKS}
best_cla = {t: max(CLASSICAL, key=lambda k: mean_psnr(t, k)) for t in TASKS}
# strong noise: the best generative model beats every data-free filter
assert mean_psnr(strong, best_gen[strong]) > mean_psnr(strong, best_cla[strong]) + 1.0
# the supervised CNN beats every data-free filter at the two weaker noise levels, wins the first
assert all(mean_psnr(t, "supervised CNN") > mean_psnr(t, best_cla[t]) + 0.5 for t in TASKS[:2])
assert wins[LABELS[0]][0] == "supervised CNN"
cnn_wins = [str(t[1]) for t, label in zip(TASKS, LABELS) if wins[label][0] == "supervised CNN"]
glue("d52_cnn_wins", " and ".join(cnn_wins), display=False)
for i, t in enumerate(TASKS[:3]):                       # CNN against the best generative model
    d = results[t]["supervised CNN"][0] - results[t][best_gen[t]][0]
    dm, dse = d.mean().item(), (d.std() / math.sqrt(len(d))).item()
    side = "ahead of" if dm > 0 else "behind"
    resolved = "" if abs(dm) > 2 * dse else ", within the noise of the comparison"
    glue(f"d52_cnn{i}", mean_psnr(t, "supervised CNN"), display=False)
    glue(f"d52_cnn{i}_vs_gen", f"{side} {best_gen[t]} by {abs(dm):.2f} ± {dse:.2f} dB{resolved}",
         display=False)
assert all(mean_psnr(t, "VAE inversion") > mean_psnr(t, "VAE encoder") for t in TASKS)
fill_gap = (max(mean_psnr(big_hole, k) for k in ["nearest", "VAE inversion", "GAN inversion"])
            - max(mean_psnr(big_hole, k) for k in CLASSICAL))
assert fill_gap > 1.0                                        # the largest hole: 1 dB or more
assert all(mean_psnr(t, "VAE encoder") < mean_psnr(t, "blur") for t in TASKS[:3])
small = TASKS[3]                                             # the smallest hole: TV near the best
tv_behind = results[small][wins[LABELS[3]][0]][0] - results[small]["TV"][0]
assert tv_behind.mean() < 1.0, tv_behind.mean()
glue("d52_tv_behind_small", tv_behind.mean(), display=False)
glue("d52_fill_gap", fill_gap, display=False)
glue("d52_nn_strong", mean_psnr(strong, "nearest"), display=False)
glue("d52_best_strong", mean_psnr(strong, best_gen[strong]), display=False)
glue("d52_best_gen_strong", best_gen[strong], display=False)
glue("d52_best_cla_strong", best_cla[strong], display=False)
glue("d52_cla_strong", mean_psnr(strong, best_cla[strong]), display=False)


def late_share(trace: torch.Tensor) -> float:
    """Share of the energy decrease made in the last fifth of the steps (mean over images)."""
    total, late = trace[0] - trace[-1], trace[-1 - len(trace) // 5] - trace[-1]
    return (late.sum() / total.sum()).item()


late = {name: float(np.mean([late_share(traces[t][name]) for t in TASKS]))
        for name in ("VAE", "GAN")}
print(f"share of the energy decrease in the last fifth of the steps: VAE {late['VAE']:.1%}, "
      f"GAN {late['GAN']:.1%}")
assert not QUICK or late["GAN"] > 2 * late["VAE"]
glue("d52_late_vae", 100 * late["VAE"], display=False)
glue("d52_late_gan", 100 * late["GAN"], display=False)
glue("d52_steps_vae", STEPS_VAE, display=False)
glue("d52_steps_gan", STEPS_GAN, display=False)
n_bank = len(z_bank)
if late["GAN"] > 2 * late["VAE"]:
    convergence = (f"with {STEPS_GAN} steps from the best of {n_bank} random codes, the GAN's "
                   "search is not finished, while the VAE, starting from its encoder's guess, has "
                   f"nearly converged in {STEPS_VAE}")
else:
    convergence = (f"with {STEPS_GAN} steps (GAN, from the best of {n_bank} random codes) and "
                   f"{STEPS_VAE} (VAE, from its encoder's guess), neither search is far from "
                   "its end")
glue("d52_convergence", convergence, display=False)

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 4.2))
styles = {"input": ":", "blur": "--", "median": "--", "TV": "--", "nearest": "-.",
          "supervised CNN": "-.",
          "VAE encoder": "-", "VAE inversion": "-", "GAN inversion": "-"}
for ax, kind, xs, xlabel in [(axes[0], "noise", SIGMAS, "noise σ"),
                             (axes[1], "hole", HOLES, "side of the missing square (pixels)")]:
    for method in [k for k in METHODS if k in results[(kind, xs[0])]]:
        ys = [results[(kind, v)][method][0].mean().item() for v in xs]
        ax.plot(xs, ys, styles[method], marker="o", label=method)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("PSNR (dB)" + (" in the hole" if kind == "hole" else ""))
    ax.set_xticks(xs)
    ax.grid(alpha=0.3)
axes[0].set_title("denoising: the prior pays off as the noise grows")
axes[1].set_title("inpainting: PSNR over the missing pixels")
axes[1].legend(fontsize=8, ncol=2)
plt.show()

# %%
columns = ["clean"] + METHODS
picks = [0, 1, 2, 3, 4, 5]                               # one test image per task
blank = torch.zeros(1, 1, 28, 28)                        # grey: no supervised model for holes
tiles = torch.cat([torch.cat([x_test[i:i + 1]] + [restored[t][k][i:i + 1].clamp(-1, 1)
                                                    if k in restored[t] else blank
                                                    for k in METHODS])
                   for i, t in zip(picks, TASKS)])
fig, ax = plt.subplots(figsize=(11, 7.5))
plotting.show_grid(tiles, nrow=len(columns), ax=ax, row_labels=LABELS,
                   title="one test image per task, restored by every method "
                         "(grey: no supervised CNN for holes)")
ax.set_xticks([2 + j * 30 + 14 for j in range(len(columns))], columns, rotation=30, fontsize=8)
plt.show()

# %% [markdown]
# What the numbers say (all of them computed above; rerun the page and they follow):
#
# * **Weak noise** (σ = {glue:text}`d52_sigma0`): the best PSNR is {glue:text}`d52_win0`'s,
#   {glue:text}`d52_win0_margin:.2f` dB ahead of {glue:text}`d52_win0_second`. The generative models
#   lose here, even to the clipped noisy image itself. Clipping to $[-1, 1]$ alone removes the half of the
#   noise that points out of range, on the black background above all, and at this level the noise is
#   hardly larger than the models' misfit (RMS {glue:text}`d52_misfit_vae:.3f` for the VAE,
#   {glue:text}`d52_misfit_gan:.3f` for the GAN), so they have little left to gain.
# * **Strong noise** (σ = {glue:text}`d52_sigma2`): {glue:text}`d52_win2` wins, by
#   {glue:text}`d52_win2_margin:.2f` dB ({glue:text}`d52_win2_verdict`).
#   When little of the image survives, knowing what garments look like is worth more than any smoothness
#   assumption: {glue:text}`d52_best_gen_strong` reaches {glue:text}`d52_best_strong:.2f` dB, the best
#   data-free filter ({glue:text}`d52_best_cla_strong`) {glue:text}`d52_cla_strong:.2f` dB. The nearest
#   training image, another way of knowing the data, reaches {glue:text}`d52_nn_strong:.2f` dB.
# * **The supervised CNN**, trained for each σ on the same training images: at σ =
#   {glue:text}`d52_sigma0` it scores {glue:text}`d52_cnn0:.2f` dB ({glue:text}`d52_cnn0_vs_gen`), at
#   σ = {glue:text}`d52_sigma1` {glue:text}`d52_cnn1:.2f` dB ({glue:text}`d52_cnn1_vs_gen`), at σ =
#   {glue:text}`d52_sigma2` {glue:text}`d52_cnn2:.2f` dB ({glue:text}`d52_cnn2_vs_gen`), after
#   {glue:text}`d52_cnn_steps` training steps. What it cannot do is shown by the matrix above and the
#   empty cells of the table: it is trained for one damage, while the same VAE also filled every hole.
# * **Holes**: the winners for the three sizes are {glue:text}`d52_win3` ({glue:text}`d52_win3_verdict`),
#   {glue:text}`d52_win4` ({glue:text}`d52_win4_verdict`) and {glue:text}`d52_win5`
#   ({glue:text}`d52_win5_verdict`). A small hole is filled well from its border (TV within
#   {glue:text}`d52_tv_behind_small:.2f` dB of the winner); in a large one the classical fills only
#   smear the border inwards, and the best of them trails the best whole-garment fill (a model or the
#   nearest neighbour) by {glue:text}`d52_fill_gap:.1f` dB.
# * The encoder's amortised guess alone is worse than a plain blur on noisy images: the encoder never saw
#   noise in training. Optimising the code from that guess is better on every row.
# * By SSIM the winners are, row by row: {glue:text}`d52_win0_ssim`, {glue:text}`d52_win1_ssim`,
#   {glue:text}`d52_win2_ssim`, {glue:text}`d52_win3_ssim`, {glue:text}`d52_win4_ssim`,
#   {glue:text}`d52_win5_ssim`.
#
# How converged are the inversions? In the last fifth of their steps the VAE's codes still lowered the
# energy by {glue:text}`d52_late_vae:.1f`% of its total decrease, the GAN's by
# {glue:text}`d52_late_gan:.1f`%: {glue:text}`d52_convergence`. The full profile runs more steps on
# more images. These are small models on 28 × 28 images, scored on {glue:text}`d52_n_test` test images; the paired standard errors in the table
# say which margins are larger than the noise of the comparison. Yeh et al. add a term from the
# discriminator and blend the fill into the border {cite}`yeh2017semantic`; we left both out to keep the
# method to its core.

# %% [markdown]
# ## Exercises
#
# ### 5.2a Warm-up: PSNR
#
# Write `my_psnr(restored, clean)`: the PSNR in dB of each image of two batches (B, 1, H, W) with values
# in $[-1, 1]$, shape (B,).

# %%
def my_psnr(restored, clean):
    ...  # your code


ch5a.q52a.check(my_psnr);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def my_psnr(restored, clean):
#     mse = (restored - clean).pow(2).flatten(1).mean(dim=1)
#     return 10 * torch.log10(2.0**2 / mse)
# ```
# The peak is the *range* of the values, 2 for $[-1, 1]$; with 1 every PSNR comes out 6.02 dB too low, and
# with 255 it is meaningless for float images. Decibels take $10\log_{10}$ of a ratio of powers (squared
# quantities), or equivalently $20\log_{10}$ of a ratio of amplitudes, $2/\sqrt{\mathrm{MSE}}$.
# :::

# %% tags=["hide-cell"]
assert ch5a.q52a.check(psnr, quiet=True)       # the page's psnr passes the checker
assert not ch5a.q52a.check(lambda a, b: metrics.psnr(a, b, data_range=1.0, reduction="none"),
                           quiet=True)

# %% [markdown]
# ### 5.2b Warm-up: the loss on the observed pixels
#
# Write `my_masked_mse(x, y, mask)`: the mean squared error of each image over the pixels where `mask` is
# 1; the pixels where it is 0 hold junk. Shape (B,).

# %%
def my_masked_mse(x, y, mask):
    ...  # your code


ch5a.q52b.check(my_masked_mse);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def my_masked_mse(x, y, mask):
#     return (mask * (x - y) ** 2).flatten(1).sum(dim=1) / mask.flatten(1).sum(dim=1)
# ```
# Both the sum and the count run over the observed pixels only. Dividing by all the pixels gives a number
# that shrinks with the size of the hole, so images with large holes would count less in a batch.
# :::

# %% tags=["hide-cell"]
assert ch5a.q52b.check(masked_mse, quiet=True)   # the page's masked_mse passes the checker
task = TASKS[4]
torch.testing.assert_close(masked_mse(restored[task]["TV"], x_test, observed[task][1]),
                           torch.zeros(N_TEST))   # TV inpainting keeps every observed pixel

# %% [markdown]
# ### 5.2c Predict: the posterior mean against a posterior sample
#
# The introduction said that PSNR rewards the posterior mean, and that a **posterior sample**
# (后验样本), a draw from $p(x \mid y)$, scores lower even when it looks sharper. How much lower? Take a
# toy where everything is Gaussian: each pixel is $x \sim \mathcal N(0, 0.5^2)$, independently, and
# $y = x + \sigma\varepsilon$ with $\sigma = 1$. Denoiser A returns $\mathbb E[x \mid y]$, denoiser B one
# sample of $p(x \mid y)$. Write down the mean PSNR of A minus that of B, in dB, before computing
# anything; the checker measures it on 256 toy images of 28 × 28 pixels.

# %%
answer = ...  # your prediction: PSNR(posterior mean) - PSNR(posterior sample), in dB

ch5a.q52c.check(answer);

# %% [markdown]
# :::{dropdown} Solution
# Given $y$, the sample $\tilde x$ and the true $x$ are two independent draws from the same posterior.
# So $\tilde x - x = (\tilde x - \mathbb E[x \mid y]) - (x - \mathbb E[x \mid y])$ is the difference
# of two independent errors, each of variance $\mathrm{Var}(x \mid y)$: the sample's MSE is
# $2\,\mathrm{Var}(x \mid y)$, twice the minimum MSE of the mean. A factor 2 in MSE is
# ```python
# answer = 10 * math.log10(2)     # about 3.01 dB
# ```
# The argument uses neither the Gaussian prior nor the noise level nor the data range: for *any* prior, a
# perfect posterior sampler is 3 dB behind the posterior mean. That is the price of sharpness in the
# perception–distortion trade-off, and a reason not to read a sampler's lower PSNR as a worse model.
# :::

# %% tags=["hide-cell"]
answer_solution = 10 * math.log10(2)
assert ch5a.q52c.check(answer_solution, quiet=True)

# %% [markdown]
# ### 5.2d Apply: the best denoiser for black-or-white pixels
#
# A network trained on the squared error learns the posterior mean. For a Gaussian prior that is a linear
# function of $y$ (6.1 derives it); for other priors it is not. Take a pixel that is either white,
# $x = +1$ with probability $p$, or black, $x = -1$ (like the background and the ink of a binarised
# image), observed as $y = x + \sigma\varepsilon$. Write `mmse_binary(y, sigma, p)`: the minimum-MSE
# estimate $\mathbb E[x \mid y]$ for a float64 tensor `y` and numbers `sigma`, `p`. It must stay finite
# for large $\lvert y\rvert$. Hint: Bayes' rule gives the **log-odds** (对数几率)
# $\log \frac{P(x = 1 \mid y)}{P(x = -1 \mid y)}$.

# %%
def mmse_binary(y, sigma, p):
    ...  # your code


ch5a.q52d.check(mmse_binary);

# %% [markdown]
# :::{dropdown} Solution
# The log-odds are $\log\frac{p}{1-p} + \frac{(y+1)^2 - (y-1)^2}{2\sigma^2} = \log\frac{p}{1-p} +
# \frac{2y}{\sigma^2}$, and $P(+1 \mid y) - P(-1 \mid y) = \tanh(\text{half the log-odds})$:
# ```python
# def mmse_binary(y, sigma, p):
#     half_log_odds = y / sigma**2 + 0.5 * math.log(p / (1 - p))    # half of log P(+1 | y) / P(-1 | y)
#     return torch.tanh(half_log_odds)                               # P(+1 | y) - P(-1 | y)
# ```
# Three estimates that look reasonable are not this one. The MAP estimate, the sign of the log-odds, is
# always exactly black or white: sharp, but with a larger MSE. The linear (Wiener) estimate with the
# prior's mean and variance is the best *linear* denoiser, and the posterior mean only for a Gaussian
# prior. Clipping $y$ to $[-1, 1]$ uses neither $\sigma$ nor $p$. Near $y = 0$ the posterior mean is a
# grey between the two values, the smooth compromise a network trained on squared error produces where
# it is unsure.
# :::

# %% tags=["hide-cell"]
def mmse_binary_solution(y, sigma, p):
    return torch.tanh(y / sigma**2 + 0.5 * math.log(p / (1 - p)))


assert ch5a.q52d.check(mmse_binary_solution, quiet=True)

# %% [markdown]
# ## Summary
#
# * Denoising and inpainting are inverse problems: a likelihood for the damage, $p(y \mid x)$, and a prior
#   for the image, $p(x)$. A generative model is a prior; inverting it means searching its latent space for
#   the code that explains the observed pixels.
# * Score restorations with PSNR (range 2 for $[-1, 1]$, $10\log_{10}$) and SSIM, on images the settings
#   were not chosen on, and compute the winner.
# * The generative prior wins over the classical, data-free methods when much information is lost
#   (strong noise). With little damage, classical methods keep more detail than a model whose best fit to
#   a clean image is already imperfect.
# * A supervised denoiser (a small CNN trained on noisy and clean pairs at the known σ) is the baseline a
#   generative prior must face: it had the best PSNR at σ = {glue:text}`d52_cnn_wins`, but it needs one
#   model per damage and scores lower at a σ it was not trained for, while one generative model served
#   all six rows. PSNR rewards the posterior mean, which is what a network trained on squared error
#   learns.
# * The VAE's encoder gives a fast amortised guess; optimising the code from there fits better.
