"""The chapter 2 exercises accept the reference solution and reject the common wrong answers by name."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from aigc_course import losses
from aigc_course.exercises import ch2
from exercise_helpers import checker_tests, rejected, solution_of

QUESTIONS = [ch2.q21a, ch2.q21b, ch2.q21c, ch2.q21d, ch2.q21e, ch2.q22a, ch2.q22b, ch2.q22c, ch2.q22d,
             ch2.q22e]


def _solution(question):
    return solution_of(question, torch=torch, losses=losses)


(test_shown_solution_is_accepted, test_stub_and_crash_give_a_verdict_not_an_exception,
 test_checkers_leave_the_global_rng_alone) = checker_tests(QUESTIONS, _solution, numeric=[ch2.q21c, ch2.q21e])


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


# --- new exercises (issue 27): apply, predict, debug ---------------------------------------------------

def test_q21d_weighted_optimal_discriminator():
    q = ch2.q21d
    # written differently: the Bayes posterior with prior odds pi / (1 - pi), through the logit
    assert q.check(lambda p, g, pi: torch.sigmoid(torch.log(p / g) + math.log(pi / (1 - pi))), quiet=True)
    rejected(q, lambda p, g, pi: p / (p + g), "weights π and 1 − π are missing")
    rejected(q, lambda p, g, pi: (1 - pi) * p / ((1 - pi) * p + pi * g), "swapped")
    rejected(q, lambda p, g, pi: pi * p / (p + g), "numerator only")
    rejected(q, lambda p, g, pi: pi * p / (pi * p + g), "fake weight is 1 − π")
    rejected(q, lambda p, g, pi: 0.99 * pi * p / (pi * p + (1 - pi) * g), "off by")


def test_q21d_reference_maximises_the_weighted_value_pointwise():
    optimal_d_weighted = _solution(ch2.q21d)
    a, b, pi = torch.tensor([0.3]), torch.tensor([1.1]), 0.7
    y = torch.linspace(1e-4, 1 - 1e-4, 100_001, dtype=torch.float64)
    best = y[torch.argmax(pi * a * y.log() + (1 - pi) * b * torch.log1p(-y))]
    assert abs(best - optimal_d_weighted(a, b, pi)) < 2e-5


def test_q21e_prediction_of_the_half_off_jsd():
    q = ch2.q21e
    truth = 0.75 * math.log(4 / 3)
    for guess in (truth, 0.2, 0.23, torch.tensor(truth)):
        verdict = q.check(guess, quiet=True)
        assert verdict and "0.2158" in verdict.message
    rejected(q, 0.5 * math.log(2), "half the maximum", "0.2158")
    rejected(q, math.log(2), "DISJOINT")
    rejected(q, 0.0, "p_g = p_data")
    rejected(q, math.log(4 / 3), "KL(p_data || m) alone")
    rejected(q, 0.5, "Within")
    rejected(q, [0.2, 0.3], "one number")


def test_q22d_forward_kl_generator_loss():
    q = ch2.q22d
    assert q.check(lambda l: 5.0 - torch.exp(l).mean(), quiet=True)        # a constant changes nothing
    assert q.check(lambda l: -(torch.sigmoid(l) / torch.sigmoid(-l)).mean(), quiet=True)  # D / (1 - D)
    rejected(q, lambda l: -l.mean(), "REVERSE KL")
    rejected(q, losses.gan_g_nonsaturating, "non-saturating")
    rejected(q, losses.gan_g_saturating, "saturating loss log(1 − D)")
    rejected(q, lambda l: torch.exp(l).mean(), "sign flipped")
    rejected(q, lambda l: -torch.exp(l).sum(), "do not sum")
    rejected(q, lambda l: -torch.exp(2 * l).mean(), "Pearson")
    rejected(q, lambda l: -torch.sigmoid(l).mean(), "probability D = σ(ℓ)")
    rejected(q, lambda l: -torch.exp(l).mean().item(), "scalar tensor")
    rejected(q, lambda l: torch.tensor(1.0), "does not depend")


def test_q22d_reference_gives_the_forward_kl_gradient_through_d_star():
    grad, exact = ch2._gaussian_forward_kl_check(_solution(ch2.q22d))
    torch.testing.assert_close(grad, exact, rtol=1e-3, atol=1e-4)
    # and the reverse-KL loss gives the gradient of KL(p_g || p_data), a different vector
    reverse, _ = ch2._gaussian_forward_kl_check(lambda l: -l.mean())
    mu, s = 0.5, 1.2  # KL(N(mu, s^2) || N(2, 0.5^2)) = log(0.5 / s) + (s^2 + (mu - 2)^2) / 0.5 - 1/2
    torch.testing.assert_close(reverse, torch.tensor([(mu - 2) / 0.25, -1 / s + s / 0.25], dtype=torch.float64),
                               rtol=1e-3, atol=1e-4)


def test_q22e_article_losses_debug():
    q = ch2.q22e
    sp = F.softplus

    def losses_(d_fn, g_fn):
        return lambda r, f: (d_fn(r, f), g_fn(r, f))

    right_d = lambda r, f: sp(-r).mean() + sp(f).mean()  # noqa: E731
    right_g = lambda r, f: sp(-f).mean()  # noqa: E731
    assert q.check(losses_(lambda r, f: losses.gan_d_loss(r, f),
                           lambda r, f: F.binary_cross_entropy_with_logits(f, torch.ones_like(f))), quiet=True)
    assert q.check(losses_(lambda r, f: -F.logsigmoid(r).mean() - F.logsigmoid(-f).mean(), right_g), quiet=True)
    broken = losses_(lambda r, f: sp(-r).mean() + sp(-f).mean(), lambda r, f: sp(-r).mean() + sp(f).mean())
    rejected(q, broken, "E63")
    rejected(q, losses_(right_d, lambda r, f: sp(-r).mean() + sp(f).mean()), "E62")
    rejected(q, losses_(lambda r, f: sp(r).mean() + sp(-f).mean(), right_g), "swapped")
    rejected(q, losses_(lambda r, f: torch.sigmoid(r).mean() + (1 - torch.sigmoid(f)).mean(), right_g), "E68")
    rejected(q, losses_(lambda r, f: sp(torch.cat([-r, f])).mean(), right_g), "SUM of the two batch means")
    rejected(q, losses_(lambda r, f: sp(-r).sum() + sp(f).sum(), right_g), "do not sum")
    rejected(q, losses_(right_d, lambda r, f: -sp(f).mean()), "saturating")
    rejected(q, losses_(right_d, lambda r, f: sp(-r).mean() + sp(-f).mean()), "constant for G")
    rejected(q, losses_(right_d, lambda r, f: -sp(-f).mean()), "sign flipped")
    rejected(q, losses_(right_d, lambda r, f: sp(f).mean()), "label")
    naive = losses_(lambda r, f: -torch.log(torch.sigmoid(r)).mean() - torch.log(1 - torch.sigmoid(f)).mean(),
                    lambda r, f: -torch.log(torch.sigmoid(f)).mean())
    rejected(q, naive, "not finite")
    eps = losses_(lambda r, f: -torch.log(torch.sigmoid(r) + 1e-7).mean() - torch.log(1 - torch.sigmoid(f) + 1e-7).mean(),
                  lambda r, f: -torch.log(torch.sigmoid(f) + 1e-7).mean())
    rejected(q, eps, "large |logit|")
    rejected(q, lambda r, f: right_d(r, f), "pair")
