"""The exercises of 6.2 accept the right answers and name the common wrong ones."""
import math

import pytest
import torch

from aigc_course import diffusion
from aigc_course.exercises import ch6_elbo as ex

QUESTIONS = [ex.q62a, ex.q62b, ex.q62c]


def _verdict(question, answer):
    return question.check(answer, quiet=True)


def _rejects(question, answer, words):
    verdict = _verdict(question, answer)
    assert not verdict and words in verdict.message, verdict.message


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.name)
def test_reference_solution_is_accepted(question):
    assert _verdict(question, question.reference())


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.name)
def test_stub_is_not_accepted_and_does_not_raise(question):
    assert not _verdict(question, None)
    assert not _verdict(question, ...)


@pytest.mark.parametrize("question", [ex.q62b, ex.q62c], ids=lambda q: q.name)
def test_unfinished_function_is_named(question):
    def unfinished(*args):
        raise NotImplementedError

    assert "NotImplementedError" in _verdict(question, unfinished).message


def test_checks_leave_the_global_random_state_alone():
    torch.manual_seed(3)
    expected = torch.rand(3)
    torch.manual_seed(3)
    for question in QUESTIONS:
        _verdict(question, question.reference())
    torch.testing.assert_close(torch.rand(3), expected)


# --- 6.2a (predict): L_T for DDPM and a binary 28x28 image -----------------------------------

def test_q62a_measured_value_is_the_closed_form_kl():
    abar = torch.prod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64))
    x0 = torch.where(torch.rand(1, 784, generator=torch.Generator().manual_seed(0)) < 0.3, 1.0, -1.0)
    mu, logvar = abar.sqrt() * x0.double(), (1 - abar).log().expand(1, 784)
    kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum()
    assert ex.prior_term_binary_image() == pytest.approx(kl.item(), rel=1e-9)
    assert ex.prior_term_binary_image() == pytest.approx(0.0158, rel=0.01)


@pytest.mark.parametrize("factor", [0.4, 1.0, 2.9])
def test_q62a_accepts_within_a_factor_of_three_and_shows_both(factor):
    measured = ex.prior_term_binary_image()
    verdict = _verdict(ex.q62a, factor * measured)
    assert verdict and f"{measured:.3g}" in verdict.message


@pytest.mark.parametrize("guess, words", [
    (-0.01, "never negative"),
    (0, "Not exactly zero"),
    (2.02e-5, "ONE pixel"),
    (5.0, "Too high"),
    (1e-3, "Too low"),
    (math.inf, "finite"),
    ([0.01, 0.02], "one number"),
])
def test_q62a_rejects_with_a_reason(guess, words):
    _rejects(ex.q62a, guess, words)


# --- 6.2b (apply): x0 prediction to v prediction ----------------------------------------------

def test_q62b_reference_agrees_with_the_package():
    x0_to_v = ex.q62b.reference()
    gen = torch.Generator().manual_seed(1)
    t = 0.05 + 0.9 * torch.rand(10, generator=gen, dtype=torch.float64)
    x0_hat, x_t = torch.randn(2, 10, generator=gen, dtype=torch.float64)
    for schedule in diffusion.SCHEDULES:
        alpha, sigma = diffusion.alpha_sigma(t, schedule)
        expected = diffusion.convert(x0_hat, x_t, t, "x0", "v", schedule)
        torch.testing.assert_close(x0_to_v(x0_hat, x_t, alpha, sigma), expected)


def test_q62b_accepts_the_simplified_general_formula():
    assert _verdict(ex.q62b, lambda x0, xt, a, s: (a * xt - (a**2 + s**2) * x0) / s)


@pytest.mark.parametrize("wrong, words", [
    (lambda x0, xt, a, s: (a * xt - x0) / s, "variance preserving"),
    (lambda x0, xt, a, s: s * x0 - a * (xt - a * x0) / s, "sign is flipped"),
    (lambda x0, xt, a, s: a * x0 - s * (xt - a * x0) / s, "roles are swapped"),
    (lambda x0, xt, a, s: a * (xt - x0) / s - s * x0, "missing the factor alpha"),
    (lambda x0, xt, a, s: (xt - a * x0) / s, "you returned eps_hat"),
    (lambda x0, xt, a, s: (xt - a * x0) / s - x0, "flow-matching velocity"),
])
def test_q62b_rejects_common_mistakes(wrong, words):
    _rejects(ex.q62b, wrong, words)


# --- 6.2c (debug): the posterior mean -----------------------------------------------------------

def _blog(x_t, x0, beta_t, alpha_bar_t, divide=False, sqrt=False, abar_t_in_x0=False):
    alpha_t = 1 - beta_t
    alpha_bar_prev = alpha_bar_t / alpha_t if divide else alpha_bar_t * alpha_t
    coef_x0 = (alpha_bar_t if abar_t_in_x0 else alpha_bar_prev).sqrt() * beta_t / (1 - alpha_bar_t)
    coef_xt = (alpha_t.sqrt() if sqrt else alpha_t) * (1 - alpha_bar_prev) / (1 - alpha_bar_t)
    return coef_x0 * x0 + coef_xt * x_t


def test_q62c_reference_is_the_posterior_of_the_package():
    posterior_mean = ex.q62c.reference()
    T, t = 1000, 400
    abar = diffusion.alpha_sigma(torch.tensor([(t - 1) / T, t / T], dtype=torch.float64), "ddpm")[0] ** 2
    x_t, x0 = torch.tensor([0.3, -1.2], dtype=torch.float64), torch.tensor([1.0, 0.5], dtype=torch.float64)
    expected, _ = diffusion.posterior(x_t, x0, t / T, (t - 1) / T, "ddpm")
    torch.testing.assert_close(posterior_mean(x_t, x0, 1 - abar[1] / abar[0], abar[1]), expected)


def test_q62c_accepts_both_fixes():
    assert _verdict(ex.q62c, lambda *a: _blog(*a, divide=True, sqrt=True))


@pytest.mark.parametrize("wrong, words", [
    (_blog, "still the blog post's version"),
    (lambda *a: _blog(*a, sqrt=True), "one factor FEWER"),
    (lambda *a: _blog(*a, divide=True), "sqrt(alpha_t)(1 − alpha_bar_{t-1})"),
    (lambda *a: _blog(*a, divide=True, sqrt=True, abar_t_in_x0=True), "not sqrt(alpha_bar_t)"),
])
def test_q62c_rejects_common_mistakes(wrong, words):
    _rejects(ex.q62c, wrong, words)
