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
# # 3.3 The KL term

# %% tags=["remove-input"]
from aigc_course.plotting import page_info

page_info("03_kl")

# %% [markdown]
# The second term of the ELBO, $\mathrm{KL}(q_\phi(z \mid x)\,\|\,p(z))$, is the one part of a VAE's loss
# that needs no sampling: for a Gaussian encoder and a standard-normal prior it has a closed form. This page
# derives it, checks it against Monte Carlo and `torch.distributions`, explains why encoders output the
# **log-variance** (对数方差) $\log\sigma^2$ rather than $\sigma$, and then reads the KL dimension by
# dimension on the shipped `vae-fashion` model to see how its encoder spends the KL over its
# {glue:text}`e33_zdim` latent dimensions.

# %%
import math

import matplotlib.pyplot as plt
import torch
from scipy import stats
from torch.distributions import MultivariateNormal, Normal, kl_divergence

import aigc_course as ac
from aigc_course import data, losses, recipes
from aigc_course.exercises import ch3
from aigc_course.plotting import glue

ac.set_seed(0)
ac.runtime.set_threads(1)  # small batches on the CPU: one thread is fastest
print(ac.describe(torch.device("cpu")))  # this page runs on the CPU, whatever the machine has

# %% [markdown]
# ## The closed form
#
# Take one latent dimension, $q = \mathcal N(\mu, \sigma^2)$ and $p = \mathcal N(0, 1)$. The log-densities
# are $\log q(z) = -\tfrac12 \log(2\pi\sigma^2) - \tfrac{(z - \mu)^2}{2\sigma^2}$ and
# $\log p(z) = -\tfrac12 \log 2\pi - \tfrac{z^2}{2}$. Under $q$, $\mathbb E[(z - \mu)^2] = \sigma^2$ and
# $\mathbb E[z^2] = \mu^2 + \sigma^2$, so
#
# $$
# \mathrm{KL}(q \,\|\, p) = \mathbb E_q[\log q(z) - \log p(z)]
# = -\tfrac12 \log\sigma^2 - \tfrac12 + \tfrac12(\mu^2 + \sigma^2)
# = \tfrac12\big(\mu^2 + \sigma^2 - 1 - \log\sigma^2\big).
# $$
#
# A diagonal Gaussian $q(z \mid x) = \prod_j \mathcal N(\mu_j, \sigma_j^2)$ and the prior $\mathcal N(0, I)$
# both factorise over the dimensions, and the KL of product distributions is the sum of the KLs:
#
# $$
# \mathrm{KL}\big(\mathcal N(\mu, \operatorname{diag}\sigma^2)\,\|\,\mathcal N(0, I)\big)
# = \tfrac12 \sum_{j=1}^{J} \big(\mu_j^2 + \sigma_j^2 - 1 - \log\sigma_j^2\big),
# $$
#
# a sum over the $J$ **latent** dimensions, with the log-variance entering with a minus sign. Each term is
# $\ge 0$: $\mu_j^2 \ge 0$ and $t - 1 - \log t \ge 0$ for $t = \sigma_j^2 > 0$, zero only at $\mu_j = 0$,
# $\sigma_j = 1$. `losses.gaussian_kl(mu, logvar)` computes it from the encoder's $(\mu, \log\sigma^2)$.
#
# We check it three ways on random encoder outputs in $J = 16$ dimensions: against
# `torch.distributions.kl_divergence` for `Normal` (per dimension, summed) and for a diagonal
# `MultivariateNormal` (both to $10^{-10}$, in float64), and against a Monte Carlo average of
# $\log q(z) - \log p(z)$ over 100 000 samples $z \sim q$, within four standard errors. Then the same
# Monte Carlo check is applied to four wrong formulas, the sign error of one source article (errata E87)
# and three common slips: each must *fail* it. (Errata E30 and E31, on what the KL is a function of and on
# what $\log\sigma^2$ means, come up below.)

# %%
gen = torch.Generator().manual_seed(0)
mu = torch.randn(6, 16, generator=gen, dtype=torch.float64)            # 6 encoder outputs, (6, 16)
logvar = -1 + torch.randn(6, 16, generator=gen, dtype=torch.float64)   # sigma mostly below 1
var = logvar.exp()
kl = losses.gaussian_kl(mu, logvar)                                      # (6,)

q = Normal(mu, torch.exp(0.5 * logvar))
p = Normal(torch.zeros_like(mu), torch.ones_like(mu))
torch.testing.assert_close(kl, kl_divergence(q, p).sum(1), atol=1e-10, rtol=0)
q_mvn = MultivariateNormal(mu, torch.diag_embed(var))
p_mvn = MultivariateNormal(torch.zeros(16, dtype=torch.float64),
                           torch.eye(16, dtype=torch.float64))
torch.testing.assert_close(kl, kl_divergence(q_mvn, p_mvn), atol=1e-10, rtol=0)

z = q.sample((100_000,))                                                 # (S, 6, 16)
log_ratio = (q.log_prob(z) - p.log_prob(z)).sum(-1)                      # (S, 6)
kl_mc, kl_se = log_ratio.mean(0), log_ratio.std(0) / math.sqrt(len(z))
wrong = {
    "+log σ² (E87's sign)": 0.5 * (mu**2 + var - 1 + logvar).sum(1),
    "no 1/2": (mu**2 + var - 1 - logvar).sum(1),
    "σ² where log σ² belongs": 0.5 * (mu**2 + var - 1 - var).sum(1),
    "mean over dimensions": 0.5 * (mu**2 + var - 1 - logvar).mean(1),
}
print(" closed form   Monte Carlo (± s.e.)   " + "   ".join(wrong))
for i in range(len(kl)):
    print(f"{kl[i]:12.3f}   {kl_mc[i]:9.3f} ± {kl_se[i]:.3f}   "
          + "   ".join(f"{w[i]:{len(name)}.3f}" for name, w in wrong.items()))
assert ((kl - kl_mc).abs() < 4 * kl_se).all()
for name, w in wrong.items():
    assert ((w - kl_mc).abs() > 4 * kl_se).all(), name

# %% tags=["hide-input"]
glue("e33_mc_se", kl_se.max().item(), display=False)

# %% [markdown]
# The closed form agrees with both `torch.distributions` computations to rounding error and with every
# Monte Carlo estimate within four standard errors (the largest standard error is
# {glue:text}`e33_mc_se:.3f` nats). Each wrong formula misses the Monte Carlo value by more than four
# standard errors for every one of the six inputs. Note what the formula is a function *of*: the encoder's
# outputs $\mu(x)$ and $\sigma(x)$. The data $x$ enters only through them; it is not "a KL between $\mu$ and
# $\log\sigma^2$", and no $x^2$ appears in it.
#
# ## Why the log-variance
#
# The encoder's last layer is linear and outputs any real number. A standard deviation must be positive.
# Three ways to turn the output $o$ into a spread:
#
# * **$o = \sigma$.** Nothing keeps it positive; one gradient step can push it below zero, and
#   $\mathcal N(\mu, \sigma^2)$ with $\sigma < 0$ is not a distribution (`torch.distributions` refuses it).
#   Near zero the KL's $-\tfrac12\log\sigma^2$ term has the gradient $-1/\sigma$, which explodes.
# * **$o = \log\sigma^2$** (the VAE's choice {cite}`kingma2014vae`). Every real $o$ is valid:
#   $\sigma^2 = e^{o} > 0$ and $\sigma = e^{o/2}$. The KL's gradient
#   $\partial\,\mathrm{KL}/\partial o = \tfrac12(e^{o} - 1)$ is bounded below by $-\tfrac12$, however small
#   $\sigma$ becomes, and the $\log\sigma^2$ term needs no logarithm to compute: it *is* $o$.
# * **$o = \sigma^2$ computed first, then $\log$** of it. Mathematically the same as the second choice, but
#   in float32 $e^{o}$ underflows to 0 for $o$ below {glue:text}`e33_underflow:.2f` (that is
#   $\ln 2^{-150}$, half the smallest positive float32), and $\log 0 = -\infty$.
#
# The package additionally clamps $\log\sigma^2$ to the interval from {glue:text}`e33_lv_lo:.0f` to
# {glue:text}`e33_lv_hi:.0f` (`vae.LOGVAR_RANGE`), so that $e^{o}$ and
# $e^{-o}$ stay finite in float32 and bfloat16. The checks: the autograd gradients at a small $\sigma$, the
# refusal of a negative scale, and the float32 underflow.

# %%
sigma = torch.tensor([1e-3, 0.1, 1.0, 3.0], dtype=torch.float64, requires_grad=True)
o = (2 * sigma.log()).detach().requires_grad_()            # the same spreads as log-variances
zeros = torch.zeros(4, 1, dtype=torch.float64)
(grad_sigma,) = torch.autograd.grad(losses.gaussian_kl(zeros, 2 * sigma.log()[:, None]).sum(),
                                    sigma)
(grad_o,) = torch.autograd.grad(losses.gaussian_kl(zeros, o[:, None]).sum(), o)
for s, gs, go in zip(sigma.tolist(), grad_sigma.tolist(), grad_o.tolist()):
    print(f"sigma = {s:6.3f}:  dKL/dsigma = {gs:10.3f}   dKL/dlogvar = {go:7.4f}")
torch.testing.assert_close(grad_o, 0.5 * (o.detach().exp() - 1))   # the analytic gradient
torch.testing.assert_close(grad_sigma, sigma.detach() - 1 / sigma.detach())
assert grad_o.min() >= -0.5 and grad_sigma.min() < -900

try:
    Normal(0.0, -0.1)
    raise AssertionError("a negative scale should be refused")
except ValueError:
    print("Normal(0, -0.1): ValueError, a standard deviation must be positive")

o32 = torch.tensor([[-110.0]])                             # a very confident encoder, float32
via_variance = 0.5 * (o32.exp() - 1 - o32.exp().log()).sum(1)     # log(exp(o)) in float32
print(f"float32, logvar = -110: via log(exp(logvar)) {via_variance.item()},  "
      f"gaussian_kl {losses.gaussian_kl(torch.zeros(1, 1), o32).item():.1f}")
assert torch.isinf(via_variance).all()
assert torch.isfinite(losses.gaussian_kl(torch.zeros(1, 1), o32)).all()


# %% tags=["hide-input"]
underflow = -150 * math.log(2)                   # e^o rounds to 0 in float32 below ln(2^-150)
assert torch.exp(torch.tensor(underflow + 0.01)) > 0          # float32: the smallest positive ...
assert torch.exp(torch.tensor(underflow - 0.01)) == 0         # ... and below it, zero
lv_lo, lv_hi = ac.vae.LOGVAR_RANGE
assert torch.isfinite(torch.tensor([lv_lo, lv_hi, -lv_lo, -lv_hi]).exp()).all()   # float32 finite
assert torch.isfinite(torch.tensor([-lv_lo, lv_hi], dtype=torch.bfloat16).exp()).all()
glue("e33_underflow", underflow, display=False)
glue("e33_lv_lo", lv_lo, display=False)
glue("e33_lv_hi", lv_hi, display=False)

# %% [markdown]
# ## Reading the KL dimension by dimension
#
# Averaged over the data, the KL term is the **rate** (码率) of the code (3.4): how many nats the encoder spends,
# on average, to move $q(z \mid x)$ away from the prior. Per dimension,
# $\mathrm{KL}_j(x) = \tfrac12(\mu_j^2 + \sigma_j^2 - 1 - \log\sigma_j^2)$ says which dimensions the
# encoder uses. A dimension that it ignores has $q(z_j \mid x) = p(z_j)$ for every $x$: zero KL, and no
# information about $x$ (3.4 shows that the rate bounds the mutual information from above). Burda et al.
# {cite}`burda2016iwae` call dimension $j$ **active** (an **active unit**, 活跃单元) when its posterior mean
# varies with the input:
#
# $$
# A_j = \operatorname{Var}_{x}\big(\mathbb E_{q(z \mid x)}[z_j]\big) = \operatorname{Var}_x\big(\mu_j(x)\big)
# > 0.01 .
# $$
#
# We apply both readings to the shipped `vae-fashion` (convolutional, {glue:text}`e33_zdim` latent
# dimensions, 4.4) on 2 000
# test images, and then check that the dimensions the encoder uses are also used by the decoder: set
# $\mu_j$ to its prior value 0 in the code of 500 images and measure how much the decoder's
# reconstruction term drops (its Bernoulli cross-entropy on grey levels; 3.4 explains why this is not a
# log-density, but a drop is still a drop).

# %%
vae = recipes.load_or_train("vae-fashion", device="cpu")
x = data.to_model_space(data.fashion_mnist("test").images[:2000])   # (2000, 1, 28, 28) in [-1, 1]
with torch.no_grad():
    mu_x, logvar_x = vae.encode(x)                                  # (2000, z_dim) each
kl_dim = (0.5 * (mu_x**2 + logvar_x.exp() - 1 - logvar_x)).mean(0)  # average KL per dim, (16,)
activity = mu_x.var(0)                                              # A_j, (16,)
THRESHOLD = 0.01
n_active = int((activity > THRESHOLD).sum())
torch.testing.assert_close(kl_dim.sum(), losses.gaussian_kl(mu_x, logvar_x).mean())

with torch.no_grad():
    x_small, mu_small = x[:500], mu_x[:500]
    base = vae.log_px(x_small, vae.decode(mu_small)).mean()
    drop = torch.empty(vae.z_dim)
    for j in range(vae.z_dim):
        ablated = mu_small.clone()
        ablated[:, j] = 0.0                                 # dimension j set to the prior mean
        drop[j] = base - vae.log_px(x_small, vae.decode(ablated)).mean()
rho = stats.spearmanr(kl_dim, drop).statistic
order = kl_dim.argsort(descending=True)
post_var = logvar_x.exp().mean(0)                                 # average sigma_j^2, (16,)
print(" dim   KL_j (nats)   A_j = Var(mu_j)   mean sigma_j^2   drop of log p(x|z) without it")
for j in order.tolist():
    print(f"{j:4d}   {kl_dim[j]:10.3f}   {activity[j]:15.3f}   {post_var[j]:14.3f}   "
          f"{drop[j]:12.2f} nats")
print(f"active units (A_j > {THRESHOLD}): {n_active} / {vae.z_dim};  "
      f"rate = {kl_dim.sum():.2f} nats;  Spearman(KL_j, drop) = {rho:.3f}")
assert drop.min() > 0.1 and rho > 0.8

# %% tags=["hide-input"]
glue("e33_active", n_active, display=False)
glue("e33_zdim", vae.z_dim, display=False)
glue("e33_rate", kl_dim.sum().item(), display=False)
glue("e33_kl_min", kl_dim.min().item(), display=False)
glue("e33_kl_max", kl_dim.max().item(), display=False)
glue("e33_drop_min", drop.min().item(), display=False)
glue("e33_drop_max", drop.max().item(), display=False)
glue("e33_rho", float(rho), display=False)

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.6))
pos = torch.arange(vae.z_dim)
ax1.bar(pos, kl_dim[order], color="tab:blue")
ax1.set_xticks(pos, [str(j) for j in order.tolist()], fontsize=8)
ax1.set_xlabel("latent dimension (sorted by KL)")
ax1.set_ylabel("average KL_j (nats)")
ax1.set_title("vae-fashion: every dimension carries some rate")
ax2.scatter(kl_dim, drop, color="tab:red")
ax2.set_yscale("log")
ax2.set_xlabel("average KL_j (nats)")
ax2.set_ylabel("drop of reconstruction term (nats)")
ax2.set_title("dimensions with more KL matter more to the decoder")
plt.show()

# %% [markdown]
# {glue:text}`e33_active` of the {glue:text}`e33_zdim` dimensions are active by Burda's criterion (threshold 0.01), and
# the per-dimension KL ranges from {glue:text}`e33_kl_min:.2f` to {glue:text}`e33_kl_max:.2f` nats (rate
# {glue:text}`e33_rate:.1f` nats per image). None is collapsed: removing any single dimension from the code
# costs the decoder between {glue:text}`e33_drop_min:.1f` and {glue:text}`e33_drop_max:.1f` nats, and the
# dimensions rank the same way by KL and by that cost (Spearman correlation {glue:text}`e33_rho:.2f`).
# The KL only bounds a dimension's information from above (3.4), and nothing here says *what* a dimension
# encodes; 5.1 decodes traversals of single dimensions. 3.4 trains models where dimensions do switch off,
# **posterior collapse** (后验坍塌), measures the information itself, and tries two remedies.
#
# ## Exercises
#
# Two warm-ups put the page's formulas into code; 3.3c and 3.3d ask for what the page does not show.
#
# ### 3.3a Warm-up: the closed form
#
# Write `gaussian_kl(mu, logvar)`: $\mathrm{KL}(\mathcal N(\mu,
# \operatorname{diag} e^{\text{logvar}}) \,\|\, \mathcal N(0, I))$ for each row of the (B, Z) tensors,
# shape (B,). The checker tries negative log-variances too.

# %%
def gaussian_kl(mu, logvar):
    ...  # your code


ch3.q33a.check(gaussian_kl);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def gaussian_kl(mu, logvar):
#     return 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=1)
# ```
# `logvar` is $\log\sigma^2$ itself: the variance is `logvar.exp()`, and the $-\log\sigma^2$ term is
# `- logvar`, with no logarithm to take. The sum runs over the latent dimensions.
# :::

# %% tags=["hide-cell"]
def gaussian_kl_reference(mu, logvar):
    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=1)


assert ch3.q33a.check(gaussian_kl_reference, quiet=True)
torch.testing.assert_close(gaussian_kl_reference(mu_x, logvar_x),
                           losses.gaussian_kl(mu_x, logvar_x))

# %% [markdown]
# ### 3.3b Warm-up: the whole loss
#
# Write `negative_elbo(x, logits, mu, logvar)`: the one-sample negative
# ELBO of each image for a Bernoulli decoder on binary images `x` (B, 1, H, W), where `logits` is the
# decoder's output for one $z \sim q(z \mid x)$ and `mu`, `logvar` (B, Z) are the encoder's outputs.

# %%
def negative_elbo(x, logits, mu, logvar):
    ...  # your code


ch3.q33b.check(negative_elbo);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def negative_elbo(x, logits, mu, logvar):
#     bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none")
#     kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=1)
#     return bce.flatten(1).sum(dim=1) + kl
# ```
# $-\mathcal L = -\log p(x \mid z) + \mathrm{KL}$: the reconstruction term is summed over the pixels (it is
# the log-probability of the whole image), and the KL is added, because the ELBO subtracts it.
# :::

# %% tags=["hide-cell"]
def negative_elbo_reference(x, logits, mu, logvar):
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none")
    kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=1)
    return bce.flatten(1).sum(dim=1) + kl


assert ch3.q33b.check(negative_elbo_reference, quiet=True)
x_bin = (torch.rand(4, 1, 28, 28, generator=gen) < 0.5).double()
logits_chk, mu_chk, lv_chk = (torch.randn(*shape, generator=gen, dtype=torch.float64)
                              for shape in [(4, 1, 28, 28), (4, 3), (4, 3)])
torch.testing.assert_close(negative_elbo_reference(x_bin, logits_chk, mu_chk, lv_chk),
                           -losses.elbo(losses.bernoulli_log_likelihood(logits_chk, x_bin),
                                        losses.gaussian_kl(mu_chk, lv_chk)))

# %% [markdown]
# ### 3.3c Apply: two full-covariance Gaussians
#
# 3.1 compared a full-covariance $q$ with the posterior using `torch.distributions`. Derive the formula
# yourself, the way this page derived the diagonal case: write `kl_full(mu_q, cov_q, mu_p, cov_p)`,
# $\mathrm{KL}\big(\mathcal N(\mu_q, \Sigma_q) \,\|\, \mathcal N(\mu_p, \Sigma_p)\big)$ for means of shape
# (d,) and covariances (d, d). You will need $\mathbb E_q[(z - m)^\top M (z - m)]$ for a fixed vector $m$
# and matrix $M$.

# %%
def kl_full(mu_q, cov_q, mu_p, cov_p):
    ...  # your code


ch3.q33c.check(kl_full);

# %% [markdown]
# :::{dropdown} Solution
# With $\mathbb E_q[(z - m)^\top M (z - m)] = \operatorname{tr}(M\Sigma_q) + (\mu_q - m)^\top M (\mu_q - m)$:
# $\mathbb E_q[\log q] = -\tfrac12\log\det(2\pi\Sigma_q) - \tfrac d2$ and
# $\mathbb E_q[\log p] = -\tfrac12\log\det(2\pi\Sigma_p) - \tfrac12\big(\operatorname{tr}(\Sigma_p^{-1}\Sigma_q)
# + (\mu_p - \mu_q)^\top\Sigma_p^{-1}(\mu_p - \mu_q)\big)$, so
#
# $$
# \mathrm{KL}(q \,\|\, p) = \tfrac12\Big(\operatorname{tr}(\Sigma_p^{-1}\Sigma_q)
# + (\mu_p - \mu_q)^\top \Sigma_p^{-1} (\mu_p - \mu_q) - d + \log\det\Sigma_p - \log\det\Sigma_q\Big).
# $$
#
# ```python
# def kl_full(mu_q, cov_q, mu_p, cov_p):
#     d = len(mu_q)
#     prec_p = torch.linalg.inv(cov_p)
#     diff = mu_p - mu_q
#     return 0.5 * (torch.trace(prec_p @ cov_q) + diff @ prec_p @ diff - d
#                   + torch.logdet(cov_p) - torch.logdet(cov_q))
# ```
# With $\Sigma_p = I$, $\mu_p = 0$ and a diagonal $\Sigma_q$ it is the closed form of this page. In
# production code, solve with a Cholesky factor instead of inverting $\Sigma_p$.
# :::

# %% tags=["hide-cell"]
def kl_full_reference(mu_q, cov_q, mu_p, cov_p):
    d = len(mu_q)
    prec_p = torch.linalg.inv(cov_p)
    diff = mu_p - mu_q
    return 0.5 * (torch.trace(prec_p @ cov_q) + diff @ prec_p @ diff - d
                  + torch.logdet(cov_p) - torch.logdet(cov_q))


assert ch3.q33c.check(kl_full_reference, quiet=True)
# against torch.distributions, and against this page's closed form for a diagonal q and the prior
A_chk = torch.randn(3, 3, generator=gen, dtype=torch.float64)
cov_a, cov_b = A_chk @ A_chk.T + torch.eye(3, dtype=torch.float64), torch.diag(var[0, :3])
q_a, q_b = MultivariateNormal(mu[0, :3], cov_a), MultivariateNormal(mu[1, :3], cov_b)
torch.testing.assert_close(kl_full_reference(mu[0, :3], cov_a, mu[1, :3], cov_b),
                           kl_divergence(q_a, q_b))
prior_16 = (torch.zeros(16, dtype=torch.float64), torch.eye(16, dtype=torch.float64))
torch.testing.assert_close(kl_full_reference(mu[0], torch.diag(var[0]), *prior_16), kl[0])

# %% [markdown]
# ### 3.3d Debug: Article E's loss
#
# Article E (errata E87) prints this loss for a VAE with a Gaussian decoder of unit variance, where `x` and
# its reconstruction `x_hat` have shape (B, D) and the encoder's `mu` and `logvar` have shape (B, J). It
# runs, but its KL term is wrong in more than one way. Repair it so that it returns the batch average of
# $\tfrac12\|x - \hat x\|^2 + \mathrm{KL}(q(z \mid x) \,\|\, \mathcal N(0, I))$.

# %%
def vae_loss(x, x_hat, mu, logvar):
    recon = 0.5 * ((x - x_hat) ** 2).sum(dim=1)                                   # (B,)
    kl = 0.5 * ((logvar + logvar.exp() - 1).sum(dim=1) - (x**2).sum(dim=1))      # (B,)
    return (recon + kl).mean()


ch3.q33d.check(vae_loss);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def vae_loss(x, x_hat, mu, logvar):
#     recon = 0.5 * ((x - x_hat) ** 2).sum(dim=1)                       # (B,)
#     kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=1)         # over the J latent dims, (B,)
#     return (recon + kl).mean()
# ```
# Two errors. The sign of $\log\sigma^2$: the KL contains $-\log\sigma^2$, which grows as $\sigma \to 0$;
# the article's $+\log\sigma^2$ instead *rewards* a posterior that shrinks to a point, and goes to
# $-\infty$ there. And the data: the KL compares $q(z \mid x)$ with $p(z)$, so it is a function of
# $\mu(x)$ and $\sigma(x)$ only, with $+\mu_j^2$ from $\mathbb E_q[z_j^2] = \mu_j^2 + \sigma_j^2$; the
# article's $-x^2$ makes the "KL" negative at $q = p$ (check it: $\mu = 0$, $\log\sigma^2 = 0$).
# :::

# %% tags=["hide-cell"]
def vae_loss_reference(x, x_hat, mu, logvar):
    recon = 0.5 * ((x - x_hat) ** 2).sum(dim=1)
    kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=1)
    return (recon + kl).mean()


assert ch3.q33d.check(vae_loss_reference, quiet=True)

# %% [markdown]
# ## Summary
#
# * $\mathrm{KL}(\mathcal N(\mu, \operatorname{diag}\sigma^2) \,\|\, \mathcal N(0, I)) = \tfrac12\sum_j
#   (\mu_j^2 + \sigma_j^2 - 1 - \log\sigma_j^2)$, summed over the latent dimensions: checked against
#   `torch.distributions` and Monte Carlo; the printed wrong variants fail the Monte Carlo check. With
#   full covariances it gains a trace, a Mahalanobis term and two log-determinants (exercise 3.3c).
# * Encoders output $\log\sigma^2$: any real number is valid, the KL's gradient stays bounded as
#   $\sigma \to 0$, and no logarithm of an underflowed variance is ever taken.
# * Per dimension, the KL bounds the information a latent dimension carries: zero KL, no information.
#   {glue:text}`e33_active` of `vae-fashion`'s {glue:text}`e33_zdim` dimensions are active, and the decoder
#   relies more on the dimensions with more KL (rank correlation {glue:text}`e33_rho:.2f`).
