"""The CUDA paths of the trainer: mixed precision chosen from what the GPU has, GradScaler with fp16,
channels_last, fused Adam, torch.compile. Skipped without a GPU (CI has none); run them on one with
``python -m pytest tests/test_cuda.py`` (the device script of the benchmark does)."""
from __future__ import annotations

import math
import os

import pytest
import torch

from aigc_course import data, kinds, runtime, train
from aigc_course.config import GANConfig, TrainConfig, VAEConfig

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _images(n=512):
    return (torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 255).to(torch.uint8)


def _gan_trainer(cfg: TrainConfig) -> train.GANTrainer:
    dev = runtime.device("cuda")
    torch.manual_seed(0)
    models = {k: m.to(dev) for k, m in kinds.build("gan", GANConfig(kind="dcgan", z_dim=16, width=16)).items()}
    loader = data.TensorLoader(_images(), batch_size=cfg.batch_size, device=dev)
    return train.GANTrainer(models, loader, cfg, progress=False)


@pytest.mark.parametrize("bf16", [True, False])
def test_mixed_precision_matches_the_gpu(monkeypatch, bf16):
    if bf16 and not runtime.cuda_bf16_supported():
        pytest.skip("this GPU has no native bf16")
    monkeypatch.setattr(runtime, "cuda_bf16_supported", lambda dev=None: bf16)
    trainer = _gan_trainer(TrainConfig(steps=20, batch_size=64, log_every=5))
    assert trainer.amp == (torch.bfloat16 if bf16 else torch.float16)
    assert (trainer.step_g.scaler is None) == bf16  # fp16 needs loss scaling, bf16 does not
    assert trainer.channels_last and trainer.optimizers["generator"].defaults["fused"]
    result = trainer.run()
    assert all(math.isfinite(result.history.last(k)) for k in ("d_loss", "g_loss"))
    assert next(result.models["generator"].parameters()).dtype == torch.float32  # master weights stay fp32


def test_vae_and_wgan_gp_train_on_cuda():
    dev = runtime.device("cuda")
    vae = kinds.build("vae", VAEConfig(kind="conv", z_dim=4, width=8))["model"].to(dev)
    res = train.train_vae(vae, data.TensorLoader(_images(), batch_size=64, device=dev),
                          TrainConfig(steps=10, batch_size=64, lr=1e-3, log_every=5), progress=False)
    assert math.isfinite(res.history.last("loss"))
    trainer = _gan_trainer(TrainConfig(steps=5, batch_size=64, loss="wgan-gp", n_critic=2, betas=(0.0, 0.9),
                                       log_every=5))
    assert math.isfinite(trainer.run().history.last("gp"))


@pytest.mark.skipif(not os.environ.get("AIGC_TEST_COMPILE"), reason="torch.compile takes a minute: set AIGC_TEST_COMPILE=1")
def test_compiled_training_runs_on_cuda():
    trainer = _gan_trainer(TrainConfig(steps=10, batch_size=64, log_every=5, compile=True))
    assert math.isfinite(trainer.run().history.last("g_loss"))
