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
# # 1.2 Probability toolkit

# %% tags=["remove-input"]
from aigc_course.plotting import page_info

page_info("02_probability")

# %% [markdown]
# Every generative model is trained and judged with a handful of probabilistic tools: a **density**
# (概率密度函数) to describe where data lie, **sampling** (采样) to produce new points, the **likelihood**
# (似然) to fit parameters, **entropy** (熵) and the **KL divergence** (KL 散度) to measure information and
# mismatch, the **Jensen–Shannon divergence** (JS 散度) that the original GAN minimises (at its optimal
# discriminator, 2.1), and **Monte Carlo
# estimates** (蒙特卡罗估计) to compute expectations we cannot integrate. This page introduces each tool on
# one-dimensional examples, where every quantity can also be computed exactly, and checks each formula
# against `torch.distributions`, against numerical integration, or against an independent implementation.
# Natural logarithms throughout: information is measured in **nats** (1 nat = $1/\ln 2$ bits).

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from scipy import integrate, optimize, stats
from scipy.spatial.distance import jensenshannon
from torch.distributions import Categorical, Exponential, LogNormal, Normal, kl_divergence

import aigc_course as ac
from aigc_course.exercises import ch1
from aigc_course.plotting import glue

ac.set_seed(0)
ac.runtime.set_threads(1)  # one-dimensional computations: one CPU thread is fastest
torch.set_default_dtype(torch.float64)  # identities are checked to 1e-8 or better
print(ac.describe(torch.device("cpu")))  # this page runs on the CPU, whatever the machine has

# %% [markdown]
# ## Densities and sampling
#
# A continuous random variable $X$ has a **probability density** $p(x) \ge 0$ with $\int p(x)\,dx = 1$; the
# probability of an interval is the area under $p$ over it. A density is *not* a probability: it can exceed
# 1, as long as its area is 1. The Gaussian $\mathcal N(0, 0.1^2)$ peaks at $1/(0.1\sqrt{2\pi})$.

# %%
narrow = Normal(0.0, 0.1)
xs = torch.linspace(-1, 1, 20_001)
peak = narrow.log_prob(torch.tensor(0.0)).exp().item()
area = torch.trapezoid(narrow.log_prob(xs).exp(), xs).item()
print(f"peak density {peak:.4f} (1/(0.1 sqrt(2 pi)) = {1 / (0.1 * math.sqrt(2 * math.pi)):.4f}), "
      f"area {area:.8f}")
assert peak > 1 and abs(peak - 1 / (0.1 * math.sqrt(2 * math.pi))) < 1e-12 and abs(area - 1) < 1e-8

# %% tags=["hide-input"]
glue("e12_peak", peak, display=False)

# %% [markdown]
# The peak is {glue:text}`e12_peak:.2f`, yet the area is 1. This is why log-likelihoods of continuous data
# can be positive, and why they only mean something relative to each other (or in bits per dimension, for
# properly discretised data; see 4.5).
#
# **Sampling by transforming noise.** Almost every sampler starts from uniform or Gaussian noise and pushes
# it through a function. The simplest example is **inverse transform sampling** (逆变换采样): if
# $U \sim \mathrm{Uniform}(0, 1)$ and $F$ is a continuous CDF, then $X = F^{-1}(U)$ has CDF $F$, because
# $P(X \le x) = P(U \le F(x)) = F(x)$. For the exponential distribution with rate $\lambda$,
# $F(x) = 1 - e^{-\lambda x}$, so $F^{-1}(u) = -\log(1 - u)/\lambda$. A GAN generator $x = G(z)$ is the same
# idea with a learned, many-dimensional transformation.
#
# We check the samples with the Kolmogorov–Smirnov test against `torch.distributions.Exponential`'s CDF, and
# show that a common slip, multiplying by $\lambda$ instead of dividing, fails it.

# %%
rate = 2.0
gen = torch.Generator().manual_seed(0)
u = torch.rand(20_000, generator=gen)
x_inverse = -torch.log1p(-u) / rate     # F^{-1}(u) = -log(1 - u) / rate
x_slip = -torch.log1p(-u) * rate        # the slip: the mean becomes rate instead of 1/rate
exact_cdf = Exponential(rate).cdf
ks_right = stats.kstest(x_inverse.numpy(), lambda t: exact_cdf(torch.from_numpy(t)).numpy())
ks_slip = stats.kstest(x_slip.numpy(), lambda t: exact_cdf(torch.from_numpy(t)).numpy())
print(f"inverse-CDF samples: KS distance {ks_right.statistic:.4f}, p-value {ks_right.pvalue:.2f}")
print(f"rate multiplied:     KS distance {ks_slip.statistic:.4f}, p-value {ks_slip.pvalue:.1e}")
assert ks_right.pvalue > 0.01 and ks_slip.pvalue < 1e-6

fig, ax = plt.subplots(figsize=(6.5, 3.4))
ax.hist(x_inverse.numpy(), bins=80, range=(0, 4), density=True, alpha=0.5,
        label=r"$-\log(1-U)/\lambda$, 20 000 samples")
grid = torch.linspace(0, 4, 400)
ax.plot(grid, Exponential(rate).log_prob(grid).exp(), "k",
        label=r"density $\lambda e^{-\lambda x}$")
ax.set_xlabel("$x$")
ax.set_ylabel("density")
ax.set_title(r"Inverse transform sampling: uniform noise in, Exponential($\lambda = 2$) out")
ax.legend()
plt.show()

# %% [markdown]
# **The density of a transformed variable.** If $X = G(Z)$ for an invertible, differentiable $G$, the
# probability of a small interval is carried along with it, $p_X(x)\,|dx| = p_Z(z)\,|dz|$, so
#
# $$
# p_X(x) = p_Z\big(G^{-1}(x)\big) \left| \frac{d G^{-1}(x)}{dx} \right| ,
# $$
#
# the **change of variables** formula (变量替换公式); in several dimensions the derivative becomes the
# absolute determinant of the Jacobian matrix. Inverse transform sampling is the special case $Z$ uniform,
# $G = F^{-1}$. A map that squeezes space raises the density (one more way a density exceeds 1).
# Normalising flows (1.1) compute exact likelihoods with this formula; a GAN generator maps a few noise
# dimensions into many pixel dimensions, is not invertible, and so gives no density at all. We check the
# formula on $G(z) = e^z$ with $Z \sim \mathcal N(0, 1)$, whose result is the log-normal distribution, and
# show that forgetting the derivative $1/x$ fails.

# %%
x_pos = torch.linspace(0.05, 5.0, 200)
by_formula = Normal(0.0, 1.0).log_prob(torch.log(x_pos)) - torch.log(x_pos)  # + log|d log x / dx|
no_jacobian = Normal(0.0, 1.0).log_prob(torch.log(x_pos))                     # the slip
torch.testing.assert_close(by_formula, LogNormal(0.0, 1.0).log_prob(x_pos), atol=1e-12, rtol=0)
slip_gap = (no_jacobian - LogNormal(0.0, 1.0).log_prob(x_pos)).abs().max().item()
print(f"change of variables = LogNormal.log_prob to 1e-12; without the Jacobian: off by up to "
      f"{slip_gap:.2f} in log-density")
assert slip_gap > 1

# %% [markdown]
# The picture behind the formula: two intervals of $z$ of the same width $dz$ = {glue:text}`e12_cov_dz`,
# pushed through $x = e^z$. The left one lands where $e^z$ is flat and is squeezed into a short interval of
# $x$, so the density there must be *taller*; the right one is stretched, so it must be *lower*. The shaded
# areas (probabilities) are equal in pairs, and the height ratio is exactly $|dz/dx| = 1/x$.

# %% tags=["hide-input"]
normal_z, lognormal_x = Normal(0.0, 1.0), LogNormal(0.0, 1.0)
dz_cov = 0.25
intervals = [(-1.25, -1.25 + dz_cov), (0.75, 0.75 + dz_cov)]          # equal widths in z
fig = plt.figure(figsize=(8.5, 6.2))
grid_spec = fig.add_gridspec(2, 2, width_ratios=(1, 2.2), height_ratios=(1, 2.2), wspace=0.05,
                             hspace=0.05)
ax_z = fig.add_subplot(grid_spec[0, 1])
ax_map = fig.add_subplot(grid_spec[1, 1], sharex=ax_z)
ax_x = fig.add_subplot(grid_spec[1, 0], sharey=ax_map)
zs = torch.linspace(-2.5, 1.6, 400)
x_top = math.exp(1.6)
ax_z.plot(zs, normal_z.log_prob(zs).exp(), "k")
ax_map.plot(zs, zs.exp(), "k", label=r"$x = G(z) = e^z$")
xs_cov = torch.linspace(1e-3, x_top, 600)
ax_x.plot(lognormal_x.log_prob(xs_cov).exp(), xs_cov, "k")
checks = []
for (lo, hi), color in zip(intervals, ("tab:red", "tab:blue")):
    z_band = torch.linspace(lo, hi, 200)
    x_band = z_band.exp()
    p_z, p_x = normal_z.log_prob(z_band).exp(), lognormal_x.log_prob(x_band).exp()
    ax_z.fill_between(z_band, p_z, color=color, alpha=0.5)
    ax_x.fill_betweenx(x_band, p_x, color=color, alpha=0.5)
    ax_map.fill_between(z_band, 0, x_band, color=color, alpha=0.12)
    ax_map.fill_betweenx(x_band, -2.5, z_band, color=color, alpha=0.12)
    area_z = torch.trapezoid(p_z, z_band).item()                       # P(lo < Z < hi)
    area_x = torch.trapezoid(p_x, x_band).item()                       # P(e^lo < X < e^hi)
    mid = (lo + hi) / 2
    ratio = (lognormal_x.log_prob(torch.tensor(math.exp(mid))).exp()
             / normal_z.log_prob(torch.tensor(mid)).exp()).item()      # p_X / p_Z at the middle
    checks.append((area_z, area_x, ratio, math.exp(-mid)))
    ax_z.text(mid, p_z.max().item() + 0.03, f"area {area_z:.3f}", ha="center", fontsize=8,
              color=color)
    ax_map.text(-2.45, math.exp(hi) + 0.05, f"area {area_x:.3f} (left panel)", va="bottom",
                fontsize=8, color=color)
ax_z.set_ylabel(r"$p_Z(z)$")
ax_z.set_title(r"Change of variables: equal areas, heights scaled by $|dz/dx| = 1/x$", fontsize=10)
ax_map.set_xlabel("$z$")
ax_map.set_xlim(-2.5, 1.6)
ax_map.set_ylim(0, x_top)
ax_map.legend(loc="upper left", fontsize=8)
ax_x.set_ylabel("$x$")
ax_x.set_xlabel(r"$p_X(x)$")
ax_x.invert_xaxis()
plt.setp(ax_z.get_xticklabels(), visible=False)
plt.setp(ax_map.get_yticklabels(), visible=False)
plt.show()

for area_z, area_x, ratio, inv_x in checks:
    assert abs(area_z - area_x) < 1e-4                  # the same probability on both sides
    assert abs(ratio - inv_x) < 1e-12                   # p_X(x) = p_Z(z) |dz/dx|, dz/dx = 1/x
assert checks[0][2] > 1 > checks[1][2]                  # squeezed: taller; stretched: lower
glue("e12_cov_dz", dz_cov, display=False)

# %% [markdown]
# ## Maximum likelihood
#
# A model $p_\theta$ assigns each data set $x_1, \dots, x_n$ (independent draws) the **likelihood**
# $\prod_i p_\theta(x_i)$. **Maximum likelihood estimation** (极大似然估计, MLE) picks the $\theta$ that makes
# the observed data most probable; in practice we maximise the **log-likelihood** (对数似然)
# $\ell(\theta) = \sum_i \log p_\theta(x_i)$, a sum instead of a product. For a Gaussian,
#
# $$
# \ell(\mu, \sigma) = -\frac{n}{2}\log(2\pi\sigma^2) - \frac{1}{2\sigma^2}\sum_{i=1}^n (x_i - \mu)^2 .
# $$
#
# Setting $\partial\ell/\partial\mu = \sum_i (x_i - \mu)/\sigma^2 = 0$ gives $\hat\mu = \bar x$, the sample
# mean. Setting $\partial\ell/\partial\sigma = -n/\sigma + \sum_i (x_i - \mu)^2/\sigma^3 = 0$ gives
# $\hat\sigma^2 = \frac1n \sum_i (x_i - \bar x)^2$: the variance with $n$ in the denominator, not the
# unbiased $n - 1$. We check the formula for $\ell$ against `Normal.log_prob`, then maximise $\ell$
# numerically with L-BFGS and compare with the closed form.

# %%
gen = torch.Generator().manual_seed(1)
x = 1.5 + 0.7 * torch.randn(50, generator=gen)            # data: 50 draws of N(1.5, 0.7^2)
n = len(x)


def log_lik(mu, sigma):
    return -n / 2 * torch.log(2 * math.pi * sigma**2) - ((x - mu) ** 2).sum() / (2 * sigma**2)


torch.testing.assert_close(log_lik(torch.tensor(1.0), torch.tensor(0.5)),
                           Normal(1.0, 0.5).log_prob(x).sum(), atol=1e-10, rtol=0)

mu_hat, var_hat = x.mean(), ((x - x.mean()) ** 2).mean()  # the closed form
params = torch.tensor([0.0, 0.0], requires_grad=True)     # (mu, log sigma), far from the answer
opt = torch.optim.LBFGS([params], lr=1, max_iter=200, tolerance_grad=1e-12, tolerance_change=1e-14,
                        line_search_fn="strong_wolfe")


def closure():
    opt.zero_grad()
    loss = -log_lik(params[0], params[1].exp())
    loss.backward()
    return loss


opt.step(closure)
mu_num, var_num = params[0].item(), params[1].exp().item() ** 2
print(f"closed form: mu = {mu_hat:.6f}, sigma^2 = {var_hat:.6f}")
print(f"L-BFGS:      mu = {mu_num:.6f}, sigma^2 = {var_num:.6f}")
print(f"log-likelihood at sigma^2 = sum/n: {log_lik(mu_hat, var_hat.sqrt()):.4f}; "
      f"at sum/(n-1): {log_lik(mu_hat, x.var().sqrt()):.4f}")
assert abs(mu_num - mu_hat) < 1e-6 and abs(var_num - var_hat) < 1e-6
assert log_lik(mu_hat, x.var().sqrt()) < log_lik(mu_hat, var_hat.sqrt())  # n - 1 is not the MLE

# %%
mus = torch.linspace(1.0, 2.0, 201)
sigmas = torch.linspace(0.4, 1.2, 161)
surface = torch.stack([torch.stack([log_lik(m, s) for m in mus]) for s in sigmas])  # (161, 201)
fig, ax = plt.subplots(figsize=(6.5, 4))
cs = ax.contour(mus, sigmas, surface, levels=np.linspace(surface.max() - 20, surface.max(), 11))
ax.clabel(cs, fontsize=7, fmt="%.0f")
ax.plot(mu_hat, var_hat.sqrt(), "r*", ms=12, label=r"MLE $(\bar x, \hat\sigma)$")
ax.plot(1.5, 0.7, "kx", ms=8, label="true parameters")
ax.set_xlabel(r"$\mu$")
ax.set_ylabel(r"$\sigma$")
ax.set_title("Gaussian log-likelihood of 50 points; its maximum is the closed form")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# The MLE is not the true parameter: it is a random variable that moves with the sample and converges to
# the truth as $n$ grows. Maximum likelihood is also what a VAE (through its bound, Part III) and a language
# model (1.4) are trained with. Maximising $\frac1n\sum_i \log p_\theta(x_i)$ is, for large $n$, the same as
# minimising $\mathrm{KL}(p_{\text{data}} \,\|\, p_\theta)$, as we show next.
#
# ## Entropy and cross-entropy
#
# The **entropy** {cite}`shannon1948mathematical` of a distribution is its average surprise,
# $H(p) = -\mathbb E_p[\log p(X)]$: for a discrete $p$, $-\sum_i p_i \log p_i$, at most $\log K$ for $K$
# outcomes, reached by the uniform distribution. For a density it is the **differential entropy**; for
# $\mathcal N(\mu, \sigma^2)$, $H = \tfrac12\log(2\pi e \sigma^2)$, which is negative when $\sigma$ is small
# (another sign that densities are not probabilities). The **cross-entropy** (交叉熵)
# $H(p, q) = -\mathbb E_p[\log q(X)]$ is the average surprise of a model $q$ on data from $p$; it is the
# classification and language-modelling loss. It splits as
#
# $$
# H(p, q) = H(p) + \mathrm{KL}(p \,\|\, q), \qquad
# \mathrm{KL}(p \,\|\, q) = \mathbb E_p\Big[\log \frac{p(X)}{q(X)}\Big] .
# $$
#
# Since $H(p)$ does not depend on the model, minimising the cross-entropy (maximising the likelihood) over
# $q$ minimises $\mathrm{KL}(p \,\|\, q)$. We check each statement numerically.

# %%
gen = torch.Generator().manual_seed(2)
K = 6
p = torch.softmax(2 * torch.randn(200, K, generator=gen), dim=1)   # 200 random distributions
q = torch.softmax(2 * torch.randn(200, K, generator=gen), dim=1)
entropy = -(p * p.log()).sum(1)
cross_entropy = -(p * q.log()).sum(1)
kl_pq = (p * (p.log() - q.log())).sum(1)
torch.testing.assert_close(entropy, Categorical(probs=p).entropy(), atol=1e-12, rtol=0)
torch.testing.assert_close(kl_pq, kl_divergence(Categorical(probs=p), Categorical(probs=q)),
                           atol=1e-12, rtol=0)
torch.testing.assert_close(cross_entropy, entropy + kl_pq, atol=1e-12, rtol=0)
kl_pp = (p * (p.log() - p.log())).sum(1)
print(f"KL(p || q) over the 200 pairs: smallest {kl_pq.min():.4f}; KL(p || p): largest "
      f"{kl_pp.abs().max():.1e}")
assert kl_pq.min() > 0 and kl_pp.abs().max() < 1e-12                # Gibbs' inequality
double_q = (p * (p.log() - (2 * q).log())).sum(1)                   # q not normalised: a slip
assert double_q.min() < 0                                          # ... and the inequality fails
uniform_h = Categorical(probs=torch.full((K,), 1 / K)).entropy().item()
print(f"largest entropy of 200 random distributions: {entropy.max():.4f} < log 6 = "
      f"{math.log(K):.4f}"
      f" (uniform: {uniform_h:.4f})")
assert entropy.max() < math.log(K) and abs(uniform_h - math.log(K)) < 1e-12

h_rows = []
for sigma in (0.1, 1.0, 3.0):
    normal = Normal(0.0, sigma)
    draws = normal.sample((100_000,))
    surprise = -normal.log_prob(draws)
    h_mc, h_se = surprise.mean().item(), (surprise.std() / math.sqrt(len(draws))).item()
    h_formula = 0.5 * math.log(2 * math.pi * math.e * sigma**2)
    h_rows.append((sigma, h_formula, h_mc, h_se))
    print(f"N(0, {sigma}^2): 1/2 log(2 pi e sigma^2) = {h_formula:+.4f}, Normal.entropy() = "
          f"{normal.entropy().item():+.4f}, Monte Carlo {h_mc:+.4f} ± {h_se:.4f}")
    assert abs(normal.entropy().item() - h_formula) < 1e-12 and abs(h_mc - h_formula) < 4 * h_se

# %% tags=["hide-input"]
glue("e12_h_narrow", h_rows[0][1], display=False)


# %% [markdown]
# The differential entropy of $\mathcal N(0, 0.1^2)$ is {glue:text}`e12_h_narrow:.3f` nats: negative, yet
# perfectly valid. The Monte Carlo column averages the surprise $-\log p(x)$ over samples; its error bar is
# explained in the last section.
#
# ## KL divergence and its asymmetry
#
# $\mathrm{KL}(p \,\|\, q) \ge 0$, with equality only when $p = q$ (by Jensen's inequality), but it is not a
# distance: it is not symmetric, and the asymmetry matters for generative models. For two Gaussians it has a
# closed form,
#
# $$
# \mathrm{KL}\big(\mathcal N(\mu_1, \sigma_1^2) \,\|\, \mathcal N(\mu_2, \sigma_2^2)\big)
# = \log\frac{\sigma_2}{\sigma_1} + \frac{\sigma_1^2 + (\mu_1 - \mu_2)^2}{2\sigma_2^2} - \frac12 ,
# $$
#
# obtained from the definition with $\mathbb E_p[(X - \mu_2)^2] = \sigma_1^2 + (\mu_1 - \mu_2)^2$. We check
# it against `torch.distributions.kl_divergence` and a Monte Carlo estimate, and measure the asymmetry.

# %%
def gaussian_kl(mu1, s1, mu2, s2):
    """KL(N(mu1, s1^2) || N(mu2, s2^2)) in nats."""
    return torch.log(s2 / s1) + (s1**2 + (mu1 - mu2) ** 2) / (2 * s2**2) - 0.5


gen = torch.Generator().manual_seed(3)
m1, m2 = torch.randn(500, generator=gen), torch.randn(500, generator=gen)
s1, s2 = 0.2 + torch.rand(500, generator=gen) * 3, 0.2 + torch.rand(500, generator=gen) * 3
torch.testing.assert_close(gaussian_kl(m1, s1, m2, s2),
                           kl_divergence(Normal(m1, s1), Normal(m2, s2)), atol=1e-12, rtol=1e-12)

p1, q1 = Normal(0.0, 1.0), Normal(1.0, 2.0)
draws = p1.sample((200_000,))
log_ratio = p1.log_prob(draws) - q1.log_prob(draws)     # log p(x) - log q(x), x ~ p
kl_mc, kl_se = log_ratio.mean().item(), (log_ratio.std() / math.sqrt(len(draws))).item()
kl_forward = gaussian_kl(*map(torch.tensor, (0.0, 1.0, 1.0, 2.0))).item()
kl_backward = gaussian_kl(*map(torch.tensor, (1.0, 2.0, 0.0, 1.0))).item()
print(f"KL(N(0,1) || N(1,2^2)) = {kl_forward:.5f}; Monte Carlo {kl_mc:.5f} ± {kl_se:.5f}")
print(f"KL(N(1,2^2) || N(0,1)) = {kl_backward:.5f}: the arguments matter")
assert abs(kl_mc - kl_forward) < 4 * kl_se and kl_backward > 2 * kl_forward

# %% tags=["hide-input"]
glue("e12_kl_fwd", kl_forward, display=False)
glue("e12_kl_bwd", kl_backward, display=False)

# %% [markdown]
# $\mathrm{KL}(\mathcal N(0, 1) \,\|\, \mathcal N(1, 2^2))$ = {glue:text}`e12_kl_fwd:.3f` nats, but with the
# arguments swapped it is {glue:text}`e12_kl_bwd:.3f` nats. A wider $q$ is cheap when $p$ is narrow (it only
# wastes a little density), while a narrow $q$ under a wide $p$ is expensive: $\log p/q$ becomes large where
# $p$ has mass that $q$ does not cover.
#
# ### Fitting one Gaussian to two modes: forward and reverse KL
#
# The asymmetry decides what a model does when it is too simple for the data. Let $p$ be a mixture of two
# well-separated Gaussians, $\tfrac12\mathcal N(-2, 0.5^2) + \tfrac12\mathcal N(2, 0.5^2)$, and fit a single
# Gaussian $q = \mathcal N(\mu, \sigma^2)$ by minimising either
#
# * the **forward KL** (前向 KL) $\mathrm{KL}(p \,\|\, q) = -H(p) - \mathbb E_p[\log q]$: maximum
#   likelihood, as above.
#   Setting its derivatives to zero gives **moment matching** (矩匹配), $\mu = \mathbb E_p[X]$ and
#   $\sigma^2 = \mathrm{Var}_p[X]$; here $\mu = 0$ and $\sigma^2 = 0.5^2 + 2^2$. The fit must cover all of
#   $p$'s mass (*mass-covering*), so it puts its peak where $p$ has almost none;
# * the **reverse KL** (反向 KL) $\mathrm{KL}(q \,\|\, p) = \mathbb E_q[\log q - \log p]$: it is an average
#   over $q$, so $q$ is punished for putting mass where $p$ has none, and not for missing parts of $p$. Its
#   minima sit on one mode (*mode-seeking*). **Variational inference** (变分推断, Part III) minimises this
#   direction.
#
# (Figure 10.3 of {cite}`bishop2006pattern` shows the same effect in two dimensions.) We compute both
# divergences by numerical integration on a grid of $(\mu, \sigma)$, refine the best grid point with a local
# optimiser, and compare the forward fit with the moment-matching formula.

# %%
x_grid = np.linspace(-12, 12, 4001)
components = [(-2.0, 0.5), (2.0, 0.5)]
log_p = np.logaddexp(*[np.log(0.5) + stats.norm.logpdf(x_grid, m, s) for m, s in components])
p_x = np.exp(log_p)


def kl_forward_q(mu, sigma):
    """KL(p || N(mu, sigma^2)) by the trapezoid rule; broadcasts over mu and sigma."""
    log_q = stats.norm.logpdf(x_grid, np.asarray(mu)[..., None], np.asarray(sigma)[..., None])
    return np.trapezoid(p_x * (log_p - log_q), x_grid, axis=-1)


def kl_reverse_q(mu, sigma):
    """KL(N(mu, sigma^2) || p) by the trapezoid rule; broadcasts over mu and sigma."""
    log_q = stats.norm.logpdf(x_grid, np.asarray(mu)[..., None], np.asarray(sigma)[..., None])
    return np.trapezoid(np.exp(log_q) * (log_q - log_p), x_grid, axis=-1)


mu_axis, sigma_axis = np.linspace(-4, 4, 161), np.linspace(0.2, 3.5, 67)
M, S = np.meshgrid(mu_axis, sigma_axis)                  # (67, 161)
landscapes = {"forward KL(p || q)": kl_forward_q(M, S), "reverse KL(q || p)": kl_reverse_q(M, S)}


def refine(kl, start):
    best = optimize.minimize(lambda t: float(kl(t[0], math.exp(t[1]))),
                             [start[0], math.log(start[1])], method="Nelder-Mead",
                             options={"xatol": 1e-9, "fatol": 1e-12})
    return best.x[0], math.exp(best.x[1]), best.fun


i, j = np.unravel_index(np.argmin(landscapes["forward KL(p || q)"]), M.shape)
mu_f, sigma_f, _ = refine(kl_forward_q, (M[i, j], S[i, j]))  # from the best grid point
right_mode = refine(kl_reverse_q, (1.5, 1.0))           # the reverse KL has one minimum per mode
left_mode = refine(kl_reverse_q, (-1.5, 1.0))

mean_p = sum(0.5 * m for m, _ in components)
var_p = sum(0.5 * (s**2 + m**2) for m, s in components) - mean_p**2
print(f"forward KL minimum: mu = {mu_f:+.4f}, sigma = {sigma_f:.4f};  moment matching: mu = "
      f"{mean_p:+.4f}, sigma = {math.sqrt(var_p):.4f}")
for label, (mu_r, sigma_r, value) in [("right", right_mode), ("left", left_mode)]:
    print(f"reverse KL minimum on the {label} mode: mu = {mu_r:+.4f}, sigma = {sigma_r:.4f}, "
          f"KL(q || p) = {value:.4f}")
assert abs(mu_f - mean_p) < 1e-3 and abs(sigma_f - math.sqrt(var_p)) < 1e-3
assert abs(right_mode[0] - 2) < 0.05 and abs(right_mode[1] - 0.5) < 0.05
assert abs(left_mode[0] + 2) < 0.05 and abs(left_mode[2] - right_mode[2]) < 1e-6

# %% [markdown]
# Each fit is good by its own criterion and bad by the other's. The table evaluates both divergences at both
# fits:

# %%
q_fwd, q_rev = (mu_f, sigma_f), right_mode[:2]
table = {name: (float(kl_forward_q(*q)), float(kl_reverse_q(*q)))
         for name, q in [("forward fit (moment matching)", q_fwd),
                         ("reverse fit (one mode)", q_rev)]}
print(f"{'':<32}{'KL(p || q)':>12}{'KL(q || p)':>12}")
for name, (fwd, rev) in table.items():
    print(f"{name:<32}{fwd:>12.3f}{rev:>12.3f}")
(f_at_f, r_at_f), (f_at_r, r_at_r) = table.values()
assert f_at_f < f_at_r and r_at_r < r_at_f
assert abs(r_at_r - math.log(2)) < 0.01  # q = one component: missing half of p costs log 2

fig, axes = plt.subplots(1, 3, figsize=(14, 4), layout="constrained")
axes[0].fill_between(x_grid, p_x, color="0.8", label="$p$: two modes")
for (mu, sigma), label, color in [(q_fwd, "forward-KL fit", "tab:blue"),
                                  (q_rev, "reverse-KL fit", "tab:red")]:
    axes[0].plot(x_grid, stats.norm.pdf(x_grid, mu, sigma), color=color,
                 label=rf"{label}: $\mu$={mu:+.2f}, $\sigma$={sigma:.2f}")
axes[0].set_xlim(-6, 6)
axes[0].set_title("mass-covering vs mode-seeking")
axes[0].legend(fontsize=7)
for ax, (name, land) in zip(axes[1:], landscapes.items()):
    cs = ax.contourf(M, S, np.log10(land), levels=20, cmap="viridis")
    fig.colorbar(cs, ax=ax, label="log10 KL")
    ax.set_xlabel(r"$\mu$")
    ax.set_ylabel(r"$\sigma$")
    ax.set_title(name)
axes[1].plot(*q_fwd, "w*", ms=12)
axes[2].plot([left_mode[0], right_mode[0]], [left_mode[1], right_mode[1]], "w*", ms=12)
fig.suptitle("Fitting one Gaussian to a bimodal p: the direction of the KL decides")
plt.show()

# %% tags=["hide-input"]
glue("e12_fwd_at_fwd", f_at_f, display=False)
glue("e12_fwd_at_rev", f_at_r, display=False)
glue("e12_rev_at_fwd", r_at_f, display=False)
glue("e12_rev_at_rev", r_at_r, display=False)
glue("e12_sigma_fwd", sigma_f, display=False)


# %% [markdown]
# The forward fit, $\sigma$ = {glue:text}`e12_sigma_fwd:.2f`, spreads over both modes and peaks in the
# empty middle: $\mathrm{KL}(p \,\|\, q)$ = {glue:text}`e12_fwd_at_fwd:.3f` there, against
# {glue:text}`e12_fwd_at_rev:.1f` for the one-mode fit, which leaves half of $p$ uncovered. The reverse
# criterion ranks them the other way: {glue:text}`e12_rev_at_rev:.3f` (almost exactly $\log 2$, the price of
# ignoring half of the mass) for the one-mode fit against {glue:text}`e12_rev_at_fwd:.3f` for the wide fit.
# The reverse landscape (right) has two separate minima, one per mode. This picture is often used to explain
# blurry VAE samples (likelihood-based, mass-covering) and **mode collapse** (模式崩溃) in GANs (2.3), where a
# generator covers some modes of the data well and ignores the rest. The second explanation is contested.
# Goodfellow argues that the divergence is not the cause: the reverse KL would still spread over as many
# modes as the model can represent, yet GANs often collapse to fewer, whichever divergence they are trained
# on {cite}`goodfellow2016tutorial`. Arjovsky and Bottou show that the usual (non-saturating) generator
# loss does contain a reverse-KL term {cite}`arjovsky2017towards`. Take it as a useful picture, not as a
# theorem about GANs.
#
# ## Jensen–Shannon divergence
#
# The original GAN's criterion, with the minimax loss and at the optimal discriminator, turns out to be the
# **Jensen–Shannon divergence** {cite}`lin1991divergence` (section 2.1):
#
# $$
# \mathrm{JSD}(p \,\|\, q) = \tfrac12 \mathrm{KL}(p \,\|\, m) + \tfrac12 \mathrm{KL}(q \,\|\, m),
# \qquad m = \tfrac12 (p + q).
# $$
#
# Unlike the KL it is **symmetric**, and it is **bounded**: $0 \le \mathrm{JSD} \le \log 2$, with $\log 2$
# exactly when $p$ and $q$ have disjoint supports (then $m = p/2$ wherever $p > 0$, so each KL term is
# $\log 2$). The KL of disjoint distributions is infinite. We check these properties on
# {glue:text}`e12_n_js_pairs:,` random pairs of discrete distributions, many with zeros, and compare with
# SciPy's `jensenshannon`, which returns $\sqrt{\mathrm{JSD}}$.

# %%
def kl_discrete(p, q):
    """sum_i p_i log(p_i / q_i), with 0 log 0 = 0, over the last axis."""
    return (torch.xlogy(p, p) - torch.xlogy(p, q)).sum(-1)


def js_divergence(p, q):
    m = (p + q) / 2
    return 0.5 * kl_discrete(p, m) + 0.5 * kl_discrete(q, m)


gen = torch.Generator().manual_seed(4)
n_pairs = 1000
raw_p = torch.rand(n_pairs, 8, generator=gen) * (torch.rand(n_pairs, 8, generator=gen) > 0.3)
raw_q = torch.rand(n_pairs, 8, generator=gen) * (torch.rand(n_pairs, 8, generator=gen) > 0.3)
raw_p[:, 0] += 1e-3  # every row keeps some mass
raw_q[:, -1] += 1e-3
pp, qq = raw_p / raw_p.sum(1, keepdim=True), raw_q / raw_q.sum(1, keepdim=True)
jsd = js_divergence(pp, qq)
scipy_jsd = torch.from_numpy(jensenshannon(pp.numpy(), qq.numpy(), axis=1) ** 2)
disjoint = js_divergence(torch.tensor([0.3, 0.7, 0.0, 0.0]), torch.tensor([0.0, 0.0, 0.5, 0.5]))
kl_disjoint = kl_discrete(torch.tensor([0.3, 0.7, 0.0, 0.0]), torch.tensor([0.0, 0.0, 0.5, 0.5]))
print(f"JSD over {n_pairs} random pairs: from {jsd.min():.4f} to {jsd.max():.4f} "
      f"(log 2 = {math.log(2):.4f})")
print(f"largest |JSD(p, q) - JSD(q, p)|: {(jsd - js_divergence(qq, pp)).abs().max():.1e}; "
      f"largest gap to SciPy: {(jsd - scipy_jsd).abs().max():.1e}")
print(f"disjoint supports: JSD = {disjoint:.6f}, KL = {kl_disjoint}")
torch.testing.assert_close(jsd, scipy_jsd, atol=1e-12, rtol=0)
torch.testing.assert_close(jsd, js_divergence(qq, pp), atol=1e-14, rtol=0)
assert jsd.min() >= 0 and jsd.max() <= math.log(2) and abs(disjoint - math.log(2)) < 1e-15
assert torch.isinf(kl_disjoint)

# %% tags=["hide-input"]
glue("e12_n_js_pairs", n_pairs, display=False)

# %% [markdown]
# The boundedness is a mixed blessing. A divergence that saturates at $\log 2$ cannot tell "far apart" from
# "very far apart"; the gradient a GAN generator receives vanishes when its samples are far from the data
# (2.1, 2.2), which motivates the Wasserstein distance of 2.4.
#
# ## Monte Carlo estimates and their error bars
#
# Most expectations in this course, $\mathbb E_p[f(X)]$, have no closed form: the ELBO of a VAE, a GAN's
# value function, the entropy of a model. A **Monte Carlo estimate** averages $f$ over $n$ independent
# samples, $\hat I_n = \frac1n \sum_i f(x_i)$. It is unbiased, and its standard deviation, the
# **standard error** (标准误), is
#
# $$
# \mathrm{SE}(\hat I_n) = \frac{\sigma_f}{\sqrt n}, \qquad \sigma_f^2 = \mathrm{Var}_p[f(X)],
# $$
#
# because the variance of a sum of $n$ independent terms is $n\sigma_f^2$, divided by $n^2$ for the mean. So
# every extra digit of accuracy costs 100 times more samples. In practice $\sigma_f$ is replaced by the
# sample standard deviation, and $\hat I_n \pm 1.96\,\mathrm{SE}$ is an approximate 95% interval (central
# limit theorem). We test all three claims on $\mathbb E[X^2] = 1$ for $X \sim \mathcal N(0, 1)$, where
# $\sigma_f^2 = \mathrm{Var}[X^2] = 2$: for each $n$ we repeat the experiment
# {glue:text}`e12_repeats` times.

# %%
gen = torch.Generator().manual_seed(5)
sizes = [10, 100, 1000, 10_000, 100_000]
repeats = 300
rows = []
for size in sizes:
    f = torch.randn(repeats, size, generator=gen) ** 2           # (repeats, n) values of x^2
    estimates, se = f.mean(1), f.std(1) / math.sqrt(size)        # one estimate and SE per repeat
    covered = ((estimates - 1).abs() <= 1.96 * se).double().mean().item()
    rows.append((size, estimates.std().item(), math.sqrt(2 / size), se.mean().item(), covered))
    print(f"n = {size:>6}: spread of the estimates {rows[-1][1]:.5f}, "
          f"sqrt(2/n) = {rows[-1][2]:.5f}, "
          f"mean estimated SE {rows[-1][3]:.5f}, 95% intervals covering 1: {covered:.1%}")
spread = np.array([r[1] for r in rows])
slope = np.polyfit(np.log10(sizes), np.log10(spread), 1)[0]
coverage_large = np.mean([r[4] for r in rows if r[0] >= 1000])
print(f"slope of log(spread) against log(n): {slope:.3f} (theory: -0.5)")
assert abs(slope + 0.5) < 0.05
assert np.all(np.abs(spread / np.array([r[2] for r in rows]) - 1) < 0.2)  # 300 repeats: ±4 errors
assert 0.92 < coverage_large < 0.98

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8))
ax1.loglog(sizes, spread, "o", label=f"spread of {repeats} estimates")
ax1.loglog(sizes, [r[2] for r in rows], "k--", label=r"$\sigma_f/\sqrt{n} = \sqrt{2/n}$")
ax1.set_xlabel("number of samples $n$")
ax1.set_ylabel("standard deviation of the estimate")
ax1.set_title(f"Standard error shrinks like $1/\\sqrt{{n}}$ (fitted slope {slope:.3f})")
ax1.legend(fontsize=8)
gen = torch.Generator().manual_seed(6)
for i, size in enumerate(sizes):
    f = torch.randn(8, size, generator=gen) ** 2
    ax2.errorbar(i + np.linspace(-0.25, 0.25, 8), f.mean(1),
                 yerr=1.96 * f.std(1) / math.sqrt(size), fmt="o", ms=3, capsize=2)
ax2.axhline(1.0, color="k", lw=0.8)
ax2.set_xticks(range(len(sizes)), [f"{s:,}" for s in sizes])
ax2.set_xlabel("number of samples $n$")
ax2.set_title(r"8 estimates of $\mathbb{E}[X^2] = 1$ per $n$, with 95% error bars")
plt.show()

# %% tags=["hide-input"]
glue("e12_mc_slope", float(slope), display=False)
glue("e12_repeats", repeats, display=False)
glue("e12_mc_cover", float(coverage_large), display=False)


# %% [markdown]
# The fitted slope is {glue:text}`e12_mc_slope:.3f`, and for $n \ge 1000$ the 95% intervals contain the true
# value {glue:text}`e12_mc_cover:.1%` of the time. For small $n$ the interval is less reliable: the sample
# standard deviation is itself noisy, and $X^2$ is skewed. Report a Monte Carlo number with its standard
# error, as the checks on this page do.
#
# ## Exercises
#
# The warm-ups (1.2a–c) practise the formulas of this page; 1.2d and 1.2e apply them where the page does
# not. Each checker names the common mistake your answer matches; `ch1.q12a.hint()` gives a hint.
#
# ### 1.2a Warm-up: the Gaussian KL
#
# Write `gaussian_kl(mu1, sigma1, mu2, sigma2)`, the divergence
# $\mathrm{KL}(\mathcal N(\mu_1, \sigma_1^2) \,\|\, \mathcal N(\mu_2, \sigma_2^2))$ in nats, elementwise
# for tensors. The `sigma`s are standard deviations.

# %%
def my_gaussian_kl(mu1, sigma1, mu2, sigma2):
    ...  # your code


ch1.q12a.check(my_gaussian_kl);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def my_gaussian_kl(mu1, sigma1, mu2, sigma2):
#     return torch.log(sigma2 / sigma1) + (sigma1**2 + (mu1 - mu2)**2) / (2 * sigma2**2) - 0.5
# ```
# The expectation is over the **first** distribution, so $\sigma_1^2$ and $\mu_1$ appear in the numerator
# and $\sigma_2^2$ below. Swapping the arguments gives a different number (see
# $\mathrm{KL}(\mathcal N(0, 1) \,\|\, \mathcal N(1, 2^2))$ and its swap, computed earlier on this page).
# :::

# %% tags=["hide-cell"]
def reference_gaussian_kl(mu1, sigma1, mu2, sigma2):
    return torch.log(sigma2 / sigma1) + (sigma1**2 + (mu1 - mu2) ** 2) / (2 * sigma2**2) - 0.5


assert ch1.q12a.check(reference_gaussian_kl, quiet=True)

# %% [markdown]
# ### 1.2b Warm-up: the Jensen–Shannon divergence
#
# Write `my_js_divergence(p, q)` for discrete
# distributions given as probability tensors over the last axis. They may contain zeros; the result is in
# nats.

# %%
def my_js_divergence(p, q):
    ...  # your code


ch1.q12b.check(my_js_divergence);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def my_js_divergence(p, q):
#     m = (p + q) / 2
#     return 0.5 * torch.xlogy(p, p / m).sum(-1) + 0.5 * torch.xlogy(q, q / m).sum(-1)
# ```
# `torch.xlogy(a, b)` is $a \log b$ with the convention $0 \log 0 = 0$. Wherever $p_i > 0$, also
# $m_i > 0$, so the ratio is finite: the JSD never blows up, unlike $\mathrm{KL}(p \,\|\, q)$.
# :::

# %% tags=["hide-cell"]
def reference_js_divergence(p, q):
    m = (p + q) / 2
    return 0.5 * torch.xlogy(p, p / m).sum(-1) + 0.5 * torch.xlogy(q, q / m).sum(-1)


assert ch1.q12b.check(reference_js_divergence, quiet=True)

# %% [markdown]
# ### 1.2c Warm-up: an estimate with its error bar
#
# Write `mc_estimate(values)`: given the values
# $f(x_1), \dots, f(x_n)$ at independent samples, return the pair (Monte Carlo estimate of
# $\mathbb E[f(X)]$, its standard error).

# %%
def mc_estimate(values):
    ...  # your code


ch1.q12c.check(mc_estimate);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def mc_estimate(values):
#     return values.mean(), values.std() / len(values) ** 0.5
# ```
# The standard deviation of the *values* measures how much one $f(x_i)$ varies; the standard error is the
# standard deviation of their *mean*, $\sqrt n$ times smaller.
# :::

# %% tags=["hide-cell"]
def reference_mc_estimate(values):
    return values.mean(), values.std() / len(values) ** 0.5


assert ch1.q12c.check(reference_mc_estimate, quiet=True)

# %% [markdown]
# ### 1.2d Apply: the KL divergence between full-covariance Gaussians
#
# VAEs (Part III) need the KL divergence between Gaussians in many dimensions. Write
# `gaussian_kl_full(mu1, cov1, mu2, cov2)`: $\mathrm{KL}(\mathcal N(\mu_1, \Sigma_1) \,\|\,
# \mathcal N(\mu_2, \Sigma_2))$ in nats, for $d$-dimensional means (shape $(d,)$) and symmetric
# positive-definite covariance matrices (shape $(d, d)$). Derive it the way the page derives the 1-D case:
# $\mathbb E_p[\log p(x) - \log q(x)]$ with the two log-densities written out.

# %%
def gaussian_kl_full(mu1, cov1, mu2, cov2):
    ...  # your code


ch1.q12d.check(gaussian_kl_full);

# %% [markdown]
# :::{dropdown} Solution
# With $\log \mathcal N(x; \mu, \Sigma) = -\tfrac12 (x - \mu)^\top \Sigma^{-1} (x - \mu)
# - \tfrac12 \log\det(2\pi\Sigma)$ and, for $x \sim p$, $\mathbb E[(x - m)^\top A (x - m)] =
# \operatorname{tr}(A\Sigma_1) + (\mu_1 - m)^\top A (\mu_1 - m)$:
#
# $$
# \mathrm{KL} = \tfrac12\Big[\operatorname{tr}(\Sigma_2^{-1}\Sigma_1) + (\mu_2 - \mu_1)^\top \Sigma_2^{-1}
# (\mu_2 - \mu_1) - d + \log\frac{\det\Sigma_2}{\det\Sigma_1}\Big].
# $$
#
# ```python
# def gaussian_kl_full(mu1, cov1, mu2, cov2):
#     d = mu1.shape[0]
#     diff = mu2 - mu1
#     trace = torch.trace(torch.linalg.solve(cov2, cov1))          # tr(cov2^-1 cov1)
#     mahalanobis = diff @ torch.linalg.solve(cov2, diff)          # (mu2 - mu1)^T cov2^-1 (mu2 - mu1)
#     return 0.5 * (trace + mahalanobis - d + torch.logdet(cov2) - torch.logdet(cov1))
# ```
# The constant is $-d/2$, one $-\tfrac12$ per dimension: in one dimension the formula is the page's. With
# diagonal matrices it is a sum of 1-D KLs; with correlated coordinates, using only the diagonals is wrong.
# :::

# %% tags=["hide-cell"]
def gaussian_kl_full_solution(mu1, cov1, mu2, cov2):
    diff = mu2 - mu1
    trace = torch.trace(torch.linalg.solve(cov2, cov1))
    return 0.5 * (trace + diff @ torch.linalg.solve(cov2, diff) - mu1.shape[0]
                  + torch.logdet(cov2) - torch.logdet(cov1))


assert ch1.q12d.check(gaussian_kl_full_solution, quiet=True)

# %% [markdown]
# ### 1.2e Apply: the density of a generator's output
#
# A one-dimensional "generator" maps noise $z \sim \mathcal N(0, 1)$ to $x = G(z) = z^3$. Write
# `cube_log_density(x)`: the log-density $\log p_X(x)$ of its outputs, for a tensor of points $x \neq 0$ of
# either sign. Use the change of variables formula of this page. (Before you write it: is $p_X$ larger or
# smaller than $p_Z$ near 0, and why?)

# %%
def cube_log_density(x):
    ...  # your code


ch1.q12e.check(cube_log_density);

# %% [markdown]
# :::{dropdown} Solution
# $G$ is increasing, with inverse $G^{-1}(x) = x^{1/3}$ (the real cube root) and $|dG^{-1}/dx| =
# 1/(3z^2)$ at $z = x^{1/3}$, so $p_X(x) = \mathcal N(x^{1/3}; 0, 1)/(3 x^{2/3})$:
# ```python
# def cube_log_density(x):
#     z = x.sign() * x.abs() ** (1 / 3)                 # G^-1(x), the real cube root
#     log_jacobian = -math.log(3) - 2 * z.abs().log()   # log |dG^-1/dx| = -log(3 z^2)
#     return torch.distributions.Normal(0.0, 1.0).log_prob(z) + log_jacobian
# ```
# Near 0 the cube flattens the noise ($dG/dz = 3z^2 \to 0$): a whole interval of $z$ lands on a tiny
# interval of $x$, so the density of $x$ grows without bound there (it is still integrable). `x ** (1/3)`
# of a negative float is `nan` in PyTorch, hence the sign trick (or `torch.where`).
# :::

# %% tags=["hide-cell"]
def cube_log_density_solution(x):
    z = torch.where(x < 0, -(-x) ** (1 / 3), x ** (1 / 3))
    return Normal(0.0, 1.0).log_prob(z) - torch.log(3 * z**2)


assert ch1.q12e.check(cube_log_density_solution, quiet=True)

# %% [markdown]
# ## Summary
#
# * A density integrates to 1 but can exceed 1; samplers transform simple noise (inverse CDF, generators).
# * Maximum likelihood maximises $\sum_i \log p_\theta(x_i)$; for a Gaussian it gives the sample mean and
#   the variance with $1/n$. It is the same as minimising the cross-entropy, or $\mathrm{KL}(p_{\text{data}}
#   \,\|\, p_\theta)$.
# * $\mathrm{KL}(p \,\|\, q) \ne \mathrm{KL}(q \,\|\, p)$: fitting the forward direction covers all the
#   mass, the reverse direction picks a mode. The JSD is symmetric and bounded by $\log 2$.
# * A Monte Carlo estimate has standard error $\sigma_f/\sqrt n$: quote it, and expect 100 times more
#   samples for each extra digit.
