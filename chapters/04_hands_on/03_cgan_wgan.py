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
# # 4.3 Conditional GAN and WGAN-GP
#
# The DCGAN of 4.2 draws a random garment; we cannot ask it for a *sandal*. And its training is a balancing act
# between two networks. This page trains two variants that address each problem, on the same data and with the
# same convolutional architecture:
#
# * the **conditional GAN** (条件生成对抗网络, cGAN) {cite}`mirza2014cgan` gives both networks the class label
#   $y$: the generator learns $p(x \mid y)$ and the discriminator judges whether $x$ is a real image *of class
#   $y$*;
# * **WGAN-GP** {cite}`arjovsky2017wgan,gulrajani2017wgangp` replaces the discriminator by a **critic**
#   (评论家) whose score difference estimates the Wasserstein distance (2.4), kept 1-Lipschitz by a gradient
#   penalty (梯度惩罚). Its loss is a number that means something.
#
# At the end we put the three models side by side and compare them with FID, the metric 4.5 explains.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import aigc_course as ac
from aigc_course import checkpoint, data, losses, metrics, plotting, recipes
from aigc_course.exercises import ch4
from aigc_course.plotting import glue
from aigc_course.train import train_gan

ac.set_seed(0)
dev = ac.device()
print(ac.describe(dev))
QUICK = ac.profile() == "quick"
test = data.fashion_mnist("test")

# %% [markdown]
# ## Conditioning on the class
#
# The label enters each network once:
#
# * **Generator**: a learnt **embedding** (嵌入) $e_G(y) \in \mathbb R^{64}$ is concatenated to $z$, so the
#   first layer sees $[z, e_G(y)]$. Everything after it is the DCGAN generator of 4.2.
# * **Discriminator**: the **projection discriminator** (投影判别器) {cite}`miyato2018projection`. With $h(x)$ the
#   features of the last convolution, the logit is
#
#   $$ D(x, y) = w^\top h(x) + b + e_D(y)^\top h(x) . $$
#
#   The first part is an ordinary discriminator; the inner product with the class embedding asks "do these
#   features look like class $y$?". Miyato and Koyama show this form follows from the optimal
#   discriminator's log density ratio when $\log p(y \mid x)$ is log-linear in the features $h(x)$ (a
#   softmax classifier on top of $h$), and it trains better than concatenating $y$ to the image.
#
# The shipped cGAN is trained with the ingredients of Miyato and Koyama's training: spectral normalisation
# (2.4) on every layer of the discriminator and no batch norm in it, the hinge loss, and Adam with
# $(\beta_1, \beta_2)$ = {glue:text}`e43_betas`, here with one discriminator step per generator step (the
# cell below prints the recipe). An earlier version of the recipe, with the non-saturating loss, batch norm
# and Adam(0.5, 0.999) of the DCGAN recipe, drew far fewer recognisable sandals (its weights are not
# shipped, so this page cannot show it).
#
# We check the projection formula on the shipped model's discriminator. (Note what the discriminator is
# trained on: real images with their true labels, and generated images with the labels they were generated
# for. It never sees a real image with a wrong label, so $D(x, y)$ for such pairs means nothing in particular.)

# %%
cgan = recipes.load_or_train("cgan-fashion", part="all", device=dev)
G_c, D_c = cgan["generator"], cgan["discriminator"]
cgan_recipe = recipes.get_recipe("cgan-fashion")
print(f"recipe: loss={cgan_recipe.full.loss!r}, betas={cgan_recipe.full.betas}, spectral_norm="
      f"{cgan_recipe.model.spectral_norm}, batch norm in D: {not cgan_recipe.model.critic}")
glue("e43_betas", f"({cgan_recipe.full.betas[0]:g}, {cgan_recipe.full.betas[1]:g})", display=False)
print(f"label embeddings: generator {tuple(G_c.embed.weight.shape)}, "
      f"discriminator {tuple(D_c.embed.weight.shape)}")

x = metrics.to_model_space(test.images[:8]).to(dev)
y = test.labels[:8].to(dev)
with torch.no_grad():
    h = D_c.features(x)                                   # (8, 2048)
    unconditional = D_c.head(h).squeeze(1)                # w^T h(x) + b, (8,)
    projection = (D_c.embed(y) * h).sum(dim=1)            # e_D(y)^T h(x), (8,)
    logit = D_c(x, y)                                     # (8,)
torch.testing.assert_close(logit, unconditional + projection)
print("logit         ", logit.cpu().numpy().round(2))
print("  w^T h(x) + b", unconditional.cpu().numpy().round(2))
print("  e(y)^T h(x) ", projection.cpu().numpy().round(2))

# %% [markdown]
# ## One row per class
#
# To see what the generator learnt, we ask it for every class with the **same** eight noise vectors: each row
# is a class, each column one $z$. If the model separates class from style, a column keeps its "style"
# (brightness, width, pattern) across classes.

# %%
n_per_class = 8
# 0,0,...,0,1,1,... (one row per class)
labels = torch.arange(10).repeat_interleave(n_per_class).to(dev)
# (80, 64), same z per column
z = G_c.noise(n_per_class, generator=torch.Generator().manual_seed(0)).repeat(10, 1)
with torch.no_grad():
    grid = G_c(z, labels).cpu()
plotting.show_grid(grid, nrow=n_per_class, row_labels=test.classes, figsize=6,
                   title="cgan-fashion: one row per class, one z per column")
plt.show()

# %% [markdown]
# On the course website the next box runs the conditional generator in your browser (its ONNX export,
# {glue:text}`e43_onnx_mb:.1f` MB, with ONNX Runtime Web): pick a class and a seed and it draws 16 samples of
# that class. In a notebook you see the static figure, PyTorch's samples of class 5 for seed 0.

# %%
from aigc_course import export
from aigc_course.demos import live_demo

glue("e43_onnx_mb", export.shipped_onnx("cgan-fashion").stat().st_size / 1e6, display=False)
live_demo("cgan-fashion", "classes", n=16, cols=8, label=5)

# %% [markdown]
# Do the samples really belong to the requested class? The course classifier (trained on real Fashion-MNIST,
# 4.5) answers for many samples at once: the share of samples it assigns to the requested class is the
# conditional model's **class accuracy**. On real test images the classifier is right
# {glue:text}`e43_real_acc:.1%` of the time (recorded in the weights manifest), the most we can expect.

# %%
classifier = recipes.classifier(device=dev)
n_eval = 200 if QUICK else 1000
eval_labels = torch.arange(10).repeat_interleave(n_eval).to(dev)
with torch.no_grad():
    fakes = G_c.sample(len(eval_labels), eval_labels, generator=torch.Generator().manual_seed(1))
    preds = classifier(fakes).argmax(1).cpu()                            # (10 * n_eval,)
correct = (preds == eval_labels.cpu()).float()
agreement, per_class = correct.mean().item(), correct.view(10, n_eval).mean(1)
for name, acc in zip(test.classes, per_class):
    print(f"{name:>12}: {acc:6.1%}")
classifier_entry = checkpoint.read_manifest()["weights"]["classifier-fashion"]
real_acc = classifier_entry["metrics"]["test_accuracy"]
print(f"class accuracy of the conditional samples: {agreement:.1%} (real test images: "
      f"{real_acc:.1%})")
good = per_class >= 0.85
worst = test.classes[int(per_class.argmin())]
sandal = per_class[test.classes.index("Sandal")].item()
print(f"classes at 85% or more: {int(good.sum())}, "
      f"the lowest of them {per_class[good].min():.1%}; "
      f"worst class {worst} ({per_class.min():.1%})")
glue("e43_real_acc", real_acc, display=False)
glue("e43_agreement", agreement, display=False)
glue("e43_n_good", int(good.sum()), display=False)
glue("e43_good_min", per_class[good].min().item(), display=False)
glue("e43_worst_acc", per_class.min().item(), display=False)
glue("e43_worst", worst, display=False)
glue("e43_sandal", sandal, display=False)
sandal_rows = eval_labels.cpu() == test.classes.index("Sandal")
glue("e43_sandal_as_sneaker",
     (preds[sandal_rows] == test.classes.index("Sneaker")).float().mean().item(), display=False)
# The text describes the shipped weights, which the quick profile loads
# (full retrains: details may differ).
assert not QUICK or (worst == "Sandal" and 0.2 < sandal < 0.75 and int(good.sum()) >= 7)

# %% [markdown]
# Overall the samples have the requested class {glue:text}`e43_agreement:.1%` of the time, but the average
# hides the pattern. {glue:text}`e43_n_good` classes come out right at least 85% of the time (the lowest of
# them at {glue:text}`e43_good_min:.1%`). The hardest is the sandal, the class with the finest structure
# (thin straps on a dark background), at {glue:text}`e43_sandal:.1%`: the grid shows strappy low shoes, and
# the classifier calls {glue:text}`e43_sandal_as_sneaker:.0%` of the sandal samples sneakers. A single
# accuracy figure averaged over the classes would
# have hidden this.
#
# Accuracy says nothing about *variety*. A conditional generator can learn to draw one good garment per class
# and ignore $z$, a failure called conditional mode collapse. We measure the spread within each class: the
# mean distance between the classifier features of two samples of the same class, for generated and for real
# test images.

# %%
def within_class_spread(feats: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean pairwise feature distance between images of the same class, one value per
    class: (10,)."""
    return torch.stack([torch.pdist(feats[labels == c]).mean() for c in range(10)])


real_idx = torch.cat([torch.nonzero(test.labels == c)[:n_eval, 0] for c in range(10)])
fake_spread = within_class_spread(metrics.extract_features(classifier, fakes), eval_labels.cpu())
real_spread = within_class_spread(metrics.extract_features(classifier, test.images[real_idx]),
                                  test.labels[real_idx])
ratio = fake_spread / real_spread
for name, r in zip(test.classes, ratio):
    print(f"{name:>12}: generated spread / real spread = {r:.2f}")
print(f"mean ratio {ratio.mean():.2f} (1 = as varied as the real images of the class)")
glue("e43_spread_max", ratio.max().item(), display=False)
glue("e43_spread_min", ratio.min().item(), display=False)
glue("e43_spread_mean", ratio.mean().item(), display=False)
# the collapse described below (shipped weights)
assert not QUICK or (ratio.max() < 0.85 and ratio.mean() < 0.75)

# %% [markdown]
# Within every class the shipped cGAN's samples are less varied than real images of that class: between
# {glue:text}`e43_spread_min:.2f` and {glue:text}`e43_spread_max:.2f` of the real spread,
# {glue:text}`e43_spread_mean:.2f` on average. The generator leans on the label and uses only part of what
# $z$ could vary, a milder form of **conditional mode collapse** (条件模式崩溃), in which a generator ignores
# $z$ altogether and draws one garment per class. The recipe's spectral normalisation
# {cite}`miyato2018spectral` and hinge loss make the discriminator smoother and its game better behaved, which
# helps against such collapse, though no method rules it out. A FID does not single this out (every class is present in the
# right proportion); the precision and recall of 4.5 expose the missing variety.
#
# ## WGAN-GP: a loss that means something
#
# The critic $f$ outputs an unbounded score, not a probability. For a 1-Lipschitz $f$, the
# Kantorovich–Rubinstein duality (2.4) gives
#
# $$ W_1(p_{\text{data}}, p_g) = \sup_{\lVert f \rVert_L \le 1} \; \mathbb E_{x \sim p_{\text{data}}}[f(x)] -
#    \mathbb E_{z}[f(G(z))] , $$
#
# so the critic maximises the score difference (it *minimises* the critic loss
# $\mathbb E[f(G(z))] - \mathbb E[f(x)]$, `losses.wgan_critic_loss`) and the difference it reaches is an
# estimate of the Wasserstein distance (Wasserstein 距离). The gradient penalty
# $\lambda\,\mathbb E_{\hat x}[(\lVert\nabla_{\hat x} f(\hat x)\rVert_2 - 1)^2]$ on random interpolates
# $\hat x$ between real and generated images keeps $f$ close to 1-Lipschitz. Because the penalty is per
# sample, the critic must not use batch norm (it would mix the samples of a batch); our `critic=True`
# discriminator has none. The recipe follows Gulrajani et al.: $n_{\text{critic}} = 5$ critic steps per
# generator step, $\lambda = 10$, Adam with learning rate $10^{-4}$ and $\beta = (0, 0.9)$.
#
# The trainer logs the estimate as `wasserstein` (the mean real score minus the mean fake score on the
# last critic batch) and the penalty as `gp`. We train a few steps from scratch to watch them.

# %%
wgan_recipe = recipes.get_recipe("wgangp-fashion")
print(wgan_recipe.description)
demo_steps = 20 if QUICK else 500
cfg = wgan_recipe.config().replace(steps=demo_steps, batch_size=64 if QUICK else 128,
                                   log_every=1 if QUICK else 10, sample_every=0, ema=0.0)
ac.set_seed(cfg.seed)
G_w0, critic0 = (m.to(dev) for m in wgan_recipe.build().values())
train = data.fashion_mnist("train")
demo = train_gan(G_w0, critic0, data.TensorLoader(train.images, batch_size=cfg.batch_size,
                                                  seed=cfg.seed, device=dev), cfg)

fig, axes = plt.subplots(1, 2, figsize=(12, 3.5))
plotting.plot_history(demo.history, ["wasserstein"], ax=axes[0],
                      title="Wasserstein estimate E f(x) - E f(G(z))",
                      ylabel="critic score difference")
plotting.plot_history(demo.history, ["gp"], ax=axes[1], title="gradient penalty",
                      ylabel="penalty", logy=True)
plt.show()
steps, w_est = demo.history.as_arrays("wasserstein")
gp = demo.history.as_arrays("gp")[1]
np.testing.assert_allclose(w_est, -demo.history.as_arrays("d_loss")[1], rtol=1e-5, atol=1e-5)
assert w_est[-1] > w_est[0], "the critic learns to separate real from generated images"
assert gp[0] > 0.5 and gp[-1] < 0.5 * gp[0], "the penalty starts near 1 and falls"
print(f"estimate: first record {w_est[0]:.2f}, last {w_est[-1]:.2f}; "
      f"penalty: first {gp[0]:.2f}, last {gp[-1]:.3f}")

# %% [markdown]
# The check above confirms the bookkeeping: the logged estimate is exactly minus the critic loss (without the
# penalty). The penalty starts near 1: a freshly initialised critic is almost flat, its gradient norm is close
# to 0 and $(0 - 1)^2 = 1$; it falls as the critic's slope grows towards 1. In these first steps the estimate
# *rises*: the critic learns to separate the sets, and a freshly initialised generator is far from the data.
#
# Over a long run the estimate should then *fall* as the generator improves: unlike the discriminator loss of
# a standard GAN, which hovers around the same value whatever the sample quality, it tracks how far the
# generator still is from the data {cite}`arjovsky2017wgan`. Comparing the shipped run's final estimate with
# this run's peak would not show it, though: each run has its own critic, and an estimate is in its critic's
# units. To compare generators, use one **measuring protocol**: train a fresh critic against each (fixed)
# generator, with the same steps, seed and optimiser, and read its estimate on held-out data (test images
# and new samples). Here is the critic's update of WGAN-GP written out, as the trainer runs it, with a
# larger learning rate than the recipe's so that a few steps suffice (the same for every generator):

# %%
def fit_critic(G: torch.nn.Module, steps: int, lr: float = 1e-3, batch: int = 64,
               seed: int = 0) -> torch.nn.Module:
    """A fresh WGAN-GP critic trained for ``steps`` steps against the fixed generator ``G``."""
    ac.set_seed(seed)
    f = wgan_recipe.build()["discriminator"].to(dev)
    opt = torch.optim.Adam(f.parameters(), lr=lr, betas=cfg.betas)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x = metrics.to_model_space(
            train.images[torch.randint(len(train.images), (batch,), generator=gen)]).to(dev)
        with torch.no_grad():
            fake = G.sample(batch, generator=gen)
        loss = (losses.wgan_critic_loss(f(x), f(fake))                       # E f(G(z)) - E f(x)
                + cfg.gp_weight * losses.gradient_penalty(f, x, fake))       # + lambda * GP
        opt.zero_grad()
        loss.backward()
        opt.step()
    return f.eval()


wgan = recipes.load_or_train("wgangp-fashion", part="all", device=dev)
ac.set_seed(1)
G_fresh = wgan_recipe.build()["generator"].to(dev).eval()
n_w, critic_steps = (500, 30) if QUICK else (2000, 300)
x_w = metrics.to_model_space(test.images[:n_w]).to(dev)
protocol = {}
for name, G in [("untrained", G_fresh), (f"shipped, {wgan_recipe.full.steps} steps",
                                         wgan["generator"].eval())]:
    f = fit_critic(G, critic_steps)
    with torch.no_grad():
        fake_w = G.sample(n_w, generator=torch.Generator().manual_seed(3))
        protocol[name] = (f(x_w).mean() - f(fake_w).mean()).item()
# the same for the shipped critic, trained against the shipped generator only
shipped_critic = wgan["discriminator"].eval()
with torch.no_grad():
    fake_fresh = G_fresh.sample(n_w, generator=torch.Generator().manual_seed(3))
    shipped_ruler = (shipped_critic(x_w).mean() - shipped_critic(fake_fresh).mean()).item()
print(f"fresh critics, {critic_steps} steps each; estimate on {n_w} test images vs {n_w} samples")
for name, estimate in protocol.items():
    print(f"  {name:<22} {estimate:6.2f}")
print(f"the shipped critic scoring the untrained generator: {shipped_ruler:.2f}")
(w_fresh, w_shipped) = protocol.values()
assert w_fresh > 10 * abs(w_shipped), "one protocol: the better generator, a far smaller estimate"
assert shipped_ruler < w_fresh, "a critic trained elsewhere is a poor ruler"
for name, value in [("w_fresh", w_fresh), ("w_shipped", w_shipped), ("w_ruler", shipped_ruler),
                    ("critic_steps", critic_steps)]:
    glue(f"e43_{name}", value, display=False)
glue("e43_lr_ratio", fit_critic.__defaults__[0] / cfg.lr_d, display=False)

# %% [markdown]
# With one protocol (learning rate {glue:text}`e43_lr_ratio:.0f` times the recipe's) the ordering appears: {glue:text}`e43_w_fresh:.1f` for the untrained generator against
# {glue:text}`e43_w_shipped:.1f` for the shipped one, after {glue:text}`e43_critic_steps:.0f` critic steps
# each. The last line shows why the protocol matters: the shipped critic, trained only against the shipped
# generator, scores the untrained generator at {glue:text}`e43_w_ruler:.1f`. Away from the images it was
# trained on, its scores are arbitrary. (Any critic's difference of means is a lower bound on $W_1$ if the
# critic is 1-Lipschitz, so a small or negative value is a valid bound, just a useless one.) Two cautions
# remain. The units belong to the critic and its protocol: other steps or another seed give other numbers,
# so never compare estimates logged by different runs or models. And a short protocol gives a critic far
# from optimal, so its estimate is, to the extent that the critic is 1-Lipschitz (the penalty enforces that
# only softly), a loose lower bound on $W_1$.
#
# ## Three models side by side
#
# The three shipped models share the DCGAN architecture and the data. How do they compare? Pictures first,
# then a number: the **Fréchet Inception Distance** (FID) {cite}`heusel2017fid`, computed, as 4.5 explains,
# in the feature space of the course's Fashion-MNIST classifier instead of Inception-v3. Lower is better;
# two independent sets of *real* images give the floor that sampling noise alone produces.

# %%
models = {
    "DCGAN": recipes.load_or_train("dcgan-fashion", device=dev),
    "WGAN-GP": wgan["generator"],
    "cGAN": G_c,
}
fig, axes = plt.subplots(1, 3, figsize=(15, 5))
for ax, (name, G) in zip(axes, models.items()):
    with torch.no_grad():
        plotting.show_grid(G.sample(36, generator=torch.Generator().manual_seed(0)).cpu(),
                           nrow=6, ax=ax, title=name)
plt.show()

# %%
n_fid = 2000 if QUICK else 10_000
test_feats = metrics.extract_features(classifier, test.images[:n_fid])
floor = metrics.fid(metrics.extract_features(classifier, train.images[:n_fid]), test_feats)
fids = {}
for name, G in models.items():
    with torch.no_grad():
        # cGAN: classes in turn, balanced
        fake = G.sample(n_fid, generator=torch.Generator().manual_seed(2))
    fids[name] = metrics.fid(metrics.extract_features(classifier, fake), test_feats)
recipe_names = {"DCGAN": "dcgan-fashion", "WGAN-GP": "wgangp-fashion", "cGAN": "cgan-fashion"}
print(f"FID in classifier space, {n_fid} samples vs {n_fid} test images")
print(f"{'model':<28}{'FID':>8}{'generator steps':>17}")
print(f"{'real train images (floor)':<28}{floor:8.2f}")
for name, value in fids.items():
    print(f"{name:<28}{value:8.2f}{recipes.get_recipe(recipe_names[name]).full.steps:>17}")
steps_ratio = (recipes.get_recipe("wgangp-fashion").full.steps
               / recipes.get_recipe("dcgan-fashion").full.steps)
glue("e43_floor", floor, display=False)
glue("e43_fid_min_ratio", min(fids.values()) / floor, display=False)
glue("e43_dcgan_vs_best_other", fids["DCGAN"] / min(fids["cGAN"], fids["WGAN-GP"]), display=False)
glue("e43_steps_ratio", steps_ratio, display=False)
shipped = checkpoint.read_manifest()["weights"]
glue("e43_wall_wgangp", shipped["wgangp-fashion"]["wall_time_s"], display=False)
glue("e43_wall_dcgan", shipped["dcgan-fashion"]["wall_time_s"], display=False)
assert min(fids.values()) > 10 * floor, "every model is far above the floor"
# the ranking discussed below (shipped): DCGAN, then the cGAN, then WGAN-GP, clearly apart
assert not QUICK or (fids["DCGAN"] < 0.85 * fids["cGAN"] and fids["cGAN"] < 0.7 * fids["WGAN-GP"])

# %% [markdown]
# Every model is far above the floor of {glue:text}`e43_floor:.2f` (the best at
# {glue:text}`e43_fid_min_ratio:.0f` times it). The plain DCGAN wins: its FID is
# {glue:text}`e43_dcgan_vs_best_other:.2f` times the better of the other two, the cGAN. The cGAN has extra
# information (the label) and balanced classes for free, but pays for its reduced variety within classes and
# its weak sandals. The WGAN-GP model is the least finished: each of its generator steps costs five critic
# steps plus a double backward pass for the penalty, and its recipe trains {glue:text}`e43_steps_ratio:.2f`
# times the DCGAN's generator steps (its training took {glue:text}`e43_wall_wgangp:.0f` s against the
# DCGAN's {glue:text}`e43_wall_dcgan:.0f` s, from the manifest). Its advantages, a stable game and a loss
# that tracks progress, pay off over long runs and on harder data, not in a short one. Such rankings
# also move with the random seed and the budget {cite}`lucic2018gansequal`; 4.5 shows how to report them
# honestly, with error bars and with precision and recall beside FID.
#
# ## Exercises
#
# **Exercise 4.3a: reading the critic.** Write `wasserstein_estimate(real_scores, fake_scores)`, the critic's
# estimate of $W_1$ from its scores on a real batch and a generated batch (1-D tensors, possibly of different
# sizes).

# %%
def wasserstein_estimate(real_scores, fake_scores):
    ...  # your code


ch4.q43a.check(wasserstein_estimate);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def wasserstein_estimate(real_scores, fake_scores):
#     return real_scores.mean() - fake_scores.mean()
# ```
# It is the negative of the critic loss `losses.wgan_critic_loss(real_scores, fake_scores)`: the critic
# minimises $\mathbb E[f(G(z))] - \mathbb E[f(x)]$, which is the same as maximising the estimate. No sigmoid:
# critic scores are not probabilities.
# :::

# %% tags=["hide-cell"]
def reference_wasserstein_estimate(real_scores, fake_scores):
    return real_scores.mean() - fake_scores.mean()


assert ch4.q43a.check(reference_wasserstein_estimate, quiet=True)
with torch.no_grad():
    real_scores, fake_scores = shipped_critic(x_w[:64]), shipped_critic(fake_fresh[:64])
torch.testing.assert_close(reference_wasserstein_estimate(real_scores, fake_scores),
                           -losses.wgan_critic_loss(real_scores, fake_scores))

# %% [markdown]
# ## Summary
#
# * A cGAN feeds the label to both networks: an embedding concatenated to $z$ in the generator, a projection
#   $e(y)^\top h(x)$ in the discriminator. Grids with one row per class and shared $z$ per column show class
#   and style separately; a classifier measures whether the samples have the requested class.
# * WGAN-GP's critic outputs scores; $\mathbb E[f(x)] - \mathbb E[f(G(z))]$ estimates $W_1$ in that critic's
#   units. Compare generators by training a fresh critic against each with one protocol (steps, seed,
#   optimiser); estimates logged by different runs or models are not comparable. No batch norm in the critic; $n_{\text{critic}} = 5$,
#   $\lambda = 10$, Adam$(10^{-4}, 0, 0.9)$.
# * Compare models on the same footing (architecture, data, sample count) and with the real-vs-real floor next
#   to the number.
