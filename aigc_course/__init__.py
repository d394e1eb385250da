"""aigc_course: the shared package of the AIGC course (GANs, VAEs and the maths behind them).

``import aigc_course as ac``; chapters show the idea, this package holds the plumbing:

- ``ac.runtime`` / ``ac.config``: device, seeds, profiles; validated dataclass configs
- ``ac.data``: Fashion-MNIST/MNIST (verified IDX), sklearn digits, 2-D toy sets, ``TensorLoader``
- ``ac.gan``, ``ac.vae``, ``ac.nn``: the models;  ``ac.losses``: the losses, formulas in docstrings
- ``ac.train``, ``ac.recipes``, ``ac.checkpoint``: one trainer, named recipes, safe weights
- ``ac.metrics``: classifier-space FID, precision/recall, IWAE NLL, PSNR/SSIM, mode coverage
- ``ac.plotting``: grids, curves, GIFs;  ``ac.exercises``: exercises with automatic checks
"""
from . import checkpoint, config, data, gan, losses, metrics, nn, plotting, recipes, runtime, train, vae
from .checkpoint import load_or_train, pretrained
from .config import GANConfig, TrainConfig, VAEConfig
from .runtime import autocast, describe, device, profile, set_seed

__version__ = "0.1.0"

__all__ = [
    "checkpoint", "config", "data", "gan", "losses", "metrics", "nn", "plotting", "recipes", "runtime", "train", "vae",
    "GANConfig", "TrainConfig", "VAEConfig", "autocast", "describe", "device", "profile", "set_seed",
    "load_or_train", "pretrained",
]
