"""Exercises of section 6.5 (classifier-free guidance).

Usage in a notebook::

    from aigc_course.exercises import ch6_guidance
    ch6_guidance.q65b.check(guide)      # prints a verdict, returns True/False, never raises

The checkers use their own generators and their own copy of the page's exact 1-D mixture (two classes,
N(-1, 0.3^2) and N(1, 0.3^2)), and name the common wrong answers: conditional and unconditional outputs
swapped, guidance applied to one output only, chance computed from the data's frequencies alone.
Introduced in 6.5.
"""
from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import Callable

import torch

from aigc_course.exercises import CheckFailed, Question, as_tensor, judge

__all__ = ["q65a", "q65b", "q65c"]

_RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "diffusion-guidance-cpu.json"


# --------------------------------------------------------------------------------------------------
# 6.5a Predict: the share of samples in the requested class, by chance
# --------------------------------------------------------------------------------------------------

def _measured_w0() -> str:
    try:
        rows = json.loads(_RESULTS.read_text())["rows"]
        acc = next(r for r in rows if r["guidance"] == 0.0)["label_accuracy"]["mean"]
        return f" The shipped model at w = 0, scored by the course classifier: {acc:.3f}."
    except (OSError, ValueError, KeyError, StopIteration):
        return ""


def _check_chance(answer) -> str:
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        raise CheckFailed("give two numbers, as a tuple: (balanced case, skewed case).")
    balanced, skewed = (float(as_tensor(a, "share")) for a in answer)
    want_skewed = 0.5 ** 2 + 9 * (0.5 / 9) ** 2
    if not math.isclose(balanced, 0.1, abs_tol=0.005):
        raise CheckFailed(f"{balanced:g} for the balanced case: the sample's class and the requested label are "
                          "independent at w = 0; add P(label = c) P(class = c) over the 10 classes.")
    if math.isclose(skewed, 0.1, abs_tol=0.005):
        raise CheckFailed("0.1 holds when the requests are balanced; here the requests follow the data's skewed "
                          "frequencies: sum the squares of the class frequencies.")
    if math.isclose(skewed, 0.5, abs_tol=0.005):
        raise CheckFailed("0.5 is the chance of class 0 alone; the other nine classes match sometimes too.")
    if not math.isclose(skewed, want_skewed, abs_tol=0.005):
        raise CheckFailed(f"{skewed:g} for the skewed case is not right: sum P(label = c) P(class = c) over c.")
    return f"chance is 0.1 and {want_skewed:.3f}.{_measured_w0()}"


q65a = Question(
    "6.5a", "The share of unguided samples that match their requested class.", _check_chance,
    hints=["At w = 0 the class of a sample does not depend on its label: two independent draws.",
           "P(match) = sum over classes c of P(label = c) * P(class = c)."],
    solution_code="answer = (0.1, 0.5 ** 2 + 9 * (0.5 / 9) ** 2)",
)


# --------------------------------------------------------------------------------------------------
# 6.5b Debug: conditional and unconditional outputs swapped
# --------------------------------------------------------------------------------------------------

def _check_guide(fn: Callable) -> str:
    gen = torch.Generator().manual_seed(65)
    v_c, v_u = torch.randn(6, 3, generator=gen, dtype=torch.float64), torch.randn(6, 3, generator=gen,
                                                                                  dtype=torch.float64)
    for w in (0.0, 1.0, 3.0, 7.5):
        expected = v_u + w * (v_c - v_u)
        wrong = {
            "that is the blog's formula: it starts from the conditional output and moves towards the "
            "unconditional one. Start from the unconditional output.": v_c + w * (v_u - v_c),
            "guidance scales the difference between the two outputs, not the conditional output alone.": w * v_c,
            "that adds w times the difference to the conditional output: then w = 0 would be the conditional "
            "model, not the unconditional one.": v_c + w * (v_c - v_u),
        }
        judge(fn(v_c.clone(), v_u.clone(), w), expected, wrong, what=f"guided velocity at w = {w:g}",
              atol=1e-10, rtol=1e-10)
    return "w = 0 gives the unconditional model, w = 1 the conditional one, w > 1 extrapolates past it."


q65b = Question(
    "6.5b", "Fix the guided velocity.", _check_guide,
    hints=["What should w = 0 give? And w = 1?",
           "out = out_uncond + w (out_cond - out_uncond)."],
    solution_code='''def guide(v_cond, v_uncond, w):
    return v_uncond + w * (v_cond - v_uncond)''',
)


# --------------------------------------------------------------------------------------------------
# 6.5c Investigate: guidance acts early in sampling
# --------------------------------------------------------------------------------------------------

_MU, _S = torch.tensor([-1.0, 1.0], dtype=torch.float64), 0.3


def _velocity(x, t, comps):
    a, s = 1 - t, t
    var = a ** 2 * _S ** 2 + s ** 2
    mu = _MU[comps]
    logw = -0.5 * (x[:, None] - a * mu) ** 2 / var
    resp = torch.softmax(logw, dim=1)
    e_x0 = mu + a * _S ** 2 / var * (x[:, None] - a * mu)
    e_eps = s / var * (x[:, None] - a * mu)
    return (resp * (e_eps - e_x0)).sum(dim=1)


def _integrate(velocity, x, steps=200):
    ts = torch.linspace(1.0, 0.0, steps + 1, dtype=torch.float64)
    for t, s in zip(ts[:-1], ts[1:]):
        v = velocity(x, t)
        x_e = x + (s - t) * v
        x = x_e if s == 0 else x + (s - t) * 0.5 * (v + velocity(x_e, s))
    return x


@functools.lru_cache(maxsize=1)
def _reference_variances() -> tuple[float, float]:
    def field(early):
        def v(x, t):
            w = 3.0 if (t > 0.5) == early else 1.0
            v_u, v_c = _velocity(x, t, [0, 1]), _velocity(x, t, [1])
            return v_u + w * (v_c - v_u)
        return v

    x = torch.randn(10_000, generator=torch.Generator().manual_seed(650), dtype=torch.float64)
    return _integrate(field(True), x.clone()).var().item(), _integrate(field(False), x.clone()).var().item()


def _check_where(fn: Callable) -> str:
    answer = fn()
    if not isinstance(answer, (tuple, list)) or len(answer) != 3:
        raise CheckFailed("return three things: ('early' or 'late', variance with early guidance, "
                          "variance with late guidance).")
    verdict, v_early, v_late = answer[0], float(as_tensor(answer[1], "variance")), float(as_tensor(answer[2],
                                                                                                   "variance"))
    ref_early, ref_late = _reference_variances()
    for got, want, which in ((v_early, ref_early, "early"), (v_late, ref_late, "late")):
        if not math.isclose(got, want, rel_tol=0.05):
            raise CheckFailed(f"your variance with {which} guidance is {got:.4f}; the checker measures "
                              f"{want:.4f} (5% tolerance for different noise). Guidance weight 3 for "
                              f"{'t > 0.5' if which == 'early' else 't <= 0.5'}, weight 1 otherwise; class B.")
    if verdict != ("early" if ref_early < ref_late else "late"):
        raise CheckFailed(f"your variances ({v_early:.4f} early, {v_late:.4f} late) say otherwise than your verdict.")
    return (f"early guidance: variance {ref_early:.4f}; late guidance: {ref_late:.4f} (class B alone: "
            f"{_S ** 2:.4f}).")


q65c = Question(
    "6.5c", "Guidance in the first or in the second half of sampling: which narrows class B?", _check_where,
    hints=["Write a velocity field that picks w from t: w = 3.0 if t > 0.5 else 1.0 (and the reverse).",
           "Integrate the same noise with both fields and compare the variances of the results."],
    solution_code='''def where_guidance_acts():
    def field(early):
        def v(x, t):
            w = 3.0 if (t > 0.5) == early else 1.0
            return guided_velocity(x, t, w)
        return v
    x = torch.randn(10_000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    v_early = integrate(field(True), x.clone()).var().item()
    v_late = integrate(field(False), x.clone()).var().item()
    return ("early" if v_early < v_late else "late"), v_early, v_late''',
)
