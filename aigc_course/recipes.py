"""Named training recipes: model config + data + a quick and a full training config.

``python -m aigc_course train NAME --profile full`` trains one (the shipped weights were made
that way; ``checkpoint.load_or_train(NAME)`` uses them). Sizes are chosen to be CPU-reasonable:
the full profiles were trained on 2 CPU cores; on a GPU they take a minute or two each.
Introduced in 4.2.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import torch
from torch import nn

from . import data, runtime
from .config import GANConfig, TrainConfig, VAEConfig
from .train import TrainResult, train_gan, train_vae

TOY_SAMPLES = 50_000  # points drawn from a 2-D toy distribution for training


@dataclass(frozen=True)
class Recipe:
    """How to train one named model. ``data`` is a data set name (``data.load``) or ``toy2d:NAME``."""

    name: str
    kind: str                      # "gan" or "vae"
    model: GANConfig | VAEConfig
    data: str
    quick: TrainConfig             # CPU minutes: shows the loop, not the final quality
    full: TrainConfig              # trains to the quality the website shows
    description: str = ""

    def config(self, profile: str | None = None) -> TrainConfig:
        """The TrainConfig of ``profile`` (default: ``runtime.profile()``)."""
        profile = profile or runtime.profile()
        if profile not in runtime.PROFILES:
            raise ValueError(f"profile={profile!r} is not one of {runtime.PROFILES}")
        return self.quick if profile == "quick" else self.full


_DCGAN = GANConfig(kind="dcgan", z_dim=64, img_size=28, channels=1, width=32)
_GAN_TRAIN = TrainConfig(steps=300, batch_size=128, lr=2e-4, lr_d=2e-4, betas=(0.5, 0.999), loss="bce",
                         log_every=10, sample_every=50, ckpt_every=0)
_VAE = VAEConfig(kind="conv", z_dim=16, img_size=28, channels=1, width=32, decoder="bernoulli")
_VAE_TRAIN = TrainConfig(steps=300, batch_size=128, lr=1e-3, betas=(0.9, 0.999), log_every=10, sample_every=50)

RECIPES: dict[str, Recipe] = {r.name: r for r in [
    Recipe("gan-8gaussians", "gan",
           GANConfig(kind="mlp", z_dim=2, data_dim=2, hidden=128, depth=3), "toy2d:8gaussians",
           quick=TrainConfig(steps=500, batch_size=256, lr=1e-4, lr_d=1e-4, betas=(0.5, 0.999), log_every=10,
                             sample_every=50),
           full=TrainConfig(steps=5000, batch_size=256, lr=1e-4, lr_d=1e-4, betas=(0.5, 0.999), log_every=20,
                            sample_every=250, ckpt_every=1000),
           description="MLP GAN on a mixture of 8 Gaussians (2.3): watch the modes appear, or collapse"),
    Recipe("dcgan-fashion", "gan", _DCGAN, "fashion-mnist",
           quick=_GAN_TRAIN,
           full=_GAN_TRAIN.replace(steps=3000, log_every=25, sample_every=250, ckpt_every=500, ema=0.995),
           description="DCGAN (Radford et al. 2016) on Fashion-MNIST, non-saturating loss (4.2)"),
    Recipe("cgan-fashion", "gan", _DCGAN.replace(n_classes=10), "fashion-mnist",
           quick=_GAN_TRAIN,
           full=_GAN_TRAIN.replace(steps=3000, log_every=25, sample_every=250, ckpt_every=500, ema=0.995),
           description="class-conditional DCGAN (projection discriminator), 10 classes (4.3)"),
    Recipe("wgangp-fashion", "gan", _DCGAN.replace(critic=True), "fashion-mnist",
           quick=_GAN_TRAIN.replace(steps=80, loss="wgan-gp", n_critic=5, lr=1e-4, lr_d=1e-4, betas=(0.0, 0.9),
                                    sample_every=20),
           full=_GAN_TRAIN.replace(steps=1000, loss="wgan-gp", n_critic=5, lr=1e-4, lr_d=1e-4, betas=(0.0, 0.9),
                                   log_every=10, sample_every=100, ckpt_every=200, ema=0.995),
           description="WGAN-GP critic (Gulrajani et al. 2017): n_critic=5, lambda=10, Adam(1e-4, 0, 0.9) (4.3)"),
    Recipe("vae-fashion", "vae", _VAE, "fashion-mnist",
           quick=_VAE_TRAIN,
           full=_VAE_TRAIN.replace(steps=4000, log_every=25, sample_every=250, ckpt_every=1000),
           description="convolutional VAE, z=16, Bernoulli decoder (4.4)"),
    Recipe("vae2d-fashion", "vae", _VAE.replace(z_dim=2), "fashion-mnist",
           quick=_VAE_TRAIN,
           full=_VAE_TRAIN.replace(steps=4000, log_every=25, sample_every=250, ckpt_every=1000),
           description="convolutional VAE with a 2-D latent space, for latent maps (4.4, 5.1)"),
]}


def get_recipe(name: str | Recipe) -> Recipe:
    """The recipe called ``name`` (a ``Recipe`` passes through)."""
    if isinstance(name, Recipe):
        return name
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; choose one of: {', '.join(RECIPES)}")
    return RECIPES[name]


def build_models(kind: str, model_config: dict | GANConfig | VAEConfig) -> dict[str, nn.Module]:
    """Fresh modules of a ``kind`` ("gan", "vae" or "classifier") by part name: ``generator`` and
    ``discriminator`` for a GAN, ``model`` otherwise. Used for training and for loading weights."""
    if kind == "gan":
        from .gan import build_gan

        cfg = model_config if isinstance(model_config, GANConfig) else GANConfig.from_dict(model_config)
        G, D = build_gan(cfg)
        return {"generator": G, "discriminator": D}
    if kind == "vae":
        from .vae import build_vae

        cfg = model_config if isinstance(model_config, VAEConfig) else VAEConfig.from_dict(model_config)
        return {"model": build_vae(cfg)}
    if kind == "classifier":
        from .metrics import FashionClassifier

        return {"model": FashionClassifier(**model_config)}
    raise ValueError(f"unknown model kind {kind!r}; use 'gan', 'vae' or 'classifier'")


def make_data(recipe: str | Recipe, split: str = "train", device: torch.device | str | None = None, *,
              profile: str | None = None, seed: int | None = None, limit: int | None = None) -> data.TensorLoader:
    """The recipe's training data as a ``TensorLoader`` with the profile's batch size.

    ``limit`` keeps only the first ``limit`` samples (for quick experiments and tests).
    """
    recipe = get_recipe(recipe)
    cfg = recipe.config(profile)
    seed = cfg.seed if seed is None else seed
    if recipe.data.startswith("toy2d:"):
        images, labels = data.toy2d(recipe.data.split(":", 1)[1], limit or TOY_SAMPLES, seed=seed), None
    else:
        loaded = data.load(recipe.data, split)
        images, labels = loaded.images[:limit], loaded.labels[:limit]
    return data.TensorLoader(images, labels, batch_size=cfg.batch_size, seed=seed, device=runtime.device(device))


def train_recipe(name: str | Recipe, profile: str | None = None, *, steps: int | None = None, seed: int | None = None,
                 out_dir: str | Path | None = None, resume: str | Path | None = None, progress: bool = True,
                 device: torch.device | str | None = None, callbacks: Iterable[Callable] = (),
                 limit: int | None = None) -> tuple[dict[str, nn.Module], TrainResult]:
    """Build the recipe's model(s) (seeded), load its data and train; return ``(models, result)``.

    ``steps``/``seed`` override the profile's config. Introduced in 4.2.
    """
    recipe = get_recipe(name)
    profile = profile or runtime.profile()
    cfg = recipe.config(profile)
    cfg = cfg.replace(steps=steps if steps is not None else cfg.steps, seed=seed if seed is not None else cfg.seed)
    dev = runtime.device(device)
    runtime.set_seed(cfg.seed)  # the initial weights
    models = {k: m.to(dev) for k, m in build_models(recipe.kind, recipe.model).items()}
    loader = make_data(recipe, device=dev, profile=profile, seed=cfg.seed, limit=limit)
    command = f"python -m aigc_course train {recipe.name} --profile {profile} --max-steps {cfg.steps} --seed {cfg.seed}"
    kw = dict(callbacks=callbacks, out_dir=out_dir, resume=resume, progress=progress,
              meta={"recipe": recipe.name, "profile": profile, "command": command})
    if recipe.kind == "gan":
        result = train_gan(models["generator"], models["discriminator"], loader, cfg, **kw)
    else:
        result = train_vae(models["model"], loader, cfg, **kw)
    return models, result
