"""Exercises of section 6.1 (from noise to data: the forward process, denoising, Tweedie's formula).

Usage in a notebook::

    from aigc_course.exercises import ch6_noise
    ch6_noise.q61a.check(answer)            # prints a verdict, returns True/False, never raises
    ch6_noise.q61b.hint()
    ch6_noise.q61c.solution()

Each checker runs the answer on its own inputs (built so that the common wrong answers give different
numbers), compares it with the reference and names the mistake it recognises. Introduced in 6.1.
"""
from __future__ import annotations

from typing import Callable

import torch

from aigc_course.exercises import CheckFailed, Question, as_tensor, judge

__all__ = ["q61a", "q61b", "q61c"]

T = 1000


def _betas() -> torch.Tensor:
    """DDPM's linear schedule, beta_1 ... beta_T (Ho et al. 2020), float64."""
    return torch.linspace(1e-4, 0.02, T, dtype=torch.float64)


def _first_step(condition: torch.Tensor) -> int:
    """The first step k (counted from 1) where ``condition`` (T,) holds."""
    return int(condition.nonzero()[0]) + 1


# --------------------------------------------------------------------------------------------------
# 6.1a Predict: the step where the signal-to-noise ratio falls below 1
# --------------------------------------------------------------------------------------------------

def snr_crossing() -> int:
    """The first DDPM step k with alpha_bar_k / (1 - alpha_bar_k) < 1."""
    alpha_bar = torch.cumprod(1 - _betas(), 0)
    return _first_step(alpha_bar / (1 - alpha_bar) < 1)


def _check_snr_step(answer) -> str:
    value = as_tensor(answer, "predicted step")
    if value.numel() != 1:
        raise CheckFailed("give one number: the step k (between 1 and 1000) you predict.")
    k = float(value.reshape(()))
    alpha_bar, sum_beta = torch.cumprod(1 - _betas(), 0), torch.cumsum(_betas(), 0)
    truth = snr_crossing()
    shown = f"You predicted {k:g}; the schedule's signal-to-noise ratio first falls below 1 at step {truth}."
    if abs(k - truth) <= 0.1 * truth:
        return shown + " Within 10%: a quarter of the way through the chain the noise already wins."
    named = {
        T // 2: "halfway in time is not halfway in signal: the betas grow with k, and their effect "
                "compounds.",
        _first_step(1 - sum_beta < 0.5): "that is where 1 − Σβ = ½. The signal factor ᾱ_k is a PRODUCT of "
                                         "the (1 − β_j), which shrinks faster than 1 − Σβ_j.",
        _first_step(alpha_bar.sqrt() < 0.5): "that is where the signal's amplitude sqrt(ᾱ_k) = ½. The SNR "
                                             "compares variances: ᾱ_k against 1 − ᾱ_k, equal at ᾱ_k = ½.",
    }
    for step, why in named.items():
        if abs(k - step) <= 0.03 * step:
            raise CheckFailed(shown + " Close to " + str(step) + ": " + why)
    raise CheckFailed(shown + f" Your prediction is off by {100 * abs(k - truth) / truth:.0f}%: the SNR "
                      "is 1 where ᾱ_k = ½, i.e. where the sum of −log(1 − β_j) ≈ Σβ_j reaches log 2.")


q61a = Question(
    name="q61a",
    prompt="DDPM's marginal has the signal-to-noise ratio ᾱ_k / (1 − ᾱ_k), with ᾱ_k = prod_{j<=k} (1 − β_j) and "
           "β rising linearly from 1e-4 to 0.02 over 1000 steps. At which step k does it first fall below 1? "
           "Predict a number before computing; within 10% counts.",
    checker=_check_snr_step,
    hints=["SNR < 1 means ᾱ_k < ½, that is sum_j −log(1 − β_j) > log 2 ≈ 0.69; for small β, −log(1 − β) ≈ β.",
           "β_j ≈ 1e-4 + 2e-5 j, so Σ_{j<=k} β_j ≈ 1e-4 k + 1e-5 k². Solve 1e-4 k + 1e-5 k² = 0.69."],
    solution_code="""
# alpha_bar decreases, so the steps with SNR >= 1 (alpha_bar >= 1/2) come first; the answer is the next one
answer = 1 + int((torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), 0) >= 0.5).sum())
""",
)


# --------------------------------------------------------------------------------------------------
# 6.1b Apply: Tweedie's formula for Gaussian data
# --------------------------------------------------------------------------------------------------

_GAUSS_CASES = [  # (alpha, sigma, m, s): variance preserving, a flow-matching time, variance exploding
    (0.8, 0.6, 1.5, 0.7),
    (0.3, 0.7, -2.0, 1.3),
    (1.0, 2.0, 0.5, 0.4),
]


def _reference_posterior_mean(x, alpha, sigma, m, s):
    v = alpha**2 * s**2 + sigma**2
    return m + alpha * s**2 / v * (x - alpha * m)


def _check_posterior_mean(fn: Callable) -> None:
    x = torch.linspace(-4, 4, 17, dtype=torch.float64)
    for alpha, sigma, m, s in _GAUSS_CASES:
        v = alpha**2 * s**2 + sigma**2
        expected = _reference_posterior_mean(x, alpha, sigma, m, s)
        wrong = {
            "you returned x_t / α: the noise is removed on average, but the prior is ignored. Tweedie adds "
            "σ² times the score of p_t, which pulls x_t towards the data mean.": x / alpha,
            "you returned the data mean m: that is the answer only when x_t carries no signal (α = 0).":
                torch.full_like(x, m),
            "the gain lacks a factor α: E[x0 | x_t] = m + α s² / v · (x_t − α m). With Tweedie, the division "
            "by α and the α² s² in v leave one α in front.": m + s**2 / v * (x - alpha * m),
            "σ appears where σ² belongs: the variance of x_t is v = α² s² + σ².":
                m + alpha * s**2 / (alpha**2 * s**2 + sigma) * (x - alpha * m),
            "x_t is centred on α·m, not m: the noised data's mean is α m.": m + alpha * s**2 / v * (x - m),
            "the variance of x_t is α² s² + σ², not s² + σ²: the data are scaled by α before the noise is "
            "added.": m + alpha * s**2 / (s**2 + sigma**2) * (x - alpha * m),
            "you forgot Tweedie's division by α: (x_t + σ² ∇log p_t) / α.": x - sigma**2 * (x - alpha * m) / v,
            "you returned the score ∇log p_t(x_t) = −(x_t − α m)/v; Tweedie turns it into the posterior mean: "
            "(x_t + σ² · score) / α.": -(x - alpha * m) / v,
        }
        answer = fn(x.clone(), alpha, sigma, m, s)
        judge(answer, expected, wrong, what=f"E[x0 | x_t] for α={alpha}, σ={sigma}, m={m}, s={s}")


q61b = Question(
    name="q61b",
    prompt="Data x0 ~ N(m, s²) (1-D) and x_t = α x0 + σ ε. Write `posterior_mean(x_t, alpha, sigma, m, s)` "
           "returning E[x0 | x_t] in closed form (x_t a tensor, the others numbers).",
    checker=_check_posterior_mean,
    hints=["x_t is Gaussian too: mean α m, variance v = α² s² + σ². Its score is −(x − α m) / v.",
           "Put the score into Tweedie's formula (x_t + σ² · score) / α and simplify: "
           "m + α s² / v · (x_t − α m)."],
    solution_code="""
def posterior_mean(x_t, alpha, sigma, m, s):
    v = alpha**2 * s**2 + sigma**2               # variance of x_t
    return m + alpha * s**2 / v * (x_t - alpha * m)
""",
)


# --------------------------------------------------------------------------------------------------
# 6.1c Debug: a broken forward process
# --------------------------------------------------------------------------------------------------

def _reference_noise_to_step(x0, eps, k, betas):
    alpha_bar = torch.prod(1 - betas[:k])
    return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * eps


def _check_noise_to_step(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(61)
    x0 = 2 * torch.randn(64, 2, generator=gen, dtype=torch.float64)
    eps = torch.randn(64, 2, generator=gen, dtype=torch.float64)
    betas = _betas()
    for k in (0, 150, 37, 600, 1000, 1):  # at k = 1 some wrong formulas coincide with the right one
        ab, sb = torch.prod(1 - betas[:k]), betas[:k].sum()
        ab_next = torch.prod(1 - betas[:k + 1])
        wrong = {
            "both bugs are still there: ᾱ_k is a product of the (1 − β_j), and the marginal's mean and "
            "standard deviation are sqrt(ᾱ_k) and sqrt(1 − ᾱ_k).": (1 - sb) * x0 + sb * eps,
            "the square roots are right now, but ᾱ_k is a PRODUCT of the (1 − β_j): 1 − Σβ_j is only its "
            "first-order approximation (and turns negative).": (1 - sb).sqrt() * x0 + sb.sqrt() * eps,
            "ᾱ_k is right now, but the square roots are missing: the marginal is N(sqrt(ᾱ) x0, (1 − ᾱ) I), "
            "so x_k = sqrt(ᾱ) x0 + sqrt(1 − ᾱ) ε (1 − ᾱ is a variance, not a standard deviation).":
                ab * x0 + (1 - ab) * eps,
            "the signal factor needs its square root too: sqrt(ᾱ_k) x0.": ab * x0 + (1 - ab).sqrt() * eps,
            "the noise factor needs its square root too: sqrt(1 − ᾱ_k) ε.": ab.sqrt() * x0 + (1 - ab) * eps,
            "the noise's standard deviation is sqrt(1 − ᾱ_k), not 1 − sqrt(ᾱ_k).":
                ab.sqrt() * x0 + (1 - ab.sqrt()) * eps,
            "off by one step: k steps use β_1 ... β_k, which are betas[0:k] (k = 0 gives x0).":
                ab_next.sqrt() * x0 + (1 - ab_next).sqrt() * eps,
        }
        if k == 0:  # most wrong formulas give x0 too; two do not
            last = torch.prod(1 - betas)
            wrong = {"k = 0 must return x0 (no noise). Did `cumprod(...)[k - 1]` take the LAST element "
                     "for k = 0?": last.sqrt() * x0 + (1 - last).sqrt() * eps,
                     **{key: value for key, value in wrong.items() if key.startswith("off by one")}}
        answer = fn(x0.clone(), eps.clone(), k, betas.clone())
        judge(answer, _reference_noise_to_step(x0, eps, k, betas), wrong, what=f"x_k at step k={k}")


q61c = Question(
    name="q61c",
    prompt="Repair `noise_to_step(x0, eps, k, betas)`: it should return x_k = sqrt(ᾱ_k) x0 + sqrt(1 − ᾱ_k) eps, a "
           "draw from q(x_k | x0) of DDPM's chain after k steps (k = 0 returns x0; betas holds β_1 ... β_1000).",
    checker=_check_noise_to_step,
    hints=["Two lines, two bugs. Line 1: how does ᾱ_k combine the (1 − β_j)? Compare with the induction on the "
           "page.",
           "Line 2: 1 − ᾱ_k is the VARIANCE of the noise. `torch.prod(1 - betas[:k])` is ᾱ_k (1 for k = 0)."],
    solution_code="""
def noise_to_step(x0, eps, k, betas):
    alpha_bar = torch.prod(1 - betas[:k])        # a product; 1 for k = 0
    return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * eps
""",
)
