"""The 6.3 exercises accept the reference solution (and other correct answers) and reject the common
wrong answers by name."""
from __future__ import annotations

import math

import torch

from aigc_course import diffusion
from aigc_course.exercises import ch6_flow
from exercise_helpers import checker_tests, rejected, solution_of

QUESTIONS = [ch6_flow.q63a, ch6_flow.q63b, ch6_flow.q63c]


def _solution(question):
    return solution_of(question, torch=torch, math=math, diffusion=diffusion)


(test_shown_solution_is_accepted, test_stub_and_crash_give_a_verdict_not_an_exception,
 test_checkers_leave_the_global_rng_alone) = checker_tests(QUESTIONS, _solution, numeric=[ch6_flow.q63c])


# --- 6.3a: the marginal velocity of one Gaussian on the linear or cosine path ----------------------

def _coefficients(t, schedule):
    """alpha, sigma and their derivatives written out by hand (no package call)."""
    if schedule == "linear":
        return 1 - t, t, -1.0, 1.0
    c = math.pi / 2
    return math.cos(c * t), math.sin(c * t), -c * math.sin(c * t), c * math.cos(c * t)


def _by_hand(x, t, m, s, schedule, mistake=None):
    a, sig, da, dsig = _coefficients(t, "linear" if mistake == "linear coefficients" else schedule)
    if mistake == "point data":
        s = 0.0
    v = a**2 * s**2 + sig**2
    e_x0 = m + a * s**2 / v * (x - a * m)
    e_eps = sig / v * (x - a * m)
    if mistake == "straight velocity":
        return e_eps - e_x0
    if mistake == "alpha not derivative":
        return a * e_x0 + sig * e_eps
    u = da * e_x0 + dsig * e_eps
    return -u if mistake == "sign" else u


def test_q63a_accepts_an_equivalent_form():
    q = ch6_flow.q63a
    assert q.check(lambda x, t, m, s, sch: _by_hand(x, t, m, s, sch), quiet=True)

    def via_score(x, t, m, s, schedule):  # u = alpha'/alpha x - (sigma sigma' - alpha'/alpha sigma^2) score
        a, sig, da, dsig = _coefficients(t, schedule)
        score = -(x - a * m) / (a**2 * s**2 + sig**2)
        if abs(a) < 1e-12:  # t = 1 on the cosine path: alpha = 0, use E[x0 | x] = m
            return da * m + dsig * (-sig * score)
        return da / a * x - (sig * dsig - da / a * sig**2) * score

    assert q.check(via_score, quiet=True)


def test_q63a_names_the_common_mistakes():
    q = ch6_flow.q63a
    for mistake, words in [("sign", "sign flipped"), ("straight velocity", "straight path's velocity"),
                           ("linear coefficients", "for every schedule"), ("point data", "single point m"),
                           ("alpha not derivative", "rebuilds x itself")]:
        rejected(q, lambda x, t, m, s, sch, mistake=mistake: _by_hand(x, t, m, s, sch, mistake), words)
    rejected(q, lambda x, t, m, s, sch: _by_hand(x, t, m, s, sch).sum(1), "shape")


# --- 6.3b: the broken Euler sampler -------------------------------------------------------------------

def _sampler(direction=(1, 0), conditional=False, sign=1.0, at_end=False, ddim_form=False):
    def euler_sample(denoiser, x, steps):
        eps = x.clone()
        ts = torch.linspace(*direction, steps + 1)
        for i in range(steps):
            t, s = ts[i], ts[i + 1]
            x0 = denoiser(x, s if at_end else t)
            if ddim_form:  # keep E[eps | x_t] and move to time s: the same as the Euler step
                x = (1 - s) * x0 + s * (x - (1 - t) * x0) / t
            else:
                v = eps - x0 if conditional else (x - x0) / (s if at_end else t)
                x = x + sign * (s - t) * v
        return x
    return euler_sample


def test_q63b_accepts_the_ddim_form():
    assert ch6_flow.q63b.check(_sampler(ddim_form=True), quiet=True)


def test_q63b_names_the_common_mistakes():
    q = ch6_flow.q63b
    rejected(q, _sampler(direction=(0, 1), conditional=True), "both bugs")
    rejected(q, _sampler(conditional=True), "STARTING noise")
    rejected(q, _sampler(sign=-1.0), "wrong sign")
    rejected(q, _sampler(direction=(0, 1)), "inf or nan")   # the marginal velocity at t = 0
    rejected(q, _sampler(at_end=True), "inf or nan")        # evaluated at the end s = 0 of the last step

    def returns_path(denoiser, x, steps):
        return torch.stack([x, _sampler()(denoiser, x, steps)])

    rejected(q, returns_path, "shape")


def test_q63b_reference_matches_the_package_euler_sampler():
    """On a Gaussian-mixture flow wrapped as a package model, the fixed sampler is Diffusion's Euler."""
    euler_sample = _solution(ch6_flow.q63b)

    class Exact(diffusion.Diffusion):
        def forward(self, x_t, t, labels=None):  # the velocity (x - x0_hat) / t of the checker's mixture
            t = t.reshape(-1, 1).double()
            return ((x_t.double() - ch6_flow._denoiser(x_t, t[0])) / t).float()

    model = Exact(diffusion.DiffusionConfig(kind="mlp", data_dim=2, hidden=4, depth=1))
    noise = torch.randn(32, 2, generator=torch.Generator().manual_seed(0))
    expected = model.sample(32, noise=noise, steps=6, sampler="euler")
    torch.testing.assert_close(euler_sample(ch6_flow._denoiser, noise.double(), 6).float(), expected,
                               atol=1e-4, rtol=1e-4)


# --- 6.3c: predict the spread after one Euler step -----------------------------------------------------

def test_q63c_shows_both_numbers_and_names_wrong_guesses():
    q = ch6_flow.q63c
    verdict = q.check(0, quiet=True)
    assert verdict and "measured" in verdict.message
    assert q.check(torch.tensor(0.01), quiet=True)
    rejected(q, 0.5, "measured", "data's own standard deviation")
    rejected(q, 1.0, "noise's standard deviation")
    rejected(q, 0.25, "variance")
    rejected(q, 0.3, "measured", "one step of length 1")
    rejected(q, [0.0, 0.5], "one number")
    rejected(q, "zero", "number")
