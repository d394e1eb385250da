"""Small network building blocks shared by the GAN and VAE models.

Introduced in 4.2 (DCGAN), reused in 4.4 (conv VAE). Every helper returns plain ``torch.nn``
modules, so ``print(model)`` shows exactly what runs.
"""
from __future__ import annotations

import contextlib
from typing import Callable, Iterator, Sequence

import torch
from torch import nn

_ACTIVATIONS = {
    "relu": lambda: nn.ReLU(inplace=True),
    "lrelu": lambda: nn.LeakyReLU(0.2, inplace=True),
    "tanh": nn.Tanh,
}


def activation(name: str | None) -> list[nn.Module]:
    """``[module]`` for ``"relu"``, ``"lrelu"`` (slope 0.2) or ``"tanh"``; ``[]`` for ``None``."""
    if name is None:
        return []
    if name not in _ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; use one of {sorted(_ACTIVATIONS)} or None")
    return [_ACTIVATIONS[name]()]


def _use_batch_norm(norm: bool | str | None) -> bool:
    if norm in (True, "batch"):
        return True
    if norm in (False, None):
        return False
    raise ValueError(f"norm={norm!r} is not supported; use 'batch' (or True) for batch norm, None (or False) for none")


def conv_block(in_ch: int, out_ch: int, kernel_size: int = 4, stride: int = 2, padding: int = 1,
               norm: bool | str | None = "batch", act: str | None = "lrelu") -> nn.Sequential:
    """Conv2d [+ BatchNorm2d] [+ activation]; the defaults halve the side: (B, in, H, W) -> (B, out, H/2, W/2).

    The convolution has a bias only when no batch norm follows (batch norm's shift replaces it).
    """
    bn = _use_batch_norm(norm)
    layers = [nn.Conv2d(in_ch, out_ch, kernel_size, stride, padding, bias=not bn)]
    if bn:
        layers.append(nn.BatchNorm2d(out_ch))
    return nn.Sequential(*layers, *activation(act))


def deconv_block(in_ch: int, out_ch: int, kernel_size: int = 4, stride: int = 2, padding: int = 1,
                 norm: bool | str | None = "batch", act: str | None = "relu") -> nn.Sequential:
    """ConvTranspose2d [+ BatchNorm2d] [+ activation]; the defaults double the side:
    (B, in, H, W) -> (B, out, 2H, 2W). Bias only without batch norm, as in ``conv_block``."""
    bn = _use_batch_norm(norm)
    layers = [nn.ConvTranspose2d(in_ch, out_ch, kernel_size, stride, padding, bias=not bn)]
    if bn:
        layers.append(nn.BatchNorm2d(out_ch))
    return nn.Sequential(*layers, *activation(act))


def mlp(sizes: Sequence[int], act: str = "relu", final_act: str | None = None) -> nn.Sequential:
    """Linear layers ``sizes[0] -> sizes[1] -> ... -> sizes[-1]`` with ``act`` between them.

    >>> mlp([2, 16, 16, 1], act="lrelu")  # (B, 2) -> (B, 1), two hidden layers of 16
    """
    if len(sizes) < 2:
        raise ValueError(f"mlp needs at least an input and an output size, got {list(sizes)}")
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        layers += activation(act if i < len(sizes) - 2 else final_act)
    return nn.Sequential(*layers)


class View(nn.Module):
    """Reshape the non-batch dimensions: ``View(64, 7, 7)`` maps (B, 3136) -> (B, 64, 7, 7)."""

    def __init__(self, *shape: int):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], *self.shape)  # (B, *shape)

    def extra_repr(self) -> str:
        return ", ".join(map(str, self.shape))


@contextlib.contextmanager
def eval_mode(*modules: nn.Module) -> Iterator[None]:
    """``with eval_mode(model): ...`` runs in eval mode (batch norm uses its running statistics, dropout
    is off) and restores each module's previous mode afterwards, even if the block raises."""
    previous = [m.training for m in modules]
    for m in modules:
        m.eval()
    try:
        yield
    finally:
        for m, was_training in zip(modules, previous):
            m.train(was_training)


def count_parameters(module: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (each shared tensor counted once; buffers such as BN statistics excluded)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


@torch.no_grad()
def init_dcgan_(module: nn.Module) -> nn.Module:
    """DCGAN initialisation (Radford et al. 2016), in place: conv/linear weights ~ N(0, 0.02),
    batch-norm scales ~ N(1, 0.02), all biases 0. Returns ``module``. Introduced in 4.2."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
        else:
            continue
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    return module


def batchnorm_layers(model: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    """The batch-norm layers of ``model`` that keep running statistics (BatchNorm1d/2d/3d, SyncBatchNorm)."""
    return [m for m in model.modules()
            if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, make_input: Callable[[], torch.Tensor | tuple],
                          batches: int = 40) -> nn.Module:
    """Re-estimate the running statistics of every batch-norm layer of ``model`` from ``batches``
    forward passes on ``make_input()`` (a tensor, or a tuple of positional arguments), in place.

    Each layer's statistics are reset and re-accumulated as a plain average over the passes
    (``momentum=None``): running_mean = mean of the batch means, running_var = mean of the
    (unbiased) batch variances. Only the batch-norm layers run in train mode, under
    ``torch.no_grad``; parameters are untouched, and every module's mode and momentum are restored.
    A model without batch norm is returned unchanged (no forward pass). An EMA copy of a generator
    needs this: averaging the weights does not average the statistics, which belong to the raw
    weights ("standing statistics", Brock et al. 2019). Introduced in 4.2.
    """
    layers = batchnorm_layers(model)
    if not layers:
        return model
    if batches < 1:
        raise ValueError(f"batches={batches} must be at least 1")
    modes = [(m, m.training) for m in model.modules()]
    momenta = [m.momentum for m in layers]
    try:
        model.eval()
        for m in layers:
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the passes
            m.train()
        for _ in range(batches):
            x = make_input()
            model(*x) if isinstance(x, tuple) else model(x)
    finally:
        for m, momentum in zip(layers, momenta):
            m.momentum = momentum
        for m, was_training in modes:
            m.training = was_training
    return model


def apply_spectral_norm_(module: nn.Module) -> nn.Module:
    """Wrap every conv, linear and embedding layer's weight with spectral normalisation
    (Miyato et al. 2018) via ``torch.nn.utils.parametrizations.spectral_norm``. Introduced in 2.4."""
    layers = [m for m in module.modules() if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding))]
    for m in layers:
        nn.utils.parametrizations.spectral_norm(m)
    return module


def standard_normal(*shape: int, generator: torch.Generator | None = None,
                    device: torch.device | str | None = None) -> torch.Tensor:
    """A float32 tensor of N(0, 1) draws on ``device``.

    With a ``generator`` the numbers are drawn on the generator's device (CPU for
    ``torch.Generator()``) and then moved, so a seeded CPU generator gives the same numbers on
    every device.
    """
    if generator is None:
        return torch.randn(*shape, device=device)
    return torch.randn(*shape, generator=generator, device=generator.device).to(device)


def check_input(x: torch.Tensor, expected: Sequence[int], who: str, what: str, hint: str) -> None:
    """Raise a ``ValueError`` unless ``x`` is a floating tensor of shape (B, *expected).

    The message names the model, the expected and actual shapes and ``hint`` (what to change).
    """
    if not torch.is_tensor(x):
        raise ValueError(f"{who} expects a torch.Tensor of {what}, got {type(x).__name__}")
    want = "(B, " + ", ".join(map(str, expected)) + ")"
    if x.dim() != len(expected) + 1 or tuple(x.shape[1:]) != tuple(expected):
        raise ValueError(f"{who} expects {what} of shape {want}; got {tuple(x.shape)} — {hint}")
    if not x.is_floating_point():
        raise ValueError(
            f"{who} expects floating-point {what}, got dtype {x.dtype}; "
            "convert first (images: uint8 -> float in [-1, 1], e.g. x.float() / 127.5 - 1)"
        )
