"""Checkers of sections 6.5 and 6.6: correct answers pass, the named wrong answers are recognised."""
from __future__ import annotations

import torch

from aigc_course.exercises import ch6_guidance, ch6_latent
from exercise_helpers import checker_tests, rejected, solution_of

QUESTIONS = [ch6_guidance.q65a, ch6_guidance.q65b, ch6_latent.q66a, ch6_latent.q66b]
(test_shown_solution_is_accepted, test_stub_and_crash_give_a_verdict_not_an_exception,
 test_checkers_leave_the_global_rng_alone) = checker_tests(QUESTIONS, solution_of, numeric=(ch6_guidance.q65a,),
                                                           none_phrases=("None", "two numbers"))


def test_q65a_chance():
    rejected(ch6_guidance.q65a, (0.1, 0.1), "sum the squares")
    rejected(ch6_guidance.q65a, (0.1, 0.5), "class 0 alone")
    rejected(ch6_guidance.q65a, (0.5, 0.278), "independent")


def test_q65b_names_the_swapped_roles():
    rejected(ch6_guidance.q65b, lambda c, u, w: c + w * (u - c), "blog's formula")
    rejected(ch6_guidance.q65b, lambda c, u, w: w * c, "difference")
    assert ch6_guidance.q65b.check(lambda c, u, w: (1 - w) * u + w * c, quiet=True)


def test_q65c_investigation():
    def early_wins():
        return ("early", *ch6_guidance._reference_variances())

    assert ch6_guidance.q65c.check(early_wins, quiet=True)
    rejected(ch6_guidance.q65c, lambda: ("late", *ch6_guidance._reference_variances()), "verdict")
    rejected(ch6_guidance.q65c, lambda: ("early", 0.09, 0.09), "variance")


def test_q66a_names_the_diagonal_fit():
    def diagonal(codes):
        codes = codes.double()
        m, var = codes.mean(0), codes.var(0)
        return 0.5 * (var.sum() + m @ m - codes.shape[1] - var.log().sum()).item()

    rejected(ch6_latent.q66a, diagonal, "diagonal")

    def no_half(codes):
        return 2 * solution_of(ch6_latent.q66a)(codes)

    rejected(ch6_latent.q66a, no_half, "1/2")


def test_q66b_names_each_bug():
    def only_tanh_fixed(ldm, vae, n, generator):
        z = ldm.sample(n, generator, steps=10, sampler="heun")
        z = (z - z.mean()) / z.std()
        return vae.to_image(vae.decode(z))

    def only_norm_fixed(ldm, vae, n, generator):
        return torch.tanh(vae.decode(ldm.sample(n, generator, steps=10, sampler="heun")))

    rejected(ch6_latent.q66b, only_tanh_fixed, "renormalised")
    rejected(ch6_latent.q66b, only_norm_fixed, "tanh(l / 2)")
