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


def launched_by_torchrun() -> bool:
    """True inside a process started by ``torchrun`` with more than one process (``WORLD_SIZE`` > 1)."""
    return int(os.environ.get("WORLD_SIZE", "1") or 1) > 1


def local_rank() -> int:
    """This process's index on its machine under ``torchrun`` (``LOCAL_RANK``); 0 otherwise."""
    return int(os.environ.get("LOCAL_RANK", "0") or 0)


def device(prefer: str | None = None) -> torch.device:
    """Best available device: CUDA > Apple MPS > CPU.

    ``prefer`` (or the ``AIGC_DEVICE`` environment variable) forces one, e.g. ``"cpu"``. Under
    ``torchrun`` a plain CUDA choice means this process's own GPU, ``cuda:LOCAL_RANK``, which is also
    made the current device (so nothing lands on ``cuda:0`` by accident).
    """
    name = prefer or os.environ.get("AIGC_DEVICE")
    where = "device=" if prefer else "AIGC_DEVICE="
    if name:
        try:
            dev = torch.device(name)
        except (RuntimeError, TypeError) as err:
            raise ValueError(f"{where}{name!r} is not a device name ({err}); use 'cpu', 'cuda', 'cuda:1' or 'mps'") from None
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"{where}{name!r} asks for CUDA, but CUDA is not available here; "
                             "unset AIGC_DEVICE or use 'cpu'.")
        if dev.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise ValueError(f"{where}{name!r} asks for Apple MPS, which is not available here; use 'cpu'.")
        if dev.type not in ("cpu", "cuda", "mps"):
            raise ValueError(f"{where}{name!r}: the course runs on 'cpu', 'cuda' or 'mps'")
        if dev.type == "cuda" and dev.index is None and launched_by_torchrun():
            dev = torch.device("cuda", local_rank())
        if dev.type == "cuda" and dev.index is not None:
            torch.cuda.set_device(dev)
        return dev
    if torch.cuda.is_available():
        if launched_by_torchrun():
            dev = torch.device("cuda", local_rank())
            torch.cuda.set_device(dev)
            return dev
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


def cuda_bf16_supported(dev: torch.device | str | None = None) -> bool:
    """True when the GPU computes in bf16 natively (Ampere and newer); emulation on older GPUs
    (T4, V100) is slower than fp16, so it does not count."""
    if not torch.cuda.is_available():
        return False
    major, _ = torch.cuda.get_device_capability(dev)
    return major >= 8 and torch.cuda.is_bf16_supported(including_emulation=False)


def amp_dtype(dev: torch.device | str, requested: bool | None = None) -> torch.dtype | None:
    """The autocast dtype for ``dev``, or None (fp32). ``requested`` is ``TrainConfig.amp``:
    None = automatic (on CUDA: bf16 where the GPU has it, else fp16, which the trainer pairs with a
    ``GradScaler``; CPUs: fp32), True = also bf16 on CPUs with native bf16, False = fp32 everywhere."""
    dev = torch.device(dev)
    if requested is False:
        return None
    if dev.type == "cuda":
        return torch.bfloat16 if cuda_bf16_supported(dev) else torch.float16
    if requested and dev.type == "cpu" and cpu_bf16_supported():
        return torch.bfloat16
    return None


_WARNED_NO_BF16: set[str] = set()  # device types already warned about (the warning comes once)


@contextlib.contextmanager
def autocast(dev: torch.device | str, enabled: bool | None = None) -> Iterator[None]:
    """Autocast as :func:`amp_dtype` decides: ``enabled=None`` on CUDA only (bf16, or fp16 on GPUs without
    bf16); ``enabled=True`` also on CPUs with native bf16 (elsewhere fp32, with a one-time warning);
    ``enabled=False`` never."""
    dev = torch.device(dev)
    dtype = amp_dtype(dev, enabled)
    if dtype is None:
        if enabled and dev.type not in _WARNED_NO_BF16:
            _WARNED_NO_BF16.add(dev.type)
            warnings.warn(f"amp=True asked for bf16 autocast, but this {dev.type} has no native bf16 support "
                          "here; training continues in fp32 (set amp=False to silence this)", stacklevel=3)
        yield
        return
    with torch.autocast(device_type=dev.type, dtype=dtype):
        yield


def set_threads(n: int | None = None) -> int:
    """Set torch's intra-op threads (default: ``AIGC_THREADS`` or all cores); return the number."""
    if n is None:
        raw = os.environ.get("AIGC_THREADS", "").strip()
        try:
            n = int(raw) if raw else (os.cpu_count() or 1)
        except ValueError:
            n = 0
        if n < 1:
            raise ValueError(f"AIGC_THREADS={raw!r} must be a whole number of threads >= 1 (or unset it to use "
                             f"all {os.cpu_count()} cores)")
    elif isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"threads must be a whole number >= 1, got {n!r}")
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
