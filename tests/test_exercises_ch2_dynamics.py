"""The exercises of 2.3 and 2.4 accept the right answers and name the common wrong ones."""
import math

import numpy as np
import pytest
import torch
from scipy.optimize import linprog

from aigc_course.exercises import ch2_dynamics as ex


def _verdict(question, answer):
    return question.check(answer, quiet=True)


def _solution(question):
    given = {"torch": torch, "math": math, "np": np, "linprog": linprog}
    namespace = dict(given)
    exec(question.solution_code, namespace)
    return next(v for k, v in namespace.items() if callable(v) and k not in given)


@pytest.mark.parametrize("question", [ex.q23a, ex.q23b, ex.q24a, ex.q24b], ids=lambda q: q.name)
def test_reference_solution_is_accepted(question):
    assert _verdict(question, _solution(question))


@pytest.mark.parametrize("question", [ex.q23a, ex.q23b, ex.q24a, ex.q24b], ids=lambda q: q.name)
def test_stub_is_not_accepted_and_does_not_raise(question):
    assert not _verdict(question, None)
    assert not _verdict(question, lambda *args: ...)

    def unfinished(*args):
        raise NotImplementedError

    assert "NotImplementedError" in _verdict(question, unfinished).message


# --- 2.3 a: counting covered modes ------------------------------------------------------------

def _nearest(samples, centres):
    return torch.cdist(samples, centres).min(dim=1)


def _covered_no_threshold(samples, centres, std, min_count):
    _, nearest = _nearest(samples, centres)
    return int((torch.bincount(nearest, minlength=len(centres)) >= min_count).sum())


def _covered_any_sample(samples, centres, std, min_count):
    dist, nearest = _nearest(samples, centres)
    return int((torch.bincount(nearest[dist <= 3 * std], minlength=len(centres)) >= 1).sum())


def _covered_one_std(samples, centres, std, min_count):
    dist, nearest = _nearest(samples, centres)
    return int((torch.bincount(nearest[dist <= std], minlength=len(centres)) >= min_count).sum())


def _good_samples(samples, centres, std, min_count):
    dist, _ = _nearest(samples, centres)
    return int((dist <= 3 * std).sum())


@pytest.mark.parametrize("wrong, words", [
    (_covered_no_threshold, "without the distance threshold"),
    (_covered_any_sample, "min_count"),
    (_covered_one_std, "3·std, not std"),
    (_good_samples, "counted samples, not modes"),
])
def test_q23a_rejects_common_mistakes(wrong, words):
    verdict = _verdict(ex.q23a, wrong)
    assert not verdict and words in verdict.message


def test_q23a_agrees_with_the_package_metric():
    from aigc_course import metrics

    modes_covered = _solution(ex.q23a)
    gen = torch.Generator().manual_seed(0)
    centres = torch.randn(8, 2, generator=gen) * 3
    samples = centres[torch.randint(0, 5, (1000,), generator=gen)] + 0.05 * torch.randn(1000, 2, generator=gen)
    expected = metrics.mode_coverage(samples, centres, std=0.05)["modes_covered"]
    assert modes_covered(samples, centres, 0.05, max(1, 0.1 * 1000 / 8)) == expected


# --- 2.3 b: JSD of a partially collapsed generator --------------------------------------------

def test_q23b_values_and_mistakes():
    jsd = _solution(ex.q23b)
    assert jsd(8, 8) == pytest.approx(0.0, abs=1e-12)
    assert all(jsd(m, 8) > jsd(m + 1, 8) for m in range(1, 8))  # more modes, smaller JSD
    assert jsd(1, 8) < math.log(2)
    for wrong, words in [(lambda m, M: math.log(M / m), "reverse KL"),
                         (lambda m, M: 2 * jsd(m, M), "2·JSD"),
                         (lambda m, M: jsd(m, M) / math.log(2), "bits"),
                         (lambda m, M: -math.log(4) + 2 * jsd(m, M), "C(G)"),
                         (lambda m, M: math.inf if m < M else 0.0, "KL(p_data || p_g)")]:
        verdict = _verdict(ex.q23b, wrong)
        assert not verdict and words in verdict.message, verdict.message


# --- 2.4 a: W1 as a linear program, primal and dual ---------------------------------------------

def _costs(x, y):
    return np.linalg.norm(x[:, None, :] - y[None, :, :], axis=-1)


def test_q24a_reference_matches_scipy_in_1d_and_strong_duality():
    from scipy.stats import wasserstein_distance

    w1_primal_dual = _solution(ex.q24a)
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(12, 1)), 2 + 0.5 * rng.normal(size=(9, 1))
    a, b = rng.uniform(0.1, 1, 12), rng.uniform(0.1, 1, 9)
    a, b = a / a.sum(), b / b.sum()
    primal, dual = w1_primal_dual(x, a, y, b)
    assert primal == pytest.approx(wasserstein_distance(x[:, 0], y[:, 0], a, b), abs=1e-9)
    assert dual == pytest.approx(primal, abs=1e-9)


def _primal_only(cost_fn, masses="given"):
    """A primal LP with another cost or without the masses, and the right dual."""
    right = _solution(ex.q24a)

    def fn(x, a, y, b):
        n, m = len(x), len(y)
        if masses == "uniform":
            a, b = np.full(n, 1 / n), np.full(m, 1 / m)
        eq = np.vstack([np.kron(np.eye(n), np.ones((1, m))), np.kron(np.ones((1, n)), np.eye(m))])
        res = linprog(cost_fn(x, y).ravel(), A_eq=eq, b_eq=np.concatenate([a, b]), method="highs")
        return res.fun, right(x, a, y, b)[1]
    return fn


def test_q24a_rejects_common_mistakes():
    right = _solution(ex.q24a)
    cases = [
        (_primal_only(lambda x, y: _costs(x, y) ** 2), "SQUARED"),
        (_primal_only(_costs, masses="uniform"), "masses are missing"),
        (lambda x, a, y, b: (float(a @ _costs(x, y) @ b),) * 2, "independent plan"),
        (lambda x, a, y, b: (right(x, a, y, b)[0], -right(x, a, y, b)[1]), "wrong sign"),
        (lambda x, a, y, b: right(x, a, y, b)[0], "return a pair"),
    ]
    for wrong, words in cases:
        verdict = _verdict(ex.q24a, wrong)
        assert not verdict and words in verdict.message, verdict.message


# --- 2.4 b: per-sample gradient penalty -------------------------------------------------------

def _interpolate(real, fake, eps):
    e = eps.reshape((-1,) + (1,) * (real.dim() - 1))
    x_hat = (e * real + (1 - e) * fake).requires_grad_(True)
    return x_hat


def _grad(critic, x_hat, create_graph=True):
    return torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=create_graph)[0]


def _gp_batch_norm(critic, real, fake, eps):
    return (_grad(critic, _interpolate(real, fake, eps)).norm() - 1) ** 2


def _gp_one_sided(critic, real, fake, eps):
    norms = _grad(critic, _interpolate(real, fake, eps)).flatten(1).norm(dim=1)
    return torch.relu(norms - 1).pow(2).mean()


def _gp_squared_norm(critic, real, fake, eps):
    return (_grad(critic, _interpolate(real, fake, eps)).flatten(1).pow(2).sum(1) - 1).pow(2).mean()


def _gp_image_dim1(critic, real, fake, eps):
    return ((_grad(critic, _interpolate(real, fake, eps)).norm(dim=1) - 1) ** 2).mean()


def _gp_detached(critic, real, fake, eps):
    norms = _grad(critic, _interpolate(real, fake, eps), create_graph=False).flatten(1).norm(dim=1)
    return ((norms - 1) ** 2).mean()


def _gp_per_sample(critic, real, fake, eps):
    return (_grad(critic, _interpolate(real, fake, eps)).flatten(1).norm(dim=1) - 1) ** 2


@pytest.mark.parametrize("wrong, words", [
    (_gp_batch_norm, "ONE norm of the gradient of the whole batch"),
    (_gp_one_sided, "one-sided"),
    (_gp_squared_norm, "squared norm"),
    (_gp_image_dim1, "ALL non-batch dimensions"),
    (_gp_detached, "not differentiable"),
    (_gp_per_sample, "one per sample"),
])
def test_q24b_rejects_common_mistakes(wrong, words):
    verdict = _verdict(ex.q24b, wrong)
    assert not verdict and words in verdict.message, verdict.message


def test_q24b_accepts_swapped_interpolation_with_a_note():
    def swapped(critic, real, fake, eps):
        return _gp_per_sample(critic, real, fake, 1 - eps).mean()

    verdict = _verdict(ex.q24b, swapped)
    assert verdict and "swapped" in verdict.message


def test_q24b_reference_equals_the_package_penalty():
    from aigc_course import losses

    gp = _solution(ex.q24b)
    critic = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1), torch.nn.Flatten(0))
    real, fake = torch.randn(32, 3), torch.randn(32, 3) + 1
    eps = torch.rand(32, generator=torch.Generator().manual_seed(5))
    expected = losses.gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(gp(critic, real, fake, eps), expected)


# --- new exercises (issue 27): predict, investigate, debug ---------------------------------------------
from exercise_helpers import checker_tests, rejected  # noqa: E402

NEW = [ex.q23c, ex.q23d, ex.q24c, ex.q24d]


def _shown(question):
    return question.reference(nn=torch.nn)


(test_shown_solution_is_accepted, test_stub_and_crash_give_a_verdict_not_an_exception,
 test_checkers_leave_the_global_rng_alone) = checker_tests(NEW, _shown, numeric=[ex.q23c, ex.q23d, ex.q24c])


def test_q23c_prediction_of_the_dirac_gan_spiral():
    q = ex.q23c
    truth = ex.dirac_distance()
    assert 1.5 < truth < 2.0                                  # it spirals out
    assert abs(ex.dirac_distance(alternating=True) - 1) < 0.05  # alternating steps circle
    for guess in (truth, 1.6, (1 + 0.1**2 / 4) ** 250):       # the linearised rate counts
        verdict = q.check(guess, quiet=True)
        assert verdict and f"{truth:.4g}" in verdict.message
    rejected(q, 1.0, "ALTERNATING")
    rejected(q, 12.0, "xy game's rate")
    rejected(q, 0.0, "convergence")
    rejected(q, 3.0, "Within")


def test_q23c_dirac_field_is_the_gradient_of_v():
    p = torch.tensor([0.7, -1.3], dtype=torch.float64, requires_grad=True)
    value = -torch.nn.functional.softplus(p[0] * p[1])
    (grad,) = torch.autograd.grad(value, p)
    torch.testing.assert_close(ex.dirac_field(p[0].detach(), p[1].detach()),
                               torch.stack([-grad[0], grad[1]]))


def test_q23d_dirac_eigenvalues():
    q = ex.q23d
    for answer in ([0.5j, -0.5j], torch.tensor([-0.5j, 0.5j]), (complex(0, -0.5), complex(0, 0.5))):
        verdict = q.check(answer, quiet=True)
        assert verdict and "purely imaginary" in verdict.message
    # by autograd on the field itself, a different route to the same answer
    jac = torch.autograd.functional.jacobian(lambda p: ex.dirac_field(p[0], p[1]),
                                             torch.zeros(2, dtype=torch.float64))
    assert q.check(torch.linalg.eigvals(jac), quiet=True)
    rejected(q, [1j, -1j], "xy game")
    rejected(q, [0.5, -0.5], "Hessian")
    rejected(q, [0.25j, -0.25j], "σ'(0)")
    rejected(q, [0, 0], "off-diagonal")
    rejected(q, [0.5j], "two eigenvalues")
    rejected(q, [0.1 + 0.5j, 0.1 - 0.5j], "do not match")
    rejected(q, "i/2", "complex")


def test_q24c_prediction_of_w1_with_equal_means():
    q = ex.q24c
    truth = math.sqrt(2 / math.pi)
    assert abs(ex._w1_same_mean() - truth) < 1e-8
    assert q.check(0.75, quiet=True) and q.check(truth, quiet=True)
    rejected(q, 0.0, "same mean")
    rejected(q, 1.0, "W2")
    rejected(q, math.sqrt(5 * 2 / math.pi), "INDEPENDENT")
    rejected(q, math.log(2), "JSD")
    rejected(q, 2.0, "Within")


def _critic_step(sign=1.0, clip="critic", when="after", detach=True):
    def step(f, G, real, z, opt_f, c):
        fake = G(z).detach() if detach else G(z)
        if when == "before":
            with torch.no_grad():
                for p in f.parameters():
                    p.clamp_(-c, c)
        loss = sign * (f(fake).mean() - f(real).mean())
        opt_f.zero_grad()
        loss.backward()
        opt_f.step()
        if when == "after" and clip is not None:
            with torch.no_grad():
                for p in (f if clip == "critic" else G).parameters():
                    p.clamp_(-c, c)
        return loss.item()
    return step


def test_q24d_critic_step_debug():
    from aigc_course import losses

    q = ex.q24d
    assert q.check(_critic_step(), quiet=True)

    def with_package_loss(f, G, real, z, opt_f, c):  # written differently: package loss, clamp via .data
        opt_f.zero_grad()
        loss = losses.wgan_critic_loss(f(real), f(G(z).detach()))
        loss.backward()
        opt_f.step()
        for p in f.parameters():
            p.data = p.data.clamp(-c, c)
        return loss.item()

    assert q.check(with_package_loss, quiet=True)
    rejected(q, _critic_step(sign=-1.0, clip="generator"), "GENERATOR")      # the page's broken snippet
    rejected(q, _critic_step(clip="generator"), "GENERATOR")
    rejected(q, _critic_step(clip=None), "never clipped")
    rejected(q, _critic_step(sign=-1.0), "wrong sign")
    rejected(q, _critic_step(when="before"), "before the step")


def test_q24d_the_setup_separates_every_wrong_answer():
    """Each named mistake changes the critic's parameters differently from the reference."""
    f0, G0, real, z = ex._clip_setup(24)
    assert any(p.abs().max() > 0.5 for p in f0.parameters()) and G0.weight.abs().max() > 0.5
