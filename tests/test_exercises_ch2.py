"""The chapter 2 exercises accept the reference solution and reject the common wrong answers by name."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from aigc_course import losses
from aigc_course.exercises import ch2
from exercise_helpers import checker_tests, rejected, solution_of

QUESTIONS = [ch2.q21a, ch2.q21b, ch2.q21c, ch2.q22a, ch2.q22b, ch2.q22c]


def _solution(question):
    return solution_of(question, torch=torch, losses=losses)


(test_shown_solution_is_accepted, test_stub_and_crash_give_a_verdict_not_an_exception,
 test_checkers_leave_the_global_rng_alone) = checker_tests(QUESTIONS, _solution, numeric=[ch2.q21c])


def test_q21a_value_estimate():
    q = ch2.q21a
    assert q.check(lambda r, f: torch.log(r).mean() + torch.log(1 - f).mean(), quiet=True)
    rejected(q, lambda r, f: -(torch.log(r).mean() + torch.log(1 - f).mean()), "sign flipped")
    rejected(q, lambda r, f: torch.log(f).mean() + torch.log(1 - r).mean(), "swapped")
    rejected(q, lambda r, f: torch.log(r).mean() + torch.log(f).mean(), "log(1 − D(G(z)))")
    rejected(q, lambda r, f: r.mean() + (1 - f).mean(), "logarithms are missing")
    rejected(q, lambda r, f: torch.log(r).sum() + torch.log(1 - f).sum(), "do not sum")
    rejected(q, lambda r, f: (torch.log(r) + torch.log(1 - f)).mean(), "differ in size")
    rejected(q, lambda r, f: None, "return")


def test_q21b_optimal_discriminator():
    q = ch2.q21b
    rejected(q, lambda p, g: g / (p + g), "FAKE")
    rejected(q, lambda p, g: p / g, "density ratio")
    rejected(q, lambda p, g: torch.full_like(p, 0.5), "p_g = p_data")
    rejected(q, lambda p, g: p / (p + g) + 0.01, "off by")


def test_q21c_disjoint_supports():
    q = ch2.q21c
    assert q.check(0, quiet=True) and q.check(torch.tensor(0.0), quiet=True)
    rejected(q, -math.log(4), "MINIMUM")
    rejected(q, math.log(2), "Jensen–Shannon")
    rejected(q, 2 * math.log(2), "−log 4")
    rejected(q, "zero", "number")


def test_q22a_nonsaturating_loss():
    q = ch2.q22a
    assert q.check(lambda f: -F.logsigmoid(f).mean(), quiet=True)
    assert q.check(lambda f: F.binary_cross_entropy_with_logits(f, torch.ones_like(f)), quiet=True)
    rejected(q, losses.gan_g_saturating, "saturating")
    rejected(q, lambda f: F.softplus(f).mean(), "EASIER")
    rejected(q, lambda f: F.logsigmoid(f).mean(), "sign flipped")
    rejected(q, lambda f: F.softplus(-f).sum(), "do not sum")
    rejected(q, lambda f: -torch.log(torch.sigmoid(f)).mean(), "not numerically stable")
    rejected(q, lambda f: -torch.log(torch.sigmoid(f) + 1e-8).mean(), "large |logit|")


def test_q22b_chain_rule_by_hand():
    q = ch2.q22b

    def grad(z, a, b, w, upstream):  # upstream(d, x) = dL/dx per sample
        x = a * z + b
        d = torch.sigmoid(w[0] + w[1] * x + w[2] * x**2)
        g = upstream(d, x)
        return torch.stack([(g * z).mean(), g.mean()])

    assert q.check(lambda z, a, b, w: grad(z, a, b, w, lambda d, x: -(1 - d) * (w[1] + 2 * w[2] * x)), quiet=True)
    rejected(q, lambda z, a, b, w: grad(z, a, b, w, lambda d, x: -1 / d), "dD/dx is missing")
    rejected(q, lambda z, a, b, w: grad(z, a, b, w, lambda d, x: -1 / d * (w[1] + 2 * w[2] * x)), "σ'(l)")
    rejected(q, lambda z, a, b, w: grad(z, a, b, w, lambda d, x: -d * (w[1] + 2 * w[2] * x)), "saturating")
    rejected(q, lambda z, a, b, w: grad(z, a, b, w, lambda d, x: (1 - d) * (w[1] + 2 * w[2] * x)), "sign flipped")

    def with_autograd(z, a, b, w):  # the checker switches autograd off
        theta = torch.tensor([a, b], dtype=z.dtype, requires_grad=True)
        x = theta[0] * z + theta[1]
        loss = F.softplus(-(w[0] + w[1] * x + w[2] * x**2)).mean()
        return torch.autograd.grad(loss, theta)[0]

    assert not q.check(with_autograd, quiet=True)


def test_q22c_discriminator_step():
    q = ch2.q22c

    def step(sign=1.0, zero=True, do_step=True, detach=True, loss_fn=losses.gan_d_loss):
        def fn(D, G, x_real, z, opt_d):
            fake = G(z).detach() if detach else G(z)
            loss = sign * loss_fn(D(x_real), D(fake))
            if zero:
                opt_d.zero_grad()
            loss.backward()
            if do_step:
                opt_d.step()
            return loss.item()
        return fn

    assert q.check(step(), quiet=True)
    verdict = q.check(step(detach=False), quiet=True)
    assert verdict and "detach" in verdict.message  # right, with a tip
    rejected(q, step(sign=-1.0), "wrong way")
    rejected(q, step(zero=False), "zero_grad")
    rejected(q, step(do_step=False), "opt_d.step()")
    rejected(q, step(loss_fn=lambda r, f: losses.gan_g_nonsaturating(f)), "change of D's parameters")

    def also_moves_g(D, G, x_real, z, opt_d):
        loss = step()(D, G, x_real, z, opt_d)
        with torch.no_grad():
            for p in G.parameters():
                p.add_(1.0)
        return loss

    rejected(q, also_moves_g, "update D only")
