"""Configuration dataclasses: one source of truth for every hyper-parameter.

Each field has a one-line comment. The configs are frozen (change one with ``cfg.replace(...)``, which
checks again), and construction checks every field against its declared type before the specific
rules in ``__post_init__``: ints must be ints (``z_dim=2.5`` is refused), floats finite (no NaN/Inf),
flags real booleans (``compile="no"`` is refused, not taken as true). Errors are ``ValueError``s that
name the field, the bad value and what to use instead. Introduced in 4.2.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

GAN_LOSSES = ("bce", "saturating", "hinge", "wgan-gp", "wgan-clip")


def _positive(obj: Any, *names: str) -> None:
    for name in names:
        value = getattr(obj, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ValueError(f"{type(obj).__name__}.{name} must be a positive number, got {value!r}")


def _non_negative(obj: Any, *names: str) -> None:
    for name in names:
        value = getattr(obj, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"{type(obj).__name__}.{name} must be >= 0, got {value!r}")


def _choice(obj: Any, name: str, options: tuple) -> None:
    value = getattr(obj, name)
    if value not in options:
        raise ValueError(f"{type(obj).__name__}.{name}={value!r} is not one of {options}")


def _check_types(obj: Any) -> None:
    """Check each field's value against its annotation ("int", "float", "bool", "str", "tuple", "... | None")."""
    for f in dataclasses.fields(obj):
        value, kinds = getattr(obj, f.name), [k.strip() for k in str(f.type).split("|")]
        where = f"{type(obj).__name__}.{f.name}"
        if value is None and "None" in kinds:
            continue
        if "bool" in kinds and isinstance(value, bool):
            continue
        if "int" in kinds:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{where} must be a whole number, got {value!r}")
        elif "float" in kinds:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{where} must be a finite number, got {value!r}")
        elif "str" in kinds:
            if not isinstance(value, str):
                raise ValueError(f"{where} must be a string, got {value!r}")
        elif "tuple" in kinds:
            if not isinstance(value, tuple) or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value):
                raise ValueError(f"{where} must be a tuple of finite numbers, got {value!r}")
        elif "bool" in kinds:
            raise ValueError(f"{where} must be True or False{' or None' if 'None' in kinds else ''}, got {value!r}")


class ConfigMixin:
    """``to_dict``/``from_dict``/``replace`` shared by the config dataclasses."""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict):
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"{cls.__name__} has no field(s) {sorted(unknown)}; known: {sorted(known)}")
        values = dict(data)
        for key in ("betas",):
            if key in values and isinstance(values[key], list):
                values[key] = tuple(values[key])
        return cls(**values)

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class GANConfig(ConfigMixin):
    """Architecture of a generator/discriminator pair (see ``aigc_course.gan``)."""

    kind: str = "dcgan"        # "mlp" (vectors, e.g. 2-D toy data) or "dcgan" (images)
    z_dim: int = 64            # size of the latent noise vector z ~ N(0, I)
    data_dim: int = 2          # MLP only: dimension of a data vector
    hidden: int = 256          # MLP only: width of the hidden layers
    depth: int = 3             # MLP only: number of hidden layers
    img_size: int = 28         # DCGAN only: image side, one of 28, 32, 64
    channels: int = 1          # DCGAN only: image channels (1 grey, 3 colour)
    width: int = 64            # DCGAN only: base number of feature maps (ngf = ndf)
    n_classes: int = 0         # > 0 makes both networks class-conditional
    critic: bool = False       # True: discriminator without batch norm (WGAN-GP critic)
    spectral_norm: bool = False  # spectral normalisation on the discriminator's layers

    def __post_init__(self):
        _check_types(self)
        _choice(self, "kind", ("mlp", "dcgan"))
        _positive(self, "z_dim", "data_dim", "hidden", "depth", "channels", "width")
        _non_negative(self, "n_classes")
        _choice(self, "img_size", (28, 32, 64))


@dataclass(frozen=True)
class VAEConfig(ConfigMixin):
    """Architecture of a variational auto-encoder (see ``aigc_course.vae``)."""

    kind: str = "conv"         # "mlp" or "conv"
    z_dim: int = 16            # latent dimension
    img_size: int = 28         # image side (28 or 32 for conv; any for mlp)
    channels: int = 1          # image channels
    hidden: int = 512          # MLP only: hidden width
    width: int = 32            # conv only: base number of feature maps
    decoder: str = "bernoulli"  # "bernoulli" (logits of pixel intensities) or "gaussian" (mean, fixed sigma)
    sigma: float = 0.1         # gaussian decoder only: fixed observation std in [-1, 1] pixel units

    def __post_init__(self):
        _check_types(self)
        _choice(self, "kind", ("mlp", "conv"))
        _positive(self, "z_dim", "img_size", "channels", "hidden", "width", "sigma")
        _choice(self, "decoder", ("bernoulli", "gaussian"))
        if self.kind == "conv" and self.img_size not in (28, 32):
            raise ValueError(f"VAEConfig.img_size={self.img_size} is not supported by the conv VAE; use 28 or 32")


@dataclass(frozen=True)
class LMConfig(ConfigMixin):
    """A small character-level Transformer language model (see ``aigc_course.text``). Introduced in 1.4."""

    vocab_size: int = 2600     # number of distinct characters (+1 for unknown), set from the data
    block_size: int = 64       # context length in characters
    n_layer: int = 3           # Transformer blocks
    n_head: int = 4            # attention heads per block
    d_model: int = 96          # width of the residual stream (divisible by n_head)
    dropout: float = 0.1       # dropout in attention and MLP (training only)

    def __post_init__(self):
        _check_types(self)
        _positive(self, "vocab_size", "block_size", "n_layer", "n_head", "d_model")
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "d_model"):
            if not isinstance(getattr(self, name), int) or isinstance(getattr(self, name), bool):
                raise ValueError(f"LMConfig.{name} must be an int, got {getattr(self, name)!r}")
        if self.d_model % self.n_head:
            raise ValueError(f"LMConfig.d_model={self.d_model} must be divisible by n_head={self.n_head}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"LMConfig.dropout must be in [0, 1), got {self.dropout!r}")


@dataclass(frozen=True)
class TrainConfig(ConfigMixin):
    """How to train (see ``aigc_course.train``). Quick and full profiles differ only in sizes."""

    steps: int = 1000          # optimiser steps of the generator (GAN) or of the model (VAE)
    batch_size: int = 128      # samples per step (per process under DDP)
    lr: float = 2e-4           # learning rate (VAE; GAN generator)
    lr_d: float = 2e-4         # GAN discriminator/critic learning rate
    betas: tuple = (0.5, 0.999)  # Adam betas
    loss: str = "bce"          # GAN loss: bce (non-saturating), saturating, hinge, wgan-gp, wgan-clip
    n_critic: int = 1          # discriminator steps per generator step (k in Algorithm 1)
    gp_weight: float = 10.0    # wgan-gp: lambda of the gradient penalty
    clip_value: float = 0.01   # wgan-clip: weight clipping range [-c, c]
    beta: float = 1.0          # VAE: weight of the KL term (beta-VAE when != 1)
    ema: float = 0.0           # exponential moving average decay of G's weights (0 = off)
    amp: bool | None = None    # mixed precision; None = where the hardware has it natively (runtime.fast_path), False = off
    compile: bool = False      # wrap the models with torch.compile
    channels_last: bool | None = None  # channels_last memory format; None = on for CPU and CUDA (runtime.fast_path)
    log_every: int = 10        # record losses in History every N steps
    sample_every: int = 0      # call sample callbacks every N steps (0 = never)
    ckpt_every: int = 0        # write a checkpoint every N steps (0 = only at the end, if out_dir)
    seed: int = 0              # seed for weights, noise and data order
    grad_clip: float = 0.0     # clip gradient norm (0 = off)
    reuse_fakes: bool = False  # n_critic == 1 only: the G step reuses the D step's fakes (one G forward per step, as the PyTorch DCGAN example) instead of fresh noise

    def __post_init__(self):
        if isinstance(self.betas, list):
            object.__setattr__(self, "betas", tuple(self.betas))
        _check_types(self)
        _positive(self, "steps", "batch_size", "lr", "lr_d", "n_critic", "log_every")
        _non_negative(self, "gp_weight", "clip_value", "beta", "sample_every", "ckpt_every", "seed", "grad_clip")
        _choice(self, "loss", GAN_LOSSES)
        if not (isinstance(self.betas, tuple) and len(self.betas) == 2 and all(0 <= b < 1 for b in self.betas)):
            raise ValueError(f"TrainConfig.betas must be two numbers in [0, 1), got {self.betas!r}")
        if self.seed >= 2**63:
            raise ValueError(f"TrainConfig.seed (--seed) must be below 2**63, got {self.seed}")
        if not 0 <= self.ema < 1:
            raise ValueError(f"TrainConfig.ema must be in [0, 1) (0 turns EMA off), got {self.ema!r}")
        for name in ("steps", "batch_size", "n_critic", "log_every", "sample_every", "ckpt_every", "seed"):
            if not isinstance(getattr(self, name), int) or isinstance(getattr(self, name), bool):
                raise ValueError(f"TrainConfig.{name} must be an int, got {getattr(self, name)!r}")
        if self.amp not in (None, True, False):
            raise ValueError(f"TrainConfig.amp must be None (auto), True or False, got {self.amp!r}")
        if not isinstance(self.reuse_fakes, bool):
            raise ValueError(f"TrainConfig.reuse_fakes must be True or False, got {self.reuse_fakes!r}")
        if self.reuse_fakes and self.n_critic > 1:
            raise ValueError(f"TrainConfig.reuse_fakes=True needs n_critic == 1 (got n_critic={self.n_critic}): "
                             "with several D steps there is no single fake batch to reuse; set reuse_fakes=False")
