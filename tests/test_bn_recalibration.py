"""nn.recalibrate_batchnorm and the GAN trainer's use of it on the EMA generator (review round 5, N2)."""
import copy

import pytest
import torch
from torch import nn

from aigc_course import train as train_mod
from aigc_course.config import GANConfig, TrainConfig
from aigc_course.data import TensorLoader
from aigc_course.kinds import build
from aigc_course.nn import batchnorm_layers, recalibrate_batchnorm
from aigc_course.train import BN_RECALIBRATION_BATCHES, DiffusionTrainer, Trainer, train_gan


def _bn_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.5),
                         nn.Flatten(), nn.Linear(4 * 5 * 5, 6), nn.BatchNorm1d(6)).eval()


def _batches(n: int, size: int = 16) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return [torch.randn(size, 2, 5, 5, generator=g) * (1 + i) + i for i in range(n)]  # batches differ


def _bn_inputs(model: nn.Module, batches: list[torch.Tensor]) -> dict[nn.Module, list[torch.Tensor]]:
    """The input of each BN layer for each batch, with the model run as recalibration should run it: every
    BN layer normalising with its batch's statistics, everything else in eval mode (no dropout)."""
    seen: dict[nn.Module, list[torch.Tensor]] = {m: [] for m in batchnorm_layers(model)}
    hooks = [m.register_forward_hook(lambda m, args, out: seen[m].append(args[0].detach().clone())) for m in seen]
    model.eval()
    for m in seen:
        m.train()
    with torch.no_grad():
        for x in batches:
            model(x)
    for h in hooks:
        h.remove()
    return seen


def test_statistics_are_the_mean_of_the_batch_statistics():
    model, batches = _bn_model(), _batches(5)
    inputs = _bn_inputs(copy.deepcopy(model), batches)
    it = iter(batches)
    recalibrate_batchnorm(model, lambda: next(it), batches=len(batches))
    for bn, (ref_bn, xs) in zip(batchnorm_layers(model), inputs.items()):
        dims = [0, 2, 3] if xs[0].dim() == 4 else [0]
        mean = torch.stack([x.mean(dims) for x in xs]).mean(0)
        var = torch.stack([x.var(dims, unbiased=True) for x in xs]).mean(0)  # PyTorch keeps unbiased variances
        torch.testing.assert_close(bn.running_mean, mean, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(bn.running_var, var, rtol=1e-5, atol=1e-6)
        assert int(bn.num_batches_tracked) == len(batches)


def test_parameters_modes_and_momentum_are_restored():
    model = _bn_model()
    model[1].momentum = 0.3
    model[5].train()  # a layer in train mode stays so
    params = {k: v.clone() for k, v in model.named_parameters()}
    seen_dropout = []
    model[3].register_forward_hook(lambda m, a, o: seen_dropout.append(m.training))
    it = iter(_batches(3))
    recalibrate_batchnorm(model, lambda: next(it), batches=3)
    for k, v in model.named_parameters():
        assert torch.equal(v, params[k]), k
    assert model[1].momentum == 0.3 and model[6].momentum == 0.1
    assert [m.training for m in model] == [False] * 5 + [True, False]
    assert seen_dropout == [False] * 3  # only the BN layers ran in train mode


def test_tuple_inputs_are_passed_as_arguments():
    G = build("gan", GANConfig(kind="dcgan", z_dim=8, width=8, n_classes=10))["generator"].eval()
    g = torch.Generator().manual_seed(0)
    recalibrate_batchnorm(G, lambda: (torch.randn(32, 8, generator=g), torch.randint(10, (32,), generator=g)), 4)
    assert all(int(bn.num_batches_tracked) == 4 for bn in batchnorm_layers(G)) and not G.training


def test_no_op_without_batch_norm():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2), nn.BatchNorm1d(2, track_running_stats=False))
    before = copy.deepcopy(model.state_dict())
    calls = []
    assert recalibrate_batchnorm(model, lambda: calls.append(1) or torch.randn(4, 3)) is model
    assert calls == [] and all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    with pytest.raises(ValueError, match="batches"):
        recalibrate_batchnorm(_bn_model(), lambda: torch.randn(4, 2, 5, 5), batches=0)


def test_wrong_statistics_are_put_right():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 2)).eval()
    x = torch.randn(4096, 3) * 3 + 1
    bn = model[1]
    bn.running_mean.fill_(5.0)  # statistics that belong to other weights
    bn.running_var.fill_(10.0)
    with torch.no_grad():
        train_out = copy.deepcopy(model).train()(x)  # normalised with the batch's own statistics
        wrong = model(x)
        recalibrate_batchnorm(model, lambda: x, batches=1)
        right = model(x)
    assert (wrong - train_out).abs().max() > 0.1  # the wrong statistics visibly change the output
    torch.testing.assert_close(right, train_out, rtol=0, atol=2e-3)  # only n/(n-1) in the variance differs


def _train(ema: float, steps: int = 3):
    cfg = TrainConfig(steps=steps, batch_size=16, ema=ema, log_every=1)
    torch.manual_seed(0)
    models = build("gan", GANConfig(kind="dcgan", z_dim=8, width=8))
    images = (torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 255).to(torch.uint8)
    return train_gan(models["generator"], models["discriminator"], TensorLoader(images, batch_size=16, seed=0),
                     cfg, progress=False)


def test_the_gan_trainer_recalibrates_its_ema_generator():
    res = _train(ema=0.9)
    G, ema = res.models["generator"], res.ema
    assert not ema.training
    for bn_g, bn_e in zip(batchnorm_layers(G), batchnorm_layers(ema)):
        assert int(bn_e.num_batches_tracked) == BN_RECALIBRATION_BATCHES  # its own, not G's (3 steps)
        assert int(bn_g.num_batches_tracked) != BN_RECALIBRATION_BATCHES
        assert not torch.allclose(bn_e.running_mean, bn_g.running_mean)
        assert bn_e.momentum == bn_g.momentum == 0.1
    # the EMA's statistics fit its own activations: on a large batch of fresh noise, the mean of each BN
    # layer's input is close to its running mean (G's copied statistics would not be)
    seen = {}
    hooks = [m.register_forward_hook(lambda m, a, o: seen.__setitem__(m, a[0])) for m in batchnorm_layers(ema)]
    with torch.no_grad():
        ema(torch.randn(4096, 8, generator=torch.Generator().manual_seed(3)))
    for h in hooks:
        h.remove()
    for bn_e, bn_g in zip(batchnorm_layers(ema), batchnorm_layers(G)):
        batch_mean = seen[bn_e].mean([0, 2, 3])
        own = (batch_mean - bn_e.running_mean).abs().max()
        assert own < 0.05 * batch_mean.abs().max() + 1e-3
        assert own < (batch_mean - bn_g.running_mean).abs().max()


def test_the_ema_parameters_are_those_of_the_average():
    """The recalibration changes buffers only: the EMA's parameters equal an average computed alongside."""
    calls = []
    original = train_mod.recalibrate_batchnorm

    def spy(model, make_input, batches):
        calls.append({k: v.clone() for k, v in model.named_parameters()})
        return original(model, make_input, batches)

    train_mod.recalibrate_batchnorm = spy
    try:
        res = _train(ema=0.9)
    finally:
        train_mod.recalibrate_batchnorm = original
    assert len(calls) == 1
    for k, v in res.ema.named_parameters():
        assert torch.equal(v, calls[0][k]), k


def test_no_ema_no_recalibration_and_other_kinds_untouched():
    res = _train(ema=0.0)
    assert res.ema is None
    assert DiffusionTrainer._finish_weights is Trainer._finish_weights  # diffusion: the no-op default
