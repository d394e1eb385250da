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
# # 3.1 Latent variables and the ELBO

# %% tags=["remove-input"]
from aigc_course.plotting import page_info

page_info("01_elbo")

# %% [markdown]
# A **latent-variable model** (潜变量模型) explains each observation $x$ by an unobserved cause $z$, the
# **latent variable** (潜变量). It is defined in two steps: draw $z$ from a simple **prior** (先验分布)
# $p(z)$, then draw $x$ from a **decoder** (解码器) $p_\theta(x \mid z)$ with parameters $\theta$. The
# model's density of an observation is the **marginal likelihood**, or **evidence** (证据),
#
# $$
# p_\theta(x) = \int p_\theta(x \mid z)\, p(z)\, dz .
# $$
#
# Maximum likelihood would maximise $\log p_\theta(x)$ over the training set, but for a neural-network
# decoder the integral has no closed form. Neither has the **posterior** (后验分布)
# $p_\theta(z \mid x) = p_\theta(x \mid z)\,p(z) / p_\theta(x)$, the distribution of the causes that could
# have produced a given $x$. **Variational inference** (变分推断) replaces the posterior by an
# approximation $q(z \mid x)$ from a family we can handle (for example, Gaussians) and maximises a lower
# bound on $\log p_\theta(x)$ instead: the **evidence lower bound** (证据下界, ELBO). The **variational
# auto-encoder** (变分自编码器, VAE) {cite}`kingma2014vae,rezende2014stochastic` does this with a neural
# network, the **encoder** (编码器), that outputs $q_\phi(z \mid x)$ for any $x$.
#
# This page derives the ELBO in two ways and checks every claim on a **linear-Gaussian model**, the one
# latent-variable model where $\log p(x)$ and $p(z \mid x)$ are known exactly. Then it measures what it
# costs to let one encoder serve all data points: the **amortisation gap** (摊销差距)
# {cite}`cremer2018inference`.

# %%
import math

import matplotlib.pyplot as plt
import torch
from torch.distributions import MultivariateNormal, kl_divergence

import aigc_course as ac
from aigc_course import losses
from aigc_course.exercises import ch3
from aigc_course.plotting import glue

ac.set_seed(0)
ac.runtime.set_threads(1)  # matrices of a few numbers: one CPU thread is fastest
torch.set_default_dtype(torch.float64)  # exact identities are checked to 1e-8: float64 throughout
print(ac.describe(torch.device("cpu")))  # this page runs on the CPU, whatever the machine has

# %% [markdown]
# ## Two derivations of the ELBO
#
# **By Jensen's inequality.** Take any distribution $q(z \mid x)$ that is positive wherever
# $p(x, z) = p(x \mid z)\,p(z)$ is. Multiply and divide inside the integral by $q$, and use that $\log$ is
# concave, so $\log \mathbb E[Y] \ge \mathbb E[\log Y]$ (**Jensen's inequality**, 琴生不等式 or 詹森不等式):
#
# $$
# \log p(x) = \log \int q(z \mid x)\, \frac{p(x, z)}{q(z \mid x)}\, dz
#           = \log \mathbb E_{q(z \mid x)}\Big[\frac{p(x, z)}{q(z \mid x)}\Big]
#           \;\ge\; \mathbb E_{q(z \mid x)}\big[\log p(x, z) - \log q(z \mid x)\big]
#           =: \mathcal L(x; q) .
# $$
#
# **By the KL divergence to the posterior.** Jensen's inequality says *that* there is a gap, not how large
# it is. Write $p(x, z) = p(z \mid x)\, p(x)$ inside the ELBO; $\log p(x)$ does not depend on $z$, so it
# comes out of the expectation:
#
# $$
# \mathcal L(x; q) = \mathbb E_q\big[\log p(z \mid x) + \log p(x) - \log q(z \mid x)\big]
#                  = \log p(x) - \mathrm{KL}\big(q(z \mid x)\,\|\,p(z \mid x)\big) .
# $$
#
# So $\log p(x) = \mathcal L(x; q) + \mathrm{KL}(q(z \mid x) \,\|\, p(z \mid x))$: **the gap is exactly the
# KL divergence from $q$ to the true posterior**. Since a KL divergence is $\ge 0$ and zero only for equal
# distributions, the bound holds for every $q$ and is tight exactly when $q(z \mid x) = p(z \mid x)$.
# Maximising the ELBO over $q$ therefore makes $q$ a better approximation of the posterior, and
# maximising it over $\theta$ raises $\log p_\theta(x)$ or tightens the bound.
#
# The second way is not harmless. The decoder can buy a tighter bound with a *lower* $\log p_\theta(x)$,
# by moving its own posterior towards what the family of $q$ can represent; Cremer et al.
# {cite}`cremer2018inference` observe the decoder "learning to accommodate the choice of approximation".
# The extreme case is a decoder that ignores $z$: then $p_\theta(z \mid x) = p(z)$, a posterior that every
# $q$ can match, so the gap is zero however poor the model. That is **posterior collapse** (后验坍塌),
# which 3.4 produces and measures.
#
# **The form a VAE uses.** Split $\log p(x, z) = \log p(x \mid z) + \log p(z)$ instead:
#
# $$
# \mathcal L(x; q) = \underbrace{\mathbb E_{q(z \mid x)}\big[\log p(x \mid z)\big]}_{\text{reconstruction}}
#                  - \underbrace{\mathrm{KL}\big(q(z \mid x)\,\|\,p(z)\big)}_{\text{to the prior}} .
# $$
#
# The first term rewards codes $z$ from which the decoder gives $x$ a high probability; the second keeps
# $q(z \mid x)$ close to the prior. Averaged over $x$, it also pulls the **aggregate posterior** (聚合后验)
# $q(z) = \mathbb E_x[q(z \mid x)]$, the distribution of the codes of all the data, towards $p(z)$; that is
# what sampling needs, since decoding $z \sim p(z)$ produces data only where $q(z)$ put codes (3.4 makes
# this exact: the average KL equals $I_q(x; z) + \mathrm{KL}(q(z) \,\|\, p(z))$). Note the two
# different KL divergences: the ELBO *contains* the KL to the **prior** (computable, 3.3), and it *falls
# short of* $\log p(x)$ by the KL to the **posterior** (not computable in a real VAE).
#
# ## A model where everything is exact
#
# In the linear-Gaussian model (probabilistic PCA) the decoder is a linear map plus Gaussian noise:
#
# $$
# z \sim \mathcal N(0, I_d), \qquad x = W z + b + \sigma \varepsilon, \quad
# \varepsilon \sim \mathcal N(0, I_D), \qquad W \in \mathbb R^{D \times d}.
# $$
#
# * **Marginal.** $x$ is a linear function of the Gaussians $z$ and $\varepsilon$, so it is Gaussian with
#   mean $b$ and covariance $W\,\mathrm{Cov}[z]\,W^\top + \sigma^2 I$:
#   $p(x) = \mathcal N(x;\, b,\, W W^\top + \sigma^2 I)$.
# * **Posterior.** $\log p(z \mid x) = \log p(x \mid z) + \log p(z) + \text{const}
#   = -\tfrac{1}{2\sigma^2}\|x - b - W z\|^2 - \tfrac12 \|z\|^2 + \text{const}$ is quadratic in $z$.
#   Completing the square gives $p(z \mid x) = \mathcal N(m(x), S)$ with precision
#   $S^{-1} = I + W^\top W / \sigma^2$ and mean $m(x) = S\, W^\top (x - b)/\sigma^2$.
# * **ELBO of a Gaussian $q = \mathcal N(\mu, C)$**, in closed form. With $\mathbb E_q[z] = \mu$ and
#   $\mathbb E_q[z z^\top] = C + \mu\mu^\top$:
#   $\mathbb E_q[\log p(x \mid z)] = -\tfrac D2 \log(2\pi\sigma^2)
#   - \tfrac{1}{2\sigma^2}\big(\|x - b - W\mu\|^2 + \operatorname{tr}(W C W^\top)\big)$ and
#   $\mathrm{KL}(q \,\|\, p(z)) = \tfrac12\big(\operatorname{tr} C + \|\mu\|^2 - d - \log\det C\big)$.
#
# We take $D = 5$ observed and $d = 2$ latent dimensions. The code below writes these formulas down;
# nothing in it uses the identity $\log p(x) = \mathcal L + \mathrm{KL}$ that we want to check.

# %%
D, d, sigma = 5, 2, 0.5
gen = torch.Generator().manual_seed(0)
W = torch.randn(D, d, generator=gen)       # decoder weights, (D, d) ...
W[:, 1] = 0.8 * W[:, 0] + 0.4 * W[:, 1]    # ... with similar columns: a correlated posterior
b = torch.randn(D, generator=gen)          # decoder bias, (D,)


def sample_x(n, gen):
    """n observations from the model, (n, D)."""
    z = torch.randn(n, d, generator=gen)
    return z @ W.T + b + sigma * torch.randn(n, D, generator=gen)


def log_marginal(x):
    """Exact log p(x) = log N(x; b, W W^T + sigma^2 I), (N,)."""
    return MultivariateNormal(b, W @ W.T + sigma**2 * torch.eye(D)).log_prob(x)


def posterior(x):
    """Exact p(z | x) = N(m(x), S): means (N, d) and the covariance S (d, d), shared by all x."""
    S = torch.linalg.inv(torch.eye(d) + W.T @ W / sigma**2)
    return (x - b) @ W @ S / sigma**2, S


def elbo_gaussian(x, mu, C):
    """Closed-form ELBO of q(z | x) = N(mu, C): x (N, D), mu (N, d), C (N, d, d) or (d, d)."""
    resid = x - b - mu @ W.T                                      # (N, D)
    trace_wcw = torch.einsum("ij,...jk,ik->...", W, C, W)         # tr(W C W^T)
    recon = -0.5 * D * math.log(2 * math.pi * sigma**2) - (resid.pow(2).sum(-1) + trace_wcw) / (
        2 * sigma**2)
    kl_prior = 0.5 * (C.diagonal(dim1=-2, dim2=-1).sum(-1) + mu.pow(2).sum(-1) - d
                      - torch.logdet(C))
    return losses.elbo(recon, kl_prior, beta=1.0)                 # recon - KL, (N,)


# %% [markdown]
# First, the closed-form ELBO must agree with its definition, a Monte Carlo average of
# $\log p(x, z) - \log q(z \mid x)$ over $z \sim q$. We check one data point and one arbitrary $q$ with
# 200 000 samples; the two must agree within four standard errors.

# %%
x0 = sample_x(1, gen)                                          # (1, D)
mu0 = torch.tensor([[0.3, -0.8]])                              # an arbitrary q: mean (1, d)
L0 = torch.tensor([[0.6, 0.0], [0.2, 0.4]])                    # Cholesky factor of its covariance
q0 = MultivariateNormal(mu0[0], scale_tril=L0)
z = mu0 + torch.randn(200_000, d, generator=gen) @ L0.T           # z ~ q, (S, d)
log_joint = (MultivariateNormal(z @ W.T + b, sigma**2 * torch.eye(D)).log_prob(x0)
             + MultivariateNormal(torch.zeros(d), torch.eye(d)).log_prob(z))   # log p(x, z), (S,)
log_w = log_joint - q0.log_prob(z)
elbo_mc, elbo_se = log_w.mean().item(), (log_w.std() / math.sqrt(len(log_w))).item()
elbo_cf = elbo_gaussian(x0, mu0, L0 @ L0.T).item()
print(f"ELBO, closed form: {elbo_cf:.4f}   Monte Carlo: {elbo_mc:.4f} ± {elbo_se:.4f}   "
      f"log p(x) = {log_marginal(x0).item():.4f}")
assert abs(elbo_mc - elbo_cf) < 4 * elbo_se

# %% [markdown]
# Now the two derivations, on many cases at once: 2 000 data points from the model, each with its own
# random Gaussian $q = \mathcal N(\mu, C)$: a mean from near the posterior mean to far from it, and a random
# full covariance (none very close to the posterior's: the smallest gap printed below says how close the
# nearest comes). For each we compute
#
# * the gap $\log p(x) - \mathcal L(x; q)$ from the two closed forms above, and
# * $\mathrm{KL}(q \,\|\, p(z \mid x))$ independently, with `torch.distributions.kl_divergence` between
#   $q$ and the exact posterior.
#
# The derivation predicts that the gap is never negative, that it equals the KL (we assert agreement to
# $10^{-8}$ nats, in float64), and that it vanishes at $q = p(z \mid x)$. The last line shows that a wrong
# version fails: with a sign error, $\mathbb E_q[\log p(x \mid z)] + \mathrm{KL}(q \,\|\, p(z))$, the
# "bound" lies above $\log p(x)$ for many $q$.

# %%
n = 2000
x = sample_x(n, gen)                                           # (n, D)
m_post, S = posterior(x)
spread = torch.logspace(-2, 0.5, n)[:, None]                   # means: near the posterior to far
mu = m_post + spread * torch.randn(n, d, generator=gen)        # random means, (n, d)
A = spread[:, :, None] * torch.randn(n, d, d, generator=gen)
C = A @ A.transpose(1, 2) + 1e-3 * torch.eye(d)                # random covariances, (n, d, d)
gap = log_marginal(x) - elbo_gaussian(x, mu, C)                # (n,)
kl_post = kl_divergence(MultivariateNormal(mu, C), MultivariateNormal(m_post, S))
gap_at_posterior = log_marginal(x) - elbo_gaussian(x, m_post, S)

std_normal = MultivariateNormal(torch.zeros(d), torch.eye(d))
kl_prior = kl_divergence(MultivariateNormal(mu, C), std_normal)
recon = elbo_gaussian(x, mu, C) + kl_prior                     # E_q[log p(x | z)]
wrong = recon + kl_prior                                       # the sign error
wrong_share = (wrong > log_marginal(x)).double().mean().item()

print(f"smallest gap over {n} random q: {gap.min():.4f} nats (largest {gap.max():.1f})")
print(f"largest |gap - KL(q || p(z|x))|: {(gap - kl_post).abs().max():.1e}")
print(f"largest gap at q = p(z|x): {gap_at_posterior.abs().max():.1e}")
print(f"sign-flipped 'ELBO' above log p(x) for {wrong_share:.0%} of the q")
assert gap.min() >= 0
torch.testing.assert_close(gap, kl_post, atol=1e-8, rtol=0)
assert gap_at_posterior.abs().max() < 1e-8
assert wrong_share > 0.25

# %% tags=["hide-input"]
glue("e31_gap_err", (gap - kl_post).abs().max().item(), display=False)
glue("e31_wrong_share", wrong_share, display=False)

# %% [markdown]
# Over 2 000 random approximations, the gap matches $\mathrm{KL}(q \,\|\, p(z \mid x))$ to
# {glue:text}`e31_gap_err:.1e` nats, and it closes at the exact posterior. The sign-flipped version
# exceeds $\log p(x)$ for {glue:text}`e31_wrong_share:.0%` of them: it is no bound at all.
#
# The picture for one data point: move the mean of $q$ away from the posterior mean, or scale its
# covariance, and watch the ELBO fall below $\log p(x)$ by exactly the KL.

# %%
x1 = x[:1]
m1, _ = posterior(x1)
shifts = torch.linspace(-2, 2, 81)
scales = torch.logspace(-1.5, 1.5, 81)
direction = torch.tensor([[1.0, 0.0]])
elbo_shift = elbo_gaussian(x1.expand(81, D), m1 + shifts[:, None] * direction, S)
elbo_scale = elbo_gaussian(x1.expand(81, D), m1.expand(81, d), scales[:, None, None] * S)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True, layout="constrained")
for ax, t, e, label in [(axes[0], shifts, elbo_shift, r"shift of the mean of $q$ along $z_1$"),
                        (axes[1], scales, elbo_scale, r"factor $s$ in $C = s\,S$")]:
    ax.axhline(log_marginal(x1).item(), color="0.3", ls="--", label=r"$\log p(x)$")
    ax.plot(t, e, color="tab:blue", label=r"ELBO $\mathcal{L}(x; q)$")
    ax.set_xlabel(label)
    ax.legend(fontsize=8)
axes[1].set_xscale("log")
axes[0].set_ylabel("nats")
axes[0].set_title("moving the mean of q")
axes[1].set_title("scaling the covariance of q")
fig.suptitle("The ELBO touches log p(x) only at q = p(z | x)")
plt.show()

# %% [markdown]
# ## One encoder for all data points: the amortisation gap
#
# In the check above each data point had its own $q$. A VAE instead restricts $q$ to a **family**,
# diagonal Gaussians $\mathcal N(\mu, \operatorname{diag} s^2)$ ($s$, not the decoder's noise $\sigma$), and
# computes their parameters with
# one encoder for all $x$: the cost of inference is *amortised* over the data set. Cremer et al.
# {cite}`cremer2018inference` split the resulting **inference gap** (推断差距) $\log p(x) - \mathcal L(x; q_\phi)$
# in two:
#
# $$
# \log p(x) - \mathcal L(x; q_\phi)
# = \underbrace{\log p(x) - \mathcal L(x; q^*_x)}_{\text{approximation gap}}
# + \underbrace{\mathcal L(x; q^*_x) - \mathcal L(x; q_\phi)}_{\text{amortisation gap}},
# \qquad q^*_x = \arg\max_{q \in \text{family}} \mathcal L(x; q).
# $$
#
# The **approximation gap** (近似差距) is the price of the family: here the posterior has a full covariance $S$,
# which no diagonal Gaussian matches. The **amortisation gap** is the price of the encoder: $q_\phi(z\mid
# x)$ is not the best member of the family for each $x$.
#
# For this model the best diagonal Gaussian is known in closed form: minimising
# $\mathrm{KL}(q \,\|\, \mathcal N(m, S))$ over diagonal $q$ gives the mean $m$ and the variances
# $1/\Lambda_{jj}$, where $\Lambda = S^{-1}$ is the posterior precision. Its gap is the same for every $x$:
# $\tfrac12\big(\sum_j \log \Lambda_{jj} - \log \det \Lambda\big)$. We check this by optimising a diagonal
# $q$ for each of 500 held-out data points separately (L-BFGS on the closed-form ELBO), and then train a
# **linear encoder** $(\mu, \log s^2) = A x + c$ (both linear in $x$) the way a VAE is trained: by stochastic gradient
# ascent on a one-sample estimate of the ELBO (the reparameterised sample of 3.2) over 2 000 training
# points.

# %%
Lam = torch.linalg.inv(S)                                          # posterior precision, (d, d)
approx_gap_formula = 0.5 * (Lam.diagonal().log().sum() - torch.logdet(Lam)).item()
x_train, x_test = sample_x(2000, gen), sample_x(500, gen)
m_test, _ = posterior(x_test)


def diag_elbo(x, mu, logvar):
    """ELBO of diagonal Gaussians q = N(mu, diag exp(logvar)), (N,)."""
    return elbo_gaussian(x, mu, torch.diag_embed(logvar.exp()))


# per-data-point optimum q*_x: each point's ELBO maximised by L-BFGS (the sum is separable)
mu_star = torch.zeros(500, d, requires_grad=True)
logvar_star = torch.zeros(500, d, requires_grad=True)
opt = torch.optim.LBFGS([mu_star, logvar_star], max_iter=500, tolerance_grad=1e-10,
                        line_search_fn="strong_wolfe")


def closure():
    opt.zero_grad()
    loss = -diag_elbo(x_test, mu_star, logvar_star).sum()
    loss.backward()
    return loss


opt.step(closure)
with torch.no_grad():
    elbo_star = diag_elbo(x_test, mu_star, logvar_star)
    approx_gap = (log_marginal(x_test) - elbo_star).mean().item()
print(f"approximation gap: optimised per point {approx_gap:.5f} nats, "
      f"formula {approx_gap_formula:.5f} nats")
torch.testing.assert_close(mu_star.detach(), m_test, atol=1e-4, rtol=0)
torch.testing.assert_close(logvar_star.detach(), -Lam.diagonal().log().expand(500, d),
                           atol=1e-4, rtol=0)
assert abs(approx_gap - approx_gap_formula) < 1e-6

# %% tags=["hide-input"]
S_var = S.diagonal()                                 # the posterior's marginal variances S_jj
rho = (S[0, 1] / S_var.prod().sqrt()).item()         # its correlation
narrowing = 1 / Lam.diagonal() / S_var               # best diagonal variance / true variance
torch.testing.assert_close(narrowing, torch.full((d,), 1 - rho**2))   # in 2-D: 1 - rho^2
# the moment-matched diagonal q (true marginal variances) has the right spread but a worse ELBO
wide_elbo = diag_elbo(x_test, m_test, S_var.log().expand(500, d))
assert (wide_elbo < elbo_star - 1e-3).all()
glue("e31_rho", rho, display=False)
glue("e31_narrowing", narrowing[0].item(), display=False)
glue("e31_wide_loss", (elbo_star - wide_elbo).mean().item(), display=False)

# %% [markdown]
# Optimising each data point separately lands on the closed-form optimum (means and log-variances to
# $10^{-4}$, the gap to $10^{-6}$ nats). Note what this best $q$ looks like: the posterior's two
# coordinates have correlation {glue:text}`e31_rho:.2f`, and the best diagonal Gaussian's variances are
# {glue:text}`e31_narrowing:.2f` times the posterior's marginal variances ($1 - \rho^2$): far too narrow.
# This comes from the direction of the KL that the ELBO minimises, $\mathrm{KL}(q \,\|\, p)$: it is
# large wherever $q$ puts mass that $p$ lacks, so $q$ avoids the posterior's thin regions and
# under-covers it (Bishop {cite}`bishop2006pattern`, §10.1.2). The diagonal $q$ with the true marginal variances, which
# minimises the other direction $\mathrm{KL}(p \,\|\, q)$, has an ELBO lower by
# {glue:text}`e31_wide_loss:.2f` nats. The figure shows the three Gaussians for one held-out data point:
# the posterior, the best diagonal $q$ found by L-BFGS above, and the diagonal $q$ with the posterior's
# marginal variances.

# %% tags=["hide-input"]
def ellipse(mean, cov, k=2.0, n=200):
    """Points of the k-standard-deviation contour of N(mean, cov), (n, 2)."""
    t = torch.linspace(0, 2 * math.pi, n)
    circle = torch.stack([t.cos(), t.sin()], dim=1)
    return mean + k * circle @ torch.linalg.cholesky(cov).T


var_star = logvar_star.detach()[0].exp()               # the fitted q's variances for test point 0
shapes = {r"posterior $p(z \mid x)$": (m_test[0], S, "0.2", "-"),
          r"best diagonal $q$, $\min\ \mathrm{KL}(q \,\|\, p)$":
              (mu_star.detach()[0], torch.diag(var_star), "tab:blue", "-"),
          r"diagonal $q$ with the true marginals, $\min\ \mathrm{KL}(p \,\|\, q)$":
              (m_test[0], torch.diag(S_var), "tab:orange", "--")}
# the reverse-KL fit has the conditional variances 1/Lambda_jj, smaller than the marginal ones S_jj
torch.testing.assert_close(var_star, 1 / Lam.diagonal(), atol=1e-4, rtol=0)
assert (var_star < S_var).all()
fig, ax = plt.subplots(figsize=(5.2, 5.6), layout="constrained")
for label, (mean, cov, colour, style) in shapes.items():
    pts = ellipse(mean, cov)
    ax.plot(pts[:, 0], pts[:, 1], color=colour, ls=style, label=label)
ax.plot(*m_test[0], "k+", ms=10)
ax.set_aspect("equal")
ax.set_xlabel("$z_1$")
ax.set_ylabel("$z_2$")
ax.set_title("Two-standard-deviation ellipses for one data point")
ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12))
plt.show()

# %% [markdown]
# The reverse-KL $q$ covers only the middle of the posterior's long axis: its variances are the
# conditional variances $1/\Lambda_{jj}$, the spread of one coordinate with the other held fixed. Across
# the ellipse it is even a little wider than the posterior, because it cannot tilt. The forward-KL $q$
# has the marginal variances and covers the whole ellipse, spilling over where the posterior has little
# mass. Neither expresses the correlation, which a diagonal family cannot.
#
# Now the amortised version: a linear encoder trained on minibatches of 64 training points with one
# reparameterised sample each, as in a VAE. We measure its amortisation gap on the 500 held-out points at
# several moments of training.

# %%
torch.manual_seed(0)
encoder = torch.nn.Linear(D, 2 * d)           # x -> (mu, logvar): a linear encoder
opt = torch.optim.Adam(encoder.parameters(), lr=0.01)
checkpoints, amort_gaps = [30, 100, 300, 1000, 3000], []
for step in range(1, checkpoints[-1] + 1):
    xb = x_train[torch.randint(0, len(x_train), (64,))]
    mu_b, logvar_b = encoder(xb).chunk(2, dim=1)
    z = mu_b + torch.exp(0.5 * logvar_b) * torch.randn_like(mu_b)      # one sample per point
    log_px_z = losses.gaussian_log_likelihood(z @ W.T + b, xb, sigma)    # log p(x | z), (64,)
    kl_prior = losses.gaussian_kl(mu_b, logvar_b)                      # closed form (3.3)
    loss = -(log_px_z - kl_prior).mean()                               # negative ELBO estimate
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step in checkpoints:
        with torch.no_grad():
            mu_e, logvar_e = encoder(x_test).chunk(2, dim=1)
            amort_gaps.append((elbo_star - diag_elbo(x_test, mu_e, logvar_e)).mean().item())

print(" steps   amortisation gap (nats)   approximation gap (nats)")
for step, g in zip(checkpoints, amort_gaps):
    print(f"{step:6d}   {g:22.5f}   {approx_gap:22.5f}")
assert amort_gaps[-1] < amort_gaps[1] / 3

# %% tags=["hide-input"]
glue("e31_approx_gap", approx_gap, display=False)
glue("e31_amort_gap_early", amort_gaps[1], display=False)
glue("e31_amort_gap", amort_gaps[-1], display=False)
glue("e31_amort_steps", checkpoints[-1], display=False)
glue("e31_amort_steps_early", checkpoints[1], display=False)


# %% [markdown]
# The approximation gap is {glue:text}`e31_approx_gap:.3f` nats per data point, whatever the encoder. The
# amortisation gap is {glue:text}`e31_amort_gap_early:.3f` nats after {glue:text}`e31_amort_steps_early`
# steps and
# {glue:text}`e31_amort_gap:.4f` nats after {glue:text}`e31_amort_steps` steps. In this model it can
# shrink towards zero: the exact posterior mean $m(x)$ is a linear function of $x$ and the best variances
# do not depend on $x$, so a linear encoder *can* output $q^*_x$ for every $x$; what remains is the
# optimiser's shortfall (one noisy sample per step, a constant learning rate). In a VAE neither holds:
# the map $x \mapsto q^*_x$ is nonlinear, the encoder is a finite network trained on finite data, and the
# decoder moves while the encoder chases it. Cremer et al. {cite}`cremer2018inference` measured both gaps
# for VAEs on MNIST, Fashion-MNIST and CIFAR-10 and found that the encoder (amortisation), more than the
# Gaussian family, is often what keeps the bound loose.
#
# ## Exercises
#
# Each checker runs your function on its own random inputs and names the common mistake your answer
# matches, if any. `ch3.q31a.hint()` gives a hint; the solution is in the collapsed block. The two
# warm-ups put the page's formulas into code; the exercises after them ask for what the page does not
# compute.
#
# ### 3.1a Warm-up: a Monte Carlo ELBO
#
# Write `elbo_estimate(log_px_z, log_pz, log_qz)`. Each input has
# shape (S, B): for each of B data points, S samples $z_s \sim q(z \mid x_b)$ with $\log p(x_b \mid z_s)$,
# $\log p(z_s)$ and $\log q(z_s \mid x_b)$. Return the ELBO estimate of each data point, shape (B,).

# %%
def elbo_estimate(log_px_z, log_pz, log_qz):
    ...  # your code


ch3.q31a.check(elbo_estimate);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def elbo_estimate(log_px_z, log_pz, log_qz):
#     return (log_px_z + log_pz - log_qz).mean(dim=0)
# ```
# Each sample gives one log-weight $\log p(x, z_s) - \log q(z_s \mid x)$; the ELBO is their expectation,
# estimated by the mean over the S samples (dim 0). The log of the *mean weight* instead is the tighter
# importance-weighted bound of 3.4.
# :::

# %% tags=["hide-cell"]
def elbo_estimate_reference(log_px_z, log_pz, log_qz):
    return (log_px_z + log_pz - log_qz).mean(dim=0)


assert ch3.q31a.check(elbo_estimate_reference, quiet=True)

# %% [markdown]
# ### 3.1b Warm-up: the exact evidence
#
# Write `log_marginal_lg(x, W, b, sigma)`: the exact
# $\log p(x)$ of the linear-Gaussian model $z \sim \mathcal N(0, I_d)$, $x = W z + b + \sigma\varepsilon$,
# for each row of `x` (shape (N, D)), without using the page's `log_marginal`.

# %%
def log_marginal_lg(x, W, b, sigma):
    ...  # your code


ch3.q31b.check(log_marginal_lg);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def log_marginal_lg(x, W, b, sigma):
#     cov = W @ W.T + sigma**2 * torch.eye(len(b), dtype=x.dtype)
#     return torch.distributions.MultivariateNormal(b, covariance_matrix=cov).log_prob(x)
# ```
# $x$ is Gaussian with mean $W\,\mathbb E[z] + b = b$ and covariance $W W^\top + \sigma^2 I$: the prior's
# spread mapped through $W$, plus the noise. $\sigma$ is a standard deviation, so the noise covariance is
# $\sigma^2 I$.
# :::

# %% tags=["hide-cell"]
def log_marginal_reference(x, W, b, sigma):
    cov = W @ W.T + sigma**2 * torch.eye(len(b), dtype=x.dtype)
    return torch.distributions.MultivariateNormal(b, covariance_matrix=cov).log_prob(x)


assert ch3.q31b.check(log_marginal_reference, quiet=True)
torch.testing.assert_close(log_marginal_reference(x, W, b, sigma), log_marginal(x))

# %% [markdown]
# ### 3.1c Apply: the ELBO of a coin
#
# A second model where the posterior is known, and not Gaussian. A coin's bias $z$ (its probability of
# heads) has the prior $\mathrm{Beta}(a, b)$, and $x = (x_1, \dots, x_n)$ are $n$ tosses with $k$ heads, so
# $p(x \mid z) = z^k (1 - z)^{n - k}$. Write `coin_elbo(x, a, b, alpha, beta)`: the exact ELBO
# $\mathcal L(x; q)$ of the approximation $q(z) = \mathrm{Beta}(\alpha, \beta)$ (`x` a float tensor of 0s
# and 1s; `a`, `b`, `alpha`, `beta` 0-d tensors). Either form of the ELBO on this page works; what is the
# posterior here, and what is $\mathbb E_q[\log z]$?

# %%
def coin_elbo(x, a, b, alpha, beta):
    ...  # your code


ch3.q31c.check(coin_elbo);

# %% [markdown]
# :::{dropdown} Solution
# Reconstruction minus the KL to the prior, with $\mathbb E_q[\log z] = \psi(\alpha) - \psi(\alpha + \beta)$
# ($\psi$ the digamma function) and $\mathbb E_q[\log(1 - z)] = \psi(\beta) - \psi(\alpha + \beta)$:
# ```python
# def coin_elbo(x, a, b, alpha, beta):
#     n, k = len(x), x.sum()
#     e_log_z = torch.digamma(alpha) - torch.digamma(alpha + beta)       # E_q[log z]
#     e_log_1mz = torch.digamma(beta) - torch.digamma(alpha + beta)      # E_q[log(1 - z)]
#     Beta = torch.distributions.Beta
#     kl_prior = torch.distributions.kl_divergence(Beta(alpha, beta), Beta(a, b))
#     return k * e_log_z + (n - k) * e_log_1mz - kl_prior
# ```
# The other form gives the same number: the Beta prior is **conjugate** (共轭) to the Bernoulli likelihood,
# so the posterior is $\mathrm{Beta}(a + k, b + n - k)$, the evidence is
# $\log p(x) = \log B(a + k, b + n - k) - \log B(a, b)$, and $\mathcal L = \log p(x) -
# \mathrm{KL}(q \,\|\, p(z \mid x))$. The data are a *sequence* of tosses: the binomial coefficient
# $\binom nk$ belongs to the probability of the count $k$, not of the sequence.
# :::

# %% tags=["hide-cell"]
def coin_elbo_reference(x, a, b, alpha, beta):
    n, k = len(x), x.sum()
    e_log_z = torch.digamma(alpha) - torch.digamma(alpha + beta)
    e_log_1mz = torch.digamma(beta) - torch.digamma(alpha + beta)
    Beta = torch.distributions.Beta
    kl_prior = torch.distributions.kl_divergence(Beta(alpha, beta), Beta(a, b))
    return k * e_log_z + (n - k) * e_log_1mz - kl_prior


assert ch3.q31c.check(coin_elbo_reference, quiet=True)
# the page's identity in the new model: the ELBO is log p(x) at q = posterior, and a Monte Carlo
# ELBO from q's samples agrees with the closed form
tosses = torch.tensor([1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0])
a_c, b_c = torch.tensor(2.0), torch.tensor(2.0)
n_c, k_c = len(tosses), tosses.sum()
post_a, post_b = a_c + k_c, b_c + n_c - k_c                         # the conjugate posterior
log_evidence = (torch.lgamma(post_a) + torch.lgamma(post_b) - torch.lgamma(a_c + b_c + n_c)
                - torch.lgamma(a_c) - torch.lgamma(b_c) + torch.lgamma(a_c + b_c))
torch.testing.assert_close(coin_elbo_reference(tosses, a_c, b_c, post_a, post_b), log_evidence)
q_coin = torch.distributions.Beta(torch.tensor(3.0), torch.tensor(2.0))
z_coin = q_coin.sample((200_000,))
log_w_coin = (k_c * z_coin.log() + (n_c - k_c) * (1 - z_coin).log()
              + torch.distributions.Beta(a_c, b_c).log_prob(z_coin) - q_coin.log_prob(z_coin))
coin_se = log_w_coin.std() / math.sqrt(len(z_coin))
assert abs(log_w_coin.mean() - coin_elbo_reference(tosses, a_c, b_c, q_coin.concentration1,
                                                   q_coin.concentration0)) < 4 * coin_se

# %% [markdown]
# ### 3.1d Predict: how much does a diagonal $q$ lose?
#
# A posterior $\mathcal N(m, \Sigma)$ in two dimensions has unit variances and correlation $\rho = 0.9$.
# The best *diagonal* Gaussian $q^*$ (the mean-field family, 平均场) leaves an approximation gap
# $\log p(x) - \mathcal L(x; q^*) = \mathrm{KL}(q^* \,\|\, p(z \mid x))$. Before computing anything,
# write down how many nats you expect. The checker fits $q^*$ numerically and shows both numbers.

# %%
answer = ...  # your prediction, in nats

ch3.q31d.check(answer);

# %% [markdown]
# :::{dropdown} Solution
# The best diagonal $q$ keeps the mean and takes the variances $1/\Lambda_{jj}$, where
# $\Lambda = \Sigma^{-1}$; for unit variances $\Lambda_{jj} = 1/(1 - \rho^2)$ and
# $\det\Lambda = 1/(1 - \rho^2)$, so the gap $\tfrac12\big(\sum_j \log\Lambda_{jj} - \log\det\Lambda\big)$
# is
# ```python
# answer = -0.5 * math.log(1 - 0.9**2)
# ```
# It does not depend on the mean or on $x$, and it grows without bound as $|\rho| \to 1$: a diagonal $q$
# is cheap only when the posterior's coordinates are nearly independent.
# :::

# %% tags=["hide-cell"]
answer_solution = -0.5 * math.log(1 - 0.9**2)
assert ch3.q31d.check(answer_solution, quiet=True)

# %% [markdown]
# ## Summary
#
# * A latent-variable model $p(x) = \int p(x \mid z)\,p(z)\,dz$ has an intractable evidence and
#   posterior; variational inference maximises the ELBO
#   $\mathcal L(x; q) = \mathbb E_q[\log p(x, z) - \log q(z \mid x)]$ instead.
# * Jensen's inequality gives $\mathcal L \le \log p(x)$; the exact identity
#   $\log p(x) = \mathcal L(x; q) + \mathrm{KL}(q(z \mid x) \,\|\, p(z \mid x))$ says the gap is the KL
#   to the posterior. Both were checked on a linear-Gaussian model, to $10^{-8}$ nats.
# * The VAE writes the ELBO as reconstruction minus $\mathrm{KL}(q(z \mid x) \,\|\, p(z))$, the KL to the
#   *prior*; a sign error there gives a "bound" above $\log p(x)$.
# * With a restricted family and one encoder for all $x$, the inference gap is the approximation gap
#   (the family) plus the amortisation gap (the encoder). The best diagonal $q$ minimises
#   $\mathrm{KL}(q \,\|\, p)$ and is too narrow: its variances are the posterior's conditional ones.
#   The next section shows how to get gradients of
#   the ELBO when $z$ is sampled.
