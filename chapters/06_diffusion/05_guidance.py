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
# # 6.5 Guidance and conditioning

# %% tags=["remove-input"]
from aigc_course.plotting import page_info

page_info("05_guidance")

# %% [markdown]
# The model of 6.4 takes a class label. Given "sandal" it draws sandals, but not always good ones: a
# conditional model spreads its samples over everything the class contains, including the odd, ambiguous
# images at its edges. Text-to-image systems turn a knob that trades this diversity for fidelity to the
# prompt: **classifier-free guidance** (无分类器引导) {cite}`ho2022classifier`. This page derives it from
# Bayes' rule, checks on a 1-D mixture what distribution it really samples (not the one its derivation
# suggests), and measures the trade-off on Fashion-MNIST with the metrics of 4.5.

# %%
import json
import math
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

import aigc_course as ac
from aigc_course import diffusion, plotting, recipes
from aigc_course.demos import live_demo
from aigc_course.exercises import ch6_guidance
from aigc_course.plotting import glue

ac.set_seed(0)
dev = ac.device()
print(ac.describe(dev))
QUICK = ac.profile() == "quick"
# the measured curves (AIGC_RESULTS_DIR: your own, made with tools/evaluate_diffusion.py)
SHIPPED_RESULTS = Path(ac.__file__).parents[1] / "benchmarks" / "results"
RESULTS = Path(os.environ.get("AIGC_RESULTS_DIR") or SHIPPED_RESULTS)
CLASSES = [
    "T-shirt",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Boot",
]

# %% [markdown]
# ## From a classifier to no classifier
#
# By Bayes' rule the conditional density is $p_t(x \mid y) \propto p_t(x)\, p_t(y \mid x)$, so its score
# (分数) splits into the unconditional score and the gradient of a classifier on noisy images:
#
# $$\nabla_x \log p_t(x \mid y) = \nabla_x \log p_t(x) + \nabla_x \log p_t(y \mid x).$$
#
# **Classifier guidance** {cite}`dhariwal2021diffusion` trains such a classifier and multiplies its term by
# a weight $w > 1$, aiming at the sharper distribution $\tilde p(x \mid y) \propto p(x)\,p(y \mid x)^w$.
# Ho and Salimans noticed that the classifier is not needed: $p_t(y\mid x) \propto p_t(x\mid y)/p_t(x)$, so
#
# $$\nabla\log p_t(x) + w\,\nabla\log p_t(y\mid x) = \nabla\log p_t(x) + w\big(\nabla\log p_t(x\mid y) -
#   \nabla\log p_t(x)\big),$$
#
# and one network that knows both scores suffices. It learns the unconditional one from its "no label"
# input, which training feeds it 10% of the time (the label dropout of 6.4). Every prediction target of 6.2
# is an affine function of the score *with the same coefficients* for both inputs at a given $(x_t, t)$,
# so the same mixing rule holds for each of them:
#
# $$\hat v_w = \hat v_\varnothing + w\,(\hat v_y - \hat v_\varnothing),$$
#
# $w = 0$ is the unconditional model, $w = 1$ the conditional one, $w > 1$ guidance. The cost: two network
# outputs per evaluation. The cell checks the claim on the package's conversions: mixing velocities and
# mixing noise predictions give the same result; mixing the *squares* (a tempting slip) does not.

# %%
g = torch.Generator().manual_seed(0)
x_t = torch.randn(5, 3, generator=g, dtype=torch.float64)
t = torch.full((5,), 0.6, dtype=torch.float64)
v_cond, v_uncond = torch.randn(5, 3, generator=g, dtype=torch.float64), torch.randn(
    5, 3, generator=g, dtype=torch.float64
)
w = 3.0
guided_v = v_uncond + w * (v_cond - v_uncond)
as_eps = [diffusion.convert(v, x_t, t, "velocity", "eps") for v in (v_cond, v_uncond)]
guided_eps = as_eps[1] + w * (as_eps[0] - as_eps[1])
torch.testing.assert_close(diffusion.convert(guided_eps, x_t, t, "eps", "velocity"), guided_v)
as_score = [diffusion.convert(v, x_t, t, "velocity", "score") for v in (v_cond, v_uncond)]
guided_score = as_score[1] + w * (as_score[0] - as_score[1])
torch.testing.assert_close(
    diffusion.convert(guided_score * -t[:, None], x_t, t, "eps", "velocity"), guided_v
)

# %% [markdown]
# ## What guidance samples: an exact 1-D check
#
# Does running the sampler with the guided velocity draw from $\tilde p \propto p(x)\,p(y\mid x)^w$, the
# distribution the derivation aims at? Here everything is exact. The data are a 1-D mixture: class A is
# $\mathcal N(-1, 0.3^2)$, class B is $\mathcal N(1, 0.3^2)$ with weight one half each. On the straight path
# the noised densities are mixtures too (each component becomes
# $\mathcal N((1-t)\mu, (1-t)^2 s^2 + t^2)$), so both velocities have closed forms (6.3), and we integrate
# the guided ODE accurately (Heun, 200 steps) for class B with $w = 3$.

# %%
MU, S, W_PRIOR = (
    torch.tensor([-1.0, 1.0], dtype=torch.float64),
    0.3,
    torch.tensor([0.5, 0.5], dtype=torch.float64),
)


def posterior_parts(x, t, comps):
    """Per component k of the noised mixture: p(k | x), E[x0 | x, k] and E[eps | x, k]."""
    a, s = 1 - t, t
    var = a**2 * S**2 + s**2  # variance of component k at t
    logw = (
        torch.log(W_PRIOR[comps])
        - 0.5 * (x[:, None] - a * MU[comps]) ** 2 / var
        - 0.5 * math.log(var)
    )
    resp = torch.softmax(logw, dim=1)  # p(k | x_t), over the given comps
    e_x0 = MU[comps] + a * S**2 / var * (x[:, None] - a * MU[comps])
    e_eps = s / var * (x[:, None] - a * MU[comps])
    return resp, e_x0, e_eps


def exact_velocity(x, t, comps):
    """E[eps - x0 | x_t = x] for the mixture of ``comps``: the exact flow velocity."""
    resp, e_x0, e_eps = posterior_parts(x, t, comps)
    return (resp * (e_eps - e_x0)).sum(dim=1)


def guided_velocity(x, t, w):
    v_u, v_c = exact_velocity(x, t, [0, 1]), exact_velocity(x, t, [1])
    return v_u + w * (v_c - v_u)


def integrate(velocity, x, steps=200):
    ts = torch.linspace(1.0, 0.0, steps + 1, dtype=torch.float64)
    for t, s in zip(ts[:-1], ts[1:]):
        v = velocity(x, t)
        x_e = x + (s - t) * v
        x = x_e if s == 0 else x + (s - t) * 0.5 * (v + velocity(x_e, s))
    return x


noise = torch.randn(20_000, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
samples = {
    w: integrate(lambda x, t: guided_velocity(x, t, w), noise.clone()) for w in (0.0, 1.0, 3.0)
}

# the target of the derivation, p(x) p(B | x)^w, on a grid (normalised numerically)
grid = torch.linspace(-3, 3, 2001, dtype=torch.float64)
comp = torch.stack([torch.exp(-0.5 * (grid - m) ** 2 / S**2) for m in MU]) / (
    S * math.sqrt(2 * math.pi)
)
p_x = 0.5 * comp.sum(0)
p_b = 0.5 * comp[1] / p_x
tilted = p_x * p_b**3
tilted /= torch.trapezoid(tilted, grid)
mean_tilted = float(torch.trapezoid(grid * tilted, grid))
var_tilted = float(torch.trapezoid((grid - mean_tilted) ** 2 * tilted, grid))

fig, ax = plt.subplots(figsize=(7, 3.5))
bins = np.linspace(-3, 3, 121)
for w, colour in ((0.0, "0.6"), (1.0, "C0"), (3.0, "C3")):
    ax.hist(
        samples[w].numpy(),
        bins=bins,
        density=True,
        histtype="step",
        color=colour,
        label=f"guided ODE, w = {w:g}",
    )
ax.plot(grid, tilted, "k--", lw=1, label="p(x) p(B|x)^3 (the derivation's target)")
ax.set(
    xlabel="x",
    ylabel="density",
    title=r"Guidance for class B: the samples are not from $p(x)\,p(B\mid x)^w$",
)
ax.legend(fontsize=8)
plt.show()

# %% tags=["hide-input"]
b_exact = 1.0, S**2  # class B itself: mean 1, variance 0.09
for w, target in ((0.0, (0.0, 1.0 + S**2)), (1.0, b_exact)):  # w = 0: the mixture; w = 1: class B
    m, v = samples[w].mean().item(), samples[w].var().item()
    se_m, se_v = math.sqrt(target[1] / len(noise)), target[1] * math.sqrt(2 / len(noise))
    assert abs(m - target[0]) < 4 * se_m and abs(v - target[1]) < 4 * se_v + 0.002, (w, m, v)
m3, v3 = samples[3.0].mean().item(), samples[3.0].var().item()
se_var = var_tilted * math.sqrt(2 / len(noise))
assert abs(v3 - var_tilted) > 20 * se_var  # guidance does not sample the tilted density
assert v3 < S**2 and var_tilted > 0.95 * S**2  # it narrows class B; the tilted density hardly does
glue("e65_var_b", S**2, display=False)
glue("e65_var_tilted", var_tilted, display=False)
glue("e65_var_guided", v3, display=False)
glue("e65_mean_guided", m3, display=False)
glue("e65_mean_tilted", mean_tilted, display=False)

# %% [markdown]
# With $w = 0$ and $w = 1$ the sampler draws exactly the mixture and class B (the folded cell asserts their
# means and variances). With $w = 3$ it does not draw the derivation's target: $p(x)\,p(B\mid x)^3$ has
# variance {glue:text}`e65_var_tilted:.3f` (class B alone: {glue:text}`e65_var_b:.3f`; far from class A the
# classifier is already sure, so the power changes little), but the guided samples have variance
# {glue:text}`e65_var_guided:.3f` and mean {glue:text}`e65_mean_guided:.2f`: they are pushed away from A and
# squeezed together. The reason is that the guided velocity at time $t$ is built from the *noised*
# densities, and tilting by $p_t(y\mid x)^w$ does not commute with noising: at large $t$ the classes overlap,
# the noisy classifier is unsure, and its amplified gradient shoves samples far from the other class early
# on. Guidance is therefore best understood as what it does, not as sampling a known distribution: it
# moves samples towards regions that are typical of their class and away from the others, and shrinks the
# spread within the class. Both effects show up below.
#
# ## The trade-off on Fashion-MNIST
#
# The shipped model of 6.4, one row per guidance weight, the same noise and labels in every row:

# %%
model = recipes.load_or_train("flow-fashion").eval()
weights = [0.0, 1.0, 2.0, 4.0]
noise_img = torch.randn(10, 1, 28, 28, generator=torch.Generator().manual_seed(3))
labels = torch.arange(10)
fig, axes = plt.subplots(len(weights), 1, figsize=(8, 4.4))
with torch.no_grad():
    for ax, w in zip(axes, weights):
        imgs = model.sample(
            10, noise=noise_img, labels=labels, steps=10, sampler="heun", guidance=w
        )
        ax.imshow(plotting.make_grid(imgs, nrow=10, padding=1), cmap="gray")
        ax.set_axis_off()
        ax.set_title(
            f"w = {w:g}" + (" (unconditional: the labels are ignored)" if w == 0 else ""),
            fontsize=8,
            loc="left",
        )
fig.suptitle(
    "One column per class (T-shirt ... ankle boot), the same noise in every row", fontsize=9
)
plt.tight_layout()
plt.show()

# %% [markdown]
# Without guidance the columns ignore their labels; at $w = 1$ each column holds its class; at larger
# weights the clothes become bolder, more contrasted and more alike, the "typical" member of the class.
# `tools/evaluate_diffusion.py guidance` measured this over thousands of samples (classes balanced, Heun
# with 10 steps), with 4.5's metrics and one more: the share of samples that the course classifier assigns
# to the class that was asked for.

# %%
gfile = json.loads((RESULTS / "diffusion-guidance-cpu.json").read_text())
grows = gfile["rows"]
ws = [r["guidance"] for r in grows]
fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
axes[0].errorbar(
    ws, [r["fid"]["mean"] for r in grows], [r["fid"]["std"] for r in grows], marker="o", capsize=2
)
fid_best_w = min(grows, key=lambda r: r["fid"]["mean"])["guidance"]
axes[0].set(xlabel="guidance weight w", ylabel="FID", title=f"FID: lowest at w = {fid_best_w:g}")
for key, marker in (("precision", "o"), ("density", "s"), ("label_accuracy", "^")):
    axes[1].errorbar(
        ws,
        [r[key]["mean"] for r in grows],
        [r[key]["std"] for r in grows],
        marker=marker,
        capsize=2,
        label=key.replace("_", " "),
    )
axes[1].set(xlabel="guidance weight w", title="Fidelity rises")
axes[1].legend(fontsize=8)
for key, marker in (("recall", "o"), ("coverage", "s")):
    axes[2].errorbar(
        ws,
        [r[key]["mean"] for r in grows],
        [r[key]["std"] for r in grows],
        marker=marker,
        capsize=2,
        label=key,
    )
axes[2].set(xlabel="guidance weight w", title="Diversity falls")
axes[2].legend(fontsize=8)
fig.suptitle(
    f"{gfile['n_samples']} samples per point, mean ± sd over {gfile['seeds']} noise seeds",
    fontsize=9,
)
plt.tight_layout()
plt.show()

# %% tags=["hide-input"]
by_w = {r["guidance"]: r for r in grows}
best_w = min(grows, key=lambda r: r["fid"]["mean"])["guidance"]
hi = max(ws)
peak_w = max(grows, key=lambda r: r["precision"]["mean"])["guidance"]
assert peak_w > 1.0  # fidelity up ...
assert by_w[peak_w]["precision"]["mean"] > by_w[1.0]["precision"]["mean"]
assert by_w[hi]["recall"]["mean"] < by_w[1.0]["recall"]["mean"]  # ... diversity down
assert (
    by_w[hi]["label_accuracy"]["mean"]
    > by_w[1.0]["label_accuracy"]["mean"]
    > by_w[0.0]["label_accuracy"]["mean"]
)
assert by_w[hi]["fid"]["mean"] > by_w[best_w]["fid"]["mean"]  # too much guidance hurts FID
glue("e65_best_w", best_w, display=False)
glue("e65_best_fid", by_w[best_w]["fid"]["mean"], display=False)
glue("e65_hi_w", hi, display=False)
glue("e65_peak_w", peak_w, display=False)
glue("e65_peak_precision", by_w[peak_w]["precision"]["mean"], display=False)
for w_key, tag in ((0.0, "w0"), (1.0, "w1"), (hi, "whi")):
    for key in ("fid", "precision", "recall", "label_accuracy", "coverage"):
        glue(f"e65_{tag}_{key}", by_w[w_key][key]["mean"], display=False)

# %% [markdown]
# The measurements agree with the pictures:
#
# * **fidelity rises, up to a point**: precision goes from {glue:text}`e65_w1_precision:.2f` at $w = 1$ to
#   {glue:text}`e65_peak_precision:.2f` at $w =$ {glue:text}`e65_peak_w:g`, then falls back to
#   {glue:text}`e65_whi_precision:.2f` at $w =$ {glue:text}`e65_hi_w:g` as the clothes become
#   exaggerated; the classifier recognises the
#   requested class in {glue:text}`e65_whi_label_accuracy:.1%` of the samples, against
#   {glue:text}`e65_w1_label_accuracy:.1%` at $w = 1$ and {glue:text}`e65_w0_label_accuracy:.1%` without
#   guidance (what chance alone would give: exercise 6.5a);
# * **diversity falls**: recall from {glue:text}`e65_w1_recall:.2f` to {glue:text}`e65_whi_recall:.2f`,
#   coverage from {glue:text}`e65_w1_coverage:.2f` to {glue:text}`e65_whi_coverage:.2f`;
# * **FID**, which penalises both, is lowest at $w =$ {glue:text}`e65_best_w:g`
#   ({glue:text}`e65_best_fid:.2f`) and grows to {glue:text}`e65_whi_fid:.2f` at
#   $w =$ {glue:text}`e65_hi_w:g`.
#
# Image generators pick their default guidance the same way, by the trade-off a user wants; Ho and
# Salimans report the same U-shaped FID and rising Inception score on ImageNet {cite}`ho2022classifier`.
#
# ## Try it in the browser
#
# On the course website the model runs in your browser: pick a class, a guidance weight and a number of
# steps, and watch the images form step by step. The sampling loop (Euler or Heun on the guided velocity) is
# written in the page's JavaScript; only the network, exported to ONNX, is evaluated by ONNX Runtime Web.
# Below, without JavaScript, the same demo's first frame made by PyTorch.

# %%
live_demo("flow-fashion", "diffusion", n=8, cols=8, label=7)

# %% [markdown]
# ## Exercises
#
# ### 6.5a Predict: guessing the class by chance
#
# With $w = 0$ the model ignores the label, so the course classifier finds the requested class only by
# chance. Before running anything, write down the share of such samples that match their requested class
# (assume a perfect model and a perfect classifier) in two cases: (1) the requested labels are balanced, and
# the data's classes are balanced, as in Fashion-MNIST; (2) a data set where class 0 holds half the images
# and the nine others share the rest equally, and the requested labels are drawn with the same frequencies
# as the data.

# %%
my_share_balanced = ...  # your number in [0, 1]
my_share_skewed = ...  # your number in [0, 1]
ch6_guidance.q65a.check((my_share_balanced, my_share_skewed))

# %% [markdown]
# :::{dropdown} Solution
# A sample's class $c$ and the requested label $y$ are independent at $w = 0$, so the match probability is
# $\sum_c P(y = c)\,P(	ext{class} = c)$. (1) $10 \cdot 	frac1{10}\cdot	frac1{10} = 0.1$, whatever the data
# look like, as long as the requests are balanced. (2) $\sum_c p_c^2 = 0.5^2 + 9\,(0.5/9)^2 pprox 0.278$.
# :::

# %% tags=["hide-cell"]
assert ch6_guidance.q65a.check((0.1, 0.25 + 9 * (0.5 / 9) ** 2), quiet=True)

# %% [markdown]
# ### 6.5b Debug: guidance that makes things worse
#
# This guided velocity comes from a blog post. With $w = 3$ its samples of the 1-D mixture above look like
# class A, not B. Fix it (keep the signature; `v_cond` and `v_uncond` are the model's two outputs).


# %%
def guide(v_cond, v_uncond, w):
    return v_cond + w * (v_uncond - v_cond)


ch6_guidance.q65b.check(guide)

# %% [markdown]
# :::{dropdown} Solution
# The roles are swapped: the formula extrapolates *away* from the conditional prediction. Guidance starts
# from the unconditional output and moves beyond the conditional one:
# ```python
# def guide(v_cond, v_uncond, w):
#     return v_uncond + w * (v_cond - v_uncond)
# ```
# (Equivalently `(1 - w) * v_uncond + w * v_cond`; with the roles swapped, `w = 1` would give the
# unconditional model.)
# :::


# %% tags=["hide-cell"]
def guide_fixed(v_cond, v_uncond, w):
    return v_uncond + w * (v_cond - v_uncond)


assert ch6_guidance.q65b.check(guide_fixed, quiet=True)

# %% [markdown]
# ### 6.5c Investigate: where does guidance act?
#
# Using the exact 1-D functions of this page (`exact_velocity`, `integrate`), apply guidance ($w = 3$, class
# B) only for $t > 0.5$ (the noisy first half of sampling) and plain conditional sampling ($w = 1$) for
# $t \le 0.5$; then the other way round. Which half makes the samples' variance shrink? Return `"early"` if
# guidance in the noisy half ($t > 0.5$) narrows class B most, `"late"` otherwise, and the two variances.


# %%
def where_guidance_acts():
    ...  # your code: return ("early" or "late", variance_early, variance_late)


ch6_guidance.q65c.check(where_guidance_acts)

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def where_guidance_acts():
#     def field(early):
#         def v(x, t):
#             w = 3.0 if (t > 0.5) == early else 1.0
#             return guided_velocity(x, t, w)
#         return v
#     x = torch.randn(10_000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
#     v_early = integrate(field(True), x.clone()).var().item()
#     v_late = integrate(field(False), x.clone()).var().item()
#     return ("early" if v_early < v_late else "late"), v_early, v_late
# ```
# Guidance acts early: while the classes overlap the noisy classifier's gradient is large and pushes
# samples away from class A. Late in sampling the classes are separated, $p_t(B\mid x) \approx 1$ near
# class B, and its gradient, and hence the guidance term, is nearly zero.
# :::


# %% tags=["hide-cell"]
def where_guidance_acts_reference():
    def field(early):
        def v(x, t):
            w = 3.0 if (t > 0.5) == early else 1.0
            return guided_velocity(x, t, w)

        return v

    x = torch.randn(10_000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    v_early = integrate(field(True), x.clone()).var().item()
    v_late = integrate(field(False), x.clone()).var().item()
    return ("early" if v_early < v_late else "late"), v_early, v_late


assert ch6_guidance.q65c.check(where_guidance_acts_reference, quiet=True)

# %% [markdown]
# ## Summary
#
# * By Bayes' rule a conditional score is the unconditional score plus a classifier's gradient;
#   classifier-free guidance replaces the classifier by the difference of the model's conditional and
#   unconditional predictions, learnt together by dropping labels in training.
# * The mixing rule is the same for noise, velocity and score predictions; it costs two network outputs
#   per evaluation.
# * Guidance does not sample $p(x)\,p(y\mid x)^w$: noising and tilting do not commute. It pushes samples
#   towards the typical members of their class.
# * Measured: fidelity (precision, density, recognisable class) rises with $w$ and diversity (recall,
#   coverage) falls; FID is best at a small weight.
