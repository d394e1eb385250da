"""One trainer for every model kind: History, callbacks, checkpoints, resume, NaN guard, progress, DDP.

:class:`Trainer` is the public loop. ``Trainer.steps()`` is a generator: each ``next`` runs one
optimiser step and yields its losses (a dict of detached tensors on the device), so a notebook, the
benchmark or a test can drive training one step at a time; ``Trainer.run()`` runs all ``cfg.steps``.
A model kind contributes only ``train_step`` (one step of its algorithm) and its optimisers, in a
subclass registered with :func:`register_trainer`: :class:`GANTrainer` is Algorithm 1 of Goodfellow et
al. 2014 with any :class:`~aigc_course.losses.GANLoss`; :class:`VAETrainer` one step on the negative
ELBO. Everything else is plumbing every real run needs:

* **speed**: autocast on CUDA (bf16 where the GPU has it, else fp16 with a ``GradScaler``; bf16 on CPUs
  with native bf16 when ``amp=True``), ``channels_last``, ``torch.compile``, fused Adam, data already
  on the device, losses read back to the host only every ``log_every`` steps, and (opt-in,
  ``reuse_fakes=True``) one G forward per step;
* **safety**: a NaN/Inf guard that stops with :class:`~aigc_course.errors.TrainingDiverged` and keeps
  the last good checkpoint; atomic checkpoints (see ``checkpoint``);
* **reproducibility**: noise from a trainer-owned ``torch.Generator``; checkpoints hold models,
  optimisers, EMA, History, every RNG state and the loader's position, so N steps in one go equal
  N/2 steps + resume + N/2 steps bit for bit (on the CPU);
* **scale**: under ``torchrun`` each process uses its own device (``cuda:LOCAL_RANK``), the models are
  wrapped in ``DistributedDataParallel``, the data is sharded by rank, ranks that were set up
  differently stop at once with a clear error, and only rank 0 shows progress, runs callbacks and
  writes checkpoints.

Introduced in 4.2 (the loop, History, callbacks), 4.3 (n_critic, WGAN-GP), 4.6 (speed, resume, DDP).
"""
from __future__ import annotations

import copy
import math
import os
import random
import shlex
import shutil
import signal
import socket
import threading
import uuid
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from . import kinds, losses, runtime
from . import diffusion as _diffusion_kind  # noqa: F401 (registers the diffusion kind of DiffusionTrainer)
from . import text as _text_kind  # noqa: F401 (registers the charlm kind that LMTrainer trains)
from .checkpoint import (CHECKPOINT_SUBDIR, check_checkpoint_target, checkpoint_side_folders, find_checkpoint,
                         foreign_files, load_checkpoint, read_state, require, save_checkpoint)
from .config import TrainConfig
from .data import TensorLoader
from .errors import CheckpointError, CourseError, Interrupted, TrainingDiverged
from .nn import batchnorm_layers, eval_mode, recalibrate_batchnorm
from .plotting import make_grid


# --- History ---------------------------------------------------------------------------------

class History:
    """Scalar logs of a run: ``name -> [(step, value), ...]``. Introduced in 4.2.

    The trainer records, every ``log_every`` steps, the mean of each loss over the steps since the
    previous record (less noisy than a single step's value).
    """

    def __init__(self, logs: dict[str, list[tuple[int, float]]] | None = None):
        self.logs: dict[str, list[tuple[int, float]]] = {k: [(int(s), float(v)) for s, v in pts]
                                                         for k, pts in (logs or {}).items()}

    def log(self, step: int, **values: float) -> None:
        """Append ``(step, value)`` for each named value."""
        for name, value in values.items():
            self.logs.setdefault(name, []).append((int(step), float(value)))

    def names(self) -> list[str]:
        """The recorded names, in first-logged order."""
        return list(self.logs)

    def _points(self, name: str) -> list[tuple[int, float]]:
        if name not in self.logs:
            raise KeyError(f"History has no {name!r}; it has {self.names()}")
        return self.logs[name]

    def as_arrays(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(steps, values)`` as numpy arrays, ready for ``plt.plot(*history.as_arrays("g_loss"))``."""
        pts = self._points(name)
        return np.array([s for s, _ in pts], dtype=np.int64), np.array([v for _, v in pts], dtype=np.float64)

    def last(self, name: str) -> float:
        """The latest recorded value of ``name``."""
        pts = self._points(name)
        if not pts:
            raise KeyError(f"History has no values for {name!r} yet")
        return pts[-1][1]

    def to_dict(self) -> dict:
        return {"logs": {k: [[s, v] for s, v in pts] for k, pts in self.logs.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> "History":
        return cls(data["logs"])

    def __contains__(self, name: str) -> bool:
        return name in self.logs

    def __repr__(self) -> str:
        latest = ", ".join(f"{k}={v[-1][1]:.4g}" for k, v in self.logs.items() if v)
        return f"History({latest})"


# --- what training returns and what callbacks see -----------------------------------------


@dataclass
class TrainResult:
    """What ``Trainer.run``, ``train_gan`` and ``train_vae`` return. Introduced in 4.2."""

    history: History
    steps: int                       # steps done in total (including those before a resume)
    wall_time: float                 # seconds spent training in this process (resumed runs: this part)
    images_per_s: float              # real images seen per second in this call (all processes)
    models: dict[str, nn.Module]     # the trained modules by part name ("generator"/"discriminator", "model")
    ema: nn.Module | None = None     # EMA copy of the kind's ema_of part (the GAN generator) when cfg.ema > 0
    checkpoint: Path | None = None   # the last checkpoint written (None without out_dir)
    kind: str = ""                   # the model kind ("gan", "vae", ...)
    settings: dict | None = None     # the speed settings used (runtime.fast_path): precision, memory format

    @property
    def sampler(self) -> nn.Module:
        """The module to draw samples from: the EMA generator if any, else the kind's sampler part."""
        return kinds.sampler_of(self.kind, self.models, self.ema)


@dataclass
class TrainState:
    """The trainer's state as callbacks see it: ``cb(step, state)``. Introduced in 4.2."""

    kind: str                        # the model kind, e.g. "gan" or "vae"
    step: int
    cfg: TrainConfig
    models: dict[str, nn.Module]
    history: History
    device: torch.device
    out_dir: Path | None = None
    ema: nn.Module | None = None

    @property
    def sampler(self) -> nn.Module:
        """The module to draw samples from: the EMA generator if any, else G (or the VAE)."""
        return kinds.sampler_of(self.kind, self.models, self.ema)


class SampleGrid:
    """Callback: ``n`` samples from the same noise every ``cfg.sample_every`` steps, kept as frames for a GIF.

    Calls ``state.sampler.sample(n, generator=...)`` with a CPU generator seeded afresh each time (so the
    noise, and the labels of a conditional model, are the same at every step; it never changes the
    training run), in eval mode without gradients. Images give uint8 grids ((H, W) grey or (H, W, 3));
    vectors (e.g. 2-D points) give the (n, D) samples. Conditional generators show one class per column.
    ``frames[i]`` was drawn at ``steps[i]``. Introduced in 2.3.
    """

    def __init__(self, n: int = 64, nrow: int | None = None, seed: int = 0):
        self.n, self.nrow, self.seed = n, nrow, seed
        self.frames: list[np.ndarray] = []
        self.steps: list[int] = []

    @torch.no_grad()
    def __call__(self, step: int, state: TrainState) -> None:
        model = state.sampler
        with eval_mode(model):
            x = model.sample(self.n, generator=torch.Generator().manual_seed(self.seed)).float().cpu()
        n_classes = getattr(model, "n_classes", 0)
        self.frames.append(make_grid(x, nrow=self.nrow or n_classes or None) if x.dim() == 4 else x.numpy())
        self.steps.append(step)


# --- helpers ------------------------------------------------------------------------------

def _start_distributed(models: dict[str, nn.Module]) -> tuple[int, int, torch.device]:
    """``(rank, world_size, device)``. Under ``torchrun`` (WORLD_SIZE > 1): pick this process's device
    first (``cuda:LOCAL_RANK``, made current), then start the process group (NCCL on CUDA, Gloo on the
    CPU) and move the models there; a model left on another GPU would silently share it."""
    dev = next(next(iter(models.values())).parameters()).device
    if not runtime.launched_by_torchrun() and not dist.is_initialized():
        return 0, 1, dev
    if dev.type == "cuda":
        dev = torch.device("cuda", runtime.local_rank())
        torch.cuda.set_device(dev)
        for m in models.values():
            m.to(dev)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo",
                                device_id=dev if dev.type == "cuda" else None)
    return dist.get_rank(), dist.get_world_size(), dev


def _as_loader(loader, cfg: TrainConfig, dev: torch.device, rank: int, world: int) -> TensorLoader:
    """A TensorLoader for this process: plain tensors (e.g. toy 2-D data) are wrapped; under DDP each
    rank gets its own shard of every epoch."""
    if isinstance(loader, torch.Tensor):
        return TensorLoader(loader, batch_size=cfg.batch_size, seed=cfg.seed, device=dev, rank=rank, world_size=world)
    if not isinstance(loader, TensorLoader):
        raise TypeError(f"the trainer takes a data.TensorLoader or a tensor of samples, got {type(loader).__name__}")
    if loader.batch_size != cfg.batch_size:
        raise ValueError(f"the loader yields batches of {loader.batch_size} but cfg.batch_size={cfg.batch_size}; "
                         "make them equal, e.g. TensorLoader(..., batch_size=cfg.batch_size)")
    if world > 1 and (loader.world_size, loader.rank) != (world, rank):
        return TensorLoader(loader.images, loader.labels, batch_size=loader.batch_size, shuffle=loader.shuffle,
                            seed=loader.seed, device=dev, drop_last=loader.drop_last, scale=loader.scale,
                            rank=rank, world_size=world, binarize=loader.binarize)
    return loader


def _adam(params: Iterable[nn.Parameter], lr: float, betas: tuple, dev: torch.device) -> torch.optim.Adam:
    """Adam with the fastest implementation for the device (fused kernels on CUDA)."""
    impl = {"fused": True} if dev.type == "cuda" else {"foreach": True}
    return torch.optim.Adam(params, lr=lr, betas=betas, **impl)


def _device_name(dev: torch.device, world: int) -> str:
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"cpu, {torch.get_num_threads()} threads"
    return f"{dev.type} ({name})" + (f" x {world} processes" if world > 1 else "")


def _rng_state(noise: torch.Generator) -> dict:
    return {
        "noise": noise.get_state(),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "python": random.getstate(),
        "numpy": np.random.get_state(),
    }


def _set_rng_state(state: dict, noise: torch.Generator) -> None:
    noise.set_state(state["noise"])
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])


BN_RECALIBRATION_BATCHES = 40  # batches that re-estimate the EMA generator's BN statistics at the end


@torch.no_grad()
def _update_ema(ema: nn.Module, model: nn.Module, decay: float) -> None:
    """ema <- decay * ema + (1 - decay) * model for parameters; buffers (BN statistics) copied: they belong
    to ``model``'s weights, so a GAN's EMA copy gets its own at the end (``GANTrainer._finish_weights``)."""
    torch._foreach_lerp_(list(ema.parameters()), list(model.parameters()), 1.0 - decay)
    for b_ema, b in zip(ema.buffers(), model.buffers()):
        b_ema.copy_(b)


_ADVICE = ("Try a lower learning rate (e.g. half of lr/lr_d), a more stable loss (loss='hinge', or "
           "'wgan-gp' with its gradient penalty), gradient clipping (grad_clip=1.0), or amp=False.")


_STOP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))


class _Interrupt:
    """While training with an ``out_dir`` in the main thread, the first Ctrl-C (SIGINT), SIGTERM (``kill``,
    ``timeout``, ``docker stop``, a job scheduler) or SIGHUP (a closed terminal) only asks the loop to stop
    after the current step, so that a consistent checkpoint is written; a second one stops at once, saying
    what was saved. A signal that was ignored when training started (``nohup`` ignores SIGHUP) stays ignored."""

    def __init__(self, enabled: bool, last_saved: Callable[[], str] = lambda: "the start"):
        self.requested, self.signum, self._previous = False, None, {}
        self._last_saved = last_saved
        if enabled and threading.current_thread() is threading.main_thread():
            for sig in _STOP_SIGNALS:
                if sig != signal.SIGINT and signal.getsignal(sig) is signal.SIG_IGN:
                    continue
                try:
                    self._previous[sig] = signal.signal(sig, self._handle)
                except (OSError, ValueError):  # pragma: no cover - a platform without this signal
                    pass

    def _handle(self, signum, frame):
        if self.requested:  # a second signal: stop at once (the default behaviour of Ctrl-C)
            raise Interrupted(f"stopped at once by a second {signal.Signals(signum).name}: nothing was saved since "
                              f"{self._last_saved()}", signum)
        self.requested, self.signum = True, signum

    def restore(self) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous if previous is not None else signal.SIG_DFL)
        self._previous = {}


LOCK_INFO = ".aigc-train.lock"  # in a run's output folder while a training writes there: its pid and host


class _OutLock:
    """An exclusive advisory lock (``flock``) on a run's output folder itself, held by the training that writes
    there: a second training with the same ``--out`` is refused, naming the first (its pid and host are in
    ``<out_dir>/.aigc-train.lock`` while it runs; the file is removed when it ends). The kernel drops the lock
    when the process ends, however it ends: there are no stale locks."""

    def __init__(self, folder: Path):
        self.folder, self.info, self._fd = folder, folder / LOCK_INFO, None

    def holder(self) -> str:
        try:
            return self.info.read_text(errors="replace").strip()[:200]
        except OSError:
            return ""

    def acquire(self) -> None:
        if self._fd is not None:
            return
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no advisory locks
            return
        fd = os.open(self.folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        for attempt in (1, 2):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = self.holder()
                if attempt == 1 and holder.startswith(f"pid {os.getpid()} "):
                    import gc

                    gc.collect()  # a Trainer of this process that is no longer used may still hold it
                    continue
                os.close(fd)
                raise CheckpointError(f"another training ({holder or 'another process'}) is writing to {self.folder}; "
                                      "wait for it to finish, or choose another --out") from None
            except OSError as err:  # a file system without locks (some network mounts): go on without one
                os.close(fd)
                warnings.warn(f"cannot lock {self.folder} ({err.strerror or err}); make sure no other training writes "
                              "there at the same time")
                return
        self._fd = fd
        try:
            self.info.write_text(f"pid {os.getpid()} on {socket.gethostname()}\n")
        except OSError:
            pass  # the lock holds without it; a refusal then names no pid

    def release(self) -> None:
        if self._fd is not None:
            try:
                self.info.unlink(missing_ok=True)
            except OSError:
                pass
            os.close(self._fd)  # closing drops the lock
            self._fd = None

    def __del__(self):
        self.release()


def _run_id_of(folder: Path) -> str | None:
    """The ``run_id`` recorded in the checkpoint ``folder`` (None: no checkpoint there; ``"(none)"``: one
    written before run ids were recorded; ``"(unreadable)"``: a damaged one)."""
    if not (folder / "state.json").is_file():
        return None
    try:
        return str(read_state(folder).get("state", {}).get("run_id") or "(none)")
    except CheckpointError:
        return "(unreadable)"


def _plain(value):
    """Lists and tuples alike (JSON has only lists), for comparing configs."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class _Step:
    """One optimiser with its mixed-precision scaler (fp16 only) and gradient clipping."""

    def __init__(self, opt: torch.optim.Optimizer, params: list[nn.Parameter], grad_clip: float, fp16: bool):
        self.opt, self.params, self.grad_clip = opt, params, grad_clip
        self.scaler = torch.amp.GradScaler("cuda") if fp16 else None

    def __call__(self, loss: torch.Tensor) -> None:
        self.opt.zero_grad(set_to_none=True)
        if self.scaler is None:
            loss.backward()
            if self.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(self.params, self.grad_clip)
            self.opt.step()
            return
        self.scaler.scale(loss).backward()
        if self.grad_clip > 0:
            self.scaler.unscale_(self.opt)
            torch.nn.utils.clip_grad_norm_(self.params, self.grad_clip)
        self.scaler.step(self.opt)
        self.scaler.update()


# --- the trainer --------------------------------------------------------------------------

class Trainer:
    """The training loop shared by every model kind.

    ``models`` maps the kind's part names to modules (``kinds.get(kind).parts``), on the device to
    train on; ``loader`` is a ``data.TensorLoader`` (or a tensor of samples, e.g. toy 2-D data).
    ``callbacks`` are called ``cb(step, state)`` at step 0 (when ``cfg.sample_every``), every
    ``cfg.sample_every`` steps and at the end (rank 0 only). With ``out_dir`` a checkpoint is written
    to ``out_dir/checkpoint`` every ``cfg.ckpt_every`` steps and at the end; ``resume`` continues from
    a checkpoint (or run) folder. ``meta`` (e.g. the recipe name) is stored in checkpoints.

    Subclasses (one per kind, see :func:`register_trainer`) set ``kind``, create their optimisers in
    ``__init__`` (``self.optimizers``, by name, for checkpoints) and define :meth:`train_step`.
    Introduced in 4.2.
    """

    kind = ""
    images_per_step = 1  # real batches consumed per step

    def __init__(self, models: dict[str, nn.Module], loader, cfg: TrainConfig, *, callbacks: Iterable[Callable] = (),
                 out_dir: str | Path | None = None, resume: str | Path | None = None, progress: bool = True,
                 meta: dict | None = None, overwrite: bool = False):
        spec = kinds.get(self.kind)
        if tuple(models) != spec.parts:
            raise ValueError(f"{type(self).__name__} trains a {self.kind!r} model with parts {spec.parts}; "
                             f"got {tuple(models)}")
        self.cfg, self.models, self.meta = cfg, dict(models), dict(meta or {})
        self.rank, self.world, self.dev = _start_distributed(self.models)
        self.loader = _as_loader(loader, cfg, self.dev, self.rank, self.world)
        # speed settings from what the hardware has, never a change of algorithm; printed and checkpointed
        self.settings = runtime.fast_path(self.dev, cfg.amp, cfg.channels_last, cfg.compile)
        self.channels_last = self.settings["channels_last"]
        if self.channels_last:
            for m in self.models.values():
                m.to(memory_format=torch.channels_last)
        self.amp = runtime.amp_dtype(self.dev, cfg.amp)
        self.callbacks = list(callbacks)
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.run_id = uuid.uuid4().hex    # stored in checkpoints: a save never replaces another run's checkpoint
        self._replaceable: set[str | None] = {None}  # run ids this trainer may replace in out_dir/checkpoint
        self._lock: _OutLock | None = None
        self._check_out_dir(resume, overwrite)
        self.progress = progress and self.rank == 0
        # Noise comes from our own generator (one stream per rank), never from the global RNG.
        self.noise = torch.Generator(device=self.dev).manual_seed(cfg.seed + 1_000_003 * self.rank)
        self.history = History()
        self.step, self.wall_before, self.wall = 0, 0.0, 0.0
        self.ema: nn.Module | None = None
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.last_checkpoint: Path | None = None
        self._saved_step = 0                     # the step of last_checkpoint
        self._pending: list[torch.Tensor] = []  # loss vectors not yet read back to the host
        self._pending_start = 1                  # the step of _pending[0]
        self._resume_from = resume
        self._started = False
        self._images = 0                         # real images seen by this process in this run
        self._lrs: dict[str, float] = {}         # each optimiser's learning rate from cfg
        self._last_names: list[str] = []         # the loss names of the last step
        self.resume_changes: dict[str, tuple] = {}  # train-config fields that differ from the resumed run
        self._check_ranks_agree()

    # set-up -----------------------------------------------------------------------------
    def _check_ranks_agree(self) -> None:
        """Under DDP every rank must run the same collectives: stop now, naming what differs, rather
        than hang later (e.g. one rank with callbacks or out_dir and another without)."""
        if self.world == 1:
            return
        mine = {"trainer": type(self).__name__, "train_config": self.cfg.to_dict(),
                "parameters": {k: sum(p.numel() for p in m.parameters()) for k, m in self.models.items()},
                "callbacks": len(self.callbacks), "out_dir given": self.out_dir is not None,
                "resume given": self._resume_from is not None, "batches per epoch": len(self.loader)}
        everyone = self._gather(mine)
        differ = sorted({k for other in everyone for k in mine if other[k] != mine[k]})
        if differ:
            details = "; ".join(f"{k}: " + ", ".join(f"rank {r} {o[k]!r}" for r, o in enumerate(everyone))
                                for k in differ)
            raise CourseError(f"the {self.world} processes were set up differently ({details}); give every "
                              "rank the same config, callbacks and out_dir/resume (only rank 0 writes)")

    def _check_out_dir(self, resume, overwrite: bool) -> None:
        """Refuse, before any work, an output folder that cannot be written, that another training is writing
        to (a lock), that holds another run's checkpoint (unless that is the one being resumed, or
        ``overwrite=True``), or whose checkpoint folders hold files that are not part of a checkpoint."""
        if self.out_dir is None or self.rank != 0:
            return
        if self.out_dir.exists() and not self.out_dir.is_dir():
            raise CheckpointError(f"the output folder {self.out_dir} is a file; choose another folder (--out)")
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            probe = self.out_dir / f".write-test-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
            self._lock = _OutLock(self.out_dir)
            self._lock.acquire()  # refused now if another training writes there; held again while steps() runs
        except OSError as err:
            raise CheckpointError(f"cannot write to the output folder {self.out_dir} ({err.strerror or err}); "
                                  "choose a writable folder (--out) before training, so no work is lost") from None
        try:
            existing = self.out_dir / CHECKPOINT_SUBDIR
            self._remove_stale_temp_folders(existing)
            check_checkpoint_target(existing)
            current = _run_id_of(existing)
            if current is not None:
                resumed = find_checkpoint(resume).resolve() if resume is not None else None
                if resumed != existing.resolve() and not overwrite:
                    raise CheckpointError(
                        f"{existing} already holds a checkpoint of another run; continue it with --resume "
                        f"{shlex.quote(str(existing))}, replace it with --overwrite (overwrite=True), or choose another "
                        "--out")
                self._replaceable.add(current)
        finally:
            self._lock.release()

    @staticmethod
    def _remove_stale_temp_folders(final: Path) -> None:
        """Remove ``<checkpoint>.tmp-<pid>-<random>`` folders left by a save that crashed (its process is gone),
        when they hold only checkpoint files; anything else beside the checkpoint is left alone."""
        for side in checkpoint_side_folders(final):
            parts = side.name[len(final.name) + len(".tmp-"):].split("-")
            if not side.name.startswith(final.name + ".tmp-") or not parts[0].isdigit() or side.is_symlink():
                continue
            try:
                os.kill(int(parts[0]), 0)
                continue  # that writer is still running
            except ProcessLookupError:
                pass
            except OSError:
                continue
            if side.is_dir() and not foreign_files(side):
                shutil.rmtree(side, ignore_errors=True)

    def _make_ema(self) -> None:
        """An EMA copy of the kind's ``ema_of`` part when ``cfg.ema`` > 0 (after DDP has synced weights)."""
        part = kinds.get(self.kind).ema_of
        if self.cfg.ema > 0 and part is not None:
            self.ema = copy.deepcopy(self.models[part]).eval().requires_grad_(False)

    def optimizer_step(self, name: str, params: Iterable[nn.Parameter], lr: float) -> _Step:
        """Create Adam for ``params`` (kept as ``self.optimizers[name]``) and return its step function."""
        params = list(params)
        opt = _adam(params, lr, self.cfg.betas, self.dev)
        self.optimizers[name] = opt
        self._lrs[name] = lr
        return _Step(opt, params, self.cfg.grad_clip, self.amp == torch.float16)

    def wrap(self, module: nn.Module, *, ddp: bool) -> Callable:
        """The callable used in training: DDP (when distributed and gradients must be averaged),
        then ``torch.compile`` (compile the DDP wrapper, so DDP's graph-break buckets apply).
        ``module`` itself stays unwrapped: its state_dict has the plain key names."""
        fn = module
        if ddp and self.world > 1:
            # broadcast_buffers=False: D runs several forwards per step; re-broadcasting BN statistics
            # in place between them breaks autograd ("modified by an inplace operation"). The ranks'
            # BN statistics are made equal (rank 0's) at the end of training instead.
            fn = DistributedDataParallel(module, device_ids=[self.dev.index] if self.dev.type == "cuda" else None,
                                         broadcast_buffers=False)
        return torch.compile(fn) if self.cfg.compile else fn

    def autocast(self):
        """The mixed-precision context of this run (see ``runtime.amp_dtype``)."""
        if self.amp is None:
            return runtime.autocast(self.dev, self.cfg.amp)  # fp32 (warns once if amp=True was not possible)
        return torch.autocast(device_type=self.dev.type, dtype=self.amp)

    def batch(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The next real batch (and labels, or None) on the device."""
        x, y = next(self._batches)
        x = x.to(self.dev, non_blocking=True)
        if self.channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        self._images += x.shape[0]
        return x, (y.to(self.dev, non_blocking=True) if y is not None else None)

    # state ------------------------------------------------------------------------------
    def _ckpt_models(self) -> dict[str, nn.Module]:
        return {**self.models, **({"ema": self.ema} if self.ema is not None else {})}

    def _gather(self, obj: Any) -> list:
        """``obj`` of every rank, in rank order (just ``[obj]`` without DDP)."""
        if self.world == 1:
            return [obj]
        out: list = [None] * self.world
        dist.all_gather_object(out, obj)
        return out

    def _resume(self) -> None:
        path = find_checkpoint(self._resume_from)
        saved = load_checkpoint(path)  # check it is ours before touching the models
        require(saved, path, "kind", "step", "wall_time", "history", "rng", "loader")
        kind = saved.get("kind")
        if kind != self.kind:
            raise CheckpointError(f"{path} holds a {kind} checkpoint; this is the {self.kind} trainer")
        mine, theirs = kinds.get(self.kind).model_config(self.models), saved.get("model_config")
        if isinstance(mine, dict) and isinstance(theirs, dict):
            differ = {k: (theirs[k], mine[k]) for k in mine if k in theirs and _plain(theirs[k]) != _plain(mine[k])}
            if differ:
                listing = ", ".join(f"{k} {a!r} there, {b!r} here" for k, (a, b) in differ.items())
                raise CheckpointError(f"{path / 'state.json'} records another model config ({listing}): resume with "
                                      "the model it was trained with, or start a new run")
        state = load_checkpoint(path, self._ckpt_models(), self.optimizers)
        try:
            self._restore(path, state)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as err:
            raise CheckpointError(f"{path / 'state.json'} does not hold a usable training state ({type(err).__name__}: "
                                  f"{err}); resume from another checkpoint") from None

    def _restore(self, path: Path, state: dict) -> None:
        self._apply_config_on_resume(path, state.get("train_config") or {})
        self.step, self.wall_before = int(state["step"]), float(state["wall_time"])
        self._pending_start = self.step + 1
        self.history = History.from_dict(state["history"])
        try:
            if len(state["rng"]) != self.world:
                raise ValueError(f"saved by {len(state['rng'])} process(es), resumed by {self.world}")
            _set_rng_state(state["rng"][self.rank], self.noise)
        except (ValueError, RuntimeError) as err:  # e.g. a CUDA generator's state on a CPU machine
            warnings.warn(f"could not restore the random number generators ({err}); training continues with "
                          "fresh noise, so it is not bit-identical to an uninterrupted run")
            self.noise.manual_seed(self.cfg.seed + 1_000_003 * self.rank + self.step)
        self.loader.load_state_dict(state["loader"])
        self.last_checkpoint, self._saved_step = path, self.step

    def _apply_config_on_resume(self, path: Path, saved: dict) -> None:
        """The new config wins over the checkpoint's: the optimisers get this run's learning rates and betas
        (their saved moments are kept), and every changed field is reported."""
        now = self.cfg.to_dict()
        self.resume_changes = {k: (saved[k], now[k]) for k in now if k in saved and
                               (tuple(saved[k]) if isinstance(saved[k], list) else saved[k]) != now[k]}
        for name, opt in self.optimizers.items():
            for group in opt.param_groups:
                group["lr"], group["betas"] = self._lrs[name], tuple(self.cfg.betas)
        changed = {k: v for k, v in self.resume_changes.items() if k != "steps"}
        if changed and self.rank == 0:
            listing = ", ".join(f"{k} {old!r} -> {new!r}" for k, (old, new) in changed.items())
            warnings.warn(f"resuming {path} with a changed training config: {listing} (learning rates and betas "
                          "are applied to the optimisers; the rest takes effect from now on)", stacklevel=4)

    def _nonfinite(self) -> list[str]:
        """Names of parameters or buffers that hold NaN/Inf (agreed across DDP ranks)."""
        bad = [f"{part}.{name}" for part, m in self._ckpt_models().items()
               for name, t in [*m.named_parameters(), *m.named_buffers()]
               if t.is_floating_point() and not bool(torch.isfinite(t).all())]
        if self.world > 1:
            flag = torch.tensor([len(bad)], device=self.dev if self.dev.type == "cuda" else "cpu")
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            if int(flag) and not bad:
                bad = ["(on another process)"]
        return bad

    def _check_weights(self) -> None:
        """Stop before a save (and at the end) if the weights are not finite: a NaN gradient can leave
        finite losses but NaN weights, and such a checkpoint must never be written."""
        bad = self._nonfinite()
        if bad:
            where = (f"the last good checkpoint is {self.last_checkpoint} (kept untouched)" if self.last_checkpoint
                     else "no checkpoint was written")
            raise TrainingDiverged(f"the weights hold NaN/Inf at step {self.step} ({', '.join(bad[:3])}"
                                   f"{', ...' if len(bad) > 3 else ''}), although the logged losses were finite "
                                   f"(a NaN gradient): nothing was saved; {where}. {_ADVICE}")

    def save(self) -> Path | None:
        """Write a checkpoint now (rank 0, with ``out_dir``); every rank must call it together."""
        self._check_weights()
        rng = self._gather(_rng_state(self.noise))  # every rank joins; rank 0 writes
        if self.rank != 0 or self.out_dir is None:
            return None
        state = {
            "kind": self.kind, "step": self.step, "history": self.history.to_dict(),
            "wall_time": self.wall_before + self.wall, "device": _device_name(self.dev, self.world),
            "model_config": kinds.get(self.kind).model_config(self.models), "train_config": self.cfg.to_dict(),
            "meta": self.meta, "rng": rng, "loader": self.loader.state_dict(), "settings": self.settings,
            "run_id": self.run_id,
        }
        target = self.out_dir / CHECKPOINT_SUBDIR
        current = _run_id_of(target)
        if current not in self._replaceable and current != self.run_id:
            # another run wrote there since this one started (a writer that took no lock): keep both
            aside = save_checkpoint(self.out_dir / f"{CHECKPOINT_SUBDIR}-{self.run_id[:8]}", models=self._ckpt_models(),
                                    optimizers=self.optimizers, state=state)
            self.last_checkpoint = aside
            raise CheckpointError(f"another run replaced {target} while this one trained, so this run's step {self.step} "
                                  f"was saved to {aside} instead (continue it with --resume {shlex.quote(str(aside))}); "
                                  f"{target} was left as the other run wrote it")
        self.last_checkpoint = save_checkpoint(target, models=self._ckpt_models(),
                                               optimizers=self.optimizers, state=state)
        self._saved_step = self.step
        return self.last_checkpoint

    # NaN guard + logging ----------------------------------------------------------------------
    def _check(self, names: list[str], log: bool, bar) -> None:
        """Read the pending losses back (one device sync), stop on NaN/Inf, record means in History."""
        values = torch.stack(self._pending).float().cpu()  # (steps, n_losses)
        bad = ~torch.isfinite(values)
        first_local = int(bad.any(dim=1).nonzero()[0, 0]) if bad.any() else len(values)
        first = first_local
        if self.world > 1:  # every rank must stop together, or the others would hang
            flag = torch.tensor([first_local], device=self.dev if self.dev.type == "cuda" else "cpu")
            dist.all_reduce(flag, op=dist.ReduceOp.MIN)
            first = int(flag)
        if first < len(values):
            self._diverged(self._pending_start + first, names, values, first_local)
        if log:
            means = values.mean(dim=0)
            self.history.log(self.step, **{n: float(v) for n, v in zip(names, means)})
            bar.set_postfix({n: f"{float(v):.3g}" for n, v in zip(names, means) if n in ("d_loss", "g_loss", "loss")})
            self._pending, self._pending_start = [], self.step + 1

    def _diverged(self, step: int, names: list[str], values: torch.Tensor, first_local: int) -> None:
        if first_local < len(values):
            row = values[first_local]
            what = ", ".join(f"{n} = {float(v)}" for n, v in zip(names, row) if not math.isfinite(v))
        else:
            what = "a loss on another process"
        where = (f"the last good checkpoint is {self.last_checkpoint} (kept untouched)" if self.last_checkpoint
                 else "no checkpoint was written before this (pass out_dir=... and ckpt_every=... to keep one)")
        raise TrainingDiverged(f"training diverged at step {step}: {what}. {where}. {_ADVICE}")

    # the loop ------------------------------------------------------------------------------
    def train_step(self) -> dict[str, torch.Tensor]:
        """One step of the kind's algorithm; returns its losses (scalar tensors), the same names each step."""
        raise NotImplementedError

    def _finish_weights(self) -> None:
        """Hook run once the last step is done, before the final save: a kind's last touch to its weights
        (the GAN trainer re-estimates its EMA generator's batch-norm statistics). Default: nothing."""

    def state(self) -> TrainState:
        """What callbacks see."""
        return TrainState(self.kind, self.step, self.cfg, self.models, self.history, self.dev, self.out_dir, self.ema)

    def _start(self) -> None:
        if self._resume_from is not None:
            self._resume()
        self._batches = self.loader.infinite()  # after the resume: continues where the loader stopped
        self._started = True
        if self.step == 0 and self.cfg.sample_every and self.rank == 0:
            for cb in self.callbacks:
                cb(0, self.state())

    def steps(self) -> Iterator[dict[str, torch.Tensor]]:
        """Train until ``cfg.steps``, yielding each step's losses (detached scalar tensors on the device;
        ``float(v)`` waits for the device). Stop early with ``break``; calling ``steps()`` again goes on
        from there. Checkpoints, callbacks, the NaN guard and History work as in :meth:`run`."""
        cfg = self.cfg
        if self._lock is not None:
            self._lock.acquire()  # held while training runs; released when steps() ends, however it ends
        if not self._started:
            try:
                self._start()
            except BaseException:
                if self._lock is not None:
                    self._lock.release()
                raise
            if self.progress:
                s = self.settings
                tqdm.write(f"train {self.kind} on {_device_name(self.dev, self.world)}: {s['amp']} "
                           f"({s['amp_reason']}), channels_last {'on' if s['channels_last'] else 'off'}, "
                           f"compile {'on' if s['compile'] else 'off'}")
        bar = tqdm(total=cfg.steps, initial=self.step, disable=not self.progress, desc=f"train {self.kind}")
        for m in self.models.values():
            m.train()
        t0 = time.perf_counter()
        interrupt = _Interrupt(enabled=self.out_dir is not None and self.world == 1, last_saved=self._last_saved)
        try:
            while self.step < cfg.steps:
                if interrupt.requested:  # a signal arrived during the last step: save it, then stop
                    self.wall += time.perf_counter() - t0
                    t0 = time.perf_counter()
                    if self._pending:
                        self._check(self._last_names, False, bar)
                    saved = self.save()
                    name = signal.Signals(interrupt.signum).name
                    what = "interrupted" if interrupt.signum == signal.SIGINT else f"stopped by {name}"
                    raise Interrupted(f"{what} at step {self.step}; checkpoint saved to {saved} "
                                      f"(continue with --resume {shlex.quote(str(saved))})", interrupt.signum)
                step_losses = self.train_step()
                self._last_names = list(step_losses)
                self.step += 1
                self._pending.append(torch.stack([v.detach().float() for v in step_losses.values()]))
                bar.update()
                last = self.step == cfg.steps
                log_now = self.step % cfg.log_every == 0 or last
                ckpt_now = self.out_dir is not None and (last or (cfg.ckpt_every and self.step % cfg.ckpt_every == 0))
                cb_now = bool(self.callbacks) and (last or (cfg.sample_every and self.step % cfg.sample_every == 0))
                if log_now or ckpt_now or cb_now:
                    self._check(list(step_losses), log_now, bar)  # never checkpoint or sample unchecked losses
                if last:
                    self._finish_weights()  # before the final checkpoint and the last callbacks
                if ckpt_now:
                    self.wall += time.perf_counter() - t0
                    t0 = time.perf_counter()
                    self.save()
                if cb_now and self.rank == 0:
                    for cb in self.callbacks:
                        cb(self.step, self.state())
                yield {k: v.detach() for k, v in step_losses.items()}
        finally:
            interrupt.restore()
            self.wall += time.perf_counter() - t0
            bar.close()
            if self._lock is not None:
                self._lock.release()
        self._check_weights()
        self._finish_distributed()

    def _last_saved(self) -> str:
        return (f"the checkpoint {self.last_checkpoint} (step {self._saved_step})" if self.last_checkpoint is not None
                else "the start (no checkpoint was written)")

    def run(self) -> TrainResult:
        """Train to ``cfg.steps`` and return the :class:`TrainResult`."""
        for _ in self.steps():
            pass
        return self.result()

    def result(self) -> TrainResult:
        images = self._images * self.world
        return TrainResult(self.history, self.step, self.wall, images / self.wall if self.wall > 0 else 0.0,
                           self.models, self.ema, self.last_checkpoint, self.kind, self.settings)

    def _finish_distributed(self) -> None:
        """Give every rank rank 0's buffers (BN statistics are not synchronised during training)."""
        if self.world == 1:
            return
        for module in self._ckpt_models().values():
            for b in module.buffers():
                dist.broadcast(b, src=0)
        dist.barrier()


class GANTrainer(Trainer):
    """Algorithm 1 of Goodfellow et al. 2014 for any :class:`~aigc_course.losses.GANLoss`:
    ``n_critic`` D steps, then one G step. Parts: ``generator`` and ``discriminator``. Introduced in 4.2."""

    kind = "gan"

    def __init__(self, models: dict[str, nn.Module], loader, cfg: TrainConfig, **kw):
        super().__init__(models, loader, cfg, **kw)
        self.G, self.D = self.models["generator"], self.models["discriminator"]
        self.loss = losses.gan_loss(cfg.loss, gp_weight=cfg.gp_weight, clip_value=cfg.clip_value)
        self.conditional = getattr(self.G, "n_classes", 0) > 0
        if self.conditional and self.loader.labels is None:
            raise ValueError(f"G is class-conditional (n_classes={self.G.n_classes}) but the loader has no labels; "
                             "use TensorLoader(images, labels, ...)")
        self.step_g = self.optimizer_step("generator", self.G.parameters(), cfg.lr)
        self.step_d = self.optimizer_step("discriminator", self.D.parameters(), cfg.lr_d)
        # G_train/D_train: gradients flow into their parameters (DDP-averaged). G_fake makes D's
        # fakes under no_grad; D_frozen scores G's fakes in the G step, where D's parameters are
        # frozen and nothing of D needs averaging, so it bypasses DDP.
        self.G_train, self.D_train = self.wrap(self.G, ddp=True), self.wrap(self.D, ddp=True)
        self.G_fake, self.D_frozen = self.wrap(self.G, ddp=False), self.wrap(self.D, ddp=False)
        self._make_ema()  # after wrapping: DDP has given every rank rank 0's weights
        self.images_per_step = cfg.n_critic
        self._reused: tuple[torch.Tensor, torch.Tensor | None] | None = None  # D step's fakes (reuse_fakes)

    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.G.z_dim, generator=self.noise, device=self.dev)  # (n, z_dim)

    def _critic_step(self) -> dict[str, torch.Tensor]:
        x, y = self.batch()  # (B, C, H, W) or (B, D); labels (B,) or None
        labels = y if self.conditional else None  # fakes get the real batch's labels
        z = self._noise(x.shape[0])
        reuse = self.cfg.reuse_fakes
        with torch.set_grad_enabled(reuse), self.autocast():  # reuse: keep G's graph for the G step
            fake = (self.G_train if reuse else self.G_fake)(z, labels)  # (B, C, H, W) or (B, D)
        if reuse:
            self._reused = (fake, labels)
        fake = fake.detach()
        with self.autocast():  # two separate forwards: real and fake batches get their own BN statistics
            real_out = self.D_train(x, labels).float()  # (B,)
            fake_out = self.D_train(fake, labels).float()  # (B,)
        d_loss = self.loss.d_loss(real_out, fake_out)
        logs = {"d_loss": d_loss}
        # The penalty runs in fp32 outside autocast, on the plain module: compiled graphs have no double
        # backward, and DDP need not see it: its parameter gradients reach the same parameters in the
        # same backward pass as D_train's, so DDP's hooks fire once per parameter with the sum.
        gp = self.loss.penalty(self.D, x.float(), fake.float(), labels, self.noise)
        if gp is not None:
            logs["gp"] = gp
        self.step_d(d_loss if gp is None else d_loss + self.loss.gp_weight * gp)
        self.loss.after_d_step(self.D)
        real_stat, fake_stat = (real_out.sigmoid(), fake_out.sigmoid()) if self.loss.probabilities else (real_out, fake_out)
        logs.update(d_real=real_stat.mean().detach(), d_fake=fake_stat.mean().detach())
        if self.loss.wasserstein:
            logs["wasserstein"] = (real_out.mean() - fake_out.mean()).detach()
        return logs

    def _fresh_fakes(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """G's samples from fresh noise (and random labels if conditional), with gradients."""
        n = self.cfg.batch_size
        z = self._noise(n)
        labels = (torch.randint(self.G.n_classes, (n,), generator=self.noise, device=self.dev)
                  if self.conditional else None)
        with self.autocast():
            return self.G_train(z, labels), labels  # (B, C, H, W) or (B, D)

    def _generator_step(self) -> torch.Tensor:
        fake, labels = self._reused if self.cfg.reuse_fakes else self._fresh_fakes()
        self._reused = None  # free the graph after this step
        self.D.requires_grad_(False)  # no gradients for D's weights in the G step (saves time)
        try:
            with self.autocast():
                g_loss = self.loss.g_loss(self.D_frozen(fake, labels).float())
            self.step_g(g_loss)
        finally:
            self.D.requires_grad_(True)
        if self.ema is not None:
            # warm-up (as TensorFlow's ExponentialMovingAverage): early on, the average must not
            # keep a large share of the random initial weights
            _update_ema(self.ema, self.G, min(self.cfg.ema, (1 + self.step) / (10 + self.step)))
        return g_loss

    def _finish_weights(self) -> None:
        """Give the EMA generator batch-norm statistics of its own. ``_update_ema`` averages the parameters
        but copies the buffers, so the EMA weights would run with the raw G's running statistics; they are
        re-estimated from ``BN_RECALIBRATION_BATCHES`` batches of the EMA's own samples (``nn.recalibrate_batchnorm``).
        The noise comes from a generator of its own (the training streams are untouched, so resuming stays
        exact), seeded alike on every rank. No-op without an EMA or without batch norm. Introduced in 4.2."""
        if self.ema is None or not batchnorm_layers(self.ema):
            return
        gen = torch.Generator(device=self.dev).manual_seed(self.cfg.seed + 7_919)
        n, z_dim, n_classes = self.cfg.batch_size, self.G.z_dim, getattr(self.G, "n_classes", 0)

        def make_input() -> tuple[torch.Tensor, torch.Tensor | None]:
            z = torch.randn(n, z_dim, generator=gen, device=self.dev)  # (n, z_dim)
            labels = torch.randint(n_classes, (n,), generator=gen, device=self.dev) if self.conditional else None
            return z, labels

        recalibrate_batchnorm(self.ema, make_input, BN_RECALIBRATION_BATCHES)

    def train_step(self) -> dict[str, torch.Tensor]:
        """``n_critic`` D steps, then one G step on fresh noise (with ``cfg.reuse_fakes``: on the D step's
        fakes, as the PyTorch DCGAN example does)."""
        for _ in range(self.cfg.n_critic):
            logs = self._critic_step()
        return {"d_loss": logs.pop("d_loss"), "g_loss": self._generator_step(), **logs}


class _VAELoss(nn.Module):
    """``vae.loss`` as a ``forward``: DistributedDataParallel averages gradients only of what runs
    through ``forward``, and ``torch.compile`` compiles it as one graph."""

    def __init__(self, vae: nn.Module, beta: float):
        super().__init__()
        self.vae, self.beta = vae, beta

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        return self.vae.loss(x, beta=self.beta)


class VAETrainer(Trainer):
    """One step on the negative ELBO (``cfg.beta`` weighs the KL term). Part: ``model``. Introduced in 4.4."""

    kind = "vae"

    def __init__(self, models: dict[str, nn.Module], loader, cfg: TrainConfig, **kw):
        super().__init__(models, loader, cfg, **kw)
        self.model = self.models["model"]
        self.step_model = self.optimizer_step("model", self.model.parameters(), cfg.lr)
        self.loss_fn = self.wrap(_VAELoss(self.model, cfg.beta), ddp=True)

    def train_step(self) -> dict[str, torch.Tensor]:
        """One step on the negative ELBO (the reparameterisation noise is drawn inside ``vae.loss``)."""
        x, _ = self.batch()
        with self.autocast():
            loss, parts = self.loss_fn(x)
        self.step_model(loss.float())
        return {"loss": loss, "recon": parts["recon"], "kl": parts["kl"]}


class _LMLoss(nn.Module):
    """``model.loss`` as a ``forward``, for DDP and ``torch.compile`` (as ``_VAELoss``)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        return self.model.loss(batch)


class LMTrainer(Trainer):
    """One step on the next-token cross-entropy of windows (B, T + 1) of token ids. Part: ``model``.
    Introduced in 1.4."""

    kind = "charlm"

    def __init__(self, models: dict[str, nn.Module], loader, cfg: TrainConfig, **kw):
        super().__init__(models, loader, cfg, **kw)
        self.model = self.models["model"]
        self.step_model = self.optimizer_step("model", self.model.parameters(), cfg.lr)
        self.loss_fn = self.wrap(_LMLoss(self.model), ddp=True)

    def train_step(self) -> dict[str, torch.Tensor]:
        x, _ = self.batch()
        with self.autocast():
            loss = self.loss_fn(x)
        self.step_model(loss.float())
        return {"loss": loss}


class _DiffusionLoss(nn.Module):
    """``model.loss`` as a ``forward``, for DDP and ``torch.compile`` (as ``_VAELoss``)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None, noise: torch.Generator) -> torch.Tensor:
        return self.model.loss(x, labels, generator=noise)


class DiffusionTrainer(Trainer):
    """One step on the denoising loss of a diffusion / flow-matching model (times, noise and dropped labels
    from the trainer's generator), then the EMA update. Part: ``model``. Introduced in 6.4."""

    kind = "diffusion"

    def __init__(self, models: dict[str, nn.Module], loader, cfg: TrainConfig, **kw):
        super().__init__(models, loader, cfg, **kw)
        self.model = self.models["model"]
        if self.model.n_classes and self.loader.labels is None:
            raise ValueError(f"the model is class-conditional (n_classes={self.model.n_classes}) but the loader has "
                             "no labels; use TensorLoader(images, labels, ...)")
        self.step_model = self.optimizer_step("model", self.model.parameters(), cfg.lr)
        self.loss_fn = self.wrap(_DiffusionLoss(self.model), ddp=True)
        self._make_ema()

    def train_step(self) -> dict[str, torch.Tensor]:
        x, y = self.batch()
        with self.autocast():
            loss = self.loss_fn(x, y if self.model.n_classes else None, self.noise)
        self.step_model(loss.float())
        if self.ema is not None:  # with the warm-up of GANTrainer
            _update_ema(self.ema, self.model, min(self.cfg.ema, (1 + self.step) / (10 + self.step)))
        return {"loss": loss}


# --- the registry of trainers, and the entry points ---------------------------------------------

_TRAINERS: dict[str, type[Trainer]] = {}


def register_trainer(cls: type[Trainer], *, replace: bool = False) -> type[Trainer]:
    """Use ``cls`` to train models of kind ``cls.kind`` (also usable as a class decorator)."""
    kinds.get(cls.kind)  # the kind must exist
    if cls.kind in _TRAINERS and not replace and _TRAINERS[cls.kind] is not cls:
        raise ValueError(f"a trainer for kind {cls.kind!r} is already registered; pass replace=True")
    _TRAINERS[cls.kind] = cls
    return cls


def unregister_trainer(kind: str) -> None:
    _TRAINERS.pop(kind, None)


def trainer_for(kind: str) -> type[Trainer]:
    """The Trainer class registered for ``kind``."""
    if kind not in _TRAINERS:
        raise ValueError(f"no trainer is registered for model kind {kind!r} (known: {', '.join(sorted(_TRAINERS))})")
    return _TRAINERS[kind]


register_trainer(GANTrainer)
register_trainer(VAETrainer)
register_trainer(LMTrainer)
register_trainer(DiffusionTrainer)


def train(kind: str, models: dict[str, nn.Module], loader, cfg: TrainConfig, **kw) -> TrainResult:
    """Train ``models`` of ``kind`` with its registered trainer (same keyword options as :class:`Trainer`)."""
    return trainer_for(kind)(models, loader, cfg, **kw).run()


def train_gan(G: nn.Module, D: nn.Module, loader, cfg: TrainConfig, **kw) -> TrainResult:
    """Train a GAN (generator ``G``, discriminator/critic ``D``) on ``loader`` as ``cfg`` says.

    Options as :class:`Trainer`. Runs on the device of G's parameters. History: d_loss, g_loss,
    d_real/d_fake (mean D(x), D(G(z)): probabilities for bce/saturating, scores otherwise), gp and
    wasserstein (mean real score - mean fake score) for WGAN losses. Raises ``TrainingDiverged`` if a
    loss becomes NaN/Inf. Introduced in 4.2.
    """
    return GANTrainer({"generator": G, "discriminator": D}, loader, cfg, **kw).run()


def train_vae(model: nn.Module, loader, cfg: TrainConfig, **kw) -> TrainResult:
    """Train a VAE on ``loader`` by minimising the negative ELBO (``cfg.beta`` weighs the KL term).

    Options as :class:`Trainer`; History records loss, recon (-mean log p(x|z)) and kl. Introduced in 4.4.
    """
    return VAETrainer({"model": model}, loader, cfg, **kw).run()
