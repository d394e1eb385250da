"""The 5.4 and 5.6 exercises accept the reference solution and reject the common wrong answers by name."""
from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import torch

from aigc_course.exercises import ch5c
from exercise_helpers import checker_tests, rejected, solution_of

QUESTIONS = [ch5c.q54a, ch5c.q54b, ch5c.q56a, ch5c.q56b, ch5c.q56c]


def _solution(question):
    return solution_of(question, torch=torch, math=math)


(test_shown_solution_is_accepted, test_stub_and_crash_give_a_verdict_not_an_exception,
 test_checkers_leave_the_global_rng_alone) = checker_tests(QUESTIONS, _solution)


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
