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
        except (RuntimeError, TypeError):
            raise ValueError(f"{where}{name!r} is not a device name; use 'cpu', 'cuda', 'cuda:1' or 'mps'") from None
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
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**63:
        raise ValueError(f"seed must be a whole number in [0, 2**63), got {seed!r}")
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
    None = what the hardware does natively (CUDA: bf16 where the GPU has it, else fp16, which the
    trainer pairs with a ``GradScaler``; CPUs: bf16 only with native bf16 instructions, else fp32),
    True = the same, with a warning where it means fp32, False = fp32 everywhere."""
    dev = torch.device(dev)
    if requested is False:
        return None
    if dev.type == "cuda":
        return torch.bfloat16 if cuda_bf16_supported(dev) else torch.float16
    if dev.type == "cpu" and cpu_bf16_supported():
        return torch.bfloat16
    return None


def fast_path(dev: torch.device | str, amp: bool | None = None, channels_last: bool | None = None,
              compile: bool = False) -> dict:
    """The speed settings the trainer uses on ``dev``, each with the reason: mixed precision where the
    hardware computes it natively, channels_last for convolutions (oneDNN on CPUs, tensor cores on GPUs),
    ``torch.compile`` only when asked. None means "decide from the hardware" (``TrainConfig`` defaults).
    None of these changes the algorithm: bf16/fp16 change the rounding, channels_last the memory layout."""
    dev = torch.device(dev)
    dtype = amp_dtype(dev, amp)
    if amp is False:
        amp_reason = "off (amp=False)"
    elif dev.type == "cuda":
        amp_reason = ("bf16: this GPU computes bf16 natively" if dtype == torch.bfloat16
                      else "fp16 with loss scaling: this GPU has no native bf16")
    elif dtype is not None:
        amp_reason = "bf16: this CPU has native bf16 instructions (AVX512-BF16/AMX)"
    else:
        amp_reason = "fp32: this CPU has no native bf16 (emulated bf16 is slower than fp32)"
    if channels_last is None:
        channels_last = dev.type in ("cuda", "cpu")
        cl_reason = (f"on: faster convolutions on {dev.type} (the benchmark measures it)" if channels_last
                     else f"off: not measured on {dev.type}")
    else:
        cl_reason = f"{'on' if channels_last else 'off'} (as asked)"
    return {"amp": {torch.bfloat16: "bf16", torch.float16: "fp16", None: "fp32"}[dtype], "amp_reason": amp_reason,
            "channels_last": bool(channels_last), "channels_last_reason": cl_reason,
            "compile": bool(compile), "compile_reason": "on (as asked)" if compile else
            "off: opt in with compile=True (long runs on a GPU gain; compiling takes tens of seconds)"}


_WARNED_NO_BF16: set[str] = set()  # device types already warned about (the warning comes once)


@contextlib.contextmanager
def autocast(dev: torch.device | str, enabled: bool | None = None) -> Iterator[None]:
    """Autocast as :func:`amp_dtype` decides: ``enabled=None`` or ``True``: bf16 where the hardware has it
    natively (fp16 on CUDA GPUs without bf16), else fp32 (``True`` then warns once); ``False``: never."""
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


def max_threads() -> int:
    """The most intra-op threads :func:`set_threads` accepts: 4 per core (far more only slows things down,
    and tens of thousands crash PyTorch's thread pool)."""
    return 4 * (os.cpu_count() or 1)


def set_threads(n: int | None = None) -> int:
    """Set torch's intra-op threads (default: ``AIGC_THREADS`` or all cores); return the number.
    At most :func:`max_threads` (4 per core)."""
    cores, top = os.cpu_count(), max_threads()
    if n is None:
        raw = os.environ.get("AIGC_THREADS", "").strip()
        try:
            n = int(raw) if raw else (cores or 1)
        except ValueError:
            n = 0
        if n < 1:
            raise ValueError(f"AIGC_THREADS={raw!r} must be a whole number of threads >= 1 (or unset it to use "
                             f"all {cores} cores)")
        if n > top:
            raise ValueError(f"AIGC_THREADS={raw!r} is more than {top} threads (4 per core; this machine has {cores} "
                             f"cores); use at most {top}, or unset it to use all {cores} cores")
    elif isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"threads must be a whole number >= 1, got {n!r}")
    elif n > top:
        raise ValueError(f"threads={n} is more than {top} (4 per core; this machine has {cores} cores)")
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
