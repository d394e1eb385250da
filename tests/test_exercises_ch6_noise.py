"""The exercises of 6.1 accept the right answers and name the common wrong ones."""
from __future__ import annotations

import torch

from aigc_course import diffusion
from aigc_course.exercises import ch6_noise as ex
from exercise_helpers import checker_tests, rejected, solution_of

QUESTIONS = [ex.q61a, ex.q61b, ex.q61c]


def _solution(question):
    return solution_of(question, torch=torch)


(test_shown_solution_is_accepted, test_stub_and_crash_give_a_verdict_not_an_exception,
 test_checkers_leave_the_global_rng_alone) = checker_tests(QUESTIONS, _solution, numeric=[ex.q61a])


# --- 6.1 a: the step where the signal-to-noise ratio falls below 1 ----------------------------------

def test_q61a_truth_agrees_with_the_package_schedule():
    k = ex.snr_crossing()
    alpha, sigma = diffusion.alpha_sigma(torch.tensor([(k - 1) / 1000, k / 1000], dtype=torch.float64), "ddpm")
    snr = alpha**2 / sigma**2
    assert snr[0] >= 1 > snr[1]


def test_q61a_accepts_predictions_within_ten_percent_and_shows_the_truth():
    k = ex.snr_crossing()
    for guess in (k, round(0.92 * k), round(1.08 * k), float(k) + 0.5, torch.tensor(k)):
        verdict = ex.q61a.check(guess, quiet=True)
        assert verdict and str(k) in verdict.message


def test_q61a_names_the_common_wrong_predictions():
    k = ex.snr_crossing()
    rejected(ex.q61a, 500, "halfway in time", str(k))
    rejected(ex.q61a, 220, "PRODUCT")
    rejected(ex.q61a, 369, "amplitude")
    rejected(ex.q61a, 800, "off by", str(k))
    rejected(ex.q61a, [250, 260], "one number")
    rejected(ex.q61a, "260", "number")


# --- 6.1 b: Tweedie's formula for Gaussian data ------------------------------------------------------

def test_q61b_accepts_the_tweedie_form():
    def via_score(x_t, alpha, sigma, m, s):
        v = alpha**2 * s**2 + sigma**2
        return (x_t + sigma**2 * (-(x_t - alpha * m) / v)) / alpha

    assert ex.q61b.check(via_score, quiet=True)


def test_q61b_reference_is_the_one_component_mixture_posterior():
    """The closed form against the 8-Gaussians' component formula of the page, by importance sampling."""
    posterior_mean = _solution(ex.q61b)
    gen = torch.Generator().manual_seed(0)
    alpha, sigma, m, s = 0.6, 0.8, 1.0, 0.5
    x0 = m + s * torch.randn(400_000, generator=gen, dtype=torch.float64)
    for x_t in (-1.0, 0.3, 1.5):
        w = torch.softmax(-0.5 * ((x_t - alpha * x0) / sigma) ** 2, dim=0)
        estimate = (w * x0).sum()
        se = (w**2 * (x0 - estimate) ** 2).sum().sqrt()
        assert abs(posterior_mean(torch.tensor(x_t), alpha, sigma, m, s) - estimate) < 4 * se


def test_q61b_names_the_common_mistakes():
    q = ex.q61b

    def v(alpha, sigma, s):
        return alpha**2 * s**2 + sigma**2

    rejected(q, lambda x, a, sg, m, s: x / a, "x_t / α")
    rejected(q, lambda x, a, sg, m, s: torch.full_like(x, m), "data mean m")
    rejected(q, lambda x, a, sg, m, s: m + s**2 / v(a, sg, s) * (x - a * m), "lacks a factor α")
    rejected(q, lambda x, a, sg, m, s: m + a * s**2 / (a**2 * s**2 + sg) * (x - a * m), "σ appears where σ²")
    rejected(q, lambda x, a, sg, m, s: m + a * s**2 / v(a, sg, s) * (x - m), "centred on α·m")
    rejected(q, lambda x, a, sg, m, s: m + a * s**2 / (s**2 + sg**2) * (x - a * m), "not s² + σ²")
    rejected(q, lambda x, a, sg, m, s: x - sg**2 * (x - a * m) / v(a, sg, s), "division by α")
    rejected(q, lambda x, a, sg, m, s: -(x - a * m) / v(a, sg, s), "the score")


# --- 6.1 c: the broken forward process ---------------------------------------------------------------

def _noise(alpha_bar_fn, signal="sqrt", noise="sqrt"):
    def fn(x0, eps, k, betas):
        ab = alpha_bar_fn(betas, k)
        a = ab.sqrt() if signal == "sqrt" else ab
        s = (1 - ab).sqrt() if noise == "sqrt" else (1 - ab.sqrt() if noise == "one minus sqrt" else 1 - ab)
        return a * x0 + s * eps
    return fn


def _product(betas, k):
    return torch.prod(1 - betas[:k])


def test_q61c_reference_matches_the_package_marginal():
    noise_to_step = _solution(ex.q61c)
    betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)
    x0, eps = torch.ones(3, 2, dtype=torch.float64), torch.zeros(3, 2, dtype=torch.float64)
    for k in (1, 260, 1000):
        alpha, _ = diffusion.alpha_sigma(torch.tensor(k / 1000, dtype=torch.float64), "ddpm")
        torch.testing.assert_close(noise_to_step(x0, eps, k, betas), alpha * x0)


def test_q61c_accepts_a_cumprod_that_handles_k_zero():
    def via_cumprod(x0, eps, k, betas):
        ab = torch.cat([torch.ones(1, dtype=betas.dtype), torch.cumprod(1 - betas, 0)])[k]
        return ab.sqrt() * x0 + (1 - ab).sqrt() * eps

    assert ex.q61c.check(via_cumprod, quiet=True)


def test_q61c_names_the_common_mistakes():
    q = ex.q61c
    sum_fn = lambda betas, k: 1 - betas[:k].sum()  # noqa: E731
    rejected(q, _noise(sum_fn, signal="plain", noise="plain"), "both bugs")
    rejected(q, lambda x0, eps, k, betas: (1 - betas[:k].sum()).sqrt() * x0 + betas[:k].sum().sqrt() * eps,
             "PRODUCT")
    rejected(q, _noise(_product, signal="plain", noise="plain"), "square roots are missing")
    rejected(q, _noise(_product, signal="plain"), "signal factor")
    rejected(q, _noise(_product, noise="plain"), "noise factor")
    rejected(q, _noise(_product, noise="one minus sqrt"), "not 1 − sqrt")
    rejected(q, _noise(lambda betas, k: torch.prod(1 - betas[:k + 1])), "off by one")
    rejected(q, _noise(lambda betas, k: torch.cumprod(1 - betas, 0)[k - 1]), "k = 0 must return x0")
