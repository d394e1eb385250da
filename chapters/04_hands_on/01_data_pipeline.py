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
# # 4.1 The data pipeline

# %% tags=["remove-input"]
from aigc_course.plotting import page_info

page_info("01_data_pipeline")

# %% [markdown]
# Every model in Part IV learns from **Fashion-MNIST** {cite}`xiao2017fashion`: 70 000 grey-scale
# 28×28 pictures of clothes in ten classes, made as a drop-in replacement for the handwritten digits of
# MNIST {cite}`lecun1998gradient`, which had become too easy. Before training a generator on it we look at
# the data the way a careful practitioner does: where it comes from and how it is verified, what it looks
# like, how balanced it is, what its pixel statistics are, how to scale it for a generator whose last layer
# is a `tanh`, and how to feed it to the GPU (or CPU) fast.
#
# This page uses the course package `aigc_course`, imported as `ac`. Its data module (数据管道, the data
# pipeline) reads the original IDX files, checks them against known SHA-256 checksums, and keeps the images
# as compact `uint8` tensors until they reach the device.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

import aigc_course as ac
from aigc_course import data, plotting
from aigc_course.plotting import glue

ac.set_seed(0)
dev = ac.device()
print(ac.describe(dev))

# %% [markdown]
# ## Where the data comes from
#
# `data.fashion_mnist()` looks in four places, in order, and uses the first copy whose checksum is right:
# the folder named by `AIGC_DATA`, the course cache `~/.cache/aigc_course`, the folder
# `/usr/share/datasets/fashion-mnist` installed by Debian's `dataset-fashion-mnist` package, and finally
# the official download (unless `AIGC_OFFLINE=1`). If nothing is found, the error names every place it
# looked and how to fix it. `python -m aigc_course data info` prints the same report from a terminal.

# %%
train = data.fashion_mnist("train")
test = data.fashion_mnist("test")
found = data.where("fashion-mnist")["splits"]
for split, info in found.items():
    print(f"{split}: {info['samples']} images from {info['folder']} ({info['source']}), "
          f"checksum {info['checksum']}")
print(f"train: images {tuple(train.images.shape)} {train.images.dtype}, "
      f"labels {tuple(train.labels.shape)}")
print(f"test:  images {tuple(test.images.shape)} {test.images.dtype}")
print(f"memory as uint8: {train.images.numel() / 2**20:.1f} MiB (as float32 it would be 4x that)")

# %% [markdown]
# :::{dropdown} Aside: the IDX format, decoded by hand
# IDX is a tiny binary format: a 4-byte *magic number* whose third byte gives the element type (`0x08` =
# unsigned byte) and whose fourth byte gives the number of dimensions, then one big-endian 32-bit size per
# dimension, then the raw values. The folded cell below decodes the header of the training images itself
# and checks that it agrees with what the package read.
# :::

# %% tags=["hide-cell"]
import gzip
import struct

images_file = next(f for f in found["train"]["files"] if "train-images" in f)
opener = gzip.open if str(images_file).endswith(".gz") else open
with opener(images_file, "rb") as f:
    header = f.read(16)
zero1, zero2, dtype_code, ndim = header[:4]
dims = struct.unpack(">3I", header[4:16])
print(f"magic bytes {header[:4].hex()}: type 0x{dtype_code:02x}, {ndim} dimensions, sizes {dims}")
assert (zero1, zero2, dtype_code, ndim) == (0, 0, 0x08, 3)
assert dims == (60000, 28, 28) and tuple(train.images.shape) == (60000, 1, 28, 28)

# %% [markdown]
# ## What the data looks like
#
# One row per class, ten random examples each. Note how similar *shirt*, *T-shirt/top*, *pullover* and
# *coat* are at this resolution: a generator that gets the silhouettes right but blurs these classes
# together is a common failure we will learn to measure in 4.5.

# %%
g = torch.Generator().manual_seed(0)
rows = []
for c in range(10):
    idx = torch.nonzero(train.labels == c).squeeze(1)
    rows.append(train.images[idx[torch.randperm(len(idx), generator=g)[:10]]])
plotting.show_grid(torch.cat(rows), nrow=10, row_labels=train.classes, figsize=7)
plt.show()

# %% [markdown]
# ## Class balance
#
# Fashion-MNIST is exactly balanced: 6 000 training and 1 000 test images per class. Balance matters for
# generative models too: a class-conditional GAN (4.3) samples labels uniformly, and a classifier-based
# metric like FID (4.5) assumes the real reference set covers every class.

# %%
train_counts = torch.bincount(train.labels, minlength=10)
test_counts = torch.bincount(test.labels, minlength=10)
fig, ax = plt.subplots(figsize=(8, 3))
x = np.arange(10)
ax.bar(x - 0.2, train_counts, width=0.4, label="train")
ax.bar(x + 0.2, test_counts, width=0.4, label="test")
ax.set_xticks(x, train.classes, rotation=30, ha="right")
ax.set_ylabel("images")
ax.legend()
plt.show()

# %% tags=["hide-input"]
assert train_counts.tolist() == [6000] * 10 and test_counts.tolist() == [1000] * 10

# %% [markdown]
# ## Pixel statistics
#
# {glue:text}`e41_frac_zero:.1%` of all pixels are pure background (exactly 0). The rest spread over the
# whole range, so the pixel
# distribution is far from Gaussian: a spike at 0 and a broad bump. The mean image of each class shows the
# average silhouette; the per-class mean intensity differs a lot (sandals are mostly background, pullovers
# and coats are large and bright).

# %%
pixels = train.images.flatten().float()
mean, std = pixels.mean().item(), pixels.std().item()
frac_zero = (train.images == 0).float().mean().item()
print(f"pixel mean {mean:.2f}, std {std:.2f} (of 255); exactly zero: {frac_zero:.1%}")

fig, axes = plt.subplots(1, 2, figsize=(11, 3), gridspec_kw={"width_ratios": [1, 1.6]})
axes[0].hist(pixels.numpy(), bins=64, log=True, color="tab:blue")
axes[0].set_xlabel("pixel value (uint8)")
axes[0].set_ylabel("count (log scale)")
class_means = torch.stack([train.images[train.labels == c].float().mean(0)
                           for c in range(10)])  # (10, 1, 28, 28)
axes[1].imshow(plotting.make_grid(class_means / 127.5 - 1, nrow=10), cmap="gray")
axes[1].set_title("mean image of each class")
axes[1].axis("off")
plt.show()

per_class = class_means.mean(dim=(1, 2, 3))
for name, m in zip(train.classes, per_class):
    print(f"{name:>12}: mean intensity {m:6.1f}")

# %% tags=["hide-input"]
# The data set's statistics must agree with the per-class ones (classes are balanced):
torch.testing.assert_close(per_class.mean(), torch.tensor(mean), rtol=1e-4, atol=1e-3)

# %% tags=["hide-input"]
glue("e41_z_lo", (0 - mean) / std, display=False)        # standardised range of the bytes
glue("e41_z_hi", (255 - mean) / std, display=False)
glue("e41_u_out", mean + std, display=False)             # bytes above this map beyond +1
glue("e41_train_mib", train.images.numel() / 2**20, display=False)
glue("e41_frac_zero", frac_zero, display=False)

# %% [markdown]
# ## Scaling for a tanh generator
#
# A DCGAN generator {cite}`radford2016dcgan` ends in $\tanh$, whose outputs lie in $(-1, 1)$. The real
# images must live in the same range, or the discriminator can tell real from fake by the range alone.
# The map from a byte $u \in \{0, \dots, 255\}$ is
#
# $$ x = \frac{u}{127.5} - 1, \qquad u = 127.5\,(x + 1), $$
#
# which sends 0 to −1 and 255 to +1 exactly. (Dividing by 255 alone gives $[0, 1]$, the range of a
# sigmoid output and of a Bernoulli cross-entropy's targets, which on grey levels is a score, not a
# likelihood (4.4); for a true Bernoulli likelihood, binarise the images (4.5). It is not the range of
# tanh. Normalising with the data set's mean and standard deviation gives values from
# {glue:text}`e41_z_lo:.2f` to {glue:text}`e41_z_hi:.2f`, partly outside the
# range of tanh: every byte above {glue:text}`e41_u_out:.0f` maps beyond $+1$.) `TensorLoader` does this
# scaling on the device, batch by batch, so the data set stays in `uint8` (4 times smaller than float32).

# %%
u = torch.arange(256, dtype=torch.uint8)
x = u.float() / 127.5 - 1
assert x[0] == -1 and x[-1] == 1 and x.min() >= -1 and x.max() <= 1
# the map is invertible on bytes
torch.testing.assert_close((127.5 * (x + 1)).round().to(torch.uint8), u)

loader = data.TensorLoader(train.images, train.labels, batch_size=256, seed=0, device=dev)
xb, yb = next(iter(loader))
print(f"a batch: {tuple(xb.shape)} {xb.dtype} on {xb.device}, "
      f"range [{xb.min():.1f}, {xb.max():.1f}]")
assert xb.dtype == torch.float32 and xb.min() >= -1 and xb.max() <= 1

z_scored_max = ((255 - mean) / std)
print(f"with mean/std normalisation the brightest pixel would be {z_scored_max:.2f}: "
      "tanh cannot reach it")
assert z_scored_max > 1

# %% [markdown]
# ## Feeding the model fast: `TensorLoader` vs `DataLoader`
#
# The usual PyTorch recipe wraps the data in a `Dataset` whose `__getitem__` converts *one* image to a
# normalised float tensor, and a `torch.utils.data.DataLoader` that calls it 128 times per batch and stacks
# the results. For a data set this small that is wasteful: the training set is
# {glue:text}`e41_train_mib:.0f` MiB as bytes and fits in any GPU's memory. `TensorLoader` keeps the `uint8` tensor on the device, draws one permutation per
# epoch from a seeded generator, and slices, scales and yields whole batches with a handful of tensor
# operations. Both give each image at most once per epoch (`TensorLoader` drops the last incomplete batch
# by default, `drop_last=True`: 96 of the 60 000 images, different ones each epoch); we measure images per
# second on this machine.

# %%
class FashionDataset(torch.utils.data.Dataset):
    """The per-sample style of the classic tutorials: convert and normalise one image at a time."""

    def __init__(self, images, labels):
        self.images, self.labels = images, labels

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.images[i].float() / 127.5 - 1, self.labels[i]


def images_per_second(batches, n_batches, rounds=5):
    """Median images/s over ``rounds`` timings of ``n_batches`` batches moved to the device.

    The first batch (warm-up) is not timed; the median resists a busy machine better than one run.
    A new epoch starts whenever one runs out (one epoch is 468 or 469 batches of 128).
    """
    def forever():
        while True:
            yield from batches

    it = forever()
    next(it)
    rates = []
    for _ in range(rounds):
        start, seen = time.perf_counter(), 0
        for _ in range(n_batches):
            xb, _ = next(it)
            xb = xb.to(dev, non_blocking=True)
            seen += len(xb)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        rates.append(seen / (time.perf_counter() - start))
    return float(np.median(rates))


n_batches = 40 if ac.profile() == "quick" else 200
reference = torch.utils.data.DataLoader(FashionDataset(train.images, train.labels),
                                        batch_size=128, shuffle=True)
ours = data.TensorLoader(train.images, train.labels, batch_size=128, seed=0, device=dev)
ref_rate = images_per_second(reference, n_batches)
our_rate = images_per_second(ours, n_batches)
print(f"DataLoader (per-sample Dataset): {ref_rate:12,.0f} images/s")
print(f"TensorLoader (whole batches):    {our_rate:12,.0f} images/s  "
      f"-> {our_rate / ref_rate:.1f}x faster")

# %% [markdown]
# The ratio depends on the machine, but the reason does not: the reference pays Python overhead per
# *image* (a `__getitem__` call, a small tensor, a collate), `TensorLoader` per *batch*. On a GPU the gap
# matters even more, because a DCGAN step on 128 small images takes about a millisecond (an estimate; no
# GPU figure is measured in this course's results yet) and a
# per-sample loader would leave the GPU idle most of the time (section 4.6 measures the whole training step).
#
# Speed is worthless if the sampling is wrong, so we check the promises: every image exactly once per
# epoch when the batch size divides the data (and at most once, dropping fewer than one batch, when it does
# not), the same order for the same seed, a new order for a new seed.

# %%
small = (torch.arange(1000) % 256).to(torch.uint8).reshape(1000, 1, 1, 1)
ids = torch.arange(1000)
check = data.TensorLoader(small, ids, batch_size=100, seed=1, scale=False)
epoch = torch.cat([y for _, y in check])
assert sorted(epoch.tolist()) == list(range(1000)), "each sample exactly once per epoch"
uneven = torch.cat([y for _, y in
                    data.TensorLoader(small, ids, batch_size=300, seed=1, scale=False)])
assert len(uneven) == 900 == len(set(uneven.tolist())), "at most once; a partial batch dropped"
again = torch.cat([y for _, y in
                   data.TensorLoader(small, ids, batch_size=100, seed=1, scale=False)])
other = torch.cat([y for _, y in
                   data.TensorLoader(small, ids, batch_size=100, seed=2, scale=False)])
assert torch.equal(epoch, again) and not torch.equal(epoch, other)
print("each epoch is a permutation; the order is reproducible from the seed")

# %% [markdown]
# ## Other data used in the course
#
# A few pages use smaller or simpler data: MNIST, scikit-learn's 8×8 digits and 2-D toy sets (below).
#
# :::{dropdown} Where each comes from and what it is for
# * **MNIST** {cite}`lecun1998gradient` (`data.mnist()`): the same reader and checks; downloaded on first use.
# * **sklearn's digits** (`data.digits()`): 1 797 images of 8×8 pixels bundled with scikit-learn, for
#   exercises that must run instantly.
# * **2-D toy sets** (`data.toy2d()`): mixtures of Gaussians on a ring or a grid, a ring, two moons. In two
#   dimensions we can *see* a generator's distribution, which makes them the best place to study
#   mode collapse (2.3) and Wasserstein GANs (2.4).
# :::

# %% tags=["hide-input"]
digits = data.digits()
fig, axes = plt.subplots(1, 5, figsize=(14, 3))
plotting.show_grid(digits.images[:36], nrow=6, ax=axes[0], title="sklearn digits (8x8)")
for ax, name in zip(axes[1:], ["8gaussians", "25gaussians", "ring", "moons"]):
    plotting.plot_points_2d(data.toy2d(name, 2000, seed=0), ax=ax, title=name, lim=3.2, s=1)
plt.show()
assert tuple(digits.images.shape) == (1797, 1, 8, 8) and digits.images.dtype == torch.uint8

# %% [markdown]
# ## Exercises
#
# ### 4.1a Predict: how many pixels would tanh miss?
#
# Suppose we had standardised the pixels instead, $z = (u - \bar u)/s$ with the training set's mean $\bar u$
# and standard deviation $s$. What share of all training pixels would land above $+1$, where a tanh
# generator cannot follow? Look at the histogram above, write down a number between 0 and 1, then check it
# (within ±0.03 counts; the checker measures it and shows both).

# %%
from aigc_course.exercises import ch4

answer = ...  # your prediction: a share between 0 and 1

ch4.q41a.check(answer);

# %% [markdown]
# :::{dropdown} Solution
# A Gaussian would put 16% of its mass beyond one standard deviation above the mean, but these pixels are
# no Gaussian: half of them are exactly 0, which pulls the mean down and inflates the standard deviation,
# and the garments' bright bodies sit above $\bar u + s$. About a quarter of all pixels, the informative
# ones, would be out of tanh's reach:
# ```python
# u = train.images.float()
# answer = (u > u.mean() + u.std()).float().mean().item()   # z > 1  <=>  u > mean + std
# ```
# :::

# %% tags=["hide-cell"]
u_all = train.images.float()
share_solution = (u_all > u_all.mean() + u_all.std()).float().mean().item()
assert ch4.q41a.check(share_solution, quiet=True)
assert 0.2 < share_solution < 0.3          # "about a quarter", as the solution says
del u_all

# %% [markdown]
# ### 4.1b Debug: three channels for a grey image (errata E46)
#
# Articles C and E scale MNIST for a tanh generator with torchvision's
# `transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))`. Written out with tensors it becomes the function
# below, which should map `uint8` images of shape (N, 1, H, W) to floats in $[-1, 1]$ of the same shape,
# 0 to −1 and 255 to +1. It runs without an error. Find its two bugs and repair it.

# %%
MEAN = torch.tensor([0.5, 0.5, 0.5]).view(1, 3, 1, 1)      # Normalize((0.5, 0.5, 0.5), ...)
STD = torch.tensor([0.5, 0.5, 0.5]).view(1, 3, 1, 1)


def to_tanh_range(u):
    """uint8 images (N, 1, H, W) -> float images in [-1, 1], same shape."""
    x = u / 256
    return (x - MEAN) / STD


ch4.q41b.check(to_tanh_range);

# %% [markdown]
# :::{dropdown} Solution
# Broadcasting turns the (N, 1, H, W) images and the (1, 3, 1, 1) mean into an (N, 3, H, W) result: three
# copies of every image, silently (torchvision's `Normalize` raises instead). Fashion-MNIST has one
# channel, so the mean and standard deviation need one entry each: `Normalize((0.5,), (0.5,))`. And
# dividing by 256 maps 255 to 0.992, not 1 (`ToTensor` divides by 255):
# ```python
# def to_tanh_range(u):
#     return (u.float() / 255 - 0.5) / 0.5    # ToTensor's /255, then Normalize((0.5,), (0.5,))
# ```
# This is the page's $u/127.5 - 1$ again, written the torchvision way.
# :::

# %% tags=["hide-cell"]
def reference_to_tanh_range(u):
    return (u.float() / 255 - 0.5) / 0.5


assert ch4.q41b.check(reference_to_tanh_range, quiet=True)

# %% [markdown]
# ## Summary
#
# * The data is read from the original IDX files and verified by SHA-256 before use; a damaged file is
#   moved aside, never used.
# * Fashion-MNIST: 60 000 + 10 000 images, exactly balanced, {glue:text}`e41_frac_zero:.0%` of the pixels pure
#   background.
# * For a tanh generator scale bytes with $u/127.5 - 1$; use $u/255$ for a Bernoulli cross-entropy (a
#   score), or binarise (4.5) for a Bernoulli likelihood.
# * Keep small data sets on the device as `uint8` and batch them with tensor operations.
