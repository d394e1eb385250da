"""aigc_course: the shared package of the AIGC course (GANs, VAEs and the maths behind them).

``import aigc_course as ac``; chapters show the idea, this package holds the plumbing:

- ``ac.runtime`` / ``ac.config``: device, seeds, profiles; validated dataclass configs
- ``ac.data``: Fashion-MNIST/MNIST (verified IDX), sklearn digits, 2-D toy sets, ``TensorLoader``
- ``ac.kinds``: the registry of model kinds (how to build each, which part samples, what is shipped)
- ``ac.gan``, ``ac.vae``, ``ac.classifier``, ``ac.nn``: the models;  ``ac.losses``: the losses, formulas in docstrings
- ``ac.train``: one ``Trainer`` (``steps()`` generator) for every kind;  ``ac.checkpoint``: safe storage
- ``ac.recipes``: named recipes, ``pretrained``, ``load_or_train``, ``register_weights``
- ``ac.metrics``: FID, precision/recall, IWAE NLL, PSNR/SSIM, mode coverage (given a feature model)
- ``ac.plotting``: grids, curves, GIFs;  ``ac.exercises``: exercises with automatic checks

Layers (each imports only from the ones before it; ``tests/test_architecture.py`` checks it):
errors, config, runtime, nn, kinds -> data, losses, checkpoint, plotting -> gan, vae, classifier, text ->
metrics, train -> recipes -> commands, bench, quality, exercises.
"""
from . import (checkpoint, classifier, config, data, gan, kinds, losses, metrics, nn, plotting, recipes, runtime,
               text, train, vae)
from .config import GANConfig, TrainConfig, VAEConfig
from .recipes import load_or_train, pretrained
from .runtime import autocast, describe, device, profile, set_seed
from .train import Trainer

__version__ = "0.2.0"

__all__ = [
    "checkpoint", "classifier", "config", "data", "gan", "kinds", "losses", "metrics", "nn", "plotting", "recipes",
    "runtime", "text", "train", "vae",
    "GANConfig", "TrainConfig", "VAEConfig", "Trainer", "autocast", "describe", "device", "profile", "set_seed",
    "load_or_train", "pretrained",
]
