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

from aigc_course.exercises import CheckFailed, Question, as_tensor, judge

__all__ = ["q53a", "q53b", "q55a", "q55b"]


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
