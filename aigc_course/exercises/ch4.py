"""Exercises of Part IV, hands-on training and evaluation. Introduced in 4.2.

Usage in a notebook::

    from aigc_course.exercises import as_tensor, ch4, judge
    ch4.q42a.check(deconv_out)    # prints a verdict, returns True/False, never raises
    ch4.q42a.hint()
    ch4.q42a.solution()

Questions are named by section (``q42a`` is the first exercise of 4.2). Each checker runs the
answer on its own inputs, compares it with the reference and names the common wrong answer it
matches.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
from scipy import linalg
from torch import nn

from aigc_course.exercises import CheckFailed, Question, as_tensor, judge, prediction

__all__ = ["q41a", "q41b", "q42a", "q42b", "q42c", "q42d", "q43a", "q43b", "q43c", "q44a", "q44b", "q44c",
           "q44d", "q45a", "q45b", "q45c", "q45d", "q45e", "q45f", "q46a", "q46b", "q46c", "q46d"]


def _call(fn: Callable, *args, errors: dict[str, str] | None = None):
    """``fn(*args)``; an exception whose text contains a key of ``errors`` becomes that message."""
    try:
        return fn(*args)
    except (CheckFailed, NotImplementedError):
        raise
    except Exception as err:  # noqa: BLE001 (the learner's code: name the known crash, else re-raise)
        text = f"{type(err).__name__}: {err}"
        for key, message in (errors or {}).items():
            if key.lower() in text.lower():
                raise CheckFailed(f"{message} (your code raised `{text.splitlines()[0][:160]}`)") from None
        raise


# --------------------------------------------------------------------------------------------------
# 4.1 The data pipeline
# --------------------------------------------------------------------------------------------------

def _share_beyond_tanh() -> float:
    """Share of the training pixels above mean + std: standardised, they land beyond tanh's +1."""
    from aigc_course import data

    u = data.fashion_mnist("train").images.float()
    return float((u > u.mean() + u.std()).float().mean())


q41a = prediction(
    "q41a",
    "Standardise the Fashion-MNIST training pixels with the data set's mean and standard deviation, "
    "z = (u − mean) / std. What share of all training pixels ends up above +1, out of tanh's reach? "
    "Predict a number between 0 and 1; within ±0.03 counts.",
    _share_beyond_tanh, abs_tol=0.03,
    explanation="Half the pixels are pure background, which pulls the mean down to about 73 and makes the "
                "standard deviation (about 90) large; the garments' bright bodies sit above mean + std. A "
                "quarter of the pixels, the informative ones, would lie where a tanh generator cannot go.",
    wrong={"that is the Gaussian answer, P(Z > 1) ≈ 0.16. The pixels are far from Gaussian: a spike at 0 "
           "(half of them) and a broad bump of bright values, so more of them lie above mean + std.": 0.1587,
           "that is about the share of pixels above the MEAN, not above mean + one standard deviation.": 0.395,
           "standardising does not keep values in [−1, 1]: it only sets mean 0 and variance 1, and a variance "
           "of 1 needs values beyond ±1.": 0.0},
    hints=["The page's histogram: a spike at 0 holding about half of the pixels, the rest spread up to 255.",
           "The threshold is the byte mean + std ≈ 163; count the pixels above it."],
    solution_code="""
from aigc_course import data

u = data.fashion_mnist("train").images.float()          # all 47 million training pixels
answer = (u > u.mean() + u.std()).float().mean().item()  # z > 1  <=>  u > mean + std
del u
""",
)


def _check_to_tanh_range(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(41)
    for shape in [(5, 1, 28, 28), (3, 1, 8, 8)]:
        u = torch.randint(0, 256, shape, generator=gen, dtype=torch.uint8)
        u.view(-1)[:2] = torch.tensor([0, 255], dtype=torch.uint8)          # both ends are there
        x = u.double()
        expected = x / 127.5 - 1
        mean3, std3 = torch.full((1, 3, 1, 1), 0.5, dtype=torch.float64), 0.5
        wrong = {
            "the output has three channels: a mean and a standard deviation of shape (1, 3, 1, 1) broadcast a "
            "one-channel image to three copies (with torchvision's Normalize it raises instead). Fashion-MNIST "
            "has ONE channel: Normalize((0.5,), (0.5,)) (errata E46).": (x / 256 - mean3) / std3,
            "still three channels (errata E46): the mean and the std need one entry, for one channel.":
                (x / 255 - mean3) / std3,
            "dividing by 256 maps 255 to 0.992, not 1: the brightest byte must land on tanh's +1, so divide "
            "by 255 (u/255 is ToTensor's scaling) before (x − 0.5)/0.5.": (x / 256 - 0.5) / 0.5,
            "this is u/255, the range [0, 1] of a sigmoid; tanh's range needs the shift and scale "
            "(x − 0.5)/0.5 as well.": x / 255,
            "(u − 0.5)/0.5 on BYTES gives values up to 509: scale to [0, 1] first (u/255).": (x - 0.5) / 0.5,
        }
        out = _call(fn, u.clone(), errors={"must match the size": "the mean and std have three entries (errata "
                                           "E46) but the images have one channel."})
        if not isinstance(out, torch.Tensor) or not out.is_floating_point():
            raise CheckFailed(f"return a floating-point tensor, got {type(out).__name__}"
                              f"{'' if not isinstance(out, torch.Tensor) else ' of dtype ' + str(out.dtype)}: "
                              "integer arithmetic on uint8 wraps around or truncates.")
        judge(out, expected, wrong, what=f"scaled images of shape {shape}", atol=1e-6, rtol=1e-6)


q41b = Question(
    name="q41b",
    prompt="Repair `to_tanh_range(u)`: it should map uint8 images (N, 1, H, W) to floats in [−1, 1] of the "
           "same shape, 0 to −1 and 255 to +1 (the articles' `Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))`, "
           "errata E46).",
    checker=_check_to_tanh_range,
    hints=["Print the output's shape: how many channels does it have, and where do they come from?",
           "One channel: mean and std of shape (1, 1, 1, 1), or plain numbers. And 255 / 256 is not 1."],
    solution_code="""
def to_tanh_range(u):
    return (u.float() / 255 - 0.5) / 0.5    # ToTensor's /255, then Normalize((0.5,), (0.5,)): one channel
""",
)


# --------------------------------------------------------------------------------------------------
# 4.2 DCGAN
# --------------------------------------------------------------------------------------------------

_DECONV_CASES = [  # (size, kernel, stride, padding, output_padding)
    (7, 4, 2, 1, 0), (14, 4, 2, 1, 0), (4, 4, 1, 0, 0), (5, 3, 2, 1, 1), (9, 5, 3, 2, 2), (1, 7, 1, 0, 0),
]


def _check_deconv_out(fn: Callable) -> None:
    for n, k, s, p, op in _DECONV_CASES:
        layer = nn.ConvTranspose2d(1, 1, k, s, p, output_padding=op)
        expected = layer(torch.zeros(1, 1, n, n)).shape[-1]  # the ground truth is PyTorch itself
        assert expected == (n - 1) * s - 2 * p + k + op
        wrong = {
            "this is the output size of an ordinary (strided) convolution, floor((n + 2p − k)/s) + 1: a "
            "transposed convolution runs it backwards, so solve that formula for n instead.":
                torch.tensor(float((n + 2 * p - k) // s + 1)),
            "the padding must be subtracted: in a transposed convolution, p removes p rows from each border "
            "of the output.": torch.tensor(float((n - 1) * s + 2 * p + k + op)),
            "the stride multiplies (n − 1), the gaps between input pixels, not n.":
                torch.tensor(float(n * s - 2 * p + k + op)),
            "output_padding is missing: it adds op rows on one side to pick among the sizes a strided "
            "convolution maps to the same n.": torch.tensor(float((n - 1) * s - 2 * p + k)),
        }
        judge(fn(n, k, s, p, op), torch.tensor(float(expected)), wrong,
               what=f"output size for n={n}, kernel={k}, stride={s}, padding={p}, output_padding={op}",
               atol=0.0, rtol=0.0)


q42a = Question(
    name="q42a",
    prompt="Write `deconv_out(n, kernel, stride, padding, output_padding)`: the side of the output of "
           "`nn.ConvTranspose2d(..., kernel, stride, padding, output_padding=output_padding)` for an n×n input.",
    checker=_check_deconv_out,
    hints=["A transposed convolution with these settings maps n to the sizes m that the ordinary "
           "convolution (same kernel, stride, padding) maps back to n.",
           "Solve n = (m + 2p − k)/s + 1 for m, then add output_padding: m = (n − 1)·s − 2p + k + op."],
    solution_code="""
def deconv_out(n, kernel, stride, padding, output_padding=0):
    return (n - 1) * stride - 2 * padding + kernel + output_padding
""",
)


def _deconv_bn_params(c_in: int, c_out: int, k: int) -> int:
    return c_in * c_out * k * k + 2 * c_out


def _check_block_params(fn: Callable) -> None:
    from aigc_course.nn import count_parameters, deconv_block

    for c_in, c_out, k in [(128, 64, 4), (64, 32, 4), (3, 5, 3)]:
        expected = count_parameters(deconv_block(c_in, c_out, kernel_size=k))
        assert expected == _deconv_bn_params(c_in, c_out, k)
        wrong = {
            "you counted a bias for the transposed convolution, but a DCGAN block has none: batch norm "
            "subtracts the mean right after it, so a bias would be cancelled (its shift β takes that role).":
                torch.tensor(float(expected + c_out)),
            "batch norm has parameters too: a scale γ and a shift β per channel (its running mean and "
            "variance are buffers, not parameters).": torch.tensor(float(c_in * c_out * k * k)),
            "the running mean and variance of batch norm are buffers, updated by averaging, not learnt "
            "parameters: count only γ and β.": torch.tensor(float(expected + 2 * c_out)),
            "a kernel connects every input channel to every output channel: c_in · c_out · k², not "
            "(c_in + c_out) · k².": torch.tensor(float((c_in + c_out) * k * k + 2 * c_out)),
        }
        judge(fn(c_in, c_out, k), torch.tensor(float(expected)), wrong,
               what=f"parameter count for c_in={c_in}, c_out={c_out}, kernel={k}", atol=0.0, rtol=0.0)


q42b = Question(
    name="q42b",
    prompt="Write `block_params(c_in, c_out, k)`: the number of learnt parameters of a DCGAN generator "
           "block `ConvTranspose2d(c_in, c_out, k, bias=False) + BatchNorm2d(c_out) + ReLU`.",
    checker=_check_block_params,
    hints=["The kernel has shape (c_in, c_out, k, k). Which layers of the block have parameters?",
           "Batch norm learns a scale and a shift per channel; ReLU learns nothing."],
    solution_code="""
def block_params(c_in, c_out, k):
    return c_in * c_out * k * k + 2 * c_out   # kernel + batch norm's gamma and beta
""",
)


def _check_generator32(fn: Callable) -> str:
    from aigc_course.config import GANConfig
    from aigc_course.gan import DCGenerator
    from aigc_course.nn import count_parameters

    gen = torch.Generator().manual_seed(42)
    note = ""
    for z_dim, width in [(64, 32), (10, 4)]:
        model = _call(fn, z_dim, width)
        if not isinstance(model, nn.Module):
            raise CheckFailed(f"`generator32` should return an nn.Module (e.g. an nn.Sequential), got "
                              f"{type(model).__name__}.")
        ref = DCGenerator(GANConfig(kind="dcgan", img_size=32, z_dim=z_dim, width=width)).eval()
        with torch.no_grad():  # weights far from the DCGAN init's N(0, 0.02²), so that a missing tanh shows
            for p in ref.parameters():
                p.copy_(torch.randn(p.shape, generator=gen) / math.sqrt(max(1, p[0].numel())))
        z = torch.randn(4, z_dim, generator=gen)
        with torch.no_grad():
            shape = tuple(model.eval()(z).shape)
        if shape != (4, 1, 32, 32):
            side = shape[-1] if len(shape) == 4 else None
            known = {28: "28×28 is the page's design (7 → 14 → 28); for 32×32 start from 4×4 and double three "
                         "times, 4 → 8 → 16 → 32 (errata E45 is the same mismatch the other way round).",
                     64: "one doubling too many: 4 → 8 → 16 → 32 takes three transposed convolutions.",
                     16: "one doubling short: 4 → 8 → 16 → 32 takes three transposed convolutions."}
            raise CheckFailed(f"for z of shape (4, {z_dim}) your generator returns shape {shape}, expected "
                              f"(4, 1, 32, 32). " + known.get(side, "Follow the sizes layer by layer with "
                                                          "(n − 1)·s − 2p + k."))
        n, n_ref = count_parameters(model), count_parameters(ref)
        c = 4 * width
        wrong = {
            n_ref + c // 2 + c // 4: "the transposed convolutions followed by batch norm need no bias (batch "
                                     "norm's shift β replaces it): bias=False there.",
            n_ref + c * 16: "the linear layer is followed by batch norm: bias=False.",
            n_ref - 1: "the last transposed convolution has no batch norm after it, so it keeps its bias.",
            n_ref - 2 * c - c - c // 2: "batch norm (with its γ and β) belongs after every layer except the last.",
        }
        if n != n_ref:
            raise CheckFailed(wrong.get(n, f"{n:,} parameters for z_dim={z_dim}, width={width}; the layout "
                                           f"asked for has {n_ref:,}. Check the channels: 4w → 2w → w → 1."))
        try:  # the package's layers, copied in by position: same parameters, same outputs
            model.load_state_dict(dict(zip(model.state_dict(), ref.state_dict().values())))
        except (RuntimeError, ValueError) as err:
            raise CheckFailed("the parameter count is right but the layers are not in the order asked for "
                              f"(linear, batch norm, then three transposed convolutions): {str(err)[:200]}")
        with torch.no_grad():
            out, expected = model.eval()(z), ref(z)
        if not torch.allclose(out, expected, atol=1e-5):
            raise CheckFailed("same layers and parameters, different outputs: check the order batch norm → "
                              "ReLU after every hidden layer, and the final tanh.")
        if (z_dim, width) == (64, 32):
            small = DCGenerator(GANConfig(kind="dcgan", img_size=28, z_dim=64, width=32))
            note = (f"For z of size 64 and width 32 it has {n:,} parameters, against {count_parameters(small):,} "
                    "for the 28×28 generator: the linear layer shrinks (4×4 instead of 7×7 maps) and one more "
                    "block (2w → w) is added. It is the package's `DCGenerator` for `img_size=32`.")
    return note


q42c = Question(
    name="q42c",
    prompt="Write `generator32(z_dim, width)`: a DCGAN generator for 32×32 grey images, z (B, z_dim) -> "
           "(B, 1, 32, 32) in [−1, 1]: a linear layer to 4·width maps of 4×4, then transposed convolutions "
           "(kernel 4, stride 2, padding 1) that halve the channels and double the side, batch norm + ReLU "
           "after every layer but the last, tanh at the end (bias only where no batch norm follows).",
    checker=_check_generator32,
    hints=["Sides: 4 → 8 → 16 → 32, so three transposed convolutions; channels 4w → 2w → w → 1.",
           "Copy the page's Generator and change 7 to 4, then add one block `ConvTranspose2d(c // 2, c // 4, 4, 2, 1, "
           "bias=False), BatchNorm2d(c // 4), ReLU()` before the last layer."],
    solution_code="""
from torch import nn


def generator32(z_dim, width):
    c = 4 * width
    return nn.Sequential(
        nn.Linear(z_dim, c * 4 * 4, bias=False), nn.Unflatten(1, (c, 4, 4)),      # (B, 4w, 4, 4)
        nn.BatchNorm2d(c), nn.ReLU(),
        nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False),                       # (B, 2w, 8, 8)
        nn.BatchNorm2d(c // 2), nn.ReLU(),
        nn.ConvTranspose2d(c // 2, c // 4, 4, 2, 1, bias=False),                  # (B, w, 16, 16)
        nn.BatchNorm2d(c // 4), nn.ReLU(),
        nn.ConvTranspose2d(c // 4, 1, 4, 2, 1),                                   # (B, 1, 32, 32)
        nn.Tanh())
""",
)


class _ArticleD(nn.Module):
    """Article C's kind of discriminator, small: a Sigmoid at the end and output shape (N, 1, 1, 1)."""

    def __init__(self, seed: int):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.net = nn.Sequential(nn.Conv2d(1, 4, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(4, 1, 14), nn.Sigmoid())
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(0.3 * torch.randn(p.shape, generator=gen))

    def forward(self, x):
        return self.net(x)


def _check_d_loss(fn: Callable) -> None:
    bce = nn.functional.binary_cross_entropy
    gen = torch.Generator().manual_seed(422)
    errors = {"Long": "the targets are integers: torch.full(..., 1) makes an int64 tensor, and BCELoss needs "
                      "floats (errata E88). Use torch.ones(n) / torch.zeros(n), or torch.full(..., 1.0).",
              "size": "input and target of BCELoss must have the same shape: D returns (N, 1, 1, 1), so "
                      "flatten it with D(x).view(-1) and use targets of shape (N,) (errata E48).",
              "shape": "input and target of BCELoss must have the same shape: D returns (N, 1, 1, 1), so "
                       "flatten it with D(x).view(-1) and use targets of shape (N,) (errata E48)."}
    for n_real, n_fake in [(6, 5), (1, 3)]:
        D = _ArticleD(int(torch.randint(1000, (1,), generator=gen)))
        real = torch.rand(n_real, 1, 28, 28, generator=gen) * 2 - 1
        fake = torch.rand(n_fake, 1, 28, 28, generator=gen) * 2 - 1
        with torch.no_grad():
            p_real, p_fake = D(real).view(-1), D(fake).view(-1)
        on_real, on_fake = bce(p_real, torch.ones(n_real)), bce(p_fake, torch.zeros(n_fake))
        loss = _call(fn, D, real.clone(), fake.clone(), errors=errors)
        if loss is not None and (not isinstance(loss, torch.Tensor) or not loss.requires_grad):
            raise CheckFailed("the loss has no gradient: return the tensor itself, not `.item()`, and do not "
                              "compute it under torch.no_grad(); D's optimiser needs loss.backward().")
        if isinstance(loss, torch.Tensor):
            loss = loss.detach()
        wrong = {
            "the targets are swapped: real images get target 1, generated ones 0.":
                bce(p_real, torch.zeros(n_real)) + bce(p_fake, torch.ones(n_fake)),
            "only the real images' term: the discriminator loss adds the term on the generated batch.": on_real,
            "only the generated images' term: the discriminator loss adds the term on the real batch.": on_fake,
            "half the sum: the article (like the PyTorch tutorial) adds the two terms.": (on_real + on_fake) / 2,
            "one BCE over the concatenated batch weighs the two batches by their sizes; the article takes the "
            "mean of each batch and adds them.":
                bce(torch.cat([p_real, p_fake]), torch.cat([torch.ones(n_real), torch.zeros(n_fake)])),
        }
        judge(loss, on_real + on_fake, wrong, what=f"discriminator loss for batches of {n_real} and {n_fake}")


q42d = Question(
    name="q42d",
    prompt="Repair `d_loss(D, real, fake)`, the discriminator loss of Article C: D ends in a Sigmoid and returns "
           "probabilities of shape (N, 1, 1, 1); the loss is BCE on the real batch (target 1) plus BCE on the "
           "generated batch (target 0), each a mean over its batch (errata E48 and E88).",
    checker=_check_d_loss,
    hints=["Run it: the first error is about the targets' dtype, the next one about shapes.",
           "`criterion(D(real).view(-1), torch.ones(len(real)))`: float targets of shape (N,), and D's output "
           "flattened to (N,). `.squeeze()` fails for a batch of one."],
    solution_code="""
from torch import nn


def d_loss(D, real, fake):
    criterion = nn.BCELoss()
    return (criterion(D(real).view(-1), torch.ones(len(real)))      # float targets, shape (N,)
            + criterion(D(fake).view(-1), torch.zeros(len(fake))))
""",
)


# --------------------------------------------------------------------------------------------------
# 4.3 Conditional GAN and WGAN-GP
# --------------------------------------------------------------------------------------------------

def _check_wasserstein(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(43)
    real, fake = 2 + torch.randn(64, generator=gen), -1 + 3 * torch.randn(64, generator=gen)
    expected = real.mean() - fake.mean()
    wrong = {
        "sign flipped: this is the critic's loss E[f(G(z))] − E[f(x)], which it MINIMISES. The Wasserstein "
        "estimate is its negative, E[f(x)] − E[f(G(z))], large when the critic separates the sets.": -expected,
        "critic scores are not probabilities: no sigmoid. A WGAN critic outputs unbounded real numbers.":
            torch.sigmoid(real).mean() - torch.sigmoid(fake).mean(),
        "each expectation is a mean over its own batch, not a sum.": real.sum() - fake.sum(),
    }
    judge(fn(real.clone(), fake.clone()), expected, wrong, what="Wasserstein estimate")
    try:  # the two batches need not have the same size
        uneven = fn(real.clone(), fake[:48].clone())
    except RuntimeError as err:
        raise CheckFailed("your function fails when the real and generated batches differ in size "
                          f"({err}): take each expectation as the mean over its own batch, "
                          "real_scores.mean() − fake_scores.mean().")
    judge(uneven, real.mean() - fake[:48].mean(), {}, what="Wasserstein estimate (batches of 64 and 48)")


q43a = Question(
    name="q43a",
    prompt="Write `wasserstein_estimate(real_scores, fake_scores)`: the critic's estimate of W1(p_data, p_g) "
           "from its scores on a real batch and a generated batch (1-D tensors, possibly of different sizes).",
    checker=_check_wasserstein,
    hints=["Kantorovich–Rubinstein: W1 = sup over 1-Lipschitz f of E_data[f(x)] − E_g[f(x)].",
           "`real_scores.mean() - fake_scores.mean()`; `losses.wgan_critic_loss` returns its negative."],
    solution_code="""
def wasserstein_estimate(real_scores, fake_scores):
    return real_scores.mean() - fake_scores.mean()
""",
)


_CLASS_SHARES: dict[str, torch.Tensor] = {}


def _class_shares(name: str = "wgangp-fashion", n: int = 600) -> torch.Tensor:
    """Share of each class among n samples of a shipped unconditional generator, by the course classifier."""
    if name not in _CLASS_SHARES:
        from aigc_course import recipes

        classifier = recipes.classifier(device="cpu")
        G = recipes.pretrained(name, device="cpu").eval()
        with torch.no_grad():
            x = G.sample(n, generator=torch.Generator().manual_seed(43))
            pred = classifier(x).argmax(1)
        _CLASS_SHARES[name] = torch.bincount(pred, minlength=10).double() / n
    return _CLASS_SHARES[name]


_FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                    "Ankle boot")


def _class_set(answer) -> set[int]:
    names = [c.lower() for c in _FASHION_CLASSES]
    if isinstance(answer, (str, int)):
        answer = [answer]
    try:
        items = list(answer)
    except TypeError:
        raise CheckFailed("give a list of class names, e.g. `answer = [\"Coat\", \"Bag\"]` (or class indices).")
    out = set()
    for item in items:
        if isinstance(item, (int, np.integer)) or (isinstance(item, torch.Tensor) and item.numel() == 1):
            idx = int(item)
        elif isinstance(item, str) and item.strip().lower() in names:
            idx = names.index(item.strip().lower())
        elif isinstance(item, str) and item.strip().lower() in ("t-shirt", "tshirt", "top"):
            idx = 0
        else:
            raise CheckFailed(f"{item!r} is not a Fashion-MNIST class; the names are {', '.join(names)} "
                              "(or give the indices 0-9).")
        if not 0 <= idx < 10:
            raise CheckFailed(f"class index {idx} is not between 0 and 9.")
        out.add(idx)
    return out


def _check_rare_classes(answer) -> str:
    shares = _class_shares()
    classes = _FASHION_CLASSES
    expected = {c for c in range(10) if shares[c] < 0.02}
    assert expected and all(shares[c] < 0.012 or shares[c] > 0.03 for c in range(10)), shares  # clear-cut
    given = _class_set(answer)
    table = ", ".join(f"{classes[c]} {100 * shares[c]:.1f}%" for c in range(10))
    if given == expected:
        return (f"Measured on 600 samples: {table}. The WGAN-GP generator almost never draws "
                f"{' or '.join(classes[c] for c in sorted(expected))}, and it draws shirts far too often "
                "(the real share is 10% each): the class histogram shows a partial mode dropping that its FID "
                "mixes with everything else.")
    if given == {5}:
        raise CheckFailed("the sandal is the class the cGAN gets WRONG most often when asked for it (4.3's "
                          "class accuracy); this asks which classes the unconditional WGAN-GP generator rarely "
                          "draws at all. Sample it and classify the samples.")
    top = int(shares.argmax())
    if top in given:
        raise CheckFailed(f"{classes[top]} is the class it draws MOST often ({100 * shares[top]:.0f}% of the "
                          "samples); the question asks for the classes below 2%.")
    if given < expected:
        raise CheckFailed(f"right so far, but another class is below 2% too. Sample at least 1000 images and "
                          "count every class.")
    if given > expected:
        extra = ", ".join(f"{classes[c]} ({100 * shares[c]:.1f}%)" for c in sorted(given - expected))
        raise CheckFailed(f"{extra} is drawn more often than 2% of the time. Count the predicted classes of "
                          "at least 1000 samples.")
    raise CheckFailed("not these. Sample 1000 or more images from wgan['generator'], classify them with the "
                      "page's classifier and look at torch.bincount(predictions, minlength=10) / n.")


q43b = Question(
    name="q43b",
    prompt="The shipped WGAN-GP generator is unconditional, so it chooses the classes itself. Which classes "
           "does it draw in less than 2% of its samples (the data have 10% of each), by the course classifier? "
           "`answer` = a list of class names (or indices).",
    checker=_check_rare_classes,
    hints=["`classifier(G.sample(2000, generator=...)).argmax(1)` gives a predicted class per sample.",
           "`torch.bincount(pred, minlength=10) / len(pred)` is the class histogram; compare it with 0.02."],
    solution_code="""
from aigc_course import data, recipes

with torch.no_grad():
    predicted = recipes.classifier(device="cpu")(recipes.pretrained("wgangp-fashion", device="cpu").eval()
                                                 .sample(2000, generator=torch.Generator().manual_seed(0))).argmax(1)
answer = [name for name, share in zip(data.fashion_mnist("test").classes,
                                      torch.bincount(predicted, minlength=10) / 2000) if share < 0.02]
del predicted
""",
)


def _check_sample_class(fn: Callable) -> None:
    from aigc_course.config import GANConfig
    from aigc_course.gan import build_generator

    errors = {"columns": "z must have shape (n, z_dim), one row of G.z_dim numbers per sample: Article E's "
                         "noise of shape (n, 1, 1, 1) has one channel instead of the 100 its generator needs "
                         "(errata E90). Draw `torch.randn(n, G.z_dim, generator=generator)` or use G.noise.",
              "latent": "z must have shape (n, z_dim), one row of G.z_dim numbers per sample (errata E90): "
                        "`torch.randn(n, G.z_dim, generator=generator)` or G.noise(n, generator=generator).",
              "label": "the labels must be integers (torch.long): they index the class embedding. Float targets "
                       "are for BCELoss (errata E88), class indices for nn.Embedding.",
              "Long": "the labels must be integers (torch.long): they index the class embedding."}
    gen = torch.Generator().manual_seed(431)
    for z_dim, c, n in [(16, 3, 5), (8, 9, 2)]:
        G = build_generator(GANConfig(kind="dcgan", z_dim=z_dim, width=4, n_classes=10)).eval()
        seed = int(torch.randint(10_000, (1,), generator=gen))
        with torch.no_grad():
            z = torch.randn(n, z_dim, generator=torch.Generator().manual_seed(seed))
            expected = G(z, torch.full((n,), c, dtype=torch.long))
            in_turn = G(z, torch.arange(n) % 10)
            torch.randn(7)                                       # another process's global random state
            out = _call(fn, G, c, n, torch.Generator().manual_seed(seed), errors=errors)
            if isinstance(out, torch.Tensor) and out.shape == expected.shape \
                    and not torch.allclose(out, expected, atol=1e-5):
                if torch.allclose(out, in_turn, atol=1e-5):
                    raise CheckFailed("every sample must be of class c: torch.arange(n) % 10 (G.sample's "
                                      "default) gives each class in turn.")
                again = _call(fn, G, c, n, torch.Generator().manual_seed(seed))
                if not torch.allclose(again, out):
                    raise CheckFailed("the noise does not come from `generator`: pass generator=generator to "
                                      "torch.randn (or G.noise), so that a seed gives the same samples.")
        judge(out, expected, {}, what=f"samples of class {c} (z_dim={z_dim})", atol=1e-5)


q43c = Question(
    name="q43c",
    prompt="Repair `sample_class(G, c, n, generator)`: n samples of class c from the conditional generator G "
           "(which takes z of shape (n, G.z_dim) and integer labels of shape (n,)), the noise drawn with the "
           "torch.Generator `generator` (errata E90).",
    checker=_check_sample_class,
    hints=["Run it and read the error: how many numbers per sample does G expect in z?",
           "`torch.randn(n, G.z_dim, generator=generator)` and `torch.full((n,), c, dtype=torch.long)`; or "
           "simply `G.sample(n, c, generator=generator)`."],
    solution_code="""
def sample_class(G, c, n, generator):
    z = torch.randn(n, G.z_dim, generator=generator)          # (n, z_dim), not (n, 1, 1, 1)
    labels = torch.full((n,), c, dtype=torch.long)            # class indices for the embedding
    return G(z, labels)
""",
)


# --------------------------------------------------------------------------------------------------
# 4.4 Convolutional VAE
# --------------------------------------------------------------------------------------------------

def _check_beta_loss(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(44)
    recon = 200 + 30 * torch.rand(32, generator=gen, dtype=torch.float64)  # −log p(x|z) per image, (B,)
    kl = 5 + 20 * torch.rand(32, generator=gen, dtype=torch.float64)       # KL per image, (B,)
    for beta in (4.0, 0.5):
        expected = (recon + beta * kl).mean()
        wrong = {
            "β multiplies the wrong term: it weighs the KL (how far q(z|x) may move from the prior), not the "
            "reconstruction.": (beta * recon + kl).mean(),
            "the KL is a penalty: it is ADDED to the reconstruction loss (the ELBO subtracts it from "
            "log p(x|z), and the loss is minus the ELBO).": (recon - beta * kl).mean(),
            "β is missing: with β = 1 this is the plain VAE; the β-VAE weighs the KL by β.": (recon + kl).mean(),
            "average over the batch (mean), do not sum: the trainer's loss is a per-image mean.":
                (recon + beta * kl).sum(),
        }
        judge(fn(recon.clone(), kl.clone(), beta), expected, wrong, what=f"β-VAE loss for β={beta}")


q44a = Question(
    name="q44a",
    prompt="Write `beta_vae_loss(recon, kl, beta)`: the batch loss of a β-VAE from the per-image "
           "reconstruction term recon = −log p(x|z) and KL(q(z|x) || p(z)) (1-D tensors).",
    checker=_check_beta_loss,
    hints=["The β-VAE objective is E_q[log p(x|z)] − β·KL; the loss is its negative, averaged over the batch.",
           "`(recon + beta * kl).mean()`."],
    solution_code="""
def beta_vae_loss(recon, kl, beta):
    return (recon + beta * kl).mean()
""",
)


def _check_active_units(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(441)
    spread = torch.tensor([1.0, 0.5, 0.3, 0.05, 0.02, 0.001, 0.0])  # per latent dimension
    offset = torch.tensor([0.0, 3.0, -1.0, 0.0, 2.0, 5.0, -4.0])
    cases = []
    for n, perm in [(500, list(range(7))), (300, [6, 2, 0, 4, 1, 5, 3])]:
        mu = (torch.randn(n, 7, generator=gen) * spread + offset)[:, perm]
        for threshold in (0.01, 0.5, 0.001):
            cases.append((mu, threshold))
    first = None
    for mu, threshold in cases:
        variances = mu.var(dim=0)
        # variances are about 1, 0.25, 0.09, 0.0025, 0.0004, 1e-6, 0: far from every threshold
        assert ((variances - threshold).abs() > threshold / 3).all()
        expected = int((variances > threshold).sum())
        answer = fn(mu.clone(), threshold)
        if first is None:
            first = answer
        wrong = {
            "the variance must be taken over the data (dim=0, one value per latent dimension), not over the "
            "latent dimensions of each image.": torch.tensor(float((mu.var(dim=1) > threshold).sum())),
            "a unit is active when its posterior mean VARIES with x; a large mean alone (an offset) says "
            "nothing about whether the decoder uses it.":
                torch.tensor(float((mu.mean(dim=0).abs() > threshold).sum())),
            "compare the variance (not the standard deviation) with the threshold.":
                torch.tensor(float((mu.std(dim=0) > threshold).sum())),
        }
        if threshold != 0.01:
            wrong[f"with threshold={threshold} your function still counts the dimensions above 0.01: use the "
                  f"`threshold` argument instead of a fixed number."] = \
                torch.tensor(float((variances > 0.01).sum()))
        judge(answer, torch.tensor(float(expected)), wrong,
              what=f"number of active units for threshold={threshold}", atol=0, rtol=0)


q44b = Question(
    name="q44b",
    prompt="Write `active_units(mu, threshold=0.01)`: the number of latent dimensions whose posterior mean "
           "varies over the data, Var_x(E_q[z_j | x]) > threshold (Burda et al.), from mu of shape (N, z_dim).",
    checker=_check_active_units,
    hints=["One variance per latent dimension j, computed over the N images.",
           "`int((mu.var(dim=0) > threshold).sum())`."],
    solution_code="""
def active_units(mu, threshold=0.01):
    return int((mu.var(dim=0) > threshold).sum())
""",
)


def _check_vae_loss(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(443)
    for n, d, j in [(8, 12, 12), (6, 20, 5)]:
        x = torch.rand(n, d, generator=gen, dtype=torch.float64) * 2 - 1
        x_hat = torch.rand(n, d, generator=gen, dtype=torch.float64) * 2 - 1
        mu = torch.randn(n, j, generator=gen, dtype=torch.float64)
        logvar = torch.randn(n, j, generator=gen, dtype=torch.float64)
        recon = 0.5 * ((x - x_hat) ** 2).sum(1)
        kl = 0.5 * (mu**2 + logvar.exp() - logvar - 1).sum(1)
        wrong = {}
        if d == j:  # the article's KL only runs when data and latent have the same size
            wrong = {
                "both bugs are still there (errata E87): the KL of N(μ, σ²) from N(0, 1) is "
                "½(μ² + σ² − log σ² − 1): −log σ², and μ² in place of the data's −x².":
                    (recon + 0.5 * (logvar + logvar.exp() - 1 - x**2).sum(1)).mean(),
                "the sign of log σ² is right now, but the KL is a function of the posterior (μ, σ), not of "
                "the data: +μ² where the article has −x².": (recon + 0.5 * (-logvar + logvar.exp() - 1 - x**2)
                                                             .sum(1)).mean(),
                "μ² is right now, but the log-variance enters with a MINUS sign: ½(μ² + σ² − log σ² − 1), "
                "which is 0 at μ = 0, σ = 1.": (recon + 0.5 * (mu**2 + logvar.exp() - 1 + logvar).sum(1)).mean(),
            }
        wrong["the reconstruction and KL are per image: sum over the pixels (and latent dimensions), then "
              "average over the images, not the other way round."] = \
            (0.5 * ((x - x_hat) ** 2).mean(1) + 0.5 * (mu**2 + logvar.exp() - logvar - 1).mean(1)).sum()
        wrong["average over the batch: the loss is the mean over the N images."] = (recon + kl).sum()
        wrong["the KL is ADDED to the reconstruction error (the loss is minus the ELBO)."] = (recon - kl).mean()
        out = _call(fn, x.clone(), x_hat.clone(), mu.clone(), logvar.clone(),
                    errors={"must match the size": "the KL runs over the J latent dimensions of μ and log σ², "
                                                   "not over the data's D dimensions (errata E87)."})
        judge(out, (recon + kl).mean(), wrong, what=f"VAE loss with D={d} data and J={j} latent dimensions")


q44c = Question(
    name="q44c",
    prompt="Repair `vae_loss(x, x_hat, mu, logvar)`, Article E's VAE loss (errata E87): the mean over the N "
           "images of ½‖x − x̂‖² plus KL(N(μ, diag σ²) ‖ N(0, I)); x, x_hat have shape (N, D), mu, logvar (N, J).",
    checker=_check_vae_loss,
    hints=["The KL of one latent dimension is ½(μ² + σ² − log σ² − 1); it is 0 when μ = 0 and σ = 1.",
           "`0.5 * (mu**2 + logvar.exp() - logvar - 1).sum(dim=1)`: over the latent dimensions J."],
    solution_code="""
def vae_loss(x, x_hat, mu, logvar):
    recon = 0.5 * ((x - x_hat) ** 2).sum(dim=1)                        # (N,)
    kl = 0.5 * (mu**2 + logvar.exp() - logvar - 1).sum(dim=1)          # (N,), over the J latent dimensions
    return (recon + kl).mean()
""",
)


def _check_gaussian_nll(fn: Callable) -> str:
    gen = torch.Generator().manual_seed(444)
    for shape, sigma in [((4, 1, 28, 28), 0.1), ((3, 3, 8, 8), 0.5), ((2, 1, 5, 5), 1.7)]:
        x = torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1
        mean = (x + 0.3 * torch.randn(shape, generator=gen, dtype=torch.float64)).clamp(-1, 1)
        d = x[0].numel()
        sq = ((x - mean) ** 2).flatten(1).sum(1)
        expected = -torch.distributions.Normal(mean, sigma).log_prob(x).flatten(1).sum(1)
        const = d * math.log(sigma) + 0.5 * d * math.log(2 * math.pi)
        wrong = {
            "this is the squared error weighted by 1/(2σ²), the training loss up to a constant. As a −log "
            "density it needs the normaliser too: + D·log σ + (D/2)·log 2π.": sq / (2 * sigma**2),
            "the normaliser's log 2π term is missing: each pixel contributes ½ log(2πσ²).":
                sq / (2 * sigma**2) + d * math.log(sigma),
            "the log σ term is missing: each pixel contributes log σ + ½ log 2π.":
                sq / (2 * sigma**2) + 0.5 * d * math.log(2 * math.pi),
            "divide by σ², the variance, not by σ.": sq / (2 * sigma) + const,
            "the factor ½ of the squared error is missing: −log N(x; m, σ²) = (x − m)²/(2σ²) + ....":
                sq / sigma**2 + const,
            "sum over the pixels of each image, do not average them: p(x | z) is a product over the pixels.":
                (sq / (2 * sigma**2) + const) / d,
            "the sign is flipped: that is log p(x|z); the reconstruction term is −log p(x|z).":
                -(sq / (2 * sigma**2) + const),
        }
        out = _call(fn, x.clone(), mean.clone(), sigma)
        judge(out, expected, wrong, what=f"−log p(x|z) per image for images {shape}, σ = {sigma}",
              atol=1e-6, rtol=1e-6)
    return ("With σ = 0.1 on [−1, 1] pixels the squared error is weighed by 1/(2σ²) = 50 against the KL: a "
            "smaller σ acts like a smaller β. The package's `VAEConfig(decoder=\"gaussian\", sigma=0.1)` "
            "uses this term.")


q44d = Question(
    name="q44d",
    prompt="Write `gaussian_nll(x, mean, sigma)`: the reconstruction term −log p(x | z) of a Gaussian decoder, "
           "p(x | z) = N(x; mean, σ² I) with a fixed σ, per image: x and mean of shape (B, C, H, W) -> (B,).",
    checker=_check_gaussian_nll,
    hints=["One pixel: −log N(x; m, σ²) = (x − m)²/(2σ²) + log σ + ½ log 2π. The pixels are independent "
           "given z, so sum over them.",
           "`(((x - mean) ** 2) / (2 * sigma**2) + math.log(sigma) + 0.5 * math.log(2 * math.pi))` summed "
           "over dims (1, 2, 3); or `-Normal(mean, sigma).log_prob(x)` summed the same way."],
    solution_code="""
def gaussian_nll(x, mean, sigma):
    per_pixel = (x - mean) ** 2 / (2 * sigma**2) + math.log(sigma) + 0.5 * math.log(2 * math.pi)
    return per_pixel.flatten(1).sum(dim=1)            # (B,): independent pixels, so the logs add
""",
)


# --------------------------------------------------------------------------------------------------
# 4.5 Evaluation
# --------------------------------------------------------------------------------------------------

def _random_cov(d: int, rng: np.random.Generator) -> np.ndarray:
    """A well-conditioned covariance with positive entries (so an element-wise sqrt runs, and is wrong)."""
    a = rng.uniform(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def _fd_parts(mu1, s1, mu2, s2):
    diff = mu1 - mu2
    return float(diff @ diff), float(np.trace(s1) + np.trace(s2)), float(np.trace(linalg.sqrtm(s1 @ s2).real))


def _check_frechet(fn: Callable) -> None:
    rng = np.random.default_rng(45)
    d = 6
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    s1, s2 = _random_cov(d, rng), _random_cov(d, rng)  # do not commute: sqrt(S1) sqrt(S2) != sqrtm(S1 S2)
    means, traces, cross = _fd_parts(mu1, s1, mu2, s2)
    expected = torch.tensor(means + traces - 2 * cross)
    sq1, sq2 = linalg.sqrtm(s1).real, linalg.sqrtm(s2).real
    wrong = {
        "the cross term −2·tr((Σ1 Σ2)^{1/2}) is missing: without it the covariance part is tr(Σ1 + Σ2), "
        "which is not zero even for two identical Gaussians.": torch.tensor(means + traces),
        "np.sqrt is an ELEMENT-WISE square root; the formula needs the MATRIX square root "
        "scipy.linalg.sqrtm(Σ1 @ Σ2) (a matrix M with M @ M = Σ1 Σ2).":
            torch.tensor(means + traces - 2 * np.trace(np.sqrt(s1 @ s2))),
        "element-wise sqrt of Σ1 * Σ2 is not the matrix square root of the PRODUCT Σ1 @ Σ2: use "
        "scipy.linalg.sqrtm(s1 @ s2).": torch.tensor(means + traces - 2 * np.trace(np.sqrt(s1 * s2))),
        "sqrt(Σ1)·sqrt(Σ2) equals (Σ1 Σ2)^{1/2} only when the matrices commute; covariances of two "
        "feature sets do not. Use sqrtm(Σ1 @ Σ2).": torch.tensor(means + traces - 2 * np.trace(sq1 @ sq2)),
        "the mean term is the SQUARED distance ||μ1 − μ2||², not the distance.":
            torch.tensor(math.sqrt(means) + traces - 2 * cross),
        "the factor 2 of the cross term is missing.": torch.tensor(means + traces - cross),
    }
    judge(fn(mu1.copy(), s1.copy(), mu2.copy(), s2.copy()), expected, wrong, what="Fréchet distance",
           atol=1e-6, rtol=1e-6)
    same = as_tensor(fn(mu1.copy(), s1.copy(), mu1.copy(), s1.copy()), "Fréchet distance of a Gaussian to itself")
    if abs(float(same)) > 1e-6:
        raise CheckFailed(f"the distance of a Gaussian to itself should be 0, got {float(same):.3g}.")


q45a = Question(
    name="q45a",
    prompt="Write `frechet(mu1, s1, mu2, s2)` (numpy arrays): the squared Fréchet distance between "
           "N(mu1, s1) and N(mu2, s2), the formula behind FID.",
    checker=_check_frechet,
    hints=["d² = ||μ1 − μ2||² + tr(Σ1 + Σ2 − 2 (Σ1 Σ2)^{1/2}).",
           "The square root is a matrix square root: `scipy.linalg.sqrtm(s1 @ s2).real` (drop round-off "
           "imaginary parts)."],
    solution_code="""
from scipy import linalg


def frechet(mu1, s1, mu2, s2):
    diff = mu1 - mu2
    covmean = linalg.sqrtm(s1 @ s2).real
    return diff @ diff + np.trace(s1 + s2 - 2 * covmean)
""",
)


def _pr_sets(seed: int, n_dense: int = 40, n_sparse: int = 20, m: int = 200) -> tuple[torch.Tensor, torch.Tensor]:
    """Real points: a dense and a sparse cluster (so the k-NN radii differ a lot); fakes spread over both."""
    gen = torch.Generator().manual_seed(seed)
    real = torch.cat([0.1 * torch.randn(n_dense, 2, generator=gen), 3 + 1.5 * torch.randn(n_sparse, 2, generator=gen)])
    fake = torch.cat([0.4 * torch.randn(m // 3, 2, generator=gen), 3 + 2.5 * torch.randn(m // 3, 2, generator=gen),
                      1.5 + 0.8 * torch.randn(m - 2 * (m // 3), 2, generator=gen)])
    return real.double(), fake.double()


def _check_precision(fn: Callable) -> None:
    for k, seed in ((3, 450), (1, 550)):
        real, fake = _pr_sets(seed)
        d_rr, d_fr = torch.cdist(real, real), torch.cdist(fake, real)
        radii = d_rr.kthvalue(k + 1, dim=1).values                      # the point itself is at distance 0
        nearest_d, nearest_i = d_fr.min(dim=1)
        expected = (d_fr <= radii).any(dim=1).double().mean()
        wrong = {
            "each real point's radius must be the distance to its k-th nearest OTHER real point: in "
            "torch.cdist(real, real) every row holds a 0 (the point itself), so take kthvalue(k + 1).":
                (d_fr <= d_rr.kthvalue(k, dim=1).values).any(dim=1).double().mean(),
            "that is RECALL: the share of real points inside the balls around the fakes. Precision puts the "
            "balls around the REAL points and counts the fakes inside them.":
                (torch.cdist(real, fake) <= torch.cdist(fake, fake).kthvalue(k + 1, dim=1).values)
                .any(dim=1).double().mean(),
            "one radius for every ball (the mean k-NN radius) loses what the method is for: dense regions get "
            "small balls and sparse ones large balls. Give each real point its own radius.":
                (nearest_d <= radii.mean()).double().mean(),
            "checking only the ball of the NEAREST real point is not enough: a fake can lie outside its nearest "
            "neighbour's small ball and still inside the larger ball of another real point. Test all balls "
            "(`.any(dim=1)` over the real points).": (nearest_d <= radii[nearest_i]).double().mean(),
        }
        judge(fn(real.clone(), fake.clone(), k), expected, wrong, what=f"precision with k = {k}",
              atol=1e-6, rtol=1e-6)


q45b = Question(
    name="q45b",
    prompt="Write `precision(real, fake, k)`: the improved precision of Kynkäänniemi et al. (2019) from "
           "feature tensors real (N, D) and fake (M, D): the share of fakes that fall inside at least one "
           "ball around a real point, whose radius is the distance to that point's k-th nearest real neighbour.",
    checker=_check_precision,
    hints=["`torch.cdist(a, b)` gives all pairwise distances. The radii come from cdist(real, real), the "
           "test from cdist(fake, real).",
           "Each row of cdist(real, real) contains a 0: the point itself. The k-th nearest OTHER point is "
           "`.kthvalue(k + 1, dim=1)`.",
           "A fake is inside if it is within the radius of ANY real point: compare the (M, N) distances with the "
           "(N,) radii, then `.any(dim=1)` and average."],
    solution_code="""
def precision(real, fake, k):
    radii = torch.cdist(real, real).kthvalue(k + 1, dim=1).values   # skip the point itself
    inside = torch.cdist(fake, real) <= radii                        # (M, N): fake j in the ball of real i
    return inside.any(dim=1).float().mean()
""",
)


def _fit_infinity(ns, values) -> float:
    """Intercept a of the least-squares fit values ~ a + b / n."""
    ns, values = np.asarray(ns, dtype=np.float64), np.asarray(values, dtype=np.float64)
    design = np.stack([np.ones_like(ns), 1.0 / ns], axis=1)
    return float(np.linalg.lstsq(design, values, rcond=None)[0][0])


def _check_fid_infinity(fn: Callable) -> None:
    rng = np.random.default_rng(452)
    cases = [
        (np.array([250, 500, 1000, 2000]), 3.0, 900.0, 0.0),      # exact: a + b / n
        (np.array([500, 1000, 2000, 4000, 8000]), 0.4, 2500.0, 0.02),
        (np.array([100, 200, 300, 600]), 12.0, 400.0, 0.05),
    ]
    for ns, a, b, noise in cases:
        values = a + b / ns + noise * rng.normal(size=len(ns))
        expected = _fit_infinity(ns, values)
        slope = np.polyfit(1.0 / ns, values, 1)[0]
        wrong = {
            "this is the FID at the largest n, which still contains the bias c/n: fit FID_n = a + c/n and "
            "return the intercept a, the value at 1/n = 0.": torch.tensor(float(values[-1])),
            "the bias shrinks like 1/n, not linearly in n: regress the FIDs on 1/n (a straight line in 1/n), "
            "then read it off at 1/n = 0.": torch.tensor(float(np.polyfit(ns, values, 1)[1])),
            "the mean of the FIDs is not an extrapolation: fit a + c/n and take a.":
                torch.tensor(float(values.mean())),
            "that is the slope c (how fast the bias shrinks); FID at n → ∞ is the intercept a.":
                torch.tensor(float(slope)),
            "a line through the origin forces FID_∞ = 0: the fit needs an intercept (np.polyfit(1/n, fid, 1) "
            "or a column of ones in the design matrix).": torch.tensor(0.0),
        }
        judge(fn(ns.copy(), values.copy()), torch.tensor(expected), wrong,
              what=f"FID_∞ from n = {ns.tolist()}", atol=1e-6, rtol=1e-6)
    try:  # the page calls it with plain lists
        from_lists = fn(ns.tolist(), values.tolist())
    except TypeError as err:
        raise CheckFailed(f"your function fails on Python lists ({err}): convert first, e.g. "
                          "ns = np.asarray(ns, dtype=float), before computing 1 / ns.") from None
    judge(from_lists, torch.tensor(expected), {}, what="FID_∞ from Python lists", atol=1e-6, rtol=1e-6)


q45c = Question(
    name="q45c",
    prompt="Write `fid_at_infinity(ns, fids)`: from FIDs computed with n samples per set (arrays of equal "
           "length), fit FID_n = FID_∞ + c / n by least squares and return FID_∞ (Chong & Forsyth 2020).",
    checker=_check_fid_infinity,
    hints=["The bias of FID falls like 1/n, so FID_n is a straight line in x = 1/n.",
           "`np.polyfit(1 / np.asarray(ns), fids, 1)` returns (slope, intercept); FID_∞ is the intercept."],
    solution_code="""
def fid_at_infinity(ns, fids):
    slope, intercept = np.polyfit(1 / np.asarray(ns, dtype=float), fids, 1)
    return intercept
""",
)


def _recall_on_a_line() -> float:
    """k-NN recall (k = 3) of 1000 points on a line through 1000 real points from N(0, I_2)."""
    from aigc_course import metrics

    gen = torch.Generator().manual_seed(451)
    real = torch.randn(1000, 2, generator=gen)
    fake = torch.stack([torch.randn(1000, generator=gen), torch.zeros(1000)], dim=1)
    return metrics.precision_recall(real, fake, k=3).recall


q45d = prediction(
    "q45d",
    "1000 real points from a standard Gaussian in 2-D; 1000 generated points on the line through its centre, "
    "(N(0, 1), 0). What is the improved recall (k = 3)? Predict a number between 0 and 1; within ±0.03 counts.",
    _recall_on_a_line, abs_tol=0.03,
    explanation="Recall puts the balls around the GENERATED points. On a line 1000 points are packed so "
                "densely that the third neighbour is about 0.005 away, so a real point counts only if it lies "
                "within that distance of the line: about 2 × 0.005 × 0.4 ≈ 0.004 of the mass, plus a little at "
                "the sparse ends. Coverage, with the real balls, is several times higher. More samples "
                "shrink the balls further: recall of a set concentrated on fewer dimensions goes to 0 as n "
                "grows.",
    wrong={"half is the share of DIRECTIONS the line covers, but recall counts real points inside the balls of "
           "the generated ones, and those balls are tiny.": 0.5,
           "the line does run through the middle of the data, so PRECISION is near 1; recall uses the "
           "generated points' own k-NN radii, which are tiny on a line.": 1.0,
           "the page's strip of 60 points had larger balls: here the set is thinner (a line) and 17 times "
           "larger, so its balls are far smaller.": 0.2},
    hints=["Which set's radii does recall use? How far is the third nearest neighbour among 1000 points "
           "on a line, compared with 1000 points in the plane?",
           "A real point counts only if it is within about the generated spacing (≈ 3 / (1000 · 0.4)) of the "
           "line."],
    solution_code="""
from aigc_course import metrics

gen = torch.Generator().manual_seed(0)
answer = metrics.precision_recall(torch.randn(1000, 2, generator=gen),
                                  torch.stack([torch.randn(1000, generator=gen), torch.zeros(1000)], 1),
                                  k=3).recall
del gen
""",
)


def _check_density(fn: Callable) -> None:
    from aigc_course import metrics

    for k, seed in ((3, 451), (1, 452)):
        real, fake = _pr_sets(seed)
        d_fr, d_rr = torch.cdist(fake, real), torch.cdist(real, real)
        radii = d_rr.kthvalue(k + 1, dim=1).values
        inside = d_fr <= radii                                     # (M, N)
        expected = inside.double().sum() / (k * len(fake))
        assert abs(float(expected) - metrics.density_coverage(real, fake, k=k).density) < 1e-6
        wrong = {
            "that is COVERAGE, the share of real balls holding at least one generated point; density counts, "
            "for every generated point, how many real balls it falls in.": inside.any(0).double().mean(),
            "that is precision, the share of generated points inside at least one ball; density counts ALL "
            "the balls a point falls in.": inside.any(1).double().mean(),
            "divide by k as well: a generated point amid data distributed like it falls in about k balls, "
            "and density is scaled so that this gives 1.": inside.double().sum() / len(fake),
            "average over the M generated points (divide by k·M), not over the N real points.":
                inside.double().sum() / (k * len(real)),
            "each real ball's radius is the distance to its k-th nearest OTHER real point: kthvalue(k + 1), "
            "since every point is at distance 0 from itself.":
                (d_fr <= d_rr.kthvalue(k, dim=1).values).double().sum() / (k * len(fake)),
            "density uses only the REAL balls (that is its point: outlying fakes cannot enlarge them).":
                (torch.cdist(real, fake) <= torch.cdist(fake, fake).kthvalue(k + 1, dim=1).values).double().sum()
                / (k * len(real)),
        }
        judge(_call(fn, real.clone(), fake.clone(), k), expected, wrong, what=f"density with k = {k}",
              atol=1e-6, rtol=1e-6)


q45e = Question(
    name="q45e",
    prompt="Write `density(real, fake, k)`, the density of Naeem et al. (2020) from features real (N, D) and "
           "fake (M, D): for each fake, the number of real k-NN balls it lies in, averaged over the fakes and "
           "divided by k.",
    checker=_check_density,
    hints=["The balls are the real points' k-NN balls, as for precision: radius = kthvalue(k + 1) of "
           "cdist(real, real).",
           "`(torch.cdist(fake, real) <= radii)` is (M, N); count everything that is True, then divide by k·M."],
    solution_code="""
def density(real, fake, k):
    radii = torch.cdist(real, real).kthvalue(k + 1, dim=1).values     # the real balls
    in_balls = (torch.cdist(fake, real) <= radii).sum(dim=1)          # (M,): how many balls hold each fake
    return in_balls.double().mean() / k
""",
)


_FID_CACHE: dict[str, torch.Tensor] = {}


def _fid_sets() -> dict[str, torch.Tensor]:
    """200 test images ("real"), 200 noisy other test images ("fake"), in [-1, 1], and the course
    classifier's features and logits of both (computed once)."""
    if not _FID_CACHE:
        from aigc_course import data, metrics, recipes

        classifier = recipes.classifier(device="cpu").eval()
        test = data.fashion_mnist("test")
        gen = torch.Generator().manual_seed(453)
        real = metrics.to_model_space(test.images[:200])
        other = metrics.to_model_space(test.images[5000:5200])
        fake = (other + 0.2 * torch.randn(other.shape, generator=gen)).clamp(-1, 1)
        with torch.no_grad():
            for name, x in (("real", real), ("fake", fake)):
                _FID_CACHE[name] = x
                _FID_CACHE[f"{name}_features"] = classifier.features(x).double()
                _FID_CACHE[f"{name}_logits"] = classifier(x).double()
    return _FID_CACHE


def _check_fid_of_images(fn: Callable) -> str:
    from aigc_course import metrics, recipes

    classifier = recipes.classifier(device="cpu").eval()
    sets = _fid_sets()
    real, fake, n_fewer = sets["real"], sets["fake"], 150
    feats = {"real": sets["real_features"], "fake": sets["fake_features"],
             "fewer": sets["fake_features"][:n_fewer]}
    logits = {"real": sets["real_logits"], "fake": sets["fake_logits"]}
    fewer = fake[:n_fewer]

    def fd(a, b):
        a, b = a.numpy(), b.numpy()
        return torch.tensor(metrics.frechet_distance(a.mean(0), np.cov(a, rowvar=False),
                                                     b.mean(0), np.cov(b, rowvar=False)))

    rowvar = ("np.cov treats each ROW as a variable: np.cov(real) is an N×N matrix over the images, not the "
              "D×D covariance of the features, and frechet_distance refuses it. Use np.cov(real, rowvar=False) "
              "(or np.cov(real.T)).")
    wrong = {
        "these are the classifier's LOGITS (10 numbers, its last layer, which only says which class an image "
        "is); FID uses the layer before, `classifier.features` (128 numbers), as metrics.extract_features "
        "does.": fd(logits["real"], logits["fake"]),
    }
    for what, other in [("200 against 200", fake), (f"200 against {n_fewer}", fewer)]:
        out = _call(fn, classifier, real.clone(), other.clone(), errors={"shapes do not match": rowvar})
        expected = fd(feats["real"], feats["fake" if other is fake else "fewer"])
        judge(out, expected, wrong if other is fake else {}, what=f"FID of {what} images", atol=1e-4, rtol=1e-4)
    return (f"On these sets: FID {float(fd(feats['real'], feats['fake'])):.2f} with 200 generated images and "
            f"{float(fd(feats['real'], feats['fewer'])):.2f} with {n_fewer} of the same ones. Your function "
            "accepts sets of different sizes, but their FIDs do not compare: the plug-in FID is biased upwards "
            "by about c/n (the page's floor), so compare models only at equal n.")


q45f = Question(
    name="q45f",
    prompt="Repair `fid_of_images(classifier, real_images, fake_images)`: the FID between two image sets "
           "(float, in [−1, 1]) in the course classifier's feature space, as `metrics.fid` computes it; the "
           "sets may differ in size.",
    checker=_check_fid_of_images,
    hints=["Which layer do the features of FID come from? Compare `classifier(x).shape` with "
           "`metrics.extract_features(classifier, x).shape`.",
           "Print `np.cov(real).shape`: np.cov takes variables in ROWS unless rowvar=False."],
    solution_code="""
from aigc_course import metrics


def fid_of_images(classifier, real_images, fake_images):
    real = metrics.extract_features(classifier, real_images).double().numpy()   # (N, 128), not the logits
    fake = metrics.extract_features(classifier, fake_images).double().numpy()   # (M, 128)
    return metrics.frechet_distance(real.mean(0), np.cov(real, rowvar=False),  # D x D covariances
                                    fake.mean(0), np.cov(fake, rowvar=False))
""",
)


# --------------------------------------------------------------------------------------------------
# 4.6 Going fast and big
# --------------------------------------------------------------------------------------------------

_MFU_CASES = [(92.9e6, 587.0, 1.0e12), (3.1e9, 41_000.0, 989e12), (7.5e8, 12_500.0, 312e12)]


def _check_mfu(fn: Callable) -> None:
    for flops, rate, peak in _MFU_CASES:
        expected = flops * rate / peak
        wrong = {
            "that is a percentage: return the utilisation as a fraction between 0 and 1.": torch.tensor(100 * expected),
            "upside down: achieved FLOP/s (FLOPs per image × images per second) goes on top, the peak below.":
                torch.tensor(peak / (flops * rate)),
            "the images per second are missing: FLOPs per image alone is work, not a rate.": torch.tensor(flops / peak),
        }
        judge(fn(flops, rate, peak), torch.tensor(expected, dtype=torch.float64), wrong,
               what=f"MFU for {flops:.3g} FLOPs/image at {rate:g} images/s on a {peak:.3g} FLOP/s device")


q46a = Question(
    name="q46a",
    prompt="Write `mfu(flops_per_image, images_per_s, peak_flops)`: the model FLOPs utilisation, the fraction "
           "of the device's peak FLOP/s that the training step really uses.",
    checker=_check_mfu,
    hints=["Achieved FLOP/s = work per image × images per second.", "Divide the achieved FLOP/s by the peak."],
    solution_code="""
def mfu(flops_per_image, images_per_s, peak_flops):
    return flops_per_image * images_per_s / peak_flops
""",
)

_SHARD_CASES = [(60_000, 128, 1), (60_000, 128, 2), (60_000, 128, 8), (1_000, 64, 3), (50_000, 256, 7)]


def _check_batches_per_rank(fn: Callable) -> None:
    from aigc_course import data

    for n, batch, world in _SHARD_CASES:
        images = torch.zeros(n, 1, 1, 1, dtype=torch.uint8)
        expected = len(data.TensorLoader(images, batch_size=batch, rank=0, world_size=world, device="cpu"))
        wrong = {
            "this ignores the sharding: under DDP each of the world_size processes sees only its own 1/world_size "
            "of every epoch.": torch.tensor(float(n // batch)),
            "a partial last batch is dropped (drop_last=True): round down, not up.":
                torch.tensor(float(math.ceil(n / world / batch))),
            "the number of batches is a whole number: divide with //, twice.": torch.tensor(n / world / batch),
        }
        judge(fn(n, batch, world), torch.tensor(float(expected)), wrong,
               what=f"batches per rank for {n} samples, batch {batch}, world size {world}", atol=0.0, rtol=0.0)


q46b = Question(
    name="q46b",
    prompt="Write `batches_per_rank(n_samples, batch_size, world_size)`: how many full batches each DDP process "
           "trains on per epoch when the data set is sharded across `world_size` processes (drop_last=True), "
           "as `aigc_course.data.TensorLoader` does.",
    checker=_check_batches_per_rank,
    hints=["Each process gets n_samples // world_size samples of every epoch.",
           "Then count the full batches in that share: (n_samples // world_size) // batch_size."],
    solution_code="""
def batches_per_rank(n_samples, batch_size, world_size):
    return (n_samples // world_size) // batch_size
""",
)


def _left_out_under_ddp(n: int = 60_000, batch: int = 128, world: int = 7) -> int:
    """Distinct images that one epoch of ``world`` TensorLoader ranks never yields."""
    from aigc_course import data

    images = torch.zeros(n, 1, 1, 1, dtype=torch.uint8)
    seen = torch.zeros(n, dtype=torch.bool)
    for rank in range(world):
        for _, ids in data.TensorLoader(images, torch.arange(n), batch_size=batch, rank=rank, world_size=world,
                                        device="cpu", scale=False):
            seen[ids] = True
    return int(n - seen.sum())


q46c = prediction(
    "q46c",
    "Fashion-MNIST's 60 000 training images, batch_size=128 per process, seven processes under DDP. The data "
    "set is cut into seven equal shares (the remainder left out) and each rank drops its incomplete last "
    "batch. How many distinct images does one epoch leave out, over all ranks?",
    _left_out_under_ddp, abs_tol=0.5,
    explanation="Each share holds 60 000 // 7 = 8 571 images (3 left out); each rank uses 66 full batches, "
                "8 448 images, and drops 123. In all 3 + 7 × 123 = 864: each rank drops its own partial "
                "batch, so the loss grows with the number of processes.",
    wrong={"that is what ONE process drops (60 000 mod 128): under DDP each of the seven ranks drops its own "
           "incomplete batch.": 96,
           "that is only the remainder of the split into seven shares; each rank also drops its incomplete "
           "last batch.": 3,
           "the ranks' incomplete batches, but the split itself leaves 60 000 mod 7 = 3 images out as well.": 861,
           "nothing is padded or wrapped around: the split and the last batches both leave images out.": 0},
    hints=["First the split: 60 000 // 7 images per rank, and 60 000 mod 7 left over.",
           "Then per rank: (60 000 // 7) mod 128 images in the incomplete batch."],
    solution_code="""
per_rank = 60_000 // 7                                  # each rank's share
answer = 60_000 - 7 * (per_rank // 128) * 128           # minus the images in full batches
del per_rank
""",
)


def _check_epoch_shard(fn: Callable) -> None:
    for n, world in [(1000, 3), (10, 4), (4096, 8)]:
        per_rank = n // world
        epochs = []
        for epoch in (0, 1):
            shards = []
            for rank in range(world):
                torch.rand(17 * (rank + 1))                     # each process has its own global random state
                shard = _call(fn, n, rank, world, epoch, 7)
                shard = torch.as_tensor(shard)
                if shard.dim() != 1 or shard.is_floating_point():
                    raise CheckFailed(f"return a 1-D tensor of integer indices, got dtype {shard.dtype} and "
                                      f"shape {tuple(shard.shape)}.")
                shards.append(shard.long())
            sizes = [len(x) for x in shards]
            if len(set(sizes)) > 1 or sizes[0] != per_rank:
                raise CheckFailed(f"for n={n} and {world} processes the shares have {sizes} indices; each must "
                                  f"have n // world_size = {per_rank}. With unequal shares one rank runs out of "
                                  "batches first and the others wait forever in DDP's all-reduce: drop the "
                                  "remainder (round down), as TensorLoader does.")
            every = torch.cat(shards)
            if every.min() < 0 or every.max() >= n:
                raise CheckFailed(f"indices must lie in 0 … {n - 1}.")
            if len(torch.unique(every)) < len(every):
                raise CheckFailed(f"the processes' shares overlap (n={n}, {world} processes): each process drew "
                                  "its own permutation from its own global random state, so they train on some "
                                  "images twice and miss others. Every rank must cut the SAME permutation: draw "
                                  "it from a torch.Generator seeded with (seed, epoch).")
            epochs.append(shards)
        if all(torch.equal(a, b) for a, b in zip(*epochs)):
            raise CheckFailed("epochs 0 and 1 give the same shares in the same order: the data should be "
                              "reshuffled every epoch; make the generator's seed depend on the epoch.")
        again = _call(fn, n, 0, world, 0, 7)
        if not torch.equal(torch.as_tensor(again).long(), epochs[0][0]):
            raise CheckFailed("the same (epoch, seed) gives a different share on a second call: the "
                              "permutation must depend only on seed and epoch, so that all ranks agree.")


q46d = Question(
    name="q46d",
    prompt="Repair `epoch_shard(n, rank, world_size, epoch, seed)`: the indices process `rank` trains on in "
           "`epoch` under DDP. The shares of all ranks must be disjoint, each n // world_size long, the same "
           "whatever each process's global random state is, and reshuffled every epoch.",
    checker=_check_epoch_shard,
    hints=["Each process runs this function on its own, with its own global random state (the DDP demo above "
           "seeds each rank differently). Do the ranks agree on `perm`?",
           "`torch.randperm(n, generator=torch.Generator().manual_seed(seed * 100_003 + epoch))`, and "
           "`per_rank = n // world_size`."],
    solution_code="""
def epoch_shard(n, rank, world_size, epoch, seed=0):
    generator = torch.Generator().manual_seed(seed * 100_003 + epoch)    # the same on every rank
    perm = torch.randperm(n, generator=generator)                        # this epoch's order
    per_rank = n // world_size                                           # equal shares; the rest is dropped
    return perm[rank * per_rank:(rank + 1) * per_rank]
""",
)
