"""Run by test_train.py under ``torchrun --nproc_per_node=2``: trains tiny models with DDP (gloo, CPU)
and writes, per rank, a hash of the final weights; checkpoints go to OUT/<case>-out<rank>."""
import hashlib
import sys
from pathlib import Path

import torch
import torch.distributed as dist

from aigc_course import data, kinds, runtime
from aigc_course.config import GANConfig, TrainConfig, VAEConfig
from aigc_course.train import train_gan, train_vae


def weights_hash(modules) -> str:
    h = hashlib.sha256()
    for module in modules:
        for k, v in module.state_dict().items():
            h.update(k.encode())
            h.update(v.detach().contiguous().numpy().tobytes())
    return h.hexdigest()


def mismatch(out: Path) -> None:
    """Rank 1 asks for one more step and no callbacks: both ranks must stop at once, naming the difference."""
    from aigc_course.errors import CourseError

    rank = int(__import__("os").environ["RANK"])
    images = (torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 255).to(torch.uint8)
    models = kinds.build("vae", VAEConfig(kind="conv", z_dim=4, width=8))
    cfg = TrainConfig(steps=4 + rank, batch_size=16, lr=1e-3)
    callbacks = [lambda step, state: None] if rank == 0 else []
    try:
        train_vae(models["model"], data.TensorLoader(images, batch_size=16, device="cpu"), cfg,
                  callbacks=callbacks, progress=False)
        message = "no error"
    except CourseError as err:
        message = str(err)
    (out / f"mismatch-rank{rank}.txt").write_text(message)
    dist.destroy_process_group()


def main(out: Path) -> None:
    images = (torch.rand(256, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 255).to(torch.uint8)
    labels = torch.arange(256) % 10
    cases = {
        "bce": ("gan", GANConfig(kind="dcgan", z_dim=8, width=8, n_classes=10), TrainConfig(steps=4, batch_size=16, ema=0.9)),
        "wgan-gp": ("gan", GANConfig(kind="dcgan", z_dim=8, width=8, critic=True),
                    TrainConfig(steps=4, batch_size=16, loss="wgan-gp", n_critic=2, betas=(0.0, 0.9))),
        "vae": ("vae", VAEConfig(kind="conv", z_dim=4, width=8), TrainConfig(steps=4, batch_size=16, lr=1e-3)),
    }
    for case, (kind, model_cfg, cfg) in cases.items():
        rank = int(__import__("os").environ["RANK"])
        runtime.set_seed(rank)  # different initial weights per rank: DDP must broadcast rank 0's
        models = kinds.build(kind, model_cfg)
        loader = data.TensorLoader(images, labels, batch_size=16, device="cpu")  # the trainer shards it
        kw = dict(out_dir=out / f"{case}-out{rank}", progress=False)
        if kind == "gan":
            res = train_gan(models["generator"], models["discriminator"], loader, cfg, **kw)
        else:
            res = train_vae(models["model"], loader, cfg, **kw)
        modules = list(res.models.values()) + ([res.ema] if res.ema is not None else [])
        (out / f"{case}-rank{rank}.txt").write_text(weights_hash(modules))
    dist.destroy_process_group()


if __name__ == "__main__":
    (mismatch if sys.argv[2:] == ["mismatch"] else main)(Path(sys.argv[1]))
