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
# # 6.2 Diffusion as a deep VAE

# %% tags=["remove-input"]
from aigc_course.plotting import page_info

page_info("02_diffusion_vae")

# %% [markdown]
# A diffusion model is a **hierarchical VAE** (层次化变分自编码器) with $T$ layers of latent
# variables $x_1, \dots, x_T$, each the size of the data {cite}`sohldickstein2015deep,ho2020ddpm`. Its
# encoder, the **forward process** (前向过程) $q(x_{1:T} \mid x_0)$, is fixed: it adds a little Gaussian
# noise at each step. Only the decoder, the **reverse process** (反向过程) $p_\theta(x_{0:T}) =
# p(x_T) \prod_t p_\theta(x_{t-1} \mid x_t)$, is trained, by maximising the ELBO (证据下界) of 3.1. This
# page splits that ELBO into the Gaussian KL divergences of 3.3 and checks each against Monte Carlo,
# computes the whole bound exactly for Gaussian data, shows that DDPM's training loss of 6.1 (the
# "simple" loss) is a reweighted ELBO, converts between the network's four usual outputs, and compares noise schedules.

# %%
import math

import matplotlib.pyplot as plt
import torch
from torch.distributions import Normal

import aigc_course as ac
from aigc_course import diffusion, losses
from aigc_course.exercises import ch6_elbo
from aigc_course.plotting import glue

ac.set_seed(0)
ac.runtime.set_threads(1)  # scalars and 1-D tensors: one CPU thread is fastest
torch.set_default_dtype(torch.float64)  # identities are checked to 1e-10: float64 throughout
QUICK = ac.profile() == "quick"
N_MC = 200_000 if QUICK else 2_000_000  # Monte Carlo samples per check
print(ac.describe(torch.device("cpu")))  # this page runs on the CPU, whatever the machine has

# %% [markdown]
# ## The ELBO, term by term
#
# DDPM {cite}`ho2020ddpm` has steps $t = 1, \dots, T$ with variances $\beta_t$, writes $\alpha_t =
# 1 - \beta_t$ and $\bar\alpha_t = \prod_{s \le t} \alpha_s$, and adds noise by
#
# $$
# q(x_t \mid x_{t-1}) = \mathcal N\big(\sqrt{\alpha_t}\, x_{t-1},\ \beta_t I\big), \qquad
# q(x_t \mid x_0) = \mathcal N\big(\sqrt{\bar\alpha_t}\, x_0,\ (1 - \bar\alpha_t) I\big).
# $$
#
# (Ho's $\alpha_t$ is a one-step factor; the package's `alpha_sigma(t)`, used later on this page, gives
# the *total* coefficients $\sqrt{\bar\alpha_t}$ and $\sqrt{1 - \bar\alpha_t}$.) The ELBO with latent
# $z = x_{1:T}$ is $\log p_\theta(x_0) \ge \mathbb E_q[\log p_\theta(x_{0:T}) - \log q(x_{1:T} \mid x_0)]
# =: -L$. The chain is Markov, so $q(x_t \mid x_{t-1}) = q(x_t \mid x_{t-1}, x_0)$, and Bayes' rule turns
# each step around: $q(x_t \mid x_{t-1}, x_0) = q(x_{t-1} \mid x_t, x_0)\, q(x_t \mid x_0) /
# q(x_{t-1} \mid x_0)$. The ratios of marginals telescope, and what remains is
#
# $$
# L = \underbrace{\mathrm{KL}\big(q(x_T \mid x_0) \,\|\, p(x_T)\big)}_{L_T}
#   + \sum_{t=2}^{T} \underbrace{\mathbb E_{q(x_t \mid x_0)}
#     \mathrm{KL}\big(q(x_{t-1} \mid x_t, x_0) \,\|\, p_\theta(x_{t-1} \mid x_t)\big)}_{L_{t-1}}
#   \underbrace{- \mathbb E_{q(x_1 \mid x_0)} \log p_\theta(x_0 \mid x_1)}_{L_0} .
# $$
#
# $L_T$ has no parameters. Each $L_{t-1}$ compares a decoder step with the forward process's
# posterior (后验分布), which is Gaussian: completing the square in $x_{t-1}$ of
# $q(x_t \mid x_{t-1})\,q(x_{t-1} \mid x_0)$, the precisions add to $\alpha_t/\beta_t + 1/(1 -
# \bar\alpha_{t-1}) = (1 - \bar\alpha_t)/\big(\beta_t (1 - \bar\alpha_{t-1})\big)$, and
#
# $$
# q(x_{t-1} \mid x_t, x_0) = \mathcal N\big(\tilde\mu_t, \tilde\beta_t I\big), \quad
# \tilde\mu_t = \frac{\sqrt{\bar\alpha_{t-1}}\,\beta_t}{1 - \bar\alpha_t}\, x_0
#             + \frac{\sqrt{\alpha_t}\,(1 - \bar\alpha_{t-1})}{1 - \bar\alpha_t}\, x_t, \quad
# \tilde\beta_t = \frac{1 - \bar\alpha_{t-1}}{1 - \bar\alpha_t}\, \beta_t .
# $$
#
# Ho et al.'s $\beta_t$ run from $10^{-4}$ to $0.02$ in $T = 1000$ steps. The package's `"ddpm"`
# schedule is that chain in continuous time; cut into $T$ steps, it gives a chain for any $T$.

# %%
def chain(T):
    """alpha_bar_0, ..., alpha_bar_T (alpha_bar_0 = 1): the "ddpm" schedule cut into T steps."""
    return diffusion.alpha_sigma(torch.arange(T + 1) / T, "ddpm")[0] ** 2


def posterior_coefs(ab, t):
    """q(x_{t-1} | x_t, x0) = N(c0 x0 + ct x_t, var): (c0, ct, var) at steps t >= 1."""
    beta = 1 - ab[t] / ab[t - 1]
    c0 = ab[t - 1].sqrt() * beta / (1 - ab[t])
    ct = (1 - beta).sqrt() * (1 - ab[t - 1]) / (1 - ab[t])
    return c0, ct, (1 - ab[t - 1]) / (1 - ab[t]) * beta


ab1000 = chain(1000)
torch.testing.assert_close(1 - ab1000[1:] / ab1000[:-1], torch.linspace(1e-4, 0.02, 1000),
                           atol=1e-12, rtol=0)  # Ho et al.'s betas
print(f"T = 1000: alpha_bar_T = {ab1000[-1]:.3e}")

# %% tags=["hide-input"]
glue("e62_abar_T", ab1000[-1].item(), display=False)

# %% [markdown]
# Two independent checks of the posterior. **Bayes by simulation:** draw $x_0$ (from any distribution),
# then $x_{t-1} \sim q(x_{t-1} \mid x_0)$ and $x_t$ by one forward step. Given $x_0$, the pair is jointly
# Gaussian, so regressing $x_{t-1}$ on $(1, x_0, x_t)$ by least squares recovers the coefficients of
# $\tilde\mu_t$, and the residual variance recovers $\tilde\beta_t$. On a coarse chain ($T = 10$, large
# steps, where mistakes show) every estimate must lie within four standard errors of the formula, and
# two wrong formulas must not. **Another derivation:** `diffusion.posterior` uses Kingma et al.'s
# continuous-time form {cite}`kingma2021variational`; at $s = (t-1)/T$ it must give $\tilde\mu_t$ and
# $\tilde\beta_t$ for every step, to $10^{-10}$.

# %%
def regress_posterior(ab, t, n, gen):
    """Simulate x0 -> x_{t-1} -> x_t, regress x_{t-1} on (1, x0, x_t): (c0, ct, var), s.e."""
    x0 = 4 * torch.rand(n, generator=gen) - 2                           # uniform data on [-2, 2]
    x_prev = ab[t - 1].sqrt() * x0 + (1 - ab[t - 1]).sqrt() * torch.randn(n, generator=gen)
    beta = 1 - ab[t] / ab[t - 1]
    x_t = (1 - beta).sqrt() * x_prev + beta.sqrt() * torch.randn(n, generator=gen)  # one step
    X = torch.stack([torch.ones(n), x0, x_t], dim=1)                    # (n, 3)
    coef = torch.linalg.lstsq(X, x_prev[:, None]).solution[:, 0]
    var = (x_prev - X @ coef).pow(2).sum() / (n - 3)
    se = (torch.linalg.inv(X.T @ X).diagonal() * var).sqrt()
    return torch.stack([coef[1], coef[2], var]), torch.stack([se[1], se[2], var * (2 / n) ** 0.5])


gen = torch.Generator().manual_seed(1)
ab10, steps = chain(10), torch.arange(2, 11)
est, se = (torch.stack(u) for u in zip(*[regress_posterior(ab10, t, N_MC, gen) for t in steps]))
c0, ct, var = posterior_coefs(ab10, steps)
beta10 = 1 - ab10[steps] / ab10[steps - 1]
versions = {"right": [c0, ct, var],
            "sqrt(abar_t) for sqrt(abar_{t-1})": [ab10[steps].sqrt() * beta10 / (1 - ab10[steps]),
                                                  ct, var],
            "beta_t for tilde beta_t": [c0, ct, beta10]}
z = {k: ((est - torch.stack(v, 1)) / se).abs().max().item() for k, v in versions.items()}
print("largest |estimate - formula| / s.e., t = 2..10:", {k: round(v, 1) for k, v in z.items()})
assert z.pop("right") < 4 and min(z.values()) > 4

for T, ab in [(10, ab10), (1000, ab1000)]:          # Kingma et al.'s form, in the package
    for t in range(2, T + 1):
        mean, std = diffusion.posterior(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0]),
                                        t / T, (t - 1) / T, "ddpm")          # mean = (ct, c0)
        c0_t, ct_t, var_t = posterior_coefs(ab, torch.tensor(t))
        torch.testing.assert_close(mean, torch.stack([ct_t, c0_t]), atol=1e-10, rtol=0)
        torch.testing.assert_close(std**2, var_t, atol=1e-10, rtol=0)

# %% [markdown]
# ## A decoder, and every term in closed form
#
# Take data $x_0 \sim \mathcal N(m, s^2)$ in one dimension. Then $x_t$ and $x_0$ are jointly Gaussian and
# the best **denoiser** (去噪器) is linear, $\mathbb E[x_0 \mid x_t] = m + \frac{\sqrt{\bar\alpha_t}\,
# s^2}{\bar\alpha_t s^2 + 1 - \bar\alpha_t} (x_t - \sqrt{\bar\alpha_t}\, m)$. DDPM's decoder puts a
# denoiser's guess into the posterior mean, $p_\theta(x_{t-1} \mid x_t) = \mathcal N(\tilde\mu_t(x_t,
# \hat x_0(x_t)), \sigma_t^2)$, with a fixed variance: Ho et al. tried $\sigma_t^2 = \beta_t$ and
# $\tilde\beta_t$. (At $t = 1$, $\tilde\mu_1 = \hat x_0(x_1)$: a Gaussian decoder with variance
# $\beta_1$.) All means are linear in $x_t$, so a model is stored as $p_\theta(x_{t-1} \mid x_t) =
# \mathcal N(A_t x_t + B_t, \sigma_t^2)$. Then each term is a closed form in $x_0$: the KL of two 1-D
# Gaussians is $\tfrac12\big(\log\frac{v_2}{v_1} + \frac{v_1 + (\mu_1 - \mu_2)^2}{v_2} - 1\big)$, its squared
# mean difference is averaged over $x_t \sim q(x_t \mid x_0)$ with $\mathbb E[(u + v x_t)^2] =
# (u + v\sqrt{\bar\alpha_t}\,x_0)^2 + v^2 (1 - \bar\alpha_t)$, and $L_T$ is `losses.gaussian_kl` of 3.3.

# %%
def gaussian_model(ab, m, s, var="beta"):
    """p(x_{t-1} | x_t) = N(A_t x_t + B_t, var_t): the best denoiser for data N(m, s^2), var_t =
    beta_t (or tilde beta_t for t >= 2). Returns (A, B, var), each (T + 1,), index 0 unused."""
    t = torch.arange(1, len(ab))
    g = ab[t].sqrt() * s**2 / (ab[t] * s**2 + 1 - ab[t])      # E[x0 | x_t] = g x_t + h
    h = m * (1 - g * ab[t].sqrt())
    c0, ct, post_var = posterior_coefs(ab, t)
    beta = 1 - ab[t] / ab[t - 1]
    v = beta if var == "beta" else torch.where(t == 1, beta, post_var)
    return tuple(torch.cat([torch.zeros(1), u]) for u in (c0 * g + ct, c0 * h, v))


def normal_kl(m1, v1, m2, v2):
    """KL(N(m1, v1) || N(m2, v2)) in one dimension, elementwise."""
    return 0.5 * (torch.log(v2 / v1) + (v1 + (m1 - m2) ** 2) / v2 - 1)


def elbo_terms(x0, model, ab):
    """Closed forms at data points x0 (N,): L_T (N,), L_{t-1} for t = 2..T (N, T-1), L_0 (N,)."""
    A, B, var = model
    T, x0 = len(ab) - 1, x0[:, None]                                     # (N, 1)

    def mean_sq(u, v, w, t):  # E[(u x0 + v x_t + w)^2 | x0] for x_t ~ q(x_t | x0)
        return ((u + v * ab[t].sqrt()) * x0 + w) ** 2 + v**2 * (1 - ab[t])

    L_T = losses.gaussian_kl(ab[T].sqrt() * x0, (1 - ab[T]).log().expand_as(x0))
    t = torch.arange(2, T + 1)
    c0, ct, post_var = posterior_coefs(ab, t)
    L_mid = normal_kl(0, post_var, 0, var[t]) + mean_sq(c0, ct - A[t], -B[t], t) / (2 * var[t])
    L_0 = 0.5 * torch.log(2 * math.pi * var[1]) + mean_sq(1, -A[1], -B[1], 1)[:, 0] / (2 * var[1])
    return L_T, L_mid, L_0


def elbo(x0, model, ab):
    L_T, L_mid, L_0 = elbo_terms(x0, model, ab)
    return -(L_T + L_mid.sum(1) + L_0)


def log_normal(x, mean, var):
    return Normal(mean, torch.as_tensor(var).sqrt()).log_prob(x)


m, s = 1.0, 0.5                                                          # the data: N(m, s^2)

# %% [markdown]
# The check, on the 10-step chain with the model that is best for $\mathcal N(m, s^2)$ and a data point it
# finds unlikely, $x_0 = m + 3s$: each term must match a Monte Carlo average of its log-ratio
# $\log q - \log p_\theta$ within four standard errors, and their sum must match a Monte Carlo estimate of
# the ELBO's *definition*, $\log p_\theta(x_{0:T}) - \log q(x_{1:T} \mid x_0)$ on forward chains. A
# common slip, evaluating $L_{t-1}$ at the mean of $x_t$ instead of averaging over $x_t$, must fail.

# %%
A, B, var = model10 = gaussian_model(ab10, m, s)
x0, n = torch.tensor(m + 3 * s), N_MC


def draw(t):  # x_t ~ q(x_t | x0), (n,)
    return ab10[t].sqrt() * x0 + (1 - ab10[t]).sqrt() * torch.randn(n, generator=gen)


x_T, x_1 = draw(10), draw(1)
log_ratios = [log_normal(x_T, ab10[10].sqrt() * x0, 1 - ab10[10]) - log_normal(x_T, 0, 1)]
for t in range(2, 11):                                                   # L_{t-1}
    x_t, (c0, ct, pv) = draw(t), posterior_coefs(ab10, torch.tensor(t))
    x_prev = c0 * x0 + ct * x_t + pv.sqrt() * torch.randn(n, generator=gen)
    log_ratios.append(log_normal(x_prev, c0 * x0 + ct * x_t, pv)
                      - log_normal(x_prev, A[t] * x_t + B[t], var[t]))
log_ratios.append(-log_normal(x0, A[1] * x_1 + B[1], var[1]))            # L_0
mc = torch.stack([u.mean() for u in log_ratios])
mc_se = torch.stack([u.std() / n**0.5 for u in log_ratios])
terms = torch.cat([u.reshape(-1) for u in elbo_terms(x0[None], model10, ab10)])  # L_T, L_1.., L_0

x, log_w = x0.expand(n), torch.zeros(n)                                  # the ELBO's definition
for t in range(1, 11):
    beta = 1 - ab10[t] / ab10[t - 1]
    x_next = (1 - beta).sqrt() * x + beta.sqrt() * torch.randn(n, generator=gen)
    log_w = log_w + (log_normal(x, A[t] * x_next + B[t], var[t])          # log p(x_{t-1} | x_t)
                     - log_normal(x_next, (1 - beta).sqrt() * x, beta))   # - log q(x_t | x_{t-1})
    x = x_next
log_w = log_w + log_normal(x, 0, 1)                                      # + log p(x_T)

c0, ct, pv = posterior_coefs(ab10, steps)                                # the slip
at_mean = normal_kl((c0 + ct * ab10[steps].sqrt()) * x0, pv,
                    A[steps] * ab10[steps].sqrt() * x0 + B[steps], var[steps])
print("term   closed form   Monte Carlo (± s.e.)   x_t at its mean")
names = ["L_T"] + [f"L_{k}" for k in range(1, 10)] + ["L_0"]
for i, (name, cf, e, se_i) in enumerate(zip(names, terms, mc, mc_se)):
    slip = f"{at_mean[i - 1]:12.5f}" if 1 <= i <= 9 else ""
    print(f"{name:5s} {cf:12.5f}   {e:10.5f} ± {se_i:.5f}   {slip}")
elbo_mc, elbo_se = log_w.mean(), log_w.std() / n**0.5
print(f"ELBO: sum of the terms {-terms.sum():.4f}, definition {elbo_mc:.4f} ± {elbo_se:.4f}")
assert ((terms - mc).abs() < 4 * mc_se).all() and abs(-terms.sum() - elbo_mc) < 4 * elbo_se
assert ((at_mean - mc[1:10]).abs() > 4 * mc_se[1:10]).any()

# %% [markdown]
# ## Everything exact: the bound against the likelihood
#
# For Gaussian data three numbers are known exactly, for any $T$: the data's own average log-density
# $\mathbb E \log q(x_0) = -\tfrac12 \log(2\pi e s^2)$, the best any model can reach; the model's
# log-likelihood, since the decoder is a linear-Gaussian chain $x_{t-1} = A_t x_t + B_t + \sigma_t z$ and
# $p_\theta(x_0)$ is Gaussian; and the ELBO averaged over the data (each term is a quadratic in $x_0$,
# and the average of a quadratic under $\mathcal N(m, s^2)$ is the mean of its values at $m \pm s$,
# checked below against a Monte Carlo average). 3.1 promises $\text{ELBO}(x_0) \le \log p_\theta(x_0)$ at
# every $x_0$, and $\mathbb E\log p_\theta(x_0) \le \mathbb E\log q(x_0)$. We assert both for $T = 1, 2, 4,
# \dots, 4096$ (the first at 41 points across $m \pm 4s$) and measure how the gap shrinks with $T$.

# %%
def model_marginal(model):
    """p_theta(x0) = N(mean, var): N(0, 1) pushed through x_{t-1} = A_t x_t + B_t + noise."""
    A, B, v = model
    mean, var = torch.tensor(0.0), torch.tensor(1.0)
    for t in range(len(A) - 1, 0, -1):
        mean, var = A[t] * mean + B[t], A[t] ** 2 * var + v[t]
    return mean, var


data_pts, grid = torch.tensor([m - s, m + s]), torch.linspace(m - 4 * s, m + 4 * s, 41)
neg_entropy = -0.5 * math.log(2 * math.pi * math.e * s**2)            # E log q(x0)
Ts, rows = [2**k for k in range(13)], {"elbo": [], "loglik": [], "tilde": []}
for T in Ts:
    ab = chain(T)
    model = gaussian_model(ab, m, s)
    mean, v = model_marginal(model)
    assert (elbo(grid, model, ab) <= log_normal(grid, mean, v)).all()     # per data point
    rows["elbo"].append(elbo(data_pts, model, ab).mean().item())         # averaged over the data
    rows["loglik"].append(log_normal(data_pts, mean, v).mean().item())
    rows["tilde"].append(elbo(data_pts, gaussian_model(ab, m, s, "tilde"), ab).mean().item())
elbo_T, loglik_T = torch.tensor(rows["elbo"]), torch.tensor(rows["loglik"])
gap = neg_entropy - elbo_T
assert (elbo_T <= loglik_T).all() and (loglik_T <= neg_entropy).all()
halving = gap[1:] / gap[:-1]
assert (halving < 1).all() and ((halving[6:] - 0.5).abs() < 0.02).all()  # ~1/T from T = 64 on

x_data = m + s * torch.randn(N_MC, generator=gen)                          # the two-point average
e_data = elbo(x_data, model10, ab10)
assert abs(elbo(data_pts, model10, ab10).mean() - e_data.mean()) < 4 * e_data.std() / N_MC**0.5
for T, e, lp, et in zip(Ts, rows["elbo"], rows["loglik"], rows["tilde"]):
    print(f"T = {T:4d}: ELBO {e:8.5f}   log p_theta {lp:8.5f}   E log q {neg_entropy:8.5f}   "
          f"ELBO with tilde beta {et:8.5f}")

# %% tags=["hide-input"]
i = Ts.index(1024)
ab = chain(1024)
excess = (elbo_terms(data_pts, gaussian_model(ab, m, s, "tilde"), ab)[1]
          - elbo_terms(data_pts, gaussian_model(ab, m, s), ab)[1]).mean(0)   # per step, (T - 1,)
share_first = (excess[:20].sum() / excess.sum()).item()
c0, ct, pv = posterior_coefs(ab, torch.arange(2, 1025))
true_var = pv + c0**2 * s**2 * (1 - ab[2:]) / (ab[2:] * s**2 + 1 - ab[2:])   # Var(x_{t-1} | x_t)
assert share_first > 0.9 and ((true_var / (1 - ab[2:] / ab[1:-1]) - 1).abs() < 0.01).all()
for key, value in [("gap_1", gap[0]), ("gap_1024", gap[i]), ("kl_1024", neg_entropy - loglik_T[i]),
                   ("gap_tilde", neg_entropy - rows["tilde"][i]), ("tilde_share", share_first)]:
    glue(f"e62_{key}", float(value), display=False)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
ax1.axhline(neg_entropy, color="0.3", ls="--", label=r"$\mathbb{E}\log q(x_0)$ (the data)")
ax1.plot(Ts, rows["loglik"], "o-", label=r"$\mathbb{E}\log p_\theta(x_0)$ (exact)")
ax1.plot(Ts, rows["elbo"], "s-", label=r"ELBO, $\sigma_t^2 = \beta_t$")
ax1.plot(Ts, rows["tilde"], "^:", label=r"ELBO, $\sigma_t^2 = \tilde\beta_t$")
ax1.set(xscale="log", xlabel="steps T", ylabel="nats per data point",
        title="The ELBO stays below the likelihood")
ax1.legend(fontsize=8)
ax2.loglog(Ts, gap, "s-", label=r"$\mathbb{E}\log q(x_0) - $ ELBO ($\sigma_t^2 = \beta_t$)")
ax2.loglog(Ts, neg_entropy - loglik_T, "o-", label=r"$\mathrm{KL}(q(x_0)\,\|\,p_\theta(x_0))$")
ax2.loglog(Ts, gap[-1] * Ts[-1] / torch.tensor(Ts), "k:", label=r"$\propto 1/T$")
ax2.set(xlabel="steps T", ylabel="nats", title="The gap of the bound shrinks like 1/T")
ax2.legend(fontsize=8)
fig.suptitle(f"Data N({m}, {s}²), best denoiser, 'ddpm' schedule in T steps: exact, no sampling")
plt.show()

# %% [markdown]
# The bound holds everywhere it was asserted, and it tightens: from {glue:text}`e62_gap_1:.3f` nats
# with one step to {glue:text}`e62_gap_1024:.4f` nats at $T = 1024$, halving with each doubling of $T$.
# The model's own KL to the data falls faster ({glue:text}`e62_kl_1024:.1e` nats at $T = 1024$). For
# Gaussian data the true reverse step is itself Gaussian, with a variance within 1% of $\beta_t$ at
# every step for $T = 1024$; the other choice, $\sigma_t^2 = \tilde\beta_t$ (exact when the data is a single point),
# leaves a gap of {glue:text}`e62_gap_tilde:.2f` nats at $T = 1024$, a share of
# {glue:text}`e62_tilde_share:.0%` of its excess spent in the first 20 steps, where $\tilde\beta_t \ll
# \beta_t$. Nichol & Dhariwal {cite}`nichol2021improved` learn the variance instead. $L_T$ costs almost
# nothing: $\bar\alpha_T =$ {glue:text}`e62_abar_T:.1e`, and $x_T$ is nearly pure noise.
#
# The denoiser is the best one: at it, the gradient of the averaged ELBO with respect to every $A_t$ and
# $B_t$ vanishes (autograd, $T = 100$); with a textbook slip in $\mathbb E[x_0 \mid x_t]$, the variance
# $\bar\alpha_t$ where $\bar\alpha_t s^2$ belongs, it does not.

# %%
def largest_gradient(model, ab):
    A, B, v = (u.clone().requires_grad_(k < 2) for k, u in enumerate(model))
    grads = torch.autograd.grad(elbo(data_pts, (A, B, v), ab).mean(), (A, B))
    return max(g.abs().max().item() for g in grads)


ab, t = chain(100), torch.arange(1, 101)
best = gaussian_model(ab, m, s)
g_slip = ab[t].sqrt() * s**2 / (ab[t] + 1 - ab[t])                        # the slip
c0, ct, _ = posterior_coefs(ab, t)
slip = [torch.cat([torch.zeros(1), u]) for u in (c0 * g_slip + ct,
                                                 c0 * m * (1 - g_slip * ab[t].sqrt()))]
grad_best, grad_slip = largest_gradient(best, ab), largest_gradient((*slip, best[2]), ab)
print(f"largest |d ELBO / d(A, B)|: best denoiser {grad_best:.1e}, with the slip {grad_slip:.1e}")
assert grad_best < 1e-10 and grad_slip > 1e-3

# %% [markdown]
# ## The simple loss is a reweighted ELBO
#
# Ho et al. write the decoder's mean through a noise prediction $\varepsilon_\theta(x_t, t)$. Since
# $x_0 = (x_t - \sqrt{1 - \bar\alpha_t}\,\varepsilon)/\sqrt{\bar\alpha_t}$, the posterior mean is
# $\tilde\mu_t = \frac{1}{\sqrt{\alpha_t}}\big(x_t - \frac{\beta_t}{\sqrt{1 - \bar\alpha_t}}\varepsilon\big)$;
# they set $\mu_\theta$ to the same with $\varepsilon_\theta$ for $\varepsilon$. The means then differ by
# $\frac{\beta_t}{\sqrt{\alpha_t}\sqrt{1 - \bar\alpha_t}}(\varepsilon_\theta - \varepsilon)$, and (their
# eq. 12)
#
# $$
# L_{t-1} = C_t + w_t\, \mathbb E\,\|\varepsilon - \varepsilon_\theta(x_t, t)\|^2, \qquad
# w_t = \frac{\beta_t^2}{2 \sigma_t^2\, \alpha_t\, (1 - \bar\alpha_t)},
# $$
#
# with $C_t$ free of $\theta$. The **simple loss** (简化损失) $\mathbb E_{t, x_0, \varepsilon}\|\varepsilon -
# \varepsilon_\theta\|^2$ drops $w_t$: it is a **reweighting** (重加权) of the ELBO. We check $w_t$ at all
# 1000 steps, for both choices of $\sigma_t^2$, by computing the KL directly at $\varepsilon_\theta =
# \varepsilon$ and at $\varepsilon + \delta$: the difference must be $w_t\delta^2$ to $10^{-9}$. Keeping
# the square root of $\alpha_t$ from $\mu_\theta$, a common slip, fails.
#
# With $\sigma_t^2 = \tilde\beta_t$ the weight is exactly $w_t = \tfrac12\big(\mathrm{SNR}_{t-1}/
# \mathrm{SNR}_t - 1\big)$, where $\mathrm{SNR}_t = \bar\alpha_t/(1 - \bar\alpha_t)$ is the
# **signal-to-noise ratio** (信噪比) and $\lambda_t = \log \mathrm{SNR}_t$ the **log-SNR** (对数信噪比).
# For small steps $w_t \approx \tfrac12(\lambda_{t-1} - \lambda_t) \approx -\tfrac12\,
# \frac{d\lambda}{d\tau}\frac1T$ ($\tau = t/T$): in continuous time the ELBO weighs $\|\varepsilon -
# \hat\varepsilon\|^2$ by $-\tfrac12\,d\lambda/d\tau$ {cite}`kingma2021variational`, that is **½ per unit of
# log-SNR**. We check the identity with `diffusion.log_snr`, and the limit (within 2% for $t \ge 100$)
# with `alpha_sigma_deriv`.

# %%
T, t, ab = 1000, torch.arange(2, 1001), ab1000
beta = 1 - ab[t] / ab[t - 1]
alpha = 1 - beta
c0, ct, post_var = posterior_coefs(ab, t)
eps, delta = torch.randn(len(t), generator=gen), 0.3
x_t = ab[t].sqrt() * 0.7 + (1 - ab[t]).sqrt() * eps                        # x0 = 0.7


def mu_theta(eps_hat):
    return (x_t - beta / (1 - ab[t]).sqrt() * eps_hat) / alpha.sqrt()


mu_tilde = c0 * 0.7 + ct * x_t
torch.testing.assert_close(mu_theta(eps), mu_tilde, atol=1e-12, rtol=0)
for sig2 in (beta, post_var):                                              # both choices
    kl_change = (normal_kl(mu_tilde, post_var, mu_theta(eps + delta), sig2)
                 - normal_kl(mu_tilde, post_var, mu_theta(eps), sig2))
    w = beta**2 / (2 * sig2 * alpha * (1 - ab[t]))
    torch.testing.assert_close(kl_change, w * delta**2, rtol=1e-9, atol=0)
    w_slip = beta**2 / (2 * sig2 * alpha.sqrt() * (1 - ab[t]))
    assert not torch.allclose(kl_change, w_slip * delta**2, rtol=1e-3, atol=0)

lam = diffusion.log_snr(torch.arange(T + 1) / T, "ddpm")                  # lambda_0..lambda_T
w_tilde, w_ho = beta / (2 * alpha * (1 - ab[t - 1])), beta / (2 * alpha * (1 - ab[t]))
torch.testing.assert_close(w_tilde, 0.5 * (torch.exp(lam[t - 1] - lam[t]) - 1), rtol=1e-9, atol=0)
tau = (t - 0.5) / T                                                        # mid-step times
(a, sg), (da, dsg) = diffusion.alpha_sigma(tau, "ddpm"), diffusion.alpha_sigma_deriv(tau, "ddpm")
dlam = 2 * (da / a - dsg / sg)                                             # d lambda / d tau
ratio = T * w_tilde / (-0.5 * dlam)
assert ((ratio[98:] - 1).abs() < 0.02).all() and ratio[0] > 1.2

# %% tags=["hide-input"]
k_min = int(w_ho.argmin())
for key, value in [("w_first", w_ho[0]), ("w_min", w_ho[k_min]), ("t_min", t[k_min]),
                   ("w_last", w_ho[-1])]:
    glue(f"e62_{key}", value.item(), display=False)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
ax1.loglog(t, w_ho, label=r"$w_t$, $\sigma_t^2 = \beta_t$")
ax1.loglog(t, w_tilde, "--", label=r"$w_t$, $\sigma_t^2 = \tilde\beta_t$")
ax1.loglog(t, -0.5 * dlam / T, "k:", label=r"$-\frac{1}{2}\,(d\lambda/d\tau) / T$")
ax1.axhline(1.0, color="tab:red", lw=1, label="simple loss")
ax1.set(xlabel="step t", ylabel=r"weight of $\|\varepsilon - \varepsilon_\theta\|^2$",
        title=f"ELBO weights: {(w_ho[0] / w_ho[k_min]).item():.0f}× larger at t = 2 than "
              f"at t = {t[k_min].item()}")
ax1.legend(fontsize=8)
dl = lam[t - 1] - lam[t]                                                   # log-SNR per step
ax2.semilogy(lam[t], w_ho / dl, label=r"ELBO, $\sigma_t^2 = \beta_t$")
ax2.semilogy(lam[t], w_tilde / dl, "--", label=r"ELBO, $\sigma_t^2 = \tilde\beta_t$")
ax2.semilogy(lam[t], 1 / dl, color="tab:red", label="simple loss")
ax2.set(xlabel=r"log-SNR $\lambda_t$ (clean on the left)", ylabel="weight per unit of log-SNR",
        title="Per unit of log-SNR the ELBO weight is flat at ½")
ax2.invert_xaxis()
ax2.legend(fontsize=8)
fig.suptitle("DDPM schedule, T = 1000: the weight of each step's noise error")
plt.show()

# %% [markdown]
# With $\sigma_t^2 = \beta_t$, $w_t$ is {glue:text}`e62_w_first:.3f` at $t = 2$, falls to
# {glue:text}`e62_w_min:.4f` at $t =$ {glue:text}`e62_t_min` and rises to {glue:text}`e62_w_last:.4f` at
# $t = T$: the ELBO cares most about the nearly clean steps. The simple loss weighs all steps alike, so
# relative to the ELBO it moves weight to the noisy steps, where the network decides what to generate;
# Ho et al. found that this gives better samples at a slightly worse likelihood. Per unit of log-SNR
# (right) the ELBO's weight is ½ almost everywhere; the simple loss's follows the schedule's speed.
#
# ## Four parameterisations, one prediction
#
# From here on $t \in [0, 1]$ is continuous and $x_t = \alpha_t x_0 + \sigma_t \varepsilon$ with the
# package's coefficients. A network may output $\hat\varepsilon$, $\hat x_0$, $\hat v$ with $v = \alpha_t
# \varepsilon - \sigma_t x_0$ (**v-prediction**, v 预测 {cite}`salimans2022progressive`), or the score (分数) $\nabla\log p_t(x_t) =
# -\mathbb E[\varepsilon \mid x_t]/\sigma_t$ (Tweedie {cite}`efron2011tweedie`, 6.1). Given $x_t$ each
# fixes the others; the choice is the **parameterisation** (参数化). By hand: $\hat x_0 = (x_t - \sigma_t
# \hat\varepsilon)/\alpha_t$, and for a **variance-preserving** (方差保持) schedule ($\alpha_t^2 + \sigma_t^2 = 1$:
# `"cosine"`, `"ddpm"`) $\hat x_0 = \alpha_t x_t - \sigma_t\hat v$. The errors are proportional, so a
# squared error in one output is a reweighted squared error in another:
#
# | output | squared error over $\|\varepsilon - \hat\varepsilon\|^2$ | variance preserving |
# |---|---|---|
# | $\hat x_0$ | $\sigma_t^2/\alpha_t^2$ | $e^{-\lambda}$ |
# | $\hat v$ | $(\alpha_t^2 + \sigma_t^2)^2/\alpha_t^2$ | $1 + e^{-\lambda}$ |
# | score | $1/\sigma_t^2$ | $1 + e^{\lambda}$ |
#
# The checks, for three schedules: round trips through `convert` for all pairs; the hand formulas against
# `to_x0_eps` (the $v$ formula must fail on `"linear"`, which is not variance preserving); the table, for
# a perturbed $\hat\varepsilon$ (the unsquared ratio $\sigma/\alpha$ must fail); and the best denoiser for
# $\mathcal N(m, s^2)$, converted to a score, against the exact score of $\mathcal N(\alpha_t m, \alpha_t^2
# s^2 + \sigma_t^2)$ by autograd.

# %%
t = torch.rand(500, generator=gen) * 0.98 + 0.01                          # times, (500,)
x0, eps = m + s * torch.randn(500, generator=gen), torch.randn(500, generator=gen)
eps_hat = eps + 0.1 * torch.randn(500, generator=gen)                     # an imperfect prediction
for schedule in diffusion.SCHEDULES:
    a, sg = diffusion.alpha_sigma(t, schedule)
    x_t = a * x0 + sg * eps

    def conv(out, src, dst):
        return diffusion.convert(out, x_t, t, src, dst, schedule)

    for src in diffusion.PREDICTIONS:
        for dst in diffusion.PREDICTIONS:
            out = conv(eps_hat, "eps", src)
            torch.testing.assert_close(conv(conv(out, src, dst), dst, src), out)
    v_hat = conv(eps_hat, "eps", "v")
    x0_from_v = diffusion.to_x0_eps("v", v_hat, x_t, t, schedule)[0]
    assert torch.allclose(x0_from_v, a * x_t - sg * v_hat) == (schedule != "linear")
    torch.testing.assert_close(conv(eps_hat, "eps", "x0"), (x_t - sg * eps_hat) / a)
    err_eps = (eps - eps_hat) ** 2
    for dst, truth, weight in [("x0", x0, sg**2 / a**2), ("score", -eps / sg, 1 / sg**2),
                               ("v", a * eps - sg * x0, (a**2 + sg**2) ** 2 / a**2)]:
        torch.testing.assert_close((truth - conv(eps_hat, "eps", dst)) ** 2, weight * err_eps)
    x0_err = (x0 - conv(eps_hat, "eps", "x0")) ** 2
    assert not torch.allclose(x0_err, sg / a * err_eps)                  # unsquared: wrong
    lam_t = diffusion.log_snr(t, schedule)
    torch.testing.assert_close(sg**2 / a**2, torch.exp(-lam_t))
    if schedule != "linear":                                              # variance preserving
        torch.testing.assert_close(torch.stack([1 / a**2, 1 / sg**2]),
                                   torch.stack([1 + torch.exp(-lam_t), 1 + torch.exp(lam_t)]))
    x_req = x_t.clone().requires_grad_()
    (score,) = torch.autograd.grad(log_normal(x_req, a * m, a**2 * s**2 + sg**2).sum(), x_req)
    eps_best = sg * (x_t - a * m) / (a**2 * s**2 + sg**2)                 # E[eps | x_t]
    torch.testing.assert_close(conv(eps_best, "eps", "score"), score)
print("conversions, round trips, error weights and the exact score: all checks passed")

# %% [markdown]
# So "predict $x_0$" and "predict $\varepsilon$" train the same function under different weights: a plain
# mean squared error on $\hat x_0$ is the $\varepsilon$-loss weighted by $e^{-\lambda}$, tiny at high
# noise; on $\hat v$ the weight is $1 + e^{-\lambda}$, which never falls below 1.
#
# ## Noise schedules by their signal-to-noise ratio
#
# A **noise schedule** (噪声调度) is a path $(\alpha_t, \sigma_t)$; what matters is its log-SNR
# $\lambda(t)$, falling from $+\infty$ (clean) to $-\infty$ (noise). The continuous ELBO's diffusion term
#
# $$
# L_\infty = -\tfrac12 \int_0^1 \frac{d\lambda}{dt}\, \mathbb E\,\|\varepsilon - \hat\varepsilon\|^2\, dt
#          = \tfrac12 \int_{\lambda_{\min}}^{\lambda_{\max}} \mathbb E\,\|\varepsilon -
#            \hat\varepsilon(x_\lambda, \lambda)\|^2\, d\lambda
# $$
#
# depends on the schedule only through its end points: in between, a schedule just reparameterises time
# {cite}`kingma2021variational`. The simple loss, an average over $t$, has no such invariance. For
# Gaussian data and the best denoiser $\mathbb E\|\varepsilon - \hat\varepsilon\|^2 = \operatorname{Var}
# (\varepsilon \mid x_t) = s^2 e^\lambda / (s^2 e^\lambda + 1)$ (checked by Monte Carlo), so $L_\infty =
# \tfrac12\big[\log(1 + s^2 e^\lambda)\big]_{\lambda_{\min}}^{\lambda_{\max}}$. We integrate both losses
# *in $t$* for the three schedules, each cut to the log-SNR range of DDPM's steps 1 to 1000.

# %%
lam_max, lam_min = diffusion.log_snr(torch.tensor([1e-3, 1.0]), "ddpm")
t_range = {"ddpm": (1e-3, 1.0),
           "cosine": [2 / math.pi * math.atan(math.exp(-lam / 2)) for lam in (lam_max, lam_min)],
           "linear": [1 / (1 + math.exp(lam / 2)) for lam in (lam_max, lam_min)]}


def mmse_eps(lam):
    """E ||eps - E[eps | x_t]||^2 for data N(m, s^2) at log-SNR lam."""
    return s**2 * lam.exp() / (s**2 * lam.exp() + 1)


a, sg = diffusion.alpha_sigma(torch.tensor(0.3), "cosine")                 # Monte Carlo check
x0, eps = m + s * torch.randn(N_MC, generator=gen), torch.randn(N_MC, generator=gen)
sq = (eps - sg * (a * x0 + sg * eps - a * m) / (a**2 * s**2 + sg**2)) ** 2
lam_03 = diffusion.log_snr(torch.tensor(0.3), "cosine")
assert abs(sq.mean() - mmse_eps(lam_03)) < 4 * sq.std() / N_MC**0.5

results = {}
for schedule, (t0, t1) in t_range.items():
    torch.testing.assert_close(diffusion.log_snr(torch.tensor([t0, t1]), schedule),
                               torch.stack([lam_max, lam_min]))            # same end points
    edges = torch.linspace(t0, t1, 999 * 400 + 1)       # no cell straddles a ddpm step (k / 1000)
    t = (edges[1:] + edges[:-1]) / 2                    # midpoint rule
    a, sg = diffusion.alpha_sigma(t, schedule)
    da, dsg = diffusion.alpha_sigma_deriv(t, schedule)
    err = mmse_eps(diffusion.log_snr(t, schedule))
    L_inf = (-(da / a - dsg / sg) * err).mean() * (t1 - t0)   # -1/2 dlambda/dt = -(a'/a - s'/s)
    results[schedule] = (L_inf.item(), err.mean().item())                 # (L_inf, simple loss)
closed = 0.5 * (torch.log1p(s**2 * lam_max.exp()) - torch.log1p(s**2 * lam_min.exp())).item()
for schedule, (L_inf, simple) in results.items():
    print(f"{schedule:7s} t in [{t_range[schedule][0]:.4f}, {t_range[schedule][1]:.4f}]: "
          f"L_inf = {L_inf:.7f} (closed form {closed:.7f}), simple loss = {simple:.4f}")
    assert abs(L_inf - closed) < 1e-6
simple = [r[1] for r in results.values()]
assert max(simple) / min(simple) > 1.5                                     # not invariant

# %% tags=["hide-input"]
glue("e62_L_inf", closed, display=False)
glue("e62_simple_min", min(simple), display=False)
glue("e62_simple_max", max(simple), display=False)
grid_t = torch.linspace(0, 1, 100_001)[1:-1]
noisy = {k: (diffusion.log_snr(grid_t, k) < -5).double().mean().item() for k in ("ddpm", "cosine")}
assert noisy["ddpm"] > 2 * noisy["cosine"]
glue("e62_noisy_ddpm", noisy["ddpm"], display=False)
glue("e62_noisy_cosine", noisy["cosine"], display=False)
fig, ax = plt.subplots(figsize=(6.5, 3.8), layout="constrained")
tt = torch.linspace(1e-3, 1 - 1e-3, 999)
for schedule in diffusion.SCHEDULES:
    ax.plot(tt, diffusion.log_snr(tt, schedule), label=f'"{schedule}"')
ax.axhspan(lam_min.item(), lam_max.item(), color="0.9", label="DDPM's steps 1 to 1000")
ax.set(xlabel="t", ylabel=r"log-SNR $\lambda(t) = \log(\alpha_t^2 / \sigma_t^2)$", ylim=(-15, 15),
       title="Three schedules, three speeds through the same log-SNR range")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# Over the same log-SNR range the three schedules give the same $L_\infty =$
# {glue:text}`e62_L_inf:.4f` nats, the closed form, to $10^{-6}$; their simple losses range from
# {glue:text}`e62_simple_min:.3f` to {glue:text}`e62_simple_max:.3f`. `"ddpm"` rushes through the clean
# end and spends {glue:text}`e62_noisy_ddpm:.0%` of its time below $\lambda = -5$, where the signal is
# nearly gone (`"cosine"`: {glue:text}`e62_noisy_cosine:.0%`); this is why Nichol & Dhariwal
# {cite}`nichol2021improved` introduced the cosine schedule. Under the ELBO the difference is only a
# change of clock; under the simple loss, the schedule decides which noise levels the network trains on
# most.
#
# ## Exercises
#
# **Exercise 6.2a (predict).** Before computing anything: what is $L_T$, in nats, for DDPM's schedule
# ($T = 1000$) and a binarised 28×28 image scaled to $[-1, 1]$ (every pixel $-1$ or $+1$)? The checker
# accepts a guess within a factor of 3 and shows the measured value.

# %%
my_prediction = ...  # your guess, in nats
ch6_elbo.q62a.check(my_prediction);

# %% [markdown]
# :::{dropdown} Solution
# Per pixel, $L_T = \tfrac12\big(\bar\alpha_T x_0^2 + (1 - \bar\alpha_T) - 1 - \log(1 - \bar\alpha_T)\big)
# = -\tfrac12 \log(1 - \bar\alpha_T) \approx \tfrac12\bar\alpha_T$ for $x_0^2 = 1$. With $\bar\alpha_T
# \approx 4 \times 10^{-5}$ and 784 pixels, $L_T \approx 784 \times 2 \times 10^{-5} \approx 0.016$ nats:
# negligible, which is why DDPM's training drops it.
# :::

# %% tags=["hide-cell"]
prediction_reference = ch6_elbo.q62a.reference()
assert ch6_elbo.q62a.check(prediction_reference, quiet=True)
assert abs(prediction_reference - 784 * -0.5 * math.log(1 - ab1000[-1].item())) < 1e-12

# %% [markdown]
# **Exercise 6.2b (apply).** Write `x0_to_v(x0_hat, x_t, alpha, sigma)`: the $\hat v$ that matches a
# network's $\hat x_0$ at $x_t = \alpha x_0 + \sigma\varepsilon$ (tensors of one shape), for any schedule,
# variance preserving or not, without calling the package.

# %%
def x0_to_v(x0_hat, x_t, alpha, sigma):
    ...  # your code


ch6_elbo.q62b.check(x0_to_v);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def x0_to_v(x0_hat, x_t, alpha, sigma):
#     eps_hat = (x_t - alpha * x0_hat) / sigma
#     return alpha * eps_hat - sigma * x0_hat
# ```
# Solve $x_t = \alpha\hat x_0 + \sigma\hat\varepsilon$ for $\hat\varepsilon$, then apply $v = \alpha
# \varepsilon - \sigma x_0$. Simplified, $\hat v = (\alpha x_t - (\alpha^2 + \sigma^2)\hat x_0)/\sigma$;
# dropping $\alpha^2 + \sigma^2$ is right only for variance-preserving schedules.
# :::

# %% tags=["hide-cell"]
x0_to_v_reference = ch6_elbo.q62b.reference()
assert ch6_elbo.q62b.check(x0_to_v_reference, quiet=True)

# %% [markdown]
# **Exercise 6.2c (debug).** A blog post computes the posterior mean $\tilde\mu_t$ from tensors $\beta_t$
# and $\bar\alpha_t$ as below. It has two bugs: repair them. The checker names a bug it recognises.

# %%
def posterior_mean(x_t, x0, beta_t, alpha_bar_t):
    alpha_t = 1 - beta_t
    alpha_bar_prev = alpha_bar_t * alpha_t
    coef_x0 = alpha_bar_prev.sqrt() * beta_t / (1 - alpha_bar_t)
    coef_xt = alpha_t * (1 - alpha_bar_prev) / (1 - alpha_bar_t)
    return coef_x0 * x0 + coef_xt * x_t


ch6_elbo.q62c.check(posterior_mean);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def posterior_mean(x_t, x0, beta_t, alpha_bar_t):
#     alpha_t = 1 - beta_t
#     alpha_bar_prev = alpha_bar_t / alpha_t            # abar_t = abar_{t-1} alpha_t
#     coef_x0 = alpha_bar_prev.sqrt() * beta_t / (1 - alpha_bar_t)
#     coef_xt = alpha_t.sqrt() * (1 - alpha_bar_prev) / (1 - alpha_bar_t)
#     return coef_x0 * x0 + coef_xt * x_t
# ```
# $\bar\alpha_{t-1} = \bar\alpha_t/\alpha_t$ has one factor fewer than $\bar\alpha_t$, and $x_t$ enters
# through $q(x_t \mid x_{t-1})$, whose mean is $\sqrt{\alpha_t}\,x_{t-1}$.
# :::

# %% tags=["hide-cell"]
posterior_mean_reference = ch6_elbo.q62c.reference()
assert ch6_elbo.q62c.check(posterior_mean_reference, quiet=True)
c0, ct, _ = posterior_coefs(ab1000, torch.tensor(500))                   # agrees with the page
mean = posterior_mean_reference(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0]),
                                1 - ab1000[500] / ab1000[499], ab1000[500])
torch.testing.assert_close(mean, torch.stack([ct, c0]))

# %% [markdown]
# ## Summary
#
# * DDPM is a hierarchical VAE with a fixed encoder. Its ELBO is $L_T + \sum_{t \ge 2} L_{t-1} + L_0$:
#   KL divergences between the Gaussian posterior $q(x_{t-1} \mid x_t, x_0) = \mathcal N(\tilde\mu_t,
#   \tilde\beta_t)$ and the decoder's steps, each checked by simulation.
# * For Gaussian data the bound is computed exactly: it stays below the likelihood, and with $\sigma_t^2 =
#   \beta_t$ its gap shrinks like $1/T$ ({glue:text}`e62_gap_1024:.4f` nats at $T = 1024$).
# * With $\varepsilon_\theta$, $L_{t-1} = C_t + w_t \|\varepsilon - \varepsilon_\theta\|^2$; the simple
#   loss drops $w_t$. In continuous time the ELBO's weight is $-\tfrac12 d\lambda/dt$, flat in log-SNR.
# * $\varepsilon$, $x_0$, $v$ and score outputs are affine in one another given $x_t$; their squared
#   errors differ by the weights $e^{-\lambda}$, $1 + e^{-\lambda}$, $1/\sigma^2$.
# * A schedule is its log-SNR curve; the continuous ELBO depends only on its end points, the simple
#   loss on the whole curve.
