"""Exercises of section 6.3 (flow matching and the probability-flow ODE).

Usage in a notebook::

    from aigc_course.exercises import ch6_flow as ex
    ex.q63a.check(gaussian_velocity)   # prints a verdict, returns True/False, never raises
    ex.q63a.hint()
    ex.q63a.solution()

Each checker runs the answer on its own inputs (a private generator: the global RNG is left alone),
compares it with the reference and names the common wrong answer it matches: the straight path's
velocity used on another schedule, the data treated as a point, a sampler running the wrong way in time
or stepping with the conditional velocity of its starting noise. Introduced in 6.3.
"""
from __future__ import annotations

from typing import Callable

import torch

from aigc_course import diffusion
from aigc_course.exercises import CheckFailed, Question, as_tensor, judge

__all__ = ["q63a", "q63b", "q63c"]


def _normal(gen: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=gen, dtype=torch.float64)


# --------------------------------------------------------------------------------------------------
# 6.3a Apply: the marginal velocity of one Gaussian on the linear or cosine path
# --------------------------------------------------------------------------------------------------

def _gaussian_parts(x, t, m, s, schedule, linear_coeffs=False):
    """(alpha', sigma', E[x0 | x], E[eps | x]) for data N(m, s^2 I) on ``schedule`` at time t."""
    tt = torch.tensor(float(t), dtype=torch.float64)
    a, sig = (1 - tt, tt) if linear_coeffs else diffusion.alpha_sigma(tt, schedule)
    da, dsig = diffusion.alpha_sigma_deriv(tt, "linear" if linear_coeffs else schedule)
    v = a**2 * s**2 + sig**2
    return da, dsig, m + a * s**2 / v * (x - a * m), sig / v * (x - a * m), a, sig


def _reference_velocity(x, t, m, s, schedule):
    da, dsig, e_x0, e_eps, _, _ = _gaussian_parts(x, t, m, s, schedule)
    return da * e_x0 + dsig * e_eps


def _velocity_cases() -> list[tuple]:
    gen = torch.Generator().manual_seed(63)
    cases = []
    for schedule, t, dim in [("linear", 0.3, 2), ("cosine", 0.3, 2), ("cosine", 0.7, 1),
                             ("cosine", 1.0, 3), ("linear", 0.85, 3)]:
        x = 1.5 * _normal(gen, 16, dim)
        m = _normal(gen, dim)
        cases.append((x, t, m, 0.4 + 0.2 * dim, schedule))
    return cases


def _check_gaussian_velocity(fn: Callable) -> None:
    cases = _velocity_cases()
    answers = []
    for x, t, m, s, schedule in cases:
        out = as_tensor(fn(x.clone(), t, m.clone(), s, schedule), f"velocity ({schedule}, t = {t})")
        if out.shape != x.shape:
            raise CheckFailed(f"for x of shape {tuple(x.shape)} the velocity has shape {tuple(out.shape)}; "
                              "it should have the shape of x, one velocity per point.")
        answers.append(out.reshape(-1))

    def over_cases(f) -> torch.Tensor:
        return torch.cat([f(*c).reshape(-1) for c in cases])

    def parts(x, t, m, s, schedule, **kw):
        return _gaussian_parts(x, t, m, s, schedule, **kw)

    wrong = {
        "sign flipped: u_t is d x_t / dt, which points from the data (t = 0) towards the noise (t = 1).":
            over_cases(lambda *c: -_reference_velocity(*c)),
        "you used the straight path's velocity E[eps | x] − E[x0 | x] (α' = −1, σ' = 1) on the cosine "
        "path too. There the conditional velocity is α'_t x0 + σ'_t eps: weigh the two conditional "
        "expectations by the derivatives of THIS schedule (`diffusion.alpha_sigma_deriv`).":
            over_cases(lambda *c: parts(*c)[3] - parts(*c)[2]),
        "you used α_t = 1 − t, σ_t = t (and their derivatives) for every schedule; take them from "
        "`diffusion.alpha_sigma(t, schedule)` and `diffusion.alpha_sigma_deriv(t, schedule)`.":
            over_cases(lambda x, t, m, s, sch: _reference_velocity(x, t, m, s, "linear")),
        "you treated the data as the single point m (E[x0 | x] = m, E[eps | x] = (x − α m)/σ): the data "
        "has variance s², so E[x0 | x] moves towards x by α s² / (α² s² + σ²) · (x − α m).":
            over_cases(lambda x, t, m, s, sch: _reference_velocity(x, t, m, 0.0, sch)),
        "you weighed E[x0 | x] and E[eps | x] by α_t and σ_t, which rebuilds x itself; the velocity "
        "needs the time derivatives α'_t and σ'_t.":
            over_cases(lambda x, t, m, s, sch: x),
    }
    judge(torch.cat(answers), over_cases(_reference_velocity), wrong,
          what="velocity over five cases (linear and cosine, 1 to 3 dimensions)", atol=1e-6, rtol=1e-5)


q63a = Question(
    name="q63a",
    prompt="Write `gaussian_velocity(x, t, m, s, schedule)`: data N(m, s² I), path x_t = α_t x0 + σ_t eps for "
           "the package's 'linear' or 'cosine' schedule; return the marginal velocity u_t(x) = E[d x_t/dt | "
           "x_t = x] for x of shape (N, D), a float t in (0, 1], m of shape (D,).",
    checker=_check_gaussian_velocity,
    hints=["The conditional velocity is α'_t x0 + σ'_t eps, so u_t(x) = α'_t E[x0 | x] + σ'_t E[eps | x]. "
           "`diffusion.alpha_sigma(t, schedule)` and `diffusion.alpha_sigma_deriv(t, schedule)` give the "
           "four numbers (pass t as a tensor).",
           "x_t is Gaussian with mean α m and variance v = α² s² + σ² per dimension; "
           "E[x0 | x] = m + α s²/v · (x − α m) and E[eps | x] = σ/v · (x − α m)."],
    solution_code="""
def gaussian_velocity(x, t, m, s, schedule):
    t = torch.tensor(float(t), dtype=torch.float64)
    a, sig = diffusion.alpha_sigma(t, schedule)
    da, dsig = diffusion.alpha_sigma_deriv(t, schedule)
    v = a**2 * s**2 + sig**2                      # Var(x_t) per dimension
    e_x0 = m + a * s**2 / v * (x - a * m)         # E[x0 | x_t = x]
    e_eps = sig / v * (x - a * m)                 # E[eps | x_t = x]
    return da * e_x0 + dsig * e_eps               # E[d x_t / dt | x_t = x]
""",
)


# --------------------------------------------------------------------------------------------------
# 6.3b Debug: a broken Euler sampler
# --------------------------------------------------------------------------------------------------

_MEANS = torch.tensor([[-1.5, 0.0], [1.0, 1.0], [1.0, -1.2]], dtype=torch.float64)
_STD, _WEIGHTS = 0.3, torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)


def _denoiser(x: torch.Tensor, t) -> torch.Tensor:
    """E[x0 | x_t = x] for a 2-D mixture of three Gaussians on the linear path, x (N, 2)."""
    t = float(t)
    a, var = 1 - t, (1 - t) ** 2 * _STD**2 + t**2
    d = x.double()[:, None, :] - a * _MEANS                              # (N, K, 2)
    r = torch.softmax(_WEIGHTS.log() - 0.5 * (d**2).sum(-1) / var, dim=1)  # (N, K)
    return (r[..., None] * (_MEANS + a * _STD**2 / var * d)).sum(1)


def _euler(x, steps, reverse=True, conditional=False, sign=1.0):
    """Euler steps with the marginal velocity (x - x0_hat)/t, or a named mistake."""
    ts = torch.linspace(1, 0, steps + 1) if reverse else torch.linspace(0, 1, steps + 1)
    eps = x.clone()
    for i in range(steps):
        t, s = float(ts[i]), float(ts[i + 1])
        x0 = _denoiser(x, t)
        v = eps - x0 if conditional else (x - x0) / t
        x = x + sign * (s - t) * v
    return x


def _check_euler(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(630)
    for steps in (1, 3, 10):
        x = _normal(gen, 64, 2)
        with torch.no_grad():
            out = fn(_denoiser, x.clone(), steps)
        what = f"samples after {steps} steps"
        a = as_tensor(out, what)
        if a.shape != x.shape:
            raise CheckFailed(f"the {what} have shape {tuple(a.shape)}, expected {tuple(x.shape)}: return "
                              "only the final x at t = 0.")
        if not torch.isfinite(a).all():
            raise CheckFailed("your samples contain inf or nan: the velocity (x − x̂0)/t was evaluated at "
                              "t = 0. Evaluate it at the START t of each step, on a grid that runs from t = 1 "
                              "(noise) down to t = 0 (data).")
        wrong = {
            "both bugs are still there (this is the code as given).":
                _euler(x, steps, reverse=False, conditional=True),
            "the direction is fixed, but the step still uses eps − x̂0 for the STARTING noise eps: that is the "
            "velocity of one straight conditional path. After one step the sampler is no longer on it; use the "
            "marginal velocity E[eps | x_t] − x̂0 with E[eps | x_t] = (x_t − (1 − t) x̂0)/t.":
                _euler(x, steps, conditional=True),
            "the step has the wrong sign: from t to s < t the Euler step is x + (s − t)·u_t(x), and s − t is "
            "negative.": _euler(x, steps, sign=-1.0),
        }
        judge(a, _euler(x, steps), wrong, what=what, atol=1e-5, rtol=1e-4)


q63b = Question(
    name="q63b",
    prompt="Fix `euler_sample(denoiser, x, steps)`: denoiser(x, t) = E[x0 | x_t = x] on the linear path, x is "
           "noise at t = 1; return the Euler solution of the marginal flow ODE at t = 0 after `steps` uniform "
           "steps. The given code has two bugs.",
    checker=_check_euler,
    hints=["Which way does a sampler go in time? The noise is at t = 1.",
           "The step uses eps − x̂0 with the noise the sampler STARTED from. Which noise does the current x "
           "correspond to? On the linear path E[eps | x_t] = (x_t − (1 − t) x̂0)/t."],
    solution_code="""
def euler_sample(denoiser, x, steps):
    ts = torch.linspace(1, 0, steps + 1)             # noise (t = 1) to data (t = 0)
    for i in range(steps):
        t, s = ts[i], ts[i + 1]
        x0 = denoiser(x, t)
        x = x + (s - t) * (x - x0) / t               # u_t = E[eps | x] - E[x0 | x] = (x - x0) / t
    return x
""",
)


# --------------------------------------------------------------------------------------------------
# 6.3c Predict: one Euler step of the exact flow
# --------------------------------------------------------------------------------------------------

_M, _S = 1.5, 0.5


def _measured_one_step_std() -> float:
    """One Euler step of the exact flow of N(1.5, 0.5^2), from t = 1 to 0, on 10 000 noise draws."""
    x1 = _normal(torch.Generator().manual_seed(631), 10_000, 1)
    u1 = _reference_velocity(x1, 1.0, torch.tensor([_M], dtype=torch.float64), _S, "linear")
    return (x1 - 1.0 * u1).std().item()


def _check_one_step(answer) -> str:
    a = as_tensor(answer, "predicted standard deviation")
    if a.numel() != 1:
        raise CheckFailed("give one number: the standard deviation of the samples.")
    guess, measured = a.item(), _measured_one_step_std()
    told = f"You predicted {guess:.3g}; the measured standard deviation is {measured:.3g}."
    if abs(guess - measured) <= 0.02:
        return told
    named = {
        _S: "That is the data's own standard deviation: it would be right for an exact sampler, but one "
            "Euler step is not one. What does u_1(x) know about x_0 at t = 1?",
        1.0: "That is the noise's standard deviation: the step does move the samples. Work out u_1(x) = "
             "E[eps − x0 | x_1 = x] at t = 1.",
        _S**2: "That is the data's variance, not a standard deviation; and one Euler step is not exact.",
    }
    for value, message in named.items():
        if abs(guess - value) <= 0.02:
            raise CheckFailed(f"{told} {message}")
    raise CheckFailed(f"{told} Compute u_1(x) at t = 1 and take one step of length 1.")


q63c = Question(
    name="q63c",
    prompt="Data N(m, s²) in 1-D with m = 1.5, s = 0.5. Sample with the exact marginal velocity but ONE "
           "Euler step from t = 1 to t = 0. Predict the standard deviation of the samples (a number).",
    checker=_check_one_step,
    hints=["At t = 1, x_1 = eps carries no information about x_0: E[x0 | x_1] = m and E[eps | x_1] = x_1.",
           "u_1(x) = x − m, and the step is x_0 = x_1 − 1 · u_1(x_1)."],
    solution_code="""
answer = 0.0   # u_1(x) = x - m, so x_1 - u_1(x_1) = m for every sample
""",
)
