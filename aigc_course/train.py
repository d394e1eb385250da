"""One trainer for GANs and VAEs: History, callbacks, checkpoints, resume, NaN guard, progress, DDP.

The algorithm stays visible in a few lines (``_GANTrainer.train_step`` is Algorithm 1 of Goodfellow
et al. 2014; ``_VAETrainer.train_step`` one ELBO step); the rest is plumbing every real training
run needs:

* **speed**: bf16 autocast on CUDA (on CPUs with native bf16 too, with ``amp=True``), ``channels_last``,
  ``torch.compile``, fused Adam, data already on the device, losses read back to the host only every
  ``log_every`` steps, and (opt-in, ``reuse_fakes=True``) one G forward per step;
* **safety**: a NaN/Inf guard that stops with :class:`~aigc_course.errors.TrainingDiverged` and keeps
  the last good checkpoint; atomic checkpoints (see ``checkpoint``);
* **reproducibility**: noise from a trainer-owned ``torch.Generator``; checkpoints hold models,
  optimisers, EMA, History, every RNG state and the loader's position, so N steps in one go equal
  N/2 steps + resume + N/2 steps bit for bit (on the CPU);
* **scale**: under ``torchrun`` the models are wrapped in ``DistributedDataParallel``, the data is
  sharded by rank, and only rank 0 shows progress, runs callbacks and writes checkpoints.

Introduced in 4.2 (the loop, History, callbacks), 4.3 (n_critic, WGAN-GP), 4.6 (speed, resume, DDP).
"""
from __future__ import annotations

import contextlib
import copy
import math
import os
import random
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

from . import losses, runtime
from .checkpoint import CHECKPOINT_SUBDIR, find_checkpoint, load_checkpoint, save_checkpoint
from .config import TrainConfig
from .data import TensorLoader
from .errors import CheckpointError, TrainingDiverged
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
    """What ``train_gan``/``train_vae`` return. Introduced in 4.2."""

    history: History
    steps: int                       # steps done in total (including those before a resume)
    wall_time: float                 # seconds this call took
    images_per_s: float              # real images seen per second in this call (all processes)
    models: dict[str, nn.Module]     # the trained modules by name ("generator"/"discriminator" or "model")
    ema: nn.Module | None = None     # EMA copy of the generator when cfg.ema > 0
    checkpoint: Path | None = None   # the last checkpoint written (None without out_dir)


@dataclass
class TrainState:
    """The trainer's state as callbacks see it: ``cb(step, state)``. Introduced in 4.2."""

    kind: str                        # "gan" or "vae"
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
        return self.ema or self.models.get("generator") or self.models["model"]

    @torch.no_grad()
    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Samples from latent vectors ``z`` (eval mode, no gradients, training mode restored)."""
        model = self.sampler
        with _eval_mode(model):
            if self.kind == "vae":
                return model.to_image(model.decode(z))
            return model(z, labels)


@contextlib.contextmanager
def _eval_mode(model: nn.Module) -> Iterator[None]:
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


class SampleGrid:
    """Callback: samples from fixed noise every ``cfg.sample_every`` steps, kept as frames for a GIF.

    Image models give uint8 grids ((H, W) grey or (H, W, 3)); 2-D models give the (n, 2) points.
    Conditional generators get labels ``arange(n) % n_classes`` (one class per column).
    ``frames[i]`` was drawn at ``steps[i]``. Uses its own RNG, so it never changes the training run.
    Introduced in 2.3.
    """

    def __init__(self, n: int = 64, nrow: int | None = None, seed: int = 0):
        self.n, self.nrow, self.seed = n, nrow, seed
        self.frames: list[np.ndarray] = []
        self.steps: list[int] = []
        self._z: torch.Tensor | None = None

    def __call__(self, step: int, state: TrainState) -> None:
        model = state.sampler
        if self._z is None:
            gen = torch.Generator().manual_seed(self.seed)
            self._z = torch.randn(self.n, model.z_dim, generator=gen).to(state.device)  # (n, z_dim)
        n_classes = getattr(model, "n_classes", 0)
        labels = torch.arange(self.n, device=state.device) % n_classes if n_classes else None
        x = state.generate(self._z, labels).float().cpu()  # (n, C, H, W) or (n, D)
        self.frames.append(make_grid(x, nrow=self.nrow or n_classes or None) if x.dim() == 4 else x.numpy())
        self.steps.append(step)


# --- helpers ------------------------------------------------------------------------------

def _distributed(models: dict[str, nn.Module]) -> tuple[int, int, torch.device]:
    """``(rank, world_size, device)``; under ``torchrun`` (WORLD_SIZE > 1) start the process group if
    needed (NCCL on CUDA, Gloo on CPU) and move CUDA models to this process's GPU (LOCAL_RANK)."""
    dev = next(next(iter(models.values())).parameters()).device
    if not dist.is_initialized():
        if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
            return 0, 1, dev
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    if dev.type == "cuda":
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", dist.get_rank() % torch.cuda.device_count())))
        torch.cuda.set_device(dev)
        for m in models.values():
            m.to(dev)
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
                            rank=rank, world_size=world)
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


@torch.no_grad()
def _update_ema(ema: nn.Module, model: nn.Module, decay: float) -> None:
    """ema <- decay * ema + (1 - decay) * model for parameters; buffers (BN statistics) copied."""
    torch._foreach_lerp_(list(ema.parameters()), list(model.parameters()), 1.0 - decay)
    for b_ema, b in zip(ema.buffers(), model.buffers()):
        b_ema.copy_(b)


_ADVICE = ("Try a lower learning rate (e.g. half of lr/lr_d), a more stable loss (loss='hinge', or "
           "'wgan-gp' with its gradient penalty), gradient clipping (grad_clip=1.0), or amp=False.")


# --- the trainer --------------------------------------------------------------------------

class _Trainer:
    """The loop shared by GANs and VAEs; subclasses build optimisers and define ``train_step``."""

    kind = ""
    images_per_step = 1  # real batches consumed per step

    def __init__(self, models: dict[str, nn.Module], loader, cfg: TrainConfig, *, callbacks: Iterable[Callable],
                 out_dir, resume, progress: bool, meta: dict | None):
        self.cfg, self.models, self.meta = cfg, models, dict(meta or {})
        self.rank, self.world, self.dev = _distributed(models)
        self.loader = _as_loader(loader, cfg, self.dev, self.rank, self.world)
        self.channels_last = cfg.channels_last if cfg.channels_last is not None else self.dev.type == "cuda"
        if self.channels_last:
            for m in models.values():
                m.to(memory_format=torch.channels_last)
        self.callbacks = list(callbacks)
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.progress = progress and self.rank == 0
        # Noise comes from our own generator (one stream per rank), never from the global RNG.
        self.noise = torch.Generator(device=self.dev).manual_seed(cfg.seed + 1_000_003 * self.rank)
        self.history = History()
        self.step, self.wall_before = 0, 0.0
        self.ema: nn.Module | None = None
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.last_checkpoint: Path | None = None
        self._pending: list[torch.Tensor] = []  # loss vectors not yet read back to the host
        self._pending_start = 1                  # the step of _pending[0]
        self._resume_from = resume

    # wrapping ---------------------------------------------------------------------------
    def _wrap(self, module: nn.Module, *, ddp: bool) -> Callable:
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

    def _autocast(self):
        return runtime.autocast(self.dev, self.cfg.amp)

    def _batch(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        x, y = next(self.batches)
        x = x.to(self.dev, non_blocking=True)
        if self.channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, (y.to(self.dev, non_blocking=True) if y is not None else None)

    def _clip_and_step(self, opt: torch.optim.Optimizer, params: list[nn.Parameter], loss: torch.Tensor) -> None:
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if self.cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(params, self.cfg.grad_clip)
        opt.step()

    # state ------------------------------------------------------------------------------
    def _ckpt_models(self) -> dict[str, nn.Module]:
        return {**self.models, **({"ema": self.ema} if self.ema is not None else {})}

    def _model_config(self) -> dict | None:
        cfg = getattr(next(iter(self.models.values())), "cfg", None)
        return cfg.to_dict() if cfg is not None else None

    def _gather(self, obj: Any) -> list:
        """``obj`` of every rank, in rank order (just ``[obj]`` without DDP)."""
        if self.world == 1:
            return [obj]
        out: list = [None] * self.world
        dist.all_gather_object(out, obj)
        return out

    def _resume(self) -> None:
        path = find_checkpoint(self._resume_from)
        kind = load_checkpoint(path).get("kind")  # check it is ours before touching the models
        if kind != self.kind:
            raise CheckpointError(f"{path} holds a {kind} checkpoint; this is the {self.kind} trainer")
        state = load_checkpoint(path, self._ckpt_models(), self.optimizers)
        self.step, self.wall_before = state["step"], state["wall_time"]
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
        self.last_checkpoint = path

    def _save(self, elapsed: float) -> None:
        rng = self._gather(_rng_state(self.noise))  # every rank joins; rank 0 writes
        if self.rank != 0 or self.out_dir is None:
            return
        state = {
            "kind": self.kind, "step": self.step, "history": self.history.to_dict(),
            "wall_time": self.wall_before + elapsed, "device": _device_name(self.dev, self.world),
            "model_config": self._model_config(), "train_config": self.cfg.to_dict(), "meta": self.meta,
            "rng": rng, "loader": self.loader.state_dict(),
        }
        self.last_checkpoint = save_checkpoint(self.out_dir / CHECKPOINT_SUBDIR, models=self._ckpt_models(),
                                               optimizers=self.optimizers, state=state)

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
        raise NotImplementedError

    def _state(self) -> TrainState:
        return TrainState(self.kind, self.step, self.cfg, self.models, self.history, self.dev, self.out_dir, self.ema)

    def run(self) -> TrainResult:
        cfg = self.cfg
        if self._resume_from is not None:
            self._resume()
        self.batches = self.loader.infinite()  # after the resume: continues where the loader stopped
        start_step, t0 = self.step, time.perf_counter()
        bar = tqdm(total=cfg.steps, initial=self.step, disable=not self.progress, desc=f"train {self.kind}")
        for m in self.models.values():
            m.train()
        if self.step == 0 and cfg.sample_every and self.rank == 0:
            for cb in self.callbacks:
                cb(0, self._state())
        try:
            while self.step < cfg.steps:
                step_losses = self.train_step()
                self.step += 1
                self._pending.append(torch.stack([v.detach().float() for v in step_losses.values()]))
                bar.update()
                last = self.step == cfg.steps
                log_now = self.step % cfg.log_every == 0 or last
                ckpt_now = self.out_dir is not None and (last or (cfg.ckpt_every and self.step % cfg.ckpt_every == 0))
                cb_now = bool(self.callbacks) and (last or (cfg.sample_every and self.step % cfg.sample_every == 0))
                if log_now or ckpt_now or cb_now:
                    self._check(list(step_losses), log_now, bar)  # never checkpoint or sample unchecked losses
                if ckpt_now:
                    self._save(time.perf_counter() - t0)
                if cb_now and self.rank == 0:
                    for cb in self.callbacks:
                        cb(self.step, self._state())
        finally:
            bar.close()
        self._finish_distributed()
        wall = time.perf_counter() - t0
        images = (self.step - start_step) * cfg.batch_size * self.images_per_step * self.world
        return TrainResult(self.history, self.step, wall, images / wall if wall > 0 else 0.0,
                           self.models, self.ema, self.last_checkpoint)

    def _finish_distributed(self) -> None:
        """Give every rank rank 0's buffers (BN statistics are not synchronised during training)."""
        if self.world == 1:
            return
        for module in self._ckpt_models().values():
            for b in module.buffers():
                dist.broadcast(b, src=0)
        dist.barrier()


class _GANTrainer(_Trainer):
    kind = "gan"

    def __init__(self, G: nn.Module, D: nn.Module, loader, cfg: TrainConfig, **kw):
        super().__init__({"generator": G, "discriminator": D}, loader, cfg, **kw)
        self.G, self.D = G, D
        self.d_loss_fn, self.g_loss_fn = losses.gan_losses(cfg.loss)
        self.conditional = getattr(G, "n_classes", 0) > 0
        if self.conditional and self.loader.labels is None:
            raise ValueError(f"G is class-conditional (n_classes={G.n_classes}) but the loader has no labels; "
                             "use TensorLoader(images, labels, ...)")
        self.opt_g = _adam(G.parameters(), cfg.lr, cfg.betas, self.dev)
        self.opt_d = _adam(D.parameters(), cfg.lr_d, cfg.betas, self.dev)
        self.optimizers = {"generator": self.opt_g, "discriminator": self.opt_d}
        # G_train/D_train: gradients flow into their parameters (DDP-averaged). G_fake makes D's
        # fakes under no_grad; D_frozen scores G's fakes in the G step, where D's parameters are
        # frozen and nothing of D needs averaging, so it bypasses DDP.
        self.G_train, self.D_train = self._wrap(G, ddp=True), self._wrap(D, ddp=True)
        self.G_fake, self.D_frozen = self._wrap(G, ddp=False), self._wrap(D, ddp=False)
        if cfg.ema > 0:  # after wrapping: DDP has given every rank rank 0's weights
            self.ema = copy.deepcopy(G).eval().requires_grad_(False)
        self.images_per_step = cfg.n_critic
        self._reused: tuple[torch.Tensor, torch.Tensor | None] | None = None  # D step's fakes (reuse_fakes)
        self.probabilities = cfg.loss in ("bce", "saturating")  # log D(x) as a probability

    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.G.z_dim, generator=self.noise, device=self.dev)  # (n, z_dim)

    def _critic_step(self) -> dict[str, torch.Tensor]:
        cfg = self.cfg
        x, y = self._batch()  # (B, C, H, W) or (B, D); labels (B,) or None
        labels = y if self.conditional else None  # fakes get the real batch's labels
        z = self._noise(x.shape[0])
        reuse = cfg.reuse_fakes
        with torch.set_grad_enabled(reuse), self._autocast():  # reuse: keep G's graph for the G step
            fake = (self.G_train if reuse else self.G_fake)(z, labels)  # (B, C, H, W) or (B, D)
        if reuse:
            self._reused = (fake, labels)
        fake = fake.detach()
        with self._autocast():  # two separate forwards: real and fake batches get their own BN statistics
            real_out = self.D_train(x, labels).float()  # (B,)
            fake_out = self.D_train(fake, labels).float()  # (B,)
        d_loss = self.d_loss_fn(real_out, fake_out)
        logs = {"d_loss": d_loss}
        loss = d_loss
        if cfg.loss == "wgan-gp":
            # In fp32 outside autocast, on the plain module: compiled graphs have no double backward,
            # and DDP need not see it: the penalty's parameter gradients reach the same parameters in
            # the same backward pass as D_train's, so DDP's hooks fire once per parameter with the sum.
            gp = losses.gradient_penalty(self.D, x.float(), fake.float(), labels, generator=self.noise)
            loss = loss + cfg.gp_weight * gp
            logs["gp"] = gp
        self._clip_and_step(self.opt_d, list(self.D.parameters()), loss)
        if cfg.loss == "wgan-clip":
            with torch.no_grad():
                for p in self.D.parameters():
                    p.clamp_(-cfg.clip_value, cfg.clip_value)
        real_stat, fake_stat = (real_out.sigmoid(), fake_out.sigmoid()) if self.probabilities else (real_out, fake_out)
        logs.update(d_real=real_stat.mean().detach(), d_fake=fake_stat.mean().detach())
        if cfg.loss.startswith("wgan"):
            logs["wasserstein"] = (real_out.mean() - fake_out.mean()).detach()
        return logs

    def _fresh_fakes(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """G's samples from fresh noise (and random labels if conditional), with gradients."""
        n = self.cfg.batch_size
        z = self._noise(n)
        labels = (torch.randint(self.G.n_classes, (n,), generator=self.noise, device=self.dev)
                  if self.conditional else None)
        with self._autocast():
            return self.G_train(z, labels), labels  # (B, C, H, W) or (B, D)

    def _generator_step(self) -> torch.Tensor:
        fake, labels = self._reused if self.cfg.reuse_fakes else self._fresh_fakes()
        self._reused = None  # free the graph after this step
        self.D.requires_grad_(False)  # no gradients for D's weights in the G step (saves time)
        try:
            with self._autocast():
                g_loss = self.g_loss_fn(self.D_frozen(fake, labels).float())
            self._clip_and_step(self.opt_g, list(self.G.parameters()), g_loss)
        finally:
            self.D.requires_grad_(True)
        if self.ema is not None:
            # warm-up (as TensorFlow's ExponentialMovingAverage): early on, the average must not
            # keep a large share of the random initial weights
            _update_ema(self.ema, self.G, min(self.cfg.ema, (1 + self.step) / (10 + self.step)))
        return g_loss

    def train_step(self) -> dict[str, torch.Tensor]:
        """Algorithm 1 of Goodfellow et al.: ``n_critic`` D steps, then one G step on fresh noise (with
        ``cfg.reuse_fakes``: on the D step's fakes, as the PyTorch DCGAN example does)."""
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


class _VAETrainer(_Trainer):
    kind = "vae"

    def __init__(self, model: nn.Module, loader, cfg: TrainConfig, **kw):
        super().__init__({"model": model}, loader, cfg, **kw)
        self.model = model
        self.opt = _adam(model.parameters(), cfg.lr, cfg.betas, self.dev)
        self.optimizers = {"model": self.opt}
        self.loss_fn = self._wrap(_VAELoss(model, cfg.beta), ddp=True)

    def train_step(self) -> dict[str, torch.Tensor]:
        """One step on the negative ELBO (the reparameterisation noise is drawn inside ``vae.loss``)."""
        x, _ = self._batch()
        with self._autocast():
            loss, parts = self.loss_fn(x)
        self._clip_and_step(self.opt, list(self.model.parameters()), loss.float())
        return {"loss": loss, "recon": parts["recon"], "kl": parts["kl"]}


def train_gan(G: nn.Module, D: nn.Module, loader, cfg: TrainConfig, *, callbacks: Iterable[Callable] = (),
              out_dir: str | Path | None = None, resume: str | Path | None = None, progress: bool = True,
              meta: dict | None = None) -> TrainResult:
    """Train a GAN (generator ``G``, discriminator/critic ``D``) on ``loader`` as ``cfg`` says.

    ``loader``: a ``data.TensorLoader`` (or a tensor of samples, e.g. toy 2-D data). Runs on the
    device of G's parameters. ``callbacks`` are called ``cb(step, state)`` at step 0, every
    ``cfg.sample_every`` steps and at the end (rank 0 only). With ``out_dir`` a checkpoint is written
    to ``out_dir/checkpoint`` every ``cfg.ckpt_every`` steps and at the end; ``resume`` continues
    from a checkpoint (or run) folder. ``meta`` (e.g. the recipe name) is stored in checkpoints.
    History: d_loss, g_loss, d_real/d_fake (mean D(x), D(G(z)): probabilities for bce/saturating,
    scores otherwise), gp and wasserstein (mean real score - mean fake score) for WGAN losses.
    Raises ``TrainingDiverged`` if a loss becomes NaN/Inf. Introduced in 4.2.
    """
    return _GANTrainer(G, D, loader, cfg, callbacks=callbacks, out_dir=out_dir, resume=resume,
                       progress=progress, meta=meta).run()


def train_vae(model: nn.Module, loader, cfg: TrainConfig, *, callbacks: Iterable[Callable] = (),
              out_dir: str | Path | None = None, resume: str | Path | None = None, progress: bool = True,
              meta: dict | None = None) -> TrainResult:
    """Train a VAE on ``loader`` by minimising the negative ELBO (``cfg.beta`` weighs the KL term).

    Same options as :func:`train_gan`; History records loss, recon (-mean log p(x|z)) and kl.
    Introduced in 4.4.
    """
    return _VAETrainer(model, loader, cfg, callbacks=callbacks, out_dir=out_dir, resume=resume,
                       progress=progress, meta=meta).run()
