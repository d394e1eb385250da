"""The registry of model kinds: the one place that says how to build a kind, which part samples, and
which parts its shipped weights hold.

A *kind* is a family of models trained the same way ("gan": a generator and a discriminator; "vae":
one model; "classifier": the metrics' feature network). Everything that builds, saves, loads,
samples or ships models asks the registry instead of testing names, so adding a kind (a diffusion
model will come) means: write its module, :func:`register` it there, and, if it trains differently,
register its training step with ``train.register_trainer``. Nothing else changes (DESIGN.md, "How to
add a model kind"; ``tests/test_architecture.py`` proves it with a Gaussian-mixture kind).

The part named ``sampler`` must have ``sample(n, generator=None, device=None) -> Tensor``: ``n`` samples,
reproducible from a seeded CPU ``generator`` on any device.
Introduced in 4.2.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from torch import nn


@dataclass(frozen=True)
class ModelKind:
    """How to build and use the models of one kind."""

    name: str                                            # "gan", "vae", ...: stored in checkpoints and the manifest
    build: Callable[[Any], dict[str, nn.Module]]         # model config (object or dict) -> fresh parts by name
    parts: tuple[str, ...]                               # the part names build() returns, in order
    sampler: str | None = None                           # the part with .sample(n, generator=...), if any
    shipped: tuple[str, ...] | None = None               # parts kept in shipped weights (default: all parts)
    ema_of: str | None = None                            # the part an EMA copy tracks (it replaces it when shipped)
    config_of: Callable[[nn.Module], dict] | None = None  # part -> JSON config to rebuild it (default: part.cfg)
    doc: str = ""

    def __post_init__(self):
        if self.sampler is not None and self.sampler not in self.parts:
            raise ValueError(f"ModelKind {self.name!r}: sampler {self.sampler!r} is not one of parts {self.parts}")
        for name in self.shipped or ():
            if name not in self.parts:
                raise ValueError(f"ModelKind {self.name!r}: shipped part {name!r} is not one of {self.parts}")

    @property
    def shipped_parts(self) -> tuple[str, ...]:
        return self.shipped or self.parts

    def new(self, config) -> dict[str, nn.Module]:
        """Fresh parts from ``config``; checks that ``build`` returned exactly ``parts``."""
        models = self.build(config)
        if tuple(models) != self.parts:
            raise ValueError(f"ModelKind {self.name!r}: build() returned parts {tuple(models)}, "
                             f"declared {self.parts}")
        return models

    def model_config(self, models: Mapping[str, nn.Module]) -> dict | None:
        """The JSON-able config that ``build`` needs to rebuild ``models`` (None if it is not known)."""
        first = models[self.parts[0]]
        if self.config_of is not None:
            return self.config_of(first)
        cfg = getattr(first, "cfg", None)
        return cfg.to_dict() if hasattr(cfg, "to_dict") else None


_KINDS: dict[str, ModelKind] = {}


def register(kind: ModelKind, *, replace: bool = False) -> ModelKind:
    """Add ``kind`` to the registry (``replace=True`` to redefine one, e.g. in a notebook)."""
    if kind.name in _KINDS and not replace and _KINDS[kind.name] != kind:
        raise ValueError(f"a model kind named {kind.name!r} is already registered; pass replace=True to redefine it")
    _KINDS[kind.name] = kind
    return kind


def get(name: str) -> ModelKind:
    """The registered kind ``name``; a clear error lists the known ones."""
    if name not in _KINDS:
        raise ValueError(f"unknown model kind {name!r}; registered kinds: {', '.join(sorted(_KINDS)) or 'none'}")
    return _KINDS[name]


def names() -> list[str]:
    """Names of the registered kinds."""
    return sorted(_KINDS)


def unregister(name: str) -> None:
    """Remove a kind (tests that register a temporary one clean up with this)."""
    _KINDS.pop(name, None)


def build(kind: str, config) -> dict[str, nn.Module]:
    """Fresh parts of ``kind`` from a config object or its dict (as stored in checkpoints)."""
    return get(kind).new(config)


def sampler_of(kind: str, models: Mapping[str, nn.Module], ema: nn.Module | None = None) -> nn.Module:
    """The module to draw samples from: the EMA copy when there is one, else the kind's sampler part."""
    spec = get(kind)
    if spec.sampler is None:
        raise ValueError(f"models of kind {kind!r} do not generate samples")
    return ema if ema is not None and spec.ema_of == spec.sampler else models[spec.sampler]


__all__ = ["ModelKind", "register", "get", "names", "unregister", "build", "sampler_of"]
