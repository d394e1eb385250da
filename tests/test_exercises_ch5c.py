"""The 5.4 and 5.6 exercises accept the reference solution and reject the common wrong answers by name."""
from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import torch

from aigc_course.exercises import ch5c
from exercise_helpers import checker_tests, rejected, solution_of

QUESTIONS = [ch5c.q54a, ch5c.q54b, ch5c.q54c, ch5c.q54d, ch5c.q56a, ch5c.q56b, ch5c.q56c, ch5c.q56d,
             ch5c.q56e]


def _solution(question):
    return solution_of(question, torch=torch, math=math)


(test_shown_solution_is_accepted, test_stub_and_crash_give_a_verdict_not_an_exception,
 test_checkers_leave_the_global_rng_alone) = checker_tests(QUESTIONS, _solution,
                                                             numeric=[ch5c.q54c, ch5c.q56d])


def test_q54a_standard_error():
    q = ch5c.q54a
    assert q.check(lambda acc: torch.sqrt(acc.var(dim=0) / acc.shape[0]), quiet=True)
    assert q.check(lambda acc: np.std(acc.numpy(), axis=0, ddof=1) / np.sqrt(len(acc)), quiet=True)
    rejected(q, lambda acc: acc.std(dim=0), "standard DEVIATION")
    rejected(q, lambda acc: torch.tensor(np.std(acc.numpy(), axis=0)) / math.sqrt(len(acc)),
             "population formula")
    rejected(q, lambda acc: acc.std(dim=0) / acc.shape[0], "not by S")
    rejected(q, lambda acc: acc.var(dim=0) / math.sqrt(acc.shape[0]), "square root")
    rejected(q, lambda acc: acc.std(dim=1) / math.sqrt(acc.shape[1]), "dim 1")
    rejected(q, lambda acc: 1.96 * acc.std(dim=0) / math.sqrt(acc.shape[0]), "off by")


def test_q54b_paired_difference():
    q = ch5c.q54b

    def as_tensor_pair(a, b):  # an equivalent form: one tensor of two numbers, numpy inside
        d = (a - b).numpy()
        return torch.tensor([d.mean(), d.std(ddof=1) / np.sqrt(len(d))])

    assert q.check(as_tensor_pair, quiet=True)

    def unpaired(a, b):
        n = len(a)
        return (a - b).mean(), torch.sqrt(a.var() / n + b.var() / n)

    rejected(q, unpaired, "independent")
    rejected(q, lambda a, b: ((a - b).mean(), (a - b).std()), "standard DEVIATION")
    rejected(q, lambda a, b: ((b - a).mean(), (b - a).std() / math.sqrt(len(a))), "sign is reversed")
    rejected(q, lambda a, b: ((a - b).mean(), (a - b).std(unbiased=False) / math.sqrt(len(a))),
             "ddof=0")
    rejected(q, lambda a, b: ((a - b).mean(), (a - b).std() / math.sqrt(len(a)), 0.0), "two numbers")
    rejected(q, lambda a, b: (a.mean() - b.mean() + 0.01, (a - b).std() / math.sqrt(len(a))),
             "off by")


def _z(residual, key):
    s = torch.sign(residual).flatten(1)
    return (s @ key.flatten()) / (s != 0).sum(1).sqrt()


def test_q56a_watermark_detect():
    q = ch5c.q56a

    def by_counting(residual, key, alpha):  # equivalent: agreements A of n signs, z = (2A - n)/√n
        s = torch.sign(residual).flatten(1)
        n = (s != 0).sum(1)
        agree = (s == key.flatten()).sum(1)
        z = (2 * agree - n) / n.sqrt()
        t = torch.distributions.Normal(0.0, 1.0).icdf(torch.tensor(1 - alpha, dtype=torch.float64))
        return (z > t).numpy()

    assert q.check(by_counting, quiet=True)
    inv = NormalDist().inv_cdf
    rejected(q, lambda r, k, a: _z(r, k) < inv(a), "wrong tail")
    rejected(q, lambda r, k, a: _z(r, k).abs() > inv(1 - a), "two-sided")
    rejected(q, lambda r, k, a: _z(r, k) > inv(1 - a / 2), "Φ⁻¹(1 − α/2)")
    rejected(q, lambda r, k, a: _z(r, k) > a, "compared with α")
    rejected(q, lambda r, k, a: torch.sign(r).flatten(1) @ k.flatten() / math.sqrt(k.numel()) > inv(1 - a),
             "NONZERO")
    rejected(q, lambda r, k, a: (r.flatten(1) @ k.flatten()) / r.flatten(1).norm(dim=1) > inv(1 - a),
             "linear correlation")
    rejected(q, lambda r, k, a: _z(r, k) > 1.2, "off by")


def test_q56b_green_list_z():
    q = ch5c.q56b
    assert q.check(lambda n, T, g: (n / T - g) / torch.sqrt(g * (1 - g) / T), quiet=True)
    rejected(q, lambda n, T, g: (n - g * T) / (T * g * (1 - g)), "square root is missing")
    rejected(q, lambda n, T, g: (n - g * T) / torch.sqrt(T * g), "not T γ")
    rejected(q, lambda n, T, g: (n / T - g) / math.sqrt(g * (1 - g)), "√T is missing")
    rejected(q, lambda n, T, g: (n - 0.5 * T) / torch.sqrt(T * g * (1 - g)), "not T/2")
    rejected(q, lambda n, T, g: (n - g * T) / torch.sqrt(T * 0.2), "off by")


def test_q56c_detector_accuracy():
    q = ch5c.q56c

    def pooled_per_class(predict, splits):  # equivalent: mean of the two per-class accuracies
        right = [(predict(splits["test_real"]) == 0).double().mean(),
                 (predict(splits["test_fake"]) == 1).double().mean()]
        return float(np.mean([r.item() for r in right]))

    assert q.check(pooled_per_class, quiet=True)

    def balanced(real, fake):
        def fn(predict, splits):
            return ((~predict(splits[real])).float().mean() + predict(splits[fake]).float().mean()) / 2
        return fn

    rejected(q, balanced("train_real", "train_fake"), "TRAINING images")

    def pooled(predict, splits):
        right = torch.cat([~predict(splits["test_real"]), predict(splits["test_fake"])])
        return right.float().mean()

    rejected(q, pooled, "pools the test images")

    def swapped(predict, splits):
        return (predict(splits["test_real"]).float().mean()
                + (~predict(splits["test_fake"])).float().mean()) / 2

    rejected(q, swapped, "swapped")
    rejected(q, lambda predict, splits: predict(splits["test_fake"]).float().mean(), "only the detection")

    def everything(predict, splits):
        real = torch.cat([splits["train_real"], splits["test_real"]])
        fake = torch.cat([splits["train_fake"], splits["test_fake"]])
        return ((~predict(real)).float().mean() + predict(fake).float().mean()) / 2

    rejected(q, everything, "training ones included")


# --- 5.4 c: a false "resolved" with three seeds -------------------------------------------------------

def test_q54c_simulation_matches_student_t():
    from scipy import stats

    assert abs(ch5c.false_resolved_rate() - 2 * stats.t.sf(2.0, 2)) < 0.005
    assert abs(ch5c.false_resolved_rate(seeds=5) - 2 * stats.t.sf(2.0, 4)) < 0.005
    assert ch5c.q54c.check(0.2, quiet=True)
    rejected(ch5c.q54c, 0.0455, "normal distribution")
    rejected(ch5c.q54c, 0.116, "5 seeds")
    rejected(ch5c.q54c, 0.5, "0.1836")


# --- 5.4 d: a paired confidence interval -----------------------------------------------------------------

def test_q54d_paired_interval():
    from scipy import stats

    q = ch5c.q54d

    def with_scipy(acc_method, acc_base, level):  # scipy's own t interval of the differences
        d = (acc_method - acc_base).numpy()
        lo, hi = stats.t.interval(level, len(d) - 1, loc=d.mean(), scale=stats.sem(d))
        return torch.tensor([lo, hi])

    assert q.check(with_scipy, quiet=True)

    def interval(quantile, spread="se", sign=1):
        def fn(a, b, level):
            d = sign * (a - b)
            S = len(d)
            half = quantile(level, S) * (d.std() / math.sqrt(S) if spread == "se" else d.std())
            return d.mean() - half, d.mean() + half
        return fn

    two_sided = lambda level, S: stats.t.ppf((1 + level) / 2, S - 1)  # noqa: E731
    rejected(q, interval(lambda level, S: NormalDist().inv_cdf((1 + level) / 2)), "normal quantile")
    rejected(q, interval(lambda level, S: stats.t.ppf((1 + level) / 2, S)), "not S")
    rejected(q, interval(lambda level, S: stats.t.ppf(level, S - 1)), "one-sided")
    rejected(q, interval(two_sided, spread="sd"), "DEVIATION")
    rejected(q, interval(two_sided, sign=-1), "sign is reversed")
    rejected(q, interval(lambda level, S: 2.0), "two-standard-error")

    def unpaired(a, b, level):
        S = len(a)
        half = two_sided(level, S) * math.sqrt(a.var() / S + b.var() / S)
        return (a - b).mean() - half, (a - b).mean() + half

    rejected(q, unpaired, "paired by seed")


# --- 5.6 d: nine shifted tests at the single-test threshold -------------------------------------------

def test_q56d_search_false_positives():
    fpr = ch5c.search_false_positives()
    assert 0.03 < fpr < 0.12                         # of the order of 9 alpha, far above alpha
    assert ch5c.q56d.check(0.09, quiet=True) and ch5c.q56d.check(9 * 0.01, quiet=True)
    rejected(ch5c.q56d, 0.01, "ANY")
    rejected(ch5c.q56d, 0.01 / 9, "ANY", "whole search")


# --- 5.6 e: the sparse key's z-test -----------------------------------------------------------------------

def test_q56e_sparse_z():
    q = ch5c.q56e

    def with_mask(residual, key):  # written differently: count the voters with a boolean mask
        s = torch.sign(residual).flatten(1)
        k = key.flatten()
        votes = s * k
        return votes.sum(1) / ((s != 0) & (k != 0)).sum(1).clamp_min(1).double().sqrt()

    assert q.check(with_mask, quiet=True)
    sign = lambda r: torch.sign(r).flatten(1)  # noqa: E731
    rejected(q, lambda r, k: (sign(r) @ k.flatten()) / (sign(r) != 0).sum(1).clamp_min(1).sqrt(), "broken")
    rejected(q, lambda r, k: (sign(r) @ k.flatten()) / (k != 0).sum().sqrt(), "marked pixels")
    rejected(q, lambda r, k: (sign(r) @ k.flatten()) / math.sqrt(k.numel()), "√D")
    rejected(q, lambda r, k: (sign(r) @ k.flatten()) / (sign(r).abs() @ k.flatten().abs()), "STANDARD")


def test_q56e_reference_is_standard_normal_under_the_null():
    z_sparse = _solution(ch5c.q56e)
    gen = torch.Generator().manual_seed(0)
    residual = torch.randn(4000, 16, 16, generator=gen, dtype=torch.float64)
    residual[torch.rand(4000, 16, 16, generator=gen, dtype=torch.float64) < 0.4] = 0
    key = (torch.randint(0, 2, (16, 16), generator=gen) * 2 - 1).double()
    key[torch.rand(16, 16, generator=gen) < 0.8] = 0
    z = z_sparse(residual, key)
    assert abs(z.mean()) < 0.05 and abs(z.std() - 1) < 0.05
