"""Diffusion and flow-matching models: noise schedules, parameterisations, denoisers, samplers.

One family, several names (Part VI). Data ``x0`` and Gaussian noise ``eps`` are mixed as

.. math:: x_t = \\alpha_t x_0 + \\sigma_t \\varepsilon, \\qquad t \\in [0, 1],

with a *schedule* ``(alpha_t, sigma_t)``:

* ``"linear"``: alpha = 1 - t, sigma = t: the straight path of flow matching / rectified flow
  (Lipman et al. 2023, Liu et al. 2023);
* ``"cosine"``: alpha = cos(pi t / 2), sigma = sin(pi t / 2): variance preserving (Nichol & Dhariwal
  2021 use a shifted cousin);
* ``"ddpm"``: the linear betas of Ho et al. 2020 (1e-4 to 0.02 in 1000 steps), alpha^2 = prod(1 - beta),
  in continuous time (log alpha^2 interpolated between the steps).

The network predicts one of four equivalent targets (*parameterisation*), each an affine function of
another given ``x_t`` (:func:`convert`): ``"eps"`` (the noise, Ho et al. 2020), ``"x0"`` (the clean
data), ``"v"`` (alpha eps - sigma x0, Salimans & Ho 2022) or ``"velocity"`` (d x_t / dt =
alpha' x0 + sigma' eps, the flow-matching target). The score is -eps / sigma (Tweedie: Efron 2011).

Samplers integrate from t = 1 (noise) to t = 0: ``"euler"`` and ``"heun"`` on the probability-flow
ODE dx/dt = alpha' x0_hat + sigma' eps_hat, ``"ddim"`` (Song et al. 2021a), ``"ancestral"`` (DDPM's
stochastic posterior steps). Class-conditional models learn the unconditional case too (a ``null``
label, dropped with probability ``p_uncond``) and are guided without a classifier (Ho & Salimans 2022):
``out = out_uncond + w (out_cond - out_uncond)``.

Introduced in 6.1 (forward process, MLP denoiser), 6.2 (schedules, parameterisations), 6.3 (samplers,
flow matching), 6.4 (U-Net), 6.5 (guidance), 6.6 (latent diffusion).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from . import kinds
from .config import ConfigMixin, _check_types, _choice, _non_negative, _positive
from .nn import check_input, standard_normal

SCHEDULES = ("linear", "cosine", "ddpm")
PREDICTIONS = ("velocity", "eps", "x0", "v")
SAMPLERS = ("euler", "heun", "ddim", "ancestral")
DDPM_STEPS, DDPM_BETAS = 1000, (1e-4, 0.02)  # Ho et al. 2020, section 4


@dataclass(frozen=True)
class DiffusionConfig(ConfigMixin):
    """A denoiser network and the diffusion it belongs to (see ``aigc_course.diffusion``)."""

    kind: str = "unet"           # "unet" (images) or "mlp" (vectors: 2-D toy data, VAE latents)
    img_size: int = 28           # unet: image side (divisible by 4)
    channels: int = 1            # unet: image channels
    width: int = 32              # unet: feature maps at full resolution
    mult: tuple = (1, 2, 4)      # unet: width multipliers per resolution (each level halves the side)
    blocks: int = 1              # unet: residual blocks per level on the way down (one more on the way up)
    attention: bool = True       # unet: self-attention at the lowest resolution
    data_dim: int = 2            # mlp: dimension of a data vector
    hidden: int = 256            # mlp: width of the residual blocks
    depth: int = 3               # mlp: number of residual blocks
    n_classes: int = 0           # > 0: class-conditional, with a null label for guidance
    p_uncond: float = 0.1        # conditional models: probability of training on the null label
    schedule: str = "linear"     # "linear" (flow matching), "cosine" or "ddpm" (see SCHEDULES)
    prediction: str = "velocity"  # what the network predicts: "velocity", "eps", "x0" or "v"
    time_sampling: str = "logit-normal"  # t in training: "uniform", "logit-normal" (Esser et al. 2024), "discrete"
    t_min: float = 0.0           # smallest t in training and sampling
    t_max: float = 1.0           # largest t (where sampling starts); below 1 for eps on schedules with alpha_1 = 0

    def __post_init__(self):
        if isinstance(self.mult, list):
            object.__setattr__(self, "mult", tuple(self.mult))
        _check_types(self)
        _choice(self, "kind", ("unet", "mlp"))
        _positive(self, "img_size", "channels", "width", "blocks", "data_dim", "hidden", "depth")
        _non_negative(self, "n_classes", "t_min")
        _choice(self, "schedule", SCHEDULES)
        _choice(self, "prediction", PREDICTIONS)
        _choice(self, "time_sampling", ("uniform", "logit-normal", "discrete"))
        if not self.mult or not all(isinstance(m, int) and m > 0 for m in self.mult):
            raise ValueError(f"DiffusionConfig.mult must be positive whole numbers, got {self.mult!r}")
        if self.kind == "unet" and self.img_size % 2 ** (len(self.mult) - 1):
            raise ValueError(f"DiffusionConfig.img_size={self.img_size} must be divisible by "
                             f"{2 ** (len(self.mult) - 1)} for {len(self.mult)} levels (mult={self.mult})")
        if not 0 <= self.p_uncond < 1:
            raise ValueError(f"DiffusionConfig.p_uncond must be in [0, 1), got {self.p_uncond!r}")
        if not 0 <= self.t_min < 0.5:
            raise ValueError(f"DiffusionConfig.t_min must be in [0, 0.5), got {self.t_min!r}")
        if not 0.5 < self.t_max <= 1:
            raise ValueError(f"DiffusionConfig.t_max must be in (0.5, 1], got {self.t_max!r}")
        if self.prediction == "eps" and self.schedule in ("linear", "cosine") and self.t_max == 1:
            raise ValueError(f"DiffusionConfig: prediction='eps' on the {self.schedule!r} schedule cannot give x0 at "
                             "t = 1, where alpha = 0 (x0 = (x_t - sigma eps) / alpha); set t_max below 1, e.g. "
                             "t_max=0.999, or predict 'velocity' or 'v'")

    @classmethod
    def from_dict(cls, data: dict):
        values = dict(data)
        if isinstance(values.get("mult"), list):
            values["mult"] = tuple(values["mult"])
        return super().from_dict(values)


# --------------------------------------------------------------------------- schedules


def _ddpm_log_alpha2() -> torch.Tensor:
    """log alpha_bar_k for k = 0..1000 (k = 0: no noise), float64, from Ho et al.'s linear betas."""
    betas = torch.linspace(*DDPM_BETAS, DDPM_STEPS, dtype=torch.float64)
    return torch.cat([torch.zeros(1, dtype=torch.float64), torch.cumsum(torch.log1p(-betas), 0)])


_DDPM_LOG_ALPHA2 = _ddpm_log_alpha2()


def alpha_sigma(t: torch.Tensor, schedule: str = "linear") -> tuple[torch.Tensor, torch.Tensor]:
    """``(alpha_t, sigma_t)`` of ``schedule`` at times ``t`` in [0, 1] (same shape as ``t``)."""
    t = torch.as_tensor(t)
    if schedule == "linear":
        return 1 - t, t
    if schedule == "cosine":
        return torch.cos(0.5 * math.pi * t), torch.sin(0.5 * math.pi * t)
    if schedule == "ddpm":
        log_a2 = _interp(t, _DDPM_LOG_ALPHA2.to(t.device))
        a2 = log_a2.exp()
        return a2.sqrt().to(t.dtype), (1 - a2).clamp_min(0).sqrt().to(t.dtype)
    raise ValueError(f"unknown schedule {schedule!r}; use one of {SCHEDULES}")


def _interp(t: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """Piecewise-linear interpolation of ``table`` (values at t = 0, 1/K, ..., 1) at ``t``, float64."""
    pos = t.double().clamp(0, 1) * (len(table) - 1)
    lo = pos.floor().long().clamp(max=len(table) - 2)
    w = pos - lo
    return table[lo] * (1 - w) + table[lo + 1] * w


def alpha_sigma_deriv(t: torch.Tensor, schedule: str = "linear") -> tuple[torch.Tensor, torch.Tensor]:
    """``(d alpha/dt, d sigma/dt)`` at ``t`` (the ddpm schedule: the slope of its piecewise-linear log alpha^2)."""
    t = torch.as_tensor(t)
    if schedule == "linear":
        return -torch.ones_like(t), torch.ones_like(t)
    if schedule == "cosine":
        c = 0.5 * math.pi
        return -c * torch.sin(c * t), c * torch.cos(c * t)
    if schedule == "ddpm":
        table = _DDPM_LOG_ALPHA2.to(t.device)
        k = (t.double().clamp(0, 1) * DDPM_STEPS).floor().long().clamp(max=DDPM_STEPS - 1)
        dlog_a2 = (table[k + 1] - table[k]) * DDPM_STEPS  # d log alpha^2 / dt on this step
        alpha, sigma = alpha_sigma(t.double(), "ddpm")
        d_alpha = 0.5 * alpha * dlog_a2
        d_sigma = -alpha * d_alpha / sigma.clamp_min(1e-12)  # from alpha^2 + sigma^2 = 1
        return d_alpha.to(t.dtype), d_sigma.to(t.dtype)
    raise ValueError(f"unknown schedule {schedule!r}; use one of {SCHEDULES}")


def log_snr(t: torch.Tensor, schedule: str = "linear") -> torch.Tensor:
    """The log signal-to-noise ratio lambda_t = log(alpha_t^2 / sigma_t^2) (Kingma et al. 2021)."""
    alpha, sigma = alpha_sigma(torch.as_tensor(t, dtype=torch.float64), schedule)
    return 2 * (torch.log(alpha) - torch.log(sigma))


def _expand(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(B,) -> (B, 1, ..., 1), broadcastable against ``like``."""
    return v.reshape(v.shape[0], *([1] * (like.dim() - 1))) if v.dim() == 1 else v


def target(prediction: str, x0: torch.Tensor, eps: torch.Tensor, t: torch.Tensor,
           schedule: str = "linear") -> torch.Tensor:
    """What a network of ``prediction`` type should output at ``x_t = alpha x0 + sigma eps``."""
    alpha, sigma = (_expand(a, x0) for a in alpha_sigma(t, schedule))
    if prediction == "eps":
        return eps
    if prediction == "x0":
        return x0
    if prediction == "v":
        return alpha * eps - sigma * x0
    if prediction == "velocity":
        d_alpha, d_sigma = (_expand(a, x0) for a in alpha_sigma_deriv(t, schedule))
        return d_alpha * x0 + d_sigma * eps
    raise ValueError(f"unknown prediction {prediction!r}; use one of {PREDICTIONS}")


def to_x0_eps(prediction: str, out: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor,
              schedule: str = "linear") -> tuple[torch.Tensor, torch.Tensor]:
    """``(x0_hat, eps_hat)`` from a network output of ``prediction`` type: two linear equations,
    ``x_t = alpha x0 + sigma eps`` and the definition of the target, solved for x0 and eps."""
    alpha, sigma = (_expand(a, x_t) for a in alpha_sigma(t, schedule))
    if prediction == "eps":
        return (x_t - sigma * out) / alpha, out
    if prediction == "x0":
        return out, (x_t - alpha * out) / sigma
    if prediction == "v":
        norm = alpha ** 2 + sigma ** 2
        return (alpha * x_t - sigma * out) / norm, (sigma * x_t + alpha * out) / norm
    if prediction == "velocity":
        d_alpha, d_sigma = (_expand(a, x_t) for a in alpha_sigma_deriv(t, schedule))
        det = alpha * d_sigma - sigma * d_alpha  # > 0: noise grows faster than signal
        return (d_sigma * x_t - sigma * out) / det, (alpha * out - d_alpha * x_t) / det
    raise ValueError(f"unknown prediction {prediction!r}; use one of {PREDICTIONS}")


def convert(out: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor, src: str, dst: str,
            schedule: str = "linear") -> torch.Tensor:
    """A prediction of type ``src`` as type ``dst`` (``"score"`` too: -eps / sigma)."""
    x0, eps = to_x0_eps(src, out, x_t, t, schedule)
    if dst == "score":
        return -eps / _expand(alpha_sigma(t, schedule)[1], x_t)
    return target(dst, x0, eps, t, schedule)


# --------------------------------------------------------------------------- networks


def time_embedding(t: torch.Tensor, dim: int, scale: float = 1000.0) -> torch.Tensor:
    """Sinusoidal features of ``scale * t`` (Vaswani et al. 2017; Ho et al. 2020): (B,) -> (B, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10_000) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angles = scale * t.float()[:, None] * freqs[None]  # (B, half)
    return torch.cat([angles.sin(), angles.cos()], dim=1)  # (B, dim)


def group_norm(channels: int) -> nn.GroupNorm:
    """GroupNorm with up to 8 groups of at least 4 channels."""
    return nn.GroupNorm(max(1, min(8, channels // 4)), channels)


class ResBlock(nn.Module):
    """norm -> SiLU -> conv3x3 (+ the embedding, per channel) -> norm -> SiLU -> conv3x3, plus the input
    (a 1x1 conv when the width changes): (B, c_in, H, W), (B, E) -> (B, c_out, H, W)."""

    def __init__(self, c_in: int, c_out: int, emb_dim: int):
        super().__init__()
        self.norm1, self.conv1 = group_norm(c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb = nn.Linear(emb_dim, c_out)
        self.norm2, self.conv2 = group_norm(c_out), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()
        nn.init.zeros_(self.conv2.weight)  # each block starts as the identity
        nn.init.zeros_(self.conv2.bias)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))  # (B, c_out, H, W)
        h = h + self.emb(emb)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class SelfAttention(nn.Module):
    """Single-head self-attention over the H*W positions, with a residual: (B, C, H, W) -> same."""

    def __init__(self, channels: int):
        super().__init__()
        self.norm = group_norm(channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.out = nn.Conv2d(channels, channels, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, C, H, W = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(B, 3, C, H * W).transpose(2, 3).unbind(1)  # (B, HW, C) each
        attn = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(C), dim=-1)  # (B, HW, HW); exports to ONNX
        h = attn @ v  # (B, HW, C)
        return x + self.out(h.transpose(1, 2).reshape(B, C, H, W))


class UNet(nn.Module):
    """A small U-Net (Ronneberger et al. 2015, as in Ho et al. 2020): (x_t, t, label) -> prediction.

    Levels at sides S, S/2, ... (``len(mult)`` of them, ``width * mult[i]`` channels); ``blocks`` residual
    blocks per level down, ``blocks + 1`` up (each takes a skip connection), strided convolutions down,
    nearest upsampling + conv up, self-attention in the middle. The time (and label) embedding enters
    every residual block. Introduced in 6.4.
    """

    def __init__(self, cfg: DiffusionConfig):
        super().__init__()
        self.cfg = cfg
        width, emb_dim = cfg.width, 4 * cfg.width
        self.time_mlp = nn.Sequential(nn.Linear(width, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.label_emb = nn.Embedding(cfg.n_classes + 1, emb_dim) if cfg.n_classes else None  # + null label
        self.inp = nn.Conv2d(cfg.channels, width, 3, padding=1)
        self.down = nn.ModuleList()
        skips, c = [width], width
        for level, m in enumerate(cfg.mult):
            for _ in range(cfg.blocks):
                self.down.append(ResBlock(c, width * m, emb_dim))
                c = width * m
                skips.append(c)
            if level < len(cfg.mult) - 1:
                self.down.append(nn.Conv2d(c, c, 3, stride=2, padding=1))  # halves the side
                skips.append(c)
        self.mid1, self.mid2 = ResBlock(c, c, emb_dim), ResBlock(c, c, emb_dim)
        self.attn = SelfAttention(c) if cfg.attention else nn.Identity()
        self.up = nn.ModuleList()
        for level, m in reversed(list(enumerate(cfg.mult))):
            for _ in range(cfg.blocks + 1):
                self.up.append(ResBlock(c + skips.pop(), width * m, emb_dim))
                c = width * m
            if level > 0:
                self.up.append(nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                                             nn.Conv2d(c, c, 3, padding=1)))  # doubles the side
        self.out = nn.Sequential(group_norm(c), nn.SiLU(), nn.Conv2d(c, cfg.channels, 3, padding=1))

    def embed(self, t: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        emb = self.time_mlp(time_embedding(t, self.cfg.width).to(self.inp.weight.dtype))  # (B, 4 width)
        return emb if self.label_emb is None else emb + self.label_emb(labels)

    def forward(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        emb = self.embed(t, labels)
        h = self.inp(x)  # (B, width, S, S)
        hs = [h]
        for layer in self.down:
            h = layer(h, emb) if isinstance(layer, ResBlock) else layer(h)
            hs.append(h)
        h = self.mid2(self.attn(self.mid1(h, emb)), emb)  # (B, width * mult[-1], S / 2^(L-1), ...)
        for layer in self.up:
            h = layer(torch.cat([h, hs.pop()], dim=1), emb) if isinstance(layer, ResBlock) else layer(h)
        return self.out(h)  # (B, channels, S, S)


class MLPDenoiser(nn.Module):
    """For vectors (2-D toy data, VAE latents): (x_t, t, label) -> prediction, with ``depth`` residual
    blocks ``h + Linear(SiLU(Linear(LayerNorm(h)) + emb))``. Introduced in 6.1."""

    def __init__(self, cfg: DiffusionConfig):
        super().__init__()
        self.cfg = cfg
        H = cfg.hidden
        self.time_mlp = nn.Sequential(nn.Linear(64, H), nn.SiLU(), nn.Linear(H, H))
        self.label_emb = nn.Embedding(cfg.n_classes + 1, H) if cfg.n_classes else None
        self.inp = nn.Linear(cfg.data_dim, H)
        self.blocks = nn.ModuleList(nn.ModuleDict({"norm": nn.LayerNorm(H), "fc1": nn.Linear(H, H),
                                                   "fc2": nn.Linear(H, H)}) for _ in range(cfg.depth))
        self.out = nn.Sequential(nn.LayerNorm(H), nn.SiLU(), nn.Linear(H, cfg.data_dim))

    def forward(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        emb = self.time_mlp(time_embedding(t, 64).to(self.inp.weight.dtype))  # (B, H)
        if self.label_emb is not None:
            emb = emb + self.label_emb(labels)
        h = self.inp(x)  # (B, H)
        for b in self.blocks:
            h = h + b["fc2"](F.silu(b["fc1"](b["norm"](h)) + emb))
        return self.out(h)  # (B, data_dim)


# --------------------------------------------------------------------------- the model


def time_grid(steps: int, t_min: float = 0.0, device=None, t_max: float = 1.0) -> torch.Tensor:
    """``steps + 1`` times from ``t_max`` (1: pure noise) down to ``t_min`` (uniform; the last lands on t_min)."""
    return torch.linspace(t_max, t_min, steps + 1, device=device)


class Diffusion(nn.Module):
    """A denoiser network with its schedule and parameterisation: training loss, predictions, samplers.

    ``forward(x_t, t, labels)`` is the network's raw output (of type ``cfg.prediction``). Data live in
    [-1, 1] (images) or as they are (vectors). Conditional models (``cfg.n_classes > 0``) take labels in
    [0, n_classes); the label ``n_classes`` means "no label" (used for the unconditional prediction).
    Introduced in 6.1 (2-D), 6.4 (images).
    """

    def __init__(self, cfg: DiffusionConfig):
        super().__init__()
        self.cfg = cfg
        self.n_classes = cfg.n_classes
        self.net = UNet(cfg) if cfg.kind == "unet" else MLPDenoiser(cfg)
        self.data_shape = (cfg.channels, cfg.img_size, cfg.img_size) if cfg.kind == "unet" else (cfg.data_dim,)

    # -- the network -------------------------------------------------------------------------------
    def forward(self, x_t: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        check_input(x_t, self.data_shape, "Diffusion", "noisy samples x_t",
                    "check DiffusionConfig.img_size/channels (unet) or data_dim (mlp)")
        if self.n_classes:
            if labels is None:
                labels = torch.full((x_t.shape[0],), self.n_classes, dtype=torch.long, device=x_t.device)
        elif labels is not None:
            raise ValueError("Diffusion: this model is unconditional (DiffusionConfig.n_classes=0) but got labels")
        t = t.expand(x_t.shape[0]) if t.dim() == 0 else t
        return self.net(x_t, t, labels)

    # -- training ----------------------------------------------------------------------------------
    def sample_t(self, n: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
        """Training times t in [t_min, t_max], (n,): uniform, logit-normal (sigmoid of N(0, 1)), or discrete
        (k / 1000, k = 1..1000, as DDPM's integer steps)."""
        how, lo, hi = self.cfg.time_sampling, self.cfg.t_min, self.cfg.t_max
        if how == "discrete":
            k = torch.randint(1, DDPM_STEPS + 1, (n,), generator=generator, device=device)
            return lo + (hi - lo) * k.float() / DDPM_STEPS
        u = (torch.rand(n, generator=generator, device=device) if how == "uniform"
             else torch.sigmoid(torch.randn(n, generator=generator, device=device)))
        return lo + (hi - lo) * u

    def loss(self, x0: torch.Tensor, labels: torch.Tensor | None = None,
             generator: torch.Generator | None = None) -> torch.Tensor:
        """The denoising loss: mean squared error between the network and its target at
        ``x_t = alpha_t x0 + sigma_t eps`` for random ``t`` and ``eps`` (with the null label for a
        share ``p_uncond`` of a conditional model's batch)."""
        dev = x0.device
        t = self.sample_t(x0.shape[0], generator, dev)  # (B,)
        eps = torch.randn(x0.shape, generator=generator, device=dev, dtype=torch.float32)
        alpha, sigma = (_expand(a, x0) for a in alpha_sigma(t, self.cfg.schedule))
        x_t = alpha * x0.float() + sigma * eps
        if self.n_classes:
            if labels is None:
                raise ValueError("a class-conditional Diffusion model trains on labelled data; the loader has none")
            drop = torch.rand(x0.shape[0], generator=generator, device=dev) < self.cfg.p_uncond
            labels = torch.where(drop, torch.full_like(labels, self.n_classes), labels)
        else:
            labels = None
        out = self(x_t, t, labels).float()
        return F.mse_loss(out, target(self.cfg.prediction, x0.float(), eps, t, self.cfg.schedule))

    # -- prediction --------------------------------------------------------------------------------
    def predict(self, x_t: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None,
                guidance: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x0_hat, eps_hat)`` at ``(x_t, t)``; conditional models mix the conditional and
        unconditional outputs: ``out_u + guidance * (out_c - out_u)`` (0: unconditional, 1: conditional;
        other values cost two network evaluations, run as one batch)."""
        t = t.expand(x_t.shape[0]) if t.dim() == 0 else t
        if not self.n_classes or guidance == 1.0:
            out = self(x_t, t, labels)
        elif guidance == 0.0:
            out = self(x_t, t, None)
        else:
            null = torch.full_like(labels, self.n_classes)
            both = self(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([labels, null]))
            out_c, out_u = both.chunk(2)
            out = out_u + guidance * (out_c - out_u)
        return to_x0_eps(self.cfg.prediction, out.float(), x_t, t, self.cfg.schedule)

    def velocity(self, x_t: torch.Tensor, t: torch.Tensor, labels=None, guidance: float = 1.0) -> torch.Tensor:
        """The probability-flow ODE's right-hand side dx/dt = alpha'(t) x0_hat + sigma'(t) eps_hat."""
        x0, eps = self.predict(x_t, t, labels, guidance)
        d_alpha, d_sigma = (_expand(a, x_t) for a in alpha_sigma_deriv(t.expand(x_t.shape[0]), self.cfg.schedule))
        return d_alpha * x0 + d_sigma * eps

    # -- sampling ----------------------------------------------------------------------------------
    def _device(self) -> torch.device:
        return next(self.parameters()).device

    def _labels(self, n: int, labels, device) -> torch.Tensor | None:
        if not self.n_classes:
            if labels is not None:
                raise ValueError("Diffusion.sample: this model is unconditional; drop labels=")
            return None
        if labels is None:
            return torch.arange(n, device=device) % self.n_classes  # each class in turn
        if isinstance(labels, int):
            return torch.full((n,), labels, dtype=torch.long, device=device)
        labels = torch.as_tensor(labels, device=device)
        if labels.shape != (n,):
            raise ValueError(f"Diffusion.sample: labels must have shape ({n},), got {tuple(labels.shape)}")
        if labels.numel() and (labels.min() < 0 or labels.max() > self.n_classes):
            raise ValueError(f"Diffusion.sample: labels must lie in [0, {self.n_classes}] ({self.n_classes}: none)")
        return labels.long()

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None, device: torch.device | str | None = None,
               *, labels=None, steps: int = 25, sampler: str = "heun", guidance: float = 1.0,
               noise: torch.Tensor | None = None, return_path: bool = False, batch_size: int = 500):
        """``n`` samples (images in [-1, 1], clamped) from noise at ``t_max`` (1), integrating down to ``t_min``.

        ``sampler``: ``"euler"``, ``"heun"`` (2 steps - 1 network evaluations), ``"ddim"`` or
        ``"ancestral"``; ``steps`` time steps. ``labels``: for conditional models, a tensor (n,), an int,
        or None for each class in turn. ``guidance``: the classifier-free guidance weight. A seeded CPU
        ``generator`` gives the same samples on every device. ``return_path=True`` also returns the
        states after every step (CPU, (steps + 1, n, ...)). Drawn in batches of ``batch_size``.
        """
        if sampler not in SAMPLERS:
            raise ValueError(f"unknown sampler {sampler!r}; use one of {SAMPLERS}")
        if not isinstance(steps, int) or steps < 1:
            raise ValueError(f"steps must be a positive whole number, got {steps!r}")
        device = torch.device(device) if device is not None else self._device()
        dtype = next(self.parameters()).dtype
        x = (noise if noise is not None else standard_normal(n, *self.data_shape, generator=generator,
                                                             device=device)).to(device, dtype)
        labels = self._labels(n, labels, device)
        outs, paths = [], []
        for start in range(0, n, batch_size):
            part = slice(start, start + batch_size)
            res = self._integrate(x[part], None if labels is None else labels[part], steps, sampler, guidance,
                                  generator, return_path)
            outs.append(res[0] if return_path else res)
            if return_path:
                paths.append(res[1])
        out = torch.cat(outs)
        if self.cfg.kind == "unet":
            out = out.clamp(-1, 1)
        return (out, torch.cat(paths, dim=1)) if return_path else out

    def _integrate(self, x, labels, steps, sampler, guidance, generator, return_path):
        cfg = self.cfg
        ts = time_grid(steps, cfg.t_min, device=x.device, t_max=cfg.t_max)
        path = [x.cpu()] if return_path else None
        for i in range(steps):
            t, s = ts[i], ts[i + 1]
            if sampler in ("euler", "heun"):
                v = self.velocity(x, t, labels, guidance)
                x_next = x + (s - t) * v
                if sampler == "heun" and s > cfg.t_min:  # trapezoid with the slope at the end point
                    x_next = x + (s - t) * 0.5 * (v + self.velocity(x_next, s, labels, guidance))
                x = x_next
            else:
                x0, eps = self.predict(x, t, labels, guidance)
                if cfg.kind == "unet":
                    x0 = x0.clamp(-1, 1)
                x = ddim_step(x, x0, eps, t, s, cfg.schedule) if sampler == "ddim" else ancestral_step(
                    x, x0, t, s, cfg.schedule, generator)
            if return_path:
                path.append(x.cpu())
        return (x, torch.stack(path)) if return_path else x


def ddim_step(x_t: torch.Tensor, x0: torch.Tensor, eps: torch.Tensor, t, s, schedule: str) -> torch.Tensor:
    """DDIM (eta = 0): keep the predicted noise, move to time s: x_s = alpha_s x0_hat + sigma_s eps_hat."""
    alpha_s, sigma_s = alpha_sigma(torch.as_tensor(s), schedule)
    return alpha_s * x0 + sigma_s * eps


def posterior(x_t: torch.Tensor, x0: torch.Tensor, t, s, schedule: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and standard deviation of q(x_s | x_t, x0) for s < t (Kingma et al. 2021, eq. 11 and 12):
    with alpha_{t|s} = alpha_t / alpha_s and sigma_{t|s}^2 = sigma_t^2 - alpha_{t|s}^2 sigma_s^2,
    mean = alpha_{t|s} sigma_s^2 / sigma_t^2 x_t + alpha_s sigma_{t|s}^2 / sigma_t^2 x0,
    variance = sigma_{t|s}^2 sigma_s^2 / sigma_t^2."""
    alpha_t, sigma_t = alpha_sigma(torch.as_tensor(t, dtype=torch.float64), schedule)
    alpha_s, sigma_s = alpha_sigma(torch.as_tensor(s, dtype=torch.float64), schedule)
    a_ts = alpha_t / alpha_s
    var_ts = sigma_t ** 2 - a_ts ** 2 * sigma_s ** 2
    mean = float(a_ts * sigma_s ** 2 / sigma_t ** 2) * x_t + float(alpha_s * var_ts / sigma_t ** 2) * x0
    return mean, (var_ts * sigma_s ** 2 / sigma_t ** 2).clamp_min(0).sqrt()  # float64 scalar


def ancestral_step(x_t: torch.Tensor, x0: torch.Tensor, t, s, schedule: str,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """One DDPM step: a draw from q(x_s | x_t, x0 = x0_hat) (no noise on the last step, where sigma_s = 0)."""
    mean, std = posterior(x_t, x0, t, s, schedule)
    if float(std) == 0.0:
        return mean
    return mean + float(std) * standard_normal(*x_t.shape, generator=generator, device=x_t.device)


def nfe(sampler: str, steps: int, guidance: float = 1.0, conditional: bool = False) -> int:
    """Network evaluations per sample: Heun evaluates twice per step except the last; guidance with a
    weight other than 0 or 1 evaluates the conditional and the unconditional model."""
    per = 2 * steps - 1 if sampler == "heun" else steps
    return per * (2 if conditional and guidance not in (0.0, 1.0) else 1)


def _config(cfg) -> DiffusionConfig:
    return cfg if isinstance(cfg, DiffusionConfig) else DiffusionConfig.from_dict(cfg)


kinds.register(kinds.ModelKind(
    "diffusion", lambda cfg: {"model": Diffusion(_config(cfg))}, parts=("model",), sampler="model",
    ema_of="model", doc="a denoiser (U-Net or MLP) with its schedule and samplers (Part VI)"))

__all__ = ["DiffusionConfig", "Diffusion", "UNet", "MLPDenoiser", "ResBlock", "SelfAttention", "alpha_sigma",
           "alpha_sigma_deriv", "log_snr", "target", "to_x0_eps", "convert", "time_embedding", "time_grid",
           "ddim_step", "posterior", "ancestral_step", "nfe", "SCHEDULES", "PREDICTIONS", "SAMPLERS"]
