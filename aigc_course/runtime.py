"""Where and how code runs: device, seeds, profile, mixed precision, threads.

Introduced in 4.1 (and used by every notebook's first cell).
"""
from __future__ import annotations

import contextlib
import os
import random
import warnings
from typing import Iterator

import numpy as np
import torch

PROFILES = ("quick", "full")


def device(prefer: str | None = None) -> torch.device:
    """Best available device: CUDA > Apple MPS > CPU.

    ``prefer`` (or the ``AIGC_DEVICE`` environment variable) forces one, e.g. ``"cpu"``.
    """
    name = prefer or os.environ.get("AIGC_DEVICE")
    if name:
        dev = torch.device(name)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(
                f"device {name!r} was asked for but CUDA is not available here; "
                "unset AIGC_DEVICE or use 'cpu'."
            )
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def profile() -> str:
    """``"quick"`` or ``"full"``: env ``AIGC_PROFILE`` wins, else ``full`` with CUDA, else ``quick``.

    A profile changes sizes (steps, samples, batch), never the code path.
    """
    value = os.environ.get("AIGC_PROFILE", "").strip().lower()
    if value:
        if value not in PROFILES:
            raise ValueError(
                f"AIGC_PROFILE={value!r} is not a profile; use one of {PROFILES} "
                "(or unset it to choose automatically)."
            )
        return value
    return "full" if torch.cuda.is_available() else "quick"


def set_seed(seed: int = 0) -> torch.Generator:
    """Seed Python, NumPy and torch (all devices); return a CPU ``torch.Generator`` seeded too."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def cpu_bf16_supported() -> bool:
    """True when this CPU has native bf16 instructions (AVX512-BF16 or AMX) that oneDNN uses."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a torch build without oneDNN
        return False


def amp_dtype(dev: torch.device | str, requested: bool | None = None) -> torch.dtype | None:
    """The autocast dtype for ``dev``, or None (fp32). ``requested`` is ``TrainConfig.amp``:
    None = automatic (bf16 on CUDA only), True = bf16 on CUDA and on CPUs with native bf16, False = off."""
    dev_type = torch.device(dev).type
    if requested is False:
        return None
    if dev_type == "cuda" or (requested and dev_type == "cpu" and cpu_bf16_supported()):
        return torch.bfloat16
    return None


_WARNED_NO_BF16: set[str] = set()  # device types already warned about (the warning comes once)


@contextlib.contextmanager
def autocast(dev: torch.device | str, enabled: bool | None = None) -> Iterator[None]:
    """bf16 autocast as :func:`amp_dtype` decides: ``enabled=None`` on CUDA only; ``enabled=True`` on CUDA
    and on CPUs with native bf16 (elsewhere fp32, with a one-time warning); ``enabled=False`` never."""
    dev = torch.device(dev)
    dtype = amp_dtype(dev, enabled)
    if dtype is None:
        if enabled and dev.type not in _WARNED_NO_BF16:
            _WARNED_NO_BF16.add(dev.type)
            warnings.warn(f"amp=True asked for bf16 autocast, but {dev.type} has no native bf16 support "
                          "here; training continues in fp32 (set amp=False to silence this)", stacklevel=3)
        yield
        return
    with torch.autocast(device_type=dev.type, dtype=dtype):
        yield


def set_threads(n: int | None = None) -> int:
    """Set torch's intra-op threads (default: ``AIGC_THREADS`` or all cores); return the number."""
    n = n or int(os.environ.get("AIGC_THREADS", "0")) or (os.cpu_count() or 1)
    torch.set_num_threads(n)
    return n


def describe(dev: torch.device | None = None) -> str:
    """One line for a notebook's first cell: torch version, device, profile, threads."""
    dev = dev or device()
    extra = f" ({torch.cuda.get_device_name(dev)})" if dev.type == "cuda" else ""
    return (
        f"torch {torch.__version__} | device {dev}{extra} | profile {profile()} | "
        f"threads {torch.get_num_threads()}"
    )
