"""The chapter 4 exercises accept the reference solution and reject the common wrong answers by name."""
from __future__ import annotations

import math

import numpy as np
import torch
from scipy import linalg

from aigc_course import metrics
from aigc_course.exercises import ch4
from exercise_helpers import checker_tests, rejected, solution_of

QUESTIONS = [ch4.q42a, ch4.q42b, ch4.q43a, ch4.q44a, ch4.q44b, ch4.q45a, ch4.q45b, ch4.q45c]


def _solution(question):
    return solution_of(question, torch=torch, math=math, np=np)


(test_shown_solution_is_accepted, test_stub_and_crash_give_a_verdict_not_an_exception,
 test_checkers_leave_the_global_rng_alone) = checker_tests(QUESTIONS, _solution, none_phrases=("None", "tensor"))


def test_q42a_transposed_conv_size():
    q = ch4.q42a
    assert q.check(lambda n, k, s, p, op: (n - 1) * s - 2 * p + k + op, quiet=True)
    rejected(q, lambda n, k, s, p, op: (n + 2 * p - k) // s + 1, "ordinary (strided) convolution")
    rejected(q, lambda n, k, s, p, op: (n - 1) * s + 2 * p + k + op, "padding must be subtracted")
    rejected(q, lambda n, k, s, p, op: n * s - 2 * p + k + op, "(n − 1)")
    rejected(q, lambda n, k, s, p, op: (n - 1) * s - 2 * p + k, "output_padding is missing")
    rejected(q, lambda n, k, s, p, op: 2 * n + 1, "off by")


def test_q42b_block_parameters():
    q = ch4.q42b
    assert q.check(lambda i, o, k: i * o * k * k + 2 * o, quiet=True)
    rejected(q, lambda i, o, k: i * o * k * k + 3 * o, "bias")
    rejected(q, lambda i, o, k: i * o * k * k, "scale γ and a shift β")
    rejected(q, lambda i, o, k: i * o * k * k + 4 * o, "buffers")
    rejected(q, lambda i, o, k: (i + o) * k * k + 2 * o, "c_in · c_out · k²")


def test_q43a_wasserstein_estimate():
    q = ch4.q43a
    assert q.check(lambda r, f: r.mean() - f.mean(), quiet=True)
    rejected(q, lambda r, f: f.mean() - r.mean(), "sign flipped")
    rejected(q, lambda r, f: torch.sigmoid(r).mean() - torch.sigmoid(f).mean(), "not probabilities")
    rejected(q, lambda r, f: r.sum() - f.sum(), "not a sum")


def test_q44a_beta_vae_loss():
    q = ch4.q44a
    assert q.check(lambda r, kl, b: (r + b * kl).mean(), quiet=True)
    rejected(q, lambda r, kl, b: (b * r + kl).mean(), "β multiplies the wrong term")
    rejected(q, lambda r, kl, b: (r - b * kl).mean(), "ADDED")
    rejected(q, lambda r, kl, b: (r + kl).mean(), "β is missing")
    rejected(q, lambda r, kl, b: (r + b * kl).sum(), "do not sum")


def test_q44b_active_units():
    q = ch4.q44b
    assert q.check(lambda mu, t: int((mu.var(dim=0) > t).sum()), quiet=True)
    rejected(q, lambda mu, t: int((mu.var(dim=1) > t).sum()), "over the data")
    rejected(q, lambda mu, t: int((mu.std(dim=0) > t).sum()), "not the standard deviation")
    rejected(q, lambda mu, t: int((mu.mean(dim=0).abs() > t).sum()), "VARIES")
    # a hard-coded threshold passed when the checker tried only threshold=0.01
    rejected(q, lambda mu, t: int((mu.var(dim=0) > 0.01).sum()), "`threshold` argument")
    rejected(q, lambda mu, t=0.01: 3, "threshold")


def test_q45a_frechet_distance():
    q = ch4.q45a

    def without_cross(m1, s1, m2, s2):
        return (m1 - m2) @ (m1 - m2) + np.trace(s1 + s2)

    def elementwise(m1, s1, m2, s2):
        return (m1 - m2) @ (m1 - m2) + np.trace(s1 + s2 - 2 * np.sqrt(s1 @ s2))

    def product_of_roots(m1, s1, m2, s2):
        return (m1 - m2) @ (m1 - m2) + np.trace(s1 + s2 - 2 * linalg.sqrtm(s1).real @ linalg.sqrtm(s2).real)

    def symmetric_form(m1, s1, m2, s2):  # tr((S1 S2)^1/2) = tr((S1^1/2 S2 S1^1/2)^1/2): also right
        r1 = linalg.sqrtm(s1).real
        return (m1 - m2) @ (m1 - m2) + np.trace(s1 + s2 - 2 * linalg.sqrtm(r1 @ s2 @ r1).real)

    assert q.check(symmetric_form, quiet=True)
    rejected(q, without_cross, "cross term")
    rejected(q, elementwise, "ELEMENT-WISE")
    rejected(q, product_of_roots, "commute")
    rejected(q, lambda m1, s1, m2, s2: np.linalg.norm(m1 - m2) + np.trace(s1 + s2 - 2 * linalg.sqrtm(s1 @ s2).real),
              "SQUARED")


def test_q45b_precision():
    q = ch4.q45b

    def right(real, fake, k):
        radii = torch.cdist(real, real).kthvalue(k + 1, dim=1).values
        return (torch.cdist(fake, real) <= radii).any(dim=1).float().mean()

    def with_a_loop(real, fake, k):  # another correct form: one fake at a time, numpy
        real, fake = real.numpy(), fake.numpy()
        d = np.linalg.norm(real[:, None] - real[None], axis=2)
        radii = np.sort(d, axis=1)[:, k]
        return float(np.mean([np.any(np.linalg.norm(real - f, axis=1) <= radii) for f in fake]))

    assert q.check(right, quiet=True)
    assert q.check(with_a_loop, quiet=True)
    assert q.check(lambda r, f, k: metrics.precision_recall(r, f, k).precision, quiet=True)
    rejected(q, lambda r, f, k: (torch.cdist(f, r) <= torch.cdist(r, r).kthvalue(k, 1).values).any(1).float().mean(),
             "OTHER")
    rejected(q, lambda r, f, k: metrics.precision_recall(r, f, k).recall, "RECALL")
    rejected(q, lambda r, f, k: (torch.cdist(f, r) <= torch.cdist(r, r).kthvalue(k + 1, 1).values.mean())
             .any(1).float().mean(), "own radius")

    def nearest_only(real, fake, k):
        radii = torch.cdist(real, real).kthvalue(k + 1, dim=1).values
        d, i = torch.cdist(fake, real).min(dim=1)
        return (d <= radii[i]).float().mean()

    rejected(q, nearest_only, "NEAREST")


def test_q45c_fid_at_infinity():
    q = ch4.q45c

    def lstsq(ns, fids):
        ns = np.asarray(ns, dtype=float)
        return np.linalg.lstsq(np.stack([np.ones_like(ns), 1 / ns], 1), fids, rcond=None)[0][0]

    assert q.check(lstsq, quiet=True)
    assert q.check(lambda ns, f: np.polyfit(1 / np.asarray(ns, float), f, 1)[1], quiet=True)
    rejected(q, lambda ns, f: f[-1], "largest n")
    rejected(q, lambda ns, f: np.polyfit(ns, f, 1)[1], "not linearly in n")
    rejected(q, lambda ns, f: np.mean(f), "mean of the FIDs")
    rejected(q, lambda ns, f: np.polyfit(1 / np.asarray(ns, float), f, 1)[0], "slope")
    rejected(q, lambda ns, f: 0.0, "intercept")
    # two points only (the two largest n): not the least-squares fit of all of them
    rejected(q, lambda ns, f: (f[-1] * ns[-1] - f[-2] * ns[-2]) / (ns[-1] - ns[-2]))


def test_q45c_fit_recovers_a_known_intercept():
    from aigc_course.exercises.ch4 import _fit_infinity

    ns = np.array([100, 400, 1600])
    assert abs(_fit_infinity(ns, 2.5 + 300 / ns) - 2.5) < 1e-9


def test_q46a_mfu_accepts_reference_and_names_wrong_answers():
    from aigc_course.exercises import ch4

    assert ch4.q46a.check(lambda f, r, p: f * r / p, quiet=True)
    for wrong, words in [(lambda f, r, p: 100 * f * r / p, "percentage"), (lambda f, r, p: p / (f * r), "upside down"),
                         (lambda f, r, p: f / p, "images per second")]:
        verdict = ch4.q46a.check(wrong, quiet=True)
        assert not verdict and words in verdict.message


def test_q46b_batches_per_rank_matches_tensorloader_and_names_wrong_answers():
    import math

    from aigc_course.exercises import ch4

    assert ch4.q46b.check(lambda n, b, w: (n // w) // b, quiet=True)
    for wrong, words in [(lambda n, b, w: n // b, "sharding"), (lambda n, b, w: math.ceil(n / w / b), "round down"),
                         (lambda n, b, w: n / w / b, "whole number")]:
        verdict = ch4.q46b.check(wrong, quiet=True)
        assert not verdict and words in verdict.message
