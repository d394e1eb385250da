"""The diffusion / flow-matching module: schedules, parameterisations, samplers, the kind and its trainer."""
from __future__ import annotations

import math

import pytest
import torch

from aigc_course import diffusion as D
from aigc_course import kinds, train
from aigc_course.config import TrainConfig

T = torch.tensor([0.03, 0.2, 0.5, 0.8, 0.97], dtype=torch.float64)


def _mlp(**kw) -> D.Diffusion:
    torch.manual_seed(0)
    return D.Diffusion(D.DiffusionConfig(kind="mlp", data_dim=2, hidden=32, depth=2, **kw)).double()


@pytest.mark.parametrize("schedule", D.SCHEDULES)
def test_derivatives_match_finite_differences(schedule):
    t = torch.tensor([0.1, 0.33, 0.6, 0.9], dtype=torch.float64) + 1e-4  # off the ddpm table's knots
    h = 1e-7
    (a1, s1), (a0, s0) = D.alpha_sigma(t + h, schedule), D.alpha_sigma(t - h, schedule)
    da, ds = D.alpha_sigma_deriv(t, schedule)
    torch.testing.assert_close(da, (a1 - a0) / (2 * h), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(ds, (s1 - s0) / (2 * h), rtol=1e-5, atol=1e-6)


def test_ddpm_schedule_is_the_product_of_one_minus_beta():
    betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)
    alpha_bar = torch.cumprod(1 - betas, 0)
    k = torch.tensor([1, 10, 500, 1000])
    alpha, sigma = D.alpha_sigma(k.double() / 1000, "ddpm")
    torch.testing.assert_close(alpha ** 2, alpha_bar[k - 1])
    torch.testing.assert_close(sigma ** 2, 1 - alpha_bar[k - 1])
    wrong = 1 - torch.cumsum(betas, 0)  # "alpha_bar = 1 - sum of betas": wrong after a few steps
    assert not torch.allclose(alpha[2] ** 2, wrong[k[2] - 1], atol=1e-3)


@pytest.mark.parametrize("schedule", D.SCHEDULES)
@pytest.mark.parametrize("prediction", D.PREDICTIONS)
def test_every_parameterisation_recovers_x0_and_eps(schedule, prediction):
    g = torch.Generator().manual_seed(0)
    x0, eps = torch.randn(5, 3, generator=g, dtype=torch.float64), torch.randn(5, 3, generator=g, dtype=torch.float64)
    alpha, sigma = D.alpha_sigma(T, schedule)
    x_t = alpha[:, None] * x0 + sigma[:, None] * eps
    out = D.target(prediction, x0, eps, T, schedule)
    x0_hat, eps_hat = D.to_x0_eps(prediction, out, x_t, T, schedule)
    torch.testing.assert_close(x0_hat, x0)
    torch.testing.assert_close(eps_hat, eps)
    score = D.convert(out, x_t, T, prediction, "score", schedule)
    torch.testing.assert_close(score, -eps / sigma[:, None])


def test_velocity_is_the_time_derivative_of_the_path():
    g = torch.Generator().manual_seed(1)
    x0, eps = torch.randn(4, 2, generator=g, dtype=torch.float64), torch.randn(4, 2, generator=g, dtype=torch.float64)
    for schedule in D.SCHEDULES:
        t, h = torch.full((4,), 0.4003, dtype=torch.float64), 1e-6  # off a ddpm knot
        path = lambda s: (lambda a, b: a[:, None] * x0 + b[:, None] * eps)(*D.alpha_sigma(s, schedule))  # noqa: E731
        torch.testing.assert_close(D.target("velocity", x0, eps, t, schedule), (path(t + h) - path(t - h)) / (2 * h),
                                   rtol=1e-5, atol=1e-5)


def test_posterior_is_ddpm_equations_6_and_7():
    betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)
    alpha_bar = torch.cumprod(1 - betas, 0)
    g = torch.Generator().manual_seed(2)
    x0, x_t = torch.randn(3, generator=g, dtype=torch.float64), torch.randn(3, generator=g, dtype=torch.float64)
    for k in (2, 100, 999):  # step k -> k - 1 (1-based steps; alpha_bar[k - 1] belongs to step k)
        mean, std = D.posterior(x_t, x0, torch.tensor(k / 1000, dtype=torch.float64),
                               torch.tensor((k - 1) / 1000, dtype=torch.float64), "ddpm")
        ab_t, ab_s, beta = alpha_bar[k - 1], alpha_bar[k - 2], betas[k - 1]
        mu = ab_s.sqrt() * beta / (1 - ab_t) * x0 + (1 - beta).sqrt() * (1 - ab_s) / (1 - ab_t) * x_t
        torch.testing.assert_close(mean, mu)
        assert math.isclose(float(std) ** 2, float((1 - ab_s) / (1 - ab_t) * beta), rel_tol=1e-9)


def test_the_posterior_mean_from_eps_is_algorithm_2s_update():
    """(x_t - beta / sqrt(1 - alpha_bar) eps) / sqrt(alpha) is the posterior mean at x0 = x0_hat(eps)."""
    betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)
    alpha_bar = torch.cumprod(1 - betas, 0)
    g = torch.Generator().manual_seed(3)
    x_t, eps = torch.randn(4, generator=g, dtype=torch.float64), torch.randn(4, generator=g, dtype=torch.float64)
    k = 700
    t, s = torch.tensor(k / 1000, dtype=torch.float64), torch.tensor((k - 1) / 1000, dtype=torch.float64)
    x0_hat, _ = D.to_x0_eps("eps", eps, x_t, t, "ddpm")
    mean, _ = D.posterior(x_t, x0_hat, t, s, "ddpm")
    alg2 = (x_t - betas[k - 1] / (1 - alpha_bar[k - 1]).sqrt() * eps) / (1 - betas[k - 1]).sqrt()
    torch.testing.assert_close(mean, alg2)


def test_ddim_is_euler_on_the_straight_path():
    model = _mlp()
    x = torch.randn(6, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    t, s = torch.tensor(0.7, dtype=torch.float64), torch.tensor(0.55, dtype=torch.float64)
    with torch.no_grad():
        x0, eps = model.predict(x, t)
        euler = x + (s - t) * model.velocity(x, t)
    torch.testing.assert_close(D.ddim_step(x, x0, eps, t, s, "linear"), euler)
    # not on a variance-preserving path: there DDIM is Euler in other coordinates
    vp = _mlp(schedule="cosine")
    with torch.no_grad():
        x0, eps = vp.predict(x, t)
        euler_vp = x + (s - t) * vp.velocity(x, t)
    assert not torch.allclose(D.ddim_step(x, x0, eps, t, s, "cosine"), euler_vp, atol=1e-4)


def test_guidance_mixes_the_conditional_and_unconditional_outputs():
    model = _mlp(n_classes=3)
    x = torch.randn(4, 2, dtype=torch.float64)
    t = torch.full((4,), 0.5, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 1])
    with torch.no_grad():
        cond, uncond = model(x, t, y), model(x, t, None)
        x0_w, _ = model.predict(x, t, y, guidance=2.5)
        x0_1, _ = model.predict(x, t, y, guidance=1.0)
        x0_0, _ = model.predict(x, t, y, guidance=0.0)
    mix = uncond + 2.5 * (cond - uncond)
    torch.testing.assert_close(x0_w, D.to_x0_eps("velocity", mix, x, t)[0])
    torch.testing.assert_close(x0_1, D.to_x0_eps("velocity", cond, x, t)[0])
    torch.testing.assert_close(x0_0, D.to_x0_eps("velocity", uncond, x, t)[0])
    assert D.nfe("heun", 25) == 49 and D.nfe("heun", 25, 2.5, conditional=True) == 98
    assert D.nfe("euler", 10, 0.0, conditional=True) == 10


@pytest.mark.parametrize("sampler", D.SAMPLERS)
def test_samples_are_reproducible_and_batched(sampler):
    model = _mlp().float()
    a = model.sample(7, torch.Generator().manual_seed(5), steps=4, sampler=sampler)
    b = model.sample(7, torch.Generator().manual_seed(5), steps=4, sampler=sampler)
    torch.testing.assert_close(a, b)
    assert a.shape == (7, 2) and torch.isfinite(a).all()
    if sampler != "ancestral":  # deterministic given the starting noise: batching cannot change them
        c = model.sample(7, torch.Generator().manual_seed(5), steps=4, sampler=sampler, batch_size=3)
        torch.testing.assert_close(a, c)
    _, path = model.sample(3, torch.Generator().manual_seed(5), steps=4, sampler=sampler, return_path=True)
    assert path.shape == (5, 3, 2)


def test_unet_shapes_and_conditioning():
    cfg = D.DiffusionConfig(kind="unet", width=8, mult=(1, 2, 2), n_classes=10)
    model = D.Diffusion(cfg)
    x = torch.randn(3, 1, 28, 28)
    out = model(x, torch.rand(3), torch.tensor([0, 5, 10]))
    assert out.shape == x.shape
    imgs = model.sample(4, torch.Generator().manual_seed(0), steps=2, guidance=3.0)
    assert imgs.shape == (4, 1, 28, 28) and imgs.abs().max() <= 1
    with pytest.raises(ValueError, match="labels must lie"):
        model.sample(2, labels=torch.tensor([0, 11]), steps=1)
    with pytest.raises(ValueError, match="shape"):
        model(torch.randn(2, 1, 32, 32), torch.rand(2))


@pytest.mark.parametrize("field, value, message", [
    ("schedule", "quadratic", "schedule"), ("prediction", "noise", "prediction"), ("mult", (1, 0), "mult"),
    ("img_size", 30, "divisible"), ("p_uncond", 1.0, "p_uncond"), ("width", 2.5, "whole number"),
])
def test_bad_configs_name_the_field(field, value, message):
    with pytest.raises(ValueError, match=message):
        D.DiffusionConfig(**{field: value})


def test_config_round_trips_through_json_dicts():
    cfg = D.DiffusionConfig(mult=(1, 2, 3), n_classes=10)
    data = cfg.to_dict()
    data["mult"] = list(data["mult"])  # as JSON gives it back
    assert D.DiffusionConfig.from_dict(data) == cfg
    assert kinds.get("diffusion").model_config(kinds.build("diffusion", data)) == cfg.to_dict()


def test_the_trainer_learns_and_resumes_bit_for_bit(tmp_path):
    points = torch.randn(512, 2) * 0.1 + torch.tensor([2.0, -1.0])
    cfg = TrainConfig(steps=40, batch_size=64, lr=3e-3, betas=(0.9, 0.999), log_every=10, ema=0.9)

    def fresh():
        torch.manual_seed(0)
        return {"model": D.Diffusion(D.DiffusionConfig(kind="mlp", data_dim=2, hidden=32, depth=2))}

    full = train.train("diffusion", fresh(), points, cfg, progress=False)
    losses = full.history.as_arrays("loss")[1]
    assert losses[-1] < 0.5 * losses[0]
    half = train.train("diffusion", fresh(), points, cfg.replace(steps=20), out_dir=tmp_path / "run", progress=False)
    assert half.checkpoint is not None
    rest = train.train("diffusion", fresh(), points, cfg, resume=tmp_path / "run", progress=False)
    for a, b in zip(full.models["model"].state_dict().values(), rest.models["model"].state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    for a, b in zip(full.ema.state_dict().values(), rest.ema.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert full.sampler is full.ema


def test_a_conditional_model_needs_labelled_data():
    model = D.Diffusion(D.DiffusionConfig(kind="mlp", data_dim=2, hidden=16, depth=1, n_classes=2))
    with pytest.raises(ValueError, match="labels"):
        train.train("diffusion", {"model": model}, torch.randn(64, 2), TrainConfig(steps=1, batch_size=32),
                    progress=False)
