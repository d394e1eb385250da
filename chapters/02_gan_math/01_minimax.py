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
# # 2.1 The minimax game

# %% tags=["remove-input"]
from aigc_course.plotting import page_info

page_info("01_minimax")

# %% [markdown]
# A generative adversarial network (GAN, 生成对抗网络) {cite}`goodfellow2014gan` trains two networks
# against each other. The **generator** (生成器) $G$ turns random noise into samples. The
# **discriminator** (判别器) $D$ looks at a sample and estimates the probability that it came from the
# data rather than from $G$. Each tries to beat the other, and the mathematics of this game tells us what the
# generator ends up learning.
#
# This page derives the three results everything else about GANs rests on, and checks each one with
# numbers on one-dimensional Gaussians, where every density and integral can be computed:
#
# 1. the **value function** $V(D, G)$ and the **minimax game** (极小极大博弈) $\min_G \max_D V(D, G)$;
# 2. the **optimal discriminator** (最优判别器) $D^*_G(x) = \dfrac{p_{\text{data}}(x)}{p_{\text{data}}(x) + p_g(x)}$,
#    found once by maximising on a grid and once by training a real network;
# 3. the **virtual training criterion** $C(G) = \max_D V(D, G) = -\log 4 + 2\,\mathrm{JSD}(p_{\text{data}}
#    \,\|\, p_g)$, checked by numerical integration, with its minimum at $p_g = p_{\text{data}}$.
#
# Several of the source articles of this course print these formulas with a flipped sign, swapped terms,
# or a wrong claim about the equilibrium. The appendix lists those errors, and the check cells below
# show the correct versions.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from scipy import integrate, stats
from scipy.spatial.distance import jensenshannon

import aigc_course as ac
from aigc_course import gan, losses
from aigc_course.exercises import ch2
from aigc_course.plotting import glue

ac.set_seed(0)
ac.runtime.set_threads(1)  # networks of a few thousand weights: one CPU thread is fastest
print(ac.describe(torch.device("cpu")))  # this page runs on the CPU, whatever the machine has

# %% [markdown]
# ## The two players and the value function
#
# Three distributions appear in the game:
#
# * $p_{\text{data}}$, the **data distribution** (数据分布): we cannot write it down, but we have samples
#   from it;
# * $p_z$, the **prior** (先验分布) on the **latent** noise $z$ (隐变量), simple by choice, e.g.
#   $\mathcal N(0, I)$;
# * $p_g$, the **generator's distribution** (生成分布): the distribution of $x = G(z)$ when $z \sim p_z$.
#   We can sample from it, but we usually cannot evaluate its density.
#
# The discriminator outputs $D(x) \in (0, 1)$. In code it returns a **logit** (对数几率) $\ell(x)$, and
# $D(x) = \sigma(\ell(x))$ with the sigmoid $\sigma(t) = 1/(1 + e^{-t})$. The two players share one
# **value function** (价值函数):
#
# $$
# V(D, G) = \mathbb E_{x \sim p_{\text{data}}}\big[\log D(x)\big]
#         + \mathbb E_{z \sim p_z}\big[\log\big(1 - D(G(z))\big)\big],
# \qquad \min_G \max_D V(D, G).
# $$
#
# * $D$ **maximises** $V$. Give real samples the label 1 and generated ones the label 0: then $V$ is the
#   average log-likelihood that $D$ gives to the correct labels. So $-V$ is the **binary cross-entropy**
#   (二元交叉熵) of a classifier, summed over the two batches (the mean BCE on the real batch plus the
#   mean BCE on the generated one): the loss `losses.gan_d_loss` that $D$ minimises. The mean BCE over one
#   balanced batch, what most frameworks log, is $-V/2$.
# * $G$ **minimises** the same $V$. Only the second term depends on $G$, and it falls when $D(G(z))$ rises,
#   that is, when $D$ mistakes fakes for real data. What one player gains the other loses: a zero-sum game
#   (零和博弈).
#
# The derivation needs $V$ as an integral over $x$. The second expectation is over $z$, but it only looks at
# $x = G(z)$, so it equals an expectation over $p_g$ (the *law of the unconscious statistician*):
# $\mathbb E_{z \sim p_z}[f(G(z))] = \mathbb E_{x \sim p_g}[f(x)]$. Hence
#
# $$
# V(D, G) = \int \Big( p_{\text{data}}(x) \log D(x) + p_g(x) \log\big(1 - D(x)\big) \Big)\, dx .
# \tag{1}
# $$
#
# Let us check both facts on an example. Take $p_{\text{data}} = \mathcal N(0, 1)$ and a generator
# $G(z) = 1.5 + 0.5 z$ with $z \sim \mathcal N(0, 1)$, so $p_g = \mathcal N(1.5, 0.5^2)$. Take a fixed,
# deliberately poor discriminator with logit $\ell(x) = 1 - x$. A Monte Carlo estimate through $z$ must agree
# with the integral (1), and `gan_d_loss` must be exactly $-\hat V$. We use
# $\log(1 - \sigma(\ell)) = \log \sigma(-\ell)$, which never takes the log of a rounded-off zero.

# %%
p_data = stats.norm(0.0, 1.0)  # the data distribution
p_g = stats.norm(1.5, 0.5)     # the distribution of G(z) = 1.5 + 0.5 z


def log_sigmoid(t):
    """log σ(t) = -log(1 + exp(-t)), without overflow."""
    return -np.logaddexp(0.0, -t)


def fixed_logit(x):
    return 1.0 - x  # a fixed discriminator D(x) = σ(1 - x), far from optimal


v_integral, _ = integrate.quad(
    lambda x: (p_data.pdf(x) * log_sigmoid(fixed_logit(x))
               + p_g.pdf(x) * log_sigmoid(-fixed_logit(x))), -15, 15)

rng = np.random.default_rng(0)
n = 200_000
x_real = p_data.rvs(n, random_state=rng)      # x ~ p_data
x_fake = 1.5 + 0.5 * rng.standard_normal(n)   # G(z) with z ~ p_z = N(0, 1)
log_d_real = log_sigmoid(fixed_logit(x_real))       # log D(x)
log_1m_d_fake = log_sigmoid(-fixed_logit(x_fake))   # log(1 - D(G(z)))
v_mc = log_d_real.mean() + log_1m_d_fake.mean()
std_err = math.sqrt(log_d_real.var() / n + log_1m_d_fake.var() / n)
d_loss = losses.gan_d_loss(torch.from_numpy(fixed_logit(x_real)),
                           torch.from_numpy(fixed_logit(x_fake)))
print(f"V by integration over x: {v_integral:.5f}")
print(f"V by Monte Carlo over z: {v_mc:.5f} ± {std_err:.5f}")
print(f"gan_d_loss on the same logits: {d_loss.item():.5f}  (= -V)")
assert abs(v_mc - v_integral) < 4 * std_err
torch.testing.assert_close(d_loss.item(), -v_mc)

# %% [markdown]
# ## The optimal discriminator
#
# Fix $G$ and let $D$ be *any* function with values in $[0, 1]$, not just a network (with $\log 0 =
# -\infty$, as in {cite}`goodfellow2014gan`; a sigmoid reaches only the open interval, so where one density
# is zero the optimum is a limit the network can only approach). In (1), the value $D(x)$ at one point only
# affects the integrand at that point. So we can maximise the integrand separately at every $x$. With
# $a = p_{\text{data}}(x)$ and $b = p_g(x)$, we need the maximiser over $y \in [0, 1]$ of
#
# $$
# f(y) = a \log y + b \log(1 - y), \qquad a, b \ge 0,\ a + b > 0 .
# $$
#
# Its derivative is $f'(y) = \dfrac{a}{y} - \dfrac{b}{1 - y} = \dfrac{a - (a + b)\,y}{y\,(1 - y)}$. It is
# positive for $y < a/(a + b)$ and negative after, so $f$ has a unique maximum at $y^* = a/(a + b)$. (Also
# $f''(y) = -a/y^2 - b/(1-y)^2 < 0$: $f$ is concave.) This gives Proposition 1 of {cite}`goodfellow2014gan`:
#
# $$
# D^*_G(x) = \frac{p_{\text{data}}(x)}{p_{\text{data}}(x) + p_g(x)} .
# $$
#
# Two readings of this formula are useful:
#
# * $D^*_G(x)$ is the **Bayes posterior** $P(\text{real} \mid x)$ when a sample is real or fake with
#   probability $\tfrac12$ each, as in a batch with equal halves. The best discriminator is the Bayes-optimal
#   classifier.
# * Its logit is the **log density ratio**, $\ell^*(x) = \log p_{\text{data}}(x) - \log p_g(x)$. A trained
#   discriminator therefore estimates how much more likely $x$ is under the data than under the model. The
#   generator's gradient comes from the slope of this ratio (see 2.2).
#
# (The folded cell below checks the one-variable fact on a fine grid of $y$: the best value sits at
# $a/(a+b)$.)

# %% tags=["hide-cell"]
y = np.linspace(1e-4, 1 - 1e-4, 100_001)  # candidate values of D(x), spacing 1e-5
for a, b in [(1.0, 1.0), (0.3, 1.2), (2.0, 0.1), (0.05, 0.05)]:
    y_best = y[np.argmax(a * np.log(y) + b * np.log1p(-y))]
    print(f"a = {a:4}, b = {b:4}:  argmax on the grid {y_best:.5f},  a/(a+b) = {a / (a + b):.5f}")
    assert abs(y_best - a / (a + b)) < 2e-5

# %% [markdown]
# Now the whole function $D^*$ for our two Gaussians. For each $x$ on a grid, we try 2001 candidate values of
# $D(x)$ and keep the one that maximises the integrand of (1). This is a brute-force maximisation of $V$
# over *all* discriminators, up to the resolution of the grids. It must agree with the formula.

# %%
xs = np.linspace(-3, 4, 141)
y = np.linspace(1e-3, 1 - 1e-3, 2001)                       # candidate D(x) values, spacing 5e-4
a, b = p_data.pdf(xs)[:, None], p_g.pdf(xs)[:, None]         # (141, 1)
integrand = a * np.log(y) + b * np.log1p(-y)                 # (141, 2001): integrand of (1) per y
d_brute = y[integrand.argmax(axis=1)]                        # (141,)


def optimal_discriminator(x, p_g):
    """D*(x) = p_data / (p_data + p_g), from log-densities (stable in the far tails)."""
    return np.exp(p_data.logpdf(x) - np.logaddexp(p_data.logpdf(x), p_g.logpdf(x)))


d_star = optimal_discriminator(xs, p_g)
gap = np.abs(d_brute - np.clip(d_star, y[0], y[-1])).max()
print(f"largest gap between brute force and formula: {gap:.1e} (grid spacing {y[1] - y[0]:.0e})")
assert gap <= y[1] - y[0]

# %%
fig, ax = plt.subplots(figsize=(7, 3.8))
ax.plot(xs, p_data.pdf(xs), color="0.3", label=r"$p_{\mathrm{data}} = \mathcal{N}(0, 1)$")
ax.plot(xs, p_g.pdf(xs), color="tab:orange", label=r"$p_g = \mathcal{N}(1.5, 0.5^2)$")
ax.plot(xs, d_star, color="tab:blue", lw=2.5, label=r"$D^*(x)$, formula")
ax.plot(xs[::4], d_brute[::4], "o", ms=4, mfc="none", color="tab:blue",
        label="$D^*(x)$, brute-force maximum")
ax.axhline(0.5, ls=":", color="0.5")
ax.set_xlabel("$x$")
ax.set_ylabel("density / probability")
ax.set_title("The optimal discriminator for two Gaussians")
ax.legend(loc="center left", fontsize=8)
plt.show()

# %% [markdown]
# $D^*$ is close to 1 where only the data has mass, close to 0 where the generator piles up its samples, and
# exactly $\tfrac12$ where the two densities cross. It goes back up on the far right: $p_g$ has lighter tails
# than $p_{\text{data}}$, so a sample at $x = 4$ is more likely to be real. A discriminator is *not* a
# threshold on $x$.
#
# ### A trained discriminator finds $D^*$
#
# The argument above optimises over all functions. A real discriminator is a network trained by stochastic
# gradient descent on samples. Does it get there? We train the course's `MLPDiscriminator` (two hidden layers
# of 64 units) to minimise `gan_d_loss`, which is $-\hat V$. Each step draws fresh samples from
# $p_{\text{data}}$ and $p_g$. This is the infinite-data setting that the theory assumes, so $D$ cannot
# overfit a fixed training set. A cosine learning-rate decay lets the fit settle.

# %%
def sample(p, n):
    """n samples of a scipy normal as a float32 tensor of shape (n, 1)."""
    return float(p.mean()) + float(p.std()) * torch.randn(n, 1)


torch.manual_seed(0)
D = gan.MLPDiscriminator(ac.GANConfig(kind="mlp", data_dim=1, hidden=64, depth=2))
steps = 1500
opt = torch.optim.Adam(D.parameters(), lr=3e-3)
schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
for step in range(steps):
    # -V on one batch of each
    loss = losses.gan_d_loss(D(sample(p_data, 512)), D(sample(p_g, 512)))
    opt.zero_grad()
    loss.backward()
    opt.step()
    schedule.step()

with torch.no_grad():
    logit_trained = D(torch.from_numpy(xs).float()[:, None]).double().numpy()  # (141,)
d_trained = 1 / (1 + np.exp(-logit_trained))
region = p_data.pdf(xs) + p_g.pdf(xs) > 0.05  # where the samples are: D is only trained there
err = np.abs(d_trained - d_star)[region].max()
print(f"max |sigmoid(D(x)) - D*(x)| for x in [{xs[region].min():.2f}, "
      f"{xs[region].max():.2f}]: {err:.3f}")
assert err < 0.05

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
ax1.plot(xs, d_star, lw=3, alpha=0.4, label="$D^*(x)$")
ax1.plot(xs, d_trained, color="tab:red", label=r"trained: $\sigma(\ell(x))$")
ax2.plot(xs, p_data.logpdf(xs) - p_g.logpdf(xs), lw=3, alpha=0.4,
         label=r"$\log p_{\mathrm{data}}(x) - \log p_g(x)$")
ax2.plot(xs, logit_trained, color="tab:red", label=r"trained logit $\ell(x)$")
ax2.set_ylim(-6, 10)
for ax, title in [(ax1, "probability"), (ax2, "logit = log density ratio")]:
    ax.axvspan(xs[region].min(), xs[region].max(), color="0.92", zorder=0)
    ax.set_xlabel("$x$")
    ax.set_title(title)
    ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# Inside the shaded region, where $p_{\text{data}} + p_g > 0.05$, the trained network matches $D^*$
# closely. Outside it, the network has seen almost no samples, and its logit keeps growing in a straight line
# (a LeakyReLU network is piecewise linear). The true log ratio is a parabola. A discriminator is only
# trustworthy where there are samples. This becomes important when $p_g$ and $p_{\text{data}}$ barely
# overlap (2.4).
#
# ## The virtual training criterion $C(G)$ and the Jensen–Shannon divergence
#
# If the discriminator were always optimal, the generator would face the criterion
# $C(G) = \max_D V(D, G) = V(D^*_G, G)$. Substituting $D^*_G$ into (1):
#
# $$
# C(G) = \mathbb E_{x \sim p_{\text{data}}}\Big[\log \frac{p_{\text{data}}(x)}{p_{\text{data}}(x) + p_g(x)}\Big]
#      + \mathbb E_{x \sim p_g}\Big[\log \frac{p_g(x)}{p_{\text{data}}(x) + p_g(x)}\Big].
# $$
#
# Introduce the mixture $m = \tfrac12 (p_{\text{data}} + p_g)$, so
# $\dfrac{p_{\text{data}}}{p_{\text{data}} + p_g} = \dfrac12 \cdot \dfrac{p_{\text{data}}}{m}$.
# Each expectation then splits into a KL divergence (KL散度) {cite}`kullback1951information`,
# $\mathrm{KL}(p \,\|\, q) = \mathbb E_p[\log (p/q)]$, minus $\log 2$:
#
# $$
# C(G) = -\log 4 + \mathrm{KL}(p_{\text{data}} \,\|\, m) + \mathrm{KL}(p_g \,\|\, m)
#      = -\log 4 + 2\, \mathrm{JSD}(p_{\text{data}} \,\|\, p_g),
# $$
#
# where $\mathrm{JSD}(p \,\|\, q) = \tfrac12 \mathrm{KL}(p \,\|\, m) + \tfrac12 \mathrm{KL}(q \,\|\, m)$ is the
# **Jensen–Shannon divergence** (JS散度) {cite}`lin1991divergence`. It is symmetric, and it lies between 0
# (only when $p = q$, since $\mathrm{KL} \ge 0$ with equality only for equal distributions) and $\log 2$
# (when the two distributions have disjoint supports; natural logarithms throughout). Hence **Theorem 1** of
# {cite}`goodfellow2014gan`: the global minimum of $C(G)$ is $-\log 4 \approx -1.386$, and it is reached
# exactly when $p_g = p_{\text{data}}$. There $D^* \equiv \tfrac12$: at the equilibrium the discriminator
# **cannot** tell real from fake.
#
# To check this, we compute $C(G)$ by adaptive quadrature of $V(D^*, G)$. We compute the JSD independently,
# with SciPy's `jensenshannon` on densities discretised on a fine grid (it returns $\sqrt{\mathrm{JSD}}$).

# %%
def span(p_g, width=12):
    """An interval that holds all but a negligible part of both distributions."""
    centres, scale = ((float(p_data.mean()), float(p_g.mean())),
                      max(float(p_data.std()), float(p_g.std())))
    return min(centres) - width * scale, max(centres) + width * scale, centres


def c_of_g(p_g):
    """C(G) = V(D*, G) by adaptive quadrature of the integrand of (1)."""
    def integrand(x):
        log_sum = np.logaddexp(p_data.logpdf(x), p_g.logpdf(x))
        return (p_data.pdf(x) * (p_data.logpdf(x) - log_sum)
                + p_g.pdf(x) * (p_g.logpdf(x) - log_sum))
    lo, hi, centres = span(p_g)
    return integrate.quad(integrand, lo, hi, points=centres, limit=200)[0]


def jsd(p_g):
    lo, hi, _ = span(p_g)
    grid = np.linspace(lo, hi, 200_001)
    return jensenshannon(p_data.pdf(grid), p_g.pdf(grid)) ** 2  # natural log: nats


print(" p_g             C(G)       -log 4 + 2 JSD   JSD / log 2")
for mu, sd in [(0.0, 1.0), (1.5, 0.5), (0.0, 2.0), (3.0, 1.0), (8.0, 1.0)]:
    q = stats.norm(mu, sd)
    c, j = c_of_g(q), jsd(q)
    print(f" N({mu:3.1f}, {sd:.1f}^2)   {c:9.6f}   {-math.log(4) + 2 * j:9.6f}        "
          f"{j / math.log(2):.4f}")
    assert abs(c - (-math.log(4) + 2 * j)) < 1e-6
    assert -math.log(4) - 1e-9 <= c <= 0  # a theorem (0 <= JSD <= log 2); catches bugs
assert abs(c_of_g(p_data) + math.log(4)) < 1e-9  # p_g = p_data: the minimum, -log 4

# %% [markdown]
# The identity holds to quadrature accuracy. $C(G)$ is $-\log 4$ when $p_g = p_{\text{data}}$ and approaches
# 0, its largest possible value, when the distributions are far apart.
#
# The discriminator we trained above gives a practical reading of this result. For any $D$,
# $V(D, G) \le C(G)$. So $-$`gan_d_loss` on a large batch estimates a *lower bound* on
# $-\log 4 + 2\,\mathrm{JSD}$, which becomes tight as $D$ approaches $D^*$: a trained discriminator is a
# JSD estimator. In a GAN's training log, a discriminator loss (this course's sum over the two batches) near
# $\log 4 \approx 1.386$ means $D$ cannot separate the two distributions; for the mean BCE of one balanced
# batch that level is $\log 2 \approx 0.693$. Below we integrate $V$ for the trained network on a fine grid, which checks
# the inequality without sampling noise.

# %%
grid = np.linspace(-10, 10, 20_001)  # V(trained D, G) by integration: no Monte Carlo noise
with torch.no_grad():
    logit = D(torch.from_numpy(grid).float()[:, None]).double().numpy()  # (20001,)
v_trained = np.trapezoid(p_data.pdf(grid) * log_sigmoid(logit)
                         + p_g.pdf(grid) * log_sigmoid(-logit), grid)
c_true = c_of_g(p_g)
print(f"V(trained D, G) = {v_trained:.5f}  <=  C(G) = V(D*, G) = {c_true:.5f}")
print(f"JSD estimated by the trained D: {(v_trained + math.log(4)) / 2:.4f}   "
      f"true JSD: {jsd(p_g):.4f}")
assert v_trained <= c_true + 1e-6  # no D beats D*: a theorem, catches bugs
assert c_true - v_trained < 0.01   # and the trained one comes close

# %% [markdown]
# ### $C(G)$ as the generator moves
#
# Now move the generator: $p_g = \mathcal N(\mu_g, \sigma_g^2)$ against $p_{\text{data}} = \mathcal N(0, 1)$.
# For a smooth curve over many $\mu_g$, a trapezoid rule on a fixed grid is fast enough (a folded cell
# checks it against the quadrature above).

# %%
x_grid = np.linspace(-20, 20, 8001)


def c_curve(mus, sd):
    """C(G) for p_g = N(mu, sd^2), one value per mu, by the trapezoid rule on x_grid."""
    log_a = p_data.logpdf(x_grid)                              # (X,)
    log_b = stats.norm.logpdf(x_grid, np.asarray(mus)[:, None], sd)  # (M, X)
    log_sum = np.logaddexp(log_a, log_b)
    integrand = np.exp(log_a) * (log_a - log_sum) + np.exp(log_b) * (log_b - log_sum)
    return np.trapezoid(integrand, x_grid, axis=1)              # (M,)


mus = np.linspace(-6, 6, 241)
curves = {sd: c_curve(mus, sd) for sd in (1.0, 0.5)}

# %% tags=["hide-cell"]
# the trapezoid rule on x_grid agrees with the adaptive quadrature c_of_g to 1e-6
for mu in (0.0, 1.5, 4.0):
    assert abs(c_curve([mu], 0.5)[0] - c_of_g(stats.norm(mu, 0.5))) < 1e-6

# %%
best = mus[np.argmin(curves[1.0])]
slope = np.abs(np.gradient(curves[1.0], mus))
print(f"sigma_g = 1  : minimum {curves[1.0].min():.6f} at mu_g = {best:.2f}  "
      f"(-log 4 = {-math.log(4):.6f})")
print(f"sigma_g = 0.5: minimum {curves[0.5].min():.6f}, never reaches -log 4")
print(f"|dC/dmu_g|: largest {slope.max():.3f}, at mu_g = 6 only {slope[-1]:.4f}")

# %% tags=["hide-input"]
assert abs(best) < 1e-9 and abs(curves[1.0].min() + math.log(4)) < 1e-9
assert curves[0.5].min() > -math.log(4) + 0.05
assert slope[-1] < 0.05 * slope.max()  # "under 5% of the largest slope", as the text says
glue("e21_slope_ratio", float(100 * slope[-1] / slope.max()), display=False)

# %%
fig, ax = plt.subplots(figsize=(7, 3.6))
for sd, c in curves.items():
    ax.plot(mus, c, label=rf"$p_g = \mathcal{{N}}(\mu_g, {sd}^2)$")
ax.axhline(-math.log(4), ls="--", color="0.4")
ax.axhline(0, ls=":", color="0.4")
ax.text(-6, -math.log(4) + 0.04, r"$-\log 4$: only when $p_g = p_{\mathrm{data}}$", fontsize=8)
ax.text(-6, -0.1, r"$0$: disjoint supports (JSD = $\log 2$)", fontsize=8)
ax.set_xlabel(r"mean of the generator, $\mu_g$")
ax.set_ylabel(r"$C(G) = \max_D V(D, G)$")
ax.set_title(r"$C(G)$ against $p_{\mathrm{data}} = \mathcal{N}(0, 1)$")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# Three observations, each of which comes back later in the course:
#
# * **The minimum is unique.** Only $\mu_g = 0$ with $\sigma_g = 1$ reaches $-\log 4$. A generator with the
#   right mean but the wrong spread ($\sigma_g = 0.5$) stays strictly above it. The criterion sees the whole
#   distribution, not just its mean.
# * **$C$ is flat far away.** Once the two distributions barely overlap, the JSD is stuck near $\log 2$ and
#   $C(G)$ near 0, whatever the distance. Its slope at $\mu_g = 6$ is
#   {glue:text}`e21_slope_ratio:.1f`% of the largest slope (under 5%), and it keeps shrinking like a
#   Gaussian tail. A generator far from the data gets almost no signal about which
#   way to move. This is the seed of the vanishing-gradient problem (2.2) and the reason for replacing the
#   JSD by the Wasserstein distance (2.4) {cite}`arjovsky2017wgan`. (The non-saturating generator loss of
#   2.2 follows a different criterion, derived there.)
# * **$C$ is convex in $p_g$,** because the JSD is. This gives Proposition 2 of {cite}`goodfellow2014gan`: if
#   $D$ reaches $D^*_G$ after every change of $G$, and $p_g$ itself is updated to lower $C(G)$, then $p_g$
#   converges to $p_{\text{data}}$. Real training breaks each assumption: $D$ takes a few gradient steps and
#   does not reach $D^*$; the update is on the generator's *parameters*, where the problem is not convex; and
#   we only have samples. The theorem describes the target of the game. It does not guarantee that gradient
#   descent on two networks gets there. Sections 2.2 and 2.3 look at what actually happens.
#
# Other value functions lead to other divergences. The f-GAN family {cite}`nowozin2016fgan` obtains any
# $f$-divergence this way, and the JSD is the one that comes from the original $V$.
#
# ## Exercises
#
# Each exercise has a checker: run the cell to see whether your answer is right. It reports which common
# mistake your answer matches, if any. `ch2.q21a.hint()` gives a hint, and the solution is in the collapsed
# block below each exercise. The three warm-ups rehearse the page's formulas; the exercises after them ask
# for what the page does not show.
#
# ### 2.1a Warm-up: estimating $V$
#
# Write `value_fn(d_real, d_fake)`. Its inputs are the *probabilities*
# $D(x_i)$ on a batch of real samples and $D(G(z_j))$ on a batch of generated ones (1-D tensors, possibly of
# different sizes). It returns the Monte Carlo estimate of $V(D, G)$ as a scalar tensor.

# %%
def value_fn(d_real, d_fake):
    ...  # your code


ch2.q21a.check(value_fn);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def value_fn(d_real, d_fake):
#     return torch.log(d_real).mean() + torch.log1p(-d_fake).mean()
# ```
# Each expectation is averaged over its own batch. `torch.log1p(-d)` computes $\log(1 - d)$ accurately
# when $d$ is small. With logits, use the stable forms from 2.2, as `losses.gan_d_loss` does (it returns
# $-V$).
# :::

# %% tags=["hide-cell"]
# The reference solution, under its own name: `value_fn` above stays the learner's.
def value_fn_solution(d_real, d_fake):
    return torch.log(d_real).mean() + torch.log1p(-d_fake).mean()


assert ch2.q21a.check(value_fn_solution, quiet=True)
# it is -gan_d_loss on the same discriminator, written with probabilities
torch.testing.assert_close(
    value_fn_solution(torch.sigmoid(torch.from_numpy(fixed_logit(x_real))),
                      torch.sigmoid(torch.from_numpy(fixed_logit(x_fake)))), -d_loss)

# %% [markdown]
# ### 2.1b Warm-up: the optimal discriminator
#
# Write `optimal_d(p_data, p_g)`. It takes the two densities
# evaluated at the same points (tensors of equal shape) and returns $D^*$ at those points.

# %%
def optimal_d(p_data, p_g):
    ...  # your code


ch2.q21b.check(optimal_d);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def optimal_d(p_data, p_g):
#     return p_data / (p_data + p_g)
# ```
# $D$ outputs the probability that $x$ is **real**, so the data density goes in the numerator. The swapped
# version $p_g/(p_{\text{data}} + p_g) = 1 - D^*$ is the probability that $x$ is fake.
# :::

# %% tags=["hide-cell"]
def optimal_d_solution(p_data, p_g):
    return p_data / (p_data + p_g)


assert ch2.q21b.check(optimal_d_solution, quiet=True)
# the same D* as the brute-force maximisation above
np.testing.assert_allclose(optimal_d_solution(p_data.pdf(xs), p_g.pdf(xs)), d_star, rtol=1e-12)

# %% [markdown]
# ### 2.1c Warm-up: disjoint supports
#
# Suppose $p_{\text{data}}$ and $p_g$ never put mass in the same place,
# for example, real images all have a white border and generated ones never do. What is
# $C(G) = \max_D V(D, G)$? Give a number. Then think about what happens to the generator's gradient in this
# situation.

# %%
answer = ...  # your number

ch2.q21c.check(answer);

# %% [markdown]
# :::{dropdown} Solution
# On the support of $p_{\text{data}}$, $p_g = 0$, so $D^* = 1$ and $\log D^* = 0$. On the support of $p_g$,
# $D^* = 0$ and $\log(1 - D^*) = 0$. So $C(G) = 0 = -\log 4 + 2 \log 2$, the largest value $C$ can take. Any
# small change of $G$ that keeps the supports disjoint leaves $C(G) = 0$: the optimal discriminator gives the
# generator no gradient at all. This is the flat part of the curve above, taken to the limit.
# :::

# %% tags=["hide-cell"]
answer_solution = 0.0
assert ch2.q21c.check(answer_solution, quiet=True)
# C(G) by quadrature for two Gaussians 12 standard deviations apart: almost disjoint
assert abs(c_of_g(stats.norm(12.0, 1.0)) - answer_solution) < 1e-6

# %% [markdown]
# ### 2.1d Apply: the optimal discriminator of an unbalanced batch
#
# The derivation above assumed equal halves of real and generated samples. Suppose instead that a share
# $\pi$ of each batch is real, so that the discriminator's mean binary cross-entropy over the mixed batch is
# $-V_\pi$ with
#
# $$
# V_\pi(D, G) = \pi\,\mathbb E_{x \sim p_{\text{data}}}\big[\log D(x)\big]
#             + (1 - \pi)\,\mathbb E_{x \sim p_g}\big[\log\big(1 - D(x)\big)\big].
# $$
#
# Write `optimal_d_weighted(p_data, p_g, pi)`: the $D$ that maximises $V_\pi$, from the two densities at the
# same points (tensors) and $\pi$ (a number). Then ask yourself: what does it equal at the equilibrium
# $p_g = p_{\text{data}}$?

# %%
def optimal_d_weighted(p_data, p_g, pi):
    ...  # your code


ch2.q21d.check(optimal_d_weighted);

# %% [markdown]
# :::{dropdown} Solution
# Point by point, maximise $f(y) = \pi a \log y + (1 - \pi) b \log(1 - y)$ with $a = p_{\text{data}}(x)$,
# $b = p_g(x)$: $f'(y) = \pi a / y - (1 - \pi) b / (1 - y) = 0$ at $y = \pi a / (\pi a + (1 - \pi) b)$.
# ```python
# def optimal_d_weighted(p_data, p_g, pi):
#     return pi * p_data / (pi * p_data + (1 - pi) * p_g)
# ```
# This is the Bayes posterior $P(\text{real} \mid x)$ with prior $\pi$. Its logit is the log density ratio
# plus the constant $\log\frac{\pi}{1 - \pi}$, so a discriminator trained on unbalanced batches still
# estimates the density ratio, shifted. At the equilibrium it answers $\pi$, not $\tfrac12$: a discriminator
# output of $\tfrac12$ means "cannot tell" only for balanced batches.
# :::

# %% tags=["hide-cell"]
def optimal_d_weighted_solution(p_data, p_g, pi):
    return pi * p_data / (pi * p_data + (1 - pi) * p_g)


assert ch2.q21d.check(optimal_d_weighted_solution, quiet=True)
# pi = 1/2 gives the balanced D* of the page; at p_g = p_data it answers pi everywhere
np.testing.assert_allclose(optimal_d_weighted_solution(p_data.pdf(xs), p_g.pdf(xs), 0.5), d_star,
                           rtol=1e-12)
np.testing.assert_allclose(optimal_d_weighted_solution(p_data.pdf(xs), p_data.pdf(xs), 0.3), 0.3)

# %% [markdown]
# ### 2.1e Predict: half of the generator off the data
#
# $p_{\text{data}} = \mathcal N(0, 1)$. The generator puts half of its mass exactly on the data and the
# other half far away: $p_g = \tfrac12 \mathcal N(0, 1) + \tfrac12 \mathcal N(20, 1)$. Before computing
# anything, write down $\mathrm{JSD}(p_{\text{data}} \,\|\, p_g)$ in nats. (Recall the two extremes: 0 for
# equal distributions, $\log 2$ for disjoint ones.) The checker computes it by quadrature and shows both.

# %%
answer = ...  # your prediction, in nats

ch2.q21e.check(answer);

# %% [markdown]
# :::{dropdown} Solution
# Near 0, $p_g = \tfrac12 p_{\text{data}}$, so the mixture is $m = \tfrac34 p_{\text{data}}$ there and
# $D^* = \tfrac23$, not $\tfrac12$. Near 20, $p_{\text{data}} \approx 0$ and $m = \tfrac12 p_g$. So
# $\mathrm{KL}(p_{\text{data}} \,\|\, m) = \log\tfrac43$ and
# $\mathrm{KL}(p_g \,\|\, m) = \tfrac12\log\tfrac23 + \tfrac12\log 2 = \tfrac12\log\tfrac43$:
# ```python
# answer = 0.75 * math.log(4 / 3)   # ½ log(4/3) + ¼ (log(2/3) + log 2), about 0.216 nats
# ```
# That is well under half of $\log 2$: the JSD is not linear in the share of mass that is off the data, and
# the half that sits on the data is not "solved" either, since its density is only half the data's.
# :::

# %% tags=["hide-cell"]
answer_solution = 0.75 * math.log(4 / 3)
assert ch2.q21e.check(answer_solution, quiet=True)

# %% [markdown]
# ## Summary
#
# * $V(D, G) = \mathbb E_{p_{\text{data}}}[\log D] + \mathbb E_{p_z}[\log(1 - D(G(z)))]$. $D$ maximises it,
#   $G$ minimises it, and $-V$ is the discriminator's binary cross-entropy (`losses.gan_d_loss`).
# * For a fixed $G$, the best discriminator is $D^* = p_{\text{data}} / (p_{\text{data}} + p_g)$. Its logit
#   is the log density ratio. A trained network recovers it where there are samples.
# * $C(G) = \max_D V = -\log 4 + 2\,\mathrm{JSD}(p_{\text{data}} \,\|\, p_g) \ge -\log 4$, with equality
#   exactly at $p_g = p_{\text{data}}$, where $D^* \equiv \tfrac12$.
# * The theory works with functions and exact expectations. Training works with parameters, a few gradient
#   steps and samples. The next section turns the game into an algorithm and looks at its gradients.
