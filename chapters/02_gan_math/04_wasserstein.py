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
#
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
# 4. train GANs on the 8 Gaussians of 2.3 with five losses and measure mode coverage over several seeds.

# %%
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Markdown, display
from scipy.stats import wasserstein_distance
from torch import nn

import aigc_course as ac
from aigc_course import data, gan, losses, metrics, train
from aigc_course.config import GANConfig, TrainConfig
from aigc_course.exercises import ch2_dynamics as ex

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
# way to move {cite}`arjovsky2017wgan`. The earth mover's distance is the cost of moving the mass of one
# distribution onto the other,
#
# $$W_1(P, Q) = \inf_{\gamma \in \Pi(P, Q)} \mathbb E_{(x, y)\sim\gamma}\,\lvert x - y\rvert,$$
#
# where $\Pi(P, Q)$ are the joint distributions ("transport plans") with marginals $P$ and $Q$. Here the
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

# %%
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

# %%
assert abs(w1_sorted - w1_scipy) < 1e-5
assert w1_unsorted > w1_sorted   # any other pairing is a worse transport plan

# %% [markdown]
# For these two Gaussians the population value is known too: the monotone map is $T(x) = 2 + x/2$, so
# $W_1 = \mathbb E\lvert 2 - Z/2\rvert$ with $Z\sim\mathcal N(0,1)$, which is $2.0001$ to four decimals
# (almost exactly the shift of the means; $2 - Z/2$ is negative only beyond $Z = 4$). The sample value
# above differs from it by sampling noise.

# %% [markdown]
# ## The dual: a 1-Lipschitz critic
#
# Sorting works only in one dimension. In higher dimensions WGAN uses the Kantorovich–Rubinstein duality
# {cite}`villani2009optimal`:
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
# * **gradient penalty** (梯度惩罚, WGAN-GP) {cite}`gulrajani2017wgangp`: a 1-Lipschitz $f$ has
#   $\lVert\nabla f\rVert \le 1$, and the optimal critic has $\lVert\nabla f\rVert = 1$ on the lines
#   between paired points, so add $\lambda\,\mathbb E_{\hat x}(\lVert \nabla_x f(\hat x)\rVert_2 - 1)^2$
#   at random interpolates $\hat x = \epsilon x + (1-\epsilon) y$ (`losses.gradient_penalty`, $\lambda = 10$).
# * **spectral normalisation** (谱归一化) {cite}`miyato2018spectral`: divide every weight matrix by its largest
#   singular value, so each layer is 1-Lipschitz; with 1-Lipschitz activations (LeakyReLU) so is the
#   network (`GANConfig(spectral_norm=True)`).
#
# The package's MLP critic (two hidden layers of 64 units) is trained on our two samples with each method,
# 300 Adam steps on batches of 512; the loop is the inner loop of WGAN.

# %%
LAMBDA, CLIP = 10.0, 0.01


def train_critic(method: str, steps: int = 300) -> nn.Module:
    """Train an MLP critic on x_real vs y_fake with one Lipschitz method: "clip", "gp" or "sn"."""
    ac.set_seed(0)
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
# * **Gradient penalty**: close to $W_1$, and slightly *above* it. The size of that bias can be predicted.
#   The optimal critic $f^*$ has slope $\pm1$ on all the interpolates here (the transport map moves every
#   point to the right). Among the rescaled critics $f = a f^*$, the penalised objective
#   $-aW_1 + \lambda (a-1)^2$ is smallest at $a = 1 + W_1/(2\lambda)$: the two-sided penalty lets the
#   slope exceed 1 a little, and the estimate becomes $W_1(1 + W_1/(2\lambda))$. (A critic that varies
#   its slope from point to point can gain a little more where few interpolates fall.)
# * **Spectral normalisation**: every layer is 1-Lipschitz, so the critic is too, and by the duality its
#   estimate can never exceed the (empirical) $W_1$: it is a guaranteed lower bound, here a close one.
# * **Weight clipping**: all weights sit at $\pm c$, the network is Lipschitz with a tiny unknown constant
#   $K$, and the estimate is about $K\,W_1$, orders of magnitude too small. WGAN only needs the *direction*
#   of the critic's gradient, so training still works in principle, but the number is not $W_1$, and
#   clipping biases the critic towards overly simple functions {cite}`gulrajani2017wgangp`.

# %%
bias_corrected = w1_sorted * (1 + w1_sorted / (2 * LAMBDA))
print(f"gradient penalty: {estimate['gp']:.4f}; "
      f"predicted W1 (1 + W1 / 2 lambda) = {bias_corrected:.4f}")
assert abs(estimate["gp"] - w1_sorted) < 0.15 * w1_sorted              # within 15% of closed form
assert estimate["sn"] <= 1.02 * w1_sorted                              # 1-Lipschitz: a lower bound
assert estimate["sn"] > 0.5 * w1_sorted
assert abs(estimate["clip"]) < 0.1 * w1_sorted                         # clipping: a tiny K * W1
assert (weights.abs() > 0.99 * CLIP).float().mean() > 0.5              # most weights at the bound
for layer in critics["sn"].modules():
    if isinstance(layer, nn.Linear):  # every layer's spectral norm is 1
        assert abs(torch.linalg.matrix_norm(layer.weight.detach(), ord=2).item() - 1) < 0.01

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
# ## Five losses on 8 Gaussians
#
# Back to the 8 Gaussians and the MLP GAN of 2.3 (two hidden layers of 64 units, 2-D noise, Adam with
# learning rate $2\cdot 10^{-3}$ and $\beta = (0.5, 0.9)$ for both players, batches of 256). Only the loss
# and the Lipschitz treatment change:
#
# | row | discriminator loss | generator loss | $k$ (D steps per G step) |
# |---|---|---|---|
# | bce | $\overline{\operatorname{softplus}(-r)} + \overline{\operatorname{softplus}(f)}$ | $\overline{\operatorname{softplus}(-f)}$ (non-saturating) | 1 |
# | hinge {cite}`lim2017geometric` | $\overline{\max(0, 1 - r)} + \overline{\max(0, 1 + f)}$ | $-\overline{f}$ | 1 |
# | bce + SN, hinge + SN | the same, with spectral normalisation in D {cite}`miyato2018spectral` | | 1 |
# | wgan-clip {cite}`arjovsky2017wgan` | $\overline{f} - \overline{r}$, weights clipped to $\pm 0.01$ | $-\overline{f}$ | 5 |
# | wgan-gp {cite}`gulrajani2017wgangp` | $\overline{f} - \overline{r} + 10\,\mathrm{GP}$ | $-\overline{f}$ | 5 |
#
# ($r$, $f$: the discriminator's outputs on real and generated batches.) The two Wasserstein rows use
# $k = 5$ critic steps as in their papers, because the dual estimate is only meaningful for a critic
# close to its optimum; the others use Algorithm 1 with $k = 1$. Each row is trained with several seeds
# (quick profile: 500 generator steps and 3 seeds; full profile: 2000 steps and 5 seeds);
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
for row in ROWS:
    assert all(final(row, "covered") <= final(row, "visited")) and all(final(row, "visited") <= 8)
collapsed = [r for r in ROWS if final(r, "visited").mean() <= 2]
blurry = [r for r in ROWS if final(r, "visited").mean() >= 7 and final(r, "hq").mean() < 0.02]
print("collapsed (at most 2 modes visited on average):", collapsed or "none")
print("blurry (all modes visited, under 2% high quality):", blurry or "none")
print("most modes covered:", max(ROWS, key=lambda r: final(r, "covered").mean()))

# %% [markdown]
# **Reading the table.** The printed lines above classify the rows of this execution; what follows is what
# these losses typically do in such short runs, and the table is the evidence.
#
# * No loss is a cure-all. The result depends on the loss *and* on how well the discriminator keeps up
#   with the generator, the lesson of 2.3. A Lipschitz constraint (spectral norm, penalty, clipping) makes
#   the discriminator smoother but also slower to change; with $k = 1$ it can fall into the slow-D regime
#   of 2.3 and collapse, which is why the WGAN papers train the critic for several steps per generator step.
# * **wgan-clip** with $c = 0.01$ typically ends *blurry*: samples near every mode but few within $3\sigma$.
#   Its critic is the nearly linear, capacity-starved function seen above, whose gradients carry little
#   detail about where exactly the modes are.
# * **wgan-gp** spends five critic steps per generator step (each with a double backward pass), so at an
#   equal number of generator steps it costs several times more; in short runs it also tends to sharpen the
#   modes slowly.
# * Seeds matter: the standard deviations are large, and a comparison of losses with a single seed would
#   be mostly noise {cite}`lucic2018gansequal`.
# * All rows share one optimiser setting and a short budget. Each paper tunes its own (WGAN-GP, for
#   instance, uses a learning rate of $10^{-4}$ and far more steps), so this table compares the losses
#   under equal, modest conditions; it does not rank them in general.
#
# Try it: give the Wasserstein rows $k = 1$, or the SN rows $k = 5$, and compare with the slow-D run of 2.3.

# %% [markdown]
# ## Exercises
#
# ### 2.4a Earth mover's distance by sorting
#
# Write `emd_1d(x, y)` for two 1-D tensors of the same length $n$ (each point has mass $1/n$), using the
# one-dimensional closed form.

# %%
def emd_1d(x, y):
    ...  # your code


ex.q24a.check(emd_1d);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def emd_1d(x, y):
#     return (torch.sort(x).values - torch.sort(y).values).abs().mean()
# ```
# Pairing the samples in the order they come is a transport plan too, but not the cheapest; squaring the
# differences gives $W_2^2$, another distance.
# :::

# %% tags=["hide-cell"]
def emd_1d_solution(x, y):
    return (torch.sort(x).values - torch.sort(y).values).abs().mean()


assert ex.q24a.check(emd_1d_solution, quiet=True)
assert abs(emd_1d_solution(x_real.flatten(), y_fake.flatten()).item() - w1_scipy) < 1e-5

# %% [markdown]
# ### 2.4b The per-sample gradient penalty
#
# Write `gradient_penalty(critic, real, fake, eps)`: `real` and `fake` are batches of shape (B, ...)
# (vectors or images), `eps` has shape (B,). With $\hat x_i = \epsilon_i\,\text{real}_i + (1-\epsilon_i)
# \,\text{fake}_i$, return $\frac1B\sum_i(\lVert\nabla_x f(\hat x_i)\rVert_2 - 1)^2$. The result must stay
# differentiable with respect to the critic's weights (it is added to the critic's loss).

# %%
def gradient_penalty(critic, real, fake, eps):
    ...  # your code


ex.q24b.check(gradient_penalty);

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


assert ex.q24b.check(gradient_penalty_solution, quiet=True)
eps = torch.rand(64, generator=torch.Generator().manual_seed(7))
torch.testing.assert_close(
    gradient_penalty_solution(critics["gp"], x_real[:64], y_fake[:64], eps),
    losses.gradient_penalty(critics["gp"], x_real[:64], y_fake[:64],
                            generator=torch.Generator().manual_seed(7)))

# %% [markdown]
# ## Summary
#
# * The JSD is constant ($\log 2$) for distributions with disjoint supports; the earth mover's distance
#   $W_1$ still measures how far apart they are.
# * In one dimension $W_1$ is the mean distance between the sorted samples; in general it is the supremum
#   of $\mathbb E_P f - \mathbb E_Q f$ over 1-Lipschitz critics $f$.
# * Weight clipping gives a critic with an unknown, tiny Lipschitz constant; the per-sample gradient
#   penalty gives a close estimate, biased upwards by about $W_1/(2\lambda)$; spectral normalisation gives a
#   guaranteed lower bound.
# * On the 8 Gaussians no loss wins by itself: how well the discriminator keeps up with the generator
#   decides between collapse, blur and coverage, and only several seeds tell them apart.
