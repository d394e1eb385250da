"""Exercises of section 6.2 (diffusion as a deep VAE: the ELBO, parameterisations, schedules).

Usage in a notebook::

    from aigc_course.exercises import ch6_elbo as ex
    ex.q62a.check(my_prediction)   # prints a verdict, returns True/False, never raises
    ex.q62a.hint()
    ex.q62a.solution()

``q62a`` is a *predict* question (a number written before computing it; the checker shows the measured
value), ``q62b`` an *apply* question (x0 -> v conversion) and ``q62c`` a *debug* question (a posterior mean
with two bugs). Each checker uses its own generator and names the common wrong answers it recognises.
Introduced in 6.2.
"""
from __future__ import annotations

import math
from typing import Callable

import torch

from aigc_course import diffusion
from aigc_course.exercises import CheckFailed, Question, as_tensor, judge

__all__ = ["q62a", "q62b", "q62c"]

PIXELS = 28 * 28


def prior_term_binary_image() -> float:
    """L_T = KL(q(x_T | x0) || N(0, I)) in nats for DDPM's schedule (T = 1000) and an image of 784 pixels,
    each -1 or +1: per pixel 1/2 (abar x0^2 + (1 - abar) - 1 - log(1 - abar)) = -1/2 log(1 - abar)."""
    abar = diffusion.alpha_sigma(torch.tensor(1.0, dtype=torch.float64), "ddpm")[0].item() ** 2
    return PIXELS * -0.5 * math.log1p(-abar)


# --------------------------------------------------------------------------------------------------
# 6.2a (predict): the size of L_T
# --------------------------------------------------------------------------------------------------

def _check_prior_prediction(answer) -> str:
    guess = as_tensor(answer, "prediction")
    if guess.numel() != 1:
        raise CheckFailed("write one number: your prediction of L_T in nats.")
    guess, measured = guess.item(), prior_term_binary_image()
    shown = f"You predicted {guess:.3g} nats; the measured value is {measured:.3g} nats."
    if not math.isfinite(guess):
        raise CheckFailed(f"{shown} L_T is finite: both q(x_T | x0) and N(0, I) are Gaussians with positive "
                          "variances.")
    if guess < 0:
        raise CheckFailed(f"{shown} A KL divergence is never negative.")
    if guess == 0:
        raise CheckFailed(f"{shown} Not exactly zero: abar_T is tiny but not 0, so x_T keeps a trace of x0 "
                          "(its mean is sqrt(abar_T) x0).")
    if abs(guess - measured / PIXELS) < 0.5 * measured / PIXELS:
        raise CheckFailed(f"{shown} Your number is close to the value for ONE pixel: the pixels are "
                          "independent, so the KL is the sum over all 784 of them.")
    ratio = guess / measured
    if ratio > 3:
        raise CheckFailed(f"{shown} Too high by a factor of {ratio:.3g}: after 1000 steps x_T is almost pure "
                          "noise (abar_T ≈ 4e-5), so its distribution is very close to the prior.")
    if ratio < 1 / 3:
        raise CheckFailed(f"{shown} Too low by a factor of {1 / ratio:.3g}: per pixel L_T ≈ abar_T / 2 for "
                          "x0 = ±1, and 784 pixels add up.")
    return f"{shown} Within a factor of {max(ratio, 1 / ratio):.2g}: L_T is negligible."


q62a = Question(
    name="q62a",
    prompt="Predict L_T = KL(q(x_T | x0) || N(0, I)) in nats for DDPM's schedule (betas 1e-4 to 0.02, T = 1000) "
           "and a binarised 28x28 image scaled to [-1, 1] (every pixel -1 or +1). Accepted within a factor of 3.",
    checker=_check_prior_prediction,
    hints=["q(x_T | x0) = N(sqrt(abar_T) x0, (1 - abar_T) I) and abar_T = prod(1 - beta_t) ≈ exp(-sum beta_t).",
           "sum beta_t ≈ 1000 × 0.01 = 10, so abar_T ≈ 4.5e-5; per pixel L_T = -1/2 log(1 - abar_T) ≈ abar_T / 2 "
           "when x0² = 1. Multiply by the number of pixels."],
    solution_code="""
# abar_T = prod(1 - beta_t); per pixel L_T = -1/2 log(1 - abar_T) when x0^2 = 1; 784 pixels add up
answer = 784 * -0.5 * math.log(1 - torch.prod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)).item())
""",
)


# --------------------------------------------------------------------------------------------------
# 6.2b (apply): an x0 prediction as a v prediction
# --------------------------------------------------------------------------------------------------

def _v_case(gen: torch.Generator, schedule: str) -> tuple[torch.Tensor, ...]:
    t = 0.05 + 0.9 * torch.rand(4, 3, generator=gen, dtype=torch.float64)
    alpha, sigma = diffusion.alpha_sigma(t, schedule)
    x0_hat, x_t = torch.randn(2, 4, 3, generator=gen, dtype=torch.float64)
    return x0_hat, x_t, alpha, sigma


def _check_x0_to_v(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(62)
    for schedule, what in [("cosine", "variance-preserving (cosine) schedule"),
                           ("linear", "linear schedule (alpha = 1 - t, sigma = t: not variance preserving)")]:
        x0_hat, x_t, alpha, sigma = _v_case(gen, schedule)
        eps_hat = (x_t - alpha * x0_hat) / sigma
        expected = alpha * eps_hat - sigma * x0_hat
        wrong = {
            "(alpha x_t - x0_hat) / sigma is right only when alpha² + sigma² = 1 (variance preserving). In "
            "general v_hat = (alpha x_t - (alpha² + sigma²) x0_hat) / sigma: solve x_t = alpha x0_hat + "
            "sigma eps_hat for eps_hat first.": (alpha * x_t - x0_hat) / sigma,
            "the sign is flipped: v = alpha·eps − sigma·x0 (Salimans & Ho), not sigma·x0 − alpha·eps.":
                -expected,
            "the roles are swapped: v = alpha·eps − sigma·x0, not alpha·x0 − sigma·eps.":
                alpha * x0_hat - sigma * eps_hat,
            "eps_hat is missing the factor alpha: x_t = alpha x0 + sigma eps gives eps_hat = "
            "(x_t − alpha x0_hat) / sigma.": alpha * (x_t - x0_hat) / sigma - sigma * x0_hat,
            "you returned eps_hat, the noise prediction; v = alpha·eps_hat − sigma·x0_hat.": eps_hat,
            "this is the flow-matching velocity alpha'·x0 + sigma'·eps of the linear schedule "
            "(eps − x0), not v = alpha·eps − sigma·x0.": eps_hat - x0_hat,
        }
        judge(fn(x0_hat.clone(), x_t.clone(), alpha.clone(), sigma.clone()), expected, wrong,
              what=f"v prediction on the {what}", atol=1e-8, rtol=1e-8)


q62b = Question(
    name="q62b",
    prompt="Write `x0_to_v(x0_hat, x_t, alpha, sigma)`: the v prediction (v = alpha·eps − sigma·x0) that matches "
           "the x0 prediction x0_hat at x_t = alpha·x0 + sigma·eps, for any schedule (tensors of one shape).",
    checker=_check_x0_to_v,
    hints=["Given x_t, an x0 prediction fixes the noise prediction: eps_hat = (x_t − alpha·x0_hat) / sigma.",
           "Then v_hat = alpha·eps_hat − sigma·x0_hat."],
    solution_code="""
def x0_to_v(x0_hat, x_t, alpha, sigma):
    eps_hat = (x_t - alpha * x0_hat) / sigma
    return alpha * eps_hat - sigma * x0_hat
""",
)


# --------------------------------------------------------------------------------------------------
# 6.2c (debug): a posterior mean with two bugs
# --------------------------------------------------------------------------------------------------

def _posterior_mean(x_t, x0, beta_t, alpha_bar_t, *, prev_times=False, no_sqrt=False, abar_t_in_x0=False):
    """tilde mu_t and its common corruptions (by keyword)."""
    alpha_t = 1 - beta_t
    alpha_bar_prev = alpha_bar_t * alpha_t if prev_times else alpha_bar_t / alpha_t
    coef_x0 = (alpha_bar_t if abar_t_in_x0 else alpha_bar_prev).sqrt() * beta_t / (1 - alpha_bar_t)
    coef_xt = (alpha_t if no_sqrt else alpha_t.sqrt()) * (1 - alpha_bar_prev) / (1 - alpha_bar_t)
    return coef_x0 * x0 + coef_xt * x_t


def _check_posterior_mean(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(620)
    beta = 0.02 + 0.3 * torch.rand(8, generator=gen, dtype=torch.float64)       # large steps: bugs show
    alpha_bar_prev = 0.1 + 0.8 * torch.rand(8, generator=gen, dtype=torch.float64)
    alpha_bar_t = alpha_bar_prev * (1 - beta)
    x_t, x0 = torch.randn(2, 8, generator=gen, dtype=torch.float64)
    args = (x_t, x0, beta, alpha_bar_t)
    wrong = {
        "this is still the blog post's version, with both bugs: compare each line with the formula for "
        "tilde mu_t on the page.": _posterior_mean(*args, prev_times=True, no_sqrt=True),
        "one bug left: alpha_bar_t = alpha_bar_{t-1} · alpha_t, so alpha_bar_{t-1} = alpha_bar_t / alpha_t "
        "(one factor FEWER than alpha_bar_t, so larger).": _posterior_mean(*args, prev_times=True),
        "one bug left: the coefficient of x_t is sqrt(alpha_t)(1 − alpha_bar_{t-1}) / (1 − alpha_bar_t); x_t "
        "enters through q(x_t | x_{t-1}), whose mean is sqrt(alpha_t) x_{t-1}.": _posterior_mean(*args, no_sqrt=True),
        "the coefficient of x0 has sqrt(alpha_bar_{t-1}) (x0 reaches x_{t-1} through q(x_{t-1} | x0)), not "
        "sqrt(alpha_bar_t).": _posterior_mean(*args, abar_t_in_x0=True),
    }
    judge(fn(*(a.clone() for a in args)), _posterior_mean(*args), wrong, what="posterior mean", atol=1e-10,
          rtol=1e-10)


q62c = Question(
    name="q62c",
    prompt="Repair `posterior_mean(x_t, x0, beta_t, alpha_bar_t)`: the mean of q(x_{t-1} | x_t, x0) for DDPM, "
           "from tensors beta_t and alpha_bar_t. The blog post's version has two bugs.",
    checker=_check_posterior_mean,
    hints=["Compare each line with tilde mu_t = sqrt(abar_{t-1}) beta_t / (1 − abar_t) · x0 + "
           "sqrt(alpha_t) (1 − abar_{t-1}) / (1 − abar_t) · x_t.",
           "How is alpha_bar_{t-1} related to alpha_bar_t? And which power of alpha_t multiplies x_t?"],
    solution_code="""
def posterior_mean(x_t, x0, beta_t, alpha_bar_t):
    alpha_t = 1 - beta_t
    alpha_bar_prev = alpha_bar_t / alpha_t
    coef_x0 = alpha_bar_prev.sqrt() * beta_t / (1 - alpha_bar_t)
    coef_xt = alpha_t.sqrt() * (1 - alpha_bar_prev) / (1 - alpha_bar_t)
    return coef_x0 * x0 + coef_xt * x_t
""",
)
