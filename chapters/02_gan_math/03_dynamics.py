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
# # 2.3 Training dynamics and mode collapse

# %% tags=["remove-input"]
from aigc_course.plotting import page_info

page_info("03_dynamics")

# %% [markdown]
# Section 2.1 showed that the minimax game has a single global optimum, $p_g = p_{data}$, where the
# optimal discriminator answers $\tfrac12$ everywhere. Section 2.2 turned the game into Algorithm 1:
# alternating gradient steps for the discriminator (判别器) and the generator (生成器). Nothing in that
# proof says that the *steps* reach the optimum. This section watches the steps on 2-D toy data, where
# every sample and the discriminator's whole decision map fit in one picture, and measures the best-known
# failure: **mode collapse** (模式崩溃), where the generator produces only a few kinds of samples.
#
# Plan:
#
# 1. three toy data sets and a protocol for measuring mode coverage {cite}`srivastava2017veegan`;
# 2. the simplest game, $\min_x \max_y xy$, to see why gradient play circles instead of converging
#    {cite}`mescheder2018convergence`;
# 3. an animated training run of the package's MLP GAN, next to a run that collapses;
# 4. a small sweep over learning rates, discriminator steps $k$ and batch size, several seeds each.
#
# The models, losses and trainer come from the course package `aigc_course`; this page only configures
# and measures them.

# %%
import math
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Markdown, display

import aigc_course as ac
from aigc_course import data, gan, metrics, plotting, train
from aigc_course.config import GANConfig, TrainConfig
from aigc_course.exercises import ch2_dynamics
from aigc_course.nn import eval_mode
from aigc_course.plotting import glue

ac.set_seed(0)
ac.runtime.set_threads(1)  # tiny networks: one thread avoids hand-off costs between cores
QUICK = ac.profile() == "quick"
print(ac.describe(torch.device("cpu")))

# %% [markdown]
# ## Three toy data sets
#
# `data.toy2d` draws points from three 2-D distributions:
#
# * **8 Gaussians**: eight modes on a circle of radius 2, each an isotropic Gaussian with standard deviation
#   0.02, equal weights. A ring of eight Gaussians is the mode-collapse test of the unrolled GAN paper
#   {cite}`metz2017unrolled`, and many later papers use it;
# * **25 Gaussians**: a 5×5 grid of modes with standard deviation 0.05;
# * **ring**: a continuous circle of radius 2 (no separate modes).
#
# Small standard deviations make the modes far apart compared to their width, so a generator that misses
# one is easy to see.

# %%
TOY = {name: data.toy2d(name, 10_000, seed=0) for name in ("8gaussians", "25gaussians", "ring")}
fig, axes = plt.subplots(1, 3, figsize=(10.5, 3.5))
for ax, (name, points) in zip(axes, TOY.items()):
    ax.scatter(points[:, 0], points[:, 1], s=1, c="0.3")
    ax.set(title=name, xlim=(-3, 3), ylim=(-3, 3), aspect="equal")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Measuring mode collapse
#
# We follow the protocol of VEEGAN {cite}`srivastava2017veegan`, which PacGAN {cite}`lin2018pacgan` uses
# too. A generated sample is **high quality** if it lies within $3\sigma$ of the nearest mode centre
# ($\sigma$ = the mode's standard deviation), and the **high-quality rate** is the fraction of such
# samples. VEEGAN counts a mode as captured as soon as one high-quality sample has it as its nearest
# centre. We ask for more, so that a few stray samples do not count: a mode is **covered** if it receives
# at least a tenth of the high-quality samples it would get if all $M$ modes were hit equally
# ($\ge 0.1\,N/M$ of $N$ samples). `metrics.mode_coverage` returns both numbers. For an exact sample of a 2-D
# isotropic Gaussian, $\|x-\mu\|^2/\sigma^2 \sim \chi^2_2$, so the high-quality rate of the data itself is
# $P(\chi^2_2 \le 9) = 1 - e^{-9/2} \approx 98.9\%$.
#
# Two numbers are needed because a generator can fail in two ways. A **blurry** generator puts samples
# near every mode but few of them within $3\sigma$: low quality, full diversity. A **collapsed** generator
# produces perfect samples of one mode: high quality, no diversity. We add a third number that looks only
# at diversity: a mode is **visited** if at least $0.1\,N/M$ samples have it as their nearest centre,
# however far away they are (that is `mode_coverage` with $\sigma = \infty$).

# %%
MODES, STD = data.toy2d_modes("8gaussians"), 0.02


def mode_stats(samples: torch.Tensor) -> dict:
    """Modes covered (quality and diversity), modes visited (diversity only) and the
    high-quality rate."""
    q = metrics.mode_coverage(samples, MODES, STD)
    visited = metrics.mode_coverage(samples, MODES, math.inf)["modes_covered"]
    return {"covered": q["modes_covered"], "visited": visited, "hq": q["high_quality"]}


gen = torch.Generator().manual_seed(1)
real = TOY["8gaussians"]
collapsed = MODES[0] + STD * torch.randn(10_000, 2, generator=gen)   # perfect samples of one mode
blurry = real + 0.3 * torch.randn(10_000, 2, generator=gen)           # every mode, smeared out
for name, points in [("data", real), ("collapsed", collapsed), ("blurry", blurry)]:
    print(f"{name:9s}", mode_stats(points))

# %%
assert mode_stats(real)["covered"] == 8                            # the data covers 8/8 modes
assert abs(mode_stats(real)["hq"] - (1 - math.exp(-4.5))) < 0.01   # 98.9% within 3 sigma
assert metrics.mode_coverage(TOY["25gaussians"], data.toy2d_modes("25gaussians"),
                             0.05)["modes_covered"] == 25
assert mode_stats(collapsed)["covered"] == 1 and mode_stats(collapsed)["visited"] == 1
assert mode_stats(blurry)["visited"] == 8 and mode_stats(blurry)["hq"] < 0.1

# %% [markdown]
# ## Why gradient play circles: the game $\min_x \max_y xy$
#
# Before the GAN, the smallest game with the same structure. Player $x$ minimises $f(x,y)=xy$ and player
# $y$ maximises it; the only equilibrium is $(0, 0)$. With **simultaneous** gradient steps of size $\eta$,
#
# $$x_{t+1} = x_t - \eta y_t,\qquad y_{t+1} = y_t + \eta x_t
# \quad\Longrightarrow\quad x_{t+1}^2 + y_{t+1}^2 = (1+\eta^2)\,(x_t^2 + y_t^2),$$
#
# because the cross terms $\mp 2\eta x_t y_t$ cancel. The iterates rotate around the equilibrium and spiral
# **outwards** for every $\eta > 0$. Algorithm 1 is **alternating**: $y$ already sees the new $x$,
# $y_{t+1} = y_t + \eta x_{t+1}$. The step is then the linear map
#
# $$\begin{pmatrix}x_{t+1}\\ y_{t+1}\end{pmatrix} = A \begin{pmatrix}x_t\\ y_t\end{pmatrix},\qquad
# A = \begin{pmatrix}1 & -\eta\\ \eta & 1-\eta^2\end{pmatrix},\qquad \det A = 1,$$
#
# which preserves area; for $0<\eta<2$ its eigenvalues lie on the unit circle, so the iterates go round
# an ellipse for ever: they neither diverge nor converge. Gradient play on a game *rotates*
# {cite}`mescheder2018convergence`. Mescheder et al. find the same rotation in GANs near an equilibrium:
# the Jacobian of the players' joint gradient field has eigenvalues with imaginary parts (purely imaginary
# for their smallest GAN, a single point against a linear discriminator). That is a likely reason, which
# this page does not test, why a GAN's samples often circle from mode to mode instead of settling.

# %%
eta, n_steps = 0.1, 150
sim = [torch.tensor([1.0, 0.0], dtype=torch.float64)]
alt = [torch.tensor([1.0, 0.0], dtype=torch.float64)]
for _ in range(n_steps):
    x, y = sim[-1]
    sim.append(torch.stack([x - eta * y, y + eta * x]))
    x, y = alt[-1]
    x_new = x - eta * y
    alt.append(torch.stack([x_new, y + eta * x_new]))
sim, alt = torch.stack(sim), torch.stack(alt)  # (n_steps + 1, 2)

fig, ax = plt.subplots(figsize=(4.5, 4.5))
ax.plot(sim[:, 0], sim[:, 1], label="simultaneous: spirals out")
ax.plot(alt[:, 0], alt[:, 1], label="alternating: circles for ever")
ax.plot(0, 0, "k*", ms=10, label="equilibrium")
ax.set(xlabel="x (minimiser)", ylabel="y (maximiser)", aspect="equal",
       title=r"gradient play on $f = xy$")
ax.legend(loc="lower left", fontsize=8)
plt.show()

# %%
radius = sim.norm(dim=1)
torch.testing.assert_close(radius, (1 + eta**2) ** (torch.arange(n_steps + 1) / 2).double())
A = torch.tensor([[1, -eta], [eta, 1 - eta**2]], dtype=torch.float64)
torch.testing.assert_close(torch.linalg.det(A), torch.tensor(1.0, dtype=torch.float64))
torch.testing.assert_close(torch.linalg.eigvals(A).abs(), torch.ones(2, dtype=torch.float64))
# bounded, and never reaches 0
assert alt.norm(dim=1).max() < 1.1 and alt.norm(dim=1).min() > 0.9

# %% [markdown]
# ## Watching a GAN train
#
# Now the real thing: the package's MLP generator and discriminator (two hidden layers of 64 units,
# 2-D noise $z$), the non-saturating loss of 2.2, Adam, batches of 256 points from the 8 Gaussians.
# `train.train_gan` calls a **callback** every `sample_every` steps with the trainer's state; ours records
# the generator's samples for a fixed set of $z$, the discriminator's output $D(x)=\sigma(\text{logit})$ on a
# grid, and the coverage numbers. We train two settings that differ in one number only:
#
# * **balanced**: generator and discriminator learn at the same rate, $\eta_G = \eta_D = 2\cdot10^{-3}$;
# * **slow D**: the discriminator learns ten times more slowly, $\eta_D = 2\cdot10^{-4}$.

# %%
STEPS = 500 if QUICK else 3000
SEEDS = [0, 1, 2] if QUICK else [0, 1, 2, 3, 4]
MODEL = GANConfig(kind="mlp", z_dim=2, data_dim=2, hidden=64, depth=2)
BASE = TrainConfig(steps=STEPS, batch_size=256, lr=2e-3, lr_d=2e-3, betas=(0.5, 0.999), loss="bce",
                   log_every=50, sample_every=STEPS // 20)
SETTINGS = {  # changes to BASE
    "balanced": {},
    "slow D (lr_D = lr_G / 10)": {"lr_d": 2e-4},
    "slow D (lr_D = lr_G / 4)": {"lr_d": 5e-4},
    "fast D (lr_D = 4 lr_G)": {"lr_d": 8e-3},
    "k = 3 D steps": {"n_critic": 3},
    "batch 64": {"batch_size": 64},
}
TRAIN_DATA = data.toy2d("8gaussians", 20_000, seed=0)
AXIS = torch.linspace(-3, 3, 61)
GRID = torch.cartesian_prod(AXIS, AXIS).flip(1)  # (61*61, 2) points (x, y), row-major in y


class Tracker:
    """Callback: coverage of G's samples for fixed z every ``sample_every`` steps;
    optionally the frames."""

    def __init__(self, keep_frames: bool = False, n: int = 2000):
        self.keep_frames, self.n = keep_frames, n
        self.steps, self.stats, self.samples, self.d_maps = [], [], [], []

    def __call__(self, step: int, state: train.TrainState) -> None:
        G = state.sampler  # the same z at every call: a freshly seeded generator
        with torch.no_grad(), eval_mode(G):
            samples = G.sample(self.n, generator=torch.Generator().manual_seed(1))  # (n, 2)
        self.steps.append(step)
        self.stats.append(mode_stats(samples))
        if self.keep_frames:
            with torch.no_grad():
                d = (torch.sigmoid(state.models["discriminator"](GRID))
                     .reshape(len(AXIS), len(AXIS)))
            self.samples.append(samples[:1000].numpy())
            self.d_maps.append(d.numpy())


RESULTS: dict[tuple[str, int], Tracker] = {}


def run(setting: str, seed: int, keep_frames: bool = False) -> Tracker:
    """Train one GAN (seeded weights, noise and batches) and return its tracker;
    cached in RESULTS."""
    if (setting, seed) not in RESULTS:
        ac.set_seed(seed)
        G, D = gan.build_gan(MODEL)
        tracker = Tracker(keep_frames)
        cfg = BASE.replace(seed=seed, **SETTINGS[setting])
        train.train_gan(G, D, TRAIN_DATA, cfg, callbacks=[tracker], progress=False)
        RESULTS[setting, seed] = tracker
    return RESULTS[setting, seed]


t0 = time.perf_counter()
shown = ["balanced", "slow D (lr_D = lr_G / 10)"]
movies = [run(name, 0, keep_frames=True) for name in shown]
print(f"two runs of {STEPS} steps: {time.perf_counter() - t0:.1f} s")


# %%
def frame(i: int) -> np.ndarray:
    """One GIF frame: D's output (colour), the data (grey) and G's samples (orange)
    for both runs."""
    fig, axes = plt.subplots(1, 2, figsize=(7.6, 4.0), dpi=80)
    for ax, name, movie in zip(axes, shown, movies):
        ax.contourf(AXIS, AXIS, movie.d_maps[i], levels=np.linspace(0, 1, 11), cmap="coolwarm",
                    alpha=0.6)
        ax.scatter(real[:500, 0], real[:500, 1], s=3, c="0.25")
        ax.scatter(movie.samples[i][:, 0], movie.samples[i][:, 1], s=2, c="tab:orange")
        s = movie.stats[i]
        ax.set_title(f"{name}\nstep {movie.steps[i]}: {s['covered']}/8 covered, "
                     f"{s['visited']}/8 visited", fontsize=8)
        ax.set(xlim=(-3, 3), ylim=(-3, 3), aspect="equal", xticks=[], yticks=[])
    fig.tight_layout()
    picture = plotting.figure_to_array(fig)
    plt.close(fig)
    return picture


gif_path = Path(tempfile.mkdtemp()) / "gan_8gaussians.gif"
plotting.animate([frame(i) for i in range(len(movies[0].steps))], gif_path, fps=4)

# %% [markdown]
# In the animation, the colour is the discriminator's output: warm (red) where $D(x) > \tfrac12$, "real",
# cool (blue) where $D(x) < \tfrac12$, "fake"; grey dots are data, orange dots the generator's samples.
# Every generator step pushes each orange sample a little uphill on $D$ (the gradient $\nabla_x D$ from
# 2.2), and, through the generator's shared weights, by the pushes on all the other samples too. No sample
# knows where the modes it has not found are: all the generator learns is which way $D$ increases where its
# samples stand.
#
# * In the **balanced** run the discriminator keeps up: its map soon has high values on the modes and low
#   values between them, and the generator's samples move out to the modes (watch the frames).
# * In the **slow-D** run the generator can follow the discriminator's current opinion faster than the
#   discriminator can revise it. All samples slide the same way and the generator's output shrinks to one
#   or two spots (the table below measures it); the discriminator slowly lowers its value there, and the
#   blob may move on, the "mode hopping" of {cite}`metz2017unrolled`, a network-sized analogue of the
#   circling in the $xy$ game.
#
# The coverage numbers over the run tell the same story.

# %%
fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
for name, movie in zip(shown, movies):
    for ax, key in zip(axes, ["covered", "visited", "hq"]):
        ax.plot(movie.steps, [s[key] for s in movie.stats], marker=".", label=name)
for ax, title in zip(axes, ["modes covered (of 8)", "modes visited (of 8)", "high-quality rate"]):
    ax.set(title=title, xlabel="generator step")
    ax.grid(alpha=0.3)
axes[0].legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## What changes collapse: a sweep over seeds
#
# One run proves little: GAN training is sensitive to the random seed {cite}`lucic2018gansequal`. Below,
# every setting is trained with several seeds (the seed sets the initial weights, the noise and the order
# of the batches), and we report the mean ± standard deviation over seeds of the final numbers. The
# settings change one thing each relative to **balanced**:
#
# * the **learning-rate ratio**: slow D as above, and a discriminator four times slower than the generator.
#   One source article trains its DCGAN with $\eta_G = 2\cdot10^{-4}$ and $\eta_D = 5\cdot10^{-5}$, exactly
#   that ratio, without giving a reason. The control is the opposite ratio, a discriminator four times
#   *faster* than the generator ($\eta_D = 8\cdot10^{-3}$), the direction of the two time-scale update
#   rule (TTUR) of Heusel et al. {cite}`heusel2017fid`, whose experiments give the discriminator the
#   larger learning rate;
# * **$k$**, the number of discriminator steps per generator step in Algorithm 1 (`TrainConfig.n_critic`);
# * the **batch size**, 64 instead of 256 (with the same number of steps, so fewer samples seen).
#
# The runs here are short ({glue:text}`e23_steps` generator steps, {glue:text}`e23_n_seeds` seeds, in the
# {glue:text}`e23_profile` profile): read the table as "how far did each setting get, and did it collapse on
# the way", not as final quality. The quick profile runs fewer steps and seeds than the full one
# (`AIGC_PROFILE=full`).

# %%
t0 = time.perf_counter()
for setting in SETTINGS:
    for seed in SEEDS:
        run(setting, seed)
print(f"{len(SETTINGS)} settings x {len(SEEDS)} seeds, {STEPS} steps each: "
      f"{time.perf_counter() - t0:.1f} s")


def final(setting: str, key: str) -> np.ndarray:
    return np.array([RESULTS[setting, seed].stats[-1][key] for seed in SEEDS], dtype=float)


def mean_std(values: np.ndarray, fmt: str = ".1f") -> str:
    return f"{values.mean():{fmt}} ± {values.std(ddof=1):{fmt}}"


rows = ["| setting | modes covered (of 8) | modes visited (of 8) | high-quality rate |",
        "|---|---|---|---|"]
rows += [f"| {s} | {mean_std(final(s, 'covered'))} | {mean_std(final(s, 'visited'))} | "
         f"{mean_std(100 * final(s, 'hq'), '.0f')} % |" for s in SETTINGS]
display(Markdown("\n".join(rows)))

# %%
SLOW, SLOW4, FAST = ("slow D (lr_D = lr_G / 10)", "slow D (lr_D = lr_G / 4)",
                     "fast D (lr_D = 4 lr_G)")


def visited_late(setting: str) -> np.ndarray:
    """Modes visited, averaged over the snapshots of the second half of the run; one per seed."""
    return np.array([np.mean([s["visited"] for step, s in zip(RESULTS[setting, seed].steps,
                                                               RESULTS[setting, seed].stats)
                              if step >= STEPS // 2]) for seed in SEEDS])


late = {s: visited_late(s) for s in ("balanced", SLOW, SLOW4, FAST)}
for s, v in late.items():
    print(f"{s:28s} modes visited, second half of each run: {np.round(v, 1)}; "
          f"at the end: {final(s, 'visited')}")
# slow D collapses whatever the seed: at most 2 of the 8 modes visited, on average over the second
# half of every run and at its end
assert late[SLOW].max() <= 2 and final(SLOW, "visited").max() <= 2
# the balanced and the fast discriminator keep (almost) every mode in view, in every seed
assert final("balanced", "visited").min() >= 7 and final(FAST, "visited").min() >= 7
assert min(late["balanced"].min(), late[FAST].min()) > late[SLOW].max() + 4
# the source article's ratio: most seeds collapse as well
assert (final(SLOW4, "visited") <= 2).sum() > len(SEEDS) / 2

# %% tags=["hide-input"]
glue("e23_slow_late_max", float(late[SLOW].max()), display=False)
glue("e23_steps", int(STEPS), display=False)
glue("e23_n_seeds", int(len(SEEDS)), display=False)
glue("e23_profile", ac.profile(), display=False)

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.3))
for setting in SETTINGS:
    steps = RESULTS[setting, SEEDS[0]].steps
    for ax, key in zip(axes, ["covered", "visited"]):
        curves = np.array([[s[key] for s in RESULTS[setting, seed].stats] for seed in SEEDS])
        ax.plot(steps, curves.mean(0), label=setting)
        ax.fill_between(steps, curves.min(0), curves.max(0), alpha=0.15)
for ax, title in zip(axes, ["modes covered: mean over seeds (band: min to max)", "modes visited"]):
    ax.set(title=title, xlabel="generator step", ylim=(-0.3, 8.3))
    ax.grid(alpha=0.3)
axes[0].legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# **Could the objective be to blame?** Before reading the results, one question: could the loss itself
# prefer a collapsed generator? Take the data as $M = 8$ equal, well-separated modes and a generator that puts equal weight on $m$ of them and
# reproduces each one exactly. Treating both as distributions over the modes, we compute the two criteria
# the generator losses minimise against the optimal discriminator: $2\,\mathrm{JSD}$ ($C(G) + \log 4$, the
# saturating loss of 2.1) and $\mathrm{KL}(p_g\,\|\,p_{data}) - 2\,\mathrm{JSD} =
# 2\,\mathrm{KL}\big(\tfrac12(p_g + p_{data})\,\|\,p_{data}\big)$ (the non-saturating loss, section 2.2).


# %%
def collapse_criteria(m: int, M: int) -> tuple[float, float]:
    """(2 JSD, KL(p_g || p_data) - 2 JSD) for a generator on m of M equal modes."""
    p = np.full(M, 1 / M)               # p_data over the modes
    q = np.zeros(M)
    q[:m] = 1 / m                       # p_g: m modes, reproduced exactly
    mix = (p + q) / 2

    def kl(a, b):
        keep = a > 0
        return float(np.sum(a[keep] * np.log(a[keep] / b[keep])))

    two_jsd = kl(p, mix) + kl(q, mix)
    non_saturating = kl(q, p) - two_jsd
    return two_jsd, non_saturating


ms = range(1, 9)
sat_curve, ns_curve = map(np.array, zip(*[collapse_criteria(m, 8) for m in ms]))
plt.figure(figsize=(5, 3.2))
plt.plot(ms, sat_curve, "o-", label=r"$C(G) + \log 4 = 2\,$JSD (saturating)")
plt.plot(ms, ns_curve, "s-", label=r"KL$(p_g\|p_{data})$ - 2 JSD (non-saturating)")
plt.axhline(0, color="k", ls=":")
plt.xlabel("modes reproduced by G (of 8)")
plt.ylabel("nats")
plt.title("Both criteria prefer more modes")
plt.legend(fontsize=8)
plt.show()

# %% tags=["hide-input"]
# the identity of 2.2: the non-saturating criterion is 2 KL(mixture || p_data)
for m in ms:
    p, q = np.full(8, 1 / 8), np.where(np.arange(8) < m, 1 / m, 0.0)
    mix = (p + q) / 2
    two_kl_mix = 2 * float(np.sum(mix * np.log(mix / p)))
    torch.testing.assert_close(collapse_criteria(m, 8)[1], two_kl_mix)
for curve in (sat_curve, ns_curve):  # both fall strictly with every mode added, to 0 at m = M
    assert np.all(np.diff(curve) < 0) and abs(curve[-1]) < 1e-12
assert ns_curve[-2] < 0.6 * sat_curve[-2]  # the non-saturating one cares less about the last mode
assert ns_curve[-2] > 0.3 * sat_curve[-2]  # ... but not "barely": about half as much
glue("e23_ns_cost7", float(ns_curve[-2]), display=False)
glue("e23_sat_cost7", float(sat_curve[-2]), display=False)
glue("e23_cost_ratio", float(100 * ns_curve[-2] / sat_curve[-2]), display=False)

# %% [markdown]
# **Reading the results.** The checks above turn the central claims into assertions over every seed.
#
# * **Slow D** is the collapse setting. With $\eta_D = \eta_G/10$ the samples visit at most two modes,
#   on average over the second half of every run ({glue:text}`e23_slow_late_max:.1f` at most, over the
#   seeds here), whatever the seed. With $\eta_D = \eta_G/4$, the source article's ratio, most seeds
#   collapse too.
# * **Fast D**, the opposite ratio, keeps at least seven of the eight modes in view at the end of every
#   run, like the balanced setting.
#   On this toy problem, then, the source article's ratio points the wrong way: the two time-scale rule
#   {cite}`heusel2017fid` gives the discriminator the larger learning rate, not the smaller one.
# * **The objective is not to blame.** The runs use the non-saturating loss. Against the optimal
#   discriminator its gradient is that of $\mathrm{KL}(p_g\,\|\,p_{data}) - 2\,\mathrm{JSD} =
#   2\,\mathrm{KL}\big(\tfrac12(p_g + p_{data})\,\|\,p_{data}\big)$ (section 2.2), not that of $C(G)$. For a
#   generator that reproduces $m$ of $M$ equal modes exactly, this criterion falls strictly as $m$ grows and
#   vanishes only at $m = M$,
#   like $2\,\mathrm{JSD}$ (the figure "Both criteria prefer more modes" above). It cares less about the
#   last modes, though: dropping one of the eight costs it {glue:text}`e23_ns_cost7:.3f` nats, against
#   {glue:text}`e23_sat_cost7:.3f` for $2\,\mathrm{JSD}$, {glue:text}`e23_cost_ratio:.0f`% as much. A weaker
#   pull, but still towards full coverage: collapse is a property of the *dynamics*. A generator that
#   outruns its discriminator chases the discriminator's current mistakes.
# * **Balanced** runs end with at least seven of the eight modes visited, in every seed. How many are
#   covered, and the high-quality rate, also dip now and then while the modes are still moving, so the final
#   numbers vary a lot from seed to seed.
# * **More discriminator steps** ($k = 3$) give the generator a better-informed discriminator at every
#   step, at three times the discriminator's cost, and **smaller batches** make both players' gradients
#   noisier and, at equal steps, show them fewer samples. Compare their rows with the balanced one; with
#   {glue:text}`e23_n_seeds` seeds and short runs, differences of a mode or two are within the seed-to-seed
#   spread.
#
# Remedies developed in the literature attack the dynamics directly: unrolling the discriminator's updates
# inside the generator's loss {cite}`metz2017unrolled`, letting the discriminator look at whole minibatches
# {cite}`salimans2016improved`, or changing the distance the game minimises, the subject of 2.4.
#
# Try it: change `SETTINGS` (for example `{"lr": 2e-4, "lr_d": 2e-4}`), or the data: `TRAIN_DATA =
# data.toy2d("25gaussians", 20_000)` together with `MODES, STD = data.toy2d_modes("25gaussians"), 0.05`
# (the mode statistics read those two), and rerun the sweep; the tables' "of 8" then means "of 25".

# %% [markdown]
# ## Exercises
#
# Two warm-ups that rehearse the page's measurements, then two exercises on the smallest GAN, whose answers
# are not on the page.
#
# ### 2.3a Warm-up: count the covered modes
#
# Write `modes_covered(samples, centres, std, min_count)`: `samples` has shape (N, 2), `centres` shape
# (M, 2). A sample is good if it lies within $3\cdot$`std` of its **nearest** centre; a mode is covered if
# at least `min_count` good samples belong to it. Return the number of covered modes. (Careful: a sample
# far from every centre still has a nearest centre.)

# %%
def modes_covered(samples, centres, std, min_count):
    ...  # your code


ch2_dynamics.q23a.check(modes_covered);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def modes_covered(samples, centres, std, min_count):
#     dist, nearest = torch.cdist(samples, centres).min(dim=1)          # (N,), (N,)
#     counts = torch.bincount(nearest[dist <= 3 * std], minlength=len(centres))  # (M,)
#     return int((counts >= min_count).sum())
# ```
# With `min_count` $= \max(1, 0.1\,N/M)$ this is `metrics.mode_coverage(...)["modes_covered"]`.
# :::

# %% tags=["hide-cell"]
def modes_covered_solution(samples, centres, std, min_count):
    dist, nearest = torch.cdist(samples, centres).min(dim=1)
    counts = torch.bincount(nearest[dist <= 3 * std], minlength=len(centres))
    return int((counts >= min_count).sum())


assert ch2_dynamics.q23a.check(modes_covered_solution, quiet=True)
assert modes_covered_solution(real, MODES, STD, 0.1 * len(real) / 8) == mode_stats(real)["covered"]

# %% [markdown]
# ### 2.3b Warm-up: does the objective reward coverage?
#
# The data is a mixture of $M$ well-separated modes with equal weights. A collapsed generator puts equal
# weight on $m \le M$ of them and reproduces each one perfectly. Treating both as distributions over the
# $M$ modes, write `jsd_partial(m, M)` returning $\mathrm{JSD}(p_{data}\,\|\,p_g)$ in nats, as a
# closed form in $m$ and $M$ (not by summing over modes as `collapse_criteria` does above). Then check it:
# `2 * jsd_partial(m, 8)` should reproduce `sat_curve` for every $m$.

# %%
def jsd_partial(m, M):
    ...  # your code


ch2_dynamics.q23b.check(jsd_partial);

# %% [markdown]
# :::{dropdown} Solution
# With $p_{data} = 1/M$ on every mode, $p_g = 1/m$ on $m$ of them and the mixture $(p_{data}+p_g)/2$:
#
# $$\mathrm{JSD} = \tfrac12\Big[\tfrac mM\log\tfrac{2m}{m+M} + \tfrac{M-m}{M}\log 2 + \log\tfrac{2M}{m+M}\Big].$$
#
# ```python
# def jsd_partial(m, M):
#     return 0.5 * (m / M * math.log(2 * m / (m + M)) + (M - m) / M * math.log(2)
#                   + math.log(2 * M / (m + M)))
# ```
# $C(G)$ falls strictly as $m$ grows and reaches $-\log 4$ only at $m = M$: the game's value rewards
# every extra mode. (The reverse KL, $\mathrm{KL}(p_g\|p_{data}) = \log(M/m)$, is finite for a collapsed
# generator, while the forward KL is infinite.) The non-saturating criterion is
# $\log(M/m) - 2\,\mathrm{JSD}$: it falls strictly with $m$ too, but more gently near $m = M$.
# :::

# %% tags=["hide-cell"]
def jsd_partial_solution(m, M):
    return 0.5 * (m / M * math.log(2 * m / (m + M)) + (M - m) / M * math.log(2)
                  + math.log(2 * M / (m + M)))


assert ch2_dynamics.q23b.check(jsd_partial_solution, quiet=True)

# the closed form of the exercise agrees with the criterion computed from the distributions above
np.testing.assert_allclose(sat_curve, [2 * jsd_partial_solution(m, 8) for m in ms], atol=1e-12)

# %% [markdown]
# ### 2.3c Predict: does the smallest GAN spiral?
#
# The $xy$ game above is not a GAN. The smallest one that is, the **Dirac-GAN** of Mescheder et al.
# {cite}`mescheder2018convergence`: the data is a point mass at 0, the generator a point mass at $\theta$,
# and the discriminator $D(x) = \sigma(\psi x)$, so that
#
# $$V(\theta, \psi) = \log\sigma(0) + \log\big(1 - \sigma(\psi\theta)\big),$$
#
# with the equilibrium at $(\theta, \psi) = (0, 0)$. Start at $(1, 0)$ and let both players take 500
# **simultaneous** gradient steps of size $\eta = 0.1$ ($\theta$ descends $V$, $\psi$ ascends it). Predict the
# distance $\sqrt{\theta^2 + \psi^2}$ from the equilibrium at the end. The checker runs the 500 steps.

# %%
answer = ...  # your prediction

ch2_dynamics.q23c.check(answer);

# %% [markdown]
# :::{dropdown} Solution
# $\partial V/\partial\theta = -\sigma(\psi\theta)\,\psi$ and $\partial V/\partial\psi = -\sigma(\psi\theta)\,
# \theta$, so a simultaneous step is $\theta \leftarrow \theta + \eta\,\sigma\psi$,
# $\psi \leftarrow \psi - \eta\,\sigma\theta$. As in the $xy$ game the cross terms cancel:
# $\theta^2 + \psi^2$ grows by the factor $1 + \eta^2\sigma(\psi\theta)^2$ per step. Near the equilibrium
# $\sigma \approx \tfrac12$, which gives
# ```python
# answer = (1 + 0.1**2 / 4) ** (500 / 2)   # linearised: sqrt(1 + eta^2/4) per step, about 1.87
# ```
# The measured spiral is a little slower, because further out $\sigma(\psi\theta)$ swings between 0 and 1
# around the orbit. Either way the iterates move away from the equilibrium: gradient play on the GAN
# itself rotates and, with simultaneous steps, spirals out.
# :::

# %% tags=["hide-cell"]
answer_solution = (1 + 0.1**2 / 4) ** (500 / 2)
assert ch2_dynamics.q23c.check(answer_solution, quiet=True)

# %% [markdown]
# ### 2.3d Investigate: the rotation in the game's Jacobian
#
# Why does it spiral? The players' simultaneous gradient field is $v(\theta, \psi) = (-\partial V/\partial
# \theta,\ +\partial V/\partial\psi)$, and near the equilibrium the steps are governed by the Jacobian of
# $v$ there. Compute that $2\times 2$ Jacobian at $(0, 0)$, by hand or with `torch.autograd.functional`,
# and set `answer` to its two eigenvalues (complex numbers, e.g. from `torch.linalg.eigvals`). What do they
# say about convergence, and about the rate you predicted in 2.3c?

# %%
def dirac_value(p):
    """V(theta, psi) of the Dirac-GAN, up to the constant log sigma(0); p = (theta, psi)."""
    return -torch.nn.functional.softplus(p[0] * p[1])


answer = ...  # the two eigenvalues of the Jacobian of v at (0, 0)

ch2_dynamics.q23d.check(answer);

# %% [markdown]
# :::{dropdown} Solution
# The field's Jacobian is $\mathrm{diag}(-1, 1)$ times the Hessian of $V$ (the generator descends, the
# discriminator ascends). At $(0, 0)$ only the mixed derivatives survive, $\partial^2 V/\partial\theta
# \partial\psi = -\sigma(0) = -\tfrac12$, so the Jacobian is $\begin{pmatrix}0 & \frac12\\ -\frac12 & 0
# \end{pmatrix}$, with eigenvalues $\pm i/2$:
# ```python
# answer = torch.linalg.eigvals(
#     torch.diag(torch.tensor([-1.0, 1.0], dtype=torch.float64))     # G descends V, D ascends it
#     @ torch.autograd.functional.hessian(
#         lambda p: -torch.nn.functional.softplus(p[0] * p[1]),     # V(theta, psi) + log 2
#         torch.zeros(2, dtype=torch.float64)))
# ```
# Purely imaginary eigenvalues mean a pure rotation with no pull towards the equilibrium. A simultaneous
# step multiplies the linearised state by $1 + \eta\lambda$, of modulus $\sqrt{1 + \eta^2/4} > 1$: the
# outward spiral of 2.3c. A real part $< 0$ would be needed for convergence; Mescheder et al. add it with
# a gradient penalty on the real data (R1) {cite}`mescheder2018convergence`. The Hessian of $V$ alone has
# the real eigenvalues $\pm\tfrac12$: treating the game as one function to descend hides the rotation.
# :::

# %% tags=["hide-cell"]
answer_solution = torch.linalg.eigvals(
    torch.diag(torch.tensor([-1.0, 1.0], dtype=torch.float64))
    @ torch.autograd.functional.hessian(dirac_value, torch.zeros(2, dtype=torch.float64)))
assert ch2_dynamics.q23d.check(answer_solution, quiet=True)


# %% [markdown]
# ## Summary
#
# * Mode coverage needs two numbers: modes covered within $3\sigma$ (quality and diversity) and the
#   high-quality rate; "modes visited" separates a collapsed generator from a blurry one.
# * Gradient play on a game rotates: on $\min_x\max_y xy$ simultaneous steps spiral out and alternating
#   steps circle for ever. The same rotation is a likely reason why a GAN's samples circle and hop
#   between modes.
# * The objectives reward covering every mode: $C(G)$ of the minimax game and the criterion
#   $\mathrm{KL}(p_g\|p_{data}) - 2\,\mathrm{JSD}$ of the non-saturating loss both fall with each mode
#   added (the second more gently). Collapse comes from the dynamics, above all from a generator that
#   outpaces its discriminator: a slow discriminator collapses in every seed, a fast one in none.
# * Claims about what prevents collapse need several seeds and a table, not one run.
