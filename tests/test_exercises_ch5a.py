"""The chapter 5 (first half) exercises accept correct answers in several forms and reject the common
wrong ones by name."""
from __future__ import annotations

import math

import torch
from scipy import stats

from aigc_course import metrics
from aigc_course.exercises import ch5a
from exercise_helpers import checker_tests, rejected, solution_of

QUESTIONS = [ch5a.q51a, ch5a.q51b, ch5a.q51c, ch5a.q51d, ch5a.q52a, ch5a.q52b, ch5a.q52c, ch5a.q52d]


def _solution(question):
    return solution_of(question, torch=torch, math=math)


(test_shown_solution_is_accepted, test_stub_and_crash_give_a_verdict_not_an_exception,
 test_checkers_leave_the_global_rng_alone) = checker_tests(QUESTIONS, _solution, numeric=[ch5a.q51c, ch5a.q52c])


def _angle(z0, z1):
    cos = (z0 * z1).sum(1, keepdim=True) / (z0.norm(dim=1, keepdim=True) * z1.norm(dim=1, keepdim=True))
    return torch.arccos(cos.clamp(-1, 1))


def _with_fallback(curve):
    """Wrap a slerp-like formula curve(z0, z1, t, omega) with the lerp fallback for parallel rows."""
    def fn(z0, z1, t):
        omega = _angle(z0, z1)
        out = curve(z0, z1, t, omega.clamp(min=1e-6))
        return torch.where(torch.sin(omega) > 1e-7, out, (1 - t) * z0 + t * z1)
    return fn


def test_q51a_slerp():
    q = ch5a.q51a

    def via_atan2(z0, z1, t):  # an equivalent form: the angle from atan2(|z0 x z1|, z0 . z1)
        dot = (z0 * z1).sum(1, keepdim=True)
        cross = torch.sqrt((z0.norm(dim=1, keepdim=True) * z1.norm(dim=1, keepdim=True)) ** 2 - dot**2)
        omega = torch.atan2(cross.clamp(min=0), dot)
        w0 = torch.where(omega > 1e-6, torch.sin((1 - t) * omega) / torch.sin(omega).clamp(min=1e-12),
                         torch.full_like(omega, 1 - t))
        w1 = torch.where(omega > 1e-6, torch.sin(t * omega) / torch.sin(omega).clamp(min=1e-12),
                         torch.full_like(omega, t))
        return w0 * z0 + w1 * z1

    def per_row(z0, z1, t):  # a loop over rows with a Python-level fallback
        rows = []
        for a, b in zip(z0, z1):
            cos = float(torch.dot(a, b) / (a.norm() * b.norm()))
            omega = math.acos(max(-1.0, min(1.0, cos)))
            if math.sin(omega) < 1e-6:
                rows.append((1 - t) * a + t * b)
            else:
                rows.append((math.sin((1 - t) * omega) * a + math.sin(t * omega) * b) / math.sin(omega))
        return torch.stack(rows)

    assert q.check(via_atan2, quiet=True)
    assert q.check(per_row, quiet=True)
    rejected(q, lambda z0, z1, t: (1 - t) * z0 + t * z1, "linear interpolation (lerp)")
    rejected(q, lambda z0, z1, t: torch.lerp(z0, z1, t), "lerp")
    rejected(q, _with_fallback(lambda z0, z1, t, w: (torch.sin(t * w) * z0 + torch.sin((1 - t) * w) * z1)
                               / torch.sin(w)), "swapped")
    rejected(q, _with_fallback(lambda z0, z1, t, w: torch.sin((1 - t) * w) * z0 + torch.sin(t * w) * z1),
             "not divided by sin Ω")

    def raw_dot(z0, z1, t):
        w = torch.arccos((z0 * z1).sum(1, keepdim=True).clamp(-1, 1))
        return (torch.sin((1 - t) * w) * z0 + torch.sin(t * w) * z1) / torch.sin(w)

    rejected(q, raw_dot, "NORMALISED dot product")

    def unit_vectors(z0, z1, t):
        u0, u1 = z0 / z0.norm(dim=1, keepdim=True), z1 / z1.norm(dim=1, keepdim=True)
        w = _angle(z0, z1)
        return (torch.sin((1 - t) * w) * u0 + torch.sin(t * w) * u1) / torch.sin(w)

    rejected(q, unit_vectors, "unit vectors")

    def direction_and_norm(z0, z1, t):
        u = unit_vectors(z0, z1, t)
        r = (1 - t) * z0.norm(dim=1, keepdim=True) + t * z1.norm(dim=1, keepdim=True)
        return u / u.norm(dim=1, keepdim=True) * r

    rejected(q, direction_and_norm, "directions and the norms separately")
    rejected(q, lambda z0, z1, t: (torch.sin((1 - t) * _angle(z0, z1)) * z0
                                   + torch.sin(t * _angle(z0, z1)) * z1) / torch.sin(_angle(z0, z1)),
             "divides 0 by 0")


def test_q51b_prob_norm_below():
    q = ch5a.q51b
    assert q.check(lambda r, d: torch.as_tensor(stats.chi2.cdf(r**2, d)), quiet=True)
    assert q.check(lambda r, d: torch.as_tensor(stats.chi.cdf(r, d)), quiet=True)
    assert q.check(lambda r, d: 1 - torch.as_tensor(stats.chi2.sf(r.numpy() ** 2, d)), quiet=True)
    rejected(q, lambda r, d: torch.as_tensor(stats.chi2.cdf(r, d)), "instead of r²")
    rejected(q, lambda r, d: torch.as_tensor(stats.chi2.sf(r**2, d)), "ABOVE r")
    rejected(q, lambda r, d: torch.as_tensor(stats.chi2.cdf(r**2, max(d - 1, 1))), "not d − 1")
    rejected(q, lambda r, d: torch.as_tensor(stats.norm.cdf(r, math.sqrt(d), math.sqrt(0.5))),
             "normal approximation")
    rejected(q, lambda r, d: torch.as_tensor(stats.norm.cdf(r**2, d, math.sqrt(2 * d))),
             "normal approximation")
    rejected(q, lambda r, d: torch.as_tensor(stats.chi.pdf(r, d)), "density")
    rejected(q, lambda r, d: torch.as_tensor(stats.chi2.cdf(r**2, d)).float().sum(), "shape")


def test_q52a_psnr():
    q = ch5a.q52a
    assert q.check(lambda a, b: metrics.psnr(a, b, reduction="none"), quiet=True)
    assert q.check(lambda a, b: 20 * torch.log10(2 / (a - b).pow(2).flatten(1).mean(1).sqrt()), quiet=True)
    # the same PSNR on images rescaled to [0, 1] with peak 1
    assert q.check(lambda a, b: metrics.psnr((a + 1) / 2, (b + 1) / 2, data_range=1.0, reduction="none"),
                   quiet=True)
    mse = lambda a, b: (a - b).pow(2).flatten(1).mean(1)  # noqa: E731
    rejected(q, lambda a, b: 10 * torch.log10(1 / mse(a, b)), "range 2")
    rejected(q, lambda a, b: metrics.psnr(a, b, data_range=1.0, reduction="none"), "6.02 dB")
    rejected(q, lambda a, b: 10 * torch.log10(255**2 / mse(a, b)), "peak 255")
    rejected(q, lambda a, b: 10 * torch.log(4 / mse(a, b)), "natural log")
    rejected(q, lambda a, b: 10 * torch.log10(2 / mse(a, b)), "must be squared")
    rejected(q, lambda a, b: 20 * torch.log10(2 / mse(a, b)), "ROOT mean square")
    rejected(q, lambda a, b: 10 * torch.log10(4 / (a - b).pow(2).flatten(1).sum(1)), "not the sum")
    rejected(q, lambda a, b: metrics.psnr(a, b), "one number for the whole batch")


def test_q52b_masked_mse():
    q = ch5a.q52b
    assert q.check(lambda x, y, m: torch.stack([((xi - yi)[mi.bool()] ** 2).mean()
                                                for xi, yi, mi in zip(x, y, m)]), quiet=True)
    assert q.check(lambda x, y, m: torch.where(m > 0, (x - y) ** 2, 0.0).sum((1, 2, 3)) / m.sum((1, 2, 3)),
                   quiet=True)
    rejected(q, lambda x, y, m: ((x - y) ** 2).flatten(1).mean(1), "mask is ignored")
    rejected(q, lambda x, y, m: (m * (x - y) ** 2).flatten(1).mean(1), "divided by all the pixels")
    rejected(q, lambda x, y, m: ((1 - m) * (x - y) ** 2).flatten(1).sum(1) / (1 - m).flatten(1).sum(1),
             "wrong way round")
    rejected(q, lambda x, y, m: (m * (x - y) ** 2).flatten(1).sum(1), "divide it by their number")
    rejected(q, lambda x, y, m: (m * (x - y) ** 2).sum() / m.sum(), "one masked MSE per image")


# --- 5.1 c: the arc against the straight line -------------------------------------------------------

def test_q51c_measures_the_quarter_circle_and_names_the_wrong_ratios():
    assert abs(ch5a.path_length_ratio() - math.pi / (2 * math.sqrt(2))) < 0.01
    assert ch5a.q51c.check(1.1, quiet=True) and ch5a.q51c.check(torch.tensor(1.13), quiet=True)
    rejected(ch5a.q51c, 1.0, "shortest path")
    rejected(ch5a.q51c, math.pi / 2, "QUARTER circle")
    rejected(ch5a.q51c, 1.414, "chord")
    rejected(ch5a.q51c, [1.1, 1.2], "one number")


# --- 5.1 d: a rescaled straight path -----------------------------------------------------------------

def test_q51d_prior_lerp():
    q = ch5a.q51d

    def via_variance(z0, z1, t):  # written differently: the variance, then its root
        var = (1 - t) ** 2 + t**2
        return torch.lerp(z0, z1, t) * var ** -0.5

    assert q.check(via_variance, quiet=True)
    line = lambda a, b, t: (1 - t) * a + t * b  # noqa: E731
    rejected(q, lambda a, b, t: line(a, b, t) / ((1 - t) ** 2 + t**2), "square ROOT")
    rejected(q, line, "plain straight line")
    rejected(q, lambda a, b, t: line(a, b, t) / line(a, b, t).norm(dim=1, keepdim=True), "unit sphere")
    rejected(q, lambda a, b, t: line(a, b, t) / line(a, b, t).norm(dim=1, keepdim=True) * a.shape[1] ** 0.5,
             "norm √d")
    rejected(q, lambda a, b, t: line(a, b, t) / line(a, b, t).norm(dim=1, keepdim=True)
             * ((1 - t) * a.norm(dim=1, keepdim=True) + t * b.norm(dim=1, keepdim=True)), "normalised lerp")
    rejected(q, ch5a._slerp_rows, "this is slerp")


def test_q51d_reference_is_an_exact_prior_sample():
    prior_lerp = _solution(ch5a.q51d)
    gen = torch.Generator().manual_seed(0)
    z0, z1 = torch.randn(200_000, 2, generator=gen), torch.randn(200_000, 2, generator=gen)
    for t in (0.3, 0.5):
        z = prior_lerp(z0, z1, t)
        assert abs(z.var(0) - 1).max() < 0.02 and abs(z.mean(0)).max() < 0.01


# --- 5.2 c: the posterior mean against a posterior sample ---------------------------------------------

def test_q52c_measures_ten_log10_two_and_names_the_wrong_gaps():
    assert abs(ch5a.sample_vs_mean_gap() - 10 * math.log10(2)) < 0.05
    # the gap does not depend on the prior's width or the noise
    assert abs(ch5a.sample_vs_mean_gap(n=64, s=1.0, sigma=0.3) - 10 * math.log10(2)) < 0.05
    q = ch5a.q52c
    for guess in (3.0, 3.01, 2.8, torch.tensor(3.2)):
        verdict = q.check(guess, quiet=True)
        assert verdict and "3.0" in verdict.message, verdict.message
    rejected(q, 0.0, "second, independent")
    rejected(q, 6.02, "not 20 log10 2")
    rejected(q, 1.5, "√2")
    rejected(q, 7.0, "gain over the noisy input")
    rejected(q, 4.0, "posterior sample's gain")
    rejected(q, 2.0, "Within ±0.25")
    rejected(q, [3.0, 3.0], "one number")


# --- 5.2 d: the MMSE denoiser for black-or-white pixels ---------------------------------------------

def test_q52d_accepts_other_correct_forms():
    q = ch5a.q52d

    def via_sigmoid(y, sigma, p):
        return 2 * torch.sigmoid(2 * y / sigma**2 + math.log(p) - math.log(1 - p)) - 1

    def via_softmax(y, sigma, p):  # Bayes' rule over the two values, normalised stably
        log_w = torch.stack([math.log(p) - (y - 1) ** 2 / (2 * sigma**2),
                             math.log(1 - p) - (y + 1) ** 2 / (2 * sigma**2)])
        w = torch.softmax(log_w, dim=0)
        return w[0] - w[1]

    assert q.check(via_sigmoid, quiet=True)
    assert q.check(via_softmax, quiet=True)


def test_q52d_names_the_common_mistakes():
    q = ch5a.q52d
    half = lambda y, s, p: y / s**2 + 0.5 * math.log(p / (1 - p))  # noqa: E731
    rejected(q, lambda y, s, p: torch.sign(half(y, s, p)), "MAP estimate")
    rejected(q, lambda y, s, p: torch.sign(y), "sign(y)")
    rejected(q, lambda y, s, p: y.clamp(-1, 1), "clipped")
    rejected(q, lambda y, s, p: torch.tanh(y / s**2), "prior is missing")
    rejected(q, lambda y, s, p: torch.tanh(y / s + 0.5 * math.log(p / (1 - p))), "σ where σ²")
    rejected(q, lambda y, s, p: torch.tanh(2 * half(y, s, p)), "HALF the log-odds")
    rejected(q, lambda y, s, p: torch.sigmoid(2 * half(y, s, p)), "2 P(white | y) − 1")
    rejected(q, lambda y, s, p: torch.full_like(y, 2 * p - 1), "prior mean")
    rejected(q, lambda y, s, p: (2 * p - 1) + 4 * p * (1 - p) / (4 * p * (1 - p) + s**2) * (y - (2 * p - 1)),
             "Wiener")
    rejected(q, lambda y, s, p: torch.tanh(half(y, s, p)).mean(), "shape")

    def naive(y, s, p):  # right formula, but the exponentials underflow far from both values
        w_white = p * torch.exp(-(y - 1) ** 2 / (2 * s**2))
        w_black = (1 - p) * torch.exp(-(y + 1) ** 2 / (2 * s**2))
        return (w_white - w_black) / (w_white + w_black)

    rejected(q, naive, "right formula", "0/0")


def test_q52d_reference_has_the_lowest_mse():
    """The reference beats the MAP, the clipped and the Wiener estimates in squared error on samples."""
    mmse_binary = _solution(ch5a.q52d)
    gen = torch.Generator().manual_seed(0)
    sigma, p, n = 0.8, 0.3, 200_000
    x = torch.where(torch.rand(n, generator=gen, dtype=torch.float64) < p, 1.0, -1.0)
    y = x + sigma * torch.randn(n, generator=gen, dtype=torch.float64)
    half = y / sigma**2 + 0.5 * math.log(p / (1 - p))
    m, v = 2 * p - 1, 4 * p * (1 - p)
    mse = lambda est: ((est - x) ** 2).mean().item()  # noqa: E731
    best = mse(mmse_binary(y, sigma, p))
    for other in (torch.sign(half), y.clamp(-1, 1), m + v / (v + sigma**2) * (y - m)):
        assert best < mse(other) - 0.01
    # and E[x | y] is the average of x among the samples with y near a given value
    near = (y - 0.3).abs() < 0.02
    assert abs(x[near].mean() - mmse_binary(torch.tensor(0.3, dtype=torch.float64), sigma, p)) < 0.05
