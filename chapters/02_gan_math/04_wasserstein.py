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
# # 2.4 Wasserstein GANs

# %% tags=["remove-input"]
from aigc_course.plotting import page_info

page_info("04_wasserstein")

# %% [markdown]
# Section 2.1 showed that, against an optimal discriminator, the original GAN minimises the Jensen–Shannon
# divergence (JSD). This section replaces the JSD by the **earth mover's distance** (推土机距离), also
# called the Wasserstein-1 distance $W_1$ {cite}`villani2009optimal`, following the Wasserstein GAN
# {cite}`arjovsky2017wgan`. We
#
# 1. see why the JSD gives no useful signal when the two distributions do not overlap, and $W_1$ does;
# 2. compute $W_1$ in one dimension by sorting, checked against SciPy;
# 3. estimate $W_1$ through its dual with a trained 1-Lipschitz critic, and compare three ways to make a
#    network Lipschitz: weight clipping {cite}`arjovsky2017wgan`, the gradient penalty
#    {cite}`gulrajani2017wgangp` and spectral normalisation {cite}`miyato2018spectral`;
# 4. train GANs on the 8 Gaussians of 2.3 with four losses, two of them also with spectral normalisation,
#    and measure mode coverage over several seeds.

# %%
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Markdown, display
from scipy import integrate, stats
from scipy.optimize import linprog
from scipy.stats import wasserstein_distance
from torch import nn

import aigc_course as ac
from aigc_course import data, gan, losses, metrics, train
from aigc_course.config import GANConfig, TrainConfig
from aigc_course.exercises import ch2_dynamics
from aigc_course.plotting import glue

gen = ac.set_seed(0)
ac.runtime.set_threads(1)  # tiny networks train on the CPU; one thread avoids hand-off costs
QUICK = ac.profile() == "quick"
print(ac.describe(torch.device("cpu")))

# %% [markdown]
# ## When the JSD is stuck
#
# Take two point masses, $P = \delta_0$ and $Q_\theta = \delta_\theta$. For every $\theta \ne 0$ their
# supports are disjoint, so $\mathrm{JSD}(P\,\|\,Q_\theta) = \log 2$, the same constant whether $\theta$ is
# 0.01 or 100: its gradient with respect to $\theta$ is zero and tells a generator nothing about which
# way to move. Arjovsky and Bottou {cite}`arjovsky2017towards` showed that this is the normal situation
# for distributions on low-dimensional manifolds, and that a near-optimal discriminator then gives the
# generator vanishing or unstable gradients; the Wasserstein GAN {cite}`arjovsky2017wgan` was their answer. The earth mover's distance is the cost of moving the mass of one
# distribution onto the other,
#
# $$W_1(P, Q) = \inf_{\gamma \in \Pi(P, Q)} \mathbb E_{(x, y)\sim\gamma}\,\lvert x - y\rvert,$$
#
# where $\Pi(P, Q)$ are the joint distributions, the **transport plans** (传输方案), with marginals $P$ and
# $Q$: $\gamma(x, y)$ says how much mass goes from $x$ to $y$. Here the
# only plan moves the unit mass from 0 to $\theta$: $W_1 = \lvert\theta\rvert$, which shrinks smoothly
# as $Q_\theta$ approaches $P$. Real data and early generator samples live on thin sets in a huge space,
# so "disjoint supports" is the normal case, not a curiosity.

# %%
def jsd(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Jensen–Shannon divergence (nats) of two probability vectors on the same points."""
    m = (p + q) / 2

    def kl(a, b):
        keep = a > 0
        return (a[keep] * (a[keep] / b[keep]).log()).sum()

    return 0.5 * kl(p, m) + 0.5 * kl(q, m)


thetas = np.linspace(-2, 2, 81)
js, w1 = [], []
for theta in thetas:
    # P on the first point, Q on the second
    points = torch.tensor([0.0, theta], dtype=torch.float64)
    p, q = (torch.tensor([1.0, 0.0], dtype=torch.float64),
            torch.tensor([0.0, 1.0], dtype=torch.float64))
    if theta == 0:
        p = q = torch.tensor([0.5, 0.5], dtype=torch.float64)  # the same point: P = Q
    js.append(jsd(p, q).item())
    w1.append(wasserstein_distance([0.0], [theta]))

plt.figure(figsize=(5, 3))
plt.plot(thetas, js, ".", label=r"JSD$(P\,\|\,Q_\theta)$ (0 only at $\theta = 0$)")
plt.plot(thetas, w1, label=r"$W_1(P, Q_\theta)$")
plt.xlabel(r"$\theta$")
plt.legend()
plt.show()

# %% tags=["hide-input"]
js, w1 = np.array(js), np.array(w1)
assert np.allclose(js[thetas != 0], math.log(2)) and abs(js[thetas == 0][0]) < 1e-12
assert np.allclose(w1, np.abs(thetas))

# %% [markdown]
# ## $W_1$ in one dimension: sort and pair
#
# On the real line the cheapest plan never crosses: the smallest $x$ goes to the smallest $y$, the second
# smallest to the second smallest, and so on (if two arrows crossed, swapping their targets would not cost
# more). For two samples of equal size $n$, each point carrying mass $1/n$,
#
# $$W_1 = \frac1n \sum_{i=1}^n \big\lvert x_{(i)} - y_{(i)} \big\rvert,$$
#
# with $x_{(i)}$ the $i$-th smallest value. Equivalently $W_1 = \int \lvert F_P(t) - F_Q(t)\rvert\,dt$,
# the area between the two CDFs, which is what `scipy.stats.wasserstein_distance` computes. Our two
# samples, used for the rest of the section: $x \sim \mathcal N(0, 1)$ ("real") and
# $y \sim \mathcal N(2, 0.5^2)$ ("fake").

# %%
n = 2000
x_real = torch.randn(n, 1, generator=gen)               # (n, 1)
y_fake = 2 + 0.5 * torch.randn(n, 1, generator=gen)     # (n, 1)
w1_sorted = (x_real.flatten().sort().values - y_fake.flatten().sort().values).abs().mean().item()
w1_scipy = wasserstein_distance(x_real.flatten().numpy(), y_fake.flatten().numpy())
w1_unsorted = (x_real - y_fake).abs().mean().item()     # a valid plan, but not the cheapest
print(f"W1 by sorting: {w1_sorted:.5f}   scipy: {w1_scipy:.5f}   "
      f"unsorted pairing: {w1_unsorted:.5f}")

# %% tags=["hide-input"]
assert abs(w1_sorted - w1_scipy) < 1e-5
assert w1_unsorted > w1_sorted   # any other pairing is a worse transport plan

# %% [markdown]
# For these two Gaussians the population value is known too. The monotone map that pushes
# $\mathcal N(0, 1)$ onto $\mathcal N(2, 0.5^2)$ is $T(x) = 2 + x/2$ (it matches the quantiles), so
# $W_1 = \mathbb E\lvert T(Z) - Z\rvert = \mathbb E\lvert 2 - Z/2\rvert$ with $Z\sim\mathcal N(0,1)$.
# $T(x) - x = 2 - x/2$ is positive for $x < 4$ and negative beyond: $T$ moves almost all the mass to the
# right, and the far tail $x > 4$ (probability $P(Z > 4)$) to the left. Without that tail the answer would
# be exactly the shift of the means, 2; quadrature gives the exact value.

# %%
w1_population = integrate.quad(lambda z: abs(2 - z / 2) * stats.norm.pdf(z), -40, 40, points=[4],
                               epsabs=1e-13, epsrel=1e-12, limit=200)[0]
cdf_area = integrate.quad(lambda t: abs(stats.norm.cdf(t, 2, 0.5) - stats.norm.cdf(t)), -40, 40,
                          points=[4], epsabs=1e-13, epsrel=1e-12, limit=200)[0]
tail = stats.norm.sf(4)  # P(Z > 4): the mass that T moves to the left
print(f"W1 = E|2 - Z/2| = {w1_population:.7f}; area between the CDFs {cdf_area:.7f}; "
      f"P(Z > 4) = {tail:.1e}; sample value {w1_sorted:.4f}")

# %% tags=["hide-input"]
assert abs(w1_population - cdf_area) < 1e-9          # the two formulas for W1 agree
assert 2 < w1_population < 2 + 1e-5                   # 2.0000 to four decimals, not 2.0001
x_grid = np.linspace(-6, 6, 1201)
moves_left = x_grid[(2 + x_grid / 2) < x_grid]        # where T(x) < x
assert moves_left.min() > 4 and abs(moves_left.min() - 4) < 0.011
assert abs(w1_sorted - w1_population) < 4 * 1.0 / math.sqrt(n)  # sampling noise, O(1/sqrt(n))
glue("e24_w1_pop", float(w1_population), display=False)
glue("e24_tail", float(tail), display=False)
glue("e24_w1_sample", float(w1_sorted), display=False)

# %% [markdown]
# To seven decimals, $W_1 =$ {glue:text}`e24_w1_pop:.7f`: it is $2.0000$ to four decimals. The tail
# beyond $x = 4$ holds only {glue:text}`e24_tail:.1e` of the mass. The sample value
# {glue:text}`e24_w1_sample:.4f` differs from it by sampling noise.

# %% [markdown]
# ## The dual: a 1-Lipschitz critic
#
# Sorting works only in one dimension. In higher dimensions WGAN uses the Kantorovich–Rubinstein
# **duality** (对偶) {cite}`villani2009optimal`: the minimum over transport plans equals a maximum over
# functions,
#
# $$W_1(P, Q) = \sup_{\lVert f\rVert_L \le 1}\; \mathbb E_{x\sim P}[f(x)] - \mathbb E_{y\sim Q}[f(y)],$$
#
# the supremum over all **1-Lipschitz** (1-利普希茨) functions, those with
# $\lvert f(a) - f(b)\rvert \le \lvert a - b\rvert$. A network $f$, the **critic** (评论家; it outputs a
# score, not a probability), is trained to maximise the difference, that is to minimise
# `losses.wgan_critic_loss(f(real), f(fake))`, the mean score of the fakes minus the mean score of the
# real samples. After training, $\overline{f(x)} - \overline{f(y)}$ over the two samples is the estimate
# of $W_1$. The hard part is the constraint. Three ways to impose it:
#
# * **weight clipping** (权重裁剪) {cite}`arjovsky2017wgan`: after every step clamp each weight to $[-c, c]$
#   ($c = 0.01$). This bounds the Lipschitz constant by *some* $K$, far from 1, and unknown.
# * **gradient penalty** (梯度惩罚, WGAN-GP) {cite}`gulrajani2017wgangp`: a differentiable 1-Lipschitz $f$
#   has $\lVert\nabla f\rVert \le 1$. Gulrajani et al. prove (their Proposition 1) that the optimal critic
#   has $\lVert\nabla f^*\rVert = 1$ on the segments between the pairs $(x, y)$ of an *optimal* transport
#   plan. That plan is unknown, so WGAN-GP uses a heuristic: it pairs real and fake samples at random,
#   independently, and adds $\lambda\,\mathbb E_{\hat x}(\lVert \nabla_x f(\hat x)\rVert_2 - 1)^2$ at
#   the interpolates $\hat x = \epsilon x + (1-\epsilon) y$, $\epsilon \sim U(0, 1)$
#   (`losses.gradient_penalty`, $\lambda = 10$). It is a soft, two-sided constraint, not a guarantee.
# * **spectral normalisation** (谱归一化) {cite}`miyato2018spectral`: divide every weight matrix by its largest
#   singular value $\sigma(W)$, so each layer is 1-Lipschitz; with 1-Lipschitz activations (LeakyReLU) so
#   is the network (`GANConfig(spectral_norm=True)`). $\sigma(W)$ is not computed exactly: a power
#   iteration estimates it, one step per training step, so the bound holds up to that estimate's error
#   (measured in an aside below).
#
# The package's MLP critic (two hidden layers of 64 units) is trained on our two samples with each method,
# 300 Adam steps on batches of 512; the loop is the inner loop of WGAN.

# %%
LAMBDA, CLIP = 10.0, 0.01


def train_critic(method: str, steps: int = 300, seed: int = 0) -> nn.Module:
    """Train an MLP critic on x_real vs y_fake with one Lipschitz method: "clip", "gp" or "sn"."""
    ac.set_seed(seed)  # the critic's initial weights
    f = gan.build_discriminator(GANConfig(kind="mlp", data_dim=1, hidden=64, depth=2, critic=True,
                                          spectral_norm=method == "sn"))
    opt = torch.optim.Adam(f.parameters(), lr=1e-3, betas=(0.5, 0.9))
    batches = torch.Generator().manual_seed(1)
    for _ in range(steps):
        i, j = (torch.randint(n, (512,), generator=batches),
                torch.randint(n, (512,), generator=batches))
        loss = losses.wgan_critic_loss(f(x_real[i]), f(y_fake[j]))
        if method == "gp":
            loss = loss + LAMBDA * losses.gradient_penalty(f, x_real[i], y_fake[j],
                                                           generator=batches)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if method == "clip":
            with torch.no_grad():
                for p in f.parameters():
                    p.clamp_(-CLIP, CLIP)
    return f.eval()


t0 = time.perf_counter()
critics = {method: train_critic(method) for method in ("clip", "gp", "sn")}
print(f"three critics trained in {time.perf_counter() - t0:.1f} s")
with torch.no_grad():
    estimate = {m: (f(x_real).mean() - f(y_fake).mean()).item() for m, f in critics.items()}
for m, est in estimate.items():
    print(f"{m:4s}: E f(x) - E f(y) = {est:8.4f}   ratio to W1 = {est / w1_sorted:.3f}")

# %%
t = torch.linspace(-3, 4, 200)[:, None]
fig, axes = plt.subplots(1, 2, figsize=(10, 3.3))
axes[0].hist(x_real.flatten().numpy(), bins=60, density=True, alpha=0.4, label="x (real)")
axes[0].hist(y_fake.flatten().numpy(), bins=60, density=True, alpha=0.4, label="y (fake)")
ax2 = axes[0].twinx()
with torch.no_grad():
    for m, f in critics.items():
        values = f(t)
        ax2.plot(t.flatten(), (values - values.mean()) / (values.std() if m == "clip" else 1),
                 label=f"critic: {m}" + (" (rescaled)" if m == "clip" else ""))
ax2.set_ylabel("f(t), centred")
axes[0].legend(loc="upper left", fontsize=8)
ax2.legend(loc="upper right", fontsize=8)
axes[0].set_title("trained critics: slope ≈ −1 between the samples")
weights = torch.cat([p.detach().flatten() for name, p in critics["clip"].named_parameters()
                     if "weight" in name])
axes[1].hist(weights.numpy(), bins=41)
axes[1].set_xticks([-CLIP, 0, CLIP])
axes[1].set_title(f"weight clipping: the weights pile up at ±c = ±{CLIP}")
plt.tight_layout()
plt.show()

# %% [markdown]
# What the three critics measured:
#
# * **Gradient penalty**: close to $W_1$, and above it. The penalty is two-sided, so it lets the critic's
#   slope exceed 1 where few interpolates fall, and the estimate comes out too large by an amount that
#   can be predicted (the derivation is in the dropdown after this list).
# * **Spectral normalisation**: every layer is 1-Lipschitz up to the power iteration's error, so the
#   critic's Lipschitz constant is at most the product $K$ of its layers' true spectral norms, and by
#   the duality its estimate can never exceed $K$ times the empirical $W_1$.
# * **Weight clipping**: all weights sit near $\pm c$, the network is Lipschitz with a tiny unknown constant
#   $K$, and the estimate is about $K\,W_1$, orders of magnitude too small. WGAN only needs the *direction*
#   of the critic's gradient, so training still works in principle, but the number is not $W_1$, and
#   clipping biases the critic towards overly simple functions {cite}`gulrajani2017wgangp`.
#
# :::{dropdown} The gradient penalty's bias, derived in one dimension
# In one dimension, integrating by parts, the dual objective is
# $\mathbb E_P f - \mathbb E_Q f = \int f'(t)\, h(t)\, dt$ with $h = F_Q - F_P$, and the penalty is
# $\lambda \int (\lvert f'(t)\rvert - 1)^2 \rho(t)\, dt$, where $\rho$ is the density of the
# interpolates. Both depend on $f$ only through its slope, so the best critic can be found slope by
# slope: maximising $f' h - \lambda\rho\,(\lvert f'\rvert - 1)^2$ gives
# $f' = \operatorname{sign}(h)\,\big(1 + \lvert h\rvert / (2\lambda\rho)\big)$. The two-sided penalty lets
# the slope exceed 1, most where the interpolates are rare, and the estimate becomes
# $W_1 + \int h^2 / (2\lambda\rho)\, dt$. Restricted to rescaled copies $a f^*$ of the optimal critic
# (here $\lvert f^{*\prime}\rvert = 1$ wherever $F_P \ne F_Q$), the best is $a = 1 + W_1/(2\lambda)$ and the
# estimate $W_1(1 + W_1/(2\lambda))$, a lower bound on the former by the Cauchy–Schwarz inequality.
# That the optimal critic has unit slope at *every* interpolate is special to one dimension (with
# $F_P \ne F_Q$ almost everywhere); in general it is guaranteed only between optimally coupled pairs.
# :::
#
# The next cell, its code folded, computes these predictions (the interpolates' density $\rho$ for the two
# Gaussians by Gauss–Legendre quadrature over $\epsilon$; $h$ from the two samples' CDFs) and checks
# each critic against them.

# %% tags=["hide-input"]
t_grid = np.linspace(-8, 8, 8001)
e_nodes, e_weights = np.polynomial.legendre.leggauss(200)
e_nodes, e_weights = (e_nodes + 1) / 2, e_weights / 2          # Gauss–Legendre on [0, 1]
# eps x + (1 - eps) y, with x ~ N(0, 1) and y ~ N(2, 0.5^2) independent, is
# N(2 (1 - eps), eps^2 + (1 - eps)^2 / 4); rho averages that density over eps ~ U(0, 1)
e_mean, e_sd = 2 * (1 - e_nodes)[:, None], np.sqrt(e_nodes**2 + 0.25 * (1 - e_nodes) ** 2)[:, None]
rho = (e_weights[:, None] * stats.norm.pdf(t_grid, e_mean, e_sd)).sum(0)  # (8001,)
xs_sorted = np.sort(x_real.flatten().double().numpy())
ys_sorted = np.sort(y_fake.flatten().double().numpy())
h = (np.searchsorted(ys_sorted, t_grid, side="right")
     - np.searchsorted(xs_sorted, t_grid, side="right")) / n    # F_Q - F_P of the samples
w1_from_h = np.trapezoid(np.abs(h), t_grid)
bonus = np.trapezoid(h**2 / (2 * LAMBDA * rho), t_grid)
gp_best, gp_rescaled = w1_from_h + bonus, w1_sorted * (1 + w1_sorted / (2 * LAMBDA))
print(f"W1 from the CDFs {w1_from_h:.4f} (sorting: {w1_sorted:.4f})")
print(f"gradient penalty: trained {estimate['gp']:.4f}; best slope by slope {gp_best:.4f}; "
      f"best rescaled critic W1 (1 + W1 / 2 lambda) = {gp_rescaled:.4f}")
assert abs(np.trapezoid(rho, t_grid) - 1) < 1e-6 and abs(w1_from_h - w1_sorted) < 1e-3
assert gp_rescaled <= gp_best  # Cauchy–Schwarz: a theorem, so not evidence; it catches bugs
assert abs(estimate["gp"] - gp_best) < 0.02 * gp_best        # within 2% of the prediction
assert estimate["gp"] > 1.05 * w1_sorted                     # and clearly above W1 itself

sn_norms = [torch.linalg.matrix_norm(layer.weight.detach(), ord=2).item()
            for layer in critics["sn"].modules() if isinstance(layer, nn.Linear)]
K_sn = math.prod(sn_norms)  # bounds the SN critic's Lipschitz constant (LeakyReLU: 1-Lipschitz)
print(f"spectral norm: estimate {estimate['sn']:.4f} = {estimate['sn'] / w1_sorted:.3f} W1; "
      f"layer norms {np.round(sn_norms, 5)}, so K <= {K_sn:.5f}")
assert estimate["sn"] <= K_sn * w1_sorted  # the duality bound: a theorem; it catches bugs
assert estimate["sn"] >= 0.9 * w1_sorted                     # and a close one: within 10%
assert max(abs(v - 1) for v in sn_norms) < 2e-3              # each layer within 0.2% of 1

with torch.no_grad():
    slopes_clip = (critics["clip"](t[1:]) - critics["clip"](t[:-1])) / (t[1, 0] - t[0, 0])
K_clip = slopes_clip.abs().max().item()  # the steepest slope on [-3, 4]: a lower bound on K
at_bound = (weights.abs() > 0.99 * CLIP).float().mean().item()
print(f"weight clipping: estimate {estimate['clip']:.5f} = {estimate['clip'] / w1_sorted:.4f} W1; "
      f"steepest slope {K_clip:.5f}; {100 * at_bound:.0f}% of the weights at +-c")
assert 0 < estimate["clip"] < 0.01 * w1_sorted               # two orders of magnitude too small
assert estimate["clip"] <= K_clip * w1_sorted * 1.001        # about K W1, never more
assert at_bound > 0.5                                        # most weights at the bound

# %% tags=["hide-input"]
glue("e24_gp", float(estimate["gp"]), display=False)
glue("e24_gp_best", float(gp_best), display=False)
glue("e24_gp_rescaled", float(gp_rescaled), display=False)
glue("e24_sn_ratio", float(estimate["sn"] / w1_sorted), display=False)
glue("e24_clip_ratio", float(estimate["clip"] / w1_sorted), display=False)
glue("e24_at_bound", float(100 * at_bound), display=False)

# %% [markdown]
# The trained penalised critic gives {glue:text}`e24_gp:.3f`, within 2% of the slope-by-slope prediction
# {glue:text}`e24_gp_best:.3f` (the rescaled-critic formula gives {glue:text}`e24_gp_rescaled:.3f`). The
# spectrally normalised critic reaches {glue:text}`e24_sn_ratio:.3f` of $W_1$ after 300 steps, a lower
# bound as promised. The clipped critic, with {glue:text}`e24_at_bound:.0f`% of its weights at $\pm c$,
# measures {glue:text}`e24_clip_ratio:.4f` of $W_1$.
#
# Where does the penalised critic's bias come from? The next figure puts the trained critic's slope
# $f'(t)$ (by autograd) over the predicted best slope $\operatorname{sign}(h)\big(1 + \lvert h\rvert /
# (2\lambda\rho)\big)$, with the interpolates' density $\rho$ underneath.

# %% tags=["hide-input"]
t_dense = torch.from_numpy(t_grid[(t_grid >= -3) & (t_grid <= 4)]).float()[:, None]  # (3501, 1)
in_range = (t_grid >= -3) & (t_grid <= 4)
t_leaf = t_dense.clone().requires_grad_(True)
(slope_gp,) = torch.autograd.grad(critics["gp"](t_leaf).sum(), t_leaf)  # f'(t), one per point
slope_gp = slope_gp.flatten().numpy()
slope_pred = np.sign(h[in_range]) * (1 + np.abs(h[in_range]) / (2 * LAMBDA * rho[in_range]))
rho_in = rho[in_range]
seen = rho_in > 0.01 * rho_in.max()     # where interpolates are not negligibly rare

fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(7, 4.6), sharex=True, height_ratios=[2, 1])
ax1.plot(t_dense.flatten(), slope_gp, label="trained critic (gradient penalty)")
ax1.plot(t_dense.flatten(), np.where(seen, slope_pred, np.nan), "--",
         label=r"prediction $-(1 + |h|/(2\lambda\rho))$")
ax1.axhline(-1, color="0.5", ls=":", label="slope -1 (the exact $W_1$ critic)")
ax1.set(ylim=(-1.5, -0.6), ylabel="slope $f'(t)$",
        title="the slope exceeds 1 most where interpolates are rare")
ax1.legend(fontsize=8)
ax2.plot(t_dense.flatten(), rho_in, color="tab:green")
ax2.set(xlabel="t", ylabel=r"$\rho(t)$")
plt.tight_layout()
plt.show()

# %% tags=["hide-input"]
err_prediction = np.median(np.abs(slope_gp[seen] - slope_pred[seen]))
err_unit = np.median(np.abs(np.abs(slope_gp[seen]) - 1))  # the slope an exact W1 critic would have
print(f"median |f' - prediction| = {err_prediction:.3f}; median ||f'| - 1| = {err_unit:.3f}")
assert np.all(np.abs(slope_gp[seen]) > 1)   # steeper than 1 wherever interpolates are seen
assert err_prediction < 0.05 and err_unit > 3 * err_prediction  # the prediction, not slope 1
glue("e24_slope_err", float(err_prediction), display=False)
glue("e24_slope_unit", float(err_unit), display=False)

# %% [markdown]
# Wherever interpolates are not rare ($\rho$ above 1% of its peak) the trained slope is steeper than 1,
# and it follows the prediction to within {glue:text}`e24_slope_err:.3f` (median), against
# {glue:text}`e24_slope_unit:.3f` from the unit slope of the exact critic. The excess slope, and with it
# the upward bias of the estimate, is largest where $\lvert h\rvert/\rho$ is large: where the two
# samples' CDFs differ most but few interpolates fall, so the penalty holds the slope only weakly (here on
# the real sample's side, away from the fakes, around which the interpolates crowd).
#
# :::{dropdown} A trap in one dimension: the penalty is not convex in the critic
# The slope of a 1-D critic cannot turn round without passing through 0,
# where the penalty is at its local maximum. A critic that starts with the wrong orientation (slope
# $+1$ where it should be $-1$) is held there, at the local optimum
# $f' = -\operatorname{sign}(h)\,\big(1 - \lvert h\rvert/(2\lambda\rho)\big)$, and its estimate is
# $-W_1 + \int h^2/(2\lambda\rho)\,dt$: negative. Which basin the critic falls into depends on its
# initial weights. In more dimensions the gradient can rotate without vanishing, so the trap is a 1-D
# effect, but a useful warning: the penalty is not convex in the critic. The folded cell below trains
# the same critic from another initialisation and finds this mirror-image optimum.
# :::

# %% tags=["hide-cell"]
gp_other_start = train_critic("gp", seed=2)  # another initialisation of the critic's weights
with torch.no_grad():
    estimate_trap = (gp_other_start(x_real).mean() - gp_other_start(y_fake).mean()).item()
gp_trap = -w1_from_h + bonus
print(f"critic from seed 2: E f(x) - E f(y) = {estimate_trap:.4f}; "
      f"predicted local optimum -W1 + bonus = {gp_trap:.4f}")
assert abs(estimate_trap - gp_trap) < 0.02 * abs(gp_trap)    # the mirror-image optimum, within 2%

# %% [markdown]
# :::{dropdown} Aside: how good is one step of the power iteration?
# Spectral normalisation divides by an *estimate* $\hat\sigma = u^\top W v$,
# where $u$ and $v$ are updated by one step of the power iteration per training step ($v \leftarrow
# W^\top u/\lVert W^\top u\rVert$, $u \leftarrow Wv/\lVert Wv\rVert$); PyTorch starts with 15 steps.
# $\hat\sigma \le \sigma(W)$ always, so a poor estimate makes the layer's norm $\sigma/\hat\sigma$
# larger than 1. We measure it on the raw weight of the trained critic's hidden layer, starting from a
# random $u$ (the folded cells below).
#
# One power-iteration step from a random start would leave this layer with norm
# {glue:text}`e24_pi_1:.2f` instead of 1; after 15 steps it is {glue:text}`e24_pi_15:.4f`. Training
# changes $W$ slowly, so one step per training step keeps up: after 300 steps the largest true norm
# of the trained critic's normalised layers is {glue:text}`e24_sn_max:.4f`. The Lipschitz bound of
# spectral normalisation holds up to this error, not exactly.
# :::

# %% tags=["hide-cell"]
hidden = [m for m in critics["sn"].modules() if isinstance(m, nn.Linear)][1]
W = hidden.parametrizations.weight.original.detach()   # (64, 64), before normalisation
sigma = torch.linalg.matrix_norm(W, ord=2).item()
u = torch.randn(W.shape[0], generator=torch.Generator().manual_seed(0))
u = torch.nn.functional.normalize(u, dim=0)  # a random unit vector
estimates = {}
for iteration in range(1, 101):
    v = torch.nn.functional.normalize(W.T @ u, dim=0)
    u = torch.nn.functional.normalize(W @ v, dim=0)
    estimates[iteration] = (u @ W @ v).item()
for k in (1, 2, 5, 15, 100):
    print(f"after {k:3d} iterations: sigma_hat / sigma = {estimates[k] / sigma:.5f}, "
          f"normalised layer's norm = {sigma / estimates[k]:.4f}")
# u^T W v <= sigma for unit u, v: a theorem, not evidence; it catches bugs
assert all(estimates[k] <= sigma * (1 + 1e-6) for k in estimates)
assert estimates[1] < 0.9 * sigma                                    # one step from scratch: poor
assert abs(estimates[100] / sigma - 1) < 1e-4                        # many steps: converged

# %% tags=["hide-input"]
glue("e24_pi_1", float(sigma / estimates[1]), display=False)
glue("e24_pi_15", float(sigma / estimates[15]), display=False)
glue("e24_sn_max", float(max(sn_norms)), display=False)

# %% [markdown]
# ## The gradient penalty on a linear critic
#
# For a linear critic $f(x) = w\cdot x + b$ the gradient is $w$ at every point, so the penalty is exactly
# $(\lVert w\rVert - 1)^2$, whatever the interpolates. The norm is taken **per sample**, over all of a
# sample's dimensions (for images: channels, height and width). Taking one norm of the whole batch's
# gradient instead gives $\lVert(w, w, \dots, w)\rVert = \sqrt B\,\lVert w\rVert$ and penalises a
# perfectly 1-Lipschitz critic; exercise 2.4b asks for the per-sample version.

# %%
for shape in [(32, 2), (8, 1, 4, 4)]:
    torch.manual_seed(1)
    critic = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(shape[1:]), 1), nn.Flatten(0))  # (B,)
    w = critic[1].weight
    real, fake = torch.randn(shape), torch.randn(shape) + 3
    gp = losses.gradient_penalty(critic, real, fake)
    torch.testing.assert_close(gp, (w.norm() - 1) ** 2)
    x_hat = real.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat)
    batch_version = (g.norm() - 1) ** 2
    torch.testing.assert_close(batch_version, (math.sqrt(shape[0]) * w.norm() - 1) ** 2)
    print(f"input {shape}: ||w|| = {w.norm().item():.4f}, GP = {gp.item():.4f}, "
          f"whole-batch norm would give {batch_version.item():.4f}")

with torch.no_grad():  # a unit-norm w: no penalty at all
    w.div_(w.norm())
torch.testing.assert_close(losses.gradient_penalty(critic, real, fake), torch.tensor(0.0),
                           atol=1e-10, rtol=0)

# %% [markdown]
# ## Six discriminators on 8 Gaussians
#
# Back to the 8 Gaussians and the MLP GAN of 2.3 (two hidden layers of 64 units, 2-D noise, Adam with
# learning rate $2\cdot 10^{-3}$ for both players, batches of 256). The loss and the Lipschitz treatment
# change, and so does Adam's $\beta_2$: 0.9 here, as in the WGAN-GP paper, against 0.999 in 2.3. Besides the original loss and the two Wasserstein ones, there is the
# **hinge loss** (合页损失) {cite}`lim2017geometric`, the margin loss of support vector machines applied to
# $D$'s score: $D$ pays for real scores below $+1$ and fake scores above $-1$, and nothing beyond those
# margins. SNGAN combines it with spectral normalisation {cite}`miyato2018spectral`.
#
# | row | discriminator loss | generator loss | $k$ (D steps per G step) |
# |---|---|---|---|
# | bce | $\overline{\operatorname{softplus}(-s_r)} + \overline{\operatorname{softplus}(s_g)}$ | $\overline{\operatorname{softplus}(-s_g)}$ (non-saturating) | 1 |
# | hinge {cite}`lim2017geometric` | $\overline{\max(0, 1 - s_r)} + \overline{\max(0, 1 + s_g)}$ | $-\overline{s_g}$ | 1 |
# | bce + SN, hinge + SN | the same, with spectral normalisation in D {cite}`miyato2018spectral` | | 1 |
# | wgan-clip {cite}`arjovsky2017wgan` | $\overline{s_g} - \overline{s_r}$, weights clipped to $\pm 0.01$ | $-\overline{s_g}$ | 5 |
# | wgan-gp {cite}`gulrajani2017wgangp` | $\overline{s_g} - \overline{s_r} + 10\,\mathrm{GP}$ | $-\overline{s_g}$ | 5 |
#
# ($s_r$, $s_g$: the discriminator's scores on real and generated batches; bars are batch means.) The two Wasserstein rows use
# $k = 5$ critic steps as in their papers, because the dual estimate is only meaningful for a critic
# close to its optimum; the others use Algorithm 1 with $k = 1$. Each row is trained with several seeds
# (here {glue:text}`e24_steps` generator steps and {glue:text}`e24_n_seeds` seeds; the full profile trains
# 2000 steps with 5 seeds);
# the table gives mean ± standard deviation over seeds of the coverage numbers of 2.3 (modes covered
# within $3\sigma$, modes visited, high-quality rate) from 2000 samples of the final generator.

# %%
STEPS = 500 if QUICK else 2000
SEEDS = [0, 1, 2] if QUICK else [0, 1, 2, 3, 4]
MODEL = GANConfig(kind="mlp", z_dim=2, data_dim=2, hidden=64, depth=2)
BASE = TrainConfig(steps=STEPS, batch_size=256, lr=2e-3, lr_d=2e-3, betas=(0.5, 0.9), log_every=50)
ROWS = {  # name: (changes to MODEL, changes to BASE)
    "bce": ({}, {"loss": "bce"}),
    "hinge": ({}, {"loss": "hinge"}),
    "bce + SN": ({"spectral_norm": True}, {"loss": "bce"}),
    "hinge + SN": ({"spectral_norm": True}, {"loss": "hinge"}),
    "wgan-clip, k = 5": ({"critic": True},
                         {"loss": "wgan-clip", "n_critic": 5, "clip_value": CLIP}),
    "wgan-gp, k = 5": ({"critic": True}, {"loss": "wgan-gp", "n_critic": 5, "gp_weight": LAMBDA}),
}
TRAIN_DATA = data.toy2d("8gaussians", 20_000, seed=0)
MODES, STD = data.toy2d_modes("8gaussians"), 0.02


def mode_stats(samples: torch.Tensor) -> dict:
    """Modes covered (within 3 sigma), modes visited (nearest mode only) and the high-quality
    rate, as in 2.3."""
    q = metrics.mode_coverage(samples, MODES, STD)
    visited = metrics.mode_coverage(samples, MODES, math.inf)["modes_covered"]
    return {"covered": q["modes_covered"], "visited": visited, "hq": q["high_quality"]}


def run(row: str, seed: int) -> tuple[dict, nn.Module]:
    model_changes, train_changes = ROWS[row]
    ac.set_seed(seed)
    G, D = gan.build_gan(MODEL.replace(**model_changes))
    train.train_gan(G, D, TRAIN_DATA, BASE.replace(seed=seed, **train_changes), progress=False)
    with torch.no_grad():
        samples = G.sample(2000, generator=torch.Generator().manual_seed(1))
    return mode_stats(samples), samples


t0 = time.perf_counter()
results = {(row, seed): run(row, seed) for row in ROWS for seed in SEEDS}
print(f"{len(ROWS)} losses x {len(SEEDS)} seeds, {STEPS} generator steps each: "
      f"{time.perf_counter() - t0:.1f} s")


def final(row: str, key: str) -> np.ndarray:
    return np.array([results[row, seed][0][key] for seed in SEEDS], dtype=float)


def mean_std(values: np.ndarray, fmt: str = ".1f") -> str:
    return f"{values.mean():{fmt}} ± {values.std(ddof=1):{fmt}}"


table = ["| loss | modes covered (of 8) | modes visited (of 8) | high-quality rate |",
         "|---|---|---|---|"]
table += [f"| {r} | {mean_std(final(r, 'covered'))} | {mean_std(final(r, 'visited'))} | "
          f"{mean_std(100 * final(r, 'hq'), '.0f')} % |" for r in ROWS]
display(Markdown("\n".join(table)))

# %%
fig, axes = plt.subplots(1, len(ROWS), figsize=(2.6 * len(ROWS), 2.8))
for ax, row in zip(axes, ROWS):
    stats, samples = results[row, SEEDS[0]]
    ax.scatter(TRAIN_DATA[:500, 0], TRAIN_DATA[:500, 1], s=2, c="0.3")
    ax.scatter(samples[:1000, 0], samples[:1000, 1], s=1, c="tab:orange")
    ax.set_title(f"{row}\n{stats['covered']}/8 covered, seed {SEEDS[0]}", fontsize=8)
    ax.set(xlim=(-3, 3), ylim=(-3, 3), aspect="equal", xticks=[], yticks=[])
plt.tight_layout()
plt.show()

# %%
CLIP_ROW, GP_ROW = "wgan-clip, k = 5", "wgan-gp, k = 5"
for row in ROWS:
    print(f"{row:17s} high-quality rate per seed {np.round(100 * final(row, 'hq'), 1)} %, "
          f"modes visited {final(row, 'visited').astype(int)}")
# weight clipping ends blurry in every seed: samples near all 8 modes, under 1% within 3 sigma ...
assert final(CLIP_ROW, "visited").min() == 8 and final(CLIP_ROW, "hq").max() < 0.01
# ... and, seed by seed, blurrier than every other row that keeps all eight modes in view
others_hq = []
for i in range(len(SEEDS)):
    others = [r for r in ROWS if r != CLIP_ROW and final(r, "visited")[i] == 8]
    assert others and all(final(CLIP_ROW, "hq")[i] < final(r, "hq")[i] for r in others)
    others_hq += [final(r, "hq")[i] for r in others]
collapsed = [r for r in ROWS if final(r, "visited").mean() <= 4]
blurry = [r for r in ROWS if final(r, "visited").mean() >= 7 and final(r, "hq").mean() < 0.01]
print("collapsing (at most 4 modes visited on average):", collapsed or "none")
print("blurry (all modes visited, under 1% high quality):", blurry or "none")

# %% tags=["hide-input"]
glue("e24_steps", int(STEPS), display=False)
glue("e24_n_seeds", int(len(SEEDS)), display=False)
glue("e24_clip_hq", float(100 * final(CLIP_ROW, "hq").max()), display=False)
glue("e24_others_hq_min", float(100 * min(others_hq)), display=False)
glue("e24_gp_hq", float(100 * final(GP_ROW, "hq").mean()), display=False)
glue("e24_gp_visited", float(final(GP_ROW, "visited").mean()), display=False)
glue("e24_hsn_visited", float(final("hinge + SN", "visited").mean()), display=False)
glue("e24_bsn_visited", float(final("bce + SN", "visited").mean()), display=False)

# %% [markdown]
# **Reading the table.** The check above asserts the claim about weight clipping in every seed; the
# printed lines classify the other rows of this execution.
#
# * **wgan-clip** with $c = 0.01$, under this shared Adam setting, ends *blurry*: in every seed, samples
#   near all eight modes but at most {glue:text}`e24_clip_hq:.1f`% within $3\sigma$, against at least
#   {glue:text}`e24_others_hq_min:.1f`% for every other row that keeps all eight modes in view in the same
#   seed. Its critic is the nearly linear, capacity-starved function seen above, whose gradients carry
#   little detail about where exactly the modes are. The WGAN paper trained the clipped critic otherwise;
#   the next cell tries its setting.
# * No loss is a cure-all. The result depends on the loss *and* on how well the discriminator keeps up
#   with the generator, the lesson of 2.3. A Lipschitz constraint makes the discriminator smoother but
#   also slower to change; with $k = 1$ it can fall into the slow-D regime of 2.3. Here **hinge + SN**
#   visits {glue:text}`e24_hsn_visited:.1f` modes on average at the end, **bce + SN**
#   {glue:text}`e24_bsn_visited:.1f`. This is why the WGAN papers train the critic for several steps per
#   generator step, and why SNGAN tunes its learning rates.
# * **wgan-gp** spends five critic steps per generator step (each with a double backward pass), so at an
#   equal number of generator steps it costs several times more. In these short runs its samples are still
#   spread out ({glue:text}`e24_gp_hq:.1f`% high quality on average), and it visits
#   {glue:text}`e24_gp_visited:.1f` modes on average.
# * Seeds matter: the standard deviations are large, and a comparison of losses with a single seed would
#   be mostly noise {cite}`lucic2018gansequal`.
# * All rows share one optimiser setting and a short budget. Each paper tunes its own (WGAN-GP, for
#   instance, uses a learning rate of $10^{-4}$ and far more steps), so this table compares the losses
#   under equal, modest conditions; it does not rank them in general.
#
# Try it: give the Wasserstein rows $k = 1$, or the SN rows $k = 5$, and compare with the slow-D run of 2.3
# (set `betas=(0.5, 0.999)` in `BASE` first, so that only the loss differs).

# %% [markdown]
# ### Weight clipping in the WGAN paper's setting
#
# One optimiser for every row is fair to the losses, but not to weight clipping. Arjovsky et al.
# {cite}`arjovsky2017wgan` trained the clipped critic and the generator with **RMSProp** at a learning
# rate of $5\cdot10^{-5}$, and report that optimisers with **momentum** (动量), such as Adam, made
# training with weight clipping unstable. RMSProp divides each step by a running root mean
# square of the gradients, like Adam, but keeps no running mean of the gradient itself. The course trainer
# builds Adam only, so here is the paper's Algorithm 1 written out: $k = 5$ critic steps, each followed
# by clipping, then one generator step. Same network, data, batch size, seeds and number of generator
# steps as the table (the paper's batches held 64 samples); only the optimiser and its learning rate
# differ.


# %%
def train_wgan_clip_rmsprop(seed: int, steps: int = STEPS, lr: float = 5e-5, n_critic: int = 5,
                            batch: int = 256) -> tuple[dict, torch.Tensor]:
    """WGAN with weight clipping as in Arjovsky et al. (RMSProp, lr 5e-5, k = 5, c = CLIP)."""
    ac.set_seed(seed)
    G, D = gan.build_gan(MODEL.replace(critic=True))
    opt_g = torch.optim.RMSprop(G.parameters(), lr=lr)   # the WGAN paper's optimiser and rate
    opt_d = torch.optim.RMSprop(D.parameters(), lr=lr)
    batches = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        for _ in range(n_critic):
            real = TRAIN_DATA[torch.randint(len(TRAIN_DATA), (batch,), generator=batches)]
            with torch.no_grad():
                fake = G(G.noise(batch))                                  # (batch, 2)
            d_loss = losses.wgan_critic_loss(D(real), D(fake))            # E f(fake) - E f(real)
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
            with torch.no_grad():
                for p in D.parameters():
                    p.clamp_(-CLIP, CLIP)
        g_loss = losses.wgan_g_loss(D(G(G.noise(batch))))                 # -E f(G(z))
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
    with torch.no_grad():
        samples = G.sample(2000, generator=torch.Generator().manual_seed(1))
    return mode_stats(samples), samples


RMS_ROW = "wgan-clip, RMSProp 5e-5"
t0 = time.perf_counter()
for seed in SEEDS:
    results[RMS_ROW, seed] = train_wgan_clip_rmsprop(seed)
print(f"{len(SEEDS)} seeds, {STEPS} generator steps each: {time.perf_counter() - t0:.1f} s")
display(Markdown("\n".join(table[:2] + [
    f"| {r} | {mean_std(final(r, 'covered'))} | {mean_std(final(r, 'visited'))} | "
    f"{mean_std(100 * final(r, 'hq'), '.0f')} % |" for r in (CLIP_ROW, RMS_ROW)])))

# %% tags=["hide-input"]
for row in (CLIP_ROW, RMS_ROW):
    print(f"{row:24s} high-quality rate per seed {np.round(100 * final(row, 'hq'), 1)} %, "
          f"modes visited {final(row, 'visited').astype(int)}")
# in the paper's optimiser setting too, every seed ends blurry at this budget: all 8 modes visited,
# under 1% of the samples within 3 sigma
assert final(RMS_ROW, "visited").min() == 8 and final(RMS_ROW, "hq").max() < 0.01
glue("e24_rms_hq", float(100 * final(RMS_ROW, "hq").max()), display=False)
glue("e24_rms_visited", float(final(RMS_ROW, "visited").min()), display=False)
glue("e24_lr_ratio", float(BASE.lr / 5e-5), display=False)

# %% [markdown]
# What this measured: with the paper's optimiser and learning rate, and everything else as in the table
# ({glue:text}`e24_steps` generator steps, {glue:text}`e24_n_seeds` seeds), weight clipping also ends
# blurry in every seed: all eight modes visited (at least {glue:text}`e24_rms_visited:.0f` in every seed)
# and at most {glue:text}`e24_rms_hq:.1f`% of the samples within $3\sigma$. So the blur of the first row
# is not caused by Adam's momentum alone. What this does not test is the paper's budget: its learning rate
# is {glue:text}`e24_lr_ratio:.0f` times smaller than the table's, and Arjovsky et al. trained for far more
# generator steps than these. The claim the page supports is therefore "with $c = 0.01$ and a few thousand
# generator steps or fewer, under either optimiser, weight clipping ends blurry on the 8 Gaussians", not
# that it does so at convergence.

# %% [markdown]
# ## Exercises
#
# ### 2.4a Apply: the earth mover's distance as a linear program
#
# Between two finite sets of points the earth mover's distance is a **linear program** (线性规划), and so
# is its dual. Take points $x_1, \dots, x_n$ with masses $a_i$ and $y_1, \dots, y_m$ with masses $b_j$
# (each set of masses sums to 1), in any dimension, and costs $c_{ij} = \lVert x_i - y_j\rVert$:
#
# $$
# \text{primal:}\ \min_{\gamma \ge 0} \sum_{ij} \gamma_{ij} c_{ij}
# \ \ \text{s.t.}\ \sum_j \gamma_{ij} = a_i,\ \sum_i \gamma_{ij} = b_j;
# \qquad
# \text{dual:}\ \max_{f, g} \sum_i a_i f_i - \sum_j b_j g_j
# \ \ \text{s.t.}\ f_i - g_j \le c_{ij}.
# $$
#
# The primal searches over transport plans $\gamma$, the dual over a critic's values $f_i$ on the $x_i$
# and $g_j$ on the $y_j$. Write `w1_primal_dual(x, a, y, b)` (NumPy arrays: `x` of shape (n, d), `a` (n,),
# `y` (m, d), `b` (m,)) that solves both with `scipy.optimize.linprog` and returns the pair
# `(primal value, dual value)`. The checker uses unequal masses in 2-D and 3-D, where sorting cannot help.

# %%
def w1_primal_dual(x, a, y, b):
    ...  # your code


ch2_dynamics.q24a.check(w1_primal_dual);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def w1_primal_dual(x, a, y, b):
#     n, m = len(x), len(y)
#     cost = np.linalg.norm(x[:, None, :] - y[None, :, :], axis=-1)   # (n, m)
#     rows = np.kron(np.eye(n), np.ones((1, m)))                      # sum_j gamma_ij = a_i
#     cols = np.kron(np.ones((1, n)), np.eye(m))                      # sum_i gamma_ij = b_j
#     primal = linprog(cost.ravel(), A_eq=np.vstack([rows, cols]), b_eq=np.concatenate([a, b]),
#                      bounds=(0, None), method="highs")
#     # f_i - g_j <= cost_ij: one row per pair (i, j), +1 at f_i and -1 at g_j
#     pairs = np.hstack([np.kron(np.eye(n), np.ones((m, 1))), -np.kron(np.ones((n, 1)), np.eye(m))])
#     dual = linprog(-np.concatenate([a, -b]), A_ub=pairs, b_ub=cost.ravel(), bounds=(None, None),
#                    method="highs")
#     return primal.fun, -dual.fun
# ```
# `linprog` minimises, so the dual passes the negated objective and returns $-$`res.fun`. The two values
# agree (**strong duality**), which is the Kantorovich–Rubinstein duality above in finite form. The hidden
# cell below checks more: in one dimension with equal masses the primal equals the sorting formula, and
# wherever the optimal plan moves mass ($\gamma_{ij} > 0$) the dual constraint is tight,
# $f_i - g_j = \lVert x_i - y_j\rVert$. The optimal critic rises at exactly unit rate along every arrow of
# the optimal plan: the finite form of the unit-gradient property of Gulrajani et al.'s Proposition 1.
# Squared distances would give $W_2^2$, another distance; the independent plan $\gamma_{ij} = a_i b_j$ is
# feasible but not optimal.
# :::

# %% tags=["hide-cell"]
def w1_primal_dual_solution(x, a, y, b, with_plan=False):
    n, m = len(x), len(y)
    cost = np.linalg.norm(x[:, None, :] - y[None, :, :], axis=-1)   # (n, m)
    rows = np.kron(np.eye(n), np.ones((1, m)))                      # sum_j gamma_ij = a_i
    cols = np.kron(np.ones((1, n)), np.eye(m))                      # sum_i gamma_ij = b_j
    primal = linprog(cost.ravel(), A_eq=np.vstack([rows, cols]), b_eq=np.concatenate([a, b]),
                     bounds=(0, None), method="highs")
    pairs = np.hstack([np.kron(np.eye(n), np.ones((m, 1))), -np.kron(np.ones((n, 1)), np.eye(m))])
    dual = linprog(-np.concatenate([a, -b]), A_ub=pairs, b_ub=cost.ravel(), bounds=(None, None),
                   method="highs")
    if with_plan:
        return primal.fun, -dual.fun, primal.x.reshape(n, m), dual.x[:n], dual.x[n:], cost
    return primal.fun, -dual.fun


assert ch2_dynamics.q24a.check(w1_primal_dual_solution, quiet=True)
# 1-D, 40 + 40 points with equal masses: the LP agrees with the sorting formula of this page
xs_1d, ys_1d = x_real[:40].double().numpy(), y_fake[:40].double().numpy()   # (40, 1) each
w = np.full(40, 1 / 40)
lp_primal, lp_dual, plan, f_lp, g_lp, cost = w1_primal_dual_solution(xs_1d, w, ys_1d, w,
                                                                      with_plan=True)
sorted_w1 = np.abs(np.sort(xs_1d[:, 0]) - np.sort(ys_1d[:, 0])).mean()
print(f"1-D: primal {lp_primal:.6f}, dual {lp_dual:.6f}, sorting {sorted_w1:.6f}")
assert abs(lp_primal - sorted_w1) < 1e-9 and abs(lp_dual - lp_primal) < 1e-9
moved = plan > 1e-12                                  # the arrows of the optimal plan
gap = (f_lp[:, None] - g_lp[None, :] - cost)[moved]   # f_i - g_j - |x_i - y_j| on the arrows
assert np.abs(gap).max() < 1e-9                       # tight: unit rate along every arrow
# 2-D: the 8 Gaussians against a generator that collapsed onto three modes
rng = np.random.default_rng(0)
data_2d = TRAIN_DATA[:60].double().numpy()
collapsed_2d = MODES[[0, 1, 2]].double().numpy()[rng.integers(0, 3, 40)] + 0.02 * rng.normal(
    size=(40, 2))
p2, d2 = w1_primal_dual_solution(data_2d, np.full(60, 1 / 60), collapsed_2d, np.full(40, 1 / 40))
print(f"2-D, data vs a generator on 3 of the 8 modes: primal {p2:.6f}, dual {d2:.6f}")
assert abs(p2 - d2) < 1e-9 and p2 > 0.5

# %% [markdown]
# ### 2.4b Warm-up: the per-sample gradient penalty
#
# Write `gradient_penalty(critic, real, fake, eps)`: `real` and `fake` are batches of shape (B, ...)
# (vectors or images), `eps` has shape (B,). With $\hat x_i = \epsilon_i\,\text{real}_i + (1-\epsilon_i)
# \,\text{fake}_i$, return $\frac1B\sum_i(\lVert\nabla_x f(\hat x_i)\rVert_2 - 1)^2$. The result must stay
# differentiable with respect to the critic's weights (it is added to the critic's loss).

# %%
def gradient_penalty(critic, real, fake, eps):
    ...  # your code


ch2_dynamics.q24b.check(gradient_penalty);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def gradient_penalty(critic, real, fake, eps):
#     e = eps.reshape((-1,) + (1,) * (real.dim() - 1))           # (B, 1, ..., 1)
#     x_hat = (e * real + (1 - e) * fake).detach().requires_grad_(True)
#     (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)  # (B, ...)
#     norms = grad.flatten(1).norm(dim=1)                        # (B,): one norm per sample
#     return ((norms - 1) ** 2).mean()
# ```
# Summing the critic's outputs before `autograd.grad` is safe because each output depends only on its own
# sample, so the gradient of the sum holds every sample's own gradient. `create_graph=True` keeps the
# penalty differentiable; this is `losses.gradient_penalty` with the $\epsilon_i$ passed in.
# :::

# %% tags=["hide-cell"]
def gradient_penalty_solution(critic, real, fake, eps):
    e = eps.reshape((-1,) + (1,) * (real.dim() - 1))
    x_hat = (e * real + (1 - e) * fake).detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


assert ch2_dynamics.q24b.check(gradient_penalty_solution, quiet=True)
eps = torch.rand(64, generator=torch.Generator().manual_seed(7))
torch.testing.assert_close(
    gradient_penalty_solution(critics["gp"], x_real[:64], y_fake[:64], eps),
    losses.gradient_penalty(critics["gp"], x_real[:64], y_fake[:64],
                            generator=torch.Generator().manual_seed(7)))

# %% [markdown]
# ### 2.4c Predict: equal means, different spreads
#
# The page's two Gaussians differ in mean and spread, and $W_1$ came out close to the shift of the means.
# Now take two Gaussians with the **same** mean, $P = \mathcal N(0, 1)$ and $Q = \mathcal N(0, 2^2)$. Predict
# $W_1(P, Q)$ before computing anything; the checker integrates the area between the two CDFs.

# %%
answer = ...  # your prediction

ch2_dynamics.q24c.check(answer);

# %% [markdown]
# :::{dropdown} Solution
# In one dimension the optimal plan pairs quantiles. The map that sends $\mathcal N(0, 1)$ to
# $\mathcal N(0, 2^2)$ quantile by quantile is $T(x) = 2x$, so
# $W_1 = \mathbb E\lvert T(Z) - Z\rvert = \mathbb E\lvert Z\rvert$:
# ```python
# answer = math.sqrt(2 / math.pi)   # E|2Z - Z| = E|Z|, about 0.80
# ```
# Equal means do not make $W_1$ small: widening a distribution moves mass outwards, and $W_1$ charges for
# it. (The difference of the standard deviations, 1, is $W_2$ for 1-D Gaussians; pairing the samples at
# random, as the unsorted pairing above, costs $\sqrt5\,\sqrt{2/\pi} \approx 1.78$.)
# :::

# %% tags=["hide-cell"]
answer_solution = math.sqrt(2 / math.pi)
assert ch2_dynamics.q24c.check(answer_solution, quiet=True)

# %% [markdown]
# ### 2.4d Debug: a weight-clipping step
#
# This critic step of WGAN with weight clipping runs without an error, and its loss even moves, but it has
# two bugs. Repair it: one step should lower $\overline{f(\text{fake})} - \overline{f(\text{real})}$
# (`losses.wgan_critic_loss`) with `opt_f`, clamp every parameter of the **critic** to $[-c, c]$ afterwards,
# leave the generator alone, and return the loss before the step as a float.

# %%
def critic_step(f, G, real, z, opt_f, c):
    fake = G(z).detach()
    loss = f(real).mean() - f(fake).mean()
    opt_f.zero_grad()
    loss.backward()
    opt_f.step()
    with torch.no_grad():
        for p in G.parameters():
            p.clamp_(-c, c)
    return loss.item()


ch2_dynamics.q24d.check(critic_step);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def critic_step(f, G, real, z, opt_f, c):
#     fake = G(z).detach()
#     loss = f(fake).mean() - f(real).mean()      # the critic minimises E f(fake) - E f(real)
#     opt_f.zero_grad()
#     loss.backward()
#     opt_f.step()
#     with torch.no_grad():
#         for p in f.parameters():                # clip the CRITIC, after its step
#             p.clamp_(-c, c)
#     return loss.item()
# ```
# With the sign flipped the critic learns $-f$: the estimate of $W_1$ comes out negative and the
# generator, which maximises $\overline{f(G(z))}$, is pushed away from the data. Clipping is what keeps
# the *critic* Lipschitz; clamping the generator's weights to $\pm c$ only cripples the generator, and the
# critic's Lipschitz constant is then unbounded, so its "estimate" can grow without limit.
# :::

# %% tags=["hide-cell"]
def critic_step_solution(f, G, real, z, opt_f, c):
    fake = G(z).detach()
    loss = losses.wgan_critic_loss(f(real), f(fake))
    opt_f.zero_grad()
    loss.backward()
    opt_f.step()
    with torch.no_grad():
        for p in f.parameters():
            p.clamp_(-c, c)
    return loss.item()


assert ch2_dynamics.q24d.check(critic_step_solution, quiet=True)

# %% [markdown]
# ## Summary
#
# * The JSD is constant ($\log 2$) for distributions with disjoint supports; the earth mover's distance
#   $W_1$ still measures how far apart they are.
# * In one dimension $W_1$ is the mean distance between the sorted samples; between finite point sets it
#   is a linear program over transport plans, whose dual is a maximum over critic values (exercise 2.4a);
#   in general it is the supremum of $\mathbb E_P f - \mathbb E_Q f$ over 1-Lipschitz critics $f$.
# * Weight clipping gives a critic with an unknown, tiny Lipschitz constant. The per-sample gradient
#   penalty gives a close estimate, biased upwards (in 1-D by $\int h^2/(2\lambda\rho)$, at least
#   $W_1^2/(2\lambda)$), and in 1-D it can get stuck with the wrong orientation; its unit-gradient target
#   is exact only between optimally coupled pairs. Spectral normalisation gives a lower bound, up to the
#   power iteration's error.
# * On the 8 Gaussians no loss wins by itself: how well the discriminator keeps up with the generator
#   decides between collapse, blur and coverage, and only several seeds tell them apart. With $c = 0.01$
#   and this page's short budget, weight clipping ends blurry in every seed, both under the shared Adam
#   setting and with the WGAN paper's RMSProp at $5\cdot10^{-5}$; longer training was not tested.
