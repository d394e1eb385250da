"""Exercises of Part II, the mathematics of GANs. Introduced in 2.1.

Usage in a notebook::

    from aigc_course.exercises import ch2
    ch2.q21a.check(value_fn)     # prints a verdict, returns True/False, never raises
    ch2.q21a.hint()
    ch2.q21a.solution()

Questions are named by section: ``q21a`` is the first exercise of 2.1. Each checker runs the
answer on its own random inputs, compares it with the reference and, when it differs, names the
common wrong answer it matches (several are printed in the source articles; see the errata).
"""
from __future__ import annotations

import copy
import math
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from aigc_course import losses
from aigc_course.exercises import CheckFailed, Question, as_tensor, close, judge, prediction

__all__ = ["q21a", "q21b", "q21c", "q21d", "q21e", "q22a", "q22b", "q22c", "q22d", "q22e"]


def _probabilities(n: int, gen: torch.Generator) -> torch.Tensor:
    return 0.02 + 0.96 * torch.rand(n, generator=gen, dtype=torch.float64)


# --------------------------------------------------------------------------------------------------
# 2.1 The minimax game
# --------------------------------------------------------------------------------------------------

def _check_value(value_fn: Callable) -> None:
    gen = torch.Generator().manual_seed(21)
    d_real, d_fake = _probabilities(64, gen), _probabilities(64, gen)
    expected = d_real.log().mean() + (1 - d_fake).log().mean()
    wrong = {
        "sign flipped: you returned −V, the discriminator's binary cross-entropy loss. V itself is what "
        "D *maximises* (and G minimises).": -expected,
        "real and fake are swapped: log D goes with real data x, log(1 − D) with generated samples G(z).":
            d_fake.log().mean() + (1 - d_real).log().mean(),
        "the fake term should be log(1 − D(G(z))), not log D(G(z)): D is rewarded for giving fakes a LOW "
        "probability of being real.": d_real.log().mean() + d_fake.log().mean(),
        "the logarithms are missing: V averages log D(x) and log(1 − D(G(z))), not the probabilities.":
            d_real.mean() + (1 - d_fake).mean(),
        "V is an expectation: average each term over its batch (mean), do not sum.":
            d_real.log().sum() + (1 - d_fake).log().sum(),
    }
    judge(value_fn(d_real.clone(), d_fake.clone()), expected, wrong, what="value V(D, G)")
    try:  # the two batches need not have the same size
        uneven = value_fn(d_real[:40].clone(), d_fake.clone())
    except RuntimeError as err:
        raise CheckFailed("your function fails when the real and fake batches differ in size "
                          f"({err}); average each expectation over its own batch.")
    judge(uneven, d_real[:40].log().mean() + (1 - d_fake).log().mean(), {}, what="value V(D, G)")


q21a = Question(
    name="q21a",
    prompt="Write `value_fn(d_real, d_fake)` returning the Monte Carlo estimate of V(D, G) from the "
           "probabilities D(x) on a real batch and D(G(z)) on a generated batch (1-D tensors).",
    checker=_check_value,
    hints=["V(D, G) = E_x[log D(x)] + E_z[log(1 − D(G(z)))]: one expectation per batch.",
           "`torch.log(d_real).mean() + torch.log(1 - d_fake).mean()` (or `torch.log1p(-d_fake)`)."],
    solution_code="""
def value_fn(d_real, d_fake):
    return torch.log(d_real).mean() + torch.log1p(-d_fake).mean()
""",
)


def _check_optimal_d(optimal_d: Callable) -> None:
    gen = torch.Generator().manual_seed(211)
    p_data = torch.rand(50, generator=gen, dtype=torch.float64) * 2 + 1e-3
    p_g = torch.rand(50, generator=gen, dtype=torch.float64) * 2 + 1e-3
    expected = p_data / (p_data + p_g)
    wrong = {
        "you returned p_g / (p_data + p_g) = 1 − D*(x), the probability that x is FAKE. D outputs the "
        "probability that x is real.": p_g / (p_data + p_g),
        "p_data / p_g is the density ratio, not a probability (it can exceed 1); divide by the sum "
        "p_data + p_g instead.": p_data / p_g,
        "D*(x) = 1/2 only when p_g = p_data; in general it depends on both densities at x.":
            torch.full_like(expected, 0.5),
    }
    judge(optimal_d(p_data.clone(), p_g.clone()), expected, wrong, what="optimal discriminator D*(x)")


q21b = Question(
    name="q21b",
    prompt="Write `optimal_d(p_data, p_g)` returning D*(x) from the two densities evaluated at the "
           "same points x (tensors of equal shape).",
    checker=_check_optimal_d,
    hints=["Maximise a·log y + b·log(1 − y) over y in (0, 1) with a = p_data(x), b = p_g(x).",
           "The derivative a/y − b/(1 − y) vanishes at y = a / (a + b)."],
    solution_code="""
def optimal_d(p_data, p_g):
    return p_data / (p_data + p_g)
""",
)


def _check_disjoint_value(answer) -> None:
    log4 = math.log(4)
    wrong = {
        "−log 4 ≈ −1.386 is the MINIMUM of C(G), reached when p_g = p_data (it is also V at D = 1/2, for "
        "any G). Disjoint supports are the other extreme.": torch.tensor(-log4),
        "log 2 is the Jensen–Shannon divergence of two distributions with disjoint supports, but "
        "C(G) = −log 4 + 2·JSD.": torch.tensor(math.log(2)),
        "2·log 2 is 2·JSD; you forgot the −log 4.": torch.tensor(log4),
    }
    judge(answer, torch.tensor(0.0), wrong, what="value C(G)", atol=1e-3, rtol=0.0)


q21c = Question(
    name="q21c",
    prompt="p_data and p_g have disjoint supports (they never put mass in the same place). What is "
           "C(G) = max_D V(D, G)? Give a number.",
    checker=_check_disjoint_value,
    hints=["Where p_data > 0, p_g = 0, so D*(x) = 1; where p_g > 0, D*(x) = 0. What is log 1?",
           "Both terms of V vanish: C(G) = 0 = −log 4 + 2·log 2, the largest value C can take."],
    solution_code="""
answer = 0.0   # D* = 1 on the data, 0 on the fakes: log 1 + log 1 = 0 = -log 4 + 2 * log 2
""",
)


# --------------------------------------------------------------------------------------------------
# 2.1d Apply: the optimal discriminator of a weighted value function
# --------------------------------------------------------------------------------------------------

def _check_weighted_d(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(2114)
    p_data = torch.rand(40, generator=gen, dtype=torch.float64) * 2 + 1e-3
    p_g = torch.rand(40, generator=gen, dtype=torch.float64) * 2 + 1e-3
    for pi in (0.2, 0.75, 0.5):
        expected = pi * p_data / (pi * p_data + (1 - pi) * p_g)
        wrong = {
            "this is D* of the balanced game, p_data / (p_data + p_g): the weights π and 1 − π are "
            "missing. With a share π of real samples, D* is the posterior P(real | x) under the prior π.":
                p_data / (p_data + p_g),
            "the weights are swapped: π multiplies the REAL term (log D), so it goes with p_data.":
                (1 - pi) * p_data / ((1 - pi) * p_data + pi * p_g),
            "you weighted the numerator only: maximise π·a·log y + (1 − π)·b·log(1 − y); the derivative "
            "vanishes at y = πa / (πa + (1 − π)b), with both weights in the denominator.":
                pi * p_data / (p_data + p_g),
            "the fake weight is 1 − π, not 1: πa / (πa + (1 − π)b).": pi * p_data / (pi * p_data + p_g),
        }
        if pi == 0.5:  # at π = 1/2 every weighting gives the balanced D*; only the right one is left
            wrong = {}
        judge(fn(p_data.clone(), p_g.clone(), pi), expected, wrong, what=f"weighted D*(x) for π = {pi}")


q21d = Question(
    name="q21d",
    prompt="A batch holds a share π of real samples, so the discriminator maximises "
           "V_π(D, G) = π·E_data[log D(x)] + (1 − π)·E_g[log(1 − D(x))]. Write `optimal_d_weighted(p_data, p_g, pi)` "
           "returning the maximising D*(x) from the two densities at the same points (tensors) and π (a number).",
    checker=_check_weighted_d,
    hints=["As in 2.1, maximise the integrand point by point: f(y) = π·a·log y + (1 − π)·b·log(1 − y), with "
           "a = p_data(x), b = p_g(x).",
           "f'(y) = πa/y − (1 − π)b/(1 − y) vanishes at y = πa / (πa + (1 − π)b)."],
    solution_code="""
def optimal_d_weighted(p_data, p_g, pi):
    return pi * p_data / (pi * p_data + (1 - pi) * p_g)
""",
)


# --------------------------------------------------------------------------------------------------
# 2.1e Predict: the JSD when half of the generator's mass is off the data
# --------------------------------------------------------------------------------------------------

def _jsd_half_off() -> float:
    """JSD(N(0, 1) || ½ N(0, 1) + ½ N(20, 1)) in nats, by adaptive quadrature."""
    from scipy import integrate, stats

    def kl_term(log_a, log_b, x):  # a log(a / m) with m = (a + b) / 2, from log-densities
        log_m = np.logaddexp(log_a, log_b) - math.log(2)
        return np.exp(log_a) * (log_a - log_m)

    def integrand(x):
        log_p = stats.norm.logpdf(x)
        log_q = np.logaddexp(stats.norm.logpdf(x), stats.norm.logpdf(x, 20.0)) - math.log(2)
        return 0.5 * (kl_term(log_p, log_q, x) + kl_term(log_q, log_p, x))

    return integrate.quad(integrand, -15, 35, points=[0.0, 10.0, 20.0], limit=200)[0]


q21e = prediction(
    "q21e",
    "p_data = N(0, 1). The generator puts half of its mass exactly on the data and half far away: "
    "p_g = ½ N(0, 1) + ½ N(20, 1). Predict JSD(p_data || p_g) in nats (a number) before computing it.",
    _jsd_half_off,
    rel_tol=0.1,
    explanation="On the data's half, p_g = p_data/2, so D* = 2/3 there (not ½); on the far half D* = 0. "
                "JSD = ½ KL(p_data || m) + ½ KL(p_g || m) with m = ¾ p_data near 0 and ¼ of the far bump: "
                "½ log(4/3) + ¼ [log(2/3) + log 2] = ¾ log(4/3) ≈ 0.216 nats. The half of p_g that sits on the "
                "data still differs from it in density, and the JSD is not linear in the mixture weights.",
    wrong={
        "half the maximum, ½ log 2: the JSD is not linear in how much mass is off the data. The half on the "
        "data is not 'solved' either: there p_g is only half of p_data.": 0.5 * math.log(2),
        "log 2 is the JSD of DISJOINT distributions; here half of p_g overlaps the data.": math.log(2),
        "0 would need p_g = p_data; half of the generator's mass is 20 standard deviations away.": 0.0,
        "log(4/3) is KL(p_data || m) alone; the JSD averages it with KL(p_g || m).": math.log(4 / 3),
    },
    unit=" nats",
    hints=["Split the line into the region near 0 (p_data = φ, p_g = φ/2) and the region near 20 "
           "(p_data ≈ 0, p_g = φ(x − 20)/2). Write the mixture m in each region.",
           "Near 0, m = ¾ φ; near 20, m = ¼ φ(x − 20). KL(p_data || m) = log(4/3); "
           "KL(p_g || m) = ½ log(2/3) + ½ log 2."],
    solution_code="""
answer = 0.75 * math.log(4 / 3)   # ½ log(4/3) + ¼ (log(2/3) + log 2)
""",
)


# --------------------------------------------------------------------------------------------------
# 2.2 Gradients and the training algorithm
# --------------------------------------------------------------------------------------------------

def _check_nonsaturating(loss_fn: Callable) -> None:
    gen = torch.Generator().manual_seed(22)
    logits = 3 * torch.randn(128, generator=gen)  # float32, moderate values
    expected = F.softplus(-logits.double()).mean()
    wrong = {
        "this is the saturating loss mean log(1 − D(G(z))) of the minimax game; its gradient vanishes "
        "when D confidently rejects the fakes. Use −log D(G(z)).": -F.softplus(logits.double()).mean(),
        "this is the discriminator's loss on fakes (label 0): minimising it makes the fakes EASIER to "
        "spot. The generator wants D(G(z)) close to 1.": F.softplus(logits.double()).mean(),
        "sign flipped: a loss is minimised, so write −log D(G(z)), not log D(G(z)).":
            -F.softplus(-logits.double()).mean(),
        "average over the batch (mean), do not sum.": F.softplus(-logits.double()).sum(),
    }
    judge(loss_fn(logits.clone()), expected, wrong, what="generator loss")
    extreme = torch.tensor([-200.0, -60.0, -20.0, 0.0, 20.0, 60.0, 200.0])  # float32 on purpose
    value = as_tensor(loss_fn(extreme.clone()), "generator loss")
    reference = F.softplus(-extreme.double()).mean()
    if not torch.isfinite(value):
        raise CheckFailed("right formula, but not numerically stable: for a logit of −200, sigmoid "
                          "underflows to 0 in float32 and log(0) = −inf. Use softplus(−l) = −logsigmoid(l).")
    close(value, reference, rtol=1e-4, atol=1e-4,
          what="generator loss for large |logit| (clamping or adding eps inside the log caps it; use softplus)")


q22a = Question(
    name="q22a",
    prompt="Write `nonsat_g_loss(fake_logits)`: the non-saturating generator loss −mean log D(G(z)) from "
           "the discriminator's LOGITS (D = sigmoid(logit)), finite for any float32 logit.",
    checker=_check_nonsaturating,
    hints=["−log σ(l) = log(1 + e^{−l}) = softplus(−l).",
           "`torch.nn.functional.softplus(-fake_logits).mean()`; `torch.log(torch.sigmoid(l))` overflows."],
    solution_code="""
def nonsat_g_loss(fake_logits):
    return torch.nn.functional.softplus(-fake_logits).mean()
""",
)


def _check_chain_rule(grad_fn: Callable) -> None:
    gen = torch.Generator().manual_seed(222)
    z = torch.randn(32, generator=gen, dtype=torch.float64)
    a, b = 0.7, -0.4
    w = torch.tensor([0.3, 1.1, -0.5], dtype=torch.float64)
    x = a * z + b                                     # G(z), (B,)
    d = torch.sigmoid(w[0] + w[1] * x + w[2] * x**2)  # D(G(z)), (B,)
    dl_dx = w[1] + 2 * w[2] * x                       # slope of D's logit at x, (B,)
    dd_dx = d * (1 - d) * dl_dx                       # sigma'(l) * dl/dx, (B,)

    def both(per_sample):  # (dL/da, dL/db) from dL/dx per sample, with dx/da = z and dx/db = 1
        return torch.stack([(per_sample * z).mean(), per_sample.mean()])

    expected = both(-1 / d * dd_dx)
    wrong = {
        "dD/dx is missing: you multiplied dL/dD = −1/D directly by dx/dθ. The factor dD/dx tells the "
        "generator in which direction D's opinion improves (source article A makes the same omission: "
        "errata E05).":
            both(-1 / d),
        "you used dl/dx, the slope of D's logit, where dD/dx = σ'(l)·dl/dx = D(1 − D)·dl/dx is needed.":
            both(-1 / d * dl_dx),
        "this is the gradient of the saturating loss mean log(1 − D(G(z))); the exercise uses "
        "−mean log D(G(z)).":
            both(-d * dl_dx),
        "sign flipped: dL/dD = −1/D for L = −log D.": -expected,
        "L is a batch mean: divide by the batch size (use .mean(), not .sum()).": expected * len(z),
    }
    with torch.no_grad():  # by hand: autograd is switched off
        answer = grad_fn(z.clone(), a, b, w.clone())
    judge(answer, expected, wrong, what="gradient (dL/da, dL/db)")


q22b = Question(
    name="q22b",
    prompt="Generator x = G(z) = a·z + b, discriminator D(x) = σ(w0 + w1·x + w2·x²), loss "
           "L = −mean log D(G(z)). Write `grad_generator(z, a, b, w)` returning torch.stack([dL/da, dL/db]) "
           "BY HAND (the checker runs it under torch.no_grad()).",
    checker=_check_chain_rule,
    hints=["dL/dθ = mean over the batch of dL/dD · dD/dx · dx/dθ, with dx/da = z and dx/db = 1.",
           "dL/dD = −1/D and dD/dx = D(1 − D)(w1 + 2·w2·x), so dL/dx = −(1 − D)(w1 + 2·w2·x)."],
    solution_code="""
def grad_generator(z, a, b, w):
    x = a * z + b
    d = torch.sigmoid(w[0] + w[1] * x + w[2] * x**2)
    dl_dx = -(1 - d) * (w[1] + 2 * w[2] * x)     # dL/dD * dD/dx, per sample
    return torch.stack([(dl_dx * z).mean(), dl_dx.mean()])
""",
)


class _Flat(nn.Module):
    def forward(self, x):
        return x.flatten()  # (B, 1) -> (B,)


def _tiny_setup(seed: int):
    """A linear G, a small D (logits of shape (B,)) and a batch, without touching the global RNG."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        G = nn.Linear(1, 1)
        D = nn.Sequential(nn.Linear(1, 4), nn.Tanh(), nn.Linear(4, 1), _Flat())
        x_real, z = 2 + 0.5 * torch.randn(16, 1), torch.randn(16, 1)
    return G, D, x_real, z


def _reference_d_step(D, G, x_real, z, opt_d):
    loss = losses.gan_d_loss(D(x_real), D(G(z).detach()))
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return loss.item()


def _check_d_step(step_fn: Callable) -> str | None:
    G, D, x_real, z = _tiny_setup(2)
    stale = [torch.ones_like(p) for p in D.parameters()]  # leftovers of an earlier backward pass

    def run(fn):
        g, d = copy.deepcopy(G), copy.deepcopy(D)
        for p, s in zip(d.parameters(), stale):
            p.grad = s.clone()
        loss = fn(d, g, x_real.clone(), z.clone(), torch.optim.SGD(d.parameters(), lr=0.1))
        return g, d, loss

    def flat(module):
        return torch.cat([p.detach().flatten() for p in module.parameters()])

    _, d_ref, loss_ref = run(_reference_d_step)
    g_ans, d_ans, loss_ans = run(step_fn)
    loss_ans = as_tensor(loss_ans, "loss")
    start = flat(D)
    expected = flat(d_ref) - start
    wrong = {
        "D's parameters moved the wrong way: the step must DEcrease gan_d_loss (gradient descent on −V).":
            -expected,
        "the old gradients were not cleared: call opt_d.zero_grad() before loss.backward(), otherwise "
        ".grad accumulates over steps.": expected - 0.1 * torch.cat([s.flatten() for s in stale]),
        "D's parameters did not change: call opt_d.step() after loss.backward().": torch.zeros_like(start),
    }
    judge(flat(d_ans) - start, expected, wrong, what="change of D's parameters after one step")
    if not torch.equal(flat(g_ans), flat(G)):
        raise CheckFailed("the generator's parameters changed: the discriminator step must update D only.")
    close(loss_ans, torch.tensor(loss_ref), what="returned loss (before the step)")
    if any(p.grad is not None for p in g_ans.parameters()):
        return ("it works. Tip: use `G(z).detach()` so that backward stops at the fakes and does not "
                "compute gradients for G, which this step does not use.")
    return None


q22c = Question(
    name="q22c",
    prompt="Write `discriminator_step(D, G, x_real, z, opt_d)`: one inner step of Algorithm 1 with the "
           "package's `losses.gan_d_loss` (which takes logits). Update D only and return the loss as a float.",
    checker=_check_d_step,
    hints=["Fakes are G(z); detach them so the step does not build G's graph.",
           "zero_grad, backward, step: in that order (zero_grad may also come first)."],
    solution_code="""
def discriminator_step(D, G, x_real, z, opt_d):
    loss = losses.gan_d_loss(D(x_real), D(G(z).detach()))
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return loss.item()
""",
)


# --------------------------------------------------------------------------------------------------
# 2.2d Apply: a generator loss for the forward KL
# --------------------------------------------------------------------------------------------------

def _logit_gradient(loss_fn: Callable, logits: torch.Tensor) -> torch.Tensor:
    """d loss / d logit_i of the learner's loss, per logit: what the loss tells each sample."""
    leaf = logits.clone().requires_grad_(True)
    loss = loss_fn(leaf)
    if loss is None:
        raise CheckFailed("your function returned None: did you forget `return`?")
    if not torch.is_tensor(loss) or loss.numel() != 1:
        raise CheckFailed("return the loss as one scalar tensor (a batch mean), computed with torch from the "
                          "logits, so that it can be back-propagated.")
    if not loss.requires_grad:
        raise CheckFailed("the loss does not depend on the logits through autograd: compute it with torch "
                          "operations on `fake_logits` (no .item(), no NumPy).")
    (grad,) = torch.autograd.grad(loss.reshape(()), leaf, allow_unused=True)
    return torch.zeros_like(leaf) if grad is None else grad.detach()


def _gaussian_forward_kl_check(loss_fn: Callable) -> tuple[torch.Tensor, torch.Tensor]:
    """Back-propagate the loss through a frozen D* into G(z) = mu + s z, for p_data = N(2, 0.5²) and the
    current p_g = N(0.5, 1.2²); return (that gradient, the gradient of KL(p_data || p_g) in closed form)."""
    m, sd, mu0, s0 = 2.0, 0.5, 0.5, 1.2
    u = (torch.arange(40_000, dtype=torch.float64) + 0.5) / 40_000
    z = math.sqrt(2) * torch.special.erfinv(2 * u - 1)   # evenly spaced quantiles of N(0, 1)
    theta = torch.tensor([mu0, s0], dtype=torch.float64, requires_grad=True)
    x = theta[0] + theta[1] * z

    def log_normal(x, mu, s):
        return -0.5 * ((x - mu) / s) ** 2 - math.log(s) - 0.5 * math.log(2 * math.pi)

    logit = log_normal(x, m, sd) - log_normal(x, mu0, s0)  # D* of the current generator, held fixed
    (grad,) = torch.autograd.grad(loss_fn(logit).reshape(()), theta)
    # KL(N(m, sd²) || N(mu, s²)) = log(s/sd) + (sd² + (m − mu)²) / (2 s²) − ½
    exact = torch.tensor([-(m - mu0) / s0**2, 1 / s0 - (sd**2 + (m - mu0) ** 2) / s0**3], dtype=torch.float64)
    return grad.detach(), exact


def _check_forward_kl_loss(fn: Callable) -> str:
    gen = torch.Generator().manual_seed(224)
    logits = 1.5 * torch.randn(64, generator=gen, dtype=torch.float64)
    n = len(logits)
    d = torch.sigmoid(logits)
    r = logits.exp()                                    # p_data / p_g when D = D*
    wrong = {
        "this loss follows the REVERSE KL, KL(p_g || p_data): its per-sample weight is constant (−ℓ per "
        "sample). The forward KL weights each sample by the density ratio e^ℓ.": torch.full_like(logits, -1 / n),
        "this is the non-saturating loss −log D: against D* it follows KL(p_g || p_data) − 2 JSD (section "
        "2.2), not the forward KL.": -(1 - d) / n,
        "this is the saturating loss log(1 − D): it follows 2 JSD.": -d / n,
        "sign flipped: descending your loss moves the samples DOWN the ratio, away from the data.": r / n,
        "average over the batch (mean), do not sum.": -r,
        "this weights each sample by 2e^{2ℓ}: that is the Pearson χ² divergence χ²(p_data || p_g), another "
        "f-divergence. The forward KL needs weight e^ℓ.": -2 * r**2 / n,
        "you used the discriminator's probability D = σ(ℓ) where the density ratio p_data/p_g = D/(1 − D) "
        "= e^ℓ is needed.": -d * (1 - d) / n,
    }
    judge(_logit_gradient(fn, logits), -r / n, wrong, what="gradient of your loss with respect to each logit")
    grad, exact = _gaussian_forward_kl_check(fn)
    close(grad, exact, rtol=1e-3, atol=1e-4, what="gradient through D* for a Gaussian generator")
    return (f"Back-propagated through the optimal D* into G(z) = μ + s·z (p_data = N(2, 0.5²), p_g = N(0.5, "
            f"1.2²)), your loss gives (∂/∂μ, ∂/∂s) = ({grad[0]:.4f}, {grad[1]:.4f}); the closed-form gradient "
            f"of KL(p_data || p_g) is ({exact[0]:.4f}, {exact[1]:.4f}).")


q22d = Question(
    name="q22d",
    prompt="Against the optimal discriminator (logit ℓ* = log p_data − log p_g, held fixed during the generator's "
           "step), write `forward_kl_g_loss(fake_logits)`: a generator loss, a batch mean computed from the "
           "logits, whose gradient is the gradient of the FORWARD KL, KL(p_data || p_g).",
    checker=_check_forward_kl_loss,
    hints=["As in 2.2, a loss E_z[h(ℓ*(G(z)))] with ℓ* frozen has gradient ∫ ∇p_g(x) h(ℓ*(x)) dx. Differentiate "
           "KL(p_data || p_g) = −∫ p_data log p_g + const and write p_data = e^ℓ* · p_g.",
           "∇ KL(p_data || p_g) = −∫ (p_data / p_g) ∇p_g = ∫ ∇p_g · (−e^ℓ*): so h(ℓ) = −e^ℓ."],
    solution_code="""
def forward_kl_g_loss(fake_logits):
    return -torch.exp(fake_logits).mean()      # weight e^l = p_data / p_g per sample
""",
)


# --------------------------------------------------------------------------------------------------
# 2.2e Debug: Article D's GAN losses (errata E62, E63)
# --------------------------------------------------------------------------------------------------

def _check_article_losses(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(225)
    r = 2 * torch.randn(64, generator=gen, dtype=torch.float64)          # real logits
    f = 2 * torch.randn(48, generator=gen, dtype=torch.float64) - 1      # fake logits
    sp = F.softplus
    answer = fn(r.clone(), f.clone())
    if answer is None:
        raise CheckFailed("your function returned None: did you forget `return d_loss, g_loss`?")
    try:
        d_loss, g_loss = answer
    except (TypeError, ValueError):
        raise CheckFailed("return the pair (d_loss, g_loss).")
    d_right, g_right = sp(-r).mean() + sp(f).mean(), sp(-f).mean()
    wrong_d = {
        "d_loss still labels the fakes as REAL (errata E63): −mean log D(G(z)) is minimised by a D that "
        "calls everything real. The fake term is −mean log(1 − D(G(z))) = mean softplus(ℓ_fake).":
            sp(-r).mean() + sp(-f).mean(),
        "d_loss has the labels swapped: real samples have label 1 (softplus(−ℓ)), fakes label 0 "
        "(softplus(ℓ)).": sp(r).mean() + sp(-f).mean(),
        "these are plain means of D's probabilities (errata E68), not log-likelihoods: a perfect D would get 2, "
        "the inverted one 0.": torch.sigmoid(r).mean() + (1 - torch.sigmoid(f)).mean(),
        "one mean over the concatenated batch halves the loss and weights it by the batch sizes; the course's "
        "loss is the SUM of the two batch means (−V, as gan_d_loss).":
            torch.cat([sp(-r), sp(f)]).mean(),
        "average each term over its batch (mean), do not sum.": sp(-r).sum() + sp(f).sum(),
    }
    judge(d_loss, d_right, wrong_d, what="discriminator loss d_loss")
    wrong_g = {
        "g_loss is still the discriminator's loss (errata E62): minimising it in G makes the fakes EASIER to "
        "reject. The generator wants D(G(z)) near 1: −mean log D(G(z)).": sp(-r).mean() + sp(f).mean(),
        "this is the saturating (minimax) loss mean log(1 − D(G(z))); the repaired code should use the "
        "non-saturating −mean log D(G(z)), whose gradient does not vanish when D rejects the fakes.":
            -sp(f).mean(),
        "g_loss depends on the fakes only: the real term −mean log D(x) is a constant for G. Drop it (it "
        "leaves the gradient alone but makes the logged loss wrong).": sp(-r).mean() + sp(-f).mean(),
        "sign flipped: a loss is minimised, so g_loss = −mean log D(G(z)) = mean softplus(−ℓ_fake).":
            -sp(-f).mean(),
        "g_loss labels the fakes 0 (softplus(ℓ)): that is D's term for the fakes, which the generator must not "
        "minimise.": sp(f).mean(),
    }
    judge(g_loss, g_right, wrong_g, what="generator loss g_loss")
    extreme_r = torch.tensor([-150.0, -30.0, 0.0, 30.0, 150.0])   # float32, as in training
    extreme_f = torch.tensor([150.0, 40.0, 0.0, -40.0, -150.0])
    d_x, g_x = fn(extreme_r.clone(), extreme_f.clone())
    d_x, g_x = as_tensor(d_x, "d_loss"), as_tensor(g_x, "g_loss")
    if not (torch.isfinite(d_x) and torch.isfinite(g_x)):
        raise CheckFailed("right formulas, but not finite for logits of ±150 in float32: sigmoid rounds to 0 or 1 "
                          "and log(0) = −inf. Write them with softplus (or logsigmoid) of the logits.")
    close(d_x, sp(-extreme_r.double()).mean() + sp(extreme_f.double()).mean(), rtol=1e-4, atol=1e-4,
          what="d_loss for large |logit| (clamping or an eps inside the log caps it; use softplus)")
    close(g_x, sp(-extreme_f.double()).mean(), rtol=1e-4, atol=1e-4,
          what="g_loss for large |logit| (clamping or an eps inside the log caps it; use softplus)")


q22e = Question(
    name="q22e",
    prompt="Repair `gan_losses(real_logits, fake_logits)`, which should return (d_loss, g_loss): the "
           "discriminator's loss −mean log D(x) − mean log(1 − D(G(z))) and the non-saturating generator loss "
           "−mean log D(G(z)), from D's logits, finite for any float32 logit.",
    checker=_check_article_losses,
    hints=["Two lines, two errors from Article D (errata E62, E63). Which label does each term give the fakes, "
           "and whose loss is the generator minimising?",
           "log D = −softplus(−ℓ) and log(1 − D) = −softplus(ℓ): d_loss = mean softplus(−ℓ_real) + mean "
           "softplus(ℓ_fake); g_loss = mean softplus(−ℓ_fake)."],
    solution_code="""
def gan_losses(real_logits, fake_logits):
    d_loss = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()   # fakes: label 0
    g_loss = F.softplus(-fake_logits).mean()                                    # G's own loss
    return d_loss, g_loss
""",
)
