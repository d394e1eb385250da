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
# # 6.1 From noise to data

# %% tags=["remove-input"]
from aigc_course.plotting import page_info

page_info("01_noise_to_data")

# %% [markdown]
# Parts II and III built two generators. A GAN maps noise to data in one step and learns by playing a
# game: its samples are sharp, but its training is a dynamical system, and 2.3 watched it drop modes. A
# VAE maximises a bound on the likelihood: training is stable and covers the data, but its one-step
# Gaussian decoder blurs. A **diffusion model** (扩散模型) {cite}`sohldickstein2015deep,ho2020ddpm` takes
# a third road. It fixes a simple process that destroys data by adding noise a little at a time, and
# learns only to undo it: a **denoising** (去噪) regression, with no adversary and no encoder. Generating
# is then many small steps from noise back to data. The price is paid at sampling time: tens of network
# evaluations per sample instead of one.
#
# This page builds the idea on the 8 Gaussians of 2.3, where every density is known in closed form:
#
# 1. the forward process (前向过程) of DDPM and its exact marginal, checked by simulating the chain;
# 2. denoising as regression: the best estimate of $x_0$ from a noisy $x_t$ is $\mathbb E[x_0 \mid x_t]$;
# 3. Tweedie's formula, which turns that estimate into the score $\nabla \log p_t$;
# 4. a small network trained by denoising score matching, compared with the exact answer;
# 5. sampling, and mode coverage beside the GAN of 2.3.
#
# The rest of Part VI: 6.2 reads diffusion as a deep VAE (its ELBO, the four prediction targets, noise
# schedules); 6.3 flow matching and the probability-flow ODE; 6.4 a U-Net on Fashion-MNIST and its
# samplers; 6.5 classifier-free guidance; 6.6 diffusion in the latent space of the course VAE.

# %%
import math
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Markdown, display

import aigc_course as ac
from aigc_course import checkpoint, data, diffusion, metrics, plotting, recipes, train
from aigc_course.config import TrainConfig
from aigc_course.diffusion import Diffusion, DiffusionConfig
from aigc_course.exercises import ch6_noise
from aigc_course.plotting import glue

ac.set_seed(0)
ac.runtime.set_threads(1)  # tiny networks: one thread avoids hand-off costs between cores
QUICK = ac.profile() == "quick"
print(ac.describe(torch.device("cpu")))

# %% [markdown]
# ## The forward process
#
# DDPM {cite}`ho2020ddpm` adds Gaussian noise in $T = 1000$ small steps, a Markov chain (马尔可夫链):
#
# $$q(x_k \mid x_{k-1}) = \mathcal N\big(\sqrt{1-\beta_k}\,x_{k-1},\ \beta_k I\big),\qquad k = 1,\dots,T,$$
#
# with a **noise schedule** (噪声调度) $\beta_k$ rising linearly from $10^{-4}$ to $0.02$. The factor
# $\sqrt{1-\beta_k}$ shrinks the signal as noise is added, so that a unit variance stays a unit variance:
# $(1-\beta_k)\cdot 1 + \beta_k = 1$ (the chain is **variance preserving**, 方差保持).
#
# We never need to run the chain: its **marginal** (边缘分布) has a closed form. With
# $\bar\alpha_k = \prod_{j \le k}(1-\beta_j)$,
#
# $$q(x_k \mid x_0) = \mathcal N\big(\sqrt{\bar\alpha_k}\,x_0,\ (1-\bar\alpha_k) I\big).$$
#
# By induction: if $x_{k-1} = \sqrt{\bar\alpha_{k-1}}\,x_0 + \sqrt{1-\bar\alpha_{k-1}}\,\varepsilon'$, then
# $x_k = \sqrt{1-\beta_k}\,x_{k-1} + \sqrt{\beta_k}\,\varepsilon'' = \sqrt{\bar\alpha_k}\,x_0 + (\dots)$,
# where $(\dots)$ is a sum of two independent Gaussians with variance
# $(1-\beta_k)(1-\bar\alpha_{k-1}) + \beta_k = 1 - \bar\alpha_k$. The signal factor is a **product** of the
# $1-\beta_j$; $1 - \sum_j \beta_j$ is only its first-order approximation, and it turns negative
# ($\sum_j \beta_j \approx 10$ over the whole chain).
#
# The check: run the chain step by step on 10 000 points of the 8 Gaussians and, at a few steps $k$, fit
# $x_k \approx a\, x_0$ by least squares. The slope $a$ must match $\sqrt{\bar\alpha_k}$ and the residual's
# standard deviation $\sqrt{1-\bar\alpha_k}$, within 4 standard errors. The reference values come from the
# package's `diffusion.alpha_sigma(k / T, "ddpm")`. Three wrong marginals must fail: $1 - \sum_j\beta_j$ in
# place of the product, no shrinking of the signal ($x_0 + \sqrt{\sum_j\beta_j}\,\varepsilon$), and no
# square roots.

# %%
T = 1000
betas = torch.linspace(1e-4, 0.02, T, dtype=torch.float64)   # beta_1 ... beta_T (Ho et al. 2020)
x0 = data.toy2d("8gaussians", 10_000, seed=0).double()        # (N, 2)
gen = torch.Generator().manual_seed(0)
x, chain = x0, {0: x0}
for k in range(1, T + 1):                                     # one step of q(x_k | x_{k-1})
    noise = torch.randn(x.shape, generator=gen, dtype=torch.float64)
    x = (1 - betas[k - 1]).sqrt() * x + betas[k - 1].sqrt() * noise
    if k % 25 == 0:
        chain[k] = x                                          # kept for the figures

alpha_bar, sum_beta = torch.cumprod(1 - betas, 0), torch.cumsum(betas, 0)  # index k - 1 <-> step k
MARGINALS = {  # (signal factor, noise std) of q(x_k | x_0): the package and three wrong formulas
    "package": lambda k: diffusion.alpha_sigma(torch.tensor(k / T, dtype=torch.float64), "ddpm"),
    "1 - sum(beta)": lambda k: ((1 - sum_beta[k - 1]).clamp(0, 1).sqrt(),
                                sum_beta[k - 1].clamp(0, 1).sqrt()),
    "no shrinking": lambda k: (torch.tensor(1.0), sum_beta[k - 1].sqrt()),
    "no square roots": lambda k: (alpha_bar[k - 1], 1 - alpha_bar[k - 1]),
}
print("step k | fitted slope   residual std |  z-scores (slope, std) of each formula")
passes = {name: [] for name in MARGINALS}
for k in (50, 150, 400, 1000):
    xk = chain[k]
    slope = (xk * x0).sum() / (x0 * x0).sum()
    std = (xk - slope * x0).std()
    se_slope, se_std = std / (x0 * x0).sum().sqrt(), std / math.sqrt(2 * xk.numel())
    row = []
    for name, formula in MARGINALS.items():
        a, s = formula(k)
        z = max(abs(slope - a) / se_slope, abs(std - s) / se_std)
        passes[name].append(bool(z < 4))
        row.append(f"{name} {z:7.1f}")
    print(f"{k:6d} | {slope:12.4f} {std:14.4f} |  " + "  ".join(row))
    torch.testing.assert_close(MARGINALS["package"](k)[0] ** 2, alpha_bar[k - 1])
print({name: "passes" if all(p) else "FAILS" for name, p in passes.items()})

# %% tags=["hide-input"]
assert all(passes["package"])                                            # the marginal holds
assert not any(all(p) for name, p in passes.items() if name != "package")  # each wrong one fails

# %% [markdown]
# The package's marginal matches the simulated chain at every step within 4 standard errors; each wrong
# formula misses it by many more at some step. Forgetting the square roots is the classic slip: the
# marginal's *variance* is $1-\bar\alpha_k$, so the noise is multiplied by $\sqrt{1-\bar\alpha_k}$.
#
# Below, the chain itself: the eight modes blur into a ring, then into one Gaussian blob (one draw of the
# chain, the same in the animation).

# %%
STRIP = (0, 50, 100, 200, 400, 1000)
fig, axes = plt.subplots(1, len(STRIP), figsize=(13, 2.5))
for ax, k in zip(axes, STRIP):
    ax.scatter(chain[k][:2000, 0], chain[k][:2000, 1], s=1, c="0.3")
    ax.set(title=f"step {k}", xlim=(-3.2, 3.2), ylim=(-3.2, 3.2), aspect="equal", xticks=[],
           yticks=[])
fig.suptitle("The forward process destroys the 8 Gaussians (one draw of the chain)", y=1.02)
plt.show()

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(3.2, 3.2), dpi=70)
dots = ax.scatter(x0[:1500, 0], x0[:1500, 1], s=2, c="tab:blue")
ax.set(xlim=(-3.2, 3.2), ylim=(-3.2, 3.2), aspect="equal", xticks=[], yticks=[])
frames = []
for k in sorted(chain):
    dots.set_offsets(chain[k][:1500].numpy())
    ax.set_title(f"forward process, step {k} of {T}", fontsize=9)
    frames.append(plotting.figure_to_array(fig))
plt.close(fig)
plotting.animate(frames + [frames[-1]] * 4, Path(tempfile.mkdtemp()) / "forward.gif", fps=8)

# %% [markdown]
# ## One form for every schedule, and the best denoiser
#
# From now on we write time as $t = k/T \in [0, 1]$ and the marginal as
#
# $$x_t = \alpha_t x_0 + \sigma_t \varepsilon,\qquad \varepsilon \sim \mathcal N(0, I),$$
#
# with $\alpha_t = \sqrt{\bar\alpha_k}$ and $\sigma_t = \sqrt{1 - \bar\alpha_k}$ for DDPM
# {cite}`kingma2021variational`. Every model of Part VI has this form, only with other schedules
# $(\alpha_t, \sigma_t)$: `diffusion.alpha_sigma` knows `"ddpm"` (the chain above in continuous time),
# `"cosine"` and `"linear"` ($\alpha_t = 1-t$, $\sigma_t = t$, flow matching in 6.3); 6.2 compares them
# by their **signal-to-noise ratio** (信噪比) $\alpha_t^2/\sigma_t^2$.
#
# A **denoiser** (去噪器) estimates $x_0$ from $x_t$. In squared error the best estimate is the
# **posterior mean** (后验均值) $m(x_t) = \mathbb E[x_0 \mid x_t]$: for any function $f$,
#
# $$\mathbb E\,\|f(x_t) - x_0\|^2 = \mathbb E\,\|f(x_t) - m(x_t)\|^2 + \mathbb E\,\|m(x_t) - x_0\|^2,$$
#
# because the cross term vanishes (given $x_t$, $f - m$ is fixed and $\mathbb E[m - x_0 \mid x_t] = 0$).
# The last term does not depend on $f$. So a network trained to regress $x_0$ on $x_t$ learns $m$: not a
# sample, but an average over every $x_0$ that could have produced $x_t$, blurry when the noise is large.
#
# For a Gaussian mixture $x_0 \sim \sum_k w_k \mathcal N(\mu_k, s_k^2 I)$, $m$ is known exactly. Given the
# component $k$, $x_t \sim \mathcal N(\alpha\mu_k, v_k I)$ with $v_k = \alpha^2 s_k^2 + \sigma^2$, so $p_t$
# is again a mixture; the component has posterior probability
# $r_k(x_t) \propto w_k\,\mathcal N(x_t; \alpha\mu_k, v_k I)$, and within it Gaussian conditioning gives
# $\mathbb E[x_0 \mid x_t, k] = \mu_k + \tfrac{\alpha s_k^2}{v_k}(x_t - \alpha\mu_k)$. Hence
#
# $$m(x_t) = \sum_k r_k(x_t)\Big[\mu_k + \frac{\alpha s_k^2}{v_k}\,(x_t - \alpha\mu_k)\Big].$$

# %%
def noised_mixture(x_t, alpha, sigma, means, stds, weights):
    """log p_t(x_t) (N,) and E[x0 | x_t] (N, D) for x0 ~ sum_k w_k N(mu_k, s_k^2 I), x_t (N, D)."""
    var = alpha**2 * stds**2 + sigma**2                                  # (K,) v_k
    diff = x_t[:, None, :] - alpha * means[None]                          # (N, K, D)
    log_joint = (weights.log() - 0.5 * (diff**2).sum(-1) / var
                 - 0.5 * x_t.shape[1] * torch.log(2 * math.pi * var))    # (N, K) log w_k N(x_t)
    resp = torch.softmax(log_joint, dim=1)                                # (N, K) r_k(x_t)
    given_k = means[None] + (alpha * stds**2 / var)[None, :, None] * diff  # (N, K, D)
    return torch.logsumexp(log_joint, dim=1), (resp[..., None] * given_k).sum(1)


def noisy_pairs(mix, t, n, seed):
    """n draws (x0, eps, x_t) from a mixture (means, stds, weights) at time t (DDPM schedule)."""
    g = torch.Generator().manual_seed(seed)
    means, stds, weights = mix
    k = torch.multinomial(weights, n, replacement=True, generator=g)
    x0 = means[k] + stds[k, None] * torch.randn(means[k].shape, generator=g, dtype=torch.float64)
    eps = torch.randn(x0.shape, generator=g, dtype=torch.float64)
    alpha, sigma = diffusion.alpha_sigma(torch.tensor(t, dtype=torch.float64), "ddpm")
    return x0, eps, alpha * x0 + sigma * eps


def gap_z(candidates, target, best):
    """Largest z-score, over candidates f, of gap(f) - gap(f_0), where gap(f) =
    mean ||f - target||^2 - mean ||f - best||^2. Below 4 when `best` is E[target | x_t]."""
    f0, zs = candidates[0], []
    for f in candidates[1:]:
        d = 2 * ((f - f0) * (best - target)).sum(-1)  # (N,) per-sample gap(f) - gap(f0)
        zs.append((d.mean().abs() / (d.std() / math.sqrt(len(d)))).item())
    return max(zs)


MIX1 = (torch.tensor([[-2.0], [0.5], [2.5]], dtype=torch.float64),   # a 1-D mixture: means (K, 1),
        torch.tensor([0.3, 0.5, 0.2], dtype=torch.float64),          # standard deviations
        torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64))          # and weights

t = 0.3
x0_1d, eps_1d, xt_1d = noisy_pairs(MIX1, t, 400_000, seed=1)
alpha, sigma = diffusion.alpha_sigma(torch.tensor(t, dtype=torch.float64), "ddpm")
_, m_exact = noised_mixture(xt_1d, alpha, sigma, *MIX1)
mean0, var0 = x0_1d.mean(), x0_1d.var()
denoisers = {
    "posterior mean m": m_exact,
    "invert the scaling, x_t / alpha": xt_1d / alpha,
    "best linear (Wiener)": mean0 + alpha * var0 / (alpha**2 * var0 + sigma**2)
                            * (xt_1d - alpha * mean0),
    "nearest component mean": MIX1[0][(xt_1d - alpha * MIX1[0].T).abs().argmin(1)],
}
mse = {name: ((f - x0_1d) ** 2).mean().item() for name, f in denoisers.items()}
for name, value in mse.items():
    print(f"{name:32s} mean squared error {value:.4f}")
z_right = gap_z(list(denoisers.values()), x0_1d, m_exact)
z_wrong = gap_z(list(denoisers.values()), x0_1d, denoisers["nearest component mean"])
print(f"gap z-scores: best = m {z_right:.1f},  best = nearest component mean {z_wrong:.1f}")

# %% tags=["hide-input"]
assert min(mse, key=mse.get) == "posterior mean m"
assert z_right < 4 < z_wrong
glue("e61_mse_m", mse["posterior mean m"], display=False)
glue("e61_mse_lin", mse["best linear (Wiener)"], display=False)
glue("e61_mse_near", mse["nearest component mean"], display=False)

# %% [markdown]
# At $t = 0.3$ the posterior mean has the smallest error ({glue:text}`e61_mse_m:.3f`), ahead of the best
# linear denoiser ({glue:text}`e61_mse_lin:.3f`) and of snapping to the nearest component mean
# ({glue:text}`e61_mse_near:.3f`), a guess that is sometimes exactly right and sometimes far off. The
# decomposition holds as stated: the gap between each denoiser's error and its distance to $m$ is the same
# for all four (z-score below 4), and replacing $m$ by another function breaks it.
#
# ## Tweedie's formula
#
# Write $p_t(x) = \int p_0(x_0)\,\mathcal N(x; \alpha_t x_0, \sigma_t^2 I)\,dx_0$ and differentiate under
# the integral: $\nabla_x \mathcal N(x; \alpha_t x_0, \sigma_t^2 I) = \mathcal N(\cdot)\,(\alpha_t x_0 -
# x)/\sigma_t^2$, so $\nabla p_t(x) = p_t(x)\,(\alpha_t\,\mathbb E[x_0 \mid x] - x)/\sigma_t^2$. Dividing
# by $p_t$ gives **Tweedie's formula** (特威迪公式) {cite}`efron2011tweedie`, which Efron traces back to
# Robbins's empirical Bayes of 1956:
#
# $$\mathbb E[x_0 \mid x_t] = \frac{x_t + \sigma_t^2\,\nabla \log p_t(x_t)}{\alpha_t}.$$
#
# The **score** (分数) $\nabla \log p_t$ points to where the noised data are denser. Tweedie says that
# knowing it is the same as knowing the best denoiser. In terms of the noise:
# $\mathbb E[\varepsilon \mid x_t] = (x_t - \alpha_t\,\mathbb E[x_0 \mid x_t])/\sigma_t
# = -\sigma_t\,\nabla \log p_t(x_t)$.
#
# The check, at three times: the score by autograd of the closed-form $\log p_t$, put into Tweedie's
# formula. On the 8 Gaussians it must equal the posterior mean over the components to $10^{-8}$. On the
# 1-D mixture it is compared with an independent Monte Carlo value, self-normalised importance
# sampling: $\mathbb E[x_0 \mid x_t] \approx \sum_i w_i x_0^{(i)} / \sum_i w_i$ with $x_0^{(i)} \sim p_0$
# and $w_i = \mathcal N(x_t; \alpha_t x_0^{(i)}, \sigma_t^2)$, within 4 standard errors. Two wrong
# versions must fail: without the $1/\alpha_t$, and with $\sigma_t$ in place of $\sigma_t^2$.

# %%
def score(x_t, alpha, sigma, mix):
    """grad_x log p_t(x) of the noised mixture, by autograd: (N, D)."""
    x = x_t.detach().requires_grad_(True)
    log_p, _ = noised_mixture(x, alpha, sigma, *mix)
    return torch.autograd.grad(log_p.sum(), x)[0]


TWEEDIE = {
    "Tweedie": lambda x, s, a, sg: (x + sg**2 * s) / a,
    "no 1/alpha": lambda x, s, a, sg: x + sg**2 * s,
    "sigma, not sigma^2": lambda x, s, a, sg: (x + sg * s) / a,
}
MIX8 = (data.toy2d_modes("8gaussians").double(), torch.full((8,), 0.02, dtype=torch.float64),
        torch.full((8,), 1 / 8, dtype=torch.float64))
prior = noisy_pairs(MIX1, 0.0, 100_000, seed=2)[0][:, 0]                # x0 ~ p0, (M,)
worst = {name: [0.0, 0.0] for name in TWEEDIE}   # largest 1-D z-score, largest 8-Gaussian error
for t in (0.05, 0.2, 0.5):
    alpha, sigma = diffusion.alpha_sigma(torch.tensor(t, dtype=torch.float64), "ddpm")
    for j, mix in enumerate((MIX1, MIX8)):
        xt = noisy_pairs(mix, t, 12 if j == 0 else 2000, seed=3)[2]
        _, m = noised_mixture(xt, alpha, sigma, *mix)
        s = score(xt, alpha, sigma, mix)
        if j == 0:  # importance sampling: weights N(x_t; alpha x0_i, sigma^2), (12, M)
            w = torch.softmax(-0.5 * ((xt - alpha * prior) / sigma) ** 2, dim=1)
            m_is = (w * prior).sum(1, keepdim=True)
            se = ((w**2 * (prior - m_is) ** 2).sum(1, keepdim=True)).sqrt()
        for name, formula in TWEEDIE.items():  # 1-D: against importance sampling; 2-D: against m
            err = (formula(xt, s, alpha, sigma) - (m_is if j == 0 else m)).abs()
            worst[name][j] = max(worst[name][j], (err / se if j == 0 else err).max().item())
for name, (z1, e8) in worst.items():
    print(f"{name:20s} 1-D: largest z-score {z1:10.1f}   8 Gaussians: largest error {e8:.1e}")

# %% tags=["hide-input"]
assert worst["Tweedie"][0] < 4 and worst["Tweedie"][1] < 1e-8
assert all(z > 4 and e > 1e-2 for name, (z, e) in worst.items() if name != "Tweedie")

# %% [markdown]
# Tweedie's formula agrees with the posterior mean over the components to rounding error, and with the
# importance-sampling estimate within its standard error; both wrong versions are far off. The picture
# below shows what the posterior mean does in 1-D: at low noise it is close to $x_t/\alpha_t$ (a noisy
# point is trusted), at high noise it pulls every $x_t$ towards the data mean, and in between it is a
# smoothed staircase that sends each $x_t$ towards the component it most likely came from.

# %%
grid = torch.linspace(-4, 4, 401, dtype=torch.float64)[:, None]        # (401, 1)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.4))
for t in (0.0, 0.1, 0.3, 0.6):
    alpha, sigma = diffusion.alpha_sigma(torch.tensor(t, dtype=torch.float64), "ddpm")
    log_p, m = noised_mixture(grid, alpha, sigma, *MIX1)
    ax1.plot(grid, log_p.exp(), label=f"t = {t}" + (" (data)" if t == 0 else ""))
    if t > 0:
        ax2.plot(grid, m, label=f"t = {t}")
ax2.plot(grid, grid, "k:", lw=1, label="identity")
ax1.set(title="noised densities p_t of a 1-D mixture", xlabel="x")
ax2.set(title="the best denoiser E[x0 | x_t] (exact)", xlabel="x_t", ylim=(-4, 4))
ax1.legend(fontsize=8)
ax2.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## Learning the denoiser: denoising score matching
#
# Real data have no closed-form $p_t$, but the regression of section 2 needs only samples: draw $x_0$,
# $\varepsilon$ and $t$, form $x_t$, and regress. Written for the score, **score matching** (分数匹配)
# {cite}`hyvarinen2005estimation` would minimise $\mathbb E\,\|s(x_t) - \nabla \log p_t(x_t)\|^2$, which
# needs the unknown score. **Denoising score matching** (去噪分数匹配) {cite}`vincent2011connection`
# regresses on the score of the noising kernel instead,
# $\nabla_{x_t} \log q(x_t \mid x_0) = -\varepsilon/\sigma_t$:
#
# $$\mathbb E\,\big\|s(x_t) + \varepsilon/\sigma_t\big\|^2
# = \mathbb E\,\big\|s(x_t) - \nabla \log p_t(x_t)\big\|^2 + C,$$
#
# with $C$ independent of $s$: this is section 2's decomposition for the target $-\varepsilon/\sigma_t$,
# whose conditional mean is the score (Tweedie, noise form). DDPM's loss
# $\mathbb E\,\|\hat\varepsilon(x_t, t) - \varepsilon\|^2$ is $\sigma_t^2$ times it, with
# $s = -\hat\varepsilon/\sigma_t$, averaged over $t$ {cite}`ho2020ddpm`; Song and Ermon trained score
# networks on many noise levels this way {cite}`song2019generative`, and {cite}`song2021sde` joined the
# two views. The same z-score check as above, with four candidate score functions, for the right target
# and for one that forgot the $1/\sigma_t$:

# %%
alpha, sigma = diffusion.alpha_sigma(torch.tensor(0.3, dtype=torch.float64), "ddpm")
true_score = score(xt_1d, alpha, sigma, MIX1)
candidates = [torch.zeros_like(xt_1d), true_score, -xt_1d / sigma**2, torch.tanh(xt_1d)]
z_dsm = gap_z(candidates, -eps_1d / sigma, true_score)
z_dsm_wrong = gap_z(candidates, -eps_1d, true_score)
print(f"target -eps/sigma: z = {z_dsm:.1f};   target -eps: z = {z_dsm_wrong:.1f}")

# %% tags=["hide-input"]
assert z_dsm < 4 < z_dsm_wrong

# %% [markdown]
# Now a network. `Diffusion` with an MLP denoiser (two residual blocks of width 64, a sinusoidal
# embedding of $t$) predicts $\hat\varepsilon$ on the DDPM schedule, with $t$ uniform in
# $[10^{-3}, 1]$; `Diffusion.loss` is DDPM's loss above. The course trainer runs Adam with an exponential
# moving average (EMA) of the weights, on the same 8 Gaussians as the GAN of 2.3, for several seeds.

# %%
STEPS = 1500 if QUICK else 6000
SEEDS = [0, 1] if QUICK else [0, 1, 2, 3]
MODEL = DiffusionConfig(kind="mlp", data_dim=2, hidden=64, depth=2, schedule="ddpm",
                        prediction="eps", time_sampling="uniform", t_min=1e-3)
TRAIN = TrainConfig(steps=STEPS, batch_size=512, lr=3e-3, betas=(0.9, 0.999), ema=0.999,
                    log_every=100, amp=False)  # float32: bf16 cannot resolve modes 0.02 wide at 2
points = data.toy2d("8gaussians", 20_000, seed=0)
models, seconds = {}, 0.0
for seed in SEEDS:
    ac.set_seed(seed)
    result = train.train("diffusion", {"model": Diffusion(MODEL)}, points,
                         TRAIN.replace(seed=seed), progress=False)
    models[seed], seconds = result.sampler.eval(), seconds + result.wall_time  # the EMA copy
print(f"{len(SEEDS)} models, {STEPS} steps each: {seconds:.1f} s")

# %% [markdown]
# How close is the learned denoiser to the exact one? For fresh points $x_t$ at several times, the table
# gives the root-mean-square distance between the network's $\hat x_0$ and the exact $\mathbb E[x_0 \mid
# x_t]$ (mean ± sd over the seeds), the same for the best *linear* denoiser fitted to the data (the
# strongest simple baseline), and, for scale, the irreducible error $\sqrt{\mathbb E\|x_0 - \mathbb E[x_0
# \mid x_t]\|^2}$ that even the exact denoiser makes.

# %%
def rms(a, b):
    """Root-mean-square distance between two sets of points (N, D)."""
    return (a - b).pow(2).sum(1).mean().sqrt().item()


TIMES = (0.05, 0.1, 0.2, 0.3, 0.5)
mu, cov = points.double().mean(0), torch.cov(points.double().T)
rows = ["| t | learned vs exact | best linear vs exact | irreducible error |", "|---|---|---|---|"]
table = {}
for t in TIMES:
    x0_t, _, xt = noisy_pairs(MIX8, t, 4000, seed=4)
    alpha, sigma = diffusion.alpha_sigma(torch.tensor(t, dtype=torch.float64), "ddpm")
    _, m = noised_mixture(xt, alpha, sigma, *MIX8)
    gain = alpha * cov @ torch.linalg.inv(alpha**2 * cov + sigma**2 * torch.eye(2).double())
    linear = mu + (xt - alpha * mu) @ gain.T                     # E[x0 | x_t] if Gaussian
    with torch.no_grad():
        learned = [net.predict(xt.float(), torch.tensor(t))[0].double() for net in models.values()]
    table[t] = (np.array([rms(f, m) for f in learned]), rms(linear, m), rms(x0_t, m))
    err, lin, irr = table[t]
    rows.append(f"| {t} | {err.mean():.3f} ± {err.std(ddof=1):.3f} | {lin:.3f} | {irr:.3f} |")
display(Markdown("\n".join(rows)))

# %% tags=["hide-input"]
assert all(table[t][0].max() < 0.5 * table[t][1] for t in TIMES if t <= 0.3)
assert 0.5 < table[0.5][0].mean() / table[0.5][1] < 2
glue("e61_steps", STEPS, display=False)
glue("e61_seeds", len(SEEDS), display=False)
glue("e61_err_02", table[0.2][0].mean(), display=False)
glue("e61_lin_02", table[0.2][1], display=False)
glue("e61_err_05", table[0.5][0].mean(), display=False)
glue("e61_lin_05", table[0.5][1], display=False)
alpha, sigma = diffusion.alpha_sigma(torch.tensor([0.5, 1.0], dtype=torch.float64), "ddpm")
glue("e61_gain_05", sigma[0] / alpha[0], display=False)
glue("e61_alpha1", alpha[1], display=False)

# %% [markdown]
# After {glue:text}`e61_steps` steps ({glue:text}`e61_seeds` seeds) the network is much closer to the
# exact denoiser than the best linear one wherever the noise leaves structure to exploit: at $t = 0.2$
# {glue:text}`e61_err_02:.3f` against {glue:text}`e61_lin_02:.3f` (the check: less than half the linear
# error at every $t \le 0.3$, in every seed). At $t = 0.5$ the signal is nearly gone: the exact posterior
# mean is close to the data mean, and a linear function is about as good ({glue:text}`e61_lin_05:.3f`
# against the network's {glue:text}`e61_err_05:.3f`, within a factor of two): the network's small error in
# $\hat\varepsilon$ is multiplied by $\sigma_t/\alpha_t$ = {glue:text}`e61_gain_05:.1f` when it is turned
# into $\hat x_0$.
#
# The denoiser as a field: each arrow goes from a point $x_t$ to its estimate $\mathbb E[x_0 \mid x_t]$,
# exact (black) and learned (red), over the noised density (shaded). By Tweedie's formula the arrow is
# $((1-\alpha_t)\,x_t + \sigma_t^2\,\nabla\log p_t(x_t))/\alpha_t$: the score field, rescaled.

# %%
axis = torch.linspace(-3, 3, 13, dtype=torch.float64)
xy = torch.cartesian_prod(axis, axis)                                   # (169, 2)
fine = torch.linspace(-3.3, 3.3, 121, dtype=torch.float64)
fig, axes = plt.subplots(1, 2, figsize=(10, 5))
apart = {}  # t -> (distance learned-exact, log p_t) at the arrows' tails
for ax, t in zip(axes, (0.1, 0.2)):
    alpha, sigma = diffusion.alpha_sigma(torch.tensor(t, dtype=torch.float64), "ddpm")
    log_p, _ = noised_mixture(torch.cartesian_prod(fine, fine), alpha, sigma, *MIX8)
    ax.contourf(fine, fine, log_p.exp().reshape(121, 121).T, levels=15, cmap="Blues")
    _, exact = noised_mixture(xy, alpha, sigma, *MIX8)
    with torch.no_grad():
        learned = models[SEEDS[0]].predict(xy.float(), torch.tensor(t))[0].double()
    apart[t] = ((learned - exact).norm(dim=1), noised_mixture(xy, alpha, sigma, *MIX8)[0])
    for target, colour in ((exact, "k"), (learned, "tab:red")):
        move = target - xy
        ax.quiver(xy[:, 0], xy[:, 1], move[:, 0], move[:, 1], color=colour, angles="xy",
                  scale_units="xy", scale=1, width=0.003)
    ax.set(title=f"t = {t}", aspect="equal", xlim=(-3.3, 3.3), ylim=(-3.3, 3.3))
fig.suptitle("Arrows from x_t to E[x0 | x_t]: exact (black) and learned (red, training seed "
             f"{SEEDS[0]}); they part only where p_t is small")
plt.show()

# %% tags=["hide-input"]
for distance, log_p in apart.values():  # learned and exact differ more where p_t is smaller
    likely = log_p > log_p.median()
    assert distance[likely].mean() < 0.5 * distance[~likely].mean()

# %% [markdown]
# ## From noise to data: sampling
#
# To generate, start from $x_1 \sim \mathcal N(0, I)$ (at $t = 1$, $\alpha_1$ =
# {glue:text}`e61_alpha1:.4f`: pure noise) and step backwards in time, the **reverse process**
# (反向过程). Two samplers of the package, 50 steps each:
#
# * **ancestral sampling** (祖先采样), DDPM's own: from $t$ to $s < t$, draw $x_s$ from the forward
#   chain's posterior $q(x_s \mid x_t, x_0)$, a Gaussian, with the unknown $x_0$ replaced by the network's
#   $\hat x_0(x_t)$ (6.2 derives it: `diffusion.posterior`);
# * **Euler** steps of an ordinary differential equation that moves the noise deterministically to data
#   (the probability-flow ODE of 6.3).
#
# We measure with 2.3's protocol ({cite}`srivastava2017veegan`, `metrics.mode_coverage`): modes covered,
# and the high-quality rate (samples within $3\sigma = 0.06$ of a mode). Beside them, the shipped GAN of
# 2.3 with the same metric and the same number of samples. Each model is sampled with two noise seeds.

# %%
N = 4000
MODES, STD = data.toy2d_modes("8gaussians"), 0.02
runs = {"diffusion, ancestral": [], "diffusion, Euler": [], "GAN of 2.3": []}
for seed, net in models.items():
    for noise_seed in range(2):
        g = torch.Generator().manual_seed(noise_seed)
        runs["diffusion, ancestral"].append(net.sample(N, g, steps=50, sampler="ancestral"))
        runs["diffusion, Euler"].append(net.sample(N, g, steps=50, sampler="euler"))
gan = recipes.pretrained("gan-8gaussians", device="cpu")
with torch.no_grad():
    runs["GAN of 2.3"] = [gan.sample(N, generator=torch.Generator().manual_seed(noise_seed))
                          for noise_seed in range(2)]
stats = {name: np.array([[c["modes_covered"], c["high_quality"]] for c in
                         (metrics.mode_coverage(x, MODES, STD) for x in samples)])
         for name, samples in runs.items()}
shipped = checkpoint.read_manifest()["weights"]["gan-8gaussians"]["metrics"]
rows = ["| model | modes covered (of 8) | high-quality rate | network evaluations |",
        "|---|---|---|---|"]
for (name, v), evals in zip(stats.items(), (50, 50, 1)):
    rows.append(f"| {name} | {v[:, 0].mean():.2f} ± {v[:, 0].std(ddof=1):.2f} | "
                f"{100 * v[:, 1].mean():.1f} ± {100 * v[:, 1].std(ddof=1):.1f} % | {evals} |")
display(Markdown("\n".join(rows)))

# %% tags=["hide-input"]
assert stats["diffusion, ancestral"][:, 0].min() == 8 and stats["GAN of 2.3"][:, 0].min() == 8
hq = {name: 100 * v[:, 1].mean() for name, v in stats.items()}
assert hq["diffusion, ancestral"] > hq["diffusion, Euler"]
glue("e61_runs", len(runs["diffusion, ancestral"]), display=False)
glue("e61_hq_anc", hq["diffusion, ancestral"], display=False)
glue("e61_hq_euler", hq["diffusion, Euler"], display=False)
glue("e61_hq_gan", hq["GAN of 2.3"], display=False)
glue("e61_hq_gan_manifest", 100 * shipped["high_quality"], display=False)
glue("e61_gan_steps", checkpoint.read_manifest()["weights"]["gan-8gaussians"]["steps"],
     display=False)
glue("e61_cov_euler", int(stats["diffusion, Euler"][:, 0].min()), display=False)
glue("e61_vs_gan", "above" if hq["diffusion, ancestral"] > hq["GAN of 2.3"] else "below",
     display=False)

# %%
fig, axes = plt.subplots(1, 4, figsize=(13, 3.4))
shown = {"data": points[:2000], **{name: runs[name][0][:2000] for name in runs}}
for ax, (name, x) in zip(axes, shown.items()):
    ax.scatter(x[:, 0], x[:, 1], s=1, c="0.3" if name == "data" else "tab:orange")
    ax.set(title=name, xlim=(-3, 3), ylim=(-3, 3), aspect="equal", xticks=[], yticks=[])
fig.suptitle("Every mode is reached; the points between modes are the low-quality ones "
             f"(2000 samples each; diffusion: training seed {SEEDS[0]}, noise seed 0)", y=1.03)
plt.show()

# %% [markdown]
# Ancestral sampling covers all eight modes in every one of the {glue:text}`e61_runs` runs (training
# seeds × noise seeds), and so does the GAN. The diffusion model's high-quality rate,
# {glue:text}`e61_hq_anc:.1f`%, is {glue:text}`e61_vs_gan` the GAN's {glue:text}`e61_hq_gan:.1f`% (the
# manifest reports {glue:text}`e61_hq_gan_manifest:.1f`% from the GAN's own evaluation), after
# {glue:text}`e61_steps` training steps against the GAN's {glue:text}`e61_gan_steps`. The deterministic Euler sampler, with the same networks and
# the same 50 steps, is blurrier: {glue:text}`e61_hq_euler:.1f`% (at least {glue:text}`e61_cov_euler`
# modes covered); 6.3 and 6.4 compare samplers and step counts.
#
# The shipped GAN is a good run. The lesson is in how the two got there. 2.3 found settings in which GAN training collapses onto one or two modes in every seed: the
# generator chases a moving discriminator. Diffusion training is a plain regression onto a fixed target,
# $\mathbb E[\varepsilon \mid x_t]$, with no game whose dynamics could rotate or collapse; here every
# run covers every mode. The price is paid at sampling time: 50 network evaluations per sample against
# the GAN's one.
#
# ## Exercises
#
# ### 6.1a Predict: when does the noise win?
#
# The signal-to-noise ratio of DDPM's marginal is $\bar\alpha_k / (1 - \bar\alpha_k)$. At which step $k$
# (of 1000) does it first fall below 1? Write your prediction before computing anything; the checker
# shows the true step.

# %%
answer = ...  # your prediction: a step between 1 and 1000

ch6_noise.q61a.check(answer);

# %% [markdown]
# :::{dropdown} Solution
# $\bar\alpha_k = \tfrac12$ when $\sum_{j \le k} -\log(1-\beta_j) \approx \sum_{j \le k}\beta_j =
# \log 2$. With $\beta_j \approx 10^{-4} + 2\cdot10^{-5} j$, $\sum_{j\le k}\beta_j \approx 10^{-4}k +
# 10^{-5}k^2 = 0.693$ gives $k \approx 258$:
# ```python
# betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)
# alpha_bar = torch.cumprod(1 - betas, 0)      # decreasing
# answer = int((alpha_bar >= 0.5).sum()) + 1   # the steps with SNR >= 1 come first
# ```
# About a quarter of the way through the chain the noise already outweighs the signal, and the rest of
# the chain works on a fading signal; 6.2 compares schedules that spread the decay more evenly.
# :::

# %% tags=["hide-cell"]
answer_solution = int((alpha_bar >= 0.5).sum()) + 1
assert ch6_noise.q61a.check(answer_solution, quiet=True)

# %% [markdown]
# ### 6.1b Apply: Tweedie for Gaussian data
#
# Let the data be 1-D Gaussian, $x_0 \sim \mathcal N(m, s^2)$, and $x_t = \alpha x_0 + \sigma\varepsilon$.
# Write `posterior_mean(x_t, alpha, sigma, m, s)` returning $\mathbb E[x_0 \mid x_t]$ in closed form
# (`x_t` a tensor, the others numbers). Derive it with Tweedie's formula: what is $p_t$, and its score?

# %%
def posterior_mean(x_t, alpha, sigma, m, s):
    ...  # your code


ch6_noise.q61b.check(posterior_mean);

# %% [markdown]
# :::{dropdown} Solution
# $p_t = \mathcal N(\alpha m, v)$ with $v = \alpha^2 s^2 + \sigma^2$, so
# $\nabla \log p_t(x) = -(x - \alpha m)/v$ and Tweedie gives
# $\mathbb E[x_0 \mid x_t] = \big(x_t - \sigma^2 (x_t - \alpha m)/v\big)/\alpha
# = m + \frac{\alpha s^2}{v}(x_t - \alpha m)$:
# ```python
# def posterior_mean(x_t, alpha, sigma, m, s):
#     v = alpha**2 * s**2 + sigma**2               # variance of x_t
#     return m + alpha * s**2 / v * (x_t - alpha * m)
# ```
# For Gaussian data the best denoiser is linear in $x_t$ (the Wiener filter); it is also the
# within-component term of section 2's mixture formula.
# :::

# %% tags=["hide-cell"]
def posterior_mean_solution(x_t, alpha, sigma, m, s):
    v = alpha**2 * s**2 + sigma**2
    return m + alpha * s**2 / v * (x_t - alpha * m)


assert ch6_noise.q61b.check(posterior_mean_solution, quiet=True)

# %% [markdown]
# ### 6.1c Debug: a broken forward process
#
# This function should return $x_k$ drawn from $q(x_k \mid x_0)$, given the noise `eps`, the step `k`
# (0 returns $x_0$) and the 1000 DDPM `betas`. It runs, and its samples even look noisy, but it is wrong
# in two places. Repair it.

# %%
def noise_to_step(x0, eps, k, betas):
    alpha_bar = 1 - betas[:k].sum()
    return alpha_bar * x0 + (1 - alpha_bar) * eps


ch6_noise.q61c.check(noise_to_step);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def noise_to_step(x0, eps, k, betas):
#     alpha_bar = torch.prod(1 - betas[:k])        # a product; 1 for k = 0
#     return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * eps
# ```
# $\bar\alpha_k$ is a product of the $1-\beta_j$ ($1 - \sum\beta_j$ is its first-order approximation,
# and turns negative before a third of the chain), and the mean and *standard deviation* are
# $\sqrt{\bar\alpha_k}$ and $\sqrt{1-\bar\alpha_k}$: without the square roots the samples have too little
# variance.
# :::

# %% tags=["hide-cell"]
def noise_to_step_solution(x0, eps, k, betas):
    alpha_bar = torch.prod(1 - betas[:k])
    return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * eps


assert ch6_noise.q61c.check(noise_to_step_solution, quiet=True)

# %% [markdown]
# ## Summary
#
# * DDPM's forward chain $q(x_k \mid x_{k-1}) = \mathcal N(\sqrt{1-\beta_k}\,x_{k-1}, \beta_k I)$ has the
#   marginal $\mathcal N(\sqrt{\bar\alpha_k}\,x_0, (1-\bar\alpha_k) I)$ with $\bar\alpha_k = \prod_j
#   (1-\beta_j)$; in general $x_t = \alpha_t x_0 + \sigma_t\varepsilon$.
# * The best denoiser in squared error is $\mathbb E[x_0 \mid x_t]$, and a regression on noisy pairs
#   learns it. Tweedie's formula makes it the score:
#   $\mathbb E[x_0 \mid x_t] = (x_t + \sigma_t^2 \nabla\log p_t(x_t))/\alpha_t$.
# * Denoising score matching equals score matching up to a constant; DDPM's $\varepsilon$ loss is it.
# * On the 8 Gaussians a small network, trained for seconds, is far closer to the exact denoiser than the
#   best linear one wherever the data leave structure, and its samples cover every mode, as the GAN of 2.3
#   does, but with no game to destabilise; each sample costs 50 network evaluations instead of one.
