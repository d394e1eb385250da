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
# # 4.2 DCGAN on Fashion-MNIST
#
# Part II trained GANs on points in the plane. Here we train one on images, with the architecture that first
# made GANs work reliably on pictures: the **deep convolutional GAN** (DCGAN, 深度卷积生成对抗网络) of Radford,
# Metz and Chintala {cite}`radford2016dcgan`. Their paper is mostly a list of rules found by trial and error:
#
# * no pooling: the discriminator (判别器) *downsamples* with strided convolutions and the generator (生成器)
#   *upsamples* with **transposed convolutions** (转置卷积) {cite}`dumoulin2016guide`;
# * **batch normalisation** (批归一化) {cite}`ioffe2015batchnorm` in both networks, except the generator's
#   output layer and the discriminator's input layer;
# * ReLU in the generator with a `tanh` output (so images live in $[-1, 1]$, as 4.1 scaled them), LeakyReLU
#   with slope 0.2 in the discriminator;
# * weights initialised from $\mathcal N(0, 0.02^2)$, and Adam with learning rate $2\cdot10^{-4}$ and
#   $\beta_1 = 0.5$ (the default 0.9 made training oscillate).
#
# This page builds the networks from the course package, checks every layer's shape, trains for a few steps
# so you can watch the loop, then loads the shipped model that was trained the same way for longer. It ends
# with the signs of a training run going wrong, and how to spot them in the logged losses.

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

import aigc_course as ac
from aigc_course import checkpoint, data, metrics, plotting, recipes
from aigc_course.exercises import ch4
from aigc_course.nn import count_parameters
from aigc_course.train import SampleGrid, train_gan

ac.set_seed(0)
dev = ac.device()
print(ac.describe(dev))
QUICK = ac.profile() == "quick"

# %% [markdown]
# ## The recipe
#
# Every model of Part IV is a named **recipe** in `aigc_course.recipes`: a model config, a data set and two
# training configs, `quick` (a few CPU minutes, to see the loop run) and `full` (what the shipped weights were
# trained with). `python -m aigc_course train dcgan-fashion --profile full` reproduces the shipped weights.

# %%
recipe = recipes.get_recipe("dcgan-fashion")
print(recipe.description)
print(recipe.model)
print(recipe.full)

# %% [markdown]
# ## The architecture, layer by layer
#
# Shape mistakes are the most common bug in convolutional code, so we look at every layer. A **forward
# hook** (前向钩子) is a function PyTorch calls after a module's `forward`; we register one on every leaf
# module, run one batch through, and print each layer's output shape and parameter count.

# %%
def shape_table(model: nn.Module, *inputs: torch.Tensor) -> tuple[torch.Tensor, list]:
    """Run ``model(*inputs)`` and print (layer, type, output shape, parameters) for every
    leaf module."""
    rows = []
    leaves = [(name, m) for name, m in model.named_modules() if not list(m.children())]
    hooks = [m.register_forward_hook(lambda m, args, out, name=name: rows.append(
        (name, type(m).__name__, tuple(out.shape), count_parameters(m)))) for name, m in leaves]
    try:
        with torch.no_grad():
            out = model(*inputs)
    finally:
        for h in hooks:
            h.remove()
    print(f"{'layer':<22}{'type':<17}{'output shape':<20}{'parameters':>10}")
    for name, kind, shape, n in rows:
        print(f"{name:<22}{kind:<17}{str(shape):<20}{n:>10,}")
    print(f"{'total':<59}{sum(r[3] for r in rows):>10,}   output {tuple(out.shape)}")
    return out, rows


G, D = recipe.build().values()
z = torch.randn(16, G.z_dim)
print("Generator")
fake, g_rows = shape_table(G.eval(), z)
print("\nDiscriminator")
logits, d_rows = shape_table(D.eval(), fake)

# %% [markdown]
# The generator projects $z \in \mathbb R^{64}$ to 128 feature maps of 7×7, then two transposed convolutions
# double the side: 7 → 14 → 28. The discriminator mirrors it with strided convolutions, 28 → 14 → 7 → 4
# (the last one uses a 3×3 kernel because 7 is odd), and a linear layer gives **one logit per image**. Notice
# that the transposed convolutions followed by batch norm have no bias (batch norm's shift replaces it).
#
# A transposed convolution with kernel $k$, stride $s$, padding $p$ and output padding $o$ maps a side $n$ to
#
# $$ n_{\text{out}} = (n - 1)\,s - 2p + k + o , $$
#
# the inverse of the ordinary convolution's $n_{\text{out}} = \lfloor (n + 2p - k)/s \rfloor + 1$. We check
# the formula against every transposed convolution in the table, and the totals against the models.

# %%
assert fake.shape == (16, 1, 28, 28) and fake.min() >= -1 and fake.max() <= 1
assert logits.shape == (16,)
sides = [shape[-1] for _, kind, shape, _ in g_rows
         if kind in ("View", "ConvTranspose2d")]  # 7, 14, 28
for layer, n_in, n_out in zip([m for m in G.modules() if isinstance(m, nn.ConvTranspose2d)],
                              sides, sides[1:]):
    k, s, p, o = layer.kernel_size[0], layer.stride[0], layer.padding[0], layer.output_padding[0]
    assert n_out == (n_in - 1) * s - 2 * p + k + o, (n_in, n_out)
assert sides == [7, 14, 28]
assert (sum(r[3] for r in g_rows) == count_parameters(G)
        and sum(r[3] for r in d_rows) == count_parameters(D))
print(f"G: {count_parameters(G):,} parameters, D: {count_parameters(D):,} parameters")

# %% [markdown]
# ## Training, live
#
# The trainer (`train.train_gan`) runs Algorithm 1 of 2.2: a discriminator step on a real batch and a
# generated one, then a generator step with the non-saturating loss $-\log D(G(z))$. Every `log_every` steps
# it records the mean losses in a `History`, together with $\bar D(x)$ and $\bar D(G(z))$, the discriminator's
# average probability of "real" on each batch. A `SampleGrid` callback draws 64 images from the *same fixed
# noise* every `sample_every` steps, so consecutive frames show how one generator changes.
#
# In the quick profile this is a short demonstration: 200 steps on batches of 32 images, a few seconds on a
# CPU, enough to see silhouettes appear out of grey noise. The full profile trains 1 000 steps on batches of
# 128, as the recipe does.

# %%
demo_steps, demo_batch = (200, 32) if QUICK else (1000, 128)
cfg = recipe.config().replace(steps=demo_steps, batch_size=demo_batch,
                              log_every=5 if QUICK else 10,
                              sample_every=demo_steps // 10, ema=0.0)
ac.set_seed(cfg.seed)
G, D = (m.to(dev) for m in recipe.build().values())
train = data.fashion_mnist("train")
loader = data.TensorLoader(train.images, train.labels, batch_size=cfg.batch_size, seed=cfg.seed,
                           device=dev)
grid = SampleGrid(n=36, nrow=6, seed=0)
result = train_gan(G, D, loader, cfg, callbacks=[grid])
print(f"{result.steps} steps in {result.wall_time:.1f} s ({result.images_per_s:,.0f} images/s)")
print(result.history)

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 3.5))
plotting.plot_history(result.history, ["d_loss", "g_loss"], ax=axes[0], title="losses")
plotting.plot_history(result.history, ["d_real", "d_fake"], ax=axes[1],
                      title="mean D(x) and D(G(z))", ylabel="probability of 'real'")
plt.show()
assert {"d_loss", "g_loss", "d_real", "d_fake"} <= set(result.history.names())
assert (len(grid.frames) == len(grid.steps) == 11 and grid.steps[0] == 0
        and grid.steps[-1] == demo_steps)

# %% [markdown]
# A typical start: the discriminator wins the first few dozen steps (its loss drops, $\bar D(G(z))$ falls
# towards 0 and the generator loss climbs), because telling grey noise from clothes is easy. As soon as the
# generator produces dark backgrounds and bright silhouettes, it catches up and the curves settle into a noisy
# balance. The same 36 noise vectors, every few steps (the GIF loops):

# %%
gif_dir = Path(tempfile.mkdtemp())
plotting.animate(grid.frames, gif_dir / "dcgan_training.gif", fps=3, scale=2)

# %% [markdown]
# ## The shipped model
#
# `recipes.load_or_train("dcgan-fashion")` gives the model ready to use: in the quick profile the shipped
# weights (their SHA-256 is checked against the manifest before loading); in the full profile it trains the
# full recipe from scratch. The shipped generator is an **exponential moving average** (EMA, 指数移动平均) of
# the trained generator's weights, which smooths out the last oscillations of the game and gives visibly
# cleaner samples.

# %%
G_shipped = recipes.load_or_train("dcgan-fashion", device=dev)
entry = checkpoint.read_manifest()["weights"].get("dcgan-fashion")
if entry is not None:
    print(f"shipped weights: {entry['steps']} steps on {entry['device']} in "
          f"{entry['wall_time_s'] / 60:.0f} min; "
          f"final losses {({k: round(v, 3) for k, v in entry['final_losses'].items()})}")
with torch.no_grad():
    samples = G_shipped.sample(64, generator=torch.Generator().manual_seed(0)).cpu()
plotting.show_grid(samples, nrow=8, title="64 samples of the shipped DCGAN", figsize=6)
plt.show()
assert samples.shape == (64, 1, 28, 28) and samples.min() >= -1 and samples.max() <= 1

# %% [markdown]
# ## When training goes wrong
#
# A GAN has no loss that goes steadily down, so "is it working?" must be read from several signals. The
# healthy pattern in the curves above: the discriminator loss hovers around 0.5 to 1.4, $\bar D(x)$ and
# $\bar D(G(z))$ stay apart but do not reach 1 and 0, and the generator loss fluctuates without a trend. The
# common failures {cite}`salimans2016improved`:
#
# | failure | what the History shows | what the samples show |
# |---|---|---|
# | **the discriminator wins** | `d_loss` → 0, `d_real` → 1, `d_fake` → 0 | no progress, noise or blobs |
# | **exploding generator loss** | `g_loss` grows step after step (follows from the above: $-\log D(G(z))$ is large when $D(G(z)) \approx 0$) | frozen or degrading |
# | **mode collapse** (模式崩溃) | often nothing clear; sometimes `g_loss` drops while `d_loss` oscillates | many near-identical samples, few classes |
# | **checkerboard artefacts** (棋盘伪影) | nothing | a fine grid pattern, from transposed convolutions whose kernel is not a multiple of the stride |
#
# The first two are easy to provoke. Below, the generator's learning rate is almost zero, so it cannot
# answer the discriminator, whose learning rate is ten times the recipe's. Within a few steps the
# discriminator tells the two sets apart perfectly.

# %%
bad_cfg = cfg.replace(steps=10 if QUICK else 100, lr=1e-7, lr_d=2e-3,
                      log_every=2 if QUICK else 10, sample_every=0)
ac.set_seed(bad_cfg.seed)
G_bad, D_bad = (m.to(dev) for m in recipe.build().values())
bad = train_gan(G_bad, D_bad, loader, bad_cfg, progress=False)
fig, axes = plt.subplots(1, 2, figsize=(12, 3.5))
plotting.plot_history(bad.history, ["d_loss", "g_loss"], ax=axes[0], title="D wins: losses")
plotting.plot_history(bad.history, ["d_real", "d_fake"], ax=axes[1],
                      title="D wins: mean D(x), D(G(z))")
plt.show()


def d_wins(history, last: int = 3, eps: float = 0.05) -> bool:
    """The 'discriminator wins' sign: over the last ``last`` records, d_loss < eps and
    d_fake < eps."""
    d_loss, d_fake = history.as_arrays("d_loss")[1][-last:], history.as_arrays("d_fake")[1][-last:]
    return bool((d_loss < eps).all() and (d_fake < eps).all())


print("healthy demo run, discriminator wins:", d_wins(result.history))
print("broken run,       discriminator wins:", d_wins(bad.history))
assert d_wins(bad.history) and not d_wins(result.history)
assert bad.history.last("g_loss") > 2 * result.history.last("g_loss")

# %% [markdown]
# Mode collapse and checkerboards do not show in the losses, so we measure the samples instead.
#
# * **Mode collapse.** Classify 1 000 samples with the course's Fashion-MNIST classifier (introduced in 4.5)
#   and count how many land in each class. A collapsed generator piles into a few classes; the real data has
#   10% in each.
# * **Checkerboard.** The pattern $(-1)^{i+j}$ is the highest spatial frequency an image can hold. Its
#   amplitude in a sample, $|\langle x, (-1)^{i+j}\rangle| / 784$, is tiny in the real images;
#   a generator with checkerboard artefacts has much more of it.

# %%
classifier = recipes.classifier(device=dev)
test = data.fashion_mnist("test")
n_check = 1000 if QUICK else 10_000
with torch.no_grad():
    many = G_shipped.sample(n_check, generator=torch.Generator().manual_seed(1))
    predicted = classifier(many).argmax(1).cpu()
share = torch.bincount(predicted, minlength=10).float() / n_check
for name, s in zip(test.classes, share):
    print(f"{name:>12}: {s:5.1%} {'#' * int(100 * s)}")
print(f"largest class share {share.max():.1%} (uniform: 10%); "
      f"classes with at least 2%: {(share >= 0.02).sum()}")
assert (share >= 0.02).sum() >= 8, "the shipped generator should cover (nearly) every class"

checker = (-1.0) ** (torch.arange(28)[:, None] + torch.arange(28)[None, :])  # (28, 28)


def checkerboard_amplitude(images: torch.Tensor) -> float:
    """Mean |<x, (-1)^(i+j)>| / pixels over a batch of (B, 1, 28, 28) images in [-1, 1]."""
    return (images.float().cpu()[:, 0] * checker).mean(dim=(1, 2)).abs().mean().item()


real_amp = checkerboard_amplitude(metrics.to_model_space(test.images[:n_check]))
fake_amp = checkerboard_amplitude(many)
print(f"checkerboard amplitude: real {real_amp:.4f}, generated {fake_amp:.4f} "
      f"({fake_amp / real_amp:.1f}x)")
assert fake_amp < 5 * real_amp, "no strong checkerboard: kernel 4 is a multiple of stride 2"

# %% [markdown]
# The DCGAN generator uses 4×4 kernels with stride 2: every output pixel receives contributions from the same
# number of kernel taps, so the transposed convolutions do not *create* a checkerboard (a 3×3 kernel with
# stride 2 would overlap unevenly). Whatever high frequencies remain are learnt, and small.
#
# ## Exercises
#
# **Exercise 4.2a: the size of a transposed convolution.** Write `deconv_out(n, kernel, stride, padding,
# output_padding)`, the output side of `nn.ConvTranspose2d` for an $n \times n$ input. The checker compares
# it with PyTorch on several settings.

# %%
def deconv_out(n, kernel, stride, padding, output_padding=0):
    ...  # your code


ch4.q42a.check(deconv_out);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def deconv_out(n, kernel, stride, padding, output_padding=0):
#     return (n - 1) * stride - 2 * padding + kernel + output_padding
# ```
# A strided convolution maps several input sizes to the same output size (with kernel 3, stride 2, padding 1,
# both 13 and 14 become 7), so its "inverse" is ambiguous; `output_padding` picks one. The ordinary formula
# $\lfloor (n + 2p - k)/s \rfloor + 1$ *shrinks* the image, the opposite of what the generator needs.
# :::

# %% tags=["hide-cell"]
def deconv_out(n, kernel, stride, padding, output_padding=0):
    return (n - 1) * stride - 2 * padding + kernel + output_padding


assert ch4.q42a.check(deconv_out, quiet=True)

# %% [markdown]
# **Exercise 4.2b: counting parameters.** Write `block_params(c_in, c_out, k)`, the number of learnt
# parameters of one generator block `ConvTranspose2d(c_in, c_out, k, bias=False)` + `BatchNorm2d(c_out)` +
# `ReLU`. Compare your formula with the shape table above.

# %%
def block_params(c_in, c_out, k):
    ...  # your code


ch4.q42b.check(block_params);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def block_params(c_in, c_out, k):
#     return c_in * c_out * k * k + 2 * c_out
# ```
# The kernel connects every input channel to every output channel through $k \times k$ weights; batch norm
# learns a scale $\gamma$ and a shift $\beta$ per channel. Its running mean and variance are *buffers*:
# saved with the model, but updated by averaging, not by gradients.
# :::

# %% tags=["hide-cell"]
def block_params(c_in, c_out, k):
    return c_in * c_out * k * k + 2 * c_out


assert ch4.q42b.check(block_params, quiet=True)

# %% [markdown]
# ## Summary
#
# * DCGAN = strided convolutions in $D$, transposed convolutions in $G$, batch norm, ReLU/LeakyReLU, a `tanh`
#   output, $\mathcal N(0, 0.02^2)$ initialisation and Adam($2\cdot 10^{-4}$, $\beta_1 = 0.5$).
# * A transposed convolution maps $n$ to $(n-1)s - 2p + k + o$; hooks show every layer's shape, so check them.
# * Watch `d_loss`, `g_loss`, $\bar D(x)$ and $\bar D(G(z))$ together: a discriminator loss near 0 with a
#   growing generator loss means the discriminator has won. Mode collapse and artefacts need measurements on
#   the samples: a class histogram, a frequency check, and the metrics of 4.5.
