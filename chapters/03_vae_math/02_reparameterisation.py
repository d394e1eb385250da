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
# # 3.2 Gradients through sampling

# %% tags=["remove-input"]
from aigc_course.plotting import page_info

page_info("02_reparameterisation")

# %% [markdown]
# Training a VAE means following the gradient of the ELBO of 3.1,
# $\mathcal L(x) = \mathbb E_{q_\phi(z \mid x)}[\log p_\theta(x \mid z)] - \mathrm{KL}(q_\phi(z \mid x)\,\|\,p(z))$.
# The decoder's parameters $\theta$ are easy: draw $z$, and the gradient of $\log p_\theta(x \mid z)$ is an
# unbiased estimate. The encoder's parameters $\phi$ are the problem: they define the *distribution* the
# expectation is taken over, and a sample $z \sim q_\phi$ is just a number; nothing in it says how it would
# have changed had $\phi$ been different. The general question is how to estimate
#
# $$
# \nabla_\phi\, \mathbb E_{z \sim q_\phi}[f(z)]
# $$
#
# from samples. This page compares the two standard answers {cite}`mohamed2020montecarlo` on a problem
# whose exact gradient we know: the **score-function estimator** (得分函数估计量, REINFORCE)
# {cite}`williams1992reinforce` and the **reparameterisation trick** (重参数化技巧)
# {cite}`kingma2014vae,rezende2014stochastic`. It measures their variances and shows why the trick needs a
# continuous, reparameterisable $q$.

# %%
import math

import matplotlib.pyplot as plt
import torch
from torch.distributions import Bernoulli, Normal

import aigc_course as ac
from aigc_course.exercises import ch3
from aigc_course.plotting import glue

ac.set_seed(0)
ac.runtime.set_threads(1)  # vectors of a few thousand numbers: one CPU thread is fastest
torch.set_default_dtype(torch.float64)
print(ac.describe(torch.device("cpu")))  # this page runs on the CPU, whatever the machine has

# %% [markdown]
# ## Two estimators
#
# **The score function.** Differentiate under the integral and use $\nabla_\phi q_\phi = q_\phi\,
# \nabla_\phi \log q_\phi$:
#
# $$
# \nabla_\phi\, \mathbb E_{q_\phi}[f(z)] = \int f(z)\, \nabla_\phi q_\phi(z)\, dz
#   = \mathbb E_{q_\phi}\big[f(z)\, \nabla_\phi \log q_\phi(z)\big] .
# $$
#
# $\nabla_\phi \log q_\phi(z)$ is the **score** (得分函数). The estimator needs only values of $f$, never its
# derivative, so it works for any $f$ and any $q$, discrete ones included, as long as $q_\phi$ is
# differentiable in $\phi$ and its support does not depend on $\phi$ (the swap of $\nabla_\phi$ and
# $\int$ above fails for, say, $\mathrm{Uniform}(0, \phi)$). Because
# $\mathbb E_q[\nabla_\phi \log q_\phi] = \nabla_\phi \int q_\phi = 0$, a constant $b$ can be subtracted
# from $f$ without changing the expectation: $\mathbb E_q[(f(z) - b)\,\nabla_\phi \log q_\phi(z)]$. Such a
# **baseline** (基线) reduces the variance when it is close to $f$. With $n$ samples, the *leave-one-out*
# baseline $b_i = \frac{1}{n-1}\sum_{j \ne i} f(z_j)$ is independent of $z_i$, so the estimate stays
# unbiased.
#
# **The reparameterisation (pathwise) gradient** (路径梯度). Write the sample as a differentiable function of
# $\phi$ and of noise that does not depend on $\phi$: for a Gaussian, $z = \mu + \sigma \varepsilon$ with
# $\varepsilon \sim \mathcal N(0, 1)$. Then the expectation is over $\varepsilon$, and the gradient moves
# inside:
#
# $$
# \nabla_\phi\, \mathbb E_{q_\phi}[f(z)] = \mathbb E_{\varepsilon}\big[\nabla_\phi f(\mu + \sigma\varepsilon)\big]
#   = \mathbb E_\varepsilon\Big[f'(z)\, \frac{\partial z}{\partial \phi}\Big],
# \qquad \frac{\partial z}{\partial \mu} = 1,\quad \frac{\partial z}{\partial \sigma} = \varepsilon .
# $$
#
# It uses the derivative of $f$, so it needs a differentiable $f$ and a $z$ that moves smoothly with $\phi$.
# In code it is just autograd through the sampling line.
#
# **The test problem.** $q = \mathcal N(\mu, \sigma^2)$ with $\mu = 0.5$, and two functions with exact
# expectations:
#
# * $f_1(z) = (z - 2)^2$ with $\sigma = 1$: $\mathbb E[f_1] = (\mu - 2)^2 + \sigma^2$, so
#   $\partial_\mu = 2(\mu - 2) = -3$ and $\partial_\sigma = 2\sigma = 2$;
# * $f_2(z) = \sin(5 z)$ with $\sigma = 0.5$: $\mathbb E[f_2] = \sin(5\mu)\, e^{-25\sigma^2/2}$, so
#   $\partial_\mu = 5\cos(5\mu)\, e^{-25\sigma^2/2}$ and $\partial_\sigma = -25\sigma\sin(5\mu)\,
#   e^{-25\sigma^2/2}$: small numbers (the factor $e^{-25\sigma^2/2}$ is about 0.04) averaged from a
#   rapidly oscillating $f$ whose slope reaches $\pm 5$. With $\sigma = 1$ they would be below $10^{-4}$,
#   too small for the check below to tell a right formula from a wrong one.
#
# The estimators below are written the way they are used in practice. The pathwise one is autograd
# through $z = \mu + \sigma\varepsilon$. The score-function one is the gradient of the **surrogate**
# $f(z) \log q_\phi(z)$ with $f(z)$ held fixed; we check that this equals the formula
# $f(z)\,(z - \mu)/\sigma^2$ for $\partial_\mu$.

# %%
MU = 0.5
problems = {  # name: (f, sigma, exact d/dmu, exact d/dsigma)
    "(z-2)^2": (lambda z: (z - 2) ** 2, 1.0, 2 * (MU - 2), 2 * 1.0),
    "sin(5z)": (lambda z: torch.sin(5 * z), 0.5,
                5 * math.cos(5 * MU) * math.exp(-12.5 * 0.5**2),
                -25 * 0.5 * math.sin(5 * MU) * math.exp(-12.5 * 0.5**2)),
}


def estimates(f, sigma0, n, reps, gen):
    """Estimates of the gradient of E[f(z)] w.r.t. (mu, sigma) from n samples: (reps, 2) each."""
    mu = torch.full((reps, 1), MU, requires_grad=True)
    sigma = torch.full((reps, 1), sigma0, requires_grad=True)
    eps = torch.randn(reps, n, generator=gen)

    z = mu + sigma * eps                                       # reparameterised samples, (reps, n)
    pathwise = torch.autograd.grad(f(z).mean(1).sum(), (mu, sigma))

    z = z.detach()                                             # plain samples: no path back to phi
    fz = f(z)
    log_q = Normal(mu, sigma).log_prob(z)                      # (reps, n)
    score = torch.autograd.grad((fz * log_q).mean(1).sum(), (mu, sigma), retain_graph=True)
    baseline = (fz.sum(1, keepdim=True) - fz) / (n - 1)        # leave-one-out, (reps, n)
    score_b = torch.autograd.grad(((fz - baseline) * log_q).mean(1).sum(), (mu, sigma))

    by_formula = (fz * (z - MU) / sigma0**2).mean(1)           # d/dmu by hand
    torch.testing.assert_close(score[0][:, 0], by_formula)
    return {name: torch.cat(g, dim=1) for name, g in
            [("pathwise", pathwise), ("score", score), ("score + baseline", score_b)]}


gen = torch.Generator().manual_seed(0)
reps, n = 20_000, 10
print(f"{reps} estimates, each from n = {n} samples;  mean ± standard error, variance")
table, results = {}, {}
for name, (f, sigma0, exact_mu, exact_sigma) in problems.items():
    print(f"\nf(z) = {name}, sigma = {sigma0}: exact d/dmu = {exact_mu:+.4f}, "
          f"d/dsigma = {exact_sigma:+.4f}")
    for method, est in estimates(f, sigma0, n, reps, gen).items():
        mean, var = est.mean(0), est.var(0)
        se = (var / reps).sqrt()
        table[name, method] = var[0].item()
        results[name, method] = mean, se
        print(f"  {method:17s} d/dmu {mean[0]:+.4f} ± {se[0]:.4f}  var {var[0]:9.4f}   "
              f"d/dsigma {mean[1]:+.4f} ± {se[1]:.4f}  var {var[1]:9.4f}")
        assert (mean - torch.tensor([exact_mu, exact_sigma])).abs().le(4 * se).all(), "biased?"

assert (table["(z-2)^2", "pathwise"] < table["(z-2)^2", "score + baseline"]
        < table["(z-2)^2", "score"])
assert table["sin(5z)", "score + baseline"] < table["sin(5z)", "pathwise"]
baseline_change = table["sin(5z)", "score + baseline"] / table["sin(5z)", "score"] - 1


# %% tags=["hide-input"]
glue("e32_ratio_f1", table["(z-2)^2", "score"] / table["(z-2)^2", "pathwise"], display=False)
glue("e32_ratio_f1_b", table["(z-2)^2", "score + baseline"] / table["(z-2)^2", "pathwise"],
     display=False)
glue("e32_ratio_f2", table["sin(5z)", "pathwise"] / table["sin(5z)", "score + baseline"],
     display=False)
glue("e32_f2_baseline_change", abs(baseline_change), display=False)
glue("e32_f2_baseline_effect", "raises" if baseline_change > 0 else "lowers", display=False)

# %% tags=["hide-input"]
# the check can fail: wrong formulas for f_2's gradient lie outside four standard errors
_, sigma2, exact_mu2, exact_sigma2 = problems["sin(5z)"]
damp = math.exp(-12.5 * sigma2**2)
wrong_f2 = {"no gradient": (0.0, 0.0), "sign flipped": (-exact_mu2, -exact_sigma2),
            "exp(-25 s^2) for exp(-25 s^2 / 2)": (exact_mu2 * damp, exact_sigma2 * damp),
            "cos and sin swapped": (5 * math.sin(5 * MU) * damp,
                                    -25 * sigma2 * math.cos(5 * MU) * damp)}
for method in ("pathwise", "score + baseline"):
    mean, se = results["sin(5z)", method]
    for label, formula in wrong_f2.items():
        assert (mean - torch.tensor(formula)).abs().gt(4 * se).any(), (method, label)

# %% [markdown]
# All three estimators are unbiased: every mean lies within four standard errors of the exact gradient
# (and a folded check shows that the usual wrong formulas for $f_2$'s gradient, zero, the wrong sign or
# $e^{-25\sigma^2}$, fall outside).
# They differ in variance. For the smooth $f_1$ the score-function estimator's variance (for $\partial_\mu$)
# is {glue:text}`e32_ratio_f1:.0f` times the pathwise one's; the baseline brings that down to
# {glue:text}`e32_ratio_f1_b:.1f` times. The score multiplies the *value* $f(z)$, which is large here, by
# a random sign and size; the pathwise estimator only sees the slope $f'(z) = 2(z - 2)$.
#
# The pathwise estimator is not always better. For the oscillating $f_2$ its samples $5\cos(5z)$ are large
# and of random sign while their mean is nearly zero; its variance is {glue:text}`e32_ratio_f2:.1f` times
# that of the score function with baseline, which only sees the bounded values $\sin(5z)$. The baseline
# does not help here: the mean of $f_2$ is already close to zero, and the baseline brings noise of its own
# (it {glue:text}`e32_f2_baseline_effect` the variance of the score-function estimate by
# {glue:text}`e32_f2_baseline_change:.0%`). The usual
# advantage of reparameterisation holds for the smooth functions a decoder's log-likelihood tends to be
# {cite}`mohamed2020montecarlo`, not as a law.
#
# ### Variance against the number of samples
#
# Averaging $n$ independent samples divides the variance by $n$: exactly for the plain estimators, and
# to leading order for the leave-one-out baseline, whose terms share samples (its variance is
# $c_1/n + c_2/n^2$, hence the fit from $n = 10$ on). More samples make
# each estimate better at the same *rate*, so the ratios above are what more computation cannot remove. We
# fit the slope of $\log \mathrm{Var}$ against $\log n$ and assert it is $-1$ to within 0.1.

# %%
ns = [2, 5, 10, 50, 100, 500, 1000]
f1, sigma1 = problems["(z-2)^2"][:2]
curves = {m: [] for m in ("pathwise", "score", "score + baseline")}
for n_samples in ns:
    for method, est in estimates(f1, sigma1, n_samples, 2000, gen).items():
        curves[method].append(est[:, 0].var().item())

fig, ax = plt.subplots(figsize=(6.5, 4))
for method, var in curves.items():
    ax.loglog(ns, var, "o-", label=method)
    slope = torch.linalg.lstsq(torch.tensor([[math.log(k), 1.0] for k in ns[2:]]),
                               torch.tensor(var[2:]).log()[:, None]).solution[0].item()
    print(f"{method:17s} slope of log Var vs log n (n >= 10): {slope:+.3f}")
    assert abs(slope + 1) < 0.1
ax.set_xlabel("samples per estimate, n")
ax.set_ylabel(r"variance of the estimate of $\partial_\mu \mathbb{E}[(z-2)^2]$")
ax.set_title("Gradient-estimator variance falls like 1/n; the gaps between them stay")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## Why the trick needs a continuous, reparameterisable $q$
#
# The pathwise gradient needs a sample that is a *differentiable* function of the parameters. A Gaussian
# has one, $z = \mu + \sigma\varepsilon$; so do other location–scale families and anything with a
# differentiable inverse CDF. A discrete latent does not. Take $z \sim \mathrm{Bernoulli}(p)$ with
# $p = \operatorname{sigmoid}(\eta)$ (a logit $\eta$) and $f(z) = (z - 0.45)^2$. The exact gradient is
#
# $$
# \frac{d}{d\eta}\big(p\,f(1) + (1 - p)\,f(0)\big) = p(1 - p)\,\big(f(1) - f(0)\big) ,
# $$
#
# because $\eta$ changes the *probabilities* of the two values, not the values. A sample
# $z = \mathbb 1[u < p]$, $u \sim U(0, 1)$, is a step function of $p$: its derivative is 0 wherever it
# exists. So:
#
# * `torch.distributions.Bernoulli` has no `rsample` (`has_rsample` is False), and autograd finds no path
#   from a hand-made sample back to $\eta$;
# * the **straight-through** trick (直通估计器), which pretends $dz/dp = 1$, produces a gradient, but a biased one;
# * the score function works: $\frac{d}{d\eta}\log \mathrm{Bernoulli}(z; \operatorname{sigmoid}(\eta)) = z - p$.

# %%
theta = torch.tensor(1.0, requires_grad=True)                # the logit eta of the text
p = torch.sigmoid(theta)


def f_b(z):
    return (z - 0.45) ** 2


exact = (p * (1 - p) * (f_b(1.0) - f_b(0.0))).item()
print(f"exact d/d eta E[f(z)] = {exact:.4f}")

dist = Bernoulli(logits=theta)
print(f"Bernoulli.has_rsample = {dist.has_rsample}")
try:
    dist.rsample()
    raise AssertionError("a Bernoulli sample should not be reparameterisable")
except NotImplementedError:
    print("Bernoulli.rsample() raises NotImplementedError")

u = torch.rand(100_000, generator=gen)
z_hard = (u < p).double()                                  # a sample, built by hand
print(f"z = 1[u < p]: requires_grad = {z_hard.requires_grad}")
try:
    torch.autograd.grad(f_b(z_hard).mean(), theta)
    raise AssertionError("autograd should find no path from z back to theta")
except RuntimeError as err:
    print(f"autograd through it: RuntimeError: {err}")

z_st = z_hard + p - p.detach()                             # straight-through: dz/dp := 1
st_each = torch.autograd.grad(f_b(z_st).sum(), theta)[0] / len(u)
st_per_sample = 2 * (z_hard - 0.45) * p.detach() * (1 - p.detach())  # its per-sample terms
sf_per_sample = f_b(z_hard) * (z_hard - p.detach())                   # score function
torch.testing.assert_close(st_each, st_per_sample.mean())
for name, g in [("straight-through", st_per_sample), ("score function", sf_per_sample)]:
    print(f"{name:16s}: {g.mean():.4f} ± {g.std() / math.sqrt(len(g)):.4f}")
se_st = (st_per_sample.std() / math.sqrt(len(u))).item()
se_sf = (sf_per_sample.std() / math.sqrt(len(u))).item()
assert abs(sf_per_sample.mean().item() - exact) < 4 * se_sf
assert abs(st_per_sample.mean().item() - exact) > 50 * se_st

# %% tags=["hide-input"]
glue("e32_bern_exact", exact, display=False)
glue("e32_bern_st", st_per_sample.mean().item(), display=False)


# %% [markdown]
# The straight-through estimate converges to {glue:text}`e32_bern_st:.3f`, not to the true
# {glue:text}`e32_bern_exact:.3f`: more samples only make it more precisely wrong. The score function is
# unbiased, and with a good baseline it is how discrete latent variables are trained; continuous
# relaxations such as the Gumbel-softmax (concrete) distribution {cite}`jang2017gumbel,maddison2017concrete`
# trade a small bias for pathwise gradients. The VAE avoids the issue altogether by choosing a Gaussian
# $q_\phi(z \mid x) = \mathcal N(\mu_\phi(x), \operatorname{diag}\sigma^2_\phi(x))$: continuous,
# reparameterisable, with a closed-form KL to the prior (3.3). Its latent code is therefore
# **stochastic**, $z = \mu_\phi(x) + \sigma_\phi(x) \odot \varepsilon$, not a deterministic function of $x$;
# the randomness sits in $\varepsilon$, outside the path the gradient takes.
#
# ## Exercises
#
# Two warm-ups put the page's formulas into code; 3.2c and 3.2d ask for what the page does not show.
#
# ### 3.2a Warm-up: the trick itself
#
# Write `reparameterise(mu, logvar, eps)`: a sample of
# $\mathcal N(\mu, \operatorname{diag} e^{\text{logvar}})$ built from standard-normal noise `eps`, through
# which gradients reach `mu` and `logvar` (the checker tests the gradient too).

# %%
def reparameterise(mu, logvar, eps):
    ...  # your code


ch3.q32a.check(reparameterise);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def reparameterise(mu, logvar, eps):
#     return mu + torch.exp(0.5 * logvar) * eps
# ```
# The encoder outputs the log-*variance* $\log\sigma^2$; the noise is scaled by the standard deviation
# $\sigma = e^{\log\sigma^2 / 2}$. Scaling by `exp(logvar)` would give the variance $\sigma^4$.
# :::

# %% tags=["hide-cell"]
def reparameterise_reference(mu, logvar, eps):
    return mu + torch.exp(0.5 * logvar) * eps


assert ch3.q32a.check(reparameterise_reference, quiet=True)
# the package's VAE draws its code the same way: same noise, same z
vae_check = ac.vae.MLPVAE(ac.VAEConfig(kind="mlp", z_dim=4, hidden=8)).double()
x_check = torch.rand(3, 1, 28, 28, generator=gen) * 2 - 1
torch.manual_seed(1)
out = vae_check(x_check)                         # z = mu + exp(logvar / 2) * randn_like(mu)
torch.manual_seed(1)
eps_check = torch.randn_like(out.mu)
torch.testing.assert_close(out.z, reparameterise_reference(out.mu, out.logvar, eps_check))

# %% [markdown]
# ### 3.2b Warm-up: REINFORCE with a baseline
#
# Write `score_grad_mu(f_z, z, mu, sigma)`: the
# score-function estimate of $\partial_\mu \mathbb E_{z \sim \mathcal N(\mu, \sigma^2)}[f(z)]$ from $n$
# samples `z` and their values `f_z`, with the leave-one-out baseline
# $b_i = \frac{1}{n-1}\sum_{j \ne i} f(z_j)$. Write the score by hand (no autograd).

# %%
def score_grad_mu(f_z, z, mu, sigma):
    ...  # your code


ch3.q32b.check(score_grad_mu);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def score_grad_mu(f_z, z, mu, sigma):
#     n = len(z)
#     baseline = (f_z.sum() - f_z) / (n - 1)          # leave-one-out: b_i ignores f(z_i)
#     return ((f_z - baseline) * (z - mu) / sigma**2).mean()
# ```
# The score of a Gaussian mean is $(z - \mu)/\sigma^2$. A baseline that included $f(z_i)$ itself would be
# correlated with sample $i$'s score and bias the estimate by the factor $(n-1)/n$.
# :::

# %% tags=["hide-cell"]
def score_grad_mu_reference(f_z, z, mu, sigma):
    n = len(z)
    baseline = (f_z.sum() - f_z) / (n - 1)
    return ((f_z - baseline) * (z - mu) / sigma**2).mean()


assert ch3.q32b.check(score_grad_mu_reference, quiet=True)

# %% [markdown]
# ### 3.2c Apply: a full-covariance Gaussian
#
# A VAE's $q$ is a diagonal Gaussian. Some models use $q = \mathcal N(\mu, \Sigma)$ with a full covariance
# matrix $\Sigma$, which can express correlations between the latent dimensions (3.1 showed what a
# diagonal $q$ loses). Write `reparameterise_full(mu, cov, eps)`: samples of $\mathcal N(\mu, \Sigma)$
# built from standard-normal noise `eps` of shape (n, d), one sample per row, through which gradients
# reach `mu` and `cov`. What plays the role of $\sigma$? The checker accepts any correct construction.

# %%
def reparameterise_full(mu, cov, eps):
    ...  # your code


ch3.q32c.check(reparameterise_full);

# %% [markdown]
# :::{dropdown} Solution
# If $\varepsilon \sim \mathcal N(0, I)$ then $A\varepsilon \sim \mathcal N(0, AA^\top)$, so any $A$ with
# $AA^\top = \Sigma$ works; the **Cholesky factor** (楚列斯基分解) $L$, lower triangular, is the usual
# choice, and `torch.linalg.cholesky` is differentiable:
# ```python
# def reparameterise_full(mu, cov, eps):
#     L = torch.linalg.cholesky(cov)               # lower triangular, L L^T = cov
#     return mu + eps @ L.T                        # each row: mu + L eps_i
# ```
# With samples as rows, $z_i^\top = \mu^\top + \varepsilon_i^\top L^\top$; `eps @ L` would give the
# covariance $L^\top L \ne \Sigma$. In practice the encoder outputs $L$ itself (a positive diagonal and a
# free lower triangle), so no factorisation is needed.
# :::

# %% tags=["hide-cell"]
def reparameterise_full_reference(mu, cov, eps):
    L = torch.linalg.cholesky(cov)
    return mu + eps @ L.T


assert ch3.q32c.check(reparameterise_full_reference, quiet=True)
# the sample covariance of 200 000 such draws is the covariance asked for
cov_check = torch.tensor([[1.0, 0.8], [0.8, 2.0]])
eps_full = torch.randn(200_000, 2, generator=gen)
z_full = reparameterise_full_reference(torch.zeros(2), cov_check, eps_full)
torch.testing.assert_close(torch.cov(z_full.T), cov_check, atol=0.03, rtol=0)

# %% [markdown]
# ### 3.2d Debug: a sampler with three bugs
#
# This sampler should return one reparameterised code $z \sim \mathcal N(\mu, \operatorname{diag}
# e^{\text{logvar}})$ per row of `mu` and `logvar` (shape (B, Z)), drawing its noise from the generator
# `gen`, so that gradients reach the encoder. It runs without an error. Its three bugs are found in the
# source articles: one reads $\log\sigma^2$ as the standard deviation (errata E31); one cuts the path from
# $z$ back to the encoder, like Article B's split loss (errata E30); and one has nothing to do with the
# formula. Repair it.

# %%
def sample_z(mu, logvar, gen):
    std = logvar                                                  # the standard deviation
    eps = torch.randn(mu.shape[-1], generator=gen, dtype=mu.dtype)  # standard-normal noise
    return (mu + std * eps).detach()                              # a sample is just a number


ch3.q32d.check(sample_z);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def sample_z(mu, logvar, gen):
#     std = torch.exp(0.5 * logvar)                                  # logvar is log sigma^2
#     eps = torch.randn(mu.shape, generator=gen, dtype=mu.dtype)     # one eps per code
#     return mu + std * eps                                          # no detach: gradients flow
# ```
# * `logvar` is $\log\sigma^2$: read as $\sigma$, most of its values would be negative "standard
#   deviations", and the spread is $|\log\sigma^2|$ instead of $\sigma$ (errata E31).
# * `torch.randn(mu.shape[-1])` draws one vector $\varepsilon$ of length Z, and broadcasting adds the *same*
#   noise to every image of the batch: the batch's codes are then correlated, and the gradient estimate
#   averages B copies of one draw instead of B independent ones.
# * `.detach()` stops the gradient at $z$: the reconstruction term can no longer train $\mu$ and $\sigma$,
#   and only the KL does, which pulls every code to the prior (errata E30). "A sample is just a number" is
#   exactly what the reparameterisation trick refutes: $z = \mu + \sigma\varepsilon$ is a differentiable
#   function of $\mu$ and $\sigma$.
# :::

# %% tags=["hide-cell"]
def sample_z_reference(mu, logvar, gen):
    std = torch.exp(0.5 * logvar)
    eps = torch.randn(mu.shape, generator=gen, dtype=mu.dtype)
    return mu + std * eps


assert ch3.q32d.check(sample_z_reference, quiet=True)

# %% [markdown]
# ## Summary
#
# * $\nabla_\phi \mathbb E_{q_\phi}[f]$ cannot be read off a sample. The score-function estimator
#   $\mathbb E[f\,\nabla_\phi \log q_\phi]$ works for any $q$ and $f$; a baseline lowers its variance and
#   keeps it unbiased.
# * The reparameterisation trick writes $z = \mu + \sigma\varepsilon$ and differentiates through it. On a
#   smooth $f$ its variance was far lower; on an oscillating $f$ the score function won. Both variances
#   fall like $1/n$.
# * A Bernoulli (any discrete) latent has no pathwise gradient: autograd finds none, and straight-through
#   is biased. The VAE's Gaussian $q$ is chosen to be continuous and reparameterisable; a full covariance
#   is reparameterised with a Cholesky factor, $z = \mu + L\varepsilon$.
