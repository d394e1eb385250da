"""The chapter 5 (second half) exercises accept the reference solution and equivalent forms, and reject
the common wrong answers by name."""
from __future__ import annotations

import math

import numpy as np
import torch
from scipy import stats
from sklearn import metrics as skm

from aigc_course import metrics
from aigc_course.exercises import ch5b
from exercise_helpers import checker_tests, rejected, solution_of

QUESTIONS = [ch5b.q53a, ch5b.q53b, ch5b.q53c, ch5b.q53d, ch5b.q55a, ch5b.q55b, ch5b.q55c, ch5b.q55d]


def _solution(question):
    return solution_of(question, torch=torch, math=math)


(test_shown_solution_is_accepted, test_stub_and_crash_give_a_verdict_not_an_exception,
 test_checkers_leave_the_global_rng_alone) = checker_tests(QUESTIONS, _solution,
                                                             numeric=[ch5b.q53c, ch5b.q55c])


def test_q53a_roc_auc():
    q = ch5b.q53a
    assert q.check(lambda s, y: skm.roc_auc_score(y.numpy(), s.numpy()), quiet=True)

    def by_ranks(s, y):  # Mann-Whitney with average ranks for ties
        r = torch.from_numpy(stats.rankdata(s.numpy()))
        n_pos, n_neg = int(y.sum()), int((1 - y).sum())
        return (r[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)

    def by_trapezoid(s, y):  # area under sklearn's ROC curve
        fpr, tpr, _ = skm.roc_curve(y.numpy(), s.numpy())
        return np.trapezoid(tpr, fpr)

    assert q.check(by_ranks, quiet=True)
    assert q.check(by_trapezoid, quiet=True)
    assert q.check(lambda s, y: torch.tensor(skm.roc_auc_score(y, s)), quiet=True)

    def pairs(y_pos=1, tie=0.5):
        def fn(s, y):
            pos, neg = s[y == y_pos], s[y != y_pos]
            return ((pos[:, None] > neg[None, :]).double().mean()
                    + tie * (pos[:, None] == neg[None, :]).double().mean())
        return fn

    rejected(q, pairs(y_pos=0), "1 − AUC", "wrong way round")
    rejected(q, lambda s, y: skm.roc_auc_score(1 - y.numpy(), s.numpy()), "wrong way round")
    rejected(q, pairs(tie=0.0), "ties are not counted")
    rejected(q, pairs(tie=1.0), "ties count as wins")

    def no_correction(s, y):
        r = torch.from_numpy(stats.rankdata(s.numpy()))
        return r[y == 1].sum() / (int(y.sum()) * int((1 - y).sum()))

    rejected(q, no_correction, "n₊(n₊ + 1)/2")

    def ordinal_ranks(s, y):
        r = torch.from_numpy(stats.rankdata(s.numpy(), method="ordinal"))
        n_pos, n_neg = int(y.sum()), int((1 - y).sum())
        return (r[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)

    rejected(q, ordinal_ranks, "AVERAGE rank")
    rejected(q, lambda s, y: ((s > s.median()).long() == y).double().mean(), "off by")


def test_q53b_sensitivity_at_specificity():
    q = ch5b.q53b

    def with_numpy(s, y, spec):
        return float(np.mean(s[y == 1].numpy() > np.quantile(s[y == 0].numpy(), spec)))

    def with_order_statistic(s, y, spec):  # the smallest normal score with spec of them at or below
        normal = s[y == 0].sort().values
        t = normal[math.ceil(spec * len(normal)) - 1]
        return (s[y == 1] > t).double().mean()

    assert q.check(with_numpy, quiet=True)
    assert q.check(with_order_statistic, quiet=True)

    def thresholded(quantile_of, spec_of=lambda p: p, flag=lambda s, t: s > t, share=torch.mean):
        def fn(s, y, spec):
            t = torch.quantile(quantile_of(s, y).double(), spec_of(spec))
            return share(flag(s[y == 1], t).double())
        return fn

    rejected(q, thresholded(lambda s, y: s[y == 1]), "NORMAL images", "abnormal ones")
    rejected(q, thresholded(lambda s, y: s), "not from all images")
    rejected(q, thresholded(lambda s, y: s[y == 0], spec_of=lambda p: 1 - p), "(1 − specificity)")
    rejected(q, thresholded(lambda s, y: s[y == 0], flag=lambda s, t: s <= t), "direction is flipped")
    rejected(q, thresholded(lambda s, y: s[y == 0], share=torch.sum), "not their number")

    def false_positive_rate(s, y, spec):
        return (s[y == 0] > torch.quantile(s[y == 0], spec)).double().mean()

    rejected(q, false_positive_rate, "false-positive rate")
    rejected(q, lambda s, y, spec: thresholded(lambda s, y: s[y == 0])(s, y, 0.95), "specificity 0.8")


def test_q55a_entropy_bits():
    q = ch5b.q55a

    def with_scipy(symbols):
        _, counts = np.unique(symbols.numpy(), return_counts=True)
        return stats.entropy(counts, base=2)

    def in_nats_converted(symbols):
        _, counts = torch.unique(symbols, return_counts=True)
        p = counts / counts.sum()
        return -(p * p.log()).sum() / math.log(2)

    assert q.check(with_scipy, quiet=True)
    assert q.check(in_nats_converted, quiet=True)

    def entropy(log=torch.log2, weighted=True, scale=lambda h, n: h):
        def fn(symbols):
            _, counts = torch.unique(symbols, return_counts=True)
            p = counts.double() / len(symbols)
            return scale(-((p if weighted else 1) * log(p)).sum(), len(symbols))
        return fn

    rejected(q, entropy(log=torch.log), "NATS")
    rejected(q, entropy(log=torch.log10), "log₁₀")
    rejected(q, entropy(scale=lambda h, n: h * n), "whole stream")
    rejected(q, entropy(weighted=False), "weighted")
    rejected(q, lambda s: math.log2(len(torch.unique(s))), "UNIFORM")

    def with_zero_bins(symbols):  # a histogram over a fixed range keeps empty bins: 0 log 0 = nan
        counts = torch.histc(symbols.double(), bins=40, min=-20, max=20)
        p = counts / counts.sum()
        return -(p * torch.log2(p)).sum()

    rejected(q, with_zero_bins, "0 · log 0")
    rejected(q, lambda s: torch.bincount(s).double().mean(), "raised")


def test_q55b_psnr_uint8():
    q = ch5b.q55b
    assert q.check(lambda a, b: metrics.psnr(a, b, data_range=2.0, reduction="none"), quiet=True)
    assert q.check(lambda a, b: 20 * torch.log10(255 / (a.float() - b.float()).pow(2)
                                                 .flatten(1).mean(1).sqrt()), quiet=True)

    def psnr(peak=255.0, square=True, log=torch.log10, factor=10, to_float=True, per_image=True):
        def fn(a, b):
            if to_float:
                a, b = a.double(), b.double()
            mse = ((a - b) ** 2).double().flatten(1).mean(1)
            if not per_image:
                mse = mse.mean().expand(len(a))
            return factor * log((peak**2 if square else peak) / mse)
        return fn

    rejected(q, psnr(peak=1.0), "[0, 1]")
    rejected(q, psnr(peak=2.0), "[−1, 1]")
    rejected(q, psnr(square=False), "must be squared")
    rejected(q, psnr(factor=20), "20·log₁₀")
    rejected(q, psnr(log=torch.log), "natural log")
    rejected(q, psnr(to_float=False), "uint8")
    rejected(q, lambda a, b: 10 * torch.log10(255**2 / ((a - b).double() ** 2).flatten(1).mean(1)),
             "wraps around")
    rejected(q, psnr(per_image=False), "not over the batch")
    rejected(q, lambda a, b: metrics.psnr(a, b, data_range=2.0), "shape")


# --- 5.3 c: the noise floor of a grey square -----------------------------------------------------------

def test_q53c_floor_is_784_fair_coins_in_nats():
    assert abs(ch5b.grey_floor() - 784 * math.log(2)) < 5
    assert ch5b.q53c.check(784 * math.log(2), quiet=True)
    rejected(ch5b.q53c, 784, "BITS")
    rejected(ch5b.q53c, 0, "coin flips")
    rejected(ch5b.q53c, 392, "log 2")


# --- 5.3 d: the two-sided ink count -------------------------------------------------------------------

def test_q53d_two_sided_ink():
    q = ch5b.q53d

    def with_numpy(lit, normal_lit):  # another way to the same scores
        return torch.from_numpy(np.abs(lit.numpy() - np.median(normal_lit.numpy())))

    verdict = q.check(with_numpy, quiet=True)
    assert verdict and "bags" in verdict.message
    rejected(q, lambda lit, ref: -lit, "one-sided")
    rejected(q, lambda lit, ref: lit - ref.median(), "sign is missing")
    rejected(q, lambda lit, ref: -(lit - ref.median()).abs(), "flipped")
    rejected(q, lambda lit, ref: (lit - ref.mean()).abs(), "MEDIAN")
    rejected(q, lambda lit, ref: (lit - lit.median()).abs(), "NORMAL images")


def test_q53d_experiment_agrees_with_scikit_learn_and_its_conclusion_holds():
    aucs = ch5b.ink_aucs()
    assert abs(aucs["Bag"]["two"] - 0.5) < 0.1                           # the bags: about chance
    assert aucs["Sandal"]["two"] < aucs["Sandal"]["one"] - 0.1            # the sandals: worse
    assert abs(aucs["Sandal"]["one"] + aucs["Sandal"]["more"] - 1) < 1e-9
    s = torch.tensor([0.1, 0.4, 0.35, 0.8, 0.4], dtype=torch.float64)
    y = torch.tensor([0, 0, 1, 1, 1])
    assert abs(ch5b._auc(s, y) - skm.roc_auc_score(y.numpy(), s.numpy())) < 1e-12


# --- 5.5 c: the entropy of a quantised Gaussian ---------------------------------------------------------

def test_q55c_entropy_of_a_quantised_gaussian():
    k = torch.arange(-100, 101, dtype=torch.float64)
    p = stats.norm.cdf((k.numpy() + 0.5) * 0.25) - stats.norm.cdf((k.numpy() - 0.5) * 0.25)
    exact = stats.entropy(p[p > 0], base=2)
    assert abs(ch5b.quantised_gaussian_entropy() - exact) < 0.02
    assert ch5b.q55c.check(4.0, quiet=True)
    rejected(ch5b.q55c, 2, "resolution term", "sum")
    rejected(ch5b.q55c, 2.05, "differential entropy")
    rejected(ch5b.q55c, 2.8, "nats")
    rejected(ch5b.q55c, 5.36, "uniform code")


# --- 5.5 d: the codec's bit count --------------------------------------------------------------------------

def _counts(train_symbols, M, plus=1.0):
    return torch.full((2 * M + 1,), plus, dtype=torch.float64).scatter_add_(
        0, train_symbols + M, torch.ones(len(train_symbols), dtype=torch.float64))


def test_q55d_code_length():
    q = ch5b.q55d

    def with_bincount(message, train_symbols, M):  # written differently
        counts = torch.bincount(train_symbols + M, minlength=2 * M + 1).double() + 1
        return sum(-math.log2(counts[s + M].item() / counts.sum().item()) for s in message)

    assert q.check(with_bincount, quiet=True)

    def broken(message, train_symbols, M):  # the page's snippet
        counts = torch.zeros(2 * M + 1).scatter_add_(0, train_symbols + M, torch.ones(len(train_symbols)))
        p = counts / counts.sum()
        return -torch.log(p[message + M]).sum()

    rejected(q, broken, "both bugs")
    rejected(q, lambda m, t, M: -torch.log2((_counts(t, M, 0) / len(t))[m + M]).sum(), "probability 0")
    rejected(q, lambda m, t, M: -torch.log((_counts(t, M) / _counts(t, M).sum())[m + M]).sum(), "NATS")
    rejected(q, lambda m, t, M: -torch.log2(((_counts(t, M, 0) / len(t)) + 1)[m + M]
                                             / ((_counts(t, M, 0) / len(t)) + 1).sum()).sum(), "BEFORE")
    rejected(q, lambda m, t, M: -torch.log2((_counts(m, M) / _counts(m, M).sum())[m + M]).sum(), "TRAINING")
    rejected(q, lambda m, t, M: -torch.log2((_counts(t, M) / _counts(t, M).sum())[m]).sum(), "s + M")
