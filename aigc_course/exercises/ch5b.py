"""Exercises of Part V, second half: anomaly detection (5.3) and compression (5.5). Introduced in 5.3.

Usage in a notebook::

    from aigc_course.exercises import ch5b
    ch5b.q53a.check(roc_auc)   # prints a verdict, returns True/False, never raises
    ch5b.q53a.hint()
    ch5b.q53a.solution()

Questions are named by section: ``q53a`` is the first exercise of 5.3. Each checker runs the answer
on its own random inputs (a private generator: the global RNG is left alone), compares it with the
reference and, when it differs, names the common wrong answer it matches.
"""
from __future__ import annotations

import math
from typing import Callable

import torch

from aigc_course.exercises import CheckFailed, Question, as_tensor, judge, prediction

__all__ = ["q53a", "q53b", "q53c", "q53d", "q55a", "q55b", "q55c", "q55d"]


def _normal(gen: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=gen, dtype=torch.float64)


# --------------------------------------------------------------------------------------------------
# 5.3 Anomaly detection
# --------------------------------------------------------------------------------------------------

def _auc_and_wrong(scores: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, dict]:
    """The ROC-AUC of ``scores`` and the common wrong answers, by the message that names them."""
    n = len(scores)
    pos, neg = scores[labels == 1], scores[labels == 0]
    n_pos, n_neg = len(pos), len(neg)
    greater = (pos[:, None] > neg[None, :]).double().mean()             # P(s+ > s-)
    ties = (pos[:, None] == neg[None, :]).double().mean()               # P(s+ = s-)
    expected = greater + 0.5 * ties
    below = (scores[:, None] > scores[None, :]).double().sum(1)          # (n,)
    equal = (scores[:, None] == scores[None, :]).double().sum(1)         # (n,), itself included
    mid_ranks = below + (equal + 1) / 2                                  # ties share the average rank
    ranks = torch.empty(n, dtype=torch.float64)                          # ties broken by position
    ranks[torch.sort(scores, stable=True).indices] = torch.arange(1, n + 1, dtype=torch.float64)
    wrong = {
        "this is 1 − AUC: the labels are the wrong way round. AUC = P(score of an ABNORMAL image "
        "(label 1) > score of a normal one); a large score means abnormal.": 1 - expected,
        "ties are not counted: a tied pair counts one half, AUC = P(s₊ > s₋) + ½ P(s₊ = s₋).": greater,
        "ties count as wins: a tied pair counts one half, not one.": greater + ties,
        "the rank sum needs the correction n₊(n₊ + 1)/2: AUC = (R₊ − n₊(n₊ + 1)/2) / (n₊ n₋).":
            mid_ranks[labels == 1].sum() / (n_pos * n_neg),
        "tied scores must share their AVERAGE rank (scipy.stats.rankdata); ranks from a sort break "
        "ties by position.": (ranks[labels == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg),
    }
    return expected, wrong


def _check_roc_auc(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(53)
    labels = (torch.rand(80, generator=gen) < 0.4).long()               # (80,), 1 = abnormal
    scores = torch.round(2 * _normal(gen, 80) + 1.5 * labels)           # integers: many ties
    cases = [  # the example of scikit-learn's documentation (AUC 0.75), then one with ties
        ("ROC-AUC of the scores [0.1, 0.4, 0.35, 0.8] with labels [0, 0, 1, 1]",
         torch.tensor([0.1, 0.4, 0.35, 0.8], dtype=torch.float64), torch.tensor([0, 0, 1, 1])),
        ("ROC-AUC", scores, labels),
    ]
    for what, s, y in cases:
        expected, wrong = _auc_and_wrong(s, y)
        judge(fn(s.clone(), y.clone()), expected, wrong, what=what)


q53a = Question(
    name="q53a",
    prompt="Write `roc_auc(scores, labels)`: the area under the ROC curve for 1-D tensors `scores` "
           "(large = abnormal) and `labels` (1 = abnormal, 0 = normal); a tied pair counts one half. "
           "Return a number.",
    checker=_check_roc_auc,
    hints=["AUC = P(score of a random abnormal image > score of a random normal image) "
           "+ ½ P(they are equal).",
           "Compare every abnormal score with every normal one: `pos[:, None] > neg[None, :]` is an "
           "(n₊, n₋) table of the pairs."],
    solution_code="""
def roc_auc(scores, labels):
    pos, neg = scores[labels == 1], scores[labels == 0]
    greater = (pos[:, None] > neg[None, :]).double().mean()
    ties = (pos[:, None] == neg[None, :]).double().mean()
    return (greater + 0.5 * ties).item()
""",
)


def _check_sensitivity(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(531)
    normal = _normal(gen, 200)                             # scores of 200 normal images
    abnormal = 1.5 + _normal(gen, 400)
    ranked = normal.sort().values
    for specificity in (0.95, 0.8):
        # the common quantile conventions (linear, lower, higher, nearest, the k-th order statistic)
        # put the threshold between ranked[k - 3] and ranked[k + 1]: keep the abnormal scores out of
        # that gap, so that every convention gives the same sensitivity
        k = int(specificity * 200)
        lo, hi = ranked[k - 3], ranked[k + 1]
        kept = abnormal[(abnormal < lo) | (abnormal > hi)][:137]
        scores = torch.cat([normal, kept])
        labels = torch.cat([torch.zeros(200, dtype=torch.long), torch.ones(len(kept), dtype=torch.long)])
        order = torch.randperm(len(scores), generator=gen)
        scores, labels = scores[order], labels[order]
        threshold = torch.quantile(normal, specificity)
        expected = (kept > threshold).double().mean()
        wrong = {
            "the threshold must come from the NORMAL images: specificity is the share of normal images at "
            "or below it. You took the quantile of the abnormal ones.":
                (kept > torch.quantile(kept, specificity)).double().mean(),
            "the threshold must come from the NORMAL images only, not from all images together.":
                (kept > torch.quantile(scores, specificity)).double().mean(),
            "that threshold flags most normal images: it is their (1 − specificity)-quantile. "
            "A specificity of 95% leaves 95% of the normal images BELOW the threshold.":
                (kept > torch.quantile(normal, 1 - specificity)).double().mean(),
            "this is the false-positive rate (the share of NORMAL images flagged): sensitivity is the share "
            "of ABNORMAL images flagged.": (normal > threshold).double().mean(),
            "the direction is flipped: large scores mean abnormal, so flag s(x) > t.":
                (kept <= threshold).double().mean(),
            "return the share of abnormal images flagged, not their number.":
                (kept > threshold).double().sum(),
        }
        judge(fn(scores.clone(), labels.clone(), specificity), expected, wrong,
              what=f"sensitivity at specificity {specificity}")


q53b = Question(
    name="q53b",
    prompt="Write `sensitivity_at_specificity(scores, labels, specificity)`: the threshold t is the "
           "`specificity`-quantile of the NORMAL images' scores (label 0); return the share of abnormal "
           "images (label 1) with score > t.",
    checker=_check_sensitivity,
    hints=["Specificity = share of normal images that are NOT flagged, so the threshold is a quantile of "
           "the normal scores.",
           "`t = torch.quantile(scores[labels == 0].double(), specificity)`; then "
           "`(scores[labels == 1] > t).double().mean()`."],
    solution_code="""
def sensitivity_at_specificity(scores, labels, specificity):
    threshold = torch.quantile(scores[labels == 0].double(), specificity)
    return (scores[labels == 1] > threshold).double().mean().item()
""",
)


# --------------------------------------------------------------------------------------------------
# 5.3c Predict: the noise floor of an all-grey image
# --------------------------------------------------------------------------------------------------

def grey_floor(level: int = 128, pixels: int = 784) -> float:
    """The binarisation floor H_bin (nats) of an image whose pixels all have grey level ``level``,
    measured as the Bernoulli model's mean NLL over 400 binarisations."""
    from aigc_course import data

    grey = torch.full((400, 1, 28, 28), level, dtype=torch.uint8)[:, :, :, : pixels // 28]
    draws = data.binarize(grey, seed=530).double() / 255                  # 0 or 1
    g = torch.tensor(level / 255, dtype=torch.float64)
    nll = -(draws * torch.log(g) + (1 - draws) * torch.log(1 - g)).flatten(1).sum(1)
    return nll.mean().item()


q53c = prediction(
    "q53c",
    "Every one of the 784 pixels of an image has grey level 128. It is binarised as on the page (each pixel "
    "1 with probability 128/255). Predict its noise floor H_bin in nats: the least NLL any model can "
    "expect on it. Within 2% counts.",
    grey_floor, rel_tol=0.02,
    explanation="128/255 ≈ ½, so each pixel is a fair coin: log 2 ≈ 0.693 nats, 784 log 2 ≈ 543 nats for the "
                "image. That is more than twice the NLL the page's VAE pays for a normal garment: a "
                "featureless grey square would look like the least probable image of all.",
    wrong={"784 is the floor in BITS (one bit per fair coin); the page counts nats: 784 · ln 2.": 784.0,
           "a model cannot predict coin flips: the grey image is simple, but its binarisation is pure "
           "noise, log 2 nats per pixel.": 0.0,
           "the entropy of a fair coin is log 2 ≈ 0.693 nats, not ½ nat per pixel.": 392.0},
    hints=["H_b(g) = −g log g − (1 − g) log(1 − g) per pixel; what is it at g ≈ ½?",
           "784 pixels, each a fair coin: 784 · ln 2."],
    solution_code="""
# each pixel is 1 with probability 128/255 and 0 with 127/255: almost a fair coin
answer = -784 * sum(p * math.log(p) for p in (128 / 255, 127 / 255))
""",
)


# --------------------------------------------------------------------------------------------------
# 5.3d Investigate: does a two-sided ink count catch the bags?
# --------------------------------------------------------------------------------------------------

_INK: dict[str, dict[str, float]] = {}


def _auc(scores: torch.Tensor, labels: torch.Tensor) -> float:
    """ROC-AUC from the Mann-Whitney rank sum (ties share their average rank)."""
    from scipy.stats import rankdata

    ranks = torch.from_numpy(rankdata(scores.numpy()))
    n_pos, n_neg = int(labels.sum()), int((1 - labels).sum())
    return ((ranks[labels == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)).item()


def ink_aucs() -> dict[str, dict[str, float]]:
    """AUCs of the one- and two-sided ink scores for sandals and bags against the normal test images,
    on Fashion-MNIST's test set (binarised once); the median from 6000 normal training images."""
    if not _INK:
        from aigc_course import data

        train, test = data.fashion_mnist("train"), data.fashion_mnist("test")
        held = torch.tensor([5, 8])                                          # sandal, bag
        normal_train = train.images[~torch.isin(train.labels, held)][:6000]
        median = (data.binarize(normal_train, seed=3) > 0).flatten(1).sum(1).double().median()
        lit = (data.binarize(test.images, seed=1) > 0).flatten(1).sum(1).double()    # (10000,)
        normal = ~torch.isin(test.labels, held)
        for name, c in (("Sandal", 5), ("Bag", 8)):
            keep = normal | (test.labels == c)
            y = (test.labels[keep] == c).long()
            _INK[name] = {"two": _auc((lit[keep] - median).abs(), y), "one": _auc(-lit[keep], y),
                          "more": _auc(lit[keep], y)}
    return _INK


def _check_two_sided_ink(fn: Callable) -> str:
    gen = torch.Generator().manual_seed(532)
    normal_lit = torch.randint(80, 400, (301,), generator=gen).double()       # odd size: one median
    lit = torch.randint(20, 500, (40,), generator=gen).double()
    m = normal_lit.median()
    expected = (lit - m).abs()
    wrong = {
        "this is the one-sided ink score −lit: the two-sided score is the DISTANCE from the normal "
        "images' median, |lit − m|.": -lit,
        "the sign is missing: a lit count far BELOW the median must score high too, so take |lit − m|.":
            lit - m,
        "the direction is flipped: a large distance from the median means abnormal, so score |lit − m|, "
        "not −|lit − m|.": -(lit - m).abs(),
        "m is the MEDIAN of the normal images' lit counts; you used their mean.":
            (lit - normal_lit.mean()).abs(),
        "the reference point must come from the NORMAL images (`normal_lit`), not from the images being "
        "scored.": (lit - lit.median()).abs(),
    }
    judge(fn(lit.clone(), normal_lit.clone()), expected, wrong, what="two-sided ink score")
    aucs = ink_aucs()
    return (f"On the whole test set the two-sided ink score gets AUC {aucs['Sandal']['two']:.3f} on sandals "
            f"and {aucs['Bag']['two']:.3f} on bags (one-sided, −lit: {aucs['Sandal']['one']:.3f} and "
            f"{aucs['Bag']['one']:.3f}). Making the ink count two-sided does not catch the bags (about "
            "chance: they carry an ordinary amount of ink, between trousers and pullovers) and costs much "
            "of its success on sandals, since the normal classes' own spread now counts against them at "
            "both ends. Bags differ in shape, not in amount of ink: that takes a model, or the grey-level "
            "nearest neighbour.")


q53d = Question(
    name="q53d",
    prompt="Investigate: the ink count flags sandals (little ink) and misses bags. Does a two-sided version "
           "catch both? Write `two_sided_ink(lit, normal_lit)`: the score |lit − m| of each image, with lit "
           "its number of lit pixels after binarisation and m the median of `normal_lit`, the lit counts of "
           "the binarised NORMAL training images (tensors in, tensor out). Then compute its ROC-AUC for "
           "sandals and for bags; the checker runs the experiment on the whole test set.",
    checker=_check_two_sided_ink,
    hints=["`(lit - normal_lit.median()).abs()`; on the page `lit` holds the test images' lit pixels, and "
           "`(data.binarize(normal_train, seed=3) > 0).flatten(1).sum(1)` those of the normal training "
           "images.",
           "`auc_by_ranks(score[keep_of[c]], y_of[c])` for c in ('Sandal', 'Bag')."],
    solution_code="""
def two_sided_ink(lit, normal_lit):
    m = normal_lit.double().median()           # the typical ink of a normal image
    return (lit.double() - m).abs()            # far from it, in either direction = abnormal
""",
)


# --------------------------------------------------------------------------------------------------
# 5.5 Compression
# --------------------------------------------------------------------------------------------------

def _check_entropy(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(55)
    symbols = torch.round(1.7 * _normal(gen, 500)).long()   # quantised latents: negative values too
    _, counts = torch.unique(symbols, return_counts=True)
    p = counts.double() / len(symbols)
    expected = -(p * torch.log2(p)).sum()
    wrong = {
        "this is the entropy in NATS (natural log): bits need log₂, H = −Σ p log₂ p "
        "(or divide by ln 2).": expected * math.log(2),
        "this uses log₁₀ (units of hartleys): bits need log₂.": expected * math.log10(2),
        "this is the length of the whole stream (N·H bits): the question asks for bits per symbol.":
            expected * len(symbols),
        "each symbol's −log₂ p must be weighted by how often it occurs: H = −Σ p log₂ p, "
        "not −Σ log₂ p.":
            -torch.log2(p).sum(),
        "log₂ of the number of distinct symbols is the entropy of a UNIFORM distribution over them, an "
        "upper bound: use their frequencies.": torch.tensor(math.log2(len(counts))),
    }
    value = as_tensor(fn(symbols.clone()), "entropy")
    if value.numel() == 1 and not torch.isfinite(value).all():
        raise CheckFailed("the entropy is inf or nan: symbols that never occur have p = 0, and "
                          "0 · log 0 counts as 0. Sum over the symbols that occur "
                          "(torch.unique(..., return_counts=True)).")
    judge(value, expected, wrong, what="entropy in bits per symbol")
    constant = torch.full((50,), -3, dtype=torch.long)
    judge(as_tensor(fn(constant), "entropy of a constant stream"), torch.tensor(0.0), {},
          what="entropy of a stream that is always −3", atol=1e-9)


q55a = Question(
    name="q55a",
    prompt="Write `entropy_bits(symbols)`: the empirical entropy, in bits per symbol, of a 1-D tensor of "
           "integer symbols (negative values included), from their relative frequencies.",
    checker=_check_entropy,
    hints=["H = −Σ_s p(s) log₂ p(s), summed over the symbols that occur, with p(s) their relative "
           "frequency.",
           "`_, counts = torch.unique(symbols, return_counts=True)` works for negative symbols; "
           "torch.bincount does not."],
    solution_code="""
def entropy_bits(symbols):
    _, counts = torch.unique(symbols, return_counts=True)
    p = counts.double() / counts.sum()
    return -(p * torch.log2(p)).sum().item()
""",
)


def _check_psnr(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(551)
    a = (torch.rand(6, 1, 8, 8, generator=gen) * 256).to(torch.uint8)       # (6, 1, 8, 8) uint8
    spread = torch.tensor([2, 5, 10, 20, 40, 80.0])[:, None, None, None]    # noise level per image
    noise = torch.randn(6, 1, 8, 8, generator=gen) * spread
    b = (a.double() + noise.double()).round().clamp(0, 255).to(torch.uint8)
    b[:, 0, 0, 0] = a[:, 0, 0, 0] ^ 1                       # every pair differs somewhere: finite PSNR
    diff = a.double() - b.double()
    mse = (diff**2).flatten(1).mean(1)                      # (6,)
    expected = 10 * torch.log10(255.0**2 / mse)
    wrapped = (a - b).double()                              # uint8 subtraction wraps around modulo 256
    wrapped_sq = ((a - b) ** 2).double()                    # ... and so does the square
    wrong = {
        "the peak of uint8 images is 255: 10·log₁₀(1/MSE) is the PSNR of images in [0, 1].":
            10 * torch.log10(1.0 / mse),
        "the peak of uint8 images is 255; 2 is the range of images in [−1, 1] (model space).":
            10 * torch.log10(4.0 / mse),
        "the peak must be squared: PSNR = 10·log₁₀(peak² / MSE) = 20·log₁₀(peak / √MSE).":
            10 * torch.log10(255.0 / mse),
        "20·log₁₀ goes with the peak over the ROOT mean squared error; with the MSE use "
        "10·log₁₀(peak²/MSE).":
            20 * torch.log10(255.0**2 / mse),
        "the difference of two uint8 tensors wraps around (3 − 5 = 254): convert to float before "
        "subtracting.": 10 * torch.log10(255.0**2 / (wrapped**2).flatten(1).mean(1)),
        "the difference and its square were computed in uint8, which wraps around modulo 256: convert to "
        "float first.": 10 * torch.log10(255.0**2 / wrapped_sq.flatten(1).mean(1)),
        "decibels use log₁₀, not the natural log.": 10 * torch.log(255.0**2 / mse),
        "one PSNR per image: average the squared error over each image's pixels, not over the batch.":
            (10 * torch.log10(255.0**2 / mse.mean())).expand(6),
    }
    judge(fn(a.clone(), b.clone()), expected, wrong, what="PSNR per image (dB)")


q55b = Question(
    name="q55b",
    prompt="Write `psnr_uint8(a, b)`: the PSNR in dB of each pair of uint8 images (B, C, H, W), "
           "10·log₁₀(255² / MSE) with the MSE over the pixels of one image. Return shape (B,).",
    checker=_check_psnr,
    hints=["Convert to float before subtracting: uint8 arithmetic wraps around.",
           "`mse = ((a.double() - b.double())**2).flatten(1).mean(1)`; "
           "`10 * torch.log10(255**2 / mse)`."],
    solution_code="""
def psnr_uint8(a, b):
    mse = ((a.double() - b.double()) ** 2).flatten(1).mean(dim=1)
    return 10 * torch.log10(255.0**2 / mse)
""",
)


# --------------------------------------------------------------------------------------------------
# 5.5c Predict: the entropy of a quantised Gaussian
# --------------------------------------------------------------------------------------------------

def quantised_gaussian_entropy(step: float = 0.25, n: int = 200_000) -> float:
    """Empirical entropy (bits per symbol) of round(z / step) for n draws z ~ N(0, 1)."""
    gen = torch.Generator().manual_seed(550)
    symbols = torch.round(_normal(gen, n) / step).long()
    _, counts = torch.unique(symbols, return_counts=True)
    p = counts.double() / n
    return -(p * torch.log2(p)).sum().item()


q55c = prediction(
    "q55c",
    "A latent coordinate z ~ N(0, 1) is quantised with step Δ = 0.25, s = round(z / Δ) (no clipping). "
    "Predict the entropy of s in bits per symbol; within 0.1 bit counts.",
    quantised_gaussian_entropy, abs_tol=0.1,
    explanation="For a fine step, H(s) ≈ h(z) − log₂ Δ: the differential entropy of N(0, 1), "
                "½ log₂(2πe) ≈ 2.05 bits, plus log₂(1/Δ) = 2 bits. Every halving of Δ adds one bit per "
                "dimension, as the page measured on the VAE's codes.",
    wrong={"that is only one of the two terms: log₂(1/Δ) = 2 bits is the resolution term, and the "
           "differential entropy of N(0, 1), ½ log₂(2πe) ≈ 2.05 bits, is the other. A fine quantiser "
           "needs their sum.": 2.0,
           "that is the entropy in nats; the question asks for bits (× 1/ln 2).":
               (0.5 * math.log2(2 * math.pi * math.e) + 2) * math.log(2),
           "log₂(41) is a uniform code over the 41 bins of [−5, 5]: the Gaussian's bins are far from "
           "equally likely, and the entropy counts that.": math.log2(41)},
    hints=["Bins of width Δ: P(s) ≈ Δ · p(sΔ), so H(s) ≈ −Σ Δ p log₂(Δ p) = h(z) − log₂ Δ.",
           "h(N(0, σ²)) = ½ log₂(2πe σ²) bits."],
    solution_code="""
# fine-step approximation: differential entropy of N(0, 1) plus log2(1 / step)
answer = 0.5 * math.log2(2 * math.pi * math.e) + math.log2(1 / 0.25)
""",
)


# --------------------------------------------------------------------------------------------------
# 5.5d Debug: a codec that miscounts its bits
# --------------------------------------------------------------------------------------------------

def _reference_code_length(message, train_symbols, M):
    counts = torch.ones(2 * M + 1, dtype=torch.float64)
    counts.scatter_add_(0, train_symbols + M, torch.ones(len(train_symbols), dtype=torch.float64))
    return -torch.log2(counts[message + M] / counts.sum()).sum()


def _check_code_length(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(552)
    M = 6
    train_symbols = torch.round(1.5 * _normal(gen, 400)).long().clamp(-4, 4)    # never beyond ±4
    seen = torch.round(1.5 * _normal(gen, 30)).long().clamp(-4, 4)
    unseen = torch.cat([seen, torch.tensor([5, -6, 0])])                           # 5 and −6 never trained
    for what, message in (("a message of trained symbols", seen), ("a message with unseen symbols", unseen)):
        expected = _reference_code_length(message, train_symbols, M)
        plain = torch.zeros(2 * M + 1, dtype=torch.float64).scatter_add_(
            0, train_symbols + M, torch.ones(len(train_symbols), dtype=torch.float64))
        smoothed = plain + 1
        own = torch.zeros(2 * M + 1, dtype=torch.float64).scatter_add_(
            0, message + M, torch.ones(len(message), dtype=torch.float64)) + 1
        wrong = {
            "both bugs are still there: the length is in nats (bits need log₂), and without one added to "
            "every count a symbol never seen in training gets probability 0, so some messages cost ∞ bits.":
                -torch.log(plain[message + M] / plain.sum()).sum(),
            "the unit is right now, but a symbol never seen in training still gets probability 0 (∞ bits "
            "for a message that contains one): add one to every count before normalising.":
                -torch.log2(plain[message + M] / plain.sum()).sum(),
            "this is the length in NATS: bits need log₂ (or divide by ln 2).":
                -torch.log(smoothed[message + M] / smoothed.sum()).sum(),
            "the counts must be smoothed BEFORE normalising: P(s) = (count(s) + 1) / (N + 2M + 1). "
            "Adding one to the probabilities does not give probabilities.":
                -torch.log2((plain / plain.sum() + 1)[message + M] / (plain / plain.sum() + 1).sum()).sum(),
            "the table must come from the TRAINING symbols, which the decoder has too; a table fitted to "
            "the message itself would have to be sent along with it.":
                -torch.log2(own[message + M] / own.sum()).sum(),
            "the symbols run from −M to M: index the table with s + M (you used s, so negative symbols "
            "wrap around to the end of the table).":
                -torch.log2(smoothed[message % (2 * M + 1)] / smoothed.sum()).sum(),
        }
        value = as_tensor(fn(message.clone(), train_symbols.clone(), M), f"bits of {what}")
        if value.numel() == 1 and not torch.isfinite(value).all():
            raise CheckFailed(f"inf bits for {what}: a symbol that never occurred in training gets "
                              "probability 0, and −log₂ 0 = ∞. Add one to every count before "
                              "normalising (the page's `frequency_tables`).")
        judge(value.reshape(()), expected, wrong, what=f"bits of {what}")


q55d = Question(
    name="q55d",
    prompt="Repair `code_length(message, train_symbols, M)`: the ideal code length in bits, −Σ log₂ P(s), of a "
           "1-D message of symbols in −M..M, with P estimated from the training symbols with one added to "
           "every count (the page's tables). It gives the wrong unit, and inf for some messages.",
    checker=_check_code_length,
    hints=["Two bugs: which logarithm gives bits? And what probability does a symbol get that never "
           "occurred in training?",
           "`counts = torch.ones(2 * M + 1).scatter_add_(0, train_symbols + M, ...)`; then "
           "`-torch.log2(counts[message + M] / counts.sum()).sum()`."],
    solution_code="""
def code_length(message, train_symbols, M):
    counts = torch.ones(2 * M + 1, dtype=torch.float64)          # one added to every count
    counts.scatter_add_(0, train_symbols + M, torch.ones(len(train_symbols), dtype=torch.float64))
    return -torch.log2(counts[message + M] / counts.sum()).sum()   # bits
""",
)
