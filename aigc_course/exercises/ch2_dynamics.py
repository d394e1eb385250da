"""Exercises of sections 2.3 (training dynamics, mode collapse) and 2.4 (Wasserstein GANs).

Usage in a notebook::

    from aigc_course.exercises import ch2_dynamics as ex
    ex.q23a.check(modes_covered)   # prints a verdict, returns True/False, never raises
    ex.q23a.hint()
    ex.q23a.solution()

Each checker runs the answer on its own inputs (built so that the common wrong answers give
different numbers), compares it with the reference and names the mistake it recognises.
Introduced in 2.3 and 2.4.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
from scipy.optimize import linprog
from torch import nn

from aigc_course.exercises import CheckFailed, Question, as_tensor, close, judge, prediction

__all__ = ["q23a", "q23b", "q23c", "q23d", "q24a", "q24b", "q24c", "q24d"]


# --------------------------------------------------------------------------------------------------
# 2.3 Training dynamics and mode collapse
# --------------------------------------------------------------------------------------------------

def _ring(n: int, radius: float, centre: torch.Tensor | None = None, phase: float = 0.0) -> torch.Tensor:
    """``n`` points evenly spaced on a circle: (n, 2), float64."""
    angle = phase + torch.arange(n, dtype=torch.float64) * (2 * math.pi / n)
    pts = radius * torch.stack([angle.cos(), angle.sin()], dim=1)
    return pts if centre is None else pts + centre


def _reference_modes_covered(samples: torch.Tensor, centres: torch.Tensor, std: float, min_count: int,
                             k: float = 3.0) -> int:
    dist, nearest = torch.cdist(samples, centres).min(dim=1)  # (N,), (N,)
    counts = torch.bincount(nearest[dist <= k * std], minlength=len(centres))  # (M,)
    return int((counts >= min_count).sum())


def _coverage_case() -> tuple[torch.Tensor, torch.Tensor, float, int]:
    """8 modes on a circle of radius 2 (std 0.02), and samples where every shortcut gives another count:
    300 samples tight around mode 0, 30 at 2 std from mode 2 (inside 3 std, outside 1 std),
    5 around mode 5 (too few to cover it) and 400 poor samples on the circle of radius 1,
    50 of them nearest to each mode."""
    std, min_count = 0.02, 10
    centres = _ring(8, 2.0)
    samples = torch.cat([
        _ring(300, 0.5 * std, centres[0]),
        _ring(30, 2.0 * std, centres[2]),
        _ring(5, 0.5 * std, centres[5]),
        _ring(400, 1.0, phase=math.pi / 400),
    ])
    perm = torch.randperm(len(samples), generator=torch.Generator().manual_seed(23))
    return samples[perm], centres, std, min_count


def _check_modes_covered(fn: Callable) -> None:
    samples, centres, std, min_count = _coverage_case()
    dist, nearest = torch.cdist(samples, centres).min(dim=1)
    wrong = {
        "you counted modes without the distance threshold: a sample far from every centre (here, "
        "on a circle of radius 1) is not a sample OF its nearest mode. Keep only samples within "
        "3·std of their nearest centre.": torch.tensor(8.0),
        "a mode is covered only if at least `min_count` good samples land on it; a few stray "
        "samples do not cover a mode.": torch.tensor(3.0),
        "the radius is 3·std, not std: about 61% of the samples of a 2-D Gaussian lie further than "
        "1 std from its centre.": torch.tensor(1.0),
        "you counted samples, not modes: return how many CENTRES receive at least `min_count` good "
        "samples.": (dist <= 3 * std).sum().double(),
        "you counted all the samples: return the number of covered modes.": torch.tensor(float(len(samples))),
    }
    expected = torch.tensor(float(_reference_modes_covered(samples, centres, std, min_count)))
    judge(fn(samples.clone(), centres.clone(), std, min_count), expected, wrong, what="number of covered modes",
           atol=0.0, rtol=0.0)
    gen = torch.Generator().manual_seed(230)  # a second, random case: 25 modes on a grid, a spread-out G
    grid = torch.cartesian_prod(torch.arange(-2.0, 3.0), torch.arange(-2.0, 3.0)).double()
    pts = grid[torch.randint(0, 12, (2000,), generator=gen)] + 0.08 * torch.randn(2000, 2, generator=gen,
                                                                                  dtype=torch.float64)
    expected = torch.tensor(float(_reference_modes_covered(pts, grid, 0.05, 20)))
    judge(fn(pts.clone(), grid.clone(), 0.05, 20), expected, {}, what="number of covered modes (25-mode grid)",
           atol=0.0, rtol=0.0)


q23a = Question(
    name="q23a",
    prompt="Write `modes_covered(samples, centres, std, min_count)`: samples (N, 2), centres (M, 2). A sample is "
           "good if it lies within 3·std of its NEAREST centre; a mode is covered if at least `min_count` good "
           "samples belong to it. Return the number of covered modes (an int).",
    checker=_check_modes_covered,
    hints=["`torch.cdist(samples, centres)` is the (N, M) matrix of distances; `.min(dim=1)` gives each "
           "sample's distance to, and index of, its nearest centre.",
           "Keep the indices of the good samples, count them per centre with `torch.bincount(..., "
           "minlength=M)`, then count the centres with at least `min_count`."],
    solution_code="""
def modes_covered(samples, centres, std, min_count):
    dist, nearest = torch.cdist(samples, centres).min(dim=1)          # (N,), (N,)
    counts = torch.bincount(nearest[dist <= 3 * std], minlength=len(centres))  # (M,)
    return int((counts >= min_count).sum())
""",
)


def _reference_jsd(m: int, M: int) -> float:
    shared = (m / M) * math.log(2 * m / (m + M))   # the m modes both distributions put mass on
    missed = (M - m) / M * math.log(2)              # the modes only the data has
    q_term = math.log(2 * M / (m + M))              # the generator's m modes
    return 0.5 * (shared + missed + q_term)


def _reverse_kl(m: int, M: int) -> float:
    return math.log(M / m)


def _check_jsd_partial(fn: Callable) -> None:
    cases = [(1, 8), (3, 8), (5, 8), (8, 8), (7, 25)]
    answer = torch.stack([as_tensor(fn(m, M), f"JSD for m={m}, M={M}").reshape(()) for m, M in cases])
    expected = torch.tensor([_reference_jsd(m, M) for m, M in cases], dtype=torch.float64)
    wrong = {
        "this is KL(p_g || p_data) = log(M/m), the reverse KL (finite, and what a mode-seeking objective "
        "sees). The question asks for the Jensen–Shannon divergence, which compares both to the mixture.":
            torch.tensor([_reverse_kl(m, M) for m, M in cases], dtype=torch.float64),
        "this is 2·JSD: the Jensen–Shannon divergence AVERAGES the two KL terms (factor 1/2).": 2 * expected,
        "this is the JSD in bits (log base 2); use natural logarithms (nats), as in C(G) = −log 4 + 2·JSD.":
            expected / math.log(2),
        "this is C(G) = −log 4 + 2·JSD, the value of the game; return the JSD itself.":
            -math.log(4) + 2 * expected,
    }
    if not torch.isfinite(answer).all():
        raise CheckFailed("you returned inf: that is KL(p_data || p_g), infinite because the generator puts no "
                          "mass on the missed modes. The JSD compares both to the mixture (p_data + p_g)/2 and "
                          "is always finite (at most log 2).")
    judge(answer, expected, wrong, what="JSD for (m, M) in " + str(cases))


q23b = Question(
    name="q23b",
    prompt="The data is a mixture of M well-separated modes with equal weights; a collapsed generator puts "
           "equal weight on m of them and reproduces each one exactly. Treat both as distributions over the "
           "M modes and write `jsd_partial(m, M)` returning JSD(p_data || p_g) in nats.",
    checker=_check_jsd_partial,
    hints=["p_data = 1/M on every mode; p_g = 1/m on the first m modes and 0 elsewhere; the mixture is "
           "(p_data + p_g)/2. JSD = ½ KL(p_data || mix) + ½ KL(p_g || mix).",
           "Three groups of terms: the m shared modes in KL(p_data||mix) give (m/M)·log(2m/(m+M)), the M − m "
           "missed ones give ((M − m)/M)·log 2, and KL(p_g||mix) = log(2M/(m+M))."],
    solution_code="""
def jsd_partial(m, M):
    p = torch.full((M,), 1.0 / M, dtype=torch.float64)
    q = torch.zeros(M, dtype=torch.float64)
    q[:m] = 1.0 / m
    mix = (p + q) / 2

    def kl(a, b):  # KL(a || b); terms with a = 0 contribute 0
        keep = a > 0
        return (a[keep] * (a[keep] / b[keep]).log()).sum()

    return float(0.5 * kl(p, mix) + 0.5 * kl(q, mix))
""",
)


# --------------------------------------------------------------------------------------------------
# 2.3c Predict: the smallest GAN under simultaneous gradient steps (the Dirac-GAN)
# --------------------------------------------------------------------------------------------------
# Data: a point mass at 0. Generator: a point mass at theta. Discriminator: D(x) = sigmoid(psi * x).
# V(theta, psi) = log sigmoid(0) + log(1 - sigmoid(psi * theta)) = -log 2 - softplus(psi * theta).
# G descends V in theta, D ascends it in psi (Mescheder et al. 2018).

DIRAC_ETA, DIRAC_STEPS = 0.1, 500


def dirac_field(theta: torch.Tensor, psi: torch.Tensor) -> torch.Tensor:
    """The simultaneous-gradient field (-dV/dtheta, +dV/dpsi) of the Dirac-GAN."""
    s = torch.sigmoid(psi * theta)
    return torch.stack([s * psi, -s * theta])


def dirac_distance(eta: float = DIRAC_ETA, steps: int = DIRAC_STEPS, alternating: bool = False) -> float:
    """Distance from the equilibrium (0, 0) after ``steps`` gradient steps from (theta, psi) = (1, 0)."""
    p = torch.tensor([1.0, 0.0], dtype=torch.float64)
    for _ in range(steps):
        if alternating:
            theta = p[0] + eta * dirac_field(p[0], p[1])[0]
            p = torch.stack([theta, p[1] + eta * dirac_field(theta, p[1])[1]])
        else:
            p = p + eta * dirac_field(p[0], p[1])
    return float(p.norm())


q23c = prediction(
    "q23c",
    "The Dirac-GAN: the data is a point mass at 0, the generator a point mass at θ, the discriminator "
    "D(x) = σ(ψx), so V(θ, ψ) = log σ(0) + log(1 − σ(ψθ)). Starting from (θ, ψ) = (1, 0), both players take "
    f"{DIRAC_STEPS} SIMULTANEOUS gradient steps of size η = {DIRAC_ETA} (G descends V, D ascends it). Predict "
    "the distance sqrt(θ² + ψ²) from the equilibrium (0, 0) at the end.",
    dirac_distance,
    rel_tol=0.15,
    explanation="Near (0, 0) the field is (ψ/2, −θ/2): a rotation at half the speed of the xy game, because "
                "σ(ψθ) ≈ ½ there. Each simultaneous step multiplies the distance by about sqrt(1 + η²/4), "
                f"({1 + DIRAC_ETA**2 / 4:.4f})^{DIRAC_STEPS // 2} ≈ {(1 + DIRAC_ETA**2 / 4) ** (DIRAC_STEPS / 2):.2f} "
                "if σ stayed ½; further out σ(ψθ) swings between 0 and 1 around the orbit, and the measured spiral "
                "is a little slower. It never converges: the GAN's own game rotates, as the xy game does.",
    wrong={
        "1 would mean the iterates circle for ever: that is ALTERNATING steps (or the continuous-time flow, "
        "which conserves θ² + ψ² exactly). Simultaneous steps add η²|field|² to the squared radius at every "
        "step.": 1.0,
        "that is the xy game's rate, (1 + η²)^(n/2). In the Dirac-GAN the coupling between the players is "
        "σ(ψθ) ≈ ½ near the equilibrium, not 1: the rotation is slower and so is the spiral.":
            (1 + DIRAC_ETA**2) ** (DIRAC_STEPS / 2),
        "0 would mean convergence; the equilibrium of this game is not attracting for simultaneous steps.": 0.0,
    },
    hints=["Linearise at (0, 0): dV/dθ = −σ(ψθ)ψ and dV/dψ = −σ(ψθ)θ, with σ(0) = ½. What does one "
           "simultaneous step do to θ² + ψ²?",
           "(θ + ηψ/2)² + (ψ − ηθ/2)² = (1 + η²/4)(θ² + ψ²): the distance grows by sqrt(1 + η²/4) per step, as "
           "long as σ(ψθ) stays near ½."],
    solution_code=f"""
answer = (1 + {DIRAC_ETA}**2 / 4) ** ({DIRAC_STEPS} / 2)   # linearised: sqrt(1 + eta^2/4) per step
""",
)


# --------------------------------------------------------------------------------------------------
# 2.3d Investigate: the eigenvalues of the Dirac-GAN's game Jacobian
# --------------------------------------------------------------------------------------------------

def _complex_pair(answer) -> torch.Tensor:
    if answer is None:
        raise CheckFailed("no answer: set `answer` to the two eigenvalues.")
    try:
        value = torch.as_tensor(answer, dtype=torch.complex128).reshape(-1)
    except (TypeError, ValueError, RuntimeError) as err:
        raise CheckFailed(f"give the two eigenvalues as a tensor or a list of (complex) numbers ({err}).")
    if value.numel() != 2:
        raise CheckFailed(f"a 2×2 Jacobian has two eigenvalues; you gave {value.numel()} numbers.")
    return value


def _same_pair(a: torch.Tensor, b: torch.Tensor, tol: float = 1e-6) -> bool:
    return any(bool(torch.allclose(a, b[list(order)], atol=tol, rtol=0)) for order in ((0, 1), (1, 0)))


def _check_dirac_eigs(answer) -> str:
    value = _complex_pair(answer)
    expected = torch.tensor([0.5j, -0.5j], dtype=torch.complex128)
    if _same_pair(value, expected):
        rate = math.sqrt(1 + DIRAC_ETA**2 / 4)
        return ("±i/2: purely imaginary. The linearised game is a pure rotation (angular speed ½), with no "
                "contraction at all: continuous-time gradient play circles round the equilibrium, and a "
                f"simultaneous step of size η multiplies the distance by |1 + η·i/2| = sqrt(1 + η²/4) "
                f"({rate:.5f} for η = {DIRAC_ETA}). Mescheder et al. (2018) found such imaginary parts for GANs "
                "near an equilibrium: a likely reason why a GAN's samples circle instead of settling.")
    named = {
        "±i is the xy game's rotation. Here the coupling is σ(ψθ) = σ(0) = ½ at the equilibrium: the "
        "eigenvalues are ±i/2.": torch.tensor([1j, -1j], dtype=torch.complex128),
        "±1/2 (real) are the eigenvalues of the Hessian of V, as if both players DESCENDED V. The discriminator "
        "ascends V: the field is (−∂V/∂θ, +∂V/∂ψ), whose Jacobian is diag(−1, 1) times the Hessian.":
            torch.tensor([0.5, -0.5], dtype=torch.complex128),
        "±i/4 uses σ'(0) = ¼ where σ(0) = ½ belongs: at θ = ψ = 0, ∂/∂ψ of σ(ψθ)ψ is σ(0).":
            torch.tensor([0.25j, -0.25j], dtype=torch.complex128),
        "both eigenvalues 0: the diagonal of the Jacobian vanishes at (0, 0), but the off-diagonal entries "
        "±σ(0) do not.": torch.zeros(2, dtype=torch.complex128),
    }
    for message, wrong in named.items():
        if _same_pair(value, wrong):
            raise CheckFailed(message)
    raise CheckFailed(f"the eigenvalues {value.tolist()} do not match the reference. Build the field "
                      "v(θ, ψ) = (−∂V/∂θ, +∂V/∂ψ), take its 2×2 Jacobian at (0, 0) and its eigenvalues "
                      "(torch.linalg.eigvals returns complex numbers).")


q23d = Question(
    name="q23d",
    prompt="For the Dirac-GAN of 2.3c, V(θ, ψ) = log σ(0) + log(1 − σ(ψθ)), the players' simultaneous gradient "
           "field is v(θ, ψ) = (−∂V/∂θ, +∂V/∂ψ). Compute the 2×2 Jacobian of v at the equilibrium (0, 0) (by hand "
           "or with torch.autograd.functional) and set `answer` to its two eigenvalues (complex numbers).",
    checker=_check_dirac_eigs,
    hints=["The Jacobian of v is diag(−1, +1) times the Hessian of V; "
           "`torch.autograd.functional.hessian(V, torch.zeros(2, dtype=torch.float64))` gives the Hessian.",
           "∂V/∂θ = −σ(ψθ)ψ and ∂V/∂ψ = −σ(ψθ)θ. At (0, 0) only the mixed derivatives survive: ±σ(0) = ±½."],
    solution_code="""
answer = torch.linalg.eigvals(
    torch.diag(torch.tensor([-1.0, 1.0], dtype=torch.float64))     # G descends V, D ascends it
    @ torch.autograd.functional.hessian(
        lambda p: -torch.nn.functional.softplus(p[0] * p[1]),     # V(theta, psi) + log 2
        torch.zeros(2, dtype=torch.float64)))
""",
)


# --------------------------------------------------------------------------------------------------
# 2.4 Wasserstein GANs
# --------------------------------------------------------------------------------------------------

def _lp_case(seed: int, n: int, m: int, d: int) -> tuple[np.ndarray, ...]:
    """Points x (n, d) with masses a (n,) and y (m, d) with masses b (m,): unequal masses, n != m."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = rng.normal(size=(m, d)) + np.array([1.5] + [0.0] * (d - 1))
    a, b = rng.uniform(0.2, 1.0, n), rng.uniform(0.2, 1.0, m)
    return x, a / a.sum(), y, b / b.sum()


def _distances(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.linalg.norm(x[:, None, :] - y[None, :, :], axis=-1)  # (n, m)


def _primal(cost: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """min sum_ij gamma_ij cost_ij over plans gamma >= 0 with row sums a and column sums b."""
    n, m = cost.shape
    a_eq = np.zeros((n + m, n * m))
    for i in range(n):
        a_eq[i, i * m:(i + 1) * m] = 1    # sum_j gamma_ij = a_i
    for j in range(m):
        a_eq[n + j, j::m] = 1             # sum_i gamma_ij = b_j
    res = linprog(cost.ravel(), A_eq=a_eq, b_eq=np.concatenate([a, b]), bounds=(0, None),
                  method="highs")
    return float(res.fun)


def _dual(cost: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """max sum_i a_i f_i - sum_j b_j g_j subject to f_i - g_j <= cost_ij (f, g free)."""
    n, m = cost.shape
    a_ub = np.zeros((n * m, n + m))
    for i in range(n):
        for j in range(m):
            a_ub[i * m + j, i], a_ub[i * m + j, n + j] = 1.0, -1.0
    res = linprog(-np.concatenate([a, -b]), A_ub=a_ub, b_ub=cost.ravel(), bounds=(None, None),
                  method="highs")
    return float(-res.fun)


def _check_w1_lp(fn: Callable) -> None:
    for seed, n, m, d in [(24, 7, 5, 2), (241, 6, 9, 3)]:
        x, a, y, b = _lp_case(seed, n, m, d)
        cost = _distances(x, y)
        expected = _primal(cost, a, b)
        answer = fn(x.copy(), a.copy(), y.copy(), b.copy())
        try:
            primal, dual = answer
        except (TypeError, ValueError):
            raise CheckFailed("return a pair (primal, dual): the optimal transport cost and the value of "
                              "the dual linear program.")
        what = f"for {n} points against {m} in {d}-D"
        wrong_primal = {
            "the primal uses SQUARED distances: that is W2², the cost of the 2-Wasserstein distance. The "
            "earth mover's distance W1 pays the distance ‖x_i − y_j‖ itself.":
                torch.tensor(_primal(cost**2, a, b)),
            "this is the cost of the independent plan γ_ij = a_i b_j: a transport plan, but not the "
            "cheapest one. Minimise over all plans with the given marginals.":
                torch.tensor(float(a @ cost @ b)),
            "the masses are missing: you used 1/n and 1/m for every point. The marginal constraints are "
            "sum_j γ_ij = a_i and sum_i γ_ij = b_j.":
                torch.tensor(_primal(cost, np.full(n, 1 / n), np.full(m, 1 / m))),
        }
        judge(as_tensor(primal, "primal value").reshape(()), torch.tensor(expected), wrong_primal,
              what="primal value (the cheapest transport cost) " + what, atol=1e-6, rtol=1e-6)
        wrong_dual = {
            "the dual value has the wrong sign: linprog MINIMISES, so to maximise sum a_i f_i − sum b_j g_j "
            "minimise its negative and return −res.fun.": torch.tensor(-expected),
            "the dual is not allowed to use squared distances either: its constraints are "
            "f_i − g_j ≤ ‖x_i − y_j‖.": torch.tensor(_primal(cost**2, a, b)),
        }
        judge(as_tensor(dual, "dual value").reshape(()), torch.tensor(expected), wrong_dual,
              what="dual value (strong duality: it equals the primal) " + what, atol=1e-6, rtol=1e-6)


q24a = Question(
    name="q24a",
    prompt="Write `w1_primal_dual(x, a, y, b)`: points x (n, d) with masses a (n,), points y (m, d) with "
           "masses b (m,) (each set of masses sums to 1). Solve the earth mover's distance W1 as a linear "
           "program twice with `scipy.optimize.linprog`: the primal over transport plans γ (n, m) and the "
           "dual over potentials f (n,), g (m,). Return the pair (primal value, dual value).",
    checker=_check_w1_lp,
    hints=["Primal: minimise sum_ij γ_ij c_ij with c_ij = ‖x_i − y_j‖, γ ≥ 0, row sums a, column sums b. "
           "Flatten γ to n·m variables: row i's constraint has ones at positions i·m ... i·m + m − 1, "
           "column j's at j, j + m, j + 2m, ...",
           "Dual: maximise a·f − b·g subject to f_i − g_j ≤ c_ij for every pair, with f and g free "
           "(`bounds=(None, None)`). linprog minimises: pass the costs −(a, −b) and return −res.fun."],
    solution_code="""
def w1_primal_dual(x, a, y, b):
    n, m = len(x), len(y)
    cost = np.linalg.norm(x[:, None, :] - y[None, :, :], axis=-1)   # (n, m)
    rows = np.kron(np.eye(n), np.ones((1, m)))                      # sum_j gamma_ij = a_i
    cols = np.kron(np.ones((1, n)), np.eye(m))                      # sum_i gamma_ij = b_j
    primal = linprog(cost.ravel(), A_eq=np.vstack([rows, cols]), b_eq=np.concatenate([a, b]),
                     bounds=(0, None), method="highs")
    # f_i - g_j <= cost_ij: one row per pair (i, j), +1 at f_i and -1 at g_j
    pairs = np.hstack([np.kron(np.eye(n), np.ones((m, 1))), -np.kron(np.ones((n, 1)), np.eye(m))])
    dual = linprog(-np.concatenate([a, -b]), A_ub=pairs, b_ub=cost.ravel(), bounds=(None, None),
                   method="highs")
    return primal.fun, -dual.fun
""",
)


class _Flatten1(nn.Module):
    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h.reshape(h.shape[0])  # (B, 1) -> (B,)


def _gp_critic(in_features: int, seed: int) -> nn.Module:
    """A small nonlinear critic: gradients differ from sample to sample. Output (B,)."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return nn.Sequential(nn.Flatten(), nn.Linear(in_features, 8), nn.Softplus(), nn.Linear(8, 1),
                             _Flatten1()).double()


def _gp_parts(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, eps: torch.Tensor,
              create_graph: bool = True) -> torch.Tensor:
    """Per-sample input gradients (B, ...) of the critic at x_hat = eps·real + (1 − eps)·fake."""
    e = eps.reshape((-1,) + (1,) * (real.dim() - 1))
    x_hat = (e * real + (1 - e) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=create_graph)
    return grad


def _gp_variants(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, eps: torch.Tensor) -> dict:
    """The right penalty and the common wrong ones, by name."""
    grad = _gp_parts(critic, real, fake, eps)
    flat = grad.reshape(grad.shape[0], -1)  # (B, features)
    norms = flat.norm(dim=1)  # (B,)

    def two_sided(mix: torch.Tensor) -> torch.Tensor:  # the right formula at other interpolates
        return ((_gp_parts(critic, real, fake, mix).reshape(len(mix), -1).norm(dim=1) - 1) ** 2).mean()

    v = {
        "right": ((norms - 1) ** 2).mean(),
        "swapped": two_sided(1 - eps),
        "batch": (flat.norm() - 1) ** 2,
        "one_sided": torch.relu(norms - 1).pow(2).mean(),
        "squared_norm": (flat.pow(2).sum(dim=1) - 1).pow(2).mean(),
        "abs": (norms - 1).abs().mean(),
        "real": two_sided(torch.ones_like(eps)),
    }
    if grad.dim() > 2:  # images: the norm over one axis only
        v["last_dim"] = ((grad.norm(dim=-1) - 1) ** 2).mean()
        v["dim1"] = ((grad.norm(dim=1) - 1) ** 2).mean()
    return v


_GP_MESSAGES = {
    "batch": "you took ONE norm of the gradient of the whole batch. The penalty is per sample: "
             "(‖∇f(x̂_i)‖ − 1)² for each i, then the mean over the batch.",
    "one_sided": "this is the one-sided penalty max(0, ‖∇f‖ − 1)²; WGAN-GP uses the two-sided (‖∇f‖ − 1)².",
    "squared_norm": "you used the squared norm ‖∇f‖² where the norm ‖∇f‖ is needed: (‖∇f‖ − 1)² pushes the "
                    "gradient norm towards 1, (‖∇f‖² − 1)² has the same zero but another slope.",
    "abs": "square the deviation: (‖∇f‖ − 1)², not |‖∇f‖ − 1|.",
    "real": "you evaluated the gradient at the real samples; WGAN-GP evaluates it at the random interpolates "
            "x̂ = ε·real + (1 − ε)·fake.",
    "last_dim": "for images the norm runs over ALL non-batch dimensions (C, H, W): flatten each sample "
                "(`grad.flatten(1)`) before taking the norm.",
    "dim1": "for images the norm runs over ALL non-batch dimensions (C, H, W): flatten each sample "
            "(`grad.flatten(1)`) before taking the norm.",
}


def _check_gradient_penalty(fn: Callable) -> str | None:
    gen = torch.Generator().manual_seed(240)
    note = None
    for shape in [(16, 2), (6, 2, 3, 3)]:
        features = math.prod(shape[1:])
        critic = _gp_critic(features, seed=len(shape))
        real = torch.randn(shape, generator=gen, dtype=torch.float64)
        fake = 2 + 0.5 * torch.randn(shape, generator=gen, dtype=torch.float64)
        eps = torch.rand(shape[0], generator=gen, dtype=torch.float64)
        v = _gp_variants(critic, real, fake, eps)
        answer = fn(critic, real.clone(), fake.clone(), eps.clone())
        a = as_tensor(answer, "gradient penalty").reshape(-1)
        what = f"gradient penalty for inputs of shape {shape}"
        if a.numel() == shape[0]:
            raise CheckFailed(f"you returned {shape[0]} numbers, one per sample: average them over the batch "
                              "(the penalty is a scalar).")
        if a.numel() == 1 and torch.allclose(a, v["swapped"].detach().reshape(1), rtol=1e-6) and \
                not torch.allclose(a, v["right"].detach().reshape(1), rtol=1e-6):
            note = ("right, with ε and 1 − ε swapped (x̂ = ε·fake + (1 − ε)·real). Since ε ~ U(0, 1) that "
                    "is the same penalty in distribution; the package uses ε·real + (1 − ε)·fake.")
            reference = v["swapped"]
        else:
            wrong = {_GP_MESSAGES[k]: val.detach() for k, val in v.items() if k in _GP_MESSAGES}
            judge(answer if a.numel() != 1 else a.reshape(()), v["right"].detach(), wrong, what=what, rtol=1e-6)
            reference = v["right"]
        if not (torch.is_tensor(answer) and answer.requires_grad):
            raise CheckFailed("right value, but the penalty is not differentiable with respect to the critic's "
                              "weights, so it would not train the critic: call torch.autograd.grad(..., "
                              "create_graph=True) and do not .detach() or .item() the result.")
        params = list(critic.parameters())
        mine = torch.autograd.grad(answer, params, allow_unused=True)
        ref = torch.autograd.grad(reference, params, allow_unused=True)  # the last bias has no input gradient
        for p, g_mine, g_ref in zip(params, mine, ref):
            g_mine = torch.zeros_like(p) if g_mine is None else g_mine.double()
            g_ref = torch.zeros_like(p) if g_ref is None else g_ref
            if not torch.allclose(g_mine, g_ref, rtol=1e-5, atol=1e-8):
                raise CheckFailed("right value, but its gradient with respect to the critic's weights is wrong: "
                                  "keep the graph of the input gradient (create_graph=True) and build x̂ from "
                                  "real and fake without detaching the gradient itself.")
    return note


q24b = Question(
    name="q24b",
    prompt="Write `gradient_penalty(critic, real, fake, eps)`: real and fake batches of shape (B, ...) (vectors "
           "or images), eps of shape (B,). With x̂_i = eps_i·real_i + (1 − eps_i)·fake_i return "
           "mean_i (‖∇_x f(x̂_i)‖₂ − 1)², differentiable with respect to the critic's weights.",
    checker=_check_gradient_penalty,
    hints=["Reshape eps to (B, 1, ..., 1) so it broadcasts; make x̂ a leaf that requires grad; "
           "`torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)` gives every sample's "
           "gradient at once (samples do not interact in the critic).",
           "`norms = grad.flatten(1).norm(dim=1)` is one norm per sample; return `((norms - 1) ** 2).mean()`."],
    solution_code="""
def gradient_penalty(critic, real, fake, eps):
    e = eps.reshape((-1,) + (1,) * (real.dim() - 1))           # (B, 1, ..., 1)
    x_hat = (e * real + (1 - e) * fake).detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)  # (B, ...)
    norms = grad.flatten(1).norm(dim=1)                        # (B,)
    return ((norms - 1) ** 2).mean()
""",
)


# --------------------------------------------------------------------------------------------------
# 2.4c Predict: W1 between two Gaussians with the same mean
# --------------------------------------------------------------------------------------------------

def _w1_same_mean() -> float:
    """W1(N(0, 1), N(0, 2²)) as the area between the two CDFs, by adaptive quadrature."""
    from scipy import integrate, stats
    return integrate.quad(lambda t: abs(stats.norm.cdf(t) - stats.norm.cdf(t, 0, 2)), -40, 40, points=[0.0],
                          limit=200, epsabs=1e-12)[0]


q24c = prediction(
    "q24c",
    "Predict the earth mover's distance W1(N(0, 1), N(0, 2²)) between two Gaussians with the SAME mean "
    "(a number, before computing it).",
    _w1_same_mean,
    rel_tol=0.1,
    explanation="The monotone map N(0, 1) → N(0, 2²) is T(x) = 2x, so W1 = E|2Z − Z| = E|Z| = sqrt(2/π) ≈ 0.798: "
                "equal means do not make W1 zero, because mass must still move outwards to widen the "
                "distribution.",
    wrong={
        "0 would need the same distribution, not only the same mean: W1 moves every unit of mass, and "
        "spreading N(0, 1) out to N(0, 2²) takes work.": 0.0,
        "1 = |2 − 1| is the difference of the standard deviations, which is W2 (the 2-Wasserstein distance) for "
        "1-D Gaussians: W2² = (m1 − m2)² + (s1 − s2)². W1 = E|T(Z) − Z| averages |2Z − Z| = |Z|.": 1.0,
        "that is E|X − Y| for INDEPENDENT X ~ N(0, 1), Y ~ N(0, 2²): the cost of the independent plan, like the "
        "unsorted pairing on the page. The optimal plan pairs quantiles.": math.sqrt(5) * math.sqrt(2 / math.pi),
        "log 2 is the JSD of disjoint distributions; these overlap, and W1 is not a divergence of densities.":
            math.log(2),
    },
    hints=["In 1-D the optimal plan sends each quantile to the same quantile: x ↦ T(x) with T(x) = 2x here.",
           "W1 = E|T(Z) − Z| = E|Z| for Z ~ N(0, 1), and E|Z| = sqrt(2/π)."],
    solution_code="""
answer = math.sqrt(2 / math.pi)   # E|2Z - Z| = E|Z|
""",
)


# --------------------------------------------------------------------------------------------------
# 2.4d Debug: a WGAN critic step with weight clipping
# --------------------------------------------------------------------------------------------------

def _clip_setup(seed: int):
    """A small critic with weights on both sides of the clip value, a linear G and a batch."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        f = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), _Flatten1())
        with torch.no_grad():
            for p in f.parameters():
                p.uniform_(-0.8, 0.8)          # some inside [-c, c], some outside (c = 0.5 below)
        G = nn.Linear(2, 2)
        with torch.no_grad():
            G.weight.mul_(3.0)                 # G's weights exceed c too: clipping G would change them
        real, z = torch.randn(32, 2) + torch.tensor([2.0, 0.0]), torch.randn(32, 2)
    return f, G, real, z


def _reference_critic_step(f, G, real, z, opt_f, c):
    fake = G(z).detach()
    loss = f(fake).mean() - f(real).mean()          # losses.wgan_critic_loss
    opt_f.zero_grad()
    loss.backward()
    opt_f.step()
    with torch.no_grad():
        for p in f.parameters():
            p.clamp_(-c, c)
    return loss.item()


def _check_critic_step(step_fn: Callable) -> None:
    import copy

    c = 0.5
    f0, G0, real, z = _clip_setup(24)

    def flat(module):
        return torch.cat([p.detach().flatten() for p in module.parameters()])

    def run(fn, sign=1.0, clip="critic", order="after"):
        f, G = copy.deepcopy(f0), copy.deepcopy(G0)
        opt = torch.optim.SGD(f.parameters(), lr=0.2)
        if fn is not None:
            return f, G, fn(f, G, real.clone(), z.clone(), opt, c)
        fake = G(z).detach()
        if order == "before":
            with torch.no_grad():
                for p in f.parameters():
                    p.clamp_(-c, c)
        loss = sign * (f(fake).mean() - f(real).mean())
        opt.zero_grad()
        loss.backward()
        opt.step()
        if order == "after" and clip is not None:
            with torch.no_grad():
                for p in (f if clip == "critic" else G).parameters():
                    p.clamp_(-c, c)
        return f, G, loss.item()

    f_ref, _, loss_ref = run(_reference_critic_step)
    f_ans, g_ans, loss_ans = run(step_fn)
    if loss_ans is None:
        raise CheckFailed("your function returned None: did you forget `return loss.item()`?")
    if not torch.equal(flat(g_ans), flat(G0)):
        if torch.equal(flat(g_ans), flat(G0).clamp(-c, c)):
            raise CheckFailed("the GENERATOR's weights were clipped. Weight clipping keeps the CRITIC "
                              "Lipschitz: clamp f's parameters, and leave G alone in the critic's step.")
        raise CheckFailed("the generator's parameters changed: the critic step must update the critic only.")
    wrong = {
        "both bugs are still there: the loss has the wrong sign, and the critic is never clipped.":
            flat(run(None, sign=-1.0, clip="generator")[0]),
        "the critic is never clipped: clamp each of ITS parameters to [−c, c] after the optimiser's step.":
            flat(run(None, clip="generator")[0]),
        "the loss has the wrong sign: the critic MINIMISES E f(fake) − E f(real) (losses.wgan_critic_loss), "
        "i.e. it maximises E f(real) − E f(fake), the dual estimate of W1.":
            flat(run(None, sign=-1.0)[0]),
        "you clipped before the step: after opt_f.step() some weights leave [−c, c] again. Clip after it.":
            flat(run(None, order="before")[0]),
    }
    judge(flat(f_ans), flat(f_ref), wrong, what="critic's parameters after one step", atol=1e-6, rtol=1e-5)
    close(as_tensor(loss_ans, "returned loss"), torch.tensor(loss_ref), what="returned loss (before the step)")


q24d = Question(
    name="q24d",
    prompt="Repair `critic_step(f, G, real, z, opt_f, c)`: one critic step of WGAN with weight clipping. It "
           "should minimise E f(fake) − E f(real) (the fakes detached), step `opt_f`, then clamp every parameter "
           "of the CRITIC to [−c, c], and return the loss (before the step) as a float.",
    checker=_check_critic_step,
    hints=["Two bugs. Which way does the critic's loss point (compare losses.wgan_critic_loss), and whose "
           "parameters must stay in [−c, c]?",
           "loss = f(fake).mean() − f(real).mean(); after opt_f.step(), `for p in f.parameters(): "
           "p.clamp_(-c, c)` under torch.no_grad()."],
    solution_code="""
def critic_step(f, G, real, z, opt_f, c):
    fake = G(z).detach()
    loss = f(fake).mean() - f(real).mean()      # the critic minimises E f(fake) - E f(real)
    opt_f.zero_grad()
    loss.backward()
    opt_f.step()
    with torch.no_grad():
        for p in f.parameters():                # clip the CRITIC, after its step
            p.clamp_(-c, c)
    return loss.item()
""",
)
