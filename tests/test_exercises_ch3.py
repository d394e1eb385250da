"""The chapter 3 exercises accept the reference solution and reject the common wrong answers by name."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from aigc_course import losses
from aigc_course.exercises import ch3
from exercise_helpers import checker_tests, rejected, solution_of

QUESTIONS = [ch3.q31a, ch3.q31b, ch3.q31c, ch3.q31d, ch3.q32a, ch3.q32b, ch3.q32c, ch3.q32d,
             ch3.q33a, ch3.q33b, ch3.q33c, ch3.q33d, ch3.q34a, ch3.q34b, ch3.q34c, ch3.q34d]


def _solution(question):
    return solution_of(question, torch=torch, math=math)


(test_shown_solution_is_accepted, test_stub_and_crash_give_a_verdict_not_an_exception,
 test_checkers_leave_the_global_rng_alone) = checker_tests(QUESTIONS, _solution, numeric=[ch3.q31d, ch3.q34c])


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


# --- issue 27: predict, apply and debug exercises -----------------------------------------------------

Beta = torch.distributions.Beta
kl_div = torch.distributions.kl_divergence


def _coin(fn_posterior=lambda a, b, n, k: (a + k, b + n - k), extra=0.0, direction="q||post"):
    """ELBO of a coin by the KL route: log p(x) - KL(q || posterior), with optional mistakes."""
    def fn(x, a, b, alpha, beta):
        n, k = len(x), x.sum()
        pa, pb = fn_posterior(a, b, n, k)
        log_px = (torch.lgamma(pa) + torch.lgamma(pb) - torch.lgamma(a + b + n)
                  - torch.lgamma(a) - torch.lgamma(b) + torch.lgamma(a + b))
        gap = kl_div(Beta(alpha, beta), Beta(pa, pb)) if direction == "q||post" else kl_div(Beta(pa, pb),
                                                                                          Beta(alpha, beta))
        return log_px - gap + extra
    return fn


def test_q31c_coin_elbo():
    q = ch3.q31c
    assert q.check(_coin(), quiet=True)                       # the KL route, not the shown solution's

    def by_monte_carlo_free_sum(x, a, b, alpha, beta):        # E_q[log p(x, z)] + entropy of q
        n, k = len(x), x.sum()
        e_lz = torch.digamma(alpha) - torch.digamma(alpha + beta)
        e_l1z = torch.digamma(beta) - torch.digamma(alpha + beta)
        log_B_ab = torch.lgamma(a) + torch.lgamma(b) - torch.lgamma(a + b)
        e_log_joint = (k + a - 1) * e_lz + (n - k + b - 1) * e_l1z - log_B_ab
        return e_log_joint + Beta(alpha, beta).entropy()

    assert q.check(by_monte_carlo_free_sum, quiet=True)
    solution = _solution(q)

    def with_binomial(x, a, b, alpha, beta):
        n, k = len(x), x.sum()
        return (solution(x, a, b, alpha, beta) + torch.lgamma(torch.tensor(n + 1.0, dtype=x.dtype))
                - torch.lgamma(k + 1) - torch.lgamma(n - k + 1))

    rejected(q, with_binomial, "log C(n, k)")

    def e_recon(x, a, b, alpha, beta):
        n, k = len(x), x.sum()
        return (k * (torch.digamma(alpha) - torch.digamma(alpha + beta))
                + (n - k) * (torch.digamma(beta) - torch.digamma(alpha + beta)))

    rejected(q, lambda x, a, b, al, be: e_recon(x, a, b, al, be) + kl_div(Beta(al, be), Beta(a, b)), "sign error")
    rejected(q, e_recon, "KL to the prior is missing")
    rejected(q, _coin(fn_posterior=lambda a, b, n, k: (a + n - k, b + k)), "swapped")
    rejected(q, _coin(direction="post||q"), "KL(posterior ‖ q)")
    rejected(q, lambda x, a, b, al, be: _coin()(x, a, b, al, be) + kl_div(Beta(al, be), Beta(a + x.sum(),
             b + len(x) - x.sum())), "log p(x) itself")
    rejected(q, lambda x, a, b, al, be: kl_div(Beta(al, be), Beta(a + x.sum(), b + len(x) - x.sum())), "the gap")
    rejected(q, _coin(extra=0.05), "off by")


def test_q31d_measure_is_the_mean_field_formula():
    rho = ch3.RHO_31D
    cov = torch.tensor([[1.0, rho], [rho, 1.0]], dtype=torch.float64)
    lam = torch.linalg.inv(cov)
    formula = 0.5 * (lam.diagonal().log().sum() - torch.logdet(lam)).item()
    assert abs(ch3.mean_field_gap() - formula) < 1e-8
    assert abs(ch3.mean_field_gap(0.0)) < 1e-10


def test_q31d_predictions():
    truth = -0.5 * math.log(1 - ch3.RHO_31D**2)
    for guess in (truth, 0.8, 0.9, torch.tensor(0.85)):
        verdict = ch3.q31d.check(guess, quiet=True)
        assert verdict and "0.8304" in verdict.message
    rejected(ch3.q31d, 0.0, "not 0")
    rejected(ch3.q31d, 1.66, "the ½")
    rejected(ch3.q31d, 0.19, "RATIO")
    rejected(ch3.q31d, 3.0, "Within")
    rejected(ch3.q31d, [0.8, 0.9], "one number")


def test_q32c_reparameterise_full():
    q = ch3.q32c

    def symmetric_sqrt(mu, cov, eps):                          # another square root: also right
        vals, vecs = torch.linalg.eigh(cov)
        return mu + eps @ (vecs @ torch.diag(vals.sqrt()) @ vecs.T).T

    def via_distribution(mu, cov, eps):
        L = torch.distributions.MultivariateNormal(mu, covariance_matrix=cov).scale_tril
        return mu + (L @ eps.T).T

    assert q.check(symmetric_sqrt, quiet=True)
    assert q.check(via_distribution, quiet=True)
    rejected(q, lambda mu, cov, eps: mu + eps @ cov.T, "covariance Σ itself")
    rejected(q, lambda mu, cov, eps: mu + eps @ cov.clamp(min=0).sqrt().T, "element-wise square root")
    rejected(q, lambda mu, cov, eps: mu + eps * cov.diagonal().sqrt(), "only the variances")
    rejected(q, lambda mu, cov, eps: mu + eps @ torch.linalg.cholesky(cov), "transposed")
    rejected(q, lambda mu, cov, eps: (mu + eps @ torch.linalg.cholesky(cov).T).detach(), "no gradient")
    rejected(q, lambda mu, cov, eps: mu + eps @ torch.linalg.cholesky(cov).T + eps**2 * 0.1, "affine in ε")
    rejected(q, lambda mu, cov, eps: mu + eps[0] @ torch.linalg.cholesky(cov).T, "shape")


def _sampler(std=lambda lv: torch.exp(0.5 * lv), shared=False, detach=False):
    def fn(mu, logvar, gen):
        shape = mu.shape[-1:] if shared else mu.shape
        z = mu + std(logvar) * torch.randn(shape, generator=gen, dtype=mu.dtype)
        return z.detach() if detach else z
    return fn


def test_q32d_sampler():
    q = ch3.q32d
    assert q.check(lambda mu, lv, gen: mu + torch.exp(0.5 * lv) * torch.randn_like(mu), quiet=True)  # global RNG
    assert q.check(lambda mu, lv, gen: torch.distributions.Normal(mu, lv.mul(0.5).exp()).rsample(), quiet=True)
    rejected(q, _sampler(std=lambda lv: lv, shared=True, detach=True), "same noise")
    rejected(q, _sampler(std=lambda lv: lv, detach=True), "E31")
    rejected(q, _sampler(std=lambda lv: lv.exp()), "VARIANCE")
    rejected(q, _sampler(std=lambda lv: torch.exp(-0.5 * lv)), "1/σ")
    rejected(q, lambda mu, lv, gen: mu * 1.0, "same noise")
    rejected(q, _sampler(detach=True), "E30")
    rejected(q, lambda mu, lv, gen: _sampler()(mu, lv, gen) + 1.0, "means")


def test_q33c_kl_full():
    q = ch3.q33c
    mvn = torch.distributions.MultivariateNormal
    assert q.check(lambda m1, S1, m2, S2: kl_div(mvn(m1, S1), mvn(m2, S2)), quiet=True)
    solution = _solution(q)
    # on a diagonal q against N(0, I) it is the closed form of 3.3
    mu, lv = torch.tensor([0.3, -1.2, 0.8], dtype=torch.float64), torch.tensor([-0.5, 0.2, 1.0], dtype=torch.float64)
    torch.testing.assert_close(solution(mu, torch.diag(lv.exp()), torch.zeros(3, dtype=torch.float64),
                                        torch.eye(3, dtype=torch.float64)), losses.gaussian_kl(mu[None], lv[None])[0])
    rejected(q, lambda m1, S1, m2, S2: solution(m2, S2, m1, S1), "other direction")
    rejected(q, lambda m1, S1, m2, S2: 2 * solution(m1, S1, m2, S2), "½ is missing")
    rejected(q, lambda m1, S1, m2, S2: solution(m1, S1, m2, S2) + 0.5 * len(m1), "−d is missing")

    def parts(m1, S1, m2, S2):
        P1, P2, diff = torch.linalg.inv(S1), torch.linalg.inv(S2), m2 - m1
        return P1, P2, diff, torch.logdet(S2) - torch.logdet(S1)

    def wrong_logdet(m1, S1, m2, S2):
        P1, P2, diff, ld = parts(m1, S1, m2, S2)
        return 0.5 * (torch.trace(P2 @ S1) + diff @ P2 @ diff - len(m1) - ld)

    def wrong_maha(m1, S1, m2, S2):
        P1, P2, diff, ld = parts(m1, S1, m2, S2)
        return 0.5 * (torch.trace(P2 @ S1) + diff @ P1 @ diff - len(m1) + ld)

    def wrong_trace(m1, S1, m2, S2):
        P1, P2, diff, ld = parts(m1, S1, m2, S2)
        return 0.5 * (torch.trace(S2 @ S1) + diff @ P2 @ diff - len(m1) + ld)

    def marginals(m1, S1, m2, S2):
        v1, v2 = S1.diagonal(), S2.diagonal()
        return 0.5 * (v1 / v2 + (m2 - m1) ** 2 / v2 - 1 + v2.log() - v1.log()).sum()

    rejected(q, wrong_logdet, "wrong sign")
    rejected(q, wrong_maha, "Σ_q⁻¹")
    rejected(q, wrong_trace, "INVERSE")
    rejected(q, marginals, "1-D marginals")


def _article_e(mu_term="-x", logvar_sign=1.0, reduce="mean"):
    def fn(x, x_hat, mu, logvar):
        recon = 0.5 * ((x - x_hat) ** 2).sum(dim=1)
        first = {"-x": -(x**2).sum(1), "+x": (x**2).sum(1), "-mu": -(mu**2).sum(1), "+mu": (mu**2).sum(1)}[mu_term]
        kl = 0.5 * ((logvar_sign * logvar + logvar.exp() - 1).sum(dim=1) + first)
        total = recon + kl
        return total.mean() if reduce == "mean" else total.sum()
    return fn


def test_q33d_article_e_loss():
    q = ch3.q33d
    assert q.check(_article_e("+mu", -1.0), quiet=True)
    assert q.check(lambda x, xh, mu, lv: (0.5 * F.mse_loss(xh, x, reduction="none").sum(1)
                                          + losses.gaussian_kl(mu, lv)).mean(), quiet=True)
    rejected(q, _article_e(), "still the article's loss")
    rejected(q, _article_e("-x", -1.0), "−Σ x²")
    rejected(q, _article_e("-mu", -1.0), "minus sign")
    rejected(q, _article_e("+mu", 1.0), "+ sign")
    rejected(q, _article_e("+x", -1.0), "either sign")
    rejected(q, _article_e("+mu", -1.0, reduce="sum"), "averaged over the batch")


def _beta_loss(recon_reduction="mean", beta_on="recon", batch="mean"):
    def fn(x, logits, mu, logvar, beta):
        bce = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
        recon = bce.mean() if recon_reduction == "mean" else bce.sum(1)
        kl = losses.gaussian_kl(mu, logvar)
        r, k = (beta * recon, kl) if beta_on == "recon" else (recon, (beta * kl) if beta_on == "kl" else kl)
        if recon_reduction == "mean":
            return r + k.mean()
        return (r + k).mean() if batch == "mean" else (r + k).sum()
    return fn


def test_q34c_measure_is_the_tempered_posterior():
    solution = _solution(ch3.q34c)
    assert abs(ch3.optimal_rate() - solution) < 1e-6
    assert abs(ch3.optimal_rate(1.0) - 0.5 * math.log(17)) < 1e-6    # beta = 1: the posterior, I = R
    assert ch3.optimal_rate(16.0) < ch3.optimal_rate(4.0) < ch3.optimal_rate(1.0)


def test_q34c_predictions():
    truth = ch3.optimal_rate()
    assert ch3.q34c.check(0.5 * math.log(5), quiet=True)        # the quick estimate is within 20%
    assert ch3.q34c.check(truth * 1.15, quiet=True)
    rejected(ch3.q34c, 0.5 * math.log(17), "β changes the optimum")
    rejected(ch3.q34c, 0.5 * math.log(17) / 4, "1/β")
    rejected(ch3.q34c, 0.0, "no collapse")
    rejected(ch3.q34c, 2.0, "Within")


def test_q34d_beta_vae_loss():
    q = ch3.q34d
    assert q.check(_beta_loss("sum", "kl"), quiet=True)
    assert q.check(lambda x, l, m, lv, beta: -losses.elbo(losses.bernoulli_log_likelihood(l, x),
                                                           losses.gaussian_kl(m, lv), beta).mean(), quiet=True)
    rejected(q, _beta_loss(), "still the article's version")
    rejected(q, _beta_loss("mean", "kl"), "D times too small")
    rejected(q, _beta_loss("sum", "recon"), "errata E64")
    rejected(q, _beta_loss("sum", "kl", batch="sum"), "batch MEAN")
    rejected(q, _beta_loss("sum", "none"), "β is ignored")
