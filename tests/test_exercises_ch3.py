"""The chapter 3 exercises accept the reference solution and reject the common wrong answers by name."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from aigc_course import losses
from aigc_course.exercises import ch3
from exercise_helpers import checker_tests, rejected, solution_of

QUESTIONS = [ch3.q31a, ch3.q31b, ch3.q32a, ch3.q32b, ch3.q33a, ch3.q33b, ch3.q34a, ch3.q34b]


def _solution(question):
    return solution_of(question, torch=torch, math=math)


(test_shown_solution_is_accepted, test_stub_and_crash_give_a_verdict_not_an_exception,
 test_checkers_leave_the_global_rng_alone) = checker_tests(QUESTIONS, _solution)


def test_q31a_elbo_estimate():
    q = ch3.q31a
    assert q.check(lambda a, b, c: (a + b - c).mean(0), quiet=True)
    assert q.check(lambda a, b, c: a.mean(0) + b.mean(0) - c.mean(0), quiet=True)
    rejected(q, lambda a, b, c: (a + b + c).mean(0), "sign error")
    rejected(q, lambda a, b, c: (a - c).mean(0), "log p(z) is missing")
    rejected(q, lambda a, b, c: (a + b - c).mean(1), "dim 1")
    rejected(q, lambda a, b, c: (a + b - c).sum(0), "do not sum")
    rejected(q, lambda a, b, c: torch.logsumexp(a + b - c, 0) - math.log(a.shape[0]), "importance-weighted")
    rejected(q, lambda a, b, c: (a + b - c).mean(0) + 0.1, "off by")


def test_q31b_linear_gaussian_marginal():
    q = ch3.q31b

    def marginal(cov_fn, mean_fn=lambda b: b):
        def fn(x, W, b, sigma):
            cov = cov_fn(W, sigma, torch.eye(len(b), dtype=x.dtype))
            return torch.distributions.MultivariateNormal(mean_fn(b), covariance_matrix=cov).log_prob(x)
        return fn

    def by_hand(x, W, b, sigma):  # an equivalent form: Cholesky and the Mahalanobis distance
        cov = W @ W.T + sigma**2 * torch.eye(len(b), dtype=x.dtype)
        L = torch.linalg.cholesky(cov)
        r = torch.linalg.solve_triangular(L, (x - b).T, upper=False)  # (D, N)
        return -0.5 * (r**2).sum(0) - L.diagonal().log().sum() - 0.5 * len(b) * math.log(2 * math.pi)

    assert q.check(by_hand, quiet=True)
    rejected(q, marginal(lambda W, s, I: s**2 * I), "left out W Wᵀ")
    rejected(q, marginal(lambda W, s, I: W @ W.T + s * I), "STANDARD DEVIATION")
    rejected(q, marginal(lambda W, s, I: W @ W.T + s**2 * I, torch.zeros_like), "not 0")
    rejected(q, marginal(lambda W, s, I: W @ W.T + I), "not 1")
    rejected(q, marginal(lambda W, s, I: W @ W.T + 2 * s**2 * I), "off by")


def test_q32a_reparameterise():
    q = ch3.q32a
    assert q.check(lambda m, lv, e: m + torch.sqrt(torch.exp(lv)) * e, quiet=True)
    rejected(q, lambda m, lv, e: m + torch.exp(lv) * e, "VARIANCE")
    rejected(q, lambda m, lv, e: m + lv * e, "not σ")
    rejected(q, lambda m, lv, e: m + torch.exp(-0.5 * lv) * e, "1/σ")
    rejected(q, lambda m, lv, e: m.clone(), "noise is missing")
    rejected(q, lambda m, lv, e: (m + torch.exp(0.5 * lv) * e).detach(), "differentiably")
    rejected(q, lambda m, lv, e: m + torch.exp(0.5 * lv.detach()) * e, "no gradient")


def test_q32b_score_function_with_baseline():
    q = ch3.q32b

    def scaled_mean_baseline(f, z, mu, sigma):  # equivalent: n/(n-1) * mean((f - f̄) s)
        n = len(z)
        return n / (n - 1) * ((f - f.mean()) * (z - mu) / sigma**2).mean()

    assert q.check(scaled_mean_baseline, quiet=True)
    rejected(q, lambda f, z, mu, s: (f * (z - mu) / s**2).mean(), "without the baseline")
    rejected(q, lambda f, z, mu, s: ((f - f.mean()) * (z - mu) / s**2).mean(), "includes sample i")

    def loo(f):
        return (f.sum() - f) / (len(f) - 1)

    rejected(q, lambda f, z, mu, s: ((f - loo(f)) * (z - mu) / s).mean(), "not (z − μ)/σ.")
    rejected(q, lambda f, z, mu, s: ((f - loo(f)) * (mu - z) / s**2).mean(), "sign error")
    rejected(q, lambda f, z, mu, s: ((f - loo(f)) * (z - mu) / s**2).sum(), "not sum")


def test_q33a_gaussian_kl():
    q = ch3.q33a
    assert q.check(losses.gaussian_kl, quiet=True)

    def with_distributions(mu, logvar):
        qz = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
        pz = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
        return torch.distributions.kl_divergence(qz, pz).sum(1)

    assert q.check(with_distributions, quiet=True)
    rejected(q, lambda m, lv: (m**2 + lv.exp() - 1 - lv).sum(1), "1/2 is missing")
    rejected(q, lambda m, lv: 0.5 * (m**2 + lv.exp() - 1 + lv).sum(1), "sign error on log σ²")
    rejected(q, lambda m, lv: 0.5 * (m**2 + lv - 1 - lv.log()).sum(1), "as if it were the variance")
    rejected(q, lambda m, lv: 0.5 * (m**2 + lv**2 - 1 - (lv**2).log()).sum(1), "standard deviation")
    rejected(q, lambda m, lv: 0.5 * (m**2 + lv.exp() - lv).sum(1), "−1 per dimension")
    rejected(q, lambda m, lv: 0.5 * (lv + (1 + m**2) / lv.exp() - 1).sum(1), "reverse direction")
    rejected(q, lambda m, lv: 0.5 * (m**2 + lv.exp() - 1 - lv).mean(1), "SUM over the latent")
    rejected(q, lambda m, lv: 0.5 * (m**2 + lv.exp() - 1 - lv).sum(), "shape")

    def only_for_positive_logvar(m, lv):  # right for logvar > 0, wrong below
        return 0.5 * (m**2 + lv.exp() - 1 - lv.abs()).sum(1)

    rejected(q, only_for_positive_logvar, "negative logvar")


def test_q33b_negative_elbo():
    q = ch3.q33b

    def neg_elbo(recon_reduce=lambda r: r.sum(1), kl_sign=1.0, kl_fn=losses.gaussian_kl):
        def fn(x, logits, mu, logvar):
            recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1)
            return recon_reduce(recon) + kl_sign * kl_fn(mu, logvar)
        return fn

    assert q.check(lambda x, l, m, lv: -losses.elbo(losses.bernoulli_log_likelihood(l, x),
                                                    losses.gaussian_kl(m, lv), 1.0), quiet=True)
    rejected(q, neg_elbo(kl_sign=-1.0), "sign error in the ELBO")
    rejected(q, neg_elbo(recon_reduce=lambda r: r.mean(1)), "SUM over the pixels")
    rejected(q, neg_elbo(kl_sign=0.0), "KL term is missing")
    rejected(q, neg_elbo(kl_sign=2.0), "1/2 is missing")

    def kl_with_x(x, logits, mu, logvar):  # errata E87: x² where μ² belongs
        recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
        return recon + 0.5 * ((x**2).flatten(1).sum(1) + (logvar.exp() - 1 - logvar).sum(1))

    rejected(q, kl_with_x, "uses the data x")


def test_q34a_iwae_bound():
    q = ch3.q34a
    assert q.check(lambda lw: losses.iwae_bound(lw), quiet=True)
    m = lambda lw: lw.max(0).values  # noqa: E731
    assert q.check(lambda lw: m(lw) + torch.log(torch.exp(lw - m(lw)).mean(0)), quiet=True)
    rejected(q, lambda lw: lw.mean(0), "average of the log-weights")
    rejected(q, lambda lw: torch.logsumexp(lw, 0), "−log K is missing")
    rejected(q, lambda lw: torch.logsumexp(lw, 1) - math.log(lw.shape[1]), "dim 1")
    rejected(q, lambda lw: lw.max(0).values, "ignores all weights")
    rejected(q, lambda lw: torch.log(torch.exp(lw).mean(0)), "numerically stable")


def test_q34b_free_bits():
    q = ch3.q34b
    assert q.check(lambda kl, lam: torch.maximum(kl.mean(0), torch.tensor(lam)).sum(), quiet=True)
    rejected(q, lambda kl, lam: kl.clamp(min=lam).sum(1).mean(), "each IMAGE")
    rejected(q, lambda kl, lam: kl.sum(1).mean().clamp(min=lam), "TOTAL KL")
    rejected(q, lambda kl, lam: kl.mean(0).clamp(max=lam).sum(), "BELOW λ")
    rejected(q, lambda kl, lam: kl.mean(0).sum() - lam * kl.shape[1], "shifts the loss")
    rejected(q, lambda kl, lam: kl.mean(0).sum(), "nothing is free")
