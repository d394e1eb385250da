"""Exercises of Part V, applications: data augmentation (5.4) and responsible AIGC (5.6).

Usage in a notebook::

    from aigc_course.exercises import ch5c
    ch5c.q54a.check(standard_error)   # prints a verdict, returns True/False, never raises
    ch5c.q54a.hint()
    ch5c.q54a.solution()

Questions are named by section: ``q54a`` is the first exercise of 5.4. Each checker runs the answer
on its own random inputs (a private generator: the global RNG is left alone), compares it with the
reference and, when it differs, names the common wrong answer it matches: an error bar that is a
standard deviation where a standard error is meant, seeds treated as independent in a paired design,
a watermark detector that thresholds the wrong tail, an accuracy measured on the training images.
"""
from __future__ import annotations

import math
from statistics import NormalDist
from typing import Callable

import torch

from aigc_course.exercises import CheckFailed, Question, as_tensor, judge

__all__ = ["q54a", "q54b", "q56a", "q56b", "q56c"]


def _normal(gen: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=gen, dtype=torch.float64)


# --------------------------------------------------------------------------------------------------
# 5.4 Data augmentation
# --------------------------------------------------------------------------------------------------

def _check_standard_error(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(54)
    S, C = 6, 4  # seeds (rows), conditions (columns)
    acc = 0.8 + 0.02 * _normal(gen, S, C)  # (S, C) test accuracies
    sd = acc.std(dim=0)                     # sample standard deviation (n - 1), (C,)
    expected = sd / math.sqrt(S)
    wrong = {
        "this is the standard DEVIATION over the seeds, the spread of a single run. The uncertainty of "
        "the MEAN of S runs is smaller by √S: the standard error is std / √S.": sd,
        "the standard deviation here divides by S (population formula, `unbiased=False` / numpy's "
        "default ddof=0); from a handful of seeds use the sample standard deviation (divide by S − 1), "
        "then divide by √S.": acc.std(dim=0, unbiased=False) / math.sqrt(S),
        "divide the standard deviation by √S, not by S.": sd / S,
        "this is variance / √S: take the square root of the variance first (std = √var).":
            acc.var(dim=0) / math.sqrt(S),
        "you worked along the conditions (dim 1): the seeds are the rows, so reduce over dim 0 and keep "
        "one value per condition, shape (C,).": acc.std(dim=1) / math.sqrt(C),
    }
    judge(fn(acc.clone()), expected, wrong, what="standard error per condition")


q54a = Question(
    name="q54a",
    prompt="Write `standard_error(acc)`: from test accuracies of shape (S, C) (S seeds as rows, C "
           "conditions as columns), the standard error of each condition's mean accuracy, shape (C,).",
    checker=_check_standard_error,
    hints=["The mean of S independent runs varies less than one run: its standard deviation is "
           "σ / √S.",
           "`acc.std(dim=0) / math.sqrt(acc.shape[0])` (torch's std divides by S − 1 by default)."],
    solution_code="""
def standard_error(acc):
    return acc.std(dim=0) / math.sqrt(acc.shape[0])
""",
)


def _check_paired_difference(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(541)
    S = 7
    seed_effect = 0.03 * _normal(gen, S)                    # shared by both runs of one seed
    base = 0.80 + seed_effect + 0.004 * _normal(gen, S)      # (S,)
    method = 0.81 + seed_effect + 0.004 * _normal(gen, S)    # (S,), same seeds as base
    diff = method - base
    expected = torch.stack([diff.mean(), diff.std() / math.sqrt(S)])
    se = lambda a: a.std() / math.sqrt(S)  # noqa: E731
    wrong = {
        "you treated the two sets of runs as independent, sqrt(se_a² + se_b²). Run s of both conditions "
        "shares the seed (same labelled subset and initial weights), so the seed's own luck "
        "cancels in the per-seed differences: take the standard error of the differences.":
            torch.stack([diff.mean(), (se(method) ** 2 + se(base) ** 2).sqrt()]),
        "the second number is the standard DEVIATION of the differences; the uncertainty of their "
        "mean is that divided by √S.": torch.stack([diff.mean(), diff.std()]),
        "the sign is reversed: the difference is method − baseline, positive when the method helps.":
            torch.stack([-diff.mean(), diff.std() / math.sqrt(S)]),
        "the standard deviation divides by S (ddof=0); use S − 1 before dividing by √S.":
            torch.stack([diff.mean(), diff.std(unbiased=False) / math.sqrt(S)]),
    }
    out = fn(method.clone(), base.clone())
    if isinstance(out, (tuple, list)):
        if len(out) != 2:
            raise CheckFailed(f"return two numbers (mean difference, standard error), got {len(out)}.")
        out = torch.stack([as_tensor(v, "mean difference and standard error").reshape(()) for v in out])
    judge(out, expected, wrong, what="(mean difference, standard error)")


q54b = Question(
    name="q54b",
    prompt="Write `paired_difference(acc_method, acc_base)`: both of shape (S,), run s of each "
           "trained with the same seed s. Return (mean difference method − base, its standard error).",
    checker=_check_paired_difference,
    hints=["Pair the runs: d_s = acc_method[s] − acc_base[s] removes what seed s did to both.",
           "`d = acc_method - acc_base; return d.mean(), d.std() / math.sqrt(len(d))`."],
    solution_code="""
def paired_difference(acc_method, acc_base):
    d = acc_method - acc_base                       # one difference per seed, (S,)
    return d.mean(), d.std() / math.sqrt(len(d))
""",
)


# --------------------------------------------------------------------------------------------------
# 5.6 Responsible AIGC
# --------------------------------------------------------------------------------------------------

# (nonzero residuals n, of which agree with the key A): z = (2A − n)/√n is then −5.5 ... 7, with
# values just inside each of the wrong thresholds (1.75 and 1.73 between Φ⁻¹(0.95) and Φ⁻¹(0.975);
# 2.5 between those and Φ⁻¹(0.999); 3.25 and 3.18 between Φ⁻¹(0.999) and Φ⁻¹(0.9995)), so that
# every wrong detector differs from the right one somewhere.
_WATERMARK_ROWS = [(64, 10), (64, 20), (64, 30), (64, 36), (64, 39), (64, 42), (64, 45), (64, 50),
                   (64, 60), (48, 35), (48, 12), (48, 30), (64, 32)]


def _watermark_inputs(gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, list[float]]:
    """Residuals (N, 8, 8) with known sign agreements with a ±1 key (8, 8); flat pixels are 0.

    Agreeing pixels get small magnitudes and disagreeing ones large magnitudes, so a linear
    correlation ranks the images differently from the sign correlation."""
    key = torch.randint(0, 2, (64,), generator=gen, dtype=torch.float64) * 2 - 1             # (64,)
    rows = []
    for n, agree in _WATERMARK_ROWS:
        pos = torch.randperm(64, generator=gen)
        r = torch.zeros(64, dtype=torch.float64)
        small = 0.1 + 0.2 * torch.rand(agree, generator=gen, dtype=torch.float64)
        large = 1.0 + torch.rand(n - agree, generator=gen, dtype=torch.float64)
        r[pos[:agree]] = key[pos[:agree]] * small                       # signs agree with the key
        r[pos[agree:n]] = -key[pos[agree:n]] * large                    # signs disagree
        rows.append(r.view(8, 8))
    return torch.stack(rows), key.view(8, 8), [0.001, 0.05]


def _sign_z(residual: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
    s = torch.sign(residual).flatten(1)                         # (N, D)
    return (s @ key.flatten()) / (s != 0).sum(1).clamp_min(1).sqrt()


def _check_watermark_detect(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(56)
    residual, key, alphas = _watermark_inputs(gen)
    z = _sign_z(residual, key)
    D = key.numel()
    linear = (residual.flatten(1) @ key.flatten()) / residual.flatten(1).norm(dim=1)
    for alpha in alphas:
        t = NormalDist().inv_cdf(1 - alpha)
        expected = (z > t).double()
        wrong = {
            "wrong tail: a watermark makes the residual signs AGREE with the key, so the score is "
            "LARGE and positive. Flag z > Φ⁻¹(1 − α); z < Φ⁻¹(α) flags images whose signs disagree.":
                (z < NormalDist().inv_cdf(alpha)).double(),
            "|z| > Φ⁻¹(1 − α) is a two-sided test: it also flags images anticorrelated with the key, "
            "which doubles the false-positive rate to 2α. The mark only pushes z up: one tail.":
                (z.abs() > t).double(),
            "Φ⁻¹(1 − α/2) is the threshold of a two-sided test; for a one-sided test at level α the "
            "threshold is Φ⁻¹(1 − α).": (z > NormalDist().inv_cdf(1 - alpha / 2)).double(),
            "z is compared with α itself: α is a probability (the false-positive rate), the threshold "
            "on z is the normal quantile Φ⁻¹(1 − α).": (z > alpha).double(),
            "flat pixels (residual exactly 0) have no sign and carry no evidence: divide by √n with n "
            "the number of NONZERO residuals, not √D with every pixel.":
                ((torch.sign(residual).flatten(1) @ key.flatten()) / math.sqrt(D) > t).double(),
            "this is the linear correlation Σ r·w / ‖r‖; the detector of this exercise correlates the "
            "SIGNS of the residuals with the key, which makes it robust to strong image edges.":
                (linear > t).double(),
        }
        out = fn(residual.clone(), key.clone(), alpha)
        if torch.is_tensor(out) and out.dtype == torch.bool:
            out = out.double()
        judge(out, expected, wrong, what=f"detections at alpha={alpha}")


q56a = Question(
    name="q56a",
    prompt="Write `watermark_detect(residual, key, alpha)`: residual (N, H, W) high-passed images, key "
           "(H, W) of ±1. Score z = Σ sign(r)·key / √n over the n nonzero residuals; return a boolean "
           "tensor (N,) flagging watermarked images at false-positive rate alpha (a one-sided test).",
    checker=_check_watermark_detect,
    hints=["Without the mark, each nonzero sign agrees with the key with probability ½, independently: "
           "z is approximately N(0, 1). The mark makes the signs agree, so z grows.",
           "`s = torch.sign(residual).flatten(1); z = s @ key.flatten() / (s != 0).sum(1).sqrt()`, "
           "then `z > NormalDist().inv_cdf(1 - alpha)` (`from statistics import NormalDist`)."],
    solution_code="""
from statistics import NormalDist

def watermark_detect(residual, key, alpha):
    s = torch.sign(residual).flatten(1)                       # (N, H*W), 0 for flat pixels
    z = (s @ key.flatten().to(s.dtype)) / (s != 0).sum(1).clamp_min(1).sqrt()
    return z > NormalDist().inv_cdf(1 - alpha)
""",
)


def _check_green_z(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(561)
    T = torch.tensor([20.0, 50.0, 100.0, 200.0, 400.0, 35.0], dtype=torch.float64)
    for gamma in (0.25, 0.5):
        n_green = torch.round(T * (gamma + 0.3 * torch.rand(6, generator=gen, dtype=torch.float64)))
        var = T * gamma * (1 - gamma)
        expected = (n_green - gamma * T) / var.sqrt()
        wrong = {
            "the square root is missing: divide by the standard deviation √(T γ (1 − γ)), not by the "
            "variance.": (n_green - gamma * T) / var,
            "the variance of a Binomial(T, γ) count is T γ (1 − γ), not T γ.":
                (n_green - gamma * T) / (T * gamma).sqrt(),
            "the proportion n/T has standard deviation √(γ(1 − γ)/T): with (n/T − γ) you must divide "
            "by √(γ(1 − γ)/T), i.e. the √T is missing.":
                (n_green / T - gamma) / math.sqrt(gamma * (1 - gamma)),
            "the expected number of green tokens is γ T (γ is the green share of the vocabulary), "
            "not T/2 for every γ.": (n_green - 0.5 * T) / var.sqrt(),
        }
        judge(fn(n_green.clone(), T.clone(), gamma), expected, wrong, what=f"z-scores for gamma={gamma}")


q56b = Question(
    name="q56b",
    prompt="Kirchenbauer et al.'s text watermark: of T scored tokens, n_green fall in the key's green "
           "list, a share gamma of the vocabulary. Write `green_z(n_green, T, gamma)`: the z-score of the "
           "count under 'no watermark' (each token green with probability gamma). Tensors in, tensor out.",
    checker=_check_green_z,
    hints=["Without the watermark the count is Binomial(T, γ): mean γT, variance Tγ(1 − γ).",
           "`(n_green - gamma * T) / torch.sqrt(T * gamma * (1 - gamma))`."],
    solution_code="""
def green_z(n_green, T, gamma):
    return (n_green - gamma * T) / torch.sqrt(T * gamma * (1 - gamma))
""",
)


def _detector_splits(gen: torch.Generator) -> tuple[dict[str, torch.Tensor], Callable]:
    """Image sets of unequal sizes and a detector that memorised its training images."""
    sizes = {"train_real": 40, "train_fake": 40, "test_real": 30, "test_fake": 10}
    splits = {k: torch.rand(n, 1, 4, 4, generator=gen) for k, n in sizes.items()}
    splits["test_fake"] = splits["test_fake"] + 0.1         # generated test images: a little brighter
    memory = {tuple(x.flatten().tolist()): k == "train_fake"
              for k in ("train_real", "train_fake") for x in splits[k]}

    def predict(images: torch.Tensor) -> torch.Tensor:
        """True = 'generated'. Perfect on the training images, a brightness rule elsewhere."""
        out = [memory.get(tuple(x.flatten().tolist()), bool(x.mean() > 0.55)) for x in images]
        return torch.tensor(out)

    return splits, predict


def _check_detector_accuracy(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(562)
    splits, predict = _detector_splits(gen)

    def rates(real, fake):
        tnr = (~predict(splits[real])).double().mean()     # real images called real
        tpr = predict(splits[fake]).double().mean()        # generated images called generated
        return tnr, tpr

    tnr, tpr = rates("test_real", "test_fake")
    n_r, n_f = len(splits["test_real"]), len(splits["test_fake"])
    expected = (tnr + tpr) / 2
    train_tnr, train_tpr = rates("train_real", "train_fake")
    all_real = torch.cat([splits["train_real"], splits["test_real"]])   # training images included
    all_fake = torch.cat([splits["train_fake"], splits["test_fake"]])
    rates_all = ((~predict(all_real)).double().mean(), predict(all_fake).double().mean())
    wrong = {
        "this is the accuracy on the TRAINING images, which the detector has seen (here it memorised "
        "them): it says nothing about new images. Use the held-out test_real and test_fake.":
            (train_tnr + train_tpr) / 2,
        "this pools the test images, so the larger set dominates (here 30 real vs 10 generated). "
        "Balanced accuracy averages the two rates: ½ (true-negative rate + true-positive rate).":
            (tnr * n_r + tpr * n_f) / (n_r + n_f),
        "the labels are swapped: True means 'generated', so a real image is right when predict is "
        "False.": 1 - expected,
        "this is only the detection rate on generated images; a detector that says 'generated' to "
        "everything would score 1. Average it with the rate on real images.": tpr,
        "you used all images, training ones included: only the held-out test images measure "
        "generalisation.": sum(rates_all) / 2,
    }
    judge(fn(predict, {k: v.clone() for k, v in splits.items()}), expected, wrong,
          what="balanced accuracy")


q56c = Question(
    name="q56c",
    prompt="Write `detector_accuracy(predict, splits)`: `predict(images)` returns a boolean tensor "
           "(True = generated); `splits` maps 'train_real', 'train_fake', 'test_real', 'test_fake' to "
           "image tensors. Return the detector's balanced accuracy on the held-out images.",
    checker=_check_detector_accuracy,
    hints=["Held out means the test splits; balanced means ½ (share of real images called real + share "
           "of generated images called generated), whatever the set sizes.",
           "`tnr = (~predict(splits['test_real'])).float().mean()`, "
           "`tpr = predict(splits['test_fake']).float().mean()`, return `(tnr + tpr) / 2`."],
    solution_code="""
def detector_accuracy(predict, splits):
    tnr = (~predict(splits["test_real"])).float().mean()    # real images called real
    tpr = predict(splits["test_fake"]).float().mean()       # generated images called generated
    return (tnr + tpr) / 2
""",
)
