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

from aigc_course.exercises import CheckFailed, Question, as_tensor, judge, prediction

__all__ = ["q54a", "q54b", "q54c", "q54d", "q56a", "q56b", "q56c", "q56d", "q56e"]


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
# 5.4c Predict: how often does a difference with no effect pass two standard errors?
# --------------------------------------------------------------------------------------------------

def false_resolved_rate(seeds: int = 3, trials: int = 200_000) -> float:
    """Share of simulated paired comparisons with NO real effect (per-seed differences N(0, 1)) whose
    mean lies more than two standard errors from zero: the page's "resolved" screen, ``seeds`` seeds."""
    gen = torch.Generator().manual_seed(542)
    d = _normal(gen, trials, seeds)
    return (d.mean(1).abs() > 2 * d.std(1) / math.sqrt(seeds)).double().mean().item()


q54c = prediction(
    "q54c",
    "A study with only 3 seeds compares a method that has NO effect with the baseline, and calls the "
    "difference resolved when its mean is more than two standard errors (sd(d)/√3) from zero. Predict how "
    "often that happens (a probability); within ±0.03 counts.",
    false_resolved_rate, abs_tol=0.03,
    explanation="With S seeds, mean/se follows Student's t with S − 1 degrees of freedom: with 2 of them its "
                "tails are heavy, and P(|t₂| > 2) ≈ 0.18, almost one no-effect comparison in five. The "
                "normal rule 'two standard errors ≈ 95%' needs many seeds; with 3 the 95% point is "
                "t₀.₉₇₅,₂ ≈ 4.3 standard errors.",
    wrong={"0.046 is the normal distribution's two-sided tail beyond 2: the standard error is itself "
           "estimated from 3 seeds, so mean/se has Student's t distribution with 2 degrees of freedom, "
           "whose tails are much heavier.": 2 * NormalDist().cdf(-2.0),
           "0.05 is the level that 1.96 standard errors give for a NORMAL statistic with a known "
           "variance; with 3 seeds the estimated se makes it a t with 2 degrees of freedom.": 0.05,
           "0.023 is one normal tail; a difference is resolved in either direction, and with 3 seeds "
           "the statistic is t with 2 degrees of freedom, not normal.": NormalDist().cdf(-2.0),
           "0.116 is the rate with 5 seeds (t with 4 degrees of freedom); with 3 seeds there are only 2 "
           "degrees of freedom, and the tails are heavier.": 0.1161},
    hints=["mean(d) / (sd(d)/√S) has Student's t distribution with S − 1 degrees of freedom when there "
           "is no effect.",
           "`2 * scipy.stats.t.sf(2, df=2)`; with 2 degrees of freedom the t tail has a closed form: "
           "P(|t₂| > x) = 1 − x/√(2 + x²)."],
    solution_code="""
# mean / se ~ Student's t with S - 1 = 2 degrees of freedom; P(|t_2| > x) = 1 - x / sqrt(2 + x^2)
answer = 1 - 2 / math.sqrt(2 + 2**2)
""",
)


# --------------------------------------------------------------------------------------------------
# 5.4d Apply: a confidence interval for a paired difference
# --------------------------------------------------------------------------------------------------

def _check_paired_interval(fn: Callable) -> None:
    from scipy import stats

    gen = torch.Generator().manual_seed(543)
    for S, level in ((4, 0.95), (9, 0.9)):
        seed_effect = 0.03 * _normal(gen, S)
        base = 0.80 + seed_effect + 0.005 * _normal(gen, S)
        method = 0.81 + seed_effect + 0.005 * _normal(gen, S)
        d = method - base
        m, se = d.mean(), d.std() / math.sqrt(S)
        q = stats.t.ppf(0.5 + level / 2, S - 1)

        def pair(half):
            return torch.stack([m - half, m + half])

        unpaired = (method.var() / S + base.var() / S).sqrt()
        wrong = {
            f"{NormalDist().inv_cdf(0.5 + level / 2):.3f} is the normal quantile; with the standard error "
            f"estimated from S = {S} seeds use Student's t with S − 1 = {S - 1} degrees of freedom.":
                pair(NormalDist().inv_cdf(0.5 + level / 2) * se),
            f"Student's t has S − 1 = {S - 1} degrees of freedom here (one is spent on the mean), not S.":
                pair(stats.t.ppf(0.5 + level / 2, S) * se),
            "this uses the one-sided quantile t(level): a two-sided interval leaves (1 − level)/2 in each "
            "tail, so it needs t((1 + level)/2).": pair(stats.t.ppf(level, S - 1) * se),
            "the half-width uses the standard DEVIATION of the differences; the interval is for their "
            "mean, whose standard error is sd/√S.": pair(q * d.std()),
            "the runs are paired by seed: use the standard error of the per-seed differences, not "
            "√(se_a² + se_b²) as for independent runs.": pair(q * unpaired),
            "the sign is reversed: the difference is method − baseline.": pair(q * se).flip(0) * -1,
            "this is the two-standard-error screen, not an interval at the asked level.": pair(2 * se),
        }
        out = fn(method.clone(), base.clone(), level)
        if isinstance(out, (tuple, list)):
            if len(out) != 2:
                raise CheckFailed(f"return two numbers (lower, upper), got {len(out)}.")
            out = torch.stack([as_tensor(v, "interval end").reshape(()) for v in out])
        judge(out, pair(q * se), wrong, what=f"{level:.0%} interval from {S} seeds")


q54d = Question(
    name="q54d",
    prompt="Write `paired_interval(acc_method, acc_base, level)`: both of shape (S,), run s of each with seed "
           "s. Return (lower, upper), the two-sided confidence interval at `level` (e.g. 0.95) for the mean "
           "difference method − base, from Student's t.",
    checker=_check_paired_interval,
    hints=["The interval is mean(d) ± q · sd(d)/√S with d the per-seed differences and q a quantile of "
           "Student's t with S − 1 degrees of freedom.",
           "`q = scipy.stats.t.ppf((1 + level) / 2, len(d) - 1)`."],
    solution_code="""
def paired_interval(acc_method, acc_base, level):
    from scipy import stats
    d = acc_method - acc_base                                   # one difference per seed
    half = stats.t.ppf((1 + level) / 2, len(d) - 1) * d.std() / math.sqrt(len(d))
    return d.mean() - half, d.mean() + half
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


# --------------------------------------------------------------------------------------------------
# 5.6d Predict: searching nine shifts at the threshold of one test
# --------------------------------------------------------------------------------------------------

def _key_pattern(key: int, shape=(28, 28)) -> torch.Tensor:
    gen = torch.Generator().manual_seed(key)
    return torch.randint(0, 2, shape, generator=gen).float() * 2 - 1


def _z_sign_images(images: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """The page's sign score of uint8 images (N, 1, H, W) against the pattern w (H, W)."""
    import torch.nn.functional as F

    x = images.float()
    residual = (x - F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, stride=1))[:, 0]
    s = torch.sign(residual).flatten(1)
    return (s @ w.flatten()) / (s != 0).sum(1).clamp_min(1).sqrt()


def search_false_positives(alpha: float = 0.01, n: int = 3000, key: int = 2024) -> float:
    """False-positive rate on real test images of the 9-shift search when every shift is tested at the
    single-test threshold Phi^-1(1 - alpha) (no correction for the nine tests)."""
    from aigc_course import data

    images = data.fashion_mnist("test").images[:n]
    w, threshold = _key_pattern(key), NormalDist().inv_cdf(1 - alpha)
    z = torch.stack([_z_sign_images(torch.roll(images, (dy, dx), dims=(2, 3)), w)
                     for dy in (-1, 0, 1) for dx in (-1, 0, 1)]).max(0).values
    return (z > threshold).double().mean().item()


q56d = prediction(
    "q56d",
    "The page's defence against a shift tests the 9 shifts within one pixel and raises the threshold to "
    "Φ⁻¹(1 − α/9). Suppose it kept the single-test threshold Φ⁻¹(1 − α), α = 1%, for each of the 9 shifted "
    "tests, flagging an image if any passes. Predict the false-positive rate on real (unmarked) images; "
    "within ±40% of the measured rate counts.",
    search_false_positives, rel_tol=0.4,
    explanation="Nine tests at level α each: up to 1 − (1 − α)⁹ ≈ 9α ≈ 8.6% if they were independent. The "
                "scores of neighbouring shifts are somewhat correlated, and the rate for one fixed key varies "
                "around its nominal value (the page found this for single tests), so the measured rate is of "
                "that order. Searching many variants multiplies the false alarms: the threshold must pay "
                "for every test (α/9, Bonferroni).",
    wrong={"the search makes nine tests, and an image is flagged if ANY of them passes: each has "
           "false-positive rate α, so together they reach up to 1 − (1 − α)⁹ ≈ 9α. (α/9 is the level each "
           "test needs for the whole search to keep α; here every test runs at α.)": 0.01},
    hints=["P(at least one of 9 independent tests at level α passes) = 1 − (1 − α)⁹.",
           "For small α that is about 9α; correlated tests give a little less."],
    solution_code="""
# nine tests at level alpha = 0.01, nearly independent: at least one passes with 1 - (1 - alpha)^9
answer = 1 - (1 - 0.01) ** 9
""",
)


# --------------------------------------------------------------------------------------------------
# 5.6e Debug: a z-test with the wrong variance
# --------------------------------------------------------------------------------------------------

def _reference_sparse_z(residual: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
    s, k = torch.sign(residual).flatten(1), key.flatten().to(residual.dtype)
    voters = (s.abs() @ k.abs()).clamp_min(1)                      # pixels where both are nonzero
    return (s @ k) / voters.sqrt()


def _check_sparse_z(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(563)
    N, H, W = 12, 8, 8
    residual = _normal(gen, N, H, W)
    flat = torch.rand(N, H, W, generator=gen, dtype=torch.float64) < torch.linspace(0.1, 0.6, N).view(N, 1, 1)
    residual[flat] = 0                                             # flat pixels: no sign, no vote
    key = (torch.randint(0, 2, (H, W), generator=gen) * 2 - 1).double()
    key[torch.rand(H, W, generator=gen) < 0.7] = 0                 # the key marks 30% of the pixels
    s, k = torch.sign(residual).flatten(1), key.flatten()
    score = s @ k
    wrong = {
        "this is the broken version: it divides by √(nonzero residuals), but a pixel where the key is 0 "
        "adds nothing to Σ sign(r)·key. Under the null the score is a sum of ±1 votes, one per pixel where "
        "BOTH are nonzero: its variance is that count.": score / (s != 0).sum(1).sqrt(),
        "√(number of marked pixels) ignores the flat residuals: a pixel with r = 0 casts no vote.":
            score / (k != 0).sum().sqrt().expand(N),
        "√D counts every pixel; only pixels where residual and key are both nonzero vote.":
            score / math.sqrt(H * W),
        "the score must be divided by the STANDARD deviation, √(number of voters), not by the variance.":
            score / (s.abs() @ k.abs()),
    }
    judge(fn(residual.clone(), key.clone()), _reference_sparse_z(residual, key), wrong,
          what="z of each image")


q56e = Question(
    name="q56e",
    prompt="Repair `z_sparse(residual, key)`: the sign score of a watermark whose key is +1 or −1 on a few "
           "pixels and 0 elsewhere (the mark leaves the others alone). It should be approximately N(0, 1) "
           "for unmarked images, as the page's z is; residual (N, H, W), key (H, W); return (N,).",
    checker=_check_sparse_z,
    hints=["Under the null, each pixel adds sign(r_i)·key_i: ±1 with equal chance where both are nonzero, "
           "and 0 elsewhere. What is the variance of the sum?",
           "The number of voters is `(torch.sign(residual).flatten(1).abs() @ key.flatten().abs())`."],
    solution_code="""
def z_sparse(residual, key):
    s, k = torch.sign(residual).flatten(1), key.flatten().to(residual.dtype)
    voters = (s != 0).to(s.dtype) @ (k != 0).to(s.dtype)         # pixels where both are nonzero
    return (s @ k) / voters.clamp_min(1).sqrt()
""",
)
