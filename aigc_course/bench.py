"""Throughput benchmark: the course trainer against a reference loop written like the PyTorch DCGAN example.

    python -m aigc_course bench [--recipe dcgan-fashion] [--seconds 20] [--json FILE] [--quality]

Both sides train the same model (the recipe's ``GANConfig``, the same initial weights, batch size,
Adam settings and loss) on the same device:

* **reference**: the loop of ``pytorch/examples`` ``dcgan/main.py``: a ``torch.utils.data.DataLoader``
  over a map-style data set that turns each uint8 image into a normalised float tensor in
  ``__getitem__``, ``.to(device)`` per batch, fp32, default memory format, no compile,
  ``nn.BCELoss`` on ``sigmoid(D(x))`` (the example's D ends in ``nn.Sigmoid``), one D step then one
  G step per batch, and the example's five ``.item()`` reads per step (its per-step printout);
* **ours**: the course trainer (``train.GANTrainer``) on data kept on the device (``data.TensorLoader``),
  with ``reuse_fakes=True`` (one G forward per step, as the example), and bf16 autocast,
  ``channels_last``, ``torch.compile`` and fused Adam on CUDA (on the CPU: ``amp=True``, which is bf16
  autocast where the CPU has native bf16, and ``channels_last``, no compile; see ``fast_settings`` for
  the measurements behind these choices).

Each side first runs ``warmup_steps`` untimed steps (``torch.compile`` compiles then; that time is
reported separately). Then the sides take turns, ``rounds`` rounds of ``seconds / rounds`` each, so a
busy machine slows both alike; timed regions are device-synchronised (ours is driven one step at a
time through ``Trainer.steps()``). ``--quality`` then compares FID (in the
course classifier's feature space) of the two generators: same initial weights, same warm-up steps,
same timed seconds. Introduced in 4.6.
"""
from __future__ import annotations

import contextlib
import copy
import datetime
import json
import math
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torch.utils.flop_counter import FlopCounterMode

from . import data, recipes, runtime
from .config import GANConfig, TrainConfig
from .errors import CourseError
from .gan import build_gan
from .train import GANTrainer

# Dense bf16 tensor-core peaks (FLOP/s) from the vendors' data sheets, matched in this order
# against torch.cuda.get_device_name(); unknown devices get no MFU.
PEAK_BF16_FLOPS: list[tuple[str, float]] = [
    ("H200", 989e12),
    ("H100 PCIe", 756e12),
    ("H100 NVL", 835e12),
    ("H100", 989e12),   # SXM, named "NVIDIA H100 80GB HBM3"
    ("A100", 312e12),
]
TARGET_SPEEDUP = {"cuda": 10.0, "cpu": 1.5}  # what the course's fast path should reach
REUSE_FAKES_REASON = ("the G step reuses the D step's fakes: one G forward per step, as in the reference "
                      "(the PyTorch DCGAN example); the trainer's default draws fresh noise for the G step")


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


# --- the reference: pytorch/examples dcgan/main.py ------------------------------------------

class _ExampleImages(Dataset):
    """Map-style data set as the DCGAN example builds it: per sample, ``ToTensor()`` (uint8 -> [0, 1])
    then ``Normalize((0.5,), (0.5,))`` (-> [-1, 1]). (torchvision's data sets also go through a PIL
    image per sample; skipping that makes this reference faster than the example, not slower.)"""

    def __init__(self, images: torch.Tensor):
        self.images = images  # uint8 (N, C, H, W) on the CPU

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        x = self.images[i].float().div(255)  # ToTensor: (C, H, W) in [0, 1]
        return (x - 0.5) / 0.5, 0  # Normalize((0.5,), (0.5,)); the example ignores the label


def reference_workers(dev: torch.device) -> tuple[int, str]:
    """DataLoader workers for the reference and why: the example's default 2 when there are cores
    to spare for them, else 0 (workers would compete with the training threads)."""
    cores = os.cpu_count() or 1
    if dev.type == "cuda" and cores > 2:
        return 2, "the example's default (--workers 2)"
    return 0, (f"the example's default is 2; here {cores} CPU core(s) do the training, and worker "
               "processes would compete with it, so the data is loaded in the main process")


def reference_steps(G: nn.Module, D: nn.Module, images: torch.Tensor, cfg: TrainConfig, dev: torch.device,
                    num_workers: int = 0, *, shuffle: bool = True,
                    noise: torch.Generator | None = None) -> Iterator[tuple[int, float, float]]:
    """Train ``G``, ``D`` in place the way ``pytorch/examples`` ``dcgan/main.py`` does, epoch after
    epoch; yield ``(batch size, err_d, err_g)`` after every step. ``shuffle=False`` and a ``noise``
    generator (on ``dev``) make it draw the same batches and z as the course trainer (a test compares)."""
    loader = DataLoader(_ExampleImages(images), batch_size=cfg.batch_size, shuffle=shuffle, num_workers=num_workers,
                        generator=torch.Generator().manual_seed(cfg.seed))
    criterion = nn.BCELoss()
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=cfg.betas)
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr, betas=cfg.betas)
    G.train(), D.train()
    while True:  # epochs
        for real_cpu, _ in loader:
            # (1) Update D: maximise log D(x) + log(1 - D(G(z)))
            D.zero_grad()
            real = real_cpu.to(dev)  # (B, C, H, W)
            b = real.size(0)
            label = torch.full((b,), 1.0, device=dev)
            output = torch.sigmoid(D(real))  # (B,) probabilities
            err_d_real = criterion(output, label)
            err_d_real.backward()
            d_x = output.mean().item()
            z = torch.randn(b, G.z_dim, device=dev, generator=noise)  # (B, z_dim)
            fake = G(z)
            label.fill_(0.0)
            output = torch.sigmoid(D(fake.detach()))
            err_d_fake = criterion(output, label)
            err_d_fake.backward()
            d_g_z1 = output.mean().item()
            err_d = err_d_real + err_d_fake
            opt_d.step()
            # (2) Update G: maximise log D(G(z)) (fake labels are real for the generator cost)
            G.zero_grad()
            label.fill_(1.0)
            output = torch.sigmoid(D(fake))
            err_g = criterion(output, label)
            err_g.backward()
            d_g_z2 = output.mean().item()
            opt_g.step()
            del d_x, d_g_z1, d_g_z2  # the example prints them with the losses every step
            yield b, err_d.item(), err_g.item()


def run_steps(steps: Iterator[tuple[int, float, float]], dev: torch.device, *, seconds: float | None = None,
              n: int | None = None) -> dict:
    """Consume ``steps`` for ``seconds`` (or ``n`` steps), device-synchronised: steps, images, time,
    and the ``(err_d, err_g)`` of the first and the last step."""
    _sync(dev)
    t0 = time.perf_counter()
    done = images = 0
    first = None
    for b, err_d, err_g in steps:
        done, images = done + 1, images + b
        first = first or (err_d, err_g)
        if (done >= n) if n is not None else (time.perf_counter() - t0 >= seconds):
            break
    _sync(dev)
    return {"steps": done, "images": images, "timed_s": time.perf_counter() - t0,
            "first_losses": first, "last_losses": (err_d, err_g)}


# --- ours: the course Trainer, driven one step at a time -------------------------------------

def ours_trainer(G: nn.Module, D: nn.Module, images: torch.Tensor, cfg: TrainConfig, dev: torch.device,
                 settings: dict, log_every: int, steps: int = 10**9) -> GANTrainer:
    """The course trainer on data kept on the device, with the benchmark's settings (no callbacks,
    no checkpoints, no EMA; losses read back every ``log_every`` steps)."""
    loader = data.TensorLoader(images, batch_size=cfg.batch_size, seed=cfg.seed, device=dev)
    return GANTrainer({"generator": G, "discriminator": D}, loader, _ours_config(cfg, settings, log_every, steps),
                      progress=False)


def run_ours(steps: Iterator[dict], dev: torch.device, *, seconds: float | None = None, n: int | None = None) -> dict:
    """Take steps from ``Trainer.steps()`` for ``seconds`` (or ``n`` steps), device-synchronised."""
    _sync(dev)
    t0 = time.perf_counter()
    done = 0
    for _ in steps:
        done += 1
        if (done >= n) if n is not None else (time.perf_counter() - t0 >= seconds):
            break
    _sync(dev)
    return {"steps": done, "timed_s": time.perf_counter() - t0}


def same_work_settings(dev: torch.device) -> dict:
    """Ours with the reference's numerics: fp32, NCHW, eager, one G forward per step (reuse_fakes)."""
    return {**_common(dev), "name": "same work, fp32", "amp": "fp32", "amp_reason": "off: the reference's precision",
            "channels_last": False, "channels_last_reason": "off: the reference's memory format",
            "compile": False, "compile_reason": "off: the reference runs eagerly",
            "changes": "only the plumbing: data on the device, no per-step syncs, D frozen in the G step, "
                       "multi-tensor Adam; the same algorithm and numerics (a test checks the losses agree)"}


def fast_path_settings(dev: torch.device, compile: bool | None = None) -> dict:
    """Ours with what this hardware has (``runtime.fast_path``: native bf16/fp16, channels_last;
    ``torch.compile`` on CUDA), still one G forward per step. Labelled with what it changes."""
    fast = runtime.fast_path(dev, None, None, dev.type == "cuda" if compile is None else compile)
    changed = [f"{fast['amp']} autocast"] if fast["amp"] != "fp32" else []
    changed += ["channels_last"] if fast["channels_last"] else []
    changed += ["torch.compile"] if fast["compile"] else []
    return {**_common(dev), **fast, "name": "fast path: " + (" + ".join(changed) or "none"),
            "changes": ("same algorithm as 'same work', plus " + ", ".join(changed)
                        + (" (lower-precision rounding)" if fast["amp"] != "fp32" else " (same numerics up to "
                           "float rounding)")) if changed else "nothing this hardware speeds up"}


def _common(dev: torch.device) -> dict:
    return {"loader": "data.TensorLoader: uint8 images on the device, batches scaled to [-1, 1] there",
            "reuse_fakes": True, "reuse_fakes_reason": REUSE_FAKES_REASON,
            "optimizer": "Adam, fused" if dev.type == "cuda" else "Adam, foreach (multi-tensor)",
            "loss": "softplus on logits (losses.gan_d_loss, losses.gan_g_nonsaturating)",
            "logging": "losses read back every log_every steps",
            "g_step": "reuses the D step's fake batch (reuse_fakes=True); D's weights frozen (no weight "
                      "gradients for D in the G step)"}


def _ours_config(cfg: TrainConfig, settings: dict, log_every: int, steps: int = 10**9) -> TrainConfig:
    return cfg.replace(steps=steps, amp=settings["amp"] != "fp32", compile=settings["compile"],
                       channels_last=settings["channels_last"], reuse_fakes=settings["reuse_fakes"],
                       sample_every=0, log_every=log_every, ckpt_every=0, ema=0.0)


# --- FLOPs, MFU and where the time goes ------------------------------------------------------

def step_flops(G: nn.Module, D: nn.Module, images: torch.Tensor, cfg: TrainConfig, dev: torch.device,
               settings: dict | None) -> float:
    """FLOPs of one training step (counted by ``FlopCounterMode``, on copies of the models):
    the reference loop's step when ``settings`` is None, else one ``train_gan`` step with them."""
    G, D = copy.deepcopy(G), copy.deepcopy(D)
    images = images[: 2 * cfg.batch_size]
    with FlopCounterMode(display=False) as counter:
        if settings is None:
            run_steps(reference_steps(G, D, images, cfg, dev), dev, n=1)
        else:
            ours_trainer(G, D, images, cfg, dev, {**settings, "compile": False}, log_every=1, steps=1).run()
    return float(counter.get_total_flops())


def peak_bf16_flops(dev: torch.device) -> tuple[float | None, str | None]:
    """(dense bf16 peak FLOP/s, the table entry) for a known CUDA device, else (None, None)."""
    if dev.type != "cuda":
        return None, None
    name = torch.cuda.get_device_name(dev)
    for key, peak in PEAK_BF16_FLOPS:
        if key.lower() in name.lower():
            return peak, key
    return None, None


def device_name(dev: torch.device) -> str:
    """The CUDA device's name, or ``"cpu: <model name>, N threads"``."""
    if dev.type == "cuda":
        return torch.cuda.get_device_name(dev)
    model = platform.processor() or "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"cpu: {model}, {torch.get_num_threads()} thread{'s' if torch.get_num_threads() > 1 else ''}"


_GROUPS = {  # profiler labels (prefixes) -> what they stand for; their inclusive CPU time is counted
    "data loading": ("enumerate(DataLoader)",),
    "optimizer steps": ("Optimizer.step",),
}
_CONV_OPS = ("aten::convolution", "aten::convolution_backward")  # forward and backward, children included


def _times(device: bool) -> tuple[str, str]:
    """The profiler's (self, inclusive) time attributes: device (GPU) time or CPU time."""
    return ("self_device_time_total", "device_time_total") if device else ("self_cpu_time_total", "cpu_time_total")


def _top_ops(prof, device: bool, n: int = 8) -> list[dict]:
    """The ``n`` ops with the most self time (GPU time when ``device``), labels such as
    ``Optimizer.step#...`` left out."""
    own, _ = _times(device)
    events = [e for e in prof.key_averages() if "#" not in e.key and not e.key.startswith("ProfilerStep")]
    total = sum(getattr(e, own) for e in events) or 1.0
    top = sorted(events, key=lambda e: getattr(e, own), reverse=True)[:n]
    return [{"op": e.key, "calls": e.count, "self_ms": round(getattr(e, own) / 1e3, 2),
             "share": round(getattr(e, own) / total, 3)} for e in top]


def _shares(prof, wall_us: float, device: bool) -> dict[str, float]:
    """Shares of the wall time spent loading data, in optimizer steps (CPU time) and in convolutions
    (forward + backward; GPU time when ``device``)."""
    events = prof.key_averages()
    shares = {group: round(sum(e.cpu_time_total for e in events if e.key.startswith(prefixes)) / wall_us, 3)
              for group, prefixes in _GROUPS.items()}
    _, inclusive = _times(device)
    shares["convolutions"] = round(sum(getattr(e, inclusive) for e in events if e.key in _CONV_OPS) / wall_us, 3)
    return shares


_PROFILER_NOISE = re.compile(r"^USDT:|ActivityProfiler|profiler_(start|stop)|^STAGE:|Kineto")


@contextlib.contextmanager
def _without_profiler_noise() -> Iterator[None]:
    """Drop the lines PyTorch's native profiler (Kineto) writes straight to file descriptor 2 when it starts
    and stops ("USDT:... profiler_start"); anything else written to stderr meanwhile is passed on."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr to redirect
        yield
        return
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            kept = [line for line in caught.read().decode(errors="replace").splitlines(keepends=True)
                    if not _PROFILER_NOISE.search(line)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def profile_sides(G: nn.Module, D: nn.Module, images: torch.Tensor, cfg: TrainConfig, dev: torch.device,
                  settings: dict, *, steps: int = 5, warmup_steps: int = 3, num_workers: int = 0) -> dict:
    """``torch.profiler`` over ``steps`` steps of each side (after ``warmup_steps``, on copies of the
    models): per side the time per step, the top ops by self time (GPU time on CUDA) and the shares of
    the wall time spent loading data, in optimizer steps and in convolutions."""
    from torch.profiler import ProfilerActivity, profile

    cuda = dev.type == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])

    def measure(run) -> dict:
        with _without_profiler_noise(), profile(activities=activities) as prof:
            wall = run()
        return {"steps": steps, "ms_per_step": round(wall * 1e3 / steps, 1), "ranked_by": "GPU" if cuda else "CPU",
                "shares": _shares(prof, wall * 1e6, cuda), "top_ops": _top_ops(prof, cuda)}

    ref = reference_steps(copy.deepcopy(G), copy.deepcopy(D), images, cfg, dev, num_workers)
    run_steps(ref, dev, n=warmup_steps)
    out = {"reference": measure(lambda: run_steps(ref, dev, n=steps)["timed_s"])}

    G, D = copy.deepcopy(G), copy.deepcopy(D)
    trainer = ours_trainer(G, D, images, cfg, dev, settings, log_every=steps, steps=warmup_steps + steps)
    run_ours(trainer.steps(), dev, n=warmup_steps)

    def ours() -> float:
        _sync(dev)
        t0 = time.perf_counter()
        run_ours(trainer.steps(), dev, n=steps)
        _sync(dev)
        return time.perf_counter() - t0

    out["ours"] = measure(ours)
    return out


# --- the benchmark ---------------------------------------------------------------------------

def check_recipe(recipe: recipes.Recipe) -> None:
    """The reference is the DCGAN example: an unconditional image GAN, BCE loss, one D step per G step."""
    def fits(r: recipes.Recipe) -> bool:
        return (r.kind == "gan" and r.model.kind == "dcgan" and not r.model.n_classes and r.quick.loss == "bce"
                and r.quick.n_critic == 1 and not r.data.startswith("toy2d:"))

    if not fits(recipe):
        usable = [r.name for r in recipes.RECIPES.values() if fits(r)]
        raise CourseError(f"recipe {recipe.name!r} is not what the reference loop (the PyTorch DCGAN example: "
                          f"unconditional DCGAN, BCE loss, one D step per G step) trains; use one of {usable}")


def _stats(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "rounds": values}


def run_bench(model_cfg: GANConfig, cfg: TrainConfig, images: torch.Tensor, *, seconds: float = 30.0,
              device: torch.device | str | None = None, warmup_steps: int = 10, rounds: int = 6,
              compile: bool | None = None, profile_steps: int = 5, recipe: str = "custom") -> dict:
    """Benchmark the reference loop against the course trainer on one device; return the results dict.

    ``images``: uint8 training images (N, C, H, W). Sides: the reference; ours with the same work in
    fp32 ("same work, fp32"); and ours with this hardware's fast path when that differs. Each side
    first runs ``warmup_steps`` untimed steps (the same number for every side; compilation happens
    there and is reported), then ``rounds`` rounds in which every side trains ``seconds / rounds``
    seconds, in an order that rotates each round. Each round gives each side a rate (images/s) and
    each of ours a speedup over the reference in that round; the results give their medians and ranges.
    ``profile_steps`` > 0 adds a profile of the reference and the fastest of ours.
    """
    dev = runtime.device(device)
    if not (isinstance(seconds, (int, float)) and math.isfinite(seconds) and seconds > 0) or rounds < 1 \
            or warmup_steps < 1:
        raise ValueError(f"need a finite seconds > 0, rounds >= 1 and warmup_steps >= 1; got {seconds}, {rounds}, "
                         f"{warmup_steps}")
    variants = [same_work_settings(dev)]
    fast = fast_path_settings(dev, compile)
    if any(fast[k] != variants[0][k] for k in ("amp", "channels_last", "compile")):
        variants.append(fast)
    workers, workers_reason = reference_workers(dev)
    benchmark_before = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = True  # the example sets it; it helps both sides on CUDA
    try:
        runtime.set_seed(cfg.seed)
        G0, D0 = (m.to(dev) for m in build_gan(model_cfg))  # the common initial weights
        load_before = os.getloadavg()
        ref_steps = reference_steps(copy.deepcopy(G0), copy.deepcopy(D0), images, cfg, dev, workers)
        warm = {"reference": run_steps(ref_steps, dev, n=warmup_steps)}
        log_every = 10 if dev.type == "cuda" else 5
        ours_steps = {}
        for v in variants:
            ours_steps[v["name"]] = ours_trainer(copy.deepcopy(G0), copy.deepcopy(D0), images, cfg, dev, v,
                                                 log_every).steps()
            warm[v["name"]] = run_ours(ours_steps[v["name"]], dev, n=warmup_steps)
        names = ["reference"] + [v["name"] for v in variants]
        per_round = {n: [] for n in names}
        totals = {n: {"steps": 0, "images": 0, "timed_s": 0.0} for n in names}
        for r in range(rounds):
            for name in names[r % len(names):] + names[:r % len(names)]:  # rotate who goes first
                turn = (run_steps(ref_steps, dev, seconds=seconds / rounds) if name == "reference"
                        else run_ours(ours_steps[name], dev, seconds=seconds / rounds))
                images_done = turn.get("images", turn["steps"] * cfg.batch_size)
                per_round[name].append(images_done / turn["timed_s"])
                totals[name] = {"steps": totals[name]["steps"] + turn["steps"],
                                "images": totals[name]["images"] + images_done,
                                "timed_s": totals[name]["timed_s"] + turn["timed_s"]}
                if name == "reference":
                    totals[name]["last_losses"] = turn["last_losses"]
        for it in ours_steps.values():
            it.close()
        load_after = os.getloadavg()
        peak, peak_key = peak_bf16_flops(dev)
        ref_flops = step_flops(G0, D0, images, cfg, dev, None) / cfg.batch_size
        reference = {**totals["reference"], "img_per_s": _stats(per_round["reference"]), "warmup_s": warm["reference"]["timed_s"],
                     "first_losses": warm["reference"]["first_losses"], "flops_per_img": ref_flops,
                     "mfu": ref_flops * statistics.median(per_round["reference"]) / peak if peak else None,
                     "settings": _reference_settings(dev, workers, workers_reason)}
        rows = []
        for v in variants:
            name = v["name"]
            speedups = [o / r for o, r in zip(per_round[name], per_round["reference"])]
            flops = step_flops(G0, D0, images, cfg, dev, v) / cfg.batch_size
            steady = totals[name]["timed_s"] / totals[name]["steps"]
            rows.append({"name": name, "changes": v["changes"], "settings": v, **totals[name],
                         "img_per_s": _stats(per_round[name]), "speedup": _stats(speedups),
                         "warmup_s": warm[name]["timed_s"],
                         # compilation happens in the warm-up: its time minus the same steps at the steady rate
                         "compile_s": max(0.0, warm[name]["timed_s"] - warmup_steps * steady) if v["compile"] else 0.0,
                         "flops_per_img": flops,
                         "mfu": flops * statistics.median(per_round[name]) / peak if peak else None})
        result = {
            "what": "images/s of the course trainer vs a loop written like pytorch/examples dcgan, same model, "
                    "same device, alternating rounds; every number measured in this run",
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "device": device_name(dev), "device_type": dev.type, "torch": torch.__version__,
            "python": platform.python_version(), "threads": torch.get_num_threads(),
            "cpu_native_bf16": runtime.cpu_bf16_supported(),
            "recipe": recipe, "model": model_cfg.to_dict(), "batch_size": cfg.batch_size,
            "train_config": {"lr": cfg.lr, "lr_d": cfg.lr_d, "betas": list(cfg.betas), "loss": cfg.loss},
            "seconds_per_side": seconds, "warmup_steps": warmup_steps, "rounds": rounds,
            "peak_bf16_flops": peak, "peak_entry": peak_key, "target_speedup": TARGET_SPEEDUP[dev.type if dev.type == "cuda" else "cpu"],
            "reference": reference, "rows": rows,
            "load_average": {"before": [round(x, 2) for x in load_before], "after": [round(x, 2) for x in load_after]},
        }
        if profile_steps:
            result["profile"] = profile_sides(G0, D0, images, cfg, dev, variants[-1], steps=profile_steps,
                                              num_workers=workers)
        result["notes"] = notes(result)
        return result
    finally:
        torch.backends.cudnn.benchmark = benchmark_before


def _reference_settings(dev: torch.device, workers: int, workers_reason: str) -> dict:
    return {"loader": f"torch.utils.data.DataLoader(map-style Dataset, uint8 -> float per sample in __getitem__, "
                      f"shuffle=True, num_workers={workers})",
            "num_workers": workers, "num_workers_reason": workers_reason,
            "amp": "fp32", "compile": False, "channels_last": False,
            "optimizer": "Adam(lr, betas), default implementation",
            "loss": "nn.BCELoss on torch.sigmoid(D(x)) (the example's D ends in nn.Sigmoid)",
            "logging": "five .item() reads per step, as the example prints them (the printing is left out)",
            "g_step": "reuses the D step's fake batch; D's weight gradients computed and discarded",
            "transfer": ".to(device) per batch", "cudnn_benchmark": dev.type == "cuda"}


def notes(result: dict) -> list[str]:
    """Sentences on the result: each row's speedup with its range, and where the time goes."""
    out = []
    for row in result["rows"]:
        sp = row["speedup"]
        out.append(f"{row['name']}: {sp['median']:.2f}x the reference (median of {len(sp['rounds'])} rounds, "
                   f"range {sp['min']:.2f}-{sp['max']:.2f}x); {row['changes']}")
    out.append(f"FLOPs per image: reference {result['reference']['flops_per_img'] / 1e6:.1f} M, "
               + ", ".join(f"{r['name']} {r['flops_per_img'] / 1e6:.1f} M" for r in result["rows"])
               + " (ours skips D's weight gradients in the G step)")
    for side, prof in result.get("profile", {}).items():
        shares = ", ".join(f"{k} {v:.0%}" for k, v in prof["shares"].items())
        top = ", ".join(f"{op['op']} {op['share']:.0%}" for op in prof["top_ops"][:4])
        out.append(f"{side}: {prof['ms_per_step']:.1f} ms/step under the profiler; share of wall time: {shares}; "
                   f"top ops by self {prof['ranked_by']} time: {top}")
    return out


def summary(result: dict) -> str:
    """The lines ``python -m aigc_course bench`` prints."""
    ref = result["reference"]["img_per_s"]
    lines = [f"device: {result['device']} | torch {result['torch']} | recipe {result['recipe']} | batch "
             f"{result['batch_size']} | {result['seconds_per_side']:g} s per side in {result['rounds']} rounds",
             f"{'reference (DataLoader, fp32, eager)':<40} {ref['median']:9.1f} img/s "
             f"(range {ref['min']:.0f}-{ref['max']:.0f})"]
    for row in result["rows"]:
        r, sp = row["img_per_s"], row["speedup"]
        lines.append(f"{row['name']:<40} {r['median']:9.1f} img/s (range {r['min']:.0f}-{r['max']:.0f})  "
                     f"speedup {sp['median']:.2f}x ({sp['min']:.2f}-{sp['max']:.2f})"
                     + (f", MFU {row['mfu']:.1%}" if row["mfu"] else "")
                     + (f", compile {row['compile_s']:.1f} s (not timed)" if row["compile_s"] else ""))
    return "\n".join(lines + [f"note: {n}" for n in result["notes"]])
