"""Generators and discriminators: MLPs for 2-D toy data, DCGAN for 28/32/64-pixel images.

* Generators map z ~ N(0, I) (plus a class label when ``cfg.n_classes > 0``) to data; image
  generators end in ``tanh`` so samples lie in [-1, 1], vector generators have no output activation.
* Discriminators return **logits** of shape (B,) (scores for WGAN/hinge); losses live in
  ``aigc_course.losses``. Class-conditional discriminators use the projection of Miyato & Koyama
  (2018): ``logit = w . h(x) + b + <embed(y), h(x)>``.

Introduced in 2.1 (the MLP discriminator, on 1-D data), 2.2 (the MLP GAN, 1-D), 2.3 (the MLP GAN on
2-D toy data), 2.4 (critic, spectral norm), 4.2 (DCGAN) and 4.3 (conditional GAN, WGAN-GP critic).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from . import kinds
from .config import GANConfig
from .nn import View, apply_spectral_norm_, check_input, conv_block, deconv_block, init_dcgan_, mlp, standard_normal

# DCGAN geometry: side of the generator's first feature map, and number of strided convs in D.
_BASE_SIDE = {28: 7, 32: 4, 64: 4}
_D_LEVELS = {28: 3, 32: 3, 64: 4}


def _check_labels(who: str, n_classes: int, labels, batch: int) -> torch.Tensor | None:
    """Validate class labels for a model with ``n_classes`` classes (0 = unconditional)."""
    if n_classes == 0:
        if labels is not None:
            raise ValueError(f"{who} is unconditional (GANConfig.n_classes=0) but got labels; "
                             "drop them, or build the model with n_classes > 0")
        return None
    if labels is None:
        raise ValueError(f"{who} is class-conditional (GANConfig.n_classes={n_classes}): "
                         f"pass labels, an int64 tensor of shape ({batch},)")
    if (not torch.is_tensor(labels) or labels.shape != (batch,) or labels.is_floating_point()
            or labels.dtype == torch.bool):
        got = (f"{labels.dtype} tensor of shape {tuple(labels.shape)}" if torch.is_tensor(labels)
               else type(labels).__name__)
        raise ValueError(f"{who} expects labels as an int64 tensor of shape ({batch},); got {got}")
    # A range check needs the values on the host: free on CPU, a sync on GPUs (there an
    # out-of-range label raises a device-side assert in the embedding instead).
    # (Not while torch.export/torch.compile trace the model: the values are symbolic there.)
    if (labels.device.type == "cpu" and not torch.compiler.is_compiling() and labels.numel()
            and (labels.min() < 0 or labels.max() >= n_classes)):
        raise ValueError(f"{who}: labels must lie in [0, {n_classes}), got values in "
                         f"[{int(labels.min())}, {int(labels.max())}]")
    return labels


class _Generator(nn.Module):
    """Shared generator logic: input checks, label embedding (concatenated to z), noise, sampling."""

    def __init__(self, cfg: GANConfig, data_shape: tuple[int, ...]):
        super().__init__()
        self.cfg = cfg
        self.z_dim = cfg.z_dim
        self.n_classes = cfg.n_classes
        self.data_shape = data_shape  # shape of one sample: (data_dim,) or (C, H, W)
        self.embed = nn.Embedding(cfg.n_classes, cfg.z_dim) if cfg.n_classes else None
        self.in_dim = cfg.z_dim * (2 if cfg.n_classes else 1)  # z, then the label embedding

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        who = type(self).__name__
        check_input(z, (self.z_dim,), who, "latent vectors z",
                    f"z needs GANConfig.z_dim={self.z_dim} columns; G.noise(n) draws it")
        labels = _check_labels(who, self.n_classes, labels, z.shape[0])
        h = z if labels is None else torch.cat([z, self.embed(labels)], dim=1)  # (B, in_dim)
        return self.net(h)  # (B, *data_shape)

    def _device(self) -> torch.device:
        return next(self.parameters()).device

    def noise(self, n: int, generator: torch.Generator | None = None,
              device: torch.device | str | None = None) -> torch.Tensor:
        """z ~ N(0, I) of shape (n, z_dim) on ``device`` (default: the model's).

        A CPU ``generator`` gives the same z on every device.
        """
        return standard_normal(n, self.z_dim, generator=generator, device=device or self._device())

    def sample(self, n: int, labels: torch.Tensor | int | None = None, generator: torch.Generator | None = None,
               device: torch.device | str | None = None) -> torch.Tensor:
        """``n`` samples G(z) (gradients are not switched off; wrap in ``torch.no_grad()`` to save memory).

        Conditional models: ``labels`` is a tensor of shape (n,), an int (all samples of one
        class), or ``None`` for ``arange(n) % n_classes`` (each class in turn, handy for grids).
        """
        device = torch.device(device) if device is not None else self._device()
        z = self.noise(n, generator=generator, device=device)  # (n, z_dim)
        if self.n_classes and labels is None:
            labels = torch.arange(n, device=device) % self.n_classes
        elif isinstance(labels, int):
            labels = torch.full((n,), labels, dtype=torch.long, device=device)
        return self(z, labels)


class _Discriminator(nn.Module):
    """Shared discriminator logic: input checks, linear head and projection on the features.

    ``features`` maps a batch (B, *data_shape) to (B, n_features).
    """

    def __init__(self, cfg: GANConfig, data_shape: tuple[int, ...], features: nn.Module, n_features: int,
                 what: str, hint: str, dcgan_init: bool):
        super().__init__()
        self.cfg = cfg
        self.n_classes = cfg.n_classes
        self.data_shape = data_shape
        self._what, self._hint = what, hint
        self.features = features
        self.head = nn.Linear(n_features, 1)
        self.embed = nn.Embedding(cfg.n_classes, n_features) if cfg.n_classes else None
        if dcgan_init:
            init_dcgan_(self)
        if self.embed is not None:
            nn.init.normal_(self.embed.weight, 0.0, 0.02)  # same scale as the head's weights
        if cfg.spectral_norm:
            apply_spectral_norm_(self)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        who = type(self).__name__
        check_input(x, self.data_shape, who, self._what, self._hint)
        labels = _check_labels(who, self.n_classes, labels, x.shape[0])
        h = self.features(x)  # (B, n_features)
        logits = self.head(h).squeeze(1)  # (B,)
        if labels is not None:
            logits = logits + (self.embed(labels) * h).sum(dim=1)  # projection: + <embed(y), h>, (B,)
        return logits


class MLPGenerator(_Generator):
    """z -> ``depth`` hidden ReLU layers of ``hidden`` units -> a ``data_dim`` vector (no output
    activation: toy data is unbounded). It keeps PyTorch's default initialisation: the DCGAN
    initialisation N(0, 0.02) would shrink the signal through a deep, narrow MLP. Introduced in 2.2."""

    def __init__(self, cfg: GANConfig):
        super().__init__(cfg, (cfg.data_dim,))
        self.net = mlp([self.in_dim] + [cfg.hidden] * cfg.depth + [cfg.data_dim], act="relu")  # (B, data_dim)


class MLPDiscriminator(_Discriminator):
    """A ``data_dim`` vector -> ``depth`` LeakyReLU(0.2) layers -> one logit, shape (B,). Introduced in 2.1."""

    def __init__(self, cfg: GANConfig):
        features = mlp([cfg.data_dim] + [cfg.hidden] * cfg.depth, act="lrelu", final_act="lrelu")  # (B, hidden)
        super().__init__(cfg, (cfg.data_dim,), features, cfg.hidden, "data vectors",
                         "check GANConfig.data_dim", dcgan_init=False)


def _dc_channels(cfg: GANConfig) -> list[int]:
    """Feature maps of D's strided convs: width, 2*width, 4*width[, 8*width]."""
    return [cfg.width * 2**i for i in range(_D_LEVELS[cfg.img_size])]


class DCGenerator(_Generator):
    """DCGAN generator (Radford et al. 2016): linear projection of z to a small feature map, then
    ConvTranspose2d + BatchNorm + ReLU blocks that double the side, and a final tanh layer.

    28x28: (B, 4w, 7, 7) -> (B, 2w, 14, 14) -> (B, C, 28, 28); 32x32: (B, 4w, 4, 4) -> ... -> (B, C, 32, 32);
    64x64: (B, 8w, 4, 4) -> ... -> (B, C, 64, 64), with w = ``cfg.width``. Introduced in 4.2.
    """

    def __init__(self, cfg: GANConfig):
        super().__init__(cfg, (cfg.channels, cfg.img_size, cfg.img_size))
        side = _BASE_SIDE[cfg.img_size]
        n_up = int(math.log2(cfg.img_size // side))  # upsampling stages: 2, 3 or 4
        top = _dc_channels(cfg)[-1]
        chans = [top // 2**i for i in range(n_up)]  # e.g. [4w, 2w] for 28x28
        self.net = nn.Sequential(
            nn.Linear(self.in_dim, top * side * side, bias=False),  # (B, top * side^2)
            View(top, side, side),  # (B, top, side, side)
            nn.BatchNorm2d(top),
            nn.ReLU(inplace=True),
            *[deconv_block(c_in, c_out) for c_in, c_out in zip(chans[:-1], chans[1:])],  # side doubles each
            deconv_block(chans[-1], cfg.channels, norm=None, act="tanh"),  # (B, C, H, W) in [-1, 1]
        )
        init_dcgan_(self)


class DCDiscriminator(_Discriminator):
    """DCGAN discriminator: strided 4x4 convs with LeakyReLU(0.2), batch norm except in the first layer
    (and nowhere when ``cfg.critic``: batch norm couples the samples and breaks the per-sample gradient
    penalty), then a linear layer to one logit, shape (B,).

    28x28: (B, C, 28, 28) -> (B, w, 14, 14) -> (B, 2w, 7, 7) -> (B, 4w, 4, 4) (a 3x3 conv for 7 -> 4);
    32x32 likewise to (B, 4w, 4, 4); 64x64 to (B, 8w, 4, 4). Introduced in 4.2; as a WGAN-GP critic in 4.3
    (spectral normalisation, an option here too, is introduced on the MLP in 2.4).
    """

    def __init__(self, cfg: GANConfig):
        chans = _dc_channels(cfg)
        norm = None if cfg.critic else "batch"
        layers = [conv_block(cfg.channels, chans[0], norm=None)]  # (B, w, H/2, W/2)
        side = cfg.img_size // 2
        for c_in, c_out in zip(chans[:-1], chans[1:]):
            k = 4 if side % 2 == 0 else 3
            layers.append(conv_block(c_in, c_out, kernel_size=k, norm=norm))  # (B, c_out, ceil(side/2), ...)
            side = (side + 2 - k) // 2 + 1
        features = nn.Sequential(*layers, nn.Flatten())  # (B, top * 4 * 4)
        super().__init__(cfg, (cfg.channels, cfg.img_size, cfg.img_size), features, chans[-1] * side * side,
                         "images", "check GANConfig.img_size/channels", dcgan_init=True)


_MODELS = {"mlp": (MLPGenerator, MLPDiscriminator), "dcgan": (DCGenerator, DCDiscriminator)}


def build_generator(cfg: GANConfig) -> _Generator:
    """The generator ``cfg.kind`` asks for. Introduced in 2.2."""
    return _MODELS[cfg.kind][0](cfg)


def build_discriminator(cfg: GANConfig) -> _Discriminator:
    """The discriminator (or critic) ``cfg.kind`` asks for. Introduced in 2.2 (a critic: 2.4)."""
    return _MODELS[cfg.kind][1](cfg)


def build_gan(cfg: GANConfig) -> tuple[_Generator, _Discriminator]:
    """``(G, D)`` for a ``GANConfig``. Introduced in 2.2."""
    return build_generator(cfg), build_discriminator(cfg)


def _build_parts(config: GANConfig | dict) -> dict[str, nn.Module]:
    cfg = config if isinstance(config, GANConfig) else GANConfig.from_dict(config)
    G, D = build_gan(cfg)
    return {"generator": G, "discriminator": D}


kinds.register(kinds.ModelKind(
    "gan", _build_parts, parts=("generator", "discriminator"), sampler="generator", ema_of="generator",
    doc="generator + discriminator/critic (GANConfig); trained by train.GANTrainer"))
