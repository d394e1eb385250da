"""Exercises of Part I, the concepts. Introduced in 1.1.

Usage in a notebook::

    from aigc_course.exercises import ch1
    ch1.q11a.check(mixture_log_density)   # prints a verdict, returns True/False, never raises
    ch1.q11a.hint()
    ch1.q11a.solution()

Questions are named by section: ``q11a`` is the first exercise of 1.1. Each checker runs the answer
on its own inputs (a private generator: the global RNG is left alone), compares it with a reference
computed independently (``torch.distributions``, real PyTorch layers, autograd,
``F.scaled_dot_product_attention``) and, when it differs, names the common wrong answer it matches.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Categorical, MixtureSameFamily, MultivariateNormal, Normal, kl_divergence

from aigc_course.exercises import CheckFailed, Question, as_tensor, close, judge, prediction

__all__ = ["q11a", "q11b", "q11c", "q11d", "q12a", "q12b", "q12c", "q12d", "q12e", "q13a", "q13b", "q13c", "q13d",
           "q13e", "q14a", "q14b", "q14c", "q14d", "q14e"]


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --------------------------------------------------------------------------------------------------
# 1.1 What AIGC is: a generative model is a distribution we can evaluate and sample
# --------------------------------------------------------------------------------------------------

_W = torch.tensor([0.2, 0.5, 0.3], dtype=torch.float64)     # mixture weights
_MU = torch.tensor([-3.0, 0.0, 4.0], dtype=torch.float64)   # component means
_SD = torch.tensor([0.5, 1.5, 2.0], dtype=torch.float64)    # component standard deviations


def _mixture(w: torch.Tensor, mu: torch.Tensor, sd: torch.Tensor) -> MixtureSameFamily:
    return MixtureSameFamily(Categorical(probs=w), Normal(mu, sd))


def _check_mixture_log_density(fn: Callable) -> None:
    x = torch.linspace(-8, 10, 37, dtype=torch.float64)
    expected = _mixture(_W, _MU, _SD).log_prob(x)
    comp = Normal(_MU, _SD).log_prob(x[:, None])                    # (N, K): log N(x | mu_k, sd_k)
    wrong = {
        "you averaged the log-densities, sum_k w_k log N(x | mu_k, sd_k). The mixture's density is "
        "sum_k w_k N(x | mu_k, sd_k): take the log of the weighted SUM (logsumexp of log w_k + log N_k).":
            (_W * comp).sum(dim=1),
        "the weights are missing: logsumexp_k log N(x | mu_k, sd_k) is log of the SUM of the component "
        "densities, which integrates to K, not 1. Add log w_k inside the logsumexp.":
            torch.logsumexp(comp, dim=1),
        "you returned the density, not its logarithm.": expected.exp(),
        "the standard deviations were used as variances: Normal(mu, sd) takes the standard deviation.":
            _mixture(_W, _MU, _SD.sqrt()).log_prob(x),
        "you took the log of the largest weighted component only (a max instead of a sum): that is a "
        "lower bound, not the mixture's log-density.": (_W.log() + comp).max(dim=1).values,
    }
    judge(fn(x.clone(), _W.clone(), _MU.clone(), _SD.clone()), expected, wrong,
          what="mixture log-density", atol=1e-6, rtol=1e-6)
    far = torch.tensor([-60.0, 100.0], dtype=torch.float64)  # every component's density underflows
    value = as_tensor(fn(far.clone(), _W.clone(), _MU.clone(), _SD.clone()), "mixture log-density")
    if not torch.isfinite(value).all():
        raise CheckFailed("right formula, but not numerically stable: at x = 100 every component density "
                          "underflows to 0 and log(0) = −inf. Work with log-densities and combine them "
                          "with torch.logsumexp.")
    close(value, _mixture(_W, _MU, _SD).log_prob(far), atol=1e-6, rtol=1e-9,
          what="log-density far from every mode")


q11a = Question(
    name="q11a",
    prompt="Write `mixture_log_density(x, weights, means, stds)`: the log-density of the 1-D Gaussian "
           "mixture sum_k w_k N(x | mu_k, sd_k^2) at the points x (a 1-D tensor); weights, means and stds "
           "are 1-D tensors of length K. It must stay finite far from every mode.",
    checker=_check_mixture_log_density,
    hints=["log p(x) = log sum_k exp(log w_k + log N(x | mu_k, sd_k)): a log of a sum, not a sum of logs.",
           "`torch.distributions.Normal(means, stds).log_prob(x[:, None])` has shape (N, K); add "
           "`weights.log()` and take `torch.logsumexp(..., dim=1)`."],
    solution_code="""
def mixture_log_density(x, weights, means, stds):
    log_components = Normal(means, stds).log_prob(x[:, None])       # (N, K)
    return torch.logsumexp(weights.log() + log_components, dim=1)   # (N,)
""",
)


def _ks_distance(samples: torch.Tensor, cdf: Callable[[torch.Tensor], torch.Tensor]) -> float:
    """Kolmogorov–Smirnov distance between the samples' empirical CDF and ``cdf``."""
    x, _ = torch.sort(samples.flatten())
    n = len(x)
    f = cdf(x)
    i = torch.arange(1, n + 1, dtype=torch.float64)
    return torch.maximum(i / n - f, f - (i - 1) / n).max().item()


def _mixture_cdf(w, mu, sd) -> Callable[[torch.Tensor], torch.Tensor]:
    return lambda x: (w * Normal(mu, sd).cdf(x[:, None])).sum(dim=1)


_N_SAMPLES = 40_000
_KS_LIMIT = 0.012  # 1.63/sqrt(n) = 0.0082 is the 1% critical value: a right sampler stays well below


def _check_sample_mixture(fn: Callable) -> None:
    raw = fn(_N_SAMPLES, _W.clone(), _MU.clone(), _SD.clone(), _gen(11))
    x = as_tensor(raw, "samples")
    if x.shape != (_N_SAMPLES,):
        raise CheckFailed(f"return a 1-D tensor of n = {_N_SAMPLES} samples, got shape {tuple(x.shape)}.")
    if not torch.isfinite(x).all():
        raise CheckFailed("some samples are inf or nan.")
    again = as_tensor(fn(_N_SAMPLES, _W.clone(), _MU.clone(), _SD.clone(), _gen(11)), "samples")
    if not torch.equal(x, again):
        raise CheckFailed("two calls with identically seeded generators gave different samples: pass "
                          "`generator=generator` to every random function (torch.multinomial, torch.randn).")
    if _ks_distance(x, _mixture_cdf(_W, _MU, _SD)) < _KS_LIMIT:
        return
    mean = (_W * _MU).sum()
    wrong = {
        "you mixed the component samples, sum_k w_k (mu_k + sd_k eps_k), instead of choosing ONE component "
        "per sample: a weighted average of Gaussians is a single Gaussian, not a mixture with three modes.":
            [_mixture_cdf(torch.ones(1, dtype=torch.float64), mean.view(1),
                          ((_W * _SD) ** 2).sum().sqrt().view(1)),
             _mixture_cdf(torch.ones(1, dtype=torch.float64), mean.view(1), (_W * _SD).sum().view(1))],
        "the components were chosen with equal probability: draw component k with probability w_k "
        "(torch.multinomial(weights, n, replacement=True)).": [_mixture_cdf(torch.full((3,), 1 / 3,
                                                                          dtype=torch.float64), _MU, _SD)],
        "the standard deviations were used as variances (or the other way round): x = mu_k + sd_k * eps.":
            [_mixture_cdf(_W, _MU, _SD.sqrt()), _mixture_cdf(_W, _MU, _SD ** 2)],
        "every sample comes from the component with the largest weight: choose a component at random for "
        "each sample.": [_mixture_cdf(torch.ones(1, dtype=torch.float64), _MU[1:2], _SD[1:2])],
    }
    for message, cdfs in wrong.items():
        if any(_ks_distance(x, cdf) < _KS_LIMIT for cdf in cdfs):
            raise CheckFailed(message)
    raise CheckFailed(f"the samples do not follow the mixture: the largest gap between their empirical CDF "
                      f"and the mixture's CDF is {_ks_distance(x, _mixture_cdf(_W, _MU, _SD)):.3f} "
                      f"(a correct sampler of n = {_N_SAMPLES} stays below {_KS_LIMIT}).")


q11b = Question(
    name="q11b",
    prompt="Write `sample_mixture(n, weights, means, stds, generator)`: n samples (a 1-D tensor) of the "
           "1-D Gaussian mixture sum_k w_k N(mu_k, sd_k^2), using `generator` for all randomness.",
    checker=_check_sample_mixture,
    hints=["Ancestral sampling: first draw which component each sample comes from, then draw from it.",
           "`k = torch.multinomial(weights, n, replacement=True, generator=generator)`, then "
           "`means[k] + stds[k] * torch.randn(n, generator=generator, dtype=means.dtype)`."],
    solution_code="""
def sample_mixture(n, weights, means, stds, generator):
    k = torch.multinomial(weights, n, replacement=True, generator=generator)  # component of each sample
    return means[k] + stds[k] * torch.randn(n, generator=generator, dtype=means.dtype)
""",
)


# --------------------------------------------------------------------------------------------------
# 1.1c Predict: how many modes does a small sample miss?
# --------------------------------------------------------------------------------------------------

_N_MODES, _N_DRAWS = 25, 50


def _empty_modes() -> float:
    """Mean number of the 25 equally likely modes that receive none of 50 ancestral samples (simulated)."""
    trials = 4000
    k = torch.randint(_N_MODES, (trials, _N_DRAWS), generator=_gen(113))
    counts = torch.zeros(trials, _N_MODES).scatter_add_(1, k, torch.ones(trials, _N_DRAWS))
    return (counts == 0).sum(1).double().mean().item()


q11c = prediction(
    "q11c",
    prompt=f"Draw n = {_N_DRAWS} samples from a mixture of {_N_MODES} components with equal weights 1/{_N_MODES} "
           "(ancestral sampling, as on the page). On average, how many of the components receive no sample at "
           "all? Predict a number before computing; within ±0.5 counts.",
    measure=_empty_modes,
    abs_tol=0.5,
    explanation=f"Each component is missed by all {_N_DRAWS} draws with probability (1 − 1/{_N_MODES})^{_N_DRAWS} "
                f"≈ e^(−{_N_DRAWS}/{_N_MODES}), so about {_N_MODES} · 0.13 ≈ 3 components stay empty although "
                "there are two draws per component. A sample that misses modes is not proof that the MODEL "
                "misses them: judge mode coverage with many more samples than modes.",
    wrong={"with two draws per component on average it is tempting to expect every component to be hit, "
           "but the draws are random: a given component is missed by all of them with probability "
           f"(1 − 1/{_N_MODES})^{_N_DRAWS} ≈ 0.13 (that is the probability for ONE component; multiply by "
           f"{_N_MODES}).": 0.0,
           f"that is {_N_MODES} · (1 − 1/{_N_MODES})^{_N_MODES}, the answer for {_N_MODES} draws (one per "
           f"component); with {_N_DRAWS} draws the exponent is {_N_DRAWS}.":
               _N_MODES * (1 - 1 / _N_MODES) ** _N_MODES},
    hints=["Count the expected number of empty components as a sum over components of P(component k gets "
           "no draw) (linearity of expectation).",
           f"P(one component gets none of n draws) = (1 − 1/{_N_MODES})^n."],
    solution_code=f"""
answer = {_N_MODES} * (1 - 1 / {_N_MODES}) ** {_N_DRAWS}   # 25 times P(one given component is missed)
""",
)


# --------------------------------------------------------------------------------------------------
# 1.1d Investigate: when logistic regression beats the generative classifier
# --------------------------------------------------------------------------------------------------

_GAP_NEEDED = 0.03


def _generative_rule(x: torch.Tensor, y: torch.Tensor):
    """The page's generative classifier: class shares, class means, pooled covariance -> (w, b)."""
    prior = torch.stack([(y == c).double().mean() for c in (0, 1)])
    means = torch.stack([x[y == c].mean(0) for c in (0, 1)])
    centred = x - means[y]
    prec = torch.linalg.inv(centred.T @ centred / len(x))
    w = prec @ (means[1] - means[0])
    b = -0.5 * means[1] @ prec @ means[1] + 0.5 * means[0] @ prec @ means[0] + torch.log(prior[1] / prior[0])
    return w, b


def _labelled_data(fn: Callable, n: int, seed: int):
    raw = fn(n, _gen(seed))
    try:
        x, y = raw
    except (TypeError, ValueError):
        raise CheckFailed("return a pair (x, y): x of shape (n, 2), y of shape (n,) with labels 0 and 1.")
    x, y = as_tensor(x, "inputs x"), as_tensor(y, "labels y")
    if x.shape != (n, 2) or y.shape != (n,):
        raise CheckFailed(f"for n = {n} expected x of shape ({n}, 2) and y of shape ({n},), got "
                          f"{tuple(x.shape)} and {tuple(y.shape)}.")
    if not torch.isfinite(x).all():
        raise CheckFailed("x contains inf or nan.")
    if not ((y == 0) | (y == 1)).all():
        raise CheckFailed("the labels must be 0 and 1.")
    share = y.mean().item()
    if not 0.1 <= share <= 0.9:
        raise CheckFailed(f"class 1 makes up {share:.0%} of the data: keep each class at least 10%, so that "
                          "accuracy is not won by always answering the majority class.")
    return x, y.long()


def _check_beat_generative(fn: Callable) -> str:
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    x, y = _labelled_data(fn, 1000, 1)
    again, _ = _labelled_data(fn, 1000, 1)
    if not torch.equal(x, again):
        raise CheckFailed("two calls with identically seeded generators gave different data: draw all "
                          "randomness from `generator`.")
    x_test, y_test = _labelled_data(fn, 10_000, 2)
    w, b = _generative_rule(x, y)
    acc_gen = ((x_test @ w + b > 0).long() == y_test).double().mean().item()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        logreg = LogisticRegression(C=1e4, max_iter=2000).fit(x.numpy(), y.numpy())
    acc_lr = float((logreg.predict(x_test.numpy()) == y_test.numpy()).mean())
    shown = (f"On 10 000 fresh test points: generative (shared-covariance Gaussians) {acc_gen:.3f}, "
             f"logistic regression {acc_lr:.3f}, a gap of {acc_lr - acc_gen:+.3f}.")
    if acc_lr - acc_gen >= _GAP_NEEDED:
        return (shown + " Both rules are linear; they differ in what they fit. The generative model must "
                "explain every point, so points far from the boundary (easy to classify) move its means and "
                "covariance, and the boundary with them. Logistic regression fits p(y | x) only, and a "
                "confidently right point barely pulls on it (Ng & Jordan: with a wrong model of p(x | y) the "
                "discriminative fit has the lower asymptotic error).")
    if abs(acc_lr - acc_gen) < 0.01:
        raise CheckFailed(shown + " They tie, as on the page: on data where each class is close to a Gaussian "
                          "with a shared covariance the generative model is right, and it is as good as "
                          "logistic regression. Break that assumption in a way that moves the class means or "
                          "the pooled covariance but not the best boundary.")
    raise CheckFailed(shown + f" Logistic regression must win by at least {_GAP_NEEDED:.2f}.")


q11d = Question(
    name="q11d",
    prompt="Write `make_data(n, generator)` returning (x, y): n points in 2-D and labels 0/1 (each class at "
           "least 10%), drawn with `generator`, on which logistic regression beats the page's generative "
           f"classifier (class means, pooled covariance, Bayes' rule) by at least {_GAP_NEEDED:.2f} in test "
           "accuracy, both fitted on 1 000 points and tested on 10 000 fresh ones.",
    checker=_check_beat_generative,
    hints=["The generative classifier is exactly right for Gaussian classes with one shared covariance. Which "
           "data move its class means without moving the best boundary?",
           "Add points of class 1 far from the boundary, on class 1's side (say 30% of class 1 moved 10 units "
           "further away): easy points, but they drag class 1's mean and the pooled covariance."],
    solution_code="""
def make_data(n, generator):
    y = (torch.rand(n, generator=generator) < 0.5).long()
    x = torch.randn(n, 2, generator=generator, dtype=torch.float64)
    far = torch.rand(n, generator=generator) < 0.3                   # 30% of class 1 ...
    x[y == 1] += torch.tensor([2.0, 0.0], dtype=torch.float64)
    x[(y == 1) & far] += torch.tensor([10.0, 0.0], dtype=torch.float64)  # ... far on its own side
    return x, y
""",
)


# --------------------------------------------------------------------------------------------------
# 1.2 Probability toolkit
# --------------------------------------------------------------------------------------------------

def _check_gaussian_kl(fn: Callable) -> None:
    gen = _gen(12)
    mu1, mu2 = torch.randn(20, generator=gen, dtype=torch.float64), torch.randn(20, generator=gen,
                                                                               dtype=torch.float64)
    s1 = 0.3 + 2 * torch.rand(20, generator=gen, dtype=torch.float64)
    s2 = 0.3 + 2 * torch.rand(20, generator=gen, dtype=torch.float64)
    expected = kl_divergence(Normal(mu1, s1), Normal(mu2, s2))

    def kl(m1, a, m2, b):  # the closed form, with variances a**2 and b**2
        return torch.log(b / a) + (a ** 2 + (m1 - m2) ** 2) / (2 * b ** 2) - 0.5

    wrong = {
        "the arguments are swapped: you computed KL(q || p). KL(p || q) = E_p[log p − log q] averages "
        "over the FIRST distribution, and KL is not symmetric.": kl(mu2, s2, mu1, s1),
        "the standard deviations are treated as variances: the closed form uses sigma^2 in the fraction "
        "and log(sigma2/sigma1) = ½ log(sigma2²/sigma1²).":
            0.5 * torch.log(s2 / s1) + (s1 + (mu1 - mu2) ** 2) / (2 * s2) - 0.5,
        "the −½ is missing: without it KL(p || p) = ½, but a divergence vanishes when p = q.": kl(mu1, s1, mu2,
                                                                                                s2) + 0.5,
        "the log term has the wrong sign: it is log(sigma2/sigma1), which is positive when q is wider.":
            -torch.log(s2 / s1) + (s1 ** 2 + (mu1 - mu2) ** 2) / (2 * s2 ** 2) - 0.5,
        "the mean difference must be squared and divided by 2 sigma2² (the variance of q).":
            torch.log(s2 / s1) + (s1 ** 2 + (mu1 - mu2) ** 2) / (2 * s1 ** 2) - 0.5,
    }
    judge(fn(mu1.clone(), s1.clone(), mu2.clone(), s2.clone()), expected, wrong,
          what="KL(N(mu1, s1²) || N(mu2, s2²))", atol=1e-8, rtol=1e-8)


q12a = Question(
    name="q12a",
    prompt="Write `gaussian_kl(mu1, sigma1, mu2, sigma2)`: KL(N(mu1, sigma1²) || N(mu2, sigma2²)) in nats, "
           "elementwise for tensors (sigma are standard deviations).",
    checker=_check_gaussian_kl,
    hints=["KL(p || q) = E_p[log p(x) − log q(x)]; with p Gaussian, E_p[(x − mu2)²] = sigma1² + (mu1 − mu2)².",
           "KL = log(sigma2/sigma1) + (sigma1² + (mu1 − mu2)²) / (2 sigma2²) − ½."],
    solution_code="""
def gaussian_kl(mu1, sigma1, mu2, sigma2):
    return (torch.log(sigma2 / sigma1)
            + (sigma1**2 + (mu1 - mu2)**2) / (2 * sigma2**2) - 0.5)
""",
)


def _kl_discrete(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    return (torch.xlogy(p, p) - torch.xlogy(p, q)).sum(dim=-1)


def _check_js(fn: Callable) -> None:
    gen = _gen(121)
    p = torch.rand(6, 5, generator=gen, dtype=torch.float64) + 0.05
    q = torch.rand(6, 5, generator=gen, dtype=torch.float64) + 0.05
    p, q = p / p.sum(-1, keepdim=True), q / q.sum(-1, keepdim=True)
    m = (p + q) / 2
    expected = 0.5 * _kl_discrete(p, m) + 0.5 * _kl_discrete(q, m)
    wrong = {
        "this is KL(p || q), not the Jensen–Shannon divergence: compare each distribution with the mixture "
        "m = (p + q)/2.": _kl_discrete(p, q),
        "this is the symmetrised KL, KL(p || q) + KL(q || p) (Jeffreys divergence); it is unbounded. The JSD "
        "compares p and q with their mixture m = (p + q)/2.": _kl_discrete(p, q) + _kl_discrete(q, p),
        "this is half the symmetrised KL; the JSD uses the mixture m = (p + q)/2 inside both KL terms.":
            0.5 * (_kl_discrete(p, q) + _kl_discrete(q, p)),
        "the factors ½ are missing: JSD = ½ KL(p || m) + ½ KL(q || m), at most log 2.":
            _kl_discrete(p, m) + _kl_discrete(q, m),
        "this is in bits (log base 2); the course uses natural logarithms (nats), where JSD <= log 2.":
            expected / math.log(2),
    }
    judge(fn(p.clone(), q.clone()), expected, wrong, what="Jensen–Shannon divergence", atol=1e-8, rtol=1e-8)
    disjoint_p = torch.tensor([0.5, 0.5, 0.0, 0.0], dtype=torch.float64)
    disjoint_q = torch.tensor([0.0, 0.0, 0.25, 0.75], dtype=torch.float64)
    value = as_tensor(fn(disjoint_p.clone(), disjoint_q.clone()), "Jensen–Shannon divergence")
    if not torch.isfinite(value).all():
        raise CheckFailed("with zero probabilities your function returns nan or inf: a term 0·log 0 counts "
                          "as 0 (use torch.xlogy(p, p / m), or keep only the entries where p > 0).")
    close(value, torch.tensor(math.log(2), dtype=torch.float64), atol=1e-9, rtol=0,
          what="JSD of two distributions with disjoint supports (it must be log 2)")


q12b = Question(
    name="q12b",
    prompt="Write `js_divergence(p, q)`: the Jensen–Shannon divergence, in nats, of discrete distributions "
           "given as probability tensors over the last axis (they may contain zeros).",
    checker=_check_js,
    hints=["JSD(p || q) = ½ KL(p || m) + ½ KL(q || m) with the mixture m = (p + q)/2.",
           "KL(p || m) = sum_i p_i log(p_i/m_i); `torch.xlogy(p, p / m).sum(-1)` makes 0·log 0 = 0."],
    solution_code="""
def js_divergence(p, q):
    m = (p + q) / 2
    return 0.5 * torch.xlogy(p, p / m).sum(-1) + 0.5 * torch.xlogy(q, q / m).sum(-1)
""",
)


def _check_mc_estimate(fn: Callable) -> None:
    gen = _gen(122)
    values = torch.randn(400, generator=gen, dtype=torch.float64).exp()  # log-normal: skewed values
    n = len(values)
    answer = fn(values.clone())
    try:
        mean, se = answer
    except (TypeError, ValueError):
        raise CheckFailed("return a pair (estimate, standard_error).")
    mean, se = as_tensor(mean, "estimate"), as_tensor(se, "standard error")
    judge(mean, values.mean(), {"the estimate is the sample MEAN of f(x_i), not its sum.": values.sum()},
          what="Monte Carlo estimate", atol=1e-10, rtol=1e-10)
    sd = values.std()                      # n − 1 in the denominator
    sd_biased = values.std(correction=0)   # n in the denominator: just as good for n = 400
    if any(torch.allclose(se, s / math.sqrt(n), rtol=1e-8, atol=0) for s in (sd, sd_biased)):
        return
    wrong = {
        "this is the standard deviation of the values, not of their mean: divide by sqrt(n).": [sd, sd_biased],
        "divide the standard deviation by sqrt(n), not by n: the VARIANCE of a mean of n independent values "
        "is sigma²/n, so its standard deviation is sigma/sqrt(n).": [sd / n, sd_biased / n],
        "this is the variance of the mean, sigma²/n; the standard error is its square root, sigma/sqrt(n).":
            [sd ** 2 / n, sd_biased ** 2 / n],
        "you divided the variance, not the standard deviation, by sqrt(n): the standard error is "
        "sigma/sqrt(n).": [sd ** 2 / math.sqrt(n), sd_biased ** 2 / math.sqrt(n)],
    }
    for message, candidates in wrong.items():
        if any(torch.allclose(se, c, rtol=1e-8, atol=0) for c in candidates):
            raise CheckFailed(message)
    close(se, sd / math.sqrt(n), rtol=1e-8, atol=0, what="standard error")


q12c = Question(
    name="q12c",
    prompt="Write `mc_estimate(values)`: from n values f(x_i), x_i ~ p independent, return the Monte Carlo "
           "estimate of E_p[f(X)] and its standard error, as a pair.",
    checker=_check_mc_estimate,
    hints=["The estimate is the mean of the values; its standard deviation over repeated experiments is "
           "the standard error.",
           "Var(mean of n independent values) = Var(f(X))/n, so the standard error is values.std()/sqrt(n)."],
    solution_code="""
def mc_estimate(values):
    return values.mean(), values.std() / len(values) ** 0.5
""",
)


# --------------------------------------------------------------------------------------------------
# 1.2d Apply: the KL divergence between full-covariance Gaussians
# --------------------------------------------------------------------------------------------------

def _spd(d: int, gen: torch.Generator) -> torch.Tensor:
    """A random symmetric positive-definite (d, d) matrix with correlated coordinates."""
    a = torch.randn(d, d, generator=gen, dtype=torch.float64)
    return a @ a.T + 0.5 * torch.eye(d, dtype=torch.float64)


def _check_gaussian_kl_full(fn: Callable) -> None:
    gen = _gen(124)
    for d in (1, 2, 3, 5):
        mu1, mu2 = (torch.randn(d, generator=gen, dtype=torch.float64) for _ in range(2))
        s1, s2 = _spd(d, gen), _spd(d, gen)
        expected = kl_divergence(MultivariateNormal(mu1, s1), MultivariateNormal(mu2, s2))

        def kl(m1, c1, m2, c2, minus=d, half=0.5):
            p2 = torch.linalg.inv(c2)
            diff = m2 - m1
            return half * (torch.trace(p2 @ c1) + diff @ p2 @ diff - minus
                           + torch.logdet(c2) - torch.logdet(c1))

        diag1, diag2 = torch.diag(s1.diagonal()), torch.diag(s2.diagonal())
        wrong = {
            "the arguments are swapped: you computed KL(q || p). KL(p || q) averages over the FIRST "
            "distribution, so Σ1 sits inside the trace, tr(Σ2⁻¹ Σ1).": kl(mu2, s2, mu1, s1),
            "the constant is −d/2 (one −½ per dimension), not −½: check that KL(p || p) = 0 in d dimensions.":
                kl(mu1, s1, mu2, s2, minus=1),
            "the overall ½ is missing: KL = ½ [tr(Σ2⁻¹Σ1) + (μ2 − μ1)ᵀ Σ2⁻¹ (μ2 − μ1) − d + log(det Σ2 / det Σ1)].":
                kl(mu1, s1, mu2, s2, half=1.0),
            "the log-determinant ratio is upside down: it is log(det Σ2 / det Σ1), positive when q is wider.":
                kl(mu1, s1, mu2, s2) - torch.logdet(s2) + torch.logdet(s1),
            "the trace term is tr(Σ2⁻¹ Σ1), not tr(Σ1⁻¹ Σ2).":
                kl(mu1, s1, mu2, s2) - 0.5 * torch.trace(torch.linalg.inv(s2) @ s1)
                + 0.5 * torch.trace(torch.linalg.inv(s1) @ s2),
            "the mean term uses Σ1⁻¹; it is (μ2 − μ1)ᵀ Σ2⁻¹ (μ2 − μ1), measured in q's metric.":
                kl(mu1, s1, mu2, s2) - 0.5 * (mu2 - mu1) @ torch.linalg.inv(s2) @ (mu2 - mu1)
                + 0.5 * (mu2 - mu1) @ torch.linalg.inv(s1) @ (mu2 - mu1),
            "only the diagonals were used (a sum of 1-D KLs): that ignores the correlations between "
            "coordinates. Use the full matrices: trace, inverse and log-determinant.": kl(mu1, diag1, mu2, diag2),
        }
        # in one dimension some slips (−½ for −d/2, the diagonals only) coincide with the right answer
        wrong = {m: value for m, value in wrong.items() if not torch.allclose(value, expected)}
        answer = fn(mu1.clone(), s1.clone(), mu2.clone(), s2.clone())
        judge(answer, expected, wrong, what=f"KL between {d}-dimensional Gaussians", atol=1e-8, rtol=1e-8)


q12d = Question(
    name="q12d",
    prompt="Write `gaussian_kl_full(mu1, cov1, mu2, cov2)`: KL(N(mu1, cov1) || N(mu2, cov2)) in nats for "
           "d-dimensional Gaussians (mu of shape (d,), cov of shape (d, d), symmetric positive definite).",
    checker=_check_gaussian_kl_full,
    hints=["Write KL = E_p[log p(x) − log q(x)] with the two log-densities. For x ~ p, "
           "E[(x − μ)ᵀ A (x − μ)] = tr(A Σ1) + (μ1 − μ)ᵀ A (μ1 − μ).",
           "KL = ½ [tr(Σ2⁻¹Σ1) + (μ2 − μ1)ᵀ Σ2⁻¹ (μ2 − μ1) − d + log det Σ2 − log det Σ1]; "
           "`torch.linalg.solve`, `torch.trace` and `torch.logdet` do the work."],
    solution_code="""
def gaussian_kl_full(mu1, cov1, mu2, cov2):
    d = mu1.shape[0]
    diff = mu2 - mu1
    trace = torch.trace(torch.linalg.solve(cov2, cov1))          # tr(cov2^-1 cov1)
    mahalanobis = diff @ torch.linalg.solve(cov2, diff)          # (mu2 - mu1)^T cov2^-1 (mu2 - mu1)
    return 0.5 * (trace + mahalanobis - d + torch.logdet(cov2) - torch.logdet(cov1))
""",
)


# --------------------------------------------------------------------------------------------------
# 1.2e Apply: the density of a generator's output, by change of variables
# --------------------------------------------------------------------------------------------------

def _cube_log_density(x: torch.Tensor) -> torch.Tensor:
    """log p(x) of X = Z**3, Z ~ N(0, 1): the derivative of the CDF Phi(cbrt(x)), written in logs."""
    z = x.sign() * x.abs() ** (1 / 3)
    return Normal(0.0, 1.0).log_prob(z) - math.log(3) - 2 * z.abs().log()


def _check_cube_density(fn: Callable) -> None:
    x = torch.cat([-torch.logspace(-2, 1, 20, dtype=torch.float64).flip(0),
                   torch.logspace(-2, 1, 20, dtype=torch.float64)])
    # the reference, independently: a central difference of the CDF P(X <= x) = Phi(cbrt(x))
    h = 1e-6 * x.abs()
    cdf = lambda t: Normal(0.0, 1.0).cdf(t.sign() * t.abs() ** (1 / 3))  # noqa: E731
    numeric = ((cdf(x + h) - cdf(x - h)) / (2 * h)).log()
    expected = _cube_log_density(x)
    assert torch.allclose(numeric, expected, atol=1e-5), "the checker's two references disagree"
    z = x.sign() * x.abs() ** (1 / 3)
    phi = Normal(0.0, 1.0).log_prob(z)
    wrong = {
        "the Jacobian factor is missing: p_X(x) = p_Z(G⁻¹(x)) · |dG⁻¹/dx|, and G⁻¹(x) = x^(1/3) has "
        "derivative (1/3)|x|^(−2/3). Without it the density does not integrate to 1.": phi,
        "the Jacobian is upside down: you multiplied by |dG/dz| = 3z² instead of dividing by it "
        "(|dG⁻¹/dx| = 1 / |dG/dz|).": phi + math.log(3) + 2 * z.abs().log(),
        "|dG/dz| = 3z² must be evaluated at z = G⁻¹(x) = x^(1/3), not at x.": phi - math.log(3) - 2 * x.abs().log(),
        "you returned the density, not its logarithm.": expected.exp(),
        "x is the input of G here, not its output: you evaluated p_Z at x³ instead of at the cube root.":
            Normal(0.0, 1.0).log_prob(x ** 3) - math.log(3) - 2 * x.abs().log() / 3,
    }
    try:
        answer = as_tensor(fn(x.clone()), "log-density")
    except ValueError as err:  # torch.distributions refuses nan, e.g. from (-8) ** (1/3)
        if "nan" not in str(err):
            raise
        answer = torch.full_like(x, float("nan"))
        answer[20:] = 0.0
    if answer.shape == x.shape and torch.isnan(answer[:20]).all() and torch.isfinite(answer[20:]).all():
        raise CheckFailed("nan for every negative x: `x ** (1/3)` of a negative float is nan in PyTorch (a "
                          "complex root). Take the real cube root: `x.sign() * x.abs() ** (1/3)`.")
    judge(answer, expected, wrong, what="log-density of Z³", atol=1e-7, rtol=1e-7)


q12e = Question(
    name="q12e",
    prompt="A 'generator' maps noise z ~ N(0, 1) to x = G(z) = z³. Write `cube_log_density(x)`: the "
           "log-density log p_X(x) of its output, for a tensor of points x ≠ 0 of either sign.",
    checker=_check_cube_density,
    hints=["G is monotone, so change of variables applies: p_X(x) = p_Z(G⁻¹(x)) · |dG⁻¹(x)/dx|.",
           "G⁻¹(x) is the real cube root (`x.sign() * x.abs() ** (1/3)`); |dG⁻¹/dx| = 1/(3 z²) with z = G⁻¹(x)."],
    solution_code="""
def cube_log_density(x):
    z = x.sign() * x.abs() ** (1 / 3)                 # G^-1(x), the real cube root
    log_jacobian = -math.log(3) - 2 * z.abs().log()   # log |dG^-1/dx| = -log(3 z^2)
    return torch.distributions.Normal(0.0, 1.0).log_prob(z) + log_jacobian
""",
)


# --------------------------------------------------------------------------------------------------
# 1.3 Network essentials
# --------------------------------------------------------------------------------------------------

_CONV_CASES = [  # (size, kernel, stride, padding, dilation)
    (28, 4, 2, 1, 1), (7, 3, 2, 1, 1), (7, 4, 2, 1, 1), (32, 5, 1, 2, 1), (13, 3, 2, 0, 1),
    (10, 3, 1, 0, 2), (17, 5, 3, 1, 2), (4, 4, 1, 0, 1), (9, 2, 2, 0, 1), (64, 4, 2, 1, 1),
]
_CONV_WRONG = {  # message -> formula of (n, k, s, p, d); the learner's answer must match it on EVERY case
    "the +1 is missing: a kernel that fits exactly once (n + 2p = k) gives ONE output, so the count "
    "of positions is floor((n + 2p − k)/s) + 1.": lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1) // s,
    "rounded up instead of down: a kernel that would stick out past the padded border is not "
    "applied, so the formula floors.": lambda n, k, s, p, d: math.ceil((n + 2 * p - d * (k - 1) - 1) / s) + 1,
    "the dilation is missing: a kernel of size k with dilation d spans d·(k − 1) + 1 input pixels.":
        lambda n, k, s, p, d: (n + 2 * p - k) // s + 1,
    "the padding is added on BOTH sides: n + 2p, not n + p.":
        lambda n, k, s, p, d: (n + p - d * (k - 1) - 1) // s + 1,
    "the stride is missing: with stride s the kernel moves s pixels at a time, so divide by s.":
        lambda n, k, s, p, d: n + 2 * p - d * (k - 1),
}


def _check_conv_out(fn: Callable) -> None:
    answers, truths = [], []
    for n, k, s, p, d in _CONV_CASES:
        with torch.random.fork_rng():  # building a layer draws its initial weights
            layer = nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d)
        truths.append(layer(torch.zeros(1, 1, n, n)).shape[-1])  # the ground truth is PyTorch itself
        answer = fn(n, k, s, p, d)
        if isinstance(answer, float) and not answer.is_integer():
            raise CheckFailed(f"for n={n}, kernel={k}, stride={s}, padding={p} the size is {answer}, not a "
                              "whole number: use floor division //.")
        answers.append(as_tensor(answer, "output size").item())
    if answers == truths:
        return
    for message, formula in _CONV_WRONG.items():
        if answers == [formula(*case) for case in _CONV_CASES]:
            raise CheckFailed(message)
    i = next(i for i, (a, t) in enumerate(zip(answers, truths)) if a != t)
    n, k, s, p, d = _CONV_CASES[i]
    raise CheckFailed(f"for n={n}, kernel={k}, stride={s}, padding={p}, dilation={d} you gave {answers[i]:g}, "
                      f"but nn.Conv2d gives {truths[i]}.")


q13a = Question(
    name="q13a",
    prompt="Write `conv_out(n, kernel, stride, padding, dilation=1)`: the side of the output of "
           "`nn.Conv2d(..., kernel, stride, padding, dilation)` for an n×n input.",
    checker=_check_conv_out,
    hints=["Count the positions where the (dilated) kernel fits inside the padded input, stepping by the "
           "stride.",
           "The dilated kernel spans d·(k − 1) + 1 pixels: floor((n + 2p − d·(k − 1) − 1)/s) + 1."],
    solution_code="""
def conv_out(n, kernel, stride, padding, dilation=1):
    return (n + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
""",
)


def _check_batch_norm(fn: Callable) -> None:
    gen = _gen(13)
    x = torch.randn(8, 3, 5, 5, generator=gen, dtype=torch.float64)
    x = x * torch.tensor([1.0, 0.01, 4.0], dtype=torch.float64).view(1, 3, 1, 1) + 2.0  # channel 1: tiny var
    eps = 1e-4
    bn = nn.BatchNorm2d(3, eps=eps, affine=False).double().train()
    expected = bn(x)

    def normalise(dims, correction=0, eps_inside=True):
        mean = x.mean(dim=dims, keepdim=True)
        var = x.var(dim=dims, keepdim=True, correction=correction)
        return (x - mean) / ((var + eps).sqrt() if eps_inside else var.sqrt() + eps)

    wrong = {
        "you normalised each SAMPLE over (C, H, W): that is layer norm. Batch norm normalises each CHANNEL "
        "over the batch and the spatial positions, dims (0, 2, 3).": normalise((1, 2, 3)),
        "you normalised each (sample, channel) over (H, W): that is instance norm. Batch norm pools the "
        "batch too: dims (0, 2, 3).": normalise((2, 3)),
        "you normalised over the batch only (dim 0), separately for every pixel: batch norm in a conv net "
        "shares its statistics over the spatial positions too, dims (0, 2, 3).": normalise((0,)),
        "you used one mean and variance for the whole tensor: batch norm keeps one per channel.":
            normalise((0, 1, 2, 3)),
        "batch norm normalises with the BIASED variance (divide by N, `correction=0`); the unbiased one only "
        "goes into running_var.": normalise((0, 2, 3), correction=1),
        "eps goes inside the square root: (x − mean)/sqrt(var + eps), not (x − mean)/(sqrt(var) + eps).":
            normalise((0, 2, 3), eps_inside=False),
    }
    judge(fn(x.clone(), eps), expected, wrong, what="batch-normalised tensor", atol=1e-8, rtol=1e-6)


q13b = Question(
    name="q13b",
    prompt="Write `batch_norm(x, eps)`: what `nn.BatchNorm2d(C, eps=eps, affine=False)` returns in training "
           "mode for x of shape (B, C, H, W).",
    checker=_check_batch_norm,
    hints=["One mean and one variance per channel, computed over the batch and all spatial positions.",
           "`mean = x.mean(dim=(0, 2, 3), keepdim=True)`, `var = x.var(dim=(0, 2, 3), keepdim=True, "
           "correction=0)`, then `(x - mean) / torch.sqrt(var + eps)`."],
    solution_code="""
def batch_norm(x, eps=1e-5):
    mean = x.mean(dim=(0, 2, 3), keepdim=True)                 # (1, C, 1, 1)
    var = x.var(dim=(0, 2, 3), keepdim=True, correction=0)     # biased, as in training mode
    return (x - mean) / torch.sqrt(var + eps)
""",
)


def _check_sigmoid_grad(fn: Callable) -> None:
    x = torch.linspace(-6, 6, 49, dtype=torch.float64, requires_grad=True)
    (expected,) = torch.autograd.grad(torch.sigmoid(x).sum(), x)  # the ground truth is autograd
    x = x.detach()
    s = torch.sigmoid(x)
    wrong = {
        "this is sigmoid(x) itself, not its derivative.": s,
        "x·(1 − x) is the derivative written in terms of the OUTPUT: apply it to s = sigmoid(x), "
        "s·(1 − s).": x * (1 - x),
        "1 − s² is the pattern of tanh' = 1 − tanh²; for the sigmoid it is s·(1 − s).": 1 - s ** 2,
        "the derivative of the sigmoid is positive everywhere: check the sign.": -s * (1 - s),
        "1 − s is only the factor of the log-sigmoid's derivative; sigmoid' = s·(1 − s).": 1 - s,
    }
    with torch.no_grad():
        answer = fn(x.clone())
    judge(answer, expected, wrong, what="derivative of the sigmoid", atol=1e-10, rtol=1e-8)
    extreme = torch.tensor([-800.0, 800.0], dtype=torch.float64)  # exp(800) overflows float64
    with torch.no_grad():
        value = as_tensor(fn(extreme.clone()), "derivative of the sigmoid")
    if not torch.isfinite(value).all():
        raise CheckFailed("right formula, but it overflows: at x = ±800, exp(∓x) is inf in float64 and "
                          "inf/inf = nan. Write it as s·(1 − s) with s = torch.sigmoid(x).")
    close(value, torch.zeros(2, dtype=torch.float64), atol=1e-300, rtol=0,
          what="derivative far in the tails (it underflows to 0)")


q13c = Question(
    name="q13c",
    prompt="Write `sigmoid_grad(x)`: the derivative of sigmoid(x) = 1/(1 + exp(−x)), by hand (the checker "
           "switches autograd off), finite for every float64 x.",
    checker=_check_sigmoid_grad,
    hints=["Differentiate (1 + e^{−x})^{−1} with the chain rule and write the result with s = sigmoid(x).",
           "sigmoid'(x) = s·(1 − s), with s = torch.sigmoid(x)."],
    solution_code="""
def sigmoid_grad(x):
    s = torch.sigmoid(x)
    return s * (1 - s)
""",
)


# --------------------------------------------------------------------------------------------------
# 1.3d Predict: how far does one latent pixel reach through a generator?
# --------------------------------------------------------------------------------------------------

def _footprint() -> int:
    """Output pixels of a 4 -> 8 -> 16 -> 32 stack of ConvTranspose2d(4, 2, 1) that change when input pixel
    (2, 2) changes (positive random weights, so that no contributions cancel)."""
    gen = _gen(134)
    x = torch.zeros(1, 1, 4, 4, dtype=torch.float64)
    x[0, 0, 2, 2] = 1.0
    for _ in range(3):
        w = 0.5 + torch.rand(1, 1, 4, 4, generator=gen, dtype=torch.float64)
        x = F.conv_transpose2d(x, w, stride=2, padding=1)
    assert x.shape[-1] == 32
    return int((x != 0).sum())


q13d = prediction(
    "q13d",
    prompt="Three transposed convolutions with kernel 4, stride 2, padding 1 map a 4×4 map to 8×8, 16×16 and "
           "32×32 (one channel, no activations). Change ONE pixel of the 4×4 input, at row 2, column 2. How "
           "many of the 32×32 = 1024 output pixels change? Predict before computing; within ±30 counts.",
    measure=_footprint,
    abs_tol=30,
    explanation="One layer stamps a pixel onto a 4×4 patch; a run of m input pixels covers 2(m − 1) + 4 "
                "outputs per side (the patches overlap by 2). So the footprint grows 1 → 4 → 10 → 22 pixels "
                "per side, 22² = 484 pixels: a latent pixel of a DCGAN generator shapes a large part of the "
                "image, and neighbouring latent pixels share most of their footprint.",
    wrong={"that is (4·4·4)² = 4096, more than the whole 32×32 image: the patches of neighbouring input pixels "
           "overlap (stride 2 < kernel 4), so the footprints do not multiply.": 4096.0,
           "the whole image: not every output pixel depends on every input pixel. Follow the footprint layer "
           "by layer: a run of m pixels becomes 2(m − 1) + 4.": 1024.0,
           "that is 8 × 8, the product of the strides per side: each layer also widens the footprint by its "
           "kernel, 2(m − 1) + 4 outputs for m inputs.": 64.0,
           "that is (4 + 4 + 4)² = 144: the footprint does not grow by adding kernels, the strides also "
           "double it at every layer: m → 2(m − 1) + 4.": 144.0,
           "that is one layer's 4×4 stamp; the next two layers stamp every pixel of it again.": 16.0},
    hints=["Work per side, one layer at a time: how many output pixels does a run of m consecutive input "
           "pixels reach through ConvTranspose2d(kernel 4, stride 2, padding 1)?",
           "Input pixel i reaches outputs 2i − 1 ... 2i + 2, so a run of m pixels reaches 2(m − 1) + 4 "
           "outputs. Start at m = 1 and apply it three times (nothing is clipped at the border here)."],
    solution_code="""
# per side: a run of m input pixels stamps 4-wide patches 2 apart, 2 (m - 1) + 4 outputs: 1 -> 4 -> 10 -> 22
answer = 22 ** 2
""",
)


# --------------------------------------------------------------------------------------------------
# 1.3e Apply: a transposed-convolution generator for 32x32 colour images
# --------------------------------------------------------------------------------------------------

def _check_generator_32(make: Callable) -> str:
    for z_dim in (16, 100):
        net = make(z_dim)
        if not isinstance(net, nn.Module):
            raise CheckFailed(f"`make_generator_32({z_dim})` should return an nn.Module (e.g. nn.Sequential), "
                              f"got {type(net).__name__}.")
        kinds = [type(m) for m in net.modules()]
        if nn.Upsample in kinds or nn.Linear in kinds:
            raise CheckFailed("upsample with transposed convolutions only (no nn.Upsample or nn.Linear): the "
                              "exercise is about their sizes.")
        if nn.ConvTranspose2d not in kinds:
            raise CheckFailed("the network has no nn.ConvTranspose2d layer.")
        net = net.double()
        gen = _gen(135)
        z = torch.randn(4, z_dim, 1, 1, generator=gen, dtype=torch.float64)
        with torch.no_grad():
            out = net(z)
        if not torch.is_tensor(out) or out.dim() != 4:
            raise CheckFailed("the output should be a (B, 3, 32, 32) tensor.")
        b, c, h, w = out.shape
        if (h, w) != (32, 32):
            why = {28: "28×28 is the Fashion-MNIST size (7 → 14 → 28): for 32 start from 4×4 and double three "
                       "times, 4 → 8 → 16 → 32.",
                   64: "one doubling too many: 4 → 8 → 16 → 32 takes three stride-2 layers after the 4×4 seed.",
                   16: "one doubling too few: 4 → 8 → 16 → 32 takes three stride-2 layers after the 4×4 seed.",
                   8: "two doublings too few: 4 → 8 → 16 → 32 takes three stride-2 layers after the 4×4 seed."}
            raise CheckFailed(f"for z of shape (4, {z_dim}, 1, 1) the output is {h}×{w}, not 32×32. "
                              + why.get(h, "Trace the sizes with (n − 1)s − 2p + k (+ output padding)."))
        if c != 3:
            raise CheckFailed(f"the output has {c} channel(s): colour images have 3 (RGB).")
        if b != 4:
            raise CheckFailed(f"a batch of 4 noise vectors gave a batch of {b} images.")
        if not torch.isfinite(out).all() or out.abs().max() > 1:
            raise CheckFailed("the outputs must lie in [−1, 1], the range of the scaled images: end with Tanh.")
        if (out[0] - out[1]).abs().max() < 1e-6:
            raise CheckFailed("two different noise vectors gave the same image: the output must depend on z.")
        with torch.no_grad():  # small initial weights keep any output in [-1, 1]: try large ones
            for p in net.parameters():
                p.mul_(10)
            if net(10 * z).abs().max() > 1:
                raise CheckFailed("with larger weights the outputs leave [−1, 1]: the range of the scaled images "
                                  "is guaranteed only by a final Tanh.")
    n_params = sum(p.numel() for p in make(100).parameters())
    return f"{n_params:,} parameters for z_dim = 100."


q13e = Question(
    name="q13e",
    prompt="Write `make_generator_32(z_dim)`: an nn.Module that maps noise of shape (B, z_dim, 1, 1) to colour "
           "images of shape (B, 3, 32, 32) in [−1, 1], upsampling with nn.ConvTranspose2d only (no "
           "nn.Upsample, no nn.Linear).",
    checker=_check_generator_32,
    hints=["DCGAN's recipe: a first transposed convolution with kernel 4, stride 1, padding 0 turns 1×1 into "
           "4×4; each ConvTranspose2d(kernel 4, stride 2, padding 1) doubles the side.",
           "1 → 4 → 8 → 16 → 32: one stride-1 layer and three stride-2 layers, the last with 3 output "
           "channels and a Tanh; BatchNorm2d and ReLU between the others."],
    solution_code="""
from torch import nn


def make_generator_32(z_dim, width=64):
    def up(c_in, c_out):                       # doubles the side: (n - 1) * 2 - 2 + 4 = 2n
        return [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
    return nn.Sequential(
        nn.ConvTranspose2d(z_dim, 4 * width, 4, 1, 0, bias=False), nn.BatchNorm2d(4 * width), nn.ReLU(),  # 4x4
        *up(4 * width, 2 * width),                                                                # 8x8
        *up(2 * width, width),                                                                    # 16x16
        nn.ConvTranspose2d(width, 3, 4, 2, 1), nn.Tanh(),                                         # 32x32
    )
""",
)


# --------------------------------------------------------------------------------------------------
# 1.4 Attention and text generation
# --------------------------------------------------------------------------------------------------

def _attention_inputs(seed: int, t: int = 6, d: int = 8):
    gen = _gen(seed)
    q, k, v = (torch.randn(2, 3, t, d, generator=gen, dtype=torch.float64) for _ in range(3))
    return q, k, v


def _attention(q, k, v, scale, mask=None, dim=-1):
    scores = q @ k.transpose(-2, -1) * scale
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=dim) @ v


def _check_attention(fn: Callable) -> None:
    for causal in (False, True):
        q, k, v = _attention_inputs(14 + causal)
        d, t = q.shape[-1], q.shape[-2]
        expected = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        lower = torch.ones(t, t, dtype=torch.bool).tril()
        mask = lower if causal else None
        what = f"attention output (causal={causal})"
        wrong = {
            "the scores are divided by d, not by sqrt(d): with unit-variance entries q·k has variance d, "
            "and dividing by sqrt(d) brings it back to 1.": _attention(q, k, v, 1 / d, mask),
            "the scaling is missing: divide the scores Q Kᵀ by sqrt(d).": _attention(q, k, v, 1.0, mask),
            "the softmax runs over the wrong axis (the queries): each query's weights over the KEYS must sum "
            "to 1, so take softmax(dim=-1).": _attention(q, k, v, d ** -0.5, mask, dim=-2),
            "the softmax and V are missing: Q Kᵀ/sqrt(d) is the score matrix, not the attention output "
            "(errata E85).": q @ k.transpose(-2, -1) / math.sqrt(d),
        }
        if causal:
            weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(d), dim=-1)
            wrong.update({
                "the mask is the wrong way round: position t may attend to positions <= t (the lower "
                "triangle, diagonal included), never to the future.":
                    _attention(q, k, v, d ** -0.5, ~lower | torch.eye(t, dtype=torch.bool)),
                "the diagonal is masked too: a position may attend to itself (keep j <= t, not j < t).":
                    _attention(q, k, v, d ** -0.5,
                               lower & ~torch.eye(t, dtype=torch.bool)).nan_to_num(0.0),
                "the mask was applied AFTER the softmax by zeroing weights: the remaining weights no longer "
                "sum to 1. Set the masked scores to −inf before the softmax.": (weights * lower) @ v,
                "the causal mask is missing: position t must not see positions after t.":
                    _attention(q, k, v, d ** -0.5),
            })
        answer = as_tensor(fn(q.clone(), k.clone(), v.clone(), causal), what)
        if causal and answer.shape == expected.shape and not torch.isfinite(answer).all():
            if torch.isnan(answer[..., 0, :]).all() and torch.isfinite(answer[..., 1:, :]).all():
                raise CheckFailed("the diagonal is masked too: the first position then has no key left, "
                                  "and a softmax over only −inf gives nan. Keep j <= i.")
        judge(answer, expected, wrong, what=what, atol=1e-10, rtol=1e-8)


q14a = Question(
    name="q14a",
    prompt="Write `attention(q, k, v, causal=False)`: scaled dot-product attention softmax(Q Kᵀ/sqrt(d)) V "
           "for tensors of shape (..., T, d); with causal=True, position t attends only to positions <= t.",
    checker=_check_attention,
    hints=["scores = q @ k.transpose(-2, -1) / sqrt(d) has shape (..., T, T): one row per query.",
           "For the causal case set the scores above the diagonal to −inf (`masked_fill`) BEFORE a softmax "
           "over the last axis, then multiply by v."],
    solution_code="""
def attention(q, k, v, causal=False):
    scores = q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5          # (..., T, T)
    if causal:
        t = q.shape[-2]
        future = torch.ones(t, t, dtype=torch.bool).triu(1)         # j > i
        scores = scores.masked_fill(future, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v                        # (..., T, d_v)
""",
)


def _reference_probs(logits: torch.Tensor, temperature: float, top_k: int | None) -> torch.Tensor:
    scaled = logits / temperature
    if top_k is not None:
        kth = torch.topk(scaled, top_k, dim=-1).values[..., -1:]
        scaled = scaled.masked_fill(scaled < kth, float("-inf"))
    return torch.softmax(scaled, dim=-1)


def _check_next_char_probs(fn: Callable) -> None:
    gen = _gen(141)
    logits = 3 * torch.randn(4, 12, generator=gen, dtype=torch.float64)  # a batch of 4, vocabulary 12
    for temperature, top_k in [(1.0, None), (0.5, None), (2.0, None), (0.8, 3), (1.5, 5)]:
        expected = _reference_probs(logits, temperature, top_k)
        what = f"probabilities for temperature={temperature}, top_k={top_k}"
        wrong = {
            "the temperature multiplies the logits: it must DIVIDE them, so that τ < 1 sharpens the "
            "distribution and τ > 1 flattens it.": _reference_probs(logits * temperature ** 2, temperature,
                                                                    top_k),
            "the temperature is missing: softmax(logits / τ).": _reference_probs(logits, 1.0, top_k),
            "the softmax runs over the wrong axis: logits have shape (batch, vocabulary), and each row must "
            "sum to 1 (softmax(dim=-1)).": torch.softmax(logits / temperature, dim=0),
        }
        if top_k is not None:
            probs = torch.softmax(logits / temperature, dim=-1)
            kth = torch.topk(probs, top_k, dim=-1).values[..., -1:]
            smallest = torch.topk(logits, top_k, dim=-1, largest=False).values[..., -1:]
            wrong.update({
                "top-k was applied after the softmax without renormalising: the kept probabilities must sum "
                "to 1. Mask the logits with −inf first, then take the softmax.": probs * (probs >= kth),
                "you kept the k SMALLEST logits: top-k keeps the k most likely characters.":
                    torch.softmax((logits / temperature).masked_fill(logits > smallest, float("-inf")), -1),
                "top-k is missing: only the k largest logits may keep a non-zero probability.":
                    torch.softmax(logits / temperature, dim=-1),
            })
        judge(fn(logits.clone(), temperature, top_k), expected, wrong, what=what, atol=1e-10, rtol=1e-8)


q14b = Question(
    name="q14b",
    prompt="Write `next_char_probs(logits, temperature=1.0, top_k=None)`: the sampling distribution "
           "softmax(logits / temperature) over the last axis, restricted to the top_k largest logits (and "
           "renormalised) when top_k is given. logits has shape (..., V).",
    checker=_check_next_char_probs,
    hints=["Divide by the temperature first; τ → 0 approaches the argmax, τ = 1 is the model itself.",
           "For top-k: `kth = torch.topk(scaled, top_k, dim=-1).values[..., -1:]`, set the scaled logits "
           "below kth to −inf, then softmax(dim=-1)."],
    solution_code="""
def next_char_probs(logits, temperature=1.0, top_k=None):
    scaled = logits / temperature
    if top_k is not None:
        kth = torch.topk(scaled, top_k, dim=-1).values[..., -1:]     # the k-th largest, kept dims
        scaled = scaled.masked_fill(scaled < kth, float("-inf"))
    return torch.softmax(scaled, dim=-1)
""",
)


def _check_causal_mask(fn: Callable) -> None:
    sizes = (1, 4, 7)
    answers = []
    for t in sizes:
        answer = fn(t)
        if not torch.is_tensor(answer) or answer.dtype != torch.bool:
            raise CheckFailed("return a boolean tensor (True where attention is allowed), as "
                              "`F.scaled_dot_product_attention(attn_mask=...)` expects.")
        if answer.shape != (t, t):
            raise CheckFailed(f"for T = {t} the mask must have shape ({t}, {t}), got {tuple(answer.shape)}.")
        answers.append(answer)

    def lower(t):
        return torch.ones(t, t, dtype=torch.bool).tril()

    def eye(t):
        return torch.eye(t, dtype=torch.bool)

    if all(torch.equal(a, lower(t)) for a, t in zip(answers, sizes)):
        return
    wrong = {
        "True marks the FUTURE here (upper triangle): in an attn_mask, True means 'may attend', and "
        "query i may attend to keys j <= i.": lambda t: ~lower(t) | eye(t),
        "this is the mask of the positions to BLOCK (j > i); attn_mask wants True where attention is "
        "allowed, the opposite.": lambda t: ~lower(t),
        "the diagonal is missing: a position may attend to itself (j <= i, not j < i).":
            lambda t: lower(t) & ~eye(t),
        "this mask allows everything: a causal mask blocks every j > i.":
            lambda t: torch.ones(t, t, dtype=torch.bool),
    }
    for message, mask in wrong.items():
        if all(torch.equal(a, mask(t)) for a, t in zip(answers, sizes)):
            raise CheckFailed(message)
    t = next(t for a, t in zip(answers, sizes) if not torch.equal(a, lower(t)))
    raise CheckFailed(f"for T = {t} the mask differs from the lower triangle (query i may see keys j <= i).")


q14c = Question(
    name="q14c",
    prompt="Write `causal_mask(T)`: the (T, T) boolean mask, True where query i may attend to key j, for a "
           "causal (left-to-right) language model.",
    checker=_check_causal_mask,
    hints=["Row i is query i; it may look at keys 0, 1, ..., i.",
           "`torch.ones(T, T, dtype=torch.bool).tril()` (the lower triangle, diagonal included)."],
    solution_code="""
def causal_mask(T):
    return torch.ones(T, T, dtype=torch.bool).tril()
""",
)


# --------------------------------------------------------------------------------------------------
# 1.4d Predict: attention when the queries are the keys
# --------------------------------------------------------------------------------------------------

_T_SELF, _D_SELF = 32, 64


def _self_weight() -> float:
    """Mean attention weight a token gives itself when Q = K = X (random N(0, 1) rows, scaled scores)."""
    x = torch.randn(500, _T_SELF, _D_SELF, generator=_gen(144), dtype=torch.float64)
    weights = torch.softmax(x @ x.transpose(1, 2) / math.sqrt(_D_SELF), dim=-1)
    return weights.diagonal(dim1=1, dim2=2).mean().item()


q14d = prediction(
    "q14d",
    prompt=f"Self-attention without learned projections: Q = K = X, where X holds T = {_T_SELF} random "
           f"vectors with independent N(0, 1) entries in d = {_D_SELF} dimensions, scores Q Kᵀ / sqrt(d), "
           "no mask. On average, what weight does a token give ITSELF? Predict before computing; within "
           "±0.05 counts.",
    measure=_self_weight,
    abs_tol=0.05,
    explanation=f"A vector's score with itself is |x|²/sqrt(d) ≈ d/sqrt(d) = sqrt(d) = {math.sqrt(_D_SELF):.0f}, "
                "while its score with another random vector is about N(0, 1). After the softmax, e^8 beats "
                f"the other {_T_SELF - 1} terms by far: nearly all the weight stays on the token itself, and "
                "attention passes on almost nothing. That is one reason for separate learned W^Q and W^K: "
                "with them, q_i · k_i need not be the largest score.",
    wrong={f"that is 1/{_T_SELF}, uniform weights: the scores are not all alike. The score of a vector with "
           f"itself is |x|²/sqrt(d) ≈ sqrt(d), far above the others.": 1 / _T_SELF,
           "a half would need the self-score to match the sum of the other exponentials: it is about "
           f"e^{math.sqrt(_D_SELF):.0f}, far larger.": 0.5},
    hints=["Compare two scores: x_i · x_i / sqrt(d), and x_i · x_j / sqrt(d) for j ≠ i. What are their typical "
           "sizes?",
           f"|x|² ≈ d, so the self-score is ≈ sqrt(d) = {math.sqrt(_D_SELF):.0f}; the others have mean 0 and "
           f"variance 1. The self-weight is about e^8 / (e^8 + {_T_SELF - 1} · E[e^N(0,1)]), with E[e^N(0,1)] = "
           "e^0.5."],
    solution_code=f"""
answer = math.exp(8) / (math.exp(8) + {_T_SELF - 1} * math.exp(0.5))   # self-score ~ sqrt(d) = 8
""",
)


# --------------------------------------------------------------------------------------------------
# 1.4e Debug: splitting the heads
# --------------------------------------------------------------------------------------------------

def _heads_by_loop(q, k, v, n_head):
    """Attention in each head separately on its slice of the features, then the heads side by side."""
    d = q.shape[-1] // n_head
    outs = [F.scaled_dot_product_attention(q[..., i * d:(i + 1) * d], k[..., i * d:(i + 1) * d],
                                           v[..., i * d:(i + 1) * d], is_causal=True) for i in range(n_head)]
    return torch.cat(outs, dim=-1)


def _check_multi_head(fn: Callable) -> None:
    gen = _gen(145)
    for b, t, dm, h in [(2, 6, 12, 3), (1, 5, 16, 4), (3, 7, 8, 2)]:
        q, k, v = (torch.randn(b, t, dm, generator=gen, dtype=torch.float64) for _ in range(3))
        expected = _heads_by_loop(q, k, v, h)
        split_bad = [m.view(b, h, t, dm // h) for m in (q, k, v)]
        split_ok = [m.view(b, t, h, dm // h).transpose(1, 2) for m in (q, k, v)]
        sdpa = F.scaled_dot_product_attention
        wrong = {
            "both bugs are still there: `view(b, n_head, t, d)` does not split the features into heads, it "
            "reinterprets the memory (rows of different positions get mixed into one head). Split the LAST "
            "axis, view(b, t, n_head, d), then transpose(1, 2); and undo it at the end.":
                sdpa(*split_bad, is_causal=True).reshape(b, t, dm),
            "the heads are split right now, but not put back: y has shape (B, H, T, d); transpose(1, 2) to "
            "(B, T, H, d) before reshape(b, t, D), or the reshape interleaves positions and heads.":
                sdpa(*split_ok, is_causal=True).reshape(b, t, dm),
            "the heads are put back right, but the split is still a `view(b, n_head, t, d)`: that mixes "
            "positions into heads. Split the last axis: view(b, t, n_head, d).transpose(1, 2).":
                sdpa(*split_bad, is_causal=True).transpose(1, 2).reshape(b, t, dm),
            "this is single-head attention over all D features (scaled by sqrt(D)): each head must attend on "
            "its own D/H features, scaled by sqrt(D/H).": sdpa(q, k, v, is_causal=True),
            "the causal mask went missing: a language model's attention may not look ahead.":
                sdpa(*split_ok).transpose(1, 2).reshape(b, t, dm),
        }
        answer = fn(q.clone(), k.clone(), v.clone(), h)
        judge(answer, expected, wrong, what=f"multi-head output (B={b}, T={t}, D={dm}, H={h})",
              atol=1e-10, rtol=1e-8)


q14e = Question(
    name="q14e",
    prompt="Repair `multi_head(q, k, v, n_head)`: q, k, v of shape (B, T, D) (already projected) should be "
           "split into n_head heads of D/n_head features, attended causally in each head, and the heads put "
           "back side by side as (B, T, D). The given version runs without error but mixes positions and heads.",
    checker=_check_multi_head,
    hints=["Split the LAST axis: a position's D features become n_head groups, (B, T, H, D/H), and only then "
           "move the head axis forward with transpose(1, 2).",
           "Undo it in reverse order: y.transpose(1, 2) gives (B, T, H, D/H), then reshape(b, t, D)."],
    solution_code="""
def multi_head(q, k, v, n_head):
    b, t, d = q.shape
    q, k, v = (m.view(b, t, n_head, d // n_head).transpose(1, 2) for m in (q, k, v))  # (B, H, T, D/H)
    y = F.scaled_dot_product_attention(q, k, v, is_causal=True)                     # (B, H, T, D/H)
    return y.transpose(1, 2).reshape(b, t, d)                                       # (B, T, D)
""",
)
