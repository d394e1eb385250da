"""runtime (device, profile, seeds, autocast) and config validation."""
import warnings

import pytest
import torch

from aigc_course import runtime
from aigc_course.config import GANConfig, TrainConfig, VAEConfig


@pytest.mark.parametrize("value, expected", [("quick", "quick"), ("full", "full"), (" FULL ", "full")])
def test_profile_env_wins(monkeypatch, value, expected):
    monkeypatch.setenv("AIGC_PROFILE", value)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: value.strip().lower() != "full")
    assert runtime.profile() == expected


@pytest.mark.parametrize("cuda, expected", [(True, "full"), (False, "quick")])
def test_profile_default_follows_cuda(monkeypatch, cuda, expected):
    monkeypatch.delenv("AIGC_PROFILE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    assert runtime.profile() == expected


def test_profile_typo_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("AIGC_PROFILE", "fast")
    with pytest.raises(ValueError, match="not a profile.*quick.*full"):
        runtime.profile()


def test_device_cpu_and_env(monkeypatch):
    monkeypatch.setenv("AIGC_DEVICE", "cpu")
    assert runtime.device() == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="CUDA is not available"):
        runtime.device("cuda")


def test_set_seed_reproducible():
    runtime.set_seed(3)
    a = torch.randn(5)
    g = runtime.set_seed(3)
    assert torch.equal(a, torch.randn(5))
    assert torch.equal(torch.randn(3, generator=g), torch.randn(3, generator=torch.Generator().manual_seed(3)))
    with pytest.raises(ValueError):
        runtime.set_seed(-1)


def _matmul_dtype(enabled):
    with runtime.autocast("cpu", enabled):
        return (torch.ones(2, 2) @ torch.ones(2, 2)).dtype


def test_autocast_on_cpu_follows_the_hardware():
    native = torch.bfloat16 if runtime.cpu_bf16_supported() else torch.float32
    assert _matmul_dtype(None) == native and _matmul_dtype(False) == torch.float32
    assert runtime.amp_dtype("cpu") == (torch.bfloat16 if runtime.cpu_bf16_supported() else None)
    assert runtime.amp_dtype("cuda", False) is None


def test_fast_path_says_what_it_chose_and_why(monkeypatch):
    monkeypatch.setattr(runtime, "cpu_bf16_supported", lambda: False)
    plain = runtime.fast_path("cpu")
    assert plain["amp"] == "fp32" and "no native bf16" in plain["amp_reason"]
    assert plain["channels_last"] is True and plain["compile"] is False
    monkeypatch.setattr(runtime, "cpu_bf16_supported", lambda: True)
    assert runtime.fast_path("cpu")["amp"] == "bf16"
    assert runtime.fast_path("cpu", amp=False, channels_last=False) == {
        **runtime.fast_path("cpu", amp=False, channels_last=False),
        "amp": "fp32", "amp_reason": "off (amp=False)", "channels_last": False}


@pytest.mark.parametrize("bf16", [True, False])
def test_cuda_autocast_is_bf16_only_where_the_gpu_has_it(monkeypatch, bf16):
    """Ampere+ GPUs: bf16; T4/V100 (no native bf16): fp16, which the trainer pairs with a GradScaler."""
    monkeypatch.setattr(runtime, "cuda_bf16_supported", lambda dev=None: bf16)
    want = torch.bfloat16 if bf16 else torch.float16
    assert runtime.amp_dtype("cuda") == want and runtime.amp_dtype("cuda", True) == want
    assert runtime.amp_dtype("cuda", False) is None


def test_device_names_are_checked(monkeypatch):
    for bad in ("gpu", "cuda:x", "tpu"):
        monkeypatch.setenv("AIGC_DEVICE", bad)
        with pytest.raises(ValueError, match="AIGC_DEVICE"):
            runtime.device()


def test_threads_from_the_environment_are_checked(monkeypatch):
    previous = torch.get_num_threads()
    try:
        for bad in ("-3", "abc", "0", "1.5"):
            monkeypatch.setenv("AIGC_THREADS", bad)
            with pytest.raises(ValueError, match="AIGC_THREADS"):
                runtime.set_threads()
        monkeypatch.setenv("AIGC_THREADS", "1")
        assert runtime.set_threads() == 1
    finally:
        torch.set_num_threads(previous)


@pytest.mark.skipif(not runtime.cpu_bf16_supported(), reason="this CPU has no native bf16")
def test_autocast_true_uses_bf16_on_a_cpu_with_native_bf16():
    assert runtime.amp_dtype("cpu", True) == torch.bfloat16
    assert _matmul_dtype(True) == torch.bfloat16


def test_autocast_true_without_native_bf16_warns_once_and_stays_fp32(monkeypatch):
    monkeypatch.setattr(runtime, "cpu_bf16_supported", lambda: False)
    monkeypatch.setattr(runtime, "_WARNED_NO_BF16", set())
    assert runtime.amp_dtype("cpu", True) is None
    with pytest.warns(UserWarning, match="no native bf16.*fp32"):
        assert _matmul_dtype(True) == torch.float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the second time: silent
        assert _matmul_dtype(True) == torch.float32


def test_reuse_fakes_needs_one_critic_step():
    assert TrainConfig(reuse_fakes=True).reuse_fakes
    with pytest.raises(ValueError, match="reuse_fakes.*n_critic"):
        TrainConfig(reuse_fakes=True, n_critic=5)


@pytest.mark.parametrize("cls, field, bad", [
    (GANConfig, "kind", "transformer"), (GANConfig, "z_dim", 0), (GANConfig, "img_size", 30),
    (GANConfig, "n_classes", -1), (VAEConfig, "decoder", "poisson"), (VAEConfig, "z_dim", -2),
    (VAEConfig, "sigma", 0.0), (TrainConfig, "steps", 0), (TrainConfig, "lr", -1e-3),
    (TrainConfig, "loss", "wgan"), (TrainConfig, "ema", 1.0), (TrainConfig, "betas", (0.5, 1.5)),
    (TrainConfig, "steps", 10.5), (TrainConfig, "batch_size", True), (TrainConfig, "amp", "bf16"),
    (TrainConfig, "reuse_fakes", 1),
])
def test_bad_config_values_name_the_field(cls, field, bad):
    with pytest.raises(ValueError, match=field):
        cls(**{field: bad})


def test_config_round_trip():
    cfg = TrainConfig(steps=7, betas=(0.0, 0.9), loss="wgan-gp")
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    assert TrainConfig.from_dict({**cfg.to_dict(), "betas": [0.0, 0.9]}) == cfg
    with pytest.raises(ValueError, match="no field"):
        TrainConfig.from_dict({"stepz": 3})
    assert cfg.replace(steps=9).steps == 9
