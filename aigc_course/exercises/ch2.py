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

import torch
import torch.nn.functional as F
from torch import nn

from aigc_course import losses
from aigc_course.exercises import CheckFailed, Question, as_tensor, close, judge

__all__ = ["q21a", "q21b", "q21c", "q22a", "q22b", "q22c"]


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
