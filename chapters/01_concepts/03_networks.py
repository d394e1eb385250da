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
# # 1.3 Network essentials for generators

# %% tags=["remove-input"]
from aigc_course.plotting import page_info

page_info("03_networks")

# %% [markdown]
# The generators and discriminators of this course are built from a few kinds of layers: fully connected
# layers, **convolutions** (卷积) and **transposed convolutions** (转置卷积), **normalisation** layers
# (归一化) and **activation functions** (激活函数). They are trained by gradients that PyTorch computes with
# **automatic differentiation** (自动微分) {cite}`baydin2018autodiff,paszke2019pytorch`. This page does not
# teach deep learning from scratch; it collects what a reader needs to build and debug generators, and
# checks every formula against the real PyTorch layers:
#
# 1. the multilayer perceptron and its parameter count;
# 2. the output-size arithmetic of convolutions and transposed convolutions, over a grid of settings, and
#    the 28- versus 32- versus 64-pixel mistake that makes copied DCGAN code crash on MNIST;
# 3. what batch norm and layer norm compute;
# 4. activations and their derivatives;
# 5. checking gradients against finite differences, including catching a wrong hand-written backward pass.

# %%
import itertools
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.gradcheck import GradcheckError

import aigc_course as ac
from aigc_course import recipes
from aigc_course.exercises import ch1
from aigc_course.nn import count_parameters
from aigc_course.plotting import glue

ac.set_seed(0)
ac.runtime.set_threads(1)  # tiny layers: one CPU thread is fastest
print(ac.describe(torch.device("cpu")))  # this page runs on the CPU, whatever the machine has

# %% [markdown]
# ## The multilayer perceptron
#
# A **fully connected** (全连接, or linear) layer maps $x \in \mathbb R^{n}$ to $Wx + b$ with $W \in \mathbb R^{m
# \times n}$ and $b \in \mathbb R^m$: $(n + 1)\,m$ parameters. A **multilayer perceptron** (多层感知机,
# MLP) alternates such layers with a nonlinearity, $h = \phi(W_1 x + b_1)$, $y = W_2 h + b_2$. Without the
# nonlinearity the composition would be a single linear map. The 2-D generators of Part II are MLPs from
# noise to points. We write the forward pass by hand and compare it with `nn.Sequential` on the same
# weights, and the parameter count with the formula.

# %%
net = ac.nn.mlp([2, 64, 64, 1])  # Linear(2, 64), ReLU, Linear(64, 64), ReLU, Linear(64, 1)
linears = [m for m in net if isinstance(m, nn.Linear)]


def mlp_by_hand(x):
    h = x
    for i, layer in enumerate(linears):
        h = h @ layer.weight.T + layer.bias          # (B, n_in) @ (n_in, n_out) + (n_out,)
        if i < len(linears) - 1:
            h = torch.clamp(h, min=0)                # ReLU
    return h


x = torch.randn(16, 2)
sizes = [2, 64, 64, 1]
formula = sum((n_in + 1) * n_out for n_in, n_out in zip(sizes, sizes[1:]))
torch.testing.assert_close(mlp_by_hand(x), net(x), atol=1e-6, rtol=1e-5)
print(f"parameters: formula {formula}, count_parameters {count_parameters(net)}")
assert formula == count_parameters(net) == 4417

# %% [markdown]
# ## Convolutions and their output sizes
#
# A 2-D **convolution** slides a $k \times k$ kernel over the input with a **stride** (步幅) $s$, after
# adding $p$ rows and columns of zero **padding** (填充) on each side; a **dilation** (空洞) $d$ spreads the
# kernel's taps $d$ pixels apart, so that it spans $d(k - 1) + 1$ pixels. The output side is the number of
# positions where the spread kernel fits inside the padded input, stepping by $s$
# {cite}`dumoulin2016guide`:
#
# $$
# n_{\text{out}} = \left\lfloor \frac{n + 2p - d(k - 1) - 1}{s} \right\rfloor + 1 .
# $$
#
# A **transposed convolution** (转置卷积) is the transposed linear map of a convolution with the same
# settings and the same weights: a convolution is linear in its input, $y = Cx$ for a (large, sparse)
# matrix $C$, and the transposed convolution computes $C^\top y$, which is also the gradient of the
# convolution with respect to its input. Where a convolution gathers a $k \times k$ patch into one output
# value, its transpose *stamps* each input value, times the kernel, onto a $k \times k$ patch of the output,
# $s$ pixels apart, and sums where the stamps overlap. It maps the convolution's output size back to its input
# size. Since a strided convolution maps several sizes to the same output (floor), the transposed one needs
# an **output padding** (输出填充) $o < \max(s, d)$ to choose among them:
#
# $$
# n_{\text{out}} = (n - 1)s - 2p + d(k - 1) + o + 1 .
# $$
#
# We first check the definition: $C^\top$ is the map with $\langle Cx, y\rangle = \langle x, C^\top
# y\rangle$ for every $x$ and $y$ (the adjoint), so the two sides must agree for random tensors, with the
# weights shared, and the result must equal autograd's gradient of the convolution. Two plausible wrong
# versions (the kernel flipped, or the input upsampled and then convolved) must fail.

# %%
gen = torch.Generator().manual_seed(3)
w = torch.randn(5, 3, 4, 4, generator=gen, dtype=torch.float64)   # conv: 3 -> 5 channels, k = 4
x = torch.randn(2, 3, 16, 16, generator=gen, dtype=torch.float64)  # the convolution's input
y = torch.randn(2, 5, 8, 8, generator=gen, dtype=torch.float64)    # the shape of its output


def conv(inp, weight):
    return F.conv2d(inp, weight, stride=2, padding=1)                      # (B, 3, 16, 16) -> 8x8


def conv_t(out, weight):
    return F.conv_transpose2d(out, weight, stride=2, padding=1)             # (B, 5, 8, 8) -> 16x16


lhs = (conv(x, w) * y).sum()                                   # <C x, y>
rhs = (x * conv_t(y, w)).sum()                                 # <x, C^T y>, the same weights
x_req = x.clone().requires_grad_(True)
(grad_x,) = torch.autograd.grad(conv(x_req, w), x_req, grad_outputs=y)  # the gradient is C^T y
torch.testing.assert_close(conv_t(y, w), grad_x, atol=1e-12, rtol=0)
wrong = {
    "kernel flipped": (x * conv_t(y, w.flip(-1, -2))).sum(),
    "upsample, then convolve": (x * F.conv2d(F.pad(F.interpolate(y, scale_factor=2), (1, 2, 1, 2)),
                                             w.transpose(0, 1))).sum(),
}
print(f"<conv(x), y> = {lhs:.6f}, <x, conv_transpose(y)> = {rhs:.6f}; "
      + ", ".join(f"{name}: {value:.3f}" for name, value in wrong.items()))

# %% tags=["hide-input"]
assert abs(lhs - rhs) < 1e-10 * abs(lhs)
assert all(abs(value - lhs) > 0.01 * abs(lhs) for value in wrong.values())

# %% [markdown]
# **Which pixels feed which.** The same fact seen as wiring, in one dimension: with kernel 4, stride 2 and
# padding 1, list for every output which inputs it reads. The convolution (8 inputs, 4 outputs) and its
# transpose (4 inputs, 8 outputs) must have the same wires, reversed: the transpose's connection matrix is
# the convolution's, transposed. We read both off the layers by feeding one-hot inputs. The padding cuts
# the border wires, which is why the first and last outputs of the transpose get one stamp instead of two.

# %%
def wiring(layer_fn, n_in):
    """(n_out, n_in) matrix, True where input i reaches output o (one-hot inputs, ones kernel)."""
    columns = [layer_fn(torch.eye(n_in)[i].view(1, 1, n_in))[0, 0] != 0 for i in range(n_in)]
    return torch.stack(columns, dim=1)


kernel_1d = torch.ones(1, 1, 4)
conv_wires = wiring(lambda t: F.conv1d(t, kernel_1d, stride=2, padding=1), 8)              # (4, 8)
deconv_wires = wiring(lambda t: F.conv_transpose1d(t, kernel_1d, stride=2, padding=1), 4)  # (8, 4)
print("inputs read by each convolution output:",
      [r.nonzero().flatten().tolist() for r in conv_wires])
print("inputs stamped on each transposed output:",
      [r.nonzero().flatten().tolist() for r in deconv_wires])
assert torch.equal(deconv_wires, conv_wires.T)                  # the same wires, reversed
stamps = deconv_wires.sum(1)
assert (stamps[1:-1] == 2).all() and stamps[0] == stamps[-1] == 1  # two stamps, one at the border

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, 2, figsize=(9, 2.8))
panels = [(axes[0], conv_wires, "convolution: 8 → 4 (each output reads a window of 4)"),
          (axes[1], deconv_wires, "transposed: 4 → 8 (each input stamps up to 4 outputs)")]
for ax, wires, title in panels:
    n_out, n_in = wires.shape
    x_in = np.linspace(0, 7, n_in) if n_in < 8 else np.arange(8.0)
    x_out = np.linspace(0, 7, n_out) if n_out < 8 else np.arange(8.0)
    for o, i in wires.nonzero().tolist():
        ax.plot([x_in[i], x_out[o]], [0, 1], color="tab:blue", lw=1, alpha=0.7)
    ax.scatter(x_in, np.zeros(n_in), s=170, marker="s", c="tab:orange", zorder=3, label="input")
    ax.scatter(x_out, np.ones(n_out), s=170, marker="s", c="tab:green", zorder=3, label="output")
    for pad_x in (-1, 8) if n_in == 8 else ():
        ax.scatter([pad_x], [0], s=170, marker="s", facecolors="none", edgecolors="0.5",
                   linestyle="--", zorder=3)
    ax.set_title(title, fontsize=9)
    ax.set_ylim(-0.4, 1.4)
    ax.set_xlim(-1.6, 8.6)
    ax.axis("off")
axes[0].text(-1, -0.3, "padding", fontsize=7, ha="center", color="0.4")
axes[1].legend(fontsize=7, loc="center right", bbox_to_anchor=(1.12, 0.5))
fig.suptitle("Kernel 4, stride 2, padding 1: the same wires, in opposite directions", fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# The stamping picture explains a defect of generators. With stride 2 each output pixel is covered by
# $k/2$ stamps per direction when $s$ divides $k$, but by alternately more and fewer stamps when it does not.
# Counting the stamps (a transposed convolution of an all-ones input with an all-ones kernel) shows it; the
# uneven count is the origin of the **checkerboard artefacts** of 4.2 {cite}`odena2016deconvolution`.

# %%
fig, axes = plt.subplots(1, 2, figsize=(7.5, 3.4))
for ax, k in zip(axes, (4, 3)):
    stamps = F.conv_transpose2d(torch.ones(1, 1, 4, 4), torch.ones(1, 1, k, k), stride=2)[0, 0]
    ax.imshow(stamps, cmap="viridis", vmin=0, vmax=4)
    for (i, j), value in np.ndenumerate(stamps.numpy()):
        ax.text(j, i, f"{value:.0f}", ha="center", va="center", fontsize=7,
                color="k" if value > 2.5 else "w")
    ax.set_title(f"kernel {k}, stride 2: stamps per pixel")
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("A 4×4 input, transposed-convolved: how many kernel stamps cover each output pixel")
fig.tight_layout()
plt.show()

# %% tags=["hide-input"]
even, odd = (F.conv_transpose2d(torch.ones(1, 1, 4, 4), torch.ones(1, 1, k, k), stride=2)[0, 0]
             for k in (4, 3))
even, odd = even[2:-2, 2:-2], odd[2:-2, 2:-2]                  # the interiors
assert (even == 4).all() and set(odd.unique().tolist()) == {1.0, 2.0, 4.0}   # even vs uneven

# %% [markdown]
# Away from the border, kernel 4 with stride 2 covers every pixel with exactly four stamps; kernel 3 with
# stride 2 covers pixels with one, two or four, in a checkerboard. Both size formulas are in PyTorch's
# documentation; next we check them against the layers themselves on every combination of a grid of
# settings, and count how often three common wrong versions disagree. When the formula gives a size below
# 1, PyTorch must refuse the input.

# %%
def conv_out(n, k, s, p, d=1):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def deconv_out(n, k, s, p, d=1, o=0):
    return (n - 1) * s - 2 * p + d * (k - 1) + o + 1


WRONG = {
    "conv without the +1": lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1) // s,
    "conv rounding up": lambda n, k, s, p, d: -(-(n + 2 * p - d * (k - 1) - 1) // s) + 1,
    "conv ignoring the dilation": lambda n, k, s, p, d: (n + 2 * p - k) // s + 1,
}


def real_size(layer, n):
    """The side of layer(zeros of n x n), or None when PyTorch refuses the input."""
    try:
        with torch.no_grad():
            return layer(torch.zeros(1, 1, n, n)).shape[-1]
    except RuntimeError:
        return None


conv_grid = list(itertools.product(range(1, 34), range(1, 6), range(1, 4), range(3), range(1, 3)))
mismatch = {"formula": 0, **{name: 0 for name in WRONG}}
refused = 0
for n, k, s, p, d in conv_grid:
    got = real_size(nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d), n)
    refused += got is None
    predicted = conv_out(n, k, s, p, d)
    mismatch["formula"] += ((got is None) != (predicted < 1)
                            or (got is not None and got != predicted))
    for name, wrong in WRONG.items():
        mismatch[name] += got is not None and wrong(n, k, s, p, d) != got
n_conv = len(conv_grid)

deconv_grid = [(n, k, s, p, d, o) for n, k, s, p, d in itertools.product(range(1, 17), range(1, 6),
                                                                         range(1, 4), range(3),
                                                                         range(1, 3))
               for o in range(max(s, d))]
deconv_mismatch = {"formula": 0, "without output_padding": 0, "the conv formula": 0}
for n, k, s, p, d, o in deconv_grid:
    layer = nn.ConvTranspose2d(1, 1, k, stride=s, padding=p, dilation=d, output_padding=o)
    got = real_size(layer, n)
    predicted = deconv_out(n, k, s, p, d, o)
    if predicted >= 1:
        deconv_mismatch["formula"] += got != predicted
    else:  # an empty output (size 0) or a refusal (negative size)
        deconv_mismatch["formula"] += got not in (None, 0)
    deconv_mismatch["without output_padding"] += bool(got) and got != predicted - o
    deconv_mismatch["the conv formula"] += bool(got) and got != conv_out(n, k, s, p, d)

print(f"Conv2d, {n_conv} settings ({refused} refused by PyTorch):")
for name, count in mismatch.items():
    print(f"  {name:<28} disagrees with the layer {count:>5} times")
print(f"ConvTranspose2d, {len(deconv_grid)} settings:")
for name, count in deconv_mismatch.items():
    print(f"  {name:<28} disagrees with the layer {count:>5} times")
assert mismatch["formula"] == 0 and deconv_mismatch["formula"] == 0
assert all(mismatch[name] > 0 for name in WRONG) and refused > 0
assert deconv_mismatch["without output_padding"] > 0 and deconv_mismatch["the conv formula"] > 0

# %% tags=["hide-input"]
glue("e13_n_conv", n_conv, display=False)
glue("e13_n_deconv", len(deconv_grid), display=False)
glue("e13_wrong_plus1", mismatch["conv without the +1"], display=False)


# %% [markdown]
# The two formulas agree with PyTorch on all {glue:text}`e13_n_conv` convolution and
# {glue:text}`e13_n_deconv` transposed-convolution settings, including every case PyTorch refuses (a
# transposed convolution whose formula gives 0 returns an empty tensor instead of an error).
# Forgetting the $+1$ is wrong in {glue:text}`e13_wrong_plus1` of them. Two settings are worth
# remembering, because the DCGAN architecture {cite}`radford2016dcgan` is built from them:
#
# * kernel 4, stride 2, padding 1: a convolution halves an even side ($n \to n/2$), the transposed
#   convolution doubles it ($n \to 2n$);
# * kernel 4, stride 1, padding 0 on a 1×1 input: the transposed convolution makes a 4×4 map (the
#   generator's first layer), the convolution turns a 4×4 map into one number (the discriminator's last).
#
# ### The 28-pixel trap
#
# The DCGAN of the PyTorch tutorial is written for 64×64 images: the generator goes
# $1 \to 4 \to 8 \to 16 \to 32 \to 64$, and the discriminator runs the same sizes backwards and ends with a
# 4×4 convolution without padding that turns the last 4×4 map into one logit. Several source articles (see
# the errata, E45) copy such an architecture, one or two blocks shorter, and feed it 28×28 MNIST images. Halving
# 28 gives $28 \to 14 \to 7 \to 3 \to 1$: odd sizes appear, the floor in the formula rounds them down, and the
# final 4×4 convolution meets a map smaller than its kernel. We trace the sizes with the formula *before*
# running anything, then run the real network and check that it fails exactly where the trace says.

# %%
def dcgan_discriminator(n_blocks):
    """Tutorial-style DCGAN discriminator: n_blocks of conv(4, 2, 1), then conv(4, 1, 0)."""
    layers, ch = [], 1
    for i in range(n_blocks):
        layers += [nn.Conv2d(ch, 16 * 2**i, 4, 2, 1), nn.LeakyReLU(0.2)]
        ch = 16 * 2**i
    return nn.Sequential(*layers, nn.Conv2d(ch, 1, 4, 1, 0))


def trace(model, n):
    """Sides after each conv layer by the formula, up to the first one that would give < 1."""
    sides = [n]
    for layer in model:
        if isinstance(layer, nn.Conv2d):
            k, s, p, d = layer.kernel_size[0], layer.stride[0], layer.padding[0], layer.dilation[0]
            sides.append(conv_out(sides[-1], k, s, p, d))
            if sides[-1] < 1:
                break
    return sides


def first_failing_conv(model, n):
    """Run the real model layer by layer; the index (among conv layers) that raises, or None."""
    x, conv_index = torch.zeros(1, 1, n, n), 0
    with torch.no_grad():
        for layer in model:
            try:
                x = layer(x)
            except RuntimeError:
                return conv_index
            conv_index += isinstance(layer, nn.Conv2d)
    return None


for name, blocks, sizes_in in [("64x64 DCGAN", 4, (64, 28)), ("32x32 DCGAN (as in article C)", 3,
                                                              (32, 28))]:
    disc = dcgan_discriminator(blocks)
    for n in sizes_in:
        sides = trace(disc, n)
        fails = first_failing_conv(disc, n)
        outcome = "one logit" if fails is None else f"RuntimeError at conv layer {fails + 1}"
        print(f"{name} fed {n}x{n}: {' -> '.join(map(str, sides))}   real network: {outcome}")
        predicted = None if sides[-1] >= 1 else len(sides) - 2
        assert fails == predicted and (fails is None) == (n == sizes_in[0])

# %% [markdown]
# The generator has the mirror problem: $1 \to 4 \to 8 \to 16 \to 32$ produces 32×32 images, which cannot be
# compared with 28×28 data. There are two correct fixes: resize the data to the architecture's size
# (`F.interpolate(x, size=32)` or `Resize(32)` in torchvision), or change the architecture. The course does
# the second: its generator starts from a 7×7 map ($28 = 7 \cdot 2^2$) and doubles twice, and its
# discriminator uses a 3×3 kernel where the side is odd. We check the course's DCGAN layer by layer with
# forward hooks against the formulas.

# %%
G, D = recipes.get_recipe("dcgan-fashion").build().values()
G.eval()
D.eval()
seen = []
convs = [m for m in list(G.modules()) + list(D.modules())
         if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
hooks = [m.register_forward_hook(lambda m, args, out: seen.append((m, out.shape[-1])))
         for m in convs]
with torch.no_grad():
    images = G(torch.randn(2, G.z_dim))
    D(images)
for h in hooks:
    h.remove()
side = 7  # the generator's first map after its linear layer and View(128, 7, 7)
chain = [side]
for layer, actual in seen:
    k, s, p = layer.kernel_size[0], layer.stride[0], layer.padding[0]
    if isinstance(layer, nn.ConvTranspose2d):
        expected = deconv_out(side, k, s, p, o=layer.output_padding[0])
    else:
        expected = conv_out(side, k, s, p)
    assert actual == expected, (layer, actual, expected)
    side = actual
    chain.append(side)
print("course DCGAN, generator then discriminator:", " -> ".join(map(str, chain)))
assert images.shape[-1] == 28 and chain == [7, 14, 28, 14, 7, 4]

# %% [markdown]
# ## Normalisation: batch norm and layer norm
#
# Deep generators train far better when the activations inside them are kept at a stable scale.
# **Batch normalisation** (批归一化) {cite}`ioffe2015batchnorm` standardises each *channel* with the mean
# and variance over the batch and the spatial positions, then applies a learned scale $\gamma$ and shift
# $\beta$:
#
# $$
# \hat x_{bchw} = \frac{x_{bchw} - \mu_c}{\sqrt{\sigma_c^2 + \epsilon}}, \quad
# \mu_c = \frac{1}{BHW}\sum_{b,h,w} x_{bchw}, \quad
# \sigma_c^2 = \frac{1}{BHW}\sum_{b,h,w} (x_{bchw} - \mu_c)^2, \quad
# y = \gamma_c \hat x + \beta_c .
# $$
#
# In training mode it uses the batch's statistics (with the *biased* variance) and updates running averages,
# $\text{running} \leftarrow (1 - m)\,\text{running} + m \cdot \text{batch}$ with momentum $m = 0.1$, where
# the running variance uses the *unbiased* estimate. In evaluation mode (`model.eval()`) it uses the running
# averages instead. **Layer normalisation** (层归一化) {cite}`ba2016layernorm` standardises over the
# features of one item instead, so it behaves the same in training and evaluation. What an item is depends on
# the normalised shape: in a Transformer (1.4) it is each *token*, `nn.LayerNorm(D)` on a $(B, T, D)$ tensor
# standardising each token's $D$ features; in the image example below it is each *sample*, over all of its
# $(C, H, W)$ values. We compute all three by hand and compare them with the PyTorch modules, in float64.

# %%
gen = torch.Generator().manual_seed(1)
x = 3 + 2 * torch.randn(8, 4, 5, 5, generator=gen, dtype=torch.float64)   # (B, C, H, W)
bn = nn.BatchNorm2d(4).double()
with torch.no_grad():
    bn.weight.uniform_(0.5, 1.5)
    bn.bias.uniform_(-1, 1)
bn.train()
y_module = bn(x)

mean_c = x.mean(dim=(0, 2, 3), keepdim=True)                                   # (1, C, 1, 1)
var_c = x.var(dim=(0, 2, 3), keepdim=True, correction=0)                       # biased
y_hand = (x - mean_c) / torch.sqrt(var_c + bn.eps) * bn.weight.view(1, -1, 1, 1) \
    + bn.bias.view(1, -1, 1, 1)
torch.testing.assert_close(y_module, y_hand, atol=1e-12, rtol=0)
running_mean = 0.9 * torch.zeros(4, dtype=torch.float64) + 0.1 * mean_c.flatten()
running_var = 0.9 * torch.ones(4, dtype=torch.float64) + 0.1 * x.var(dim=(0, 2, 3), correction=1)
torch.testing.assert_close(bn.running_mean, running_mean, atol=1e-12, rtol=0)
torch.testing.assert_close(bn.running_var, running_var, atol=1e-12, rtol=0)
wrong_axes = (x - x.mean(dim=(1, 2, 3), keepdim=True)) / torch.sqrt(
    x.var(dim=(1, 2, 3), keepdim=True, correction=0) + bn.eps)                # per sample: wrong
wrong_y = wrong_axes * bn.weight.view(1, -1, 1, 1) + bn.bias.view(1, -1, 1, 1)
assert (wrong_y - y_module).abs().max() > 0.1

ln = nn.LayerNorm([4, 5, 5]).double()
with torch.no_grad():
    ln.weight.uniform_(0.5, 1.5)
    ln.bias.uniform_(-1, 1)
mean_b = x.mean(dim=(1, 2, 3), keepdim=True)                                   # (B, 1, 1, 1)
var_b = x.var(dim=(1, 2, 3), keepdim=True, correction=0)
torch.testing.assert_close(ln(x), (x - mean_b) / torch.sqrt(var_b + ln.eps) * ln.weight + ln.bias,
                           atol=1e-12, rtol=0)

tokens = torch.randn(2, 6, 16, generator=gen, dtype=torch.float64)             # (B, T, D)
ln_tok = nn.LayerNorm(16).double()                                             # as in 1.4
mean_t = tokens.mean(-1, keepdim=True)                                         # (B, T, 1)
var_t = tokens.var(-1, keepdim=True, correction=0)
torch.testing.assert_close(ln_tok(tokens), (tokens - mean_t) / torch.sqrt(var_t + ln_tok.eps),
                           atol=1e-12, rtol=0)
print("batch norm (output and running statistics) and layer norm (per sample, per token) match "
      "the formulas to 1e-12")

# %% [markdown]
# Two consequences matter for generators. In training mode, a sample's batch-norm output depends on the
# *other* samples in its batch; a layer-norm output does not. And a model with batch norm gives different
# outputs in training and evaluation mode, so sampling a trained generator without `G.eval()` changes the
# images (the course's `sample` methods are called on models in evaluation mode).

# %%
x_changed = x.clone()
x_changed[1:] += torch.randn(7, 4, 5, 5, generator=gen, dtype=torch.float64)  # the OTHER samples
bn_shift = (bn(x_changed)[0] - bn(x)[0]).abs().max().item()
ln_shift = (ln(x_changed)[0] - ln(x)[0]).abs().max().item()
bn.eval()
train_eval_gap = (bn(x) - y_module).abs().max().item()
print(f"sample 0's output moves by {bn_shift:.3f} under batch norm, {ln_shift:.1e} under "
      "layer norm, "
      "when the other samples change")
print(f"batch norm, evaluation vs training mode on the same batch: outputs differ by up to "
      f"{train_eval_gap:.3f}")
assert bn_shift > 0.01 and ln_shift == 0.0 and train_eval_gap > 0.1

# %% tags=["hide-input"]
glue("e13_bn_shift", bn_shift, display=False)
glue("e13_bn_gap", train_eval_gap, display=False)
glue("e13_n_other", len(x) - 1, display=False)
glue("e13_n_passes", int(bn.num_batches_tracked), display=False)  # passes in training mode
glue("e13_momentum", bn.momentum, display=False)
glue("e13_momentum_pct", 100 * bn.momentum, display=False)

# %% [markdown]
# Changing the {glue:text}`e13_n_other` other samples moved sample 0's batch-norm output by up to
# {glue:text}`e13_bn_shift:.2f`, and left its layer-norm output unchanged. After only
# {glue:text}`e13_n_passes` forward passes in training mode (each moves the running averages
# {glue:text}`e13_momentum_pct:.0f`% of the way to the batch's statistics: momentum
# {glue:text}`e13_momentum`), the running statistics are still far from the batch's, so evaluation mode
# changes the outputs by up to {glue:text}`e13_bn_gap:.2f`.

# %% [markdown]
# ## Activations and their derivatives
#
# Backpropagation multiplies the derivatives of every layer, so the derivative of an activation decides how
# well gradients flow. The course uses these (GELU {cite}`hendrycks2016gelu` is the one in its
# Transformer):
#
# | activation | $\phi(x)$ | $\phi'(x)$ |
# |---|---|---|
# | ReLU | $\max(0, x)$ | $1$ if $x > 0$, else $0$ |
# | LeakyReLU (slope $a = 0.2$) | $x$ if $x > 0$, else $a x$ | $1$ if $x > 0$, else $a$ |
# | sigmoid | $\sigma(x) = 1/(1 + e^{-x})$ | $\sigma(x)\,(1 - \sigma(x))$ |
# | tanh | $\tanh x$ | $1 - \tanh^2 x$ |
# | softplus | $\log(1 + e^x)$ | $\sigma(x)$ |
# | GELU | $x\,\Phi(x)$ | $\Phi(x) + x\,\varphi(x)$ |
#
# ($\Phi$ and $\varphi$ are the standard normal CDF and density.) We check each derivative against autograd
# on a grid in float64, away from the kinks of ReLU and LeakyReLU at 0, where the derivative is undefined
# (PyTorch uses 0 and $a$ there).

# %%
phi = torch.distributions.Normal(0.0, 1.0)
activations = {  # name: (function, derivative by the formula)
    "ReLU": (F.relu, lambda x: (x > 0).double()),
    "LeakyReLU(0.2)": (lambda x: F.leaky_relu(x, 0.2), lambda x: 0.2 + 0.8 * (x > 0).double()),
    "sigmoid": (torch.sigmoid, lambda x: torch.sigmoid(x) * (1 - torch.sigmoid(x))),
    "tanh": (torch.tanh, lambda x: 1 - torch.tanh(x) ** 2),
    "softplus": (F.softplus, torch.sigmoid),
    "GELU": (F.gelu, lambda x: phi.cdf(x) + x * phi.log_prob(x).exp()),
}
grid = torch.linspace(-5, 5, 1001, dtype=torch.float64)
grid = grid[grid.abs() > 1e-6]  # leave out the kink at 0
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8))
for name, (fn, derivative) in activations.items():
    xg = grid.clone().requires_grad_(True)
    (autograd,) = torch.autograd.grad(fn(xg).sum(), xg)
    err = (autograd - derivative(grid)).abs().max().item()
    assert err < 1e-12, (name, err)
    ax1.plot(grid, fn(grid), label=name)
    ax2.plot(grid, derivative(grid), label=name)
ax1.set_title("activations $\\phi(x)$")
ax2.set_title("their derivatives $\\phi'(x)$ (formula = autograd)")
for ax in (ax1, ax2):
    ax.set_xlabel("$x$")
    ax.grid(alpha=0.3)
ax1.set_ylim(-1.5, 3)
ax2.legend(fontsize=8)
plt.show()
sigmoid_max = activations["sigmoid"][1](torch.tensor(0.0, dtype=torch.float64)).item()
print(f"largest sigmoid derivative: {sigmoid_max} (at 0); the derivatives of 10 sigmoids multiply "
      f"to at most {sigmoid_max ** 10:.1e}")
assert sigmoid_max == 0.25

# %% tags=["hide-input"]
glue("e13_sig10", sigmoid_max**10, display=False)


# %% [markdown]
# The sigmoid's derivative never exceeds $\tfrac14$. The gradient through a stack of layers is a product
# of the layers' Jacobians, $W_l^\top \operatorname{diag}(\phi'(a_l))$ for layer $l$, so in ten sigmoid
# layers the *activation derivatives* alone contribute a factor of at most {glue:text}`e13_sig10:.1e`. That
# is not a bound on the gradient: the weights multiply in too, and large weights can compensate. The
# scalar chain $x \leftarrow \sigma(8x - 4)$, repeated ten times from its fixed point $x = \tfrac12$, has
# derivative $(8 \cdot \tfrac14)^{10} =$ {glue:text}`e13_chain:.0f`. At the usual initialisation, though,
# the weights do not compensate. We measure the gradient that reaches the first layer of a ten-layer MLP
# of width 64, initialised for each activation as recommended (Glorot's normal initialisation with
# PyTorch's gain for that activation, `nn.init.calculate_gain`).

# %%
def chain(x, n=10):
    for _ in range(n):
        x = torch.sigmoid(8 * x - 4)
    return x


x_half = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
(chain_grad,) = torch.autograd.grad(chain(x_half), x_half)


def first_layer_grad(name, act, depth=10, width=64, seed=0):
    """|grad of the first layer's weight| / |grad of the last layer's| of a deep MLP, at init."""
    torch.manual_seed(seed)
    layers = [nn.Linear(width, width) for _ in range(depth)]
    for layer in layers:
        nn.init.xavier_normal_(layer.weight, gain=nn.init.calculate_gain(name))
        nn.init.zeros_(layer.bias)
    net = nn.Sequential(*[m for layer in layers for m in (layer, act())])
    x = torch.randn(256, width, generator=torch.Generator().manual_seed(seed))
    net(x).pow(2).mean().backward()
    return layers[0].weight.grad.norm().item() / layers[-1].weight.grad.norm().item()


ratios = {name: np.mean([first_layer_grad(name, act, seed=s) for s in range(3)])
          for name, act in [("sigmoid", nn.Sigmoid), ("tanh", nn.Tanh), ("relu", nn.ReLU)]}
print(f"chain sigma(8x - 4), ten times, at x = 1/2: derivative {chain_grad.item():.1f}")
print("gradient norm, first layer / last layer, 10 layers at initialisation (mean of 3 seeds): "
      + ", ".join(f"{name} {r:.1e}" for name, r in ratios.items()))

# %% tags=["hide-input"]
assert abs(chain_grad.item() - 2.0**10) < 1e-6          # far above (1/4)^10: weights compensate
assert ratios["sigmoid"] < 1e-4 and min(ratios["tanh"], ratios["relu"]) > 0.05  # at init: vanishes
glue("e13_chain", chain_grad.item(), display=False)
glue("e13_ratio_sigmoid", ratios["sigmoid"], display=False)
glue("e13_ratio_relu", ratios["relu"], display=False)
glue("e13_ratio_tanh", ratios["tanh"], display=False)

# %% [markdown]
# The first layer's gradient is {glue:text}`e13_ratio_sigmoid:.0e` times the last layer's with sigmoids
# (averaged over three seeds), against {glue:text}`e13_ratio_tanh:.2f` with tanh and
# {glue:text}`e13_ratio_relu:.2f` with ReLU: the
# **vanishing gradient** (梯度消失) that made deep sigmoid networks hard to train. ReLU-type activations
# pass gradients unchanged where they are active. LeakyReLU also keeps a small gradient where ReLU gives
# none; that is a common explanation of why DCGAN discriminators use it, though Radford et al. only report
# that it "worked well" {cite}`radford2016dcgan`. The sigmoid survives at the output of a discriminator (a
# probability), where 2.2 shows its own saturation problem.
#
# ## Checking gradients
#
# Autograd is exact up to rounding, but a hand-written backward pass (a custom `torch.autograd.Function`, or
# a derivation on paper, as in 2.2) can be wrong. The standard test compares it with a **finite difference**
# (有限差分). The central difference
#
# $$
# f'(x) \approx \frac{f(x + h) - f(x - h)}{2h}
# $$
#
# has a truncation error of about $h^2 |f'''(x)|/6$ and a rounding error of about $\varepsilon |f(x)| / h$,
# where $\varepsilon$ is the machine epsilon ({glue:text}`e13_eps64:.1e` in float64,
# {glue:text}`e13_eps32:.1e` in float32). Their sum is smallest at
# $h^* = (3 \varepsilon |f| / |f'''|)^{1/3}$, of the order of $\varepsilon^{1/3}$, where the error is of the
# order of $\varepsilon^{2/3}$. For $f(x) = \sin(x)\,e^x$ at $x = 1$ the model predicts $h^* \approx$
# {glue:text}`e13_h64:.0e` and a best error of {glue:text}`e13_pred64:.0e` in float64, but
# $h^* \approx$ {glue:text}`e13_h32:.0e` and a best error of {glue:text}`e13_pred32:.0e` in float32:
# no step size gives more than a few correct digits in single precision. That is why gradient checks run in
# **double precision** (双精度).

# %%
def f(x):
    return torch.sin(x) * torch.exp(x)


hs = np.logspace(-12, -1, 45)
errors = {}  # the mean error over 201 points near x = 1 (one point alone gives a ragged curve)
for dtype in (torch.float64, torch.float32):
    x0 = torch.linspace(0.9, 1.1, 201, dtype=dtype)
    exact = (torch.sin(x0) + torch.cos(x0)) * torch.exp(x0)  # the derivative by hand
    errors[dtype] = np.array([((f(x0 + h) - f(x0 - h)) / (2 * h) - exact).abs().mean().item()
                              for h in hs])
x1 = 1.0
f1, f3 = abs(math.sin(x1) * math.exp(x1)), abs(2 * (math.cos(x1) - math.sin(x1)) * math.exp(x1))
error_model = {}  # the error model: h^2 |f'''| / 6 + eps |f| / h, at its minimum
for dtype in (torch.float64, torch.float32):
    eps = torch.finfo(dtype).eps
    h_star = (3 * eps * f1 / f3) ** (1 / 3)
    error_model[dtype] = (eps, h_star, h_star**2 * f3 / 6 + eps * f1 / h_star)
best = {dtype: (err[err > 0].min(), hs[err > 0][err[err > 0].argmin()])
        for dtype, err in errors.items()}
for dtype in errors:
    eps, h_star, predicted = error_model[dtype]
    print(f"{str(dtype)[6:]}: best error {best[dtype][0]:.1e} at h = {best[dtype][1]:.0e}; "
          f"the error model predicts {predicted:.1e} at h* = {h_star:.0e}")

fig, ax = plt.subplots(figsize=(6.5, 3.6))
for dtype, err in errors.items():
    ax.loglog(hs, np.maximum(err, 1e-17), "o-", ms=3, label=str(dtype).replace("torch.", ""))
ax.set_xlabel("step $h$")
ax.set_ylabel("mean |central difference - exact|")
ax.set_title("Finite differences: rounding error (left) vs truncation error (right)")
ax.legend()
plt.show()

# %% tags=["hide-input"]
for dtype, (eps, h_star, predicted) in error_model.items():
    measured, h_best = best[dtype]
    assert 0.1 < measured / predicted < 10, (dtype, measured, predicted)   # the error model holds
    assert 0.1 < h_best / h_star < 10, (dtype, h_best, h_star)
assert best[torch.float32][0] > 1000 * best[torch.float64][0]
for dtype, tag in ((torch.float64, "64"), (torch.float32, "32")):
    glue(f"e13_eps{tag}", error_model[dtype][0], display=False)
    glue(f"e13_h{tag}", error_model[dtype][1], display=False)
    glue(f"e13_pred{tag}", error_model[dtype][2], display=False)
    glue(f"e13_best{tag}", best[dtype][0], display=False)

# %% [markdown]
# The measured errors (averaged over 201 points $x \in [0.9, 1.1]$, since at a single point the rounding
# errors make a ragged curve) follow the model: the best float64 error is {glue:text}`e13_best64:.0e` and
# the best float32 error {glue:text}`e13_best32:.0e`, each within a factor of 10 of the prediction, at a
# step within a factor of 10 of $h^*$. (The rounding term is a worst case; typical rounding errors partly
# cancel, so the measured minimum sits a little below it.)
#
# `torch.autograd.gradcheck` automates this: it perturbs every input entry, compares the numerical Jacobian
# with the one from the backward pass, and raises an error when they differ beyond its tolerance. Below,
# a custom sigmoid whose backward pass implements $\sigma(1 - \sigma)$ passes; the same layer with a common
# slip in the backward pass, the derivative $x(1 - x)$ applied to the *input* instead of the output, fails.

# %%
class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        s = torch.sigmoid(x)
        ctx.save_for_backward(x, s)
        return s

    @staticmethod
    def backward(ctx, grad_out):
        x, s = ctx.saved_tensors
        return grad_out * s * (1 - s)              # dL/dx = dL/ds * s (1 - s)


class WrongSigmoid(Sigmoid):
    @staticmethod
    def backward(ctx, grad_out):
        x, s = ctx.saved_tensors
        return grad_out * x * (1 - x)              # the slip: the formula applied to x, not to s


x_check = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
assert torch.autograd.gradcheck(Sigmoid.apply, (x_check,))
try:
    torch.autograd.gradcheck(WrongSigmoid.apply, (x_check,))
    caught = False
except GradcheckError as err:
    caught = True
    print("gradcheck rejects the wrong backward:", str(err).splitlines()[0])
assert caught
small_mlp = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2)).double()
assert torch.autograd.gradcheck(small_mlp, (x_check,))  # autograd itself, through a whole MLP
print("gradcheck accepts the right backward and a whole MLP")

# %% [markdown]
# ## Exercises
#
# The warm-ups (1.3a–c) practise the formulas of this page; 1.3d and 1.3e ask what it does not show. Each
# checker names the common mistake your answer matches; `ch1.q13a.hint()` gives a hint.
#
# ### 1.3a Warm-up: the size of a convolution
#
# Write `my_conv_out(n, kernel, stride, padding, dilation=1)`,
# the output side of `nn.Conv2d(..., kernel, stride, padding, dilation=dilation)` for an $n \times n$ input.
# (4.2 asks for the transposed convolution.)

# %%
def my_conv_out(n, kernel, stride, padding, dilation=1):
    ...  # your code


ch1.q13a.check(my_conv_out);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def my_conv_out(n, kernel, stride, padding, dilation=1):
#     return (n + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
# ```
# The dilated kernel covers $d(k - 1) + 1$ pixels, so after the first position there are
# $n + 2p - d(k - 1) - 1$ pixels left to step over, in steps of $s$; floor division drops a last step that
# would not fit, and the $+1$ counts the first position.
# :::

# %% tags=["hide-cell"]
def reference_conv_out(n, kernel, stride, padding, dilation=1):
    return (n + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


assert ch1.q13a.check(reference_conv_out, quiet=True)

# %% [markdown]
# ### 1.3b Warm-up: batch norm by hand
#
# Write `my_batch_norm(x, eps)`: what `nn.BatchNorm2d(C, eps=eps,
# affine=False)` returns in training mode for `x` of shape $(B, C, H, W)$.

# %%
def my_batch_norm(x, eps=1e-5):
    ...  # your code


ch1.q13b.check(my_batch_norm);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def my_batch_norm(x, eps=1e-5):
#     mean = x.mean(dim=(0, 2, 3), keepdim=True)                  # (1, C, 1, 1)
#     var = x.var(dim=(0, 2, 3), keepdim=True, correction=0)      # biased
#     return (x - mean) / torch.sqrt(var + eps)
# ```
# One mean and variance per channel, over the batch and all positions; `keepdim=True` keeps the shape
# $(1, C, 1, 1)$ so that they broadcast against $x$.
# :::

# %% tags=["hide-cell"]
def reference_batch_norm(x, eps=1e-5):
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    var = x.var(dim=(0, 2, 3), keepdim=True, correction=0)
    return (x - mean) / torch.sqrt(var + eps)


assert ch1.q13b.check(reference_batch_norm, quiet=True)

# %% [markdown]
# ### 1.3c Warm-up: the sigmoid's derivative
#
# Write `my_sigmoid_grad(x)`, the derivative of
# $\sigma(x) = 1/(1 + e^{-x})$, by hand (the checker switches autograd off). It must be finite for every
# float64 $x$, including $x = \pm 800$.

# %%
def my_sigmoid_grad(x):
    ...  # your code


ch1.q13c.check(my_sigmoid_grad);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def my_sigmoid_grad(x):
#     s = torch.sigmoid(x)
#     return s * (1 - s)
# ```
# $\frac{d}{dx}(1 + e^{-x})^{-1} = e^{-x}/(1 + e^{-x})^2 = \sigma(x)\,(1 - \sigma(x))$. The middle form is
# correct too, but at $x = -800$ it computes $\infty/\infty$; `torch.sigmoid` is evaluated stably.
# :::

# %% tags=["hide-cell"]
def reference_sigmoid_grad(x):
    s = torch.sigmoid(x)
    return s * (1 - s)


assert ch1.q13c.check(reference_sigmoid_grad, quiet=True)

# %% [markdown]
# ### 1.3d Predict: how far does one latent pixel reach?
#
# The last three layers of a DCGAN-style generator are transposed convolutions with kernel 4, stride 2 and
# padding 1: $4 \times 4 \to 8 \times 8 \to 16 \times 16 \to 32 \times 32$ (take one channel and no
# activations). Change **one** pixel of the $4 \times 4$ input, at row 2, column 2. How many of the
# $32 \times 32 = 1024$ output pixels change? Write down a number before computing anything; the checker
# measures it with random positive kernels.

# %%
answer = ...  # your prediction: a number of output pixels

ch1.q13d.check(answer);

# %% [markdown]
# :::{dropdown} Solution
# Work along one side. A transposed convolution stamps input pixel $i$ onto outputs $2i - 1, \dots, 2i + 2$,
# so a run of $m$ neighbouring input pixels reaches $2(m - 1) + 4$ outputs. From one pixel: $1 \to 4 \to 10
# \to 22$ per side, nothing clipped by the border here, so
# ```python
# answer = 22 ** 2   # 484
# ```
# Neither the product of the kernels ($64^2$, larger than the image: neighbouring stamps overlap) nor the
# product of the strides ($8^2$): the footprint roughly doubles at every layer *and* gains the kernel's
# width. One pixel of the $4 \times 4$ map shapes almost half the image, and neighbouring pixels share most
# of their footprints: this is how a generator's early layers decide the global layout.
# :::

# %% tags=["hide-cell"]
assert ch1.q13d.check(484, quiet=True)

# %% [markdown]
# ### 1.3e Apply: a generator for 32×32 colour images
#
# The 28-pixel trap above sized a network for Fashion-MNIST. Now size one for CIFAR-10-like images: write
# `make_generator_32(z_dim)` returning an `nn.Module` that maps noise of shape $(B, z_{\text{dim}}, 1, 1)$ to
# images of shape $(B, 3, 32, 32)$ with values in $[-1, 1]$, upsampling with `nn.ConvTranspose2d` only (no
# `nn.Upsample`, no `nn.Linear`). Plan the sizes with the transposed-convolution formula first.

# %%
def make_generator_32(z_dim):
    ...  # your code: return an nn.Module


ch1.q13e.check(make_generator_32);

# %% [markdown]
# :::{dropdown} Solution
# $1 \to 4$ with kernel 4, stride 1, padding 0, then three doublings with kernel 4, stride 2, padding 1
# ($(n - 1) \cdot 2 - 2 + 4 = 2n$): $4 \to 8 \to 16 \to 32$. The last layer has 3 channels and a Tanh.
# ```python
# def make_generator_32(z_dim, width=64):
#     def up(c_in, c_out):                       # doubles the side
#         return [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
#     return nn.Sequential(
#         nn.ConvTranspose2d(z_dim, 4 * width, 4, 1, 0, bias=False), nn.BatchNorm2d(4 * width), nn.ReLU(),
#         *up(4 * width, 2 * width),                                   # 8x8
#         *up(2 * width, width),                                       # 16x16
#         nn.ConvTranspose2d(width, 3, 4, 2, 1), nn.Tanh(),            # 32x32
#     )
# ```
# Other answers pass too (kernel 3 with `output_padding=1`, other widths): the checker tests the sizes, the
# range and that the image depends on $z$. A generator for 28×28 starts from 7×7 instead; one for 64×64
# (the PyTorch DCGAN tutorial) adds a fourth doubling.
# :::

# %% tags=["hide-cell"]
def make_generator_32_solution(z_dim):
    layers, c = [nn.ConvTranspose2d(z_dim, 128, 4), nn.ReLU()], 128
    for _ in range(2):
        layers += [nn.ConvTranspose2d(c, c // 2, 4, stride=2, padding=1), nn.ReLU()]
        c //= 2
    return nn.Sequential(*layers, nn.ConvTranspose2d(c, 3, 4, stride=2, padding=1), nn.Tanh())


assert ch1.q13e.check(make_generator_32_solution, quiet=True)

# %% [markdown]
# ## Summary
#
# * A transposed convolution is the adjoint of the convolution with the same weights:
#   $\langle \mathrm{conv}(x), y\rangle = \langle x, \mathrm{conv}^\top(y)\rangle$; it stamps the kernel
#   onto the output, and uneven overlaps of the stamps make checkerboards.
# * A convolution maps $n$ to $\lfloor (n + 2p - d(k-1) - 1)/s \rfloor + 1$, a transposed convolution to
#   $(n-1)s - 2p + d(k-1) + o + 1$. Trace the sizes of an architecture before training it: a DCGAN built for
#   32 or 64 pixels breaks on 28×28 images.
# * Batch norm standardises each channel over the batch (biased variance, running averages for
#   evaluation); layer norm standardises each item (a token in a Transformer, a sample here). Call
#   `model.eval()` before sampling.
# * The sigmoid's derivative is at most 1/4, and at the usual initialisation the gradient of a deep sigmoid
#   network vanishes; ReLU-type activations and tanh keep it alive.
# * Check hand-written gradients with `torch.autograd.gradcheck` in double precision.
