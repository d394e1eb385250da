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
# # 5.4 Data augmentation

# %% tags=["remove-input"]
from aigc_course.plotting import page_info

page_info("04_augmentation")

# %% [markdown]
# Labels are expensive. **Data augmentation** (数据增强) enlarges a small labelled training set with extra
# examples whose labels we know without asking anyone. The classical way transforms the real images in ways
# that cannot change their class: small shifts, crops, flips, elastic distortions
# {cite}`simard2003best,krizhevsky2012imagenet`. A generative model offers another: a **conditional**
# generator (4.3) can draw as many labelled images of each class as we like, and several papers report that
# such samples help when real data are scarce, for example GAN-generated liver lesions for a CT classifier
# {cite}`antoniou2017dagan,fridadar2018augmentation`. (Augmentation is not *image enhancement*, 图像增强,
# which improves the quality of one image; one of the source articles confuses the two: errata E04.)
#
# Whether it helps is an empirical question, and the answer depends on the generator. 4.3 and 4.5 found that
# the shipped cGAN's samples look real but lack variety: within each class it draws variations of a few
# garments (conditional mode collapse), and its recall is near zero (the manifest records precision
# {glue:text}`a54_cgan_precision:.2f` and recall {glue:text}`a54_cgan_recall:.3f` on
# {glue:text}`a54_pr_samples:,` samples, against {glue:text}`a54_dcgan_precision:.2f` and
# {glue:text}`a54_dcgan_recall:.2f` for the DCGAN). Samples without variety add little information, so we
# should not expect much.
#
# One more thing must be said first: **what the generator saw**. The shipped cGAN was trained on all
# {glue:text}`a54_n_train:,` *labelled* training images of Fashion-MNIST (the manifest records
# {glue:text}`a54_cgan_steps:,` steps of {glue:text}`a54_cgan_batch` labelled images), sixty times the
# labels of the subset below. In a real low-label setting the generator may use only the labelled subset
# (and perhaps unlabelled images). Had the shipped cGAN helped, the gain could have been **label
# leakage**: the 60 000 labels reaching the classifier through the samples. So it appears here as an
# *oracle* generator, an upper bound on what this generator could give, and beside it we fit a
# generator that saw exactly the classifier's labelled images. This page measures:
#
# 1. a small labelled subset (100 images per class) and a small CNN that trains in seconds;
# 2. the classical baseline: random shifts, and shifts with horizontal flips;
# 3. oracle cGAN samples replacing real images in every batch in growing proportions, up to training on
#    samples alone; and *added* to full batches of real images, so that no real image is given up;
# 4. the same addition with samples of a class-conditional Gaussian fitted to the subset alone, the
#    generator this setting actually allows;
# 5. the reference every augmentation should be compared with: 100 *more real* images per class;
# 6. every condition repeated over several seeds, reported as mean ± standard deviation, and compared
#    seed by seed with a paired difference and its standard error.

# %%
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from scipy import stats
from torch import nn

import aigc_course as ac
from aigc_course import checkpoint, classifier, data, metrics, plotting, recipes
from aigc_course.exercises import ch5c
from aigc_course.plotting import glue

ac.set_seed(0)
ac.runtime.set_threads(1)  # a tiny CNN on batches of 32: one thread is faster than two on a CPU
dev = ac.device()
print(ac.describe(dev))
QUICK = ac.profile() == "quick"
SEEDS = 5 if QUICK else 10        # repetitions of each condition (subset, weights, batches)
STEPS = 250 if QUICK else 2000    # optimiser steps per run, the same for every condition
PER_CLASS = 100                   # labelled real images per class
BATCH = 32
ADDED = 16                        # generated images added to a full real batch ("+ added")
POOL = 1000 if QUICK else 4000    # generated images per class and seed, drawn once per seed
train, test = data.fashion_mnist("train"), data.fashion_mnist("test")
n_test = 5000 if QUICK else len(test.labels)
x_test = metrics.to_model_space(test.images[:n_test]).to(dev)            # (n_test, 1, 28, 28)
y_test = test.labels[:n_test]

# %% [markdown]
# ## A small labelled subset
#
# Each seed draws its own 100 training images per class (1 000 in all). A second, disjoint draw of the same
# size gives the "more real data" reference. Accuracy is always measured on real **test** images that no
# condition ever trains on.

# %%
def labelled_subset(seed: int, per_class: int = PER_CLASS, skip: int = 0) -> torch.Tensor:
    """Indices of ``per_class`` training images of each class, in an order drawn with ``seed``,
    after passing over the first ``skip`` of each class (``skip=per_class``: a disjoint draw)."""
    perm = torch.randperm(len(train.labels), generator=torch.Generator().manual_seed(seed))
    return torch.cat([perm[train.labels[perm] == c][skip:skip + per_class] for c in range(10)])


idx, extra = labelled_subset(0), labelled_subset(0, skip=PER_CLASS)
print(f"{len(idx)} labelled images, per class {torch.bincount(train.labels[idx]).tolist()}")
assert torch.bincount(train.labels[idx], minlength=10).eq(PER_CLASS).all()
assert not set(idx.tolist()) & set(extra.tolist()), "the second draw must be new images"
assert not torch.equal(labelled_subset(1), idx), "each seed draws its own subset"

# %% [markdown]
# ## A small classifier
#
# Two strided convolutions and a linear layer, {glue:text}`a54_params:,` parameters. It is deliberately small
# and trained briefly (the same number of steps in every condition), so that dozens of runs fit in a couple of
# minutes on a CPU. Adam with a one-cycle learning-rate schedule {cite}`smith2019superconvergence` gets most
# of the way in few steps.

# %%
def small_cnn() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 16, 5, stride=2, padding=2), nn.ReLU(),     # (B, 16, 14, 14)
        nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),    # (B, 32, 7, 7)
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10),                 # (B, 10) logits
    )


n_params = sum(p.numel() for p in small_cnn().parameters())
print(f"{n_params:,} parameters")
assert small_cnn()(torch.zeros(2, 1, 28, 28)).shape == (2, 10)

# %% tags=["hide-input"]
glue("a54_params", n_params, display=False)


# %% [markdown]
# ## Classical augmentation
#
# A **random shift** moves each image by its own offset of up to $s$ pixels in each direction, filling the
# uncovered border with the background value (black, $-1$). Here is the idea in a few lines, checked against
# the package's vectorised `classifier.random_shift` (which trains the course's feature classifier, 4.5) on
# the same random offsets.

# %%
def shift(x: torch.Tensor, s: int, gen: torch.Generator) -> torch.Tensor:
    """Move each image (B, C, H, W) by its own (dy, dx) in [-s, s] pixels; the border is -1."""
    b, _, h, w = x.shape
    dy, dx = torch.randint(0, 2 * s + 1, (2, b, 1), generator=gen)[:, :, 0]          # (B,), (B,)
    padded = F.pad(x, (s, s, s, s), value=-1.0)                              # (B, C, H+2s, W+2s)
    return torch.stack([padded[k, :, dy[k]:dy[k] + h, dx[k]:dx[k] + w] for k in range(b)])


def flip(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Mirror each image left-right with probability 1/2."""
    mirror = torch.rand(len(x), generator=gen) < 0.5                                  # (B,)
    return torch.where(mirror[:, None, None, None], x.flip(3), x)


x_demo = metrics.to_model_space(train.images[idx[::100]])                   # (10, 1, 28, 28)
for s in (1, 2):
    mine = shift(x_demo, s, torch.Generator().manual_seed(s))
    package = classifier.random_shift(x_demo, s, torch.Generator().manual_seed(s))
    torch.testing.assert_close(mine, package)
assert not torch.equal(shift(x_demo, 1, torch.Generator().manual_seed(1)), x_demo)

# %% [markdown]
# A transformation is only an augmentation if it keeps the label *and* produces images like the ones the
# classifier will meet. Shifts by a pixel qualify. Flips are less obvious: a mirrored shirt is still a shirt,
# but Fashion-MNIST photographs all shoes pointing the same way. The mean image of each class and its mirror
# image show it: the relative difference $\lVert m - \operatorname{flip}(m)\rVert / \lVert m\rVert$ is small
# for clothes and large for footwear.

# %%
# grey levels 0..255, so that the black background counts as zero
means = torch.stack([train.images[train.labels == c].float().mean(0)
                     for c in range(10)])                                    # (10, 1, 28, 28)
asymmetry = ((means - means.flip(3)).flatten(1).norm(dim=1) / means.flatten(1).norm(dim=1))
for name, a in zip(train.classes, asymmetry):
    print(f"{name:>12}: {a:.2f}")
footwear = [train.classes.index(n) for n in ("Sandal", "Sneaker", "Ankle boot")]
clothes = [c for c in range(10) if c not in footwear]
assert asymmetry[footwear].min() > 2 * asymmetry[clothes].max()

gen = torch.Generator().manual_seed(0)
fig, axes = plt.subplots(1, 2, figsize=(13, 3.6), width_ratios=[2.6, 1])
demo = torch.cat([x_demo, shift(x_demo, 2, gen), x_demo.flip(3)])           # (30, 1, 28, 28)
plotting.show_grid(demo, nrow=10, ax=axes[0], row_labels=["labelled", "shifted ±2 px", "mirrored"],
                   title="Classical augmentations of ten labelled images")
foot_means = torch.cat([means[footwear], means[footwear].flip(3)]).round().to(torch.uint8)
plotting.show_grid(foot_means, nrow=3, ax=axes[1], row_labels=["class mean", "mirrored"],
                   title="Footwear: sandal, sneaker, ankle boot")
plt.show()

# %% tags=["hide-input"]
glue("a54_asym_foot", asymmetry[footwear].min().item(), display=False)
glue("a54_asym_clothes", asymmetry[clothes].max().item(), display=False)

# %% [markdown]
# For footwear the mirror image differs from the class mean by at least
# {glue:text}`a54_asym_foot:.2f` of its norm, against at most {glue:text}`a54_asym_clothes:.2f` for the
# other classes. A flip therefore creates shoes the test set never shows; we measure whether that costs
# anything. The baseline below uses shifts of ±1 pixel, with and without flips.
#
# ## Samples from the conditional GAN
#
# `G.sample(n, labels)` draws one image per requested label. Each seed draws its own pool of
# {glue:text}`a54_pool:,` samples per class: a run of {glue:text}`a54_steps` steps with
# {glue:text}`a54_added` generated images per batch sees {glue:text}`a54_seen:,` of them, so the pool is
# hardly repeated and the generator's one advantage, unlimited fresh samples, is kept. Before using them
# as training data, two checks from 4.3: does the course's feature classifier
# ({glue:text}`a54_clf_acc:.1%` accurate on real test images) recognise the requested class, and how varied
# are the samples?

# %%
G = recipes.load_or_train("cgan-fashion", device=dev)
feature_net = recipes.classifier(device=dev)
shipped = checkpoint.read_manifest()["weights"]
clf_acc = shipped["classifier-fashion"]["metrics"]["test_accuracy"]
assert shipped["cgan-fashion"]["recipe"] == "cgan-fashion"
assert recipes.get_recipe("cgan-fashion").data == "fashion-mnist"       # all 60 000, labelled
pool_labels = torch.arange(10).repeat_interleave(POOL)                                # (10 POOL,)


def cgan_pool(seed: int) -> torch.Tensor:
    """POOL samples of each class, images in [-1, 1] on the CPU: (10 POOL, 1, 28, 28)."""
    out = []
    with torch.no_grad():
        for k, y in enumerate(pool_labels.split(2000)):
            gen = torch.Generator().manual_seed(1000 + 100 * seed + k)
            out.append(G.sample(len(y), y.to(dev), generator=gen).cpu())
    return torch.cat(out)


pool = cgan_pool(0)
with torch.no_grad():
    agree = (feature_net(pool.to(dev)).argmax(1).cpu() == pool_labels).float().view(10, -1).mean(1)
for name, a in zip(train.classes, agree):
    print(f"{name:>12}: {a:6.1%} of the samples are recognised as this class")
worst = int(agree.argmin())

fig, axes = plt.subplots(1, 2, figsize=(12, 6))
plotting.show_grid(metrics.to_model_space(train.images[idx.view(10, -1)[:, :8].flatten()]), nrow=8,
                   ax=axes[0], row_labels=train.classes, title="real labelled images (seed 0)")
plotting.show_grid(pool.view(10, POOL, 1, 28, 28)[:, :8].flatten(0, 1), nrow=8, ax=axes[1],
                   row_labels=train.classes, title="cgan-fashion samples, the same classes")
plt.show()

# %% tags=["hide-input"]
glue("a54_clf_acc", clf_acc, display=False)
for name in ("cgan", "dcgan"):
    for metric in ("precision", "recall"):
        glue(f"a54_{name}_{metric}", shipped[f"{name}-fashion"]["metrics"][metric], display=False)
glue("a54_pr_samples", shipped["cgan-fashion"]["metrics"]["n_samples"], display=False)
glue("a54_n_train", len(train.labels), display=False)
glue("a54_cgan_steps", shipped["cgan-fashion"]["steps"], display=False)
glue("a54_cgan_batch", shipped["cgan-fashion"]["train_config"]["batch_size"], display=False)
glue("a54_pool", POOL, display=False)
glue("a54_added", ADDED, display=False)
glue("a54_seen", STEPS * ADDED, display=False)
glue("a54_agree_mean", agree.mean().item(), display=False)
glue("a54_agree_worst", agree[worst].item(), display=False)
glue("a54_worst_class", train.classes[worst], display=False)

# %% [markdown]
# On average the classifier recognises {glue:text}`a54_agree_mean:.1%` of the samples as the class they were
# drawn for, but only {glue:text}`a54_agree_worst:.1%` for {glue:text}`a54_worst_class`; and within a row the
# samples differ far less than the real images do (4.3 measured the spread). As training data they bring
# little variety to any class and, for {glue:text}`a54_worst_class`, images that do not look like one.
#
# ### A generator that saw only the labelled subset
#
# The fair control must have the classifier's access to labels and no more. Training a GAN on 100 images
# per class is a study of its own; the simplest generative model that fits them is a **class-conditional
# Gaussian** in a few principal directions: for each class, the mean $m_c$ of its 100 labelled images and
# the top $k$ principal directions $v_{c,1..k}$ with their standard deviations $\sigma_{c,i}$; a sample is
# $x = m_c + \sum_i \sigma_{c,i} z_i v_{c,i}$, $z \sim \mathcal N(0, I_k)$ (probabilistic PCA without its
# noise term). Every seed fits it to its own subset.

# %%
K_GAUSS = 16                      # principal directions per class


def subset_gaussian_pool(x: torch.Tensor, y: torch.Tensor, seed: int) -> torch.Tensor:
    """POOL samples per class of a Gaussian on each class's top K_GAUSS principal directions,
    fitted to the labelled images (x, y) only: (10 POOL, 1, 28, 28) in [-1, 1]."""
    gen, out = torch.Generator().manual_seed(2000 + seed), []
    for c in range(10):
        xc = x[y == c].flatten(1)                                                  # (100, 784)
        m = xc.mean(0)
        _, sv, vt = torch.linalg.svd(xc - m, full_matrices=False)
        sd = sv[:K_GAUSS] / math.sqrt(len(xc) - 1)                                 # (K,)
        z = torch.randn(POOL, K_GAUSS, generator=gen)
        out.append((m + (z * sd) @ vt[:K_GAUSS]).clamp(-1, 1).view(-1, 1, 28, 28))
    return torch.cat(out)


real_x0, real_y0 = metrics.to_model_space(train.images[idx]), train.labels[idx]
gauss = subset_gaussian_pool(real_x0, real_y0, 0)
# class-conditional: the mean sample of each class is nearest to that class's mean labelled image
real_means = torch.stack([real_x0[real_y0 == c].flatten(1).mean(0) for c in range(10)])
gauss_means = torch.stack([gauss[pool_labels == c].flatten(1).mean(0) for c in range(10)])
assert torch.equal(torch.cdist(gauss_means, real_means).argmin(1), torch.arange(10))
with torch.no_grad():
    agree_g = (feature_net(gauss.to(dev)).argmax(1).cpu() == pool_labels).float()
agree_g = agree_g.view(10, -1).mean(1)
print(f"class-conditional Gaussian (seed 0's subset only): {agree_g.mean():.1%} recognised "
      f"as the class drawn, worst class {agree_g.min():.1%}")
plotting.show_grid(gauss.view(10, POOL, 1, 28, 28)[:, :8].flatten(0, 1), nrow=8, figsize=5,
                   row_labels=train.classes, title="class-conditional Gaussian of the subset")
plt.show()

# %% tags=["hide-input"]
glue("a54_gauss_agree", agree_g.mean().item(), display=False)


# %% [markdown]
# Blurry garments with speckle, recognised as the right class {glue:text}`a54_gauss_agree:.0%` of the
# time: a weak generator, but an honest one. It knows nothing the classifier is not also given.
#
# ## One training run
#
# Every condition trains the same network for the same number of steps on batches of 32. A batch holds
# $\operatorname{round}(f \cdot 32)$ generated images and the rest real ones, so $f$ is the **mix ratio**
# (混合比例): $f = 0$ is real data only, $f = 1/2$ is real:generated = 1:1, $f = 1$ trains on samples alone
# (the *classification accuracy score* of Ravuri and Vinyals, a measure of a conditional generator in its own
# right {cite}`ravuri2019cas`). Replacing real images confounds two things, the samples' value and the
# real images given up; so the "+ added" conditions keep all 32 real images and add
# {glue:text}`a54_added` generated ones to each batch. Classical augmentations are applied to each batch.

# %%
def train_and_test(seed, real_x, real_y, fake_x=None, fake_y=None, fraction=0.0, added=0,
                   augment=None):
    """Train ``small_cnn`` for STEPS steps on batches of BATCH - round(fraction BATCH) real and
    round(fraction BATCH) + added generated images. Return its predictions on the test images
    (n_test,) and its accuracy on the real training images it was given (unaugmented)."""
    torch.manual_seed(seed)
    model = small_cnn().to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=STEPS)
    gen = torch.Generator().manual_seed(seed)              # batches and augmentations
    n_fake = round(fraction * BATCH) + added
    for _ in range(STEPS):
        i = torch.randint(len(real_y), (BATCH - n_fake + added,), generator=gen)
        xb, yb = real_x[i], real_y[i]
        if n_fake:
            j = torch.randint(len(fake_y), (n_fake,), generator=gen)
            xb, yb = torch.cat([xb, fake_x[j]]), torch.cat([yb, fake_y[j]])   # (B, 1, 28, 28)
        if augment is not None:
            xb = augment(xb, gen)
        loss = F.cross_entropy(model(xb.to(dev)), yb.to(dev))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    with torch.no_grad():
        fit = (model(real_x.to(dev)).argmax(1).cpu() == real_y).float().mean().item()
        return torch.cat([model(x).argmax(1).cpu() for x in x_test.split(1000)]), fit


t0 = time.perf_counter()
real_x, real_y = metrics.to_model_space(train.images[idx]), train.labels[idx]
pred, fit = train_and_test(0, real_x, real_y)
one_run = time.perf_counter() - t0
print(f"one run of {STEPS} steps: {one_run:.1f} s, test accuracy "
      f"{(pred == y_test).float().mean():.1%} (training images: {fit:.1%})")
assert (pred == y_test).float().mean() > 0.6, "far above the 10% of guessing"

# %% [markdown]
# ## The experiment
#
# Eight conditions, each trained once per seed (the shifts use the package's vectorised
# `classifier.random_shift`, checked equal to `shift` above). Within a seed every condition starts from the
# same labelled subset and the same initial weights; the batches then differ, because each condition draws
# different things from the shared random generator (shifts, generated images, more indices). A per-seed
# difference between two conditions is therefore free of what the subset and the start did to both runs (an
# easy or a hard subset, lucky initial weights), though not of the batch order.

# %%
FRACTIONS = [0.5, 1.0]
CONDITIONS = (["real only", "+ shifts", "+ shifts + flips", "+ 100 more real / class"]
              + [f"cGAN f = {f}" for f in FRACTIONS]
              + [f"+ {ADDED} oracle cGAN", f"+ {ADDED} subset Gaussian"])
KEY = dict(zip(CONDITIONS, ["real", "shift", "flip", "more"]
               + [f"f{round(100 * f)}" for f in FRACTIONS]
               + ["addcgan", "addgauss"]))                           # names for the glued numbers
acc = torch.zeros(SEEDS, len(CONDITIONS), dtype=torch.float64)     # (S, C) test accuracies
per_class = torch.zeros(SEEDS, len(CONDITIONS), 10, dtype=torch.float64)
fit_acc = torch.zeros(SEEDS, len(CONDITIONS), dtype=torch.float64)  # on the real training images
t0 = time.perf_counter()
for seed in range(SEEDS):
    i_real, i_more = labelled_subset(seed), labelled_subset(seed, skip=PER_CLASS)
    real_x, real_y = metrics.to_model_space(train.images[i_real]), train.labels[i_real]
    both = torch.cat([i_real, i_more])
    fake_x, gauss_x = cgan_pool(seed), subset_gaussian_pool(real_x, real_y, seed)
    runs = {
        "real only": dict(),
        "+ shifts": dict(augment=lambda x, g: classifier.random_shift(x, 1, g)),
        "+ shifts + flips": dict(augment=lambda x, g: flip(classifier.random_shift(x, 1, g), g)),
        "+ 100 more real / class": dict(real_x=metrics.to_model_space(train.images[both]),
                                        real_y=train.labels[both]),
    }
    runs.update({f"cGAN f = {f}": dict(fake_x=fake_x, fake_y=pool_labels, fraction=f)
                 for f in FRACTIONS})
    runs[f"+ {ADDED} oracle cGAN"] = dict(fake_x=fake_x, fake_y=pool_labels, added=ADDED)
    runs[f"+ {ADDED} subset Gaussian"] = dict(fake_x=gauss_x, fake_y=pool_labels, added=ADDED)
    for c, name in enumerate(CONDITIONS):
        kwargs = dict(real_x=real_x, real_y=real_y) | runs[name]
        pred, fit_acc[seed, c] = train_and_test(seed, **kwargs)
        right = (pred == y_test).double()
        acc[seed, c] = right.mean()
        per_class[seed, c] = torch.stack([right[y_test == k].mean() for k in range(10)])
    print(f"seed {seed}: " + "  ".join(f"{a:.3f}" for a in acc[seed]))
elapsed = time.perf_counter() - t0
print(f"{SEEDS * len(CONDITIONS)} runs of {STEPS} steps in {elapsed:.0f} s")

# %% tags=["hide-input"]
glue("a54_runs", SEEDS * len(CONDITIONS), display=False)
glue("a54_seeds", SEEDS, display=False)
glue("a54_steps", STEPS, display=False)
glue("a54_n_test", n_test, display=False)

# %% [markdown]
# ## Results: mean ± standard deviation over seeds
#
# The standard deviation describes how much one run varies from seed to seed. The figure shows it as error
# bars, with every seed's run as a dot.

# %%
mean, sd = acc.mean(0), acc.std(0)
col = {name: c for c, name in enumerate(CONDITIONS)}
print(f"test accuracy on {n_test} test images, {SEEDS} seeds, {STEPS} steps per run "
      f"(last column: accuracy on the run's own real training images)")
for name, c in col.items():
    print(f"{name:<26}{mean[c]:8.2%} ± {sd[c]:.2%}{fit_acc[:, c].mean():10.2%}")

fig, ax = plt.subplots(figsize=(11, 4.2))
xs = np.arange(len(CONDITIONS))
ax.bar(xs, mean.numpy(), yerr=sd.numpy(), capsize=5, color="0.8", edgecolor="0.3",
       label="mean ± 1 s.d.")
for s in range(SEEDS):
    ax.plot(xs + np.linspace(-0.2, 0.2, SEEDS)[s], acc[s].numpy(), "o", ms=3, color="C0",
            label="one seed" if s == 0 else None)
ax.set_xticks(xs, CONDITIONS, rotation=20, ha="right")
ax.set_ylim(acc.min().item() - 0.05, acc.max().item() + 0.02)
ax.set_ylabel("test accuracy")
ax.set_title(f"Small CNN on {PER_CLASS} labelled images per class: test accuracy, {SEEDS} seeds")
ax.legend(loc="lower left")
plt.show()


# %% tags=["hide-input"]
for name, c in col.items():
    glue(f"a54_mean_{KEY[name]}", mean[c].item(), display=False)
    glue(f"a54_sd_{KEY[name]}", sd[c].item(), display=False)
    glue(f"a54_fit_{KEY[name]}", fit_acc[:, c].mean().item(), display=False)
# %% [markdown]
# ## Paired differences (配对比较): is a change real?
#
# Two conditions whose error bars overlap can still differ reliably, and two whose means differ can be equal
# up to noise. Because run $s$ of every condition shares seed $s$, the right comparison is the per-seed
# difference $d_s = \text{acc}_s(\text{condition}) - \text{acc}_s(\text{real only})$: its mean, and the
# **standard error** (标准误) of that mean, $\operatorname{sd}(d)/\sqrt S$, which says how far the mean of
# $S$ runs is likely to be from the value an unlimited number of seeds would give. We call a difference
# *resolved* when the mean is more than two standard errors from zero; otherwise these seeds cannot tell
# it from no change. This is a loose screen: with $S$ = {glue:text}`a54_seeds` seeds the mean difference
# over its standard error follows a $t$ distribution with $S - 1$ degrees of freedom, and a difference with
# no real effect passes two standard errors with probability {glue:text}`a54_p_two_se:.0%` (the 95% level
# would be {glue:text}`a54_t975:.2f` standard errors). With six comparisons against "real only", one
# spurious "resolved" among them would not be surprising; look for a consistent pattern, not one row.

# %%
def verdict(d: torch.Tensor) -> str:
    m, se = d.mean().item(), (d.std() / math.sqrt(len(d))).item()
    if abs(m) <= 2 * se:
        return "not resolved: within two standard errors of zero"
    return ("higher" if m > 0 else "lower") + " than real only, by more than two standard errors"


base = acc[:, col["real only"]]
diff = acc - base[:, None]                                                           # (S, C)
t975 = stats.t.ppf(0.975, len(base) - 1)                  # two-sided 95% point, S - 1 d.o.f.
d_mean, d_sd, d_se = diff.mean(0), diff.std(0), diff.std(0) / math.sqrt(SEEDS)
print(f"{'condition':<26}{'mean d':>9}{'sd(d)':>8}{'se(d)':>8}   verdict")
for name, c in col.items():
    if name == "real only":
        continue
    print(f"{name:<26}{d_mean[c]:+9.2%}{d_sd[c]:8.2%}{d_se[c]:8.2%}   {verdict(diff[:, c])}")
print(f"(the spread of single runs, sd(acc), is {sd.min():.2%} to {sd.max():.2%})")

# %% tags=["hide-input"]
glue("a54_t975", float(t975), display=False)
for name, c in col.items():
    if name != "real only":
        glue(f"a54_d_{KEY[name]}", d_mean[c].item(), display=False)
        glue(f"a54_dse_{KEY[name]}", d_se[c].item(), display=False)
        glue(f"a54_v_{KEY[name]}", verdict(diff[:, c]), display=False)
glue("a54_p_two_se", float(2 * stats.t.sf(2.0, len(base) - 1)), display=False)

# %% [markdown]
# What this run found, in the terms the numbers allow ({glue:text}`a54_seeds` seeds,
# {glue:text}`a54_steps` steps per run, {glue:text}`a54_n_test` test images):
#
# * **Shifts** change accuracy by {glue:text}`a54_d_shift:+.2%` ± {glue:text}`a54_dse_shift:.2%` (mean ±
#   standard error of the paired difference): {glue:text}`a54_v_shift`. **Shifts with flips**:
#   {glue:text}`a54_d_flip:+.2%` ± {glue:text}`a54_dse_flip:.2%`, {glue:text}`a54_v_flip`.
# * **100 more real images per class**: {glue:text}`a54_d_more:+.2%` ± {glue:text}`a54_dse_more:.2%`,
#   {glue:text}`a54_v_more`.
# * **Oracle cGAN samples as half of each batch** (real:generated = 1:1, $f = 1/2$):
#   {glue:text}`a54_d_f50:+.2%` ± {glue:text}`a54_dse_f50:.2%`, {glue:text}`a54_v_f50`. Training on
#   **samples alone** ($f = 1$) reaches {glue:text}`a54_mean_f100:.1%` against
#   {glue:text}`a54_mean_real:.1%` with the real images.
# * **{glue:text}`a54_added` oracle cGAN samples added** to every full real batch:
#   {glue:text}`a54_d_addcgan:+.2%` ± {glue:text}`a54_dse_addcgan:.2%`, {glue:text}`a54_v_addcgan`.
#   The same number of samples from the **Gaussian fitted to the subset**, the generator a low-label
#   setting allows: {glue:text}`a54_d_addgauss:+.2%` ± {glue:text}`a54_dse_addgauss:.2%`,
#   {glue:text}`a54_v_addgauss`.
#
# Whether a label-preserving transformation helps depends on the budget. After {glue:text}`a54_steps` steps
# the real-only network classifies {glue:text}`a54_fit_real:.1%` of its own training images correctly
# (against {glue:text}`a54_mean_real:.1%` of the test images), the runs with shifts only
# {glue:text}`a54_fit_shift:.1%` and with shifts and flips {glue:text}`a54_fit_flip:.1%`: the augmented
# runs have not yet fitted even their training data as well, which is the cost of a harder task in a short
# budget. Augmentation pays off by keeping a network from memorising its training set
# {cite}`simard2003best`, which takes longer runs; the full profile trains 2000 steps per run and measures
# the same comparison there.
#
# The next figure shows the mix ratio as a curve. Generated samples replace real images in each batch, so
# the more of them, the fewer real images a run sees in its fixed budget.

# %%
fr = [0.0] + FRACTIONS
cols = [col["real only"]] + [col[f"cGAN f = {f}"] for f in FRACTIONS]
fig, axes = plt.subplots(1, 2, figsize=(13, 4))
axes[0].errorbar(fr, mean[cols].numpy(), yerr=sd[cols].numpy(), marker="o", capsize=4,
                 label="real + cGAN, mean ± 1 s.d.")
for name, style in [("+ 100 more real / class", "--"), ("+ shifts", ":")]:
    c = col[name]
    axes[0].axhline(mean[c].item(), ls=style, color="0.4", label=f"{name} (mean)")
axes[0].set_xlabel("share f of generated images in each batch")
axes[0].set_ylabel("test accuracy")
axes[0].set_title("Mix ratio: more cGAN samples, lower accuracy?")
axes[0].legend(loc="lower left")

c_half = col["cGAN f = 0.5"]
dpc = per_class[:, c_half] - per_class[:, col["real only"]]                           # (S, 10)
axes[1].bar(np.arange(10), dpc.mean(0).numpy(), yerr=(dpc.std(0) / math.sqrt(SEEDS)).numpy(),
            capsize=3, color=["C3" if k == worst else "C0" for k in range(10)])
axes[1].axhline(0, color="k", lw=0.8)
axes[1].set_xticks(range(10), train.classes, rotation=30, ha="right")
axes[1].set_ylabel("per-class accuracy change")
axes[1].set_title("Real + cGAN (1:1) minus real only, per class (± 1 s.e.)")
plt.show()

# %% tags=["hide-input"]
glue("a54_worst_class_change", dpc.mean(0)[worst].item(), display=False)
glue("a54_worst_class_se", (dpc.std(0)[worst] / math.sqrt(SEEDS)).item(), display=False)
glue("a54_class_n", int((y_test == worst).sum()), display=False)
glue("a54_worst_class_v", verdict(dpc[:, worst]).replace("real only", "real only on this class"),
     display=False)

# %% [markdown]
# Per class, the 1:1 mix changes the accuracy on {glue:text}`a54_worst_class` (red), the class the
# generator draws worst, by {glue:text}`a54_worst_class_change:+.1%` ± {glue:text}`a54_worst_class_se:.1%`:
# {glue:text}`a54_worst_class_v`. A single class has only {glue:text}`a54_class_n` test images here, so
# per-class differences are noisier than the overall ones.
#
# The verdicts in the text are computed from the numbers of the profile that built the page. The claims
# that hold in both profiles are asserted in both; the quick profile's own findings below only there.

# %%
generated = [name for name in CONDITIONS if "cGAN" in name or "Gaussian" in name]
helped = [name for name in generated if d_mean[col[name]] > 2 * d_se[col[name]]]
gen_verdict = ("none of the ways of using generated images gave a resolved improvement (each was "
               "within two standard errors of zero, or lower)" if not helped else
               "generated images gave a resolved improvement in: " + ", ".join(helped))
print(gen_verdict)
assert mean[col["cGAN f = 1.0"]] < mean[col["real only"]] - 0.05, "samples alone are worse"
# %% tags=["hide-input"]
glue("a54_gen_verdict", gen_verdict, display=False)

# %%
if QUICK:
    for f in FRACTIONS:  # no mix ratio helps by more than two standard errors
        assert d_mean[col[f"cGAN f = {f}"]] < 2 * d_se[col[f"cGAN f = {f}"]], f
    for name in ("+ shifts", "+ shifts + flips"):  # augmented runs fit their training images less
        assert fit_acc[:, col[name]].mean() < fit_acc[:, col["real only"]].mean(), name

# %% [markdown]
# ## What to conclude, and what not
#
# * In this build, {glue:text}`a54_gen_verdict`; using only samples is clearly worse than the real
#   images they imitate. Read the oracle cGAN's rows as an upper bound: it saw sixty times the labels.
#   A gain from it that the generator fitted to the subset did not match would point to leakage rather
#   than to augmentation; only the subset generator's rows answer the question a low-label project
#   asks. For the oracle cGAN the cause of its weakness is visible above: the
#   samples are less varied than the data, and only {glue:text}`a54_agree_worst:.0%` of the
#   {glue:text}`a54_worst_class` samples look like one to the course classifier. That is the conditional
#   mode collapse of 4.3 measured as a downstream cost; the classification accuracy score ($f = 1$) exposes
#   it as plainly as recall did in 4.5.
# * The result is about *this* generator, *this* budget and *this* classifier. A better conditional model
#   (more recall), a harder task with fewer labels, or long training where the real images are memorised
#   could change it. Published gains, such as Frid-Adar et al.'s for liver lesions
#   {cite}`fridadar2018augmentation`, were measured the same way: a classifier evaluated on **real** held-out
#   data, with and without synthetic images. One source article promises, without measurement, that
#   generated labelled data "improve the model's generalisation" (提升模型泛化能力), and others that
#   generated medical images improve diagnosis (errata E104; E51, E70); this page is the check those claims
#   lack.
# * Every comparison here is repeated over seeds and reported with the standard error of the paired
#   difference. A single run per condition could not have told a change of a few tenths of a percent from
#   seed-to-seed noise (a standard deviation of {glue:text}`a54_sd_real:.2%` for real only).
#
# ## Exercises
#
# ### 5.4a Warm-up: error bars for a mean
#
# Write `standard_error(acc)`: for accuracies of shape (S, C), S
# seeds as rows and C conditions as columns, the standard error of each condition's mean accuracy.

# %%
def standard_error(acc):
    ...  # your code


ch5c.q54a.check(standard_error);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def standard_error(acc):
#     return acc.std(dim=0) / math.sqrt(acc.shape[0])
# ```
# `acc.std(dim=0)` alone is the standard deviation: how much *one* run varies. The mean of $S$ runs varies
# $\sqrt S$ times less. torch's `std` divides by $S - 1$ (numpy's `np.std` needs `ddof=1` for the same).
# :::

# %% tags=["hide-cell"]
def standard_error(acc):
    return acc.std(dim=0) / math.sqrt(acc.shape[0])


assert ch5c.q54a.check(standard_error, quiet=True)
torch.testing.assert_close(standard_error(diff), d_se)

# %% [markdown]
# ### 5.4b Warm-up: a paired comparison
#
# Write `paired_difference(acc_method, acc_base)` for two
# tensors of shape (S,) whose entry s comes from seed s in both: return the mean difference (method − base)
# and its standard error. Compare your answer on `acc[:, col["cGAN f = 0.5"]]` with the table above, and
# with the standard error you would get by treating the two sets of runs as independent.

# %%
def paired_difference(acc_method, acc_base):
    ...  # your code


ch5c.q54b.check(paired_difference);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def paired_difference(acc_method, acc_base):
#     d = acc_method - acc_base
#     return d.mean(), d.std() / math.sqrt(len(d))
# ```
# Treating the runs as independent, $\sqrt{\mathrm{se}_a^2 + \mathrm{se}_b^2}$, keeps the part of the noise
# that belongs to the seed (which labelled images were drawn, the initial weights); both conditions share
# it, so it cancels in $d_s$.
# :::

# %% tags=["hide-cell"]
def paired_difference(acc_method, acc_base):
    d = acc_method - acc_base
    return d.mean(), d.std() / math.sqrt(len(d))


assert ch5c.q54b.check(paired_difference, quiet=True)
m_half, se_half = paired_difference(acc[:, c_half], base)
torch.testing.assert_close(torch.stack([m_half, se_half]),
                           torch.stack([d_mean[c_half], d_se[c_half]]))

# %% [markdown]
# How much did pairing buy on this page? For each condition, the standard error of the paired differences
# against the one computed as if the two sets of runs were independent:

# %%
se = standard_error(acc)
print(f"{'condition':<26}{'paired se':>10}{'unpaired se':>13}")
ratios = []
for name, c in col.items():
    if name == "real only":
        continue
    unpaired = math.sqrt(se[c] ** 2 + se[col["real only"]] ** 2)
    ratios.append(d_se[c].item() / unpaired)
    print(f"{name:<26}{d_se[c]:>10.2%}{unpaired:>13.2%}")
ratio = float(np.median(ratios))
if ratio < 0.7:
    words = "pairing removed a large part of the noise: a seed makes both runs easy or hard"
else:
    words = ("the seed's shared effect is small here, so pairing changed little: most of the "
             "spread comes from the training itself (the batch order), not from a seed making "
             "both runs easy or hard together")

# %% tags=["hide-input"]
glue("a54_pair_ratio", ratio, display=False)
glue("a54_pair_words", words, display=False)

# %% [markdown]
# The median ratio of paired to unpaired standard error is {glue:text}`a54_pair_ratio:.2f`:
# {glue:text}`a54_pair_words`. Pairing costs little (the standard error has $S - 1$ degrees of freedom
# instead of $2S - 2$), and when conditions share a strong source of
# variation (subsets of very different difficulty, different test sets) it is what makes a small difference
# visible.

# %% [markdown]
# ### 5.4c Predict: a false "resolved" with three seeds
#
# A study with only 3 seeds compares, with the page's screen, a method that has **no effect at all** with
# the baseline: the difference counts as resolved when its mean is more than two standard errors
# ($\operatorname{sd}(d)/\sqrt 3$) from zero. How often does that happen? Write down a probability before
# computing; the checker simulates 200 000 such studies.

# %%
answer = ...  # your prediction: a probability

ch5c.q54c.check(answer);

# %% [markdown]
# :::{dropdown} Solution
# With no effect, $\bar d / (\operatorname{sd}(d)/\sqrt S)$ follows Student's $t$ with $S - 1 = 2$ degrees
# of freedom, whose tail has a closed form, $P(|t_2| > x) = 1 - x/\sqrt{2 + x^2}$:
# ```python
# answer = 1 - 2 / math.sqrt(2 + 2**2)      # = 2 * scipy.stats.t.sf(2, 2), about 0.18
# ```
# Almost one comparison in five: "two standard errors" means 95% only when the standard error is known,
# or estimated from many seeds. The page's own rate for its number of seeds is in the text above.
# :::

# %% tags=["hide-cell"]
answer_solution = float(2 * stats.t.sf(2.0, 2))
assert ch5c.q54c.check(answer_solution, quiet=True)

# %% [markdown]
# ### 5.4d Apply: a confidence interval instead of a screen
#
# The two-standard-error screen gives a verdict; a **confidence interval** (置信区间) gives the range of
# effects the seeds are compatible with. Write `paired_interval(acc_method, acc_base, level)`: for runs
# paired by seed, return (lower, upper), the two-sided interval at `level` (e.g. 0.95) for the mean
# difference method − base, from Student's $t$. Then apply it to the table's rows, e.g.
# `paired_interval(acc[:, col["+ shifts"]], base, 0.95)`: which intervals exclude zero?

# %%
def paired_interval(acc_method, acc_base, level):
    ...  # your code


ch5c.q54d.check(paired_interval);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def paired_interval(acc_method, acc_base, level):
#     from scipy import stats
#     d = acc_method - acc_base                                   # one difference per seed
#     half = stats.t.ppf((1 + level) / 2, len(d) - 1) * d.std() / math.sqrt(len(d))
#     return d.mean() - half, d.mean() + half
# ```
# The quantile is two-sided, $t_{(1+\text{level})/2}$, with $S - 1$ degrees of freedom (one is spent on
# the mean); the normal 1.96 would make the interval too narrow with a handful of seeds. With few seeds
# the 95% interval is wider than the page's $\pm 2$ standard errors.
# :::

# %% tags=["hide-cell"]
def paired_interval_solution(acc_method, acc_base, level):
    d = acc_method - acc_base
    half = stats.t.ppf(0.5 + level / 2, len(d) - 1) * d.std() / math.sqrt(len(d))
    return d.mean() - half, d.mean() + half


assert ch5c.q54d.check(paired_interval_solution, quiet=True)
lo, hi = paired_interval_solution(acc[:, c_half], base, 0.95)
assert abs((hi - lo) - 2 * t975 * d_se[c_half]).item() < 1e-9

# %% [markdown]
# ## Summary
#
# * Classical augmentation must preserve the label *and* stay within the data: shifts by a pixel do;
#   left-right flips create shoes Fashion-MNIST never shows.
# * Generated samples are labelled data only as good as the generator's precision **and recall**: a
#   collapsed conditional model adds near-duplicates and some wrong labels.
# * Compare augmentations under the same budget with the same seeds, report mean ± standard deviation, and
#   judge differences by the standard error of the paired differences; include "more real data" as the
#   reference, and test on real held-out images only.
