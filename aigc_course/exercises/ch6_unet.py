"""Exercises of section 6.4 (a U-Net on Fashion-MNIST: samplers and their cost).

Usage in a notebook::

    from aigc_course.exercises import ch6_unet
    ch6_unet.q64a.check((23, 46))        # prints a verdict, returns True/False, never raises
    ch6_unet.q64b.hint()

The checkers use their own generators (the learner's random state is left alone), run the answer on
cases whose exact result they know, and name the common wrong answers: Heun counted as two evaluations
on every step, guidance counted once, time running the wrong way, the step's sign flipped.
Introduced in 6.4.
"""
from __future__ import annotations

import math
from typing import Callable

import torch

from aigc_course import diffusion
from aigc_course.exercises import CheckFailed, Question, as_tensor, judge

__all__ = ["q64a", "q64b", "q64c"]


# --------------------------------------------------------------------------------------------------
# 6.4a Predict: network evaluations of Heun's sampler, with and without guidance
# --------------------------------------------------------------------------------------------------

def _check_nfe(answer) -> str:
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        raise CheckFailed("give two numbers, as a tuple: (Heun with 12 steps, the same with guidance weight 3).")
    plain, guided = (float(as_tensor(a, "number of evaluations")) for a in answer)
    want_plain, want_guided = diffusion.nfe("heun", 12), diffusion.nfe("heun", 12, 3.0, conditional=True)
    if plain == 24:
        raise CheckFailed("24 counts two evaluations on every step; the last step ends at t = 0, where "
                          "Heun's correction is skipped (an Euler step): one evaluation there.")
    if plain == 12:
        raise CheckFailed("12 is Euler's count: Heun evaluates the velocity again at the end of each step.")
    if plain != want_plain:
        raise CheckFailed(f"{plain:g} evaluations for Heun with 12 steps is not right: count the "
                          "evaluations of one step, and look at the last one.")
    if guided == want_plain:
        raise CheckFailed("guidance with a weight other than 0 or 1 needs two outputs per evaluation: the "
                          "conditional and the unconditional one (run as one batch, but still two passes).")
    if guided != want_guided:
        raise CheckFailed(f"{guided:g} evaluations with guidance is not right: each of the {want_plain} "
                          "evaluations now needs two outputs.")
    return f"Heun with 12 steps: {want_plain} evaluations; guided: {want_guided} (diffusion.nfe agrees)."


q64a = Question(
    "6.4a", "Network evaluations of Heun's sampler with 12 steps, without and with guidance (weight 3).",
    _check_nfe,
    hints=["Heun's step: an Euler trial step, then the slope at the trial point. How many velocities per step?",
           "The last step lands on t = 0; the package takes it with Euler. Guidance needs two outputs per evaluation."],
    solution_code="answer = (2 * 12 - 1, 2 * (2 * 12 - 1))",
)


# --------------------------------------------------------------------------------------------------
# 6.4b Apply: Heun's sampler for any velocity field
# --------------------------------------------------------------------------------------------------

def _heun(velocity, x, steps):
    ts = torch.linspace(1.0, 0.0, steps + 1)
    for t, s in zip(ts[:-1], ts[1:]):
        v = velocity(x, t)
        x_euler = x + (s - t) * v
        x = x_euler if s == 0 else x + (s - t) * 0.5 * (v + velocity(x_euler, s))
    return x


def _euler(velocity, x, steps):
    ts = torch.linspace(1.0, 0.0, steps + 1)
    for t, s in zip(ts[:-1], ts[1:]):
        x = x + (s - t) * velocity(x, t)
    return x


def _check_heun(fn: Callable) -> str:
    gen = torch.Generator().manual_seed(64)
    x1 = torch.randn(8, 3, generator=gen, dtype=torch.float64)
    # dx/dt = x cos(t): x(0) = x(1) exp(-sin 1), curved enough that Euler and Heun differ
    field = lambda x, t: x * torch.cos(torch.as_tensor(t, dtype=torch.float64))  # noqa: E731
    steps = 5
    expected = _heun(field, x1.clone(), steps)
    wrong = {
        "that is Euler's method: Heun averages the slope at the start with the slope at the end of a trial "
        "Euler step.": _euler(field, x1.clone(), steps),
        "time runs from 1 (noise) down to 0 (data): your steps go the wrong way.":
            _heun(lambda x, t: field(x, 1 - t), x1.clone(), steps),
        "the last step must be a plain Euler step (the package never evaluates the model at t = 0).":
            _heun_all_corrected(field, x1.clone(), steps),
    }
    judge(fn(field, x1.clone(), steps), expected, wrong, what="result", atol=1e-8, rtol=1e-7)
    exact = x1 * math.exp(-math.sin(1.0))
    err_heun = float((expected - exact).abs().max())
    # the package's model: the same as sample(..., sampler="heun") on the same noise
    torch.manual_seed(0)
    model = diffusion.Diffusion(diffusion.DiffusionConfig(kind="mlp", data_dim=2, hidden=16, depth=1)).double()
    noise = torch.randn(5, 2, generator=gen, dtype=torch.float64)
    with torch.no_grad():
        mine = as_tensor(fn(lambda x, t: model.velocity(x, t), noise.clone(), 4), "samples")
        theirs = model.sample(5, noise=noise, steps=4, sampler="heun").double()
    if mine.shape != theirs.shape or not torch.allclose(mine, theirs, atol=1e-5):
        raise CheckFailed("your sampler works on the test field but not like diffusion's Heun sampler on a "
                          "model: call velocity(x, t) with a 0-dimensional tensor t.")
    return (f"on dx/dt = x cos t with 5 steps, Heun's largest error is {err_heun:.1e}, Euler's "
            f"{float((_euler(field, x1.clone(), steps) - exact).abs().max()):.1e}.")


def _heun_all_corrected(velocity, x, steps):
    ts = torch.linspace(1.0, 0.0, steps + 1)
    for t, s in zip(ts[:-1], ts[1:]):
        v = velocity(x, t)
        x = x + (s - t) * 0.5 * (v + velocity(x + (s - t) * v, s))
    return x


q64b = Question(
    "6.4b", "Heun's method from t = 1 to 0 in equal steps, Euler on the last step.", _check_heun,
    hints=["ts = torch.linspace(1.0, 0.0, steps + 1); for each pair (t, s): a trial Euler step to s first.",
           "x_next = x + (s - t) * (v(x, t) + v(x_trial, s)) / 2, except when s == 0: then x_trial itself."],
    solution_code='''def heun_sample(velocity, x, steps):
    ts = torch.linspace(1.0, 0.0, steps + 1)
    for t, s in zip(ts[:-1], ts[1:]):
        v = velocity(x, t)
        x_euler = x + (s - t) * v
        x = x_euler if s == 0 else x + (s - t) * 0.5 * (v + velocity(x_euler, s))
    return x''',
)


# --------------------------------------------------------------------------------------------------
# 6.4c Debug: an Euler sampler that runs backwards
# --------------------------------------------------------------------------------------------------

def _buggy(model, noise, labels, steps, *, fix_time: bool, fix_sign: bool):
    x = noise
    ts = torch.linspace(1.0, 0.0, steps + 1) if fix_time else torch.linspace(0.0, 1.0, steps + 1)
    for t, s in zip(ts[:-1], ts[1:]):
        v = model(x, t.expand(len(x)), labels)
        x = x + ((s - t) if fix_sign else (t - s)) * v
    return x.clamp(-1, 1)


def _check_euler(fn: Callable) -> str:
    torch.manual_seed(1)
    cfg = diffusion.DiffusionConfig(kind="unet", width=8, mult=(1, 2), blocks=1, attention=False, n_classes=10)
    model = diffusion.Diffusion(cfg)
    with torch.no_grad():
        for p in model.parameters():  # a model whose velocity depends on x and t
            p.add_(0.1 * torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())))
    gen = torch.Generator().manual_seed(640)
    noise = torch.randn(4, 1, 28, 28, generator=gen)
    labels = torch.tensor([0, 3, 5, 9])
    with torch.no_grad():
        expected = model.sample(4, noise=noise, labels=labels, steps=6, sampler="euler")
        wrong = {
            "the times still run from 0 to 1: sampling starts at t = 1 (noise) and ends at t = 0.":
                _buggy(model, noise, labels, 6, fix_time=False, fix_sign=True),
            "the times are right now, but the step is x + (t - s) v: with s < t that moves towards the noise. "
            "Step by (s - t).": _buggy(model, noise, labels, 6, fix_time=True, fix_sign=False),
            "that is the original code: both the time grid and the step's sign are wrong.":
                _buggy(model, noise, labels, 6, fix_time=False, fix_sign=False),
        }
        got = fn(model, noise.clone(), labels, 6)
    judge(got, expected, wrong, what="images", atol=1e-4, rtol=1e-4)
    return "your sampler matches diffusion's Euler sampler on the same noise."


q64c = Question(
    "6.4c", "Fix the Euler sampler: two mistakes.", _check_euler,
    hints=["Where does sampling start, at noise or at data? Which value of t is noise on this path?",
           "After fixing the times, check the sign of the step: s < t."],
    solution_code='''def euler_sample(model, noise, labels, steps):
    x = noise
    ts = torch.linspace(1.0, 0.0, steps + 1)
    for t, s in zip(ts[:-1], ts[1:]):
        v = model(x, t.expand(len(x)), labels)
        x = x + (s - t) * v
    return x.clamp(-1, 1)''',
)
