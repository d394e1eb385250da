"""Checkers of section 6.4: correct answers pass, the named wrong answers are recognised."""
from __future__ import annotations

import torch

from aigc_course.exercises import ch6_unet
from exercise_helpers import checker_tests, rejected, solution_of

QUESTIONS = [ch6_unet.q64a, ch6_unet.q64b, ch6_unet.q64c]
(test_shown_solution_is_accepted, test_stub_and_crash_give_a_verdict_not_an_exception,
 test_checkers_leave_the_global_rng_alone) = checker_tests(QUESTIONS, solution_of, numeric=(ch6_unet.q64a,),
                                                           none_phrases=("None", "two numbers"))


def test_q64a_counts():
    assert ch6_unet.q64a.check([23.0, 46.0], quiet=True)
    rejected(ch6_unet.q64a, (24, 48), "last step")
    rejected(ch6_unet.q64a, (12, 24), "Euler")
    rejected(ch6_unet.q64a, (23, 23), "two outputs")
    rejected(ch6_unet.q64a, 23, "tuple")


def test_q64b_accepts_another_correct_heun_and_names_euler():
    def heun_other_style(velocity, x, steps):  # another correct way to write it
        h = 1.0 / steps
        for i in range(steps):
            t, s = torch.tensor(1.0 - i * h), torch.tensor(max(0.0, 1.0 - (i + 1) * h))
            k1 = velocity(x, t)
            x = x - h * k1 if i == steps - 1 else x - h * (k1 + velocity(x - h * k1, s)) / 2
        return x

    assert ch6_unet.q64b.check(heun_other_style, quiet=True)

    def euler(velocity, x, steps):
        ts = torch.linspace(1.0, 0.0, steps + 1)
        for t, s in zip(ts[:-1], ts[1:]):
            x = x + (s - t) * velocity(x, t)
        return x

    rejected(ch6_unet.q64b, euler, "Euler's method")


def _sampler(time_from_one: bool, step_sign: int):
    def sample(model, noise, labels, steps):
        x = noise
        ts = torch.linspace(1.0, 0.0, steps + 1) if time_from_one else torch.linspace(0.0, 1.0, steps + 1)
        for t, s in zip(ts[:-1], ts[1:]):
            x = x + step_sign * (s - t) * model(x, t.expand(len(x)), labels)
        return x.clamp(-1, 1)
    return sample


def test_q64c_names_each_remaining_bug():
    rejected(ch6_unet.q64c, _sampler(False, -1), "original code")
    rejected(ch6_unet.q64c, _sampler(True, -1), "Step by (s - t)")
    rejected(ch6_unet.q64c, _sampler(False, 1), "from 0 to 1")
    assert ch6_unet.q64c.check(_sampler(True, 1), quiet=True)
