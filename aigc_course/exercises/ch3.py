"""Exercises of Part III, the mathematics of VAEs. Introduced in 3.1.

Usage in a notebook::

    from aigc_course.exercises import ch3
    ch3.q31a.check(elbo_estimate)   # prints a verdict, returns True/False, never raises
    ch3.q31a.hint()
    ch3.q31a.solution()

Questions are named by section: ``q31a`` is the first exercise of 3.1. Each checker runs the answer
on its own random inputs (a private generator: the global RNG is left alone), compares it with the
reference and, when it differs, names the common wrong answer it matches (several are printed in the
source articles; see the errata).
"""
from __future__ import annotations

import math
from typing import Callable

import torch

from aigc_course.exercises import CheckFailed, Question, as_tensor, judge, prediction

__all__ = ["q31a", "q31b", "q31c", "q31d", "q32a", "q32b", "q32c", "q32d", "q33a", "q33b", "q33c", "q33d",
           "q34a", "q34b", "q34c", "q34d"]


def _normal(gen: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=gen, dtype=torch.float64)


# --------------------------------------------------------------------------------------------------
# 3.1 Latent variables and the ELBO
# --------------------------------------------------------------------------------------------------

def _check_elbo_estimate(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(31)
    S, B = 7, 5  # samples z_s ~ q(z | x_b) per data point, data points
    log_px_z = -80 + 5 * _normal(gen, S, B)   # log p(x_b | z_sb)
    log_pz = -3 + _normal(gen, S, B)          # log p(z_sb)
    log_qz = -1 + _normal(gen, S, B)          # log q(z_sb | x_b)
    log_w = log_px_z + log_pz - log_qz        # (S, B)
    expected = log_w.mean(dim=0)              # (B,)
    wrong = {
        "sign error: the ELBO is E_q[log p(x, z) − log q(z|x)], so log q(z|x) is SUBTRACTED. With +log q "
        "the 'bound' can exceed log p(x).": (log_px_z + log_pz + log_qz).mean(dim=0),
        "log p(z) is missing: the ELBO averages log p(x, z) − log q(z|x) with "
        "log p(x, z) = log p(x|z) + log p(z); without log p(z) nothing pulls q towards the prior.":
            (log_px_z - log_qz).mean(dim=0),
        "you averaged over the batch (dim 1): average over the S samples (dim 0) and keep one ELBO per "
        "data point, shape (B,).": log_w.mean(dim=1),
        "the ELBO is an expectation over z ~ q: average the S samples, do not sum them.": log_w.sum(dim=0),
        "this is log of the AVERAGE weight, the importance-weighted bound L_S of 3.4 (tighter than the "
        "ELBO). The ELBO is the average of the log-weights.":
            torch.logsumexp(log_w, dim=0) - math.log(S),
    }
    judge(fn(log_px_z.clone(), log_pz.clone(), log_qz.clone()), expected, wrong,
          what="ELBO estimate per data point")


q31a = Question(
    name="q31a",
    prompt="Write `elbo_estimate(log_px_z, log_pz, log_qz)`: the Monte Carlo ELBO of each data point from S "
           "samples z_s ~ q(z|x). Each input has shape (S, B): log p(x_b|z_sb), log p(z_sb), "
           "log q(z_sb|x_b). Return shape (B,).",
    checker=_check_elbo_estimate,
    hints=["ELBO(x) = E_{z~q(z|x)}[log p(x|z) + log p(z) − log q(z|x)]: one log-weight per sample.",
           "`(log_px_z + log_pz - log_qz).mean(dim=0)`: the samples run along dim 0."],
    solution_code="""
def elbo_estimate(log_px_z, log_pz, log_qz):
    return (log_px_z + log_pz - log_qz).mean(dim=0)
""",
)


def _check_log_marginal(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(311)
    D, d, N, sigma = 4, 2, 6, 0.7
    W, b = _normal(gen, D, d), _normal(gen, D)
    x = b + _normal(gen, N, d) @ W.T + sigma * _normal(gen, N, D)  # (N, D) drawn from the model

    def log_normal(mean, cov):
        return torch.distributions.MultivariateNormal(mean, covariance_matrix=cov).log_prob(x)

    eye = torch.eye(D, dtype=torch.float64)
    expected = log_normal(b, W @ W.T + sigma**2 * eye)
    wrong = {
        "the covariance of x is W Wᵀ + σ² I: you left out W Wᵀ, the spread that z contributes "
        "(this is log p(x | z = 0), not the marginal).": log_normal(b, sigma**2 * eye),
        "σ is the noise STANDARD DEVIATION: the noise covariance is σ² I, not σ I.":
            log_normal(b, W @ W.T + sigma * eye),
        "the mean of x is W E[z] + b = b, not 0.": log_normal(torch.zeros_like(b), W @ W.T + sigma**2 * eye),
        "W Wᵀ + I: the noise variance is σ², not 1.": log_normal(b, W @ W.T + eye),
    }
    judge(fn(x.clone(), W.clone(), b.clone(), sigma), expected, wrong, what="log p(x)")


q31b = Question(
    name="q31b",
    prompt="Linear-Gaussian model: z ~ N(0, I_d), x = W z + b + σ ε with ε ~ N(0, I_D). Write "
           "`log_marginal(x, W, b, sigma)`: the exact log p(x) for each row of x (shape (N, D)), shape (N,).",
    checker=_check_log_marginal,
    hints=["x is a linear function of the Gaussians z and ε, so x is Gaussian: find its mean and covariance.",
           "E[x] = b and Cov[x] = W Cov[z] Wᵀ + σ² I = W Wᵀ + σ² I; "
           "`torch.distributions.MultivariateNormal(...).log_prob(x)`."],
    solution_code="""
def log_marginal(x, W, b, sigma):
    cov = W @ W.T + sigma**2 * torch.eye(len(b), dtype=x.dtype)
    return torch.distributions.MultivariateNormal(b, covariance_matrix=cov).log_prob(x)
""",
)


# --------------------------------------------------------------------------------------------------
# 3.2 Gradients through sampling
# --------------------------------------------------------------------------------------------------

def _check_reparameterise(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(32)
    mu, logvar, eps = _normal(gen, 8, 3), 1.5 * _normal(gen, 8, 3), _normal(gen, 8, 3)
    expected = mu + torch.exp(0.5 * logvar) * eps
    wrong = {
        "exp(logvar) is the VARIANCE σ²: scale ε by the standard deviation σ = exp(logvar / 2).":
            mu + torch.exp(logvar) * eps,
        "logvar is log σ², not σ: the standard deviation is exp(logvar / 2) (and it must be positive).":
            mu + logvar * eps,
        "exp(−logvar / 2) is 1/σ: the sign in the exponent is flipped.": mu + torch.exp(-0.5 * logvar) * eps,
        "the noise is missing: z = μ is the posterior mean, not a sample (a plain autoencoder).": mu,
    }
    mu_g, logvar_g = mu.clone().requires_grad_(), logvar.clone().requires_grad_()
    z = fn(mu_g, logvar_g, eps.clone())
    if torch.is_tensor(z) and z.requires_grad:
        judge(z.detach(), expected, wrong, what="sample z")
        grads = torch.autograd.grad(z.sum(), (mu_g, logvar_g), allow_unused=True)
        if any(g is None for g in grads):
            raise CheckFailed("no gradient reaches μ or logvar: build z from them with differentiable "
                              "operations (no .detach(), no torch.no_grad(), no .item()).")
        judge(grads[1], 0.5 * torch.exp(0.5 * logvar) * eps, {}, what="gradient dz/dlogvar")
        return
    judge(z, expected, wrong, what="sample z")
    raise CheckFailed("the values are right, but z does not depend differentiably on μ and logvar: the "
                      "point of the trick is that gradients flow through z (no .detach(), no torch.no_grad()).")


q32a = Question(
    name="q32a",
    prompt="Write `reparameterise(mu, logvar, eps)`: a sample z ~ N(mu, diag exp(logvar)) built from the "
           "standard-normal noise eps, differentiable in mu and logvar (all tensors of the same shape).",
    checker=_check_reparameterise,
    hints=["If ε ~ N(0, 1) then μ + σ ε ~ N(μ, σ²).",
           "σ = exp(logvar / 2): `mu + torch.exp(0.5 * logvar) * eps`."],
    solution_code="""
def reparameterise(mu, logvar, eps):
    return mu + torch.exp(0.5 * logvar) * eps
""",
)


def _check_score_gradient(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(321)
    n, mu, sigma = 50, 0.4, 1.3
    z = mu + sigma * _normal(gen, n)        # (n,) samples of N(mu, sigma²)
    f = (z - 1.5) ** 2 + 2.0                # f(z_i), (n,): a large mean makes the baseline matter
    score = (z - mu) / sigma**2             # d/dmu log N(z; mu, sigma²), (n,)
    loo = (f.sum() - f) / (n - 1)           # leave-one-out baseline b_i, (n,)
    expected = ((f - loo) * score).mean()
    wrong = {
        "this is the plain score-function estimator mean f(z_i)·(z_i − μ)/σ², without the baseline. It is "
        "unbiased, but its variance grows with the size of f; subtract the leave-one-out baseline b_i.":
            (f * score).mean(),
        "the baseline includes sample i itself (f − mean f): then it is correlated with that sample's score "
        "and the estimate is biased by a factor (n − 1)/n. Leave sample i out of its own baseline.":
            ((f - f.mean()) * score).mean(),
        "∇_μ log N(z; μ, σ²) = (z − μ)/σ², not (z − μ)/σ.": ((f - loo) * (z - mu) / sigma).mean(),
        "sign error: ∇_μ log N(z; μ, σ²) = (z − μ)/σ², not (μ − z)/σ².": -expected,
        "the estimate is an average over the samples: use mean, not sum.": ((f - loo) * score).sum(),
    }
    judge(fn(f.clone(), z.clone(), mu, sigma), expected, wrong, what="gradient estimate d/dμ E[f(z)]")


q32b = Question(
    name="q32b",
    prompt="Write `score_grad_mu(f_z, z, mu, sigma)`: the score-function (REINFORCE) estimate of "
           "d/dμ E_{z~N(μ, σ²)}[f(z)] from n samples z (1-D tensor) and their values f_z, with the "
           "leave-one-out baseline b_i = mean of f over the OTHER samples. Return a scalar.",
    checker=_check_score_gradient,
    hints=["∇_μ E_q[f] = E_q[(f(z) − b) ∇_μ log q(z)] for any b that does not depend on z itself, and "
           "∇_μ log N(z; μ, σ²) = (z − μ)/σ².",
           "b_i = (f_z.sum() − f_z) / (n − 1); return `((f_z - b) * (z - mu) / sigma**2).mean()`."],
    solution_code="""
def score_grad_mu(f_z, z, mu, sigma):
    n = len(z)
    baseline = (f_z.sum() - f_z) / (n - 1)          # leave-one-out: b_i ignores f(z_i)
    return ((f_z - baseline) * (z - mu) / sigma**2).mean()
""",
)


# --------------------------------------------------------------------------------------------------
# 3.3 The KL term
# --------------------------------------------------------------------------------------------------

def _kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=1)


def _check_gaussian_kl(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(33)
    mu = _normal(gen, 6, 4)
    # positive log-variances first, so that the "logvar as a variance" mistakes give numbers, not nan
    logvar = 0.05 + 2.0 * torch.rand(6, 4, generator=gen, dtype=torch.float64)
    var = logvar.exp()
    expected = _kl(mu, logvar)
    wrong = {
        "the 1/2 is missing: KL = ½ Σ_j (μ_j² + σ_j² − 1 − log σ_j²).": 2 * expected,
        "sign error on log σ²: it is −log σ² (the term that keeps σ from shrinking to 0), as in errata E87.":
            0.5 * (mu**2 + var - 1 + logvar).sum(dim=1),
        "you used `logvar` as if it were the variance σ²: the variance is exp(logvar), and log σ² is "
        "logvar itself.": 0.5 * (mu**2 + logvar - 1 - logvar.log()).sum(dim=1),
        "you used `logvar` as if it were the standard deviation σ: σ = exp(logvar / 2).":
            0.5 * (mu**2 + logvar**2 - 1 - 2 * logvar.log()).sum(dim=1),
        "the −1 per dimension is missing: the KL must be 0 when q = p (μ = 0, logvar = 0).":
            0.5 * (mu**2 + var - logvar).sum(dim=1),
        "this is KL(p(z) ‖ q(z|x)), the reverse direction; the ELBO has KL(q(z|x) ‖ p(z)).":
            0.5 * (logvar + (1 + mu**2) / var - 1).sum(dim=1),
        "the KL of independent dimensions is the SUM over the latent dimensions, not the mean.":
            0.5 * (mu**2 + var - 1 - logvar).mean(dim=1),
    }
    judge(fn(mu.clone(), logvar.clone()), expected, wrong, what="KL per sample")
    mu2, logvar2 = _normal(gen, 5, 3), 3 * _normal(gen, 5, 3)  # negative log-variances too
    judge(fn(mu2.clone(), logvar2.clone()), _kl(mu2, logvar2), {}, what="KL per sample for negative logvar")


q33a = Question(
    name="q33a",
    prompt="Write `gaussian_kl(mu, logvar)`: KL(N(mu, diag exp(logvar)) ‖ N(0, I)) for each row of the "
           "(B, Z) tensors mu and logvar, shape (B,).",
    checker=_check_gaussian_kl,
    hints=["Per dimension: E_q[log q(z) − log p(z)] with q = N(μ, σ²) and p = N(0, 1); use E_q[z²] = μ² + σ².",
           "KL = ½ Σ_j (μ_j² + σ_j² − 1 − log σ_j²), with σ² = exp(logvar) and log σ² = logvar."],
    solution_code="""
def gaussian_kl(mu, logvar):
    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=1)
""",
)


def _check_negative_elbo(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(331)
    B, Z = 5, 3
    x = (torch.rand(B, 1, 4, 4, generator=gen) < 0.4).double()   # binary images, (B, 1, 4, 4)
    logits = 2 * _normal(gen, B, 1, 4, 4)                          # decoder output for one z per image
    mu, logvar = _normal(gen, B, Z), 0.5 * _normal(gen, B, Z)      # encoder output, (B, Z)
    recon = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none")
    recon = recon.flatten(1)                                        # −log p(x_i | z) per pixel, (B, 16)
    kl = _kl(mu, logvar)
    expected = recon.sum(dim=1) + kl
    wrong = {
        "sign error in the ELBO: ELBO = E[log p(x|z)] − KL, so the NEGATIVE ELBO (the loss) adds the KL.":
            recon.sum(dim=1) - kl,
        "the KL term uses the data x where μ belongs: it compares q(z|x) = N(μ(x), σ²(x)) with p(z), so x "
        "enters only through μ and σ (errata E87).":
            recon.sum(dim=1) + 0.5 * ((x**2).flatten(1).sum(dim=1) + (logvar.exp() - 1 - logvar).sum(dim=1)),
        "the reconstruction term is the log-likelihood of the whole image: SUM over the pixels. The mean "
        "divides it by the number of pixels, which weighs the KL D times too much (β = D).":
            recon.mean(dim=1) + kl,
        "the KL term is missing: without it this is a (stochastic) autoencoder's loss, not the negative "
        "ELBO.": recon.sum(dim=1),
        "the KL is ½ Σ (μ² + σ² − 1 − log σ²); the 1/2 is missing.": recon.sum(dim=1) + 2 * kl,
    }
    judge(fn(x.clone(), logits.clone(), mu.clone(), logvar.clone()), expected, wrong,
          what="negative ELBO per image")


q33b = Question(
    name="q33b",
    prompt="Write `negative_elbo(x, logits, mu, logvar)`: the one-sample negative ELBO of each image for a "
           "Bernoulli decoder. x: binary images (B, 1, H, W); logits: the decoder's output for a sample "
           "z ~ q(z|x); mu, logvar: the encoder's output (B, Z). Return shape (B,).",
    checker=_check_negative_elbo,
    hints=["−ELBO = −log p(x|z) + KL(q(z|x) ‖ p(z)); −log p(x|z) is the binary cross-entropy summed over "
           "the pixels.",
           "`F.binary_cross_entropy_with_logits(logits, x, reduction='none').flatten(1).sum(1)` plus the "
           "KL of 3.3."],
    solution_code="""
def negative_elbo(x, logits, mu, logvar):
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none")
    kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=1)
    return bce.flatten(1).sum(dim=1) + kl
""",
)


# --------------------------------------------------------------------------------------------------
# 3.4 Likelihoods and variants
# --------------------------------------------------------------------------------------------------

def _check_iwae(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(34)
    K, B = 6, 4
    log_w = -90 + 3 * _normal(gen, K, B)  # (K, B)
    expected = torch.logsumexp(log_w, dim=0) - math.log(K)
    wrong = {
        "this is the average of the log-weights, the K-sample ELBO estimate: the IWAE bound takes the log "
        "of the average WEIGHT, log (1/K) Σ_k w_k.": log_w.mean(dim=0),
        "the −log K is missing: log Σ_k w_k is K times too large inside the log; the bound averages the "
        "weights.": torch.logsumexp(log_w, dim=0),
        "you combined the weights over the batch (dim 1): the K weights of one image run along dim 0, "
        "and the result has one value per image, shape (B,).": torch.logsumexp(log_w, dim=1) - math.log(B),
        "max_k log w_k is not the bound: it ignores all weights but one (and overestimates log p(x)).":
            log_w.max(dim=0).values,
    }
    judge(fn(log_w.clone()), expected, wrong, what="IWAE bound per image")
    deep = -800 + 3 * _normal(gen, K, B)  # log-weights of a real image: exp() underflows to 0
    value = as_tensor(fn(deep.clone()), "IWAE bound per image")
    if not torch.isfinite(value).all():
        raise CheckFailed("right formula, but not numerically stable: for log w ≈ −800, exp(log w) "
                          "underflows to 0 and log 0 = −inf. Use torch.logsumexp(log_w, dim=0) − log K.")
    judge(value, torch.logsumexp(deep, dim=0) - math.log(K), {}, what="IWAE bound for log w ≈ −800")


q34a = Question(
    name="q34a",
    prompt="Write `iwae(log_w)`: the importance-weighted bound L_K = log (1/K) Σ_k w_k of each image from "
           "the log-weights log w_k = log p(x, z_k) − log q(z_k|x), shape (K, B) → (B,), stable for "
           "log-weights around −800.",
    checker=_check_iwae,
    hints=["L_K = log of the MEAN of the weights, computed from their logs.",
           "`torch.logsumexp(log_w, dim=0) - math.log(K)` never forms exp(log w) on its own."],
    solution_code="""
def iwae(log_w):
    return torch.logsumexp(log_w, dim=0) - math.log(log_w.shape[0])
""",
)


def _check_free_bits(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(341)
    B, Z, lam = 8, 5, 0.5
    scale = torch.tensor([0.05, 0.2, 0.6, 1.5, 4.0], dtype=torch.float64)  # some dims below λ, some above
    kl = scale * torch.rand(B, Z, generator=gen, dtype=torch.float64) * 2  # (B, Z), KL of each dim, >= 0
    per_dim = kl.mean(dim=0)  # (Z,)
    expected = per_dim.clamp(min=lam).sum()
    wrong = {
        "you clamped the KL of each IMAGE before averaging: free bits (Kingma et al. 2016) clamps the "
        "batch-average KL of each dimension, max(λ, mean_b KL_bj), then sums over j.":
            kl.clamp(min=lam).sum(dim=1).mean(),
        "min(λ, KL_j) caps the KL, removing the pressure ABOVE λ; free bits removes it BELOW λ: max(λ, KL_j).":
            per_dim.clamp(max=lam).sum(),
        "KL − λ shifts the loss but keeps the gradient of every dimension; free bits makes the loss flat in "
        "KL_j while KL_j < λ: max(λ, KL_j).": per_dim.sum() - lam * Z,
        "this is the plain KL (a clamp on the TOTAL KL gives it too: the total is above λ): nothing is "
        "free. Free bits clamps each dimension's batch-average KL at λ from below.": per_dim.sum(),
    }
    judge(fn(kl.clone(), lam), expected, wrong, what="free-bits KL term")


q34b = Question(
    name="q34b",
    prompt="Write `free_bits_kl(kl_per_dim, lam)`: the free-bits KL term of the loss from the per-image, "
           "per-dimension KL values (B, Z): each dimension's batch-average KL, clamped below at lam, summed "
           "over the dimensions. Return a scalar.",
    checker=_check_free_bits,
    hints=["Average over the batch first (dim 0), one number per latent dimension.",
           "`kl_per_dim.mean(dim=0).clamp(min=lam).sum()`."],
    solution_code="""
def free_bits_kl(kl_per_dim, lam):
    return kl_per_dim.mean(dim=0).clamp(min=lam).sum()
""",
)


# ==================================================================================================
# Exercises that ask for what the pages do not print (issue 27): predict, apply, debug
# ==================================================================================================

# --------------------------------------------------------------------------------------------------
# 3.1c Apply: the ELBO of a coin (Beta prior, Bernoulli tosses), where the posterior is known
# --------------------------------------------------------------------------------------------------

def _beta_kl(a1, b1, a2, b2):
    """KL(Beta(a1, b1) || Beta(a2, b2)), closed form."""
    from torch.distributions import Beta, kl_divergence
    return kl_divergence(Beta(a1, b1), Beta(a2, b2))


def _coin_cases():
    t = lambda v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    heads = torch.tensor([1, 1, 0, 1, 1, 1, 0, 1, 1, 0], dtype=torch.float64)      # 7 of 10
    few = torch.tensor([0, 0, 1, 0], dtype=torch.float64)                          # 1 of 4
    many = (torch.arange(40) % 5 != 0).double()                                    # 32 of 40
    return [(heads, t(2.0), t(3.0), t(4.5), t(2.5)),     # q near the posterior Beta(9, 6)
            (heads, t(2.0), t(3.0), t(1.0), t(1.0)),     # q uniform
            (few, t(0.5), t(0.5), t(1.2), t(3.4)),
            (many, t(1.0), t(4.0), t(20.0), t(6.0))]


def _check_coin_elbo(fn: Callable) -> None:
    for x, a, b, alpha, beta in _coin_cases():
        n, k = len(x), x.sum()
        e_log_z = torch.digamma(alpha) - torch.digamma(alpha + beta)        # E_q[log z]
        e_log_1mz = torch.digamma(beta) - torch.digamma(alpha + beta)       # E_q[log(1 - z)]
        recon = k * e_log_z + (n - k) * e_log_1mz                            # E_q[log p(x | z)]
        kl_prior = _beta_kl(alpha, beta, a, b)
        expected = recon - kl_prior
        log_px = (torch.lgamma(a + k) + torch.lgamma(b + n - k) - torch.lgamma(a + b + n)
                  - torch.lgamma(a) - torch.lgamma(b) + torch.lgamma(a + b))
        log_binom = torch.lgamma(k.new_tensor(n + 1.0)) - torch.lgamma(k + 1) - torch.lgamma(n - k + 1)
        wrong = {
            "you added log C(n, k): that is the probability of the COUNT k. The data are the sequence of "
            "tosses, whose likelihood z^k (1 − z)^(n−k) has no binomial coefficient.": expected + log_binom,
            "sign error: the ELBO SUBTRACTS KL(q ‖ p(z)); with + the 'bound' exceeds log p(x).":
                recon + kl_prior,
            "the KL to the prior is missing: E_q[log p(x | z)] alone is not the ELBO.": recon,
            "this is log p(x) itself: the ELBO of this q falls short of it by KL(q ‖ p(z | x)).": log_px,
            "this is the gap KL(q ‖ p(z | x)), not the ELBO: ELBO = log p(x) − gap.":
                _beta_kl(alpha, beta, a + k, b + n - k),
            "heads and tails are swapped: with z the probability of heads (x = 1), the k heads raise the "
            "FIRST parameter, the posterior is Beta(a + k, b + n − k).":
                (n - k) * e_log_z + k * e_log_1mz - kl_prior,
            "the gap is KL(q ‖ posterior), in that direction; KL(posterior ‖ q) is the other one.":
                log_px - _beta_kl(a + k, b + n - k, alpha, beta),
        }
        answer = fn(x.clone(), a.clone(), b.clone(), alpha.clone(), beta.clone())
        judge(answer, expected, wrong,
              what=f"ELBO for n = {n}, k = {int(k)}, prior Beta({a.item():g}, {b.item():g}), "
                   f"q = Beta({alpha.item():g}, {beta.item():g})")


q31c = Question(
    name="q31c",
    prompt="A coin's bias z has the prior Beta(a, b); x holds n tosses (1 = heads), p(x | z) = z^k (1 − z)^(n−k) "
           "with k heads. Write `coin_elbo(x, a, b, alpha, beta)`: the exact ELBO of q(z) = Beta(alpha, beta) "
           "(x a 1-D float tensor; a, b, alpha, beta 0-d tensors). Return a scalar.",
    checker=_check_coin_elbo,
    hints=["Either form of 3.1 works. Reconstruction minus KL to the prior: E_q[log z] = ψ(α) − ψ(α + β) "
           "(ψ = torch.digamma), and torch.distributions has the KL between two Betas.",
           "Or log p(x) − KL(q ‖ p(z | x)): the posterior is Beta(a + k, b + n − k) (conjugacy), and "
           "log p(x) = log B(a + k, b + n − k) − log B(a, b) with log B(u, v) = lgamma(u) + lgamma(v) − "
           "lgamma(u + v)."],
    solution_code="""
def coin_elbo(x, a, b, alpha, beta):
    n, k = len(x), x.sum()
    e_log_z = torch.digamma(alpha) - torch.digamma(alpha + beta)       # E_q[log z]
    e_log_1mz = torch.digamma(beta) - torch.digamma(alpha + beta)      # E_q[log(1 - z)]
    Beta = torch.distributions.Beta
    kl_prior = torch.distributions.kl_divergence(Beta(alpha, beta), Beta(a, b))
    return k * e_log_z + (n - k) * e_log_1mz - kl_prior
""",
)


# --------------------------------------------------------------------------------------------------
# 3.1d Predict: the approximation gap of the best diagonal q for a correlated posterior
# --------------------------------------------------------------------------------------------------

RHO_31D = 0.9


def mean_field_gap(rho: float = RHO_31D) -> float:
    """min over diagonal Gaussians q of KL(q || N(0, [[1, rho], [rho, 1]])), by L-BFGS (not the closed-form
    optimum)."""
    cov = torch.tensor([[1.0, rho], [rho, 1.0]], dtype=torch.float64)
    prec = torch.linalg.inv(cov)
    params = torch.zeros(4, dtype=torch.float64, requires_grad=True)   # mean (2), log-variances (2)
    opt = torch.optim.LBFGS([params], max_iter=200, tolerance_grad=1e-12, tolerance_change=1e-14,
                            line_search_fn="strong_wolfe")

    def gap():  # KL(N(m, diag v) || N(0, cov)) = E_q[log q - log p], written out
        m, log_v = params[:2], params[2:]
        return 0.5 * ((prec.diagonal() * log_v.exp()).sum() + m @ prec @ m - 2
                      + torch.logdet(cov) - log_v.sum())

    def closure():
        opt.zero_grad()
        loss = gap()
        loss.backward()
        return loss

    opt.step(closure)
    return gap().item()


q31d = prediction(
    name="q31d",
    prompt=f"A 2-D Gaussian posterior has unit variances and correlation ρ = {RHO_31D}. Predict, before computing, "
           "the approximation gap log p(x) − L(x; q*) in nats of the best DIAGONAL Gaussian q* (the gap of "
           "a mean-field family). The checker fits q* by minimising KL(q ‖ p) numerically.",
    measure=mean_field_gap,
    rel_tol=0.1,
    abs_tol=0.02,
    unit=" nats",
    explanation="The best diagonal q has the posterior's mean and the variances 1/Λ_jj = 1 − ρ² (Λ the "
                "precision): it sits inside the posterior's ellipse. Its gap ½(Σ log Λ_jj − log det Λ) is "
                "−½ log(1 − ρ²): about 0.83 nats for ρ = 0.9, and it grows without bound as |ρ| → 1.",
    wrong={"a diagonal q cannot express the correlation, so the gap is not 0: the best it can do still "
           "misses KL(q* ‖ p) > 0.": 0.0,
           "that is −log(1 − ρ²): the ½ of the Gaussian KL is missing.": -math.log(1 - RHO_31D**2),
           "1 − ρ² is the RATIO of q*'s variances to the true ones, not a gap in nats.": 1 - RHO_31D**2},
    hints=["A Gaussian q = N(m, diag v) against p = N(m, Σ): KL(q ‖ p) = ½(Σ_j Λ_jj v_j − d − Σ_j log v_j "
           "+ log det Σ), with Λ = Σ⁻¹. Minimise over each v_j.",
           "v_j = 1/Λ_jj. For unit variances and correlation ρ, Λ_jj = 1/(1 − ρ²) and det Σ = 1 − ρ²."],
    solution_code="""
# best v_j = 1 / Lambda_jj = 1 - rho^2; the gap 1/2 (sum log Lambda_jj - log det Lambda) = -1/2 log(1 - rho^2)
answer = -0.5 * math.log(1 - 0.9**2)
""",
)


# --------------------------------------------------------------------------------------------------
# 3.2c Apply: reparameterising a full-covariance Gaussian
# --------------------------------------------------------------------------------------------------

def _random_cov(gen: torch.Generator, d: int) -> torch.Tensor:
    A = _normal(gen, d, d)
    return A @ A.T + 0.5 * torch.eye(d, dtype=torch.float64)


def _check_reparameterise_full(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(322)
    d = 3
    mu, cov = _normal(gen, d), _random_cov(gen, d)
    basis = torch.eye(d, dtype=torch.float64)               # eps = e_1, ..., e_d, one per row
    z_basis = as_tensor(fn(mu.clone(), cov.clone(), basis.clone()), "sample z")
    if z_basis.shape != (d, d):
        raise CheckFailed(f"with eps of shape (n, d) = {(d, d)} the samples should have that shape too, got "
                          f"{tuple(z_basis.shape)}: one sample per row of eps.")
    A = (z_basis - mu).T                                    # z = mu + A eps: column i is the image of e_i
    eps = _normal(gen, 7, d)
    z = as_tensor(fn(mu.clone(), cov.clone(), eps.clone()), "sample z")
    if not torch.allclose(z, mu + eps @ A.T, atol=1e-8):
        raise CheckFailed("z should be μ + A ε: affine in ε, the same matrix A for every row of eps. Did "
                          "you mix the rows, or add something that is not a multiple of ε?")
    L = torch.linalg.cholesky(cov)
    sqrt_elementwise = cov.clamp(min=0).sqrt()
    wrong = {
        "you scaled ε by the covariance Σ itself: the samples then have covariance Σ². The scale must be a "
        "square root of Σ, a matrix A with A Aᵀ = Σ, such as the Cholesky factor.": cov @ cov,
        "the element-wise square root of Σ is not a matrix square root: (√Σ)(√Σ)ᵀ ≠ Σ. Use a Cholesky "
        "factor, torch.linalg.cholesky(cov).": sqrt_elementwise @ sqrt_elementwise.T,
        "only the variances (the diagonal of Σ) are used: that is the diagonal Gaussian of a VAE, which "
        "loses the correlations.": torch.diag(cov.diagonal()),
        "the factor is transposed: with samples as ROW vectors, z = μ + ε Lᵀ (that is, (L εᵀ)ᵀ); ε L "
        "gives the covariance Lᵀ L ≠ Σ.": L.T @ L,
    }
    judge(A @ A.T, cov, wrong, what="covariance A Aᵀ of your samples")
    mu_g, cov_g = mu.clone().requires_grad_(), cov.clone().requires_grad_()
    z_g = fn(mu_g, cov_g, eps.clone())
    if not (torch.is_tensor(z_g) and z_g.requires_grad):
        raise CheckFailed("the values are right, but no gradient reaches μ and Σ: build z from them with "
                          "differentiable operations (torch.linalg.cholesky is differentiable).")
    grads = torch.autograd.grad(z_g.sum(), (mu_g, cov_g), allow_unused=True)
    if any(g is None for g in grads):
        raise CheckFailed("no gradient reaches μ or Σ: build z from them with differentiable operations.")


q32c = Question(
    name="q32c",
    prompt="Write `reparameterise_full(mu, cov, eps)`: samples of N(mu, cov) with a FULL covariance (d, d), "
           "built from the standard-normal noise eps (n, d), one sample per row, shape (n, d), "
           "differentiable in mu and cov.",
    checker=_check_reparameterise_full,
    hints=["If ε ~ N(0, I), then A ε ~ N(0, A Aᵀ). You need some A with A Aᵀ = Σ.",
           "The Cholesky factor L = torch.linalg.cholesky(cov) has L Lᵀ = Σ; with samples as rows, "
           "z = mu + eps @ L.T."],
    solution_code="""
def reparameterise_full(mu, cov, eps):
    L = torch.linalg.cholesky(cov)               # lower triangular, L L^T = cov
    return mu + eps @ L.T                        # each row: mu + L eps_i
""",
)


# --------------------------------------------------------------------------------------------------
# 3.2d Debug: a sampler with three bugs (errata E31, E30/E77)
# --------------------------------------------------------------------------------------------------

def _check_sample_z(fn: Callable) -> None:
    B = 4000
    mu_row = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    lv_row = torch.tensor([-1.0, 0.5, 1.5], dtype=torch.float64)      # variances 0.37, 1.65, 4.48
    mu = mu_row.expand(B, 3).clone().requires_grad_()
    logvar = lv_row.expand(B, 3).clone().requires_grad_()
    gen = torch.Generator().manual_seed(323)
    z = fn(mu, logvar, gen)
    value = as_tensor(z.detach() if torch.is_tensor(z) else z, "sample z")
    if value.shape != (B, 3):
        raise CheckFailed(f"z should have the shape of mu, {(B, 3)}; got {tuple(value.shape)}.")
    if (value - value[0]).abs().max() < 1e-12:
        raise CheckFailed("every image got the same noise: `torch.randn(mu.shape[-1])` draws ONE ε and "
                          "broadcasting reuses it for the whole batch. Each code needs its own ε: draw "
                          "noise of shape mu.shape.")
    var = value.var(0)
    mean = value.mean(0)
    known = {
        "the spread is |logvar|, as if logvar were the standard deviation (errata E31): logvar is log σ², "
        "so σ = exp(logvar / 2).": lv_row**2,
        "exp(logvar) is the VARIANCE σ²: scale ε by σ = exp(logvar / 2).": (2 * lv_row).exp(),
        "exp(−logvar / 2) is 1/σ: the sign in the exponent is flipped.": (-lv_row).exp(),
    }
    if not ((var / lv_row.exp() - 1).abs() < 0.1).all():
        for message, v in known.items():
            if ((var / v - 1).abs() < 0.1).all():
                raise CheckFailed(message)
        if var.max() < 1e-12:
            raise CheckFailed("there is no noise: z = μ is a point, the deterministic encoder of errata E77.")
        raise CheckFailed(f"the samples' variances per dimension are {var.numpy().round(3)}, but "
                          f"exp(logvar) = {lv_row.exp().numpy().round(3)}.")
    if not ((mean - mu_row).abs() < 4 * (lv_row.exp() / B).sqrt()).all():
        raise CheckFailed(f"the samples' means are {mean.numpy().round(3)}, not mu = {mu_row.numpy()}.")
    if not (torch.is_tensor(z) and z.requires_grad):
        raise CheckFailed("the samples are right, but no gradient flows back: `.detach()` (or torch.no_grad) "
                          "cuts z off from μ and logvar, so the reconstruction term cannot train the encoder "
                          "(the split loss of errata E30). Keeping that path is the point of the trick.")
    g_mu, g_lv = torch.autograd.grad(z.sum(), (mu, logvar), allow_unused=True)
    if g_mu is None or g_lv is None:
        raise CheckFailed("no gradient reaches μ or logvar: build z from them with differentiable operations.")
    judge(g_mu, torch.ones(B, 3, dtype=torch.float64), {}, what="gradient dz/dμ")
    judge(g_lv, 0.5 * (value - mu_row), {}, what="gradient dz/dlogvar (it should be (z − μ)/2)")


q32d = Question(
    name="q32d",
    prompt="Repair `sample_z(mu, logvar, gen)`: it should return one reparameterised sample "
           "z ~ N(mu, diag exp(logvar)) per row of the (B, Z) tensors, drawing its noise from the generator gen, "
           "with gradients reaching mu and logvar. The snippet has three bugs.",
    checker=_check_sample_z,
    hints=["One bug per line: what is logvar (errata E31)? How many ε does torch.randn(mu.shape[-1]) draw for "
           "a batch? What does .detach() do to the encoder's gradient?",
           "`std = torch.exp(0.5 * logvar)`, `eps = torch.randn(mu.shape, generator=gen, dtype=mu.dtype)`, "
           "`return mu + std * eps`."],
    solution_code="""
def sample_z(mu, logvar, gen):
    std = torch.exp(0.5 * logvar)                                  # logvar is log sigma^2
    eps = torch.randn(mu.shape, generator=gen, dtype=mu.dtype)     # one eps per code
    return mu + std * eps                                          # no detach: gradients flow
""",
)


# --------------------------------------------------------------------------------------------------
# 3.3c Apply: the KL between two full-covariance Gaussians
# --------------------------------------------------------------------------------------------------

def _kl_full(m1, S1, m2, S2):
    d = len(m1)
    P2 = torch.linalg.inv(S2)
    diff = m2 - m1
    return 0.5 * (torch.trace(P2 @ S1) + diff @ P2 @ diff - d + torch.logdet(S2) - torch.logdet(S1))


def _check_kl_full(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(332)
    for d in (3, 2, 4):
        m1, m2 = _normal(gen, d), _normal(gen, d)
        S1, S2 = _random_cov(gen, d), 0.7 * _random_cov(gen, d)
        expected = _kl_full(m1, S1, m2, S2)
        P1, P2 = torch.linalg.inv(S1), torch.linalg.inv(S2)
        diff = m2 - m1
        tr, maha, logdets = torch.trace(P2 @ S1), diff @ P2 @ diff, torch.logdet(S2) - torch.logdet(S1)
        marginals = sum(_kl_full(m1[j:j + 1], S1[j:j + 1, j:j + 1], m2[j:j + 1], S2[j:j + 1, j:j + 1])
                        for j in range(d))
        wrong = {
            "this is KL(p ‖ q), the other direction: KL(q ‖ p) = E_q[log q − log p] puts Σ_p⁻¹ in the trace "
            "and the Mahalanobis term.": _kl_full(m2, S2, m1, S1),
            "the ½ is missing.": 2 * expected,
            "the −d is missing: the KL must be 0 when the two Gaussians are equal.": expected + 0.5 * d,
            "the log-determinants have the wrong sign: the term is log det Σ_p − log det Σ_q (q's own "
            "entropy enters with −log det Σ_q).": 0.5 * (tr + maha - d - logdets),
            "the mean difference is measured with Σ_q⁻¹; it is (μ_p − μ_q)ᵀ Σ_p⁻¹ (μ_p − μ_q).":
                0.5 * (tr + diff @ P1 @ diff - d + logdets),
            "tr(Σ_p Σ_q) instead of tr(Σ_p⁻¹ Σ_q): the trace uses the INVERSE of p's covariance.":
                0.5 * (torch.trace(S2 @ S1) + maha - d + logdets),
            "you summed the KLs of the 1-D marginals: that is the KL only for diagonal covariances; "
            "correlations change it.": marginals,
        }
        judge(fn(m1.clone(), S1.clone(), m2.clone(), S2.clone()), expected, wrong,
              what=f"KL(q ‖ p) in d = {d}")


q33c = Question(
    name="q33c",
    prompt="Write `kl_full(mu_q, cov_q, mu_p, cov_p)`: KL(N(mu_q, cov_q) ‖ N(mu_p, cov_p)) for two "
           "Gaussians with full covariances, mu (d,), cov (d, d). Derive it the way 3.3 derives the "
           "diagonal case. Return a scalar.",
    checker=_check_kl_full,
    hints=["E_q[(z − m)ᵀ M (z − m)] = tr(M Σ_q) + (μ_q − m)ᵀ M (μ_q − m) for any matrix M; apply it to "
           "log q and log p.",
           "KL = ½ [tr(Σ_p⁻¹ Σ_q) + (μ_p − μ_q)ᵀ Σ_p⁻¹ (μ_p − μ_q) − d + log det Σ_p − log det Σ_q]."],
    solution_code="""
def kl_full(mu_q, cov_q, mu_p, cov_p):
    d = len(mu_q)
    prec_p = torch.linalg.inv(cov_p)
    diff = mu_p - mu_q
    return 0.5 * (torch.trace(prec_p @ cov_q) + diff @ prec_p @ diff - d
                  + torch.logdet(cov_p) - torch.logdet(cov_q))
""",
)


# --------------------------------------------------------------------------------------------------
# 3.3d Debug: Article E's VAE loss (errata E87)
# --------------------------------------------------------------------------------------------------

def _check_article_e_loss(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(333)
    B, D, J = 6, 10, 4
    x, x_hat = _normal(gen, B, D), _normal(gen, B, D)
    mu, logvar = _normal(gen, B, J), 0.8 * _normal(gen, B, J)
    recon = 0.5 * ((x - x_hat) ** 2).sum(dim=1)
    var, x2, mu2 = logvar.exp(), (x**2).sum(dim=1), (mu**2).sum(dim=1)
    rest = (var - 1).sum(dim=1)
    expected = (recon + 0.5 * (mu2 + rest - logvar.sum(dim=1))).mean()
    wrong = {
        "this is still the article's loss: two things are wrong in its KL (errata E87).":
            (recon + 0.5 * (rest + logvar.sum(dim=1) - x2)).mean(),
        "the sign of log σ² is fixed, but the KL still contains −Σ x²: the data enter the KL only through "
        "μ(x) and σ(x); the term is +μ_j², summed over the latent dimensions.":
            (recon + 0.5 * (rest - logvar.sum(dim=1) - x2)).mean(),
        "μ² is in, but with a minus sign: E_q[z²] = μ² + σ² enters with +.":
            (recon + 0.5 * (-mu2 + rest - logvar.sum(dim=1))).mean(),
        "μ² is in, but log σ² still has the article's + sign: it is −log σ², the term that grows as σ → 0 "
        "and keeps the posterior from shrinking to a point.": (recon + 0.5 * (mu2 + rest + logvar.sum(dim=1))).mean(),
        "x does not belong in the KL at all, with either sign: it is a function of μ and σ only.":
            (recon + 0.5 * (x2 + rest - logvar.sum(dim=1))).mean(),
        "the loss is averaged over the batch (the article's 1/N), not summed.":
            (recon + 0.5 * (mu2 + rest - logvar.sum(dim=1))).sum(),
    }
    judge(fn(x.clone(), x_hat.clone(), mu.clone(), logvar.clone()), expected, wrong, what="loss")


q33d = Question(
    name="q33d",
    prompt="Repair `vae_loss(x, x_hat, mu, logvar)`, Article E's VAE loss (errata E87) for a Gaussian decoder "
           "with unit variance: the batch average of ½‖x − x̂‖² + KL(q(z|x) ‖ N(0, I)); x, x_hat (B, D), "
           "mu, logvar (B, J).",
    checker=_check_article_e_loss,
    hints=["Compare its KL with the closed form of 3.3, term by term. Which tensor belongs where x² is?",
           "KL = ½ Σ_j (μ_j² + σ_j² − 1 − log σ_j²): `0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=1)`."],
    solution_code="""
def vae_loss(x, x_hat, mu, logvar):
    recon = 0.5 * ((x - x_hat) ** 2).sum(dim=1)                       # (B,)
    kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=1)         # over the J latent dims, (B,)
    return (recon + kl).mean()
""",
)


# --------------------------------------------------------------------------------------------------
# 3.4c Predict: the rate of the best beta-VAE encoder at beta = 4 on a 1-D linear-Gaussian model
# --------------------------------------------------------------------------------------------------

W_34C, SIGMA_34C, BETA_34C = 2.0, 0.5, 4.0


def optimal_rate(beta: float = BETA_34C, w: float = W_34C, sigma: float = SIGMA_34C) -> float:
    """E_x KL(q(z|x) || p(z)) of the linear encoder q = N(a x + c, s^2) that maximises E_x[L_beta], found by
    L-BFGS on the closed-form objective; model z ~ N(0, 1), x = w z + sigma eps."""
    var_x = w**2 + sigma**2                                   # x ~ N(0, w^2 + sigma^2)
    params = torch.tensor([0.1, 0.3, 0.0], dtype=torch.float64, requires_grad=True)   # a, c, log s^2

    def parts():
        a, c, log_s2 = params
        s2 = log_s2.exp()
        # E_x E_q (x - w z)^2 with z = a x + c + s xi: ((1 - w a)^2 var_x + w^2 c^2) + w^2 s^2
        sq = (1 - w * a) ** 2 * var_x + w**2 * c**2 + w**2 * s2
        distortion = 0.5 * math.log(2 * math.pi * sigma**2) + sq / (2 * sigma**2)
        rate = 0.5 * (s2 + a**2 * var_x + c**2 - 1 - log_s2)
        return distortion, rate

    opt = torch.optim.LBFGS([params], max_iter=500, tolerance_grad=1e-12, tolerance_change=1e-15,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        distortion, rate = parts()
        loss = distortion + beta * rate
        loss.backward()
        return loss

    opt.step(closure)
    return parts()[1].item()


q34c = prediction(
    name="q34c",
    prompt=f"Model: z ~ N(0, 1), x = {W_34C:g} z + {SIGMA_34C:g} ε (one observed dimension). At β = 1 the best "
           "encoder is the exact posterior and its rate is I(x; z) = ½ log(1 + w²/σ²) = ½ log 17. Predict the "
           f"rate (nats) of the encoder q(z|x) = N(a x + c, s²) that maximises the β-VAE objective at "
           f"β = {BETA_34C:g}. Within 20% counts.",
    measure=optimal_rate,
    rel_tol=0.2,
    unit=" nats",
    explanation="The optimum is the tempered posterior q ∝ p(z) p(x|z)^{1/β}, the posterior of a model whose "
                "noise variance is βσ²: a smaller gain a and a larger s² than at β = 1. Its information "
                "I_q = ½ log(1 + a² Var(x)/s²) is close to ½ log(1 + w²/(βσ²)), and a little waste "
                "KL(q(z) ‖ p(z)) is added, since the aggregate posterior is now narrower than the prior. "
                "Quadrupling β roughly halves the rate here, and it stays positive for every finite β.",
    wrong={"β changes the optimum: a larger weight on the rate buys a smaller rate. ½ log 17 is the β = 1 "
           "value.": 0.5 * math.log(17),
           "the rate does not fall like 1/β: β acts like a β times larger noise variance, and the rate of a "
           "Gaussian channel is logarithmic in the signal-to-noise ratio.": 0.5 * math.log(17) / 4,
           "no collapse at β = 4: in this model the tempered posterior keeps a nonzero gain for every "
           "finite β, so the rate is positive.": 0.0},
    hints=["3.4 shows that the best q for L_β is the tempered posterior q ∝ p(z) p(x|z)^{1/β}: the "
           "posterior of the same model with the noise variance σ² replaced by βσ².",
           "The rate of an exact-posterior encoder is the mutual information ½ log(1 + w²/σ²) for a 1-D "
           "linear-Gaussian model; replacing σ² by βσ² gives a first estimate (the exact value differs a "
           "little, because the data still have the noise variance σ², not βσ²)."],
    solution_code="""
# tempered posterior (w = 2, sigma = 0.5, beta = 4): precision 1 + w^2 / (beta sigma^2) = 5, so s^2 = 1/5;
# mean gain a = w / (beta sigma^2) / 5 = 2/5; x has variance w^2 + sigma^2.  Rate = E_x KL(N(a x, s^2) || N(0, 1))
answer = 0.5 * (1 / 5 + (2 / 5) ** 2 * (2.0**2 + 0.5**2) - 1 + math.log(5))
""",
)


# --------------------------------------------------------------------------------------------------
# 3.4d Debug: a beta-VAE loss with beta on the wrong term (errata E64) and a per-pixel mean
# --------------------------------------------------------------------------------------------------

def _check_beta_vae_loss(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(334)
    B, D, Z = 5, 20, 3
    x = (torch.rand(B, D, generator=gen) < 0.4).double()
    logits = 2 * _normal(gen, B, D)
    mu, logvar = _normal(gen, B, Z), 0.5 * _normal(gen, B, Z)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none")   # (B, D)
    recon, kl = bce.sum(dim=1), _kl(mu, logvar)                                               # (B,) each
    for beta in (4.0, 0.25):
        expected = (recon + beta * kl).mean()
        wrong = {
            "this is still the article's version: β multiplies the reconstruction (errata E64), and the "
            "reconstruction is a per-pixel mean.": beta * bce.mean() + kl.mean(),
            "β is on the KL now, but the reconstruction is still averaged over the pixels (the default "
            "reduction='mean' of F.binary_cross_entropy_with_logits): it is D times too small, so the KL "
            "weighs like β·D. −log p(x|z) is the SUM over the pixels of an image.": bce.mean() + beta * kl.mean(),
            "the reconstruction is summed now, but β still multiplies it: the β-VAE weights the KL, "
            "D + β R (errata E64). β·D + R is the objective for 1/β, scaled.": (beta * recon + kl).mean(),
            "the loss is the batch MEAN of the per-image losses, not their sum.": (recon + beta * kl).sum(),
            "β is ignored: this is the plain negative ELBO (β = 1).": (recon + kl).mean(),
        }
        judge(fn(x.clone(), logits.clone(), mu.clone(), logvar.clone(), beta), expected, wrong,
              what=f"β-VAE loss at β = {beta}")


q34d = Question(
    name="q34d",
    prompt="Repair `beta_vae_loss(x, logits, mu, logvar, beta)`: the batch average of the β-VAE loss "
           "−log p(x|z) + β KL(q(z|x) ‖ p(z)) for a Bernoulli decoder; x binary (B, D), logits the decoder's "
           "output for one z ~ q(z|x), mu and logvar (B, Z). The snippet has two bugs.",
    checker=_check_beta_vae_loss,
    hints=["Which term does β weigh in Higgins et al.'s objective? And what does "
           "F.binary_cross_entropy_with_logits return by default?",
           "`recon = F.binary_cross_entropy_with_logits(logits, x, reduction='none').sum(dim=1)`; "
           "return `(recon + beta * kl).mean()` with the per-image KL."],
    solution_code="""
def beta_vae_loss(x, logits, mu, logvar, beta):
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none")
    recon = bce.sum(dim=1)                                            # -log p(x | z) per image
    kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=1)         # KL per image
    return (recon + beta * kl).mean()
""",
)
