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

from aigc_course.exercises import CheckFailed, Question, as_tensor, judge

__all__ = ["q31a", "q31b", "q32a", "q32b", "q33a", "q33b", "q34a", "q34b"]


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
