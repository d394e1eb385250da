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
import os
import platform
import time
from pathlib import Path
from typing import Iterator

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torch.utils.flop_counter import FlopCounterMode

from . import data, metrics, recipes, runtime
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
# Measured on the 2-core AMD EPYC that made benchmarks/results/bench-cpu.json (dcgan-fashion, batch 128,
# 1 thread, steps of the two variants alternated so that other load hits both alike): channels_last made
# the trainer's step 1.08x faster than NCHW (182 vs 197 ms); inductor took 35-60 s to compile G and D and
# its steps were slower than eager (387 vs 282 ms with channels_last, 522 vs 349 ms in NCHW, both under heavier load).
CPU_COMPILE_REASON = ("off on CPU: measured slower than eager (inductor took 35-60 s to compile, then its "
                      "steps were ~1.4x slower than eager oneDNN convolutions)")
CPU_CHANNELS_LAST_REASON = "on: measured ~1.08x faster steps (oneDNN convolutions) than NCHW on this CPU"
# Same machine and protocol: bf16 autocast (AVX512-BF16) took the speedup over the reference from 0.94x to
# 1.43x; reusing the D step's fakes for the G step on top of it, to 1.65x.
CPU_AMP_REASON = {True: "on (amp=True): this CPU has native bf16 (AVX512-BF16/AMX), measured ~1.5x faster steps",
                  False: "off: amp=True would fall back to fp32, this CPU has no native bf16 (emulated bf16 is slower)"}
REUSE_FAKES_REASON = ("on: the G step reuses the D step's fakes, one G forward per step as in the reference "
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
                    num_workers: int = 0) -> Iterator[tuple[int, float, float]]:
    """Train ``G``, ``D`` in place the way ``pytorch/examples`` ``dcgan/main.py`` does, epoch after
    epoch; yield ``(batch size, err_d, err_g)`` after every step."""
    loader = DataLoader(_ExampleImages(images), batch_size=cfg.batch_size, shuffle=True, num_workers=num_workers,
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
            noise = torch.randn(b, G.z_dim, device=dev)  # (B, z_dim)
            fake = G(noise)
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


def autocast_dtype(dev: torch.device) -> torch.dtype | None:
    """The dtype ``runtime.autocast(dev, enabled=True)`` (what ``TrainConfig(amp=True)`` asks for) really
    computes matmuls and convolutions in on ``dev``; None when it leaves them in fp32 (CPUs without
    native bf16, with a warning)."""
    with runtime.autocast(dev, True):
        return torch.get_autocast_dtype(dev.type) if torch.is_autocast_enabled(dev.type) else None


def fast_settings(dev: torch.device, compile: bool | None = None, channels_last: bool | None = None) -> dict:
    """The fast path's switches on ``dev`` (``None`` = the course's choice, measured on CPU) and the reasons."""
    cuda = dev.type == "cuda"
    compile_reason = "as asked" if compile is not None else ("on with CUDA" if cuda else CPU_COMPILE_REASON)
    channels_reason = ("as asked" if channels_last is not None
                       else "on with CUDA (tensor-core convolutions)" if cuda else CPU_CHANNELS_LAST_REASON)
    amp = autocast_dtype(dev)
    return {"loader": "data.TensorLoader: uint8 images on the device, batches scaled to [-1, 1] there",
            "amp": str(amp).replace("torch.", "") + " autocast" if amp is not None else False,
            "amp_reason": "on with CUDA (tensor cores)" if cuda else CPU_AMP_REASON[amp is not None],
            "compile": cuda if compile is None else compile, "compile_reason": compile_reason,
            "channels_last": True if channels_last is None else channels_last,
            "channels_last_reason": channels_reason,
            "reuse_fakes": True, "reuse_fakes_reason": REUSE_FAKES_REASON,
            "optimizer": "Adam, fused" if cuda else "Adam, foreach (multi-tensor)",
            "loss": "softplus on logits (losses.gan_d_loss, losses.gan_g_nonsaturating)",
            "logging": "losses read back every log_every steps",
            "g_step": "reuses the D step's fake batch (reuse_fakes=True); D's weights frozen (no weight "
                      "gradients for D in the G step)"}


def _ours_config(cfg: TrainConfig, settings: dict, log_every: int, steps: int = 10**9) -> TrainConfig:
    return cfg.replace(steps=steps, amp=bool(settings["amp"]), compile=settings["compile"],
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


def profile_sides(G: nn.Module, D: nn.Module, images: torch.Tensor, cfg: TrainConfig, dev: torch.device,
                  settings: dict, *, steps: int = 5, warmup_steps: int = 3, num_workers: int = 0) -> dict:
    """``torch.profiler`` over ``steps`` steps of each side (after ``warmup_steps``, on copies of the
    models): per side the time per step, the top ops by self time (GPU time on CUDA) and the shares of
    the wall time spent loading data, in optimizer steps and in convolutions."""
    from torch.profiler import ProfilerActivity, profile

    cuda = dev.type == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])

    def measure(run) -> dict:
        with profile(activities=activities) as prof:
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


# --- quality at equal wall-clock -----------------------------------------------------------

@torch.no_grad()
def _samples(G: nn.Module, n: int, seed: int, dev: torch.device, batch: int = 500) -> torch.Tensor:
    """``n`` samples of ``G`` in eval mode from seeded noise: float (n, C, H, W) in [-1, 1] on the CPU."""
    gen = torch.Generator().manual_seed(seed)
    G.eval()
    out = torch.cat([G.sample(min(batch, n - i), generator=gen, device=dev).float().cpu() for i in range(0, n, batch)])
    G.train()
    return out


def quality(G_ref: nn.Module, G_ours: nn.Module, test_images: torch.Tensor, dev: torch.device, n: int = 2000) -> dict:
    """FID of both generators against ``n`` test images in the course classifier's feature space, and
    the real-vs-real floor (another ``n`` test images against the same ones)."""
    if len(test_images) < 2 * n:
        raise ValueError(f"the FID comparison needs 2 x {n} test images, got {len(test_images)}")
    clf = recipes.classifier(dev)
    real = metrics.extract_features(clf, test_images[:n])

    def fid_of(G: nn.Module) -> float:
        return metrics.fid_from_features(metrics.extract_features(clf, _samples(G, n, seed=1, dev=dev)), real)

    return {"reference_fid": fid_of(G_ref), "ours_fid": fid_of(G_ours),
            "fid_real_floor": metrics.fid_from_features(metrics.extract_features(clf, test_images[n:2 * n]), real),
            "fid_samples": n}


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


def run_bench(model_cfg: GANConfig, cfg: TrainConfig, images: torch.Tensor, *, seconds: float = 20.0,
              device: torch.device | str | None = None, warmup_steps: int = 10, rounds: int = 4,
              compile: bool | None = None, channels_last: bool | None = None,
              test_images: torch.Tensor | None = None, fid_samples: int = 2000, profile_steps: int = 5,
              recipe: str = "custom") -> dict:
    """Benchmark the reference loop against ``train_gan`` on one device; return the results dict.

    ``images``: uint8 training images (N, C, H, W). Each side: ``warmup_steps`` untimed steps, then
    ``seconds`` of timed training in ``rounds`` alternating turns. ``compile``/``channels_last``:
    ``None`` = the course's choice for the device. ``test_images`` turns on the FID comparison with
    ``fid_samples`` samples; ``profile_steps`` > 0 adds a profile of each side.
    """
    dev = runtime.device(device)
    if not seconds > 0 or rounds < 1 or warmup_steps < 1:
        raise ValueError(f"need seconds > 0, rounds >= 1 and warmup_steps >= 1; got {seconds}, {rounds}, {warmup_steps}")
    settings = fast_settings(dev, compile, channels_last)
    workers, workers_reason = reference_workers(dev)
    benchmark_before = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = True  # the example sets it; it helps both sides on CUDA
    try:
        runtime.set_seed(cfg.seed)
        G0, D0 = (m.to(dev) for m in build_gan(model_cfg))  # the common initial weights
        G_ref, D_ref, G_ours, D_ours = (copy.deepcopy(m) for m in (G0, D0, G0, D0))
        load_before = os.getloadavg()
        ref_steps = reference_steps(G_ref, D_ref, images, cfg, dev, workers)
        warm = run_steps(ref_steps, dev, n=warmup_steps)
        # ours' timing points: about 50 per round at the reference's rate (1 per step on a CPU)
        chunk = max(1, min(100, round(seconds / rounds / 50 / (warm["timed_s"] / max(1, warm["steps"])))))
        our_steps = ours_trainer(G_ours, D_ours, images, cfg, dev, settings, log_every=chunk).steps()
        our_warm = run_ours(our_steps, dev, n=warmup_steps)
        ref = {"steps": 0, "images": 0, "timed_s": 0.0}
        ours = {"steps": 0, "timed_s": 0.0}
        for _ in range(rounds):  # alternate turns, so a busy machine slows both alike
            turn = run_ours(our_steps, dev, seconds=seconds / rounds)
            ours = {k: ours[k] + turn[k] for k in ours}
            turn = run_steps(ref_steps, dev, seconds=seconds / rounds)
            ref = {**{k: ref[k] + turn[k] for k in ("steps", "images", "timed_s")}, "last_losses": turn["last_losses"]}
        our_steps.close()
        load_after = os.getloadavg()
        ref.update(img_per_s=ref["images"] / ref["timed_s"], first_losses=warm["first_losses"],
                   warmup_s=warm["timed_s"])
        ours.update(images=ours["steps"] * cfg.batch_size, warmup_s=our_warm["timed_s"],
                    # compilation happens in the warm-up: its time minus the same steps at the steady rate
                    compile_s=(max(0.0, our_warm["timed_s"] - warmup_steps * ours["timed_s"] / ours["steps"])
                               if settings["compile"] else 0.0))
        ours["img_per_s"] = ours["images"] / ours["timed_s"]
        flops = {"reference": step_flops(G0, D0, images, cfg, dev, None) / cfg.batch_size,
                 "ours": step_flops(G0, D0, images, cfg, dev, settings) / cfg.batch_size}
        result = _results(dev, recipe, model_cfg, cfg, seconds, warmup_steps, rounds, ref, ours, settings,
                          workers, workers_reason, flops)
        result["load_average"] = {"before": [round(x, 2) for x in load_before],
                                  "after": [round(x, 2) for x in load_after]}
        if test_images is not None:
            result.update(quality(G_ref, G_ours, test_images, dev, fid_samples))
            result["quality_protocol"] = (f"same initial weights; each side trained {warmup_steps} warm-up steps, "
                                          f"then {rounds} turns of {seconds / rounds:g} s; samples from G in eval mode")
        if profile_steps:
            result["profile"] = profile_sides(G0, D0, images, cfg, dev, settings, steps=profile_steps,
                                              num_workers=workers)
        result["notes"] = notes(result)
        return result
    finally:
        torch.backends.cudnn.benchmark = benchmark_before


def _results(dev, recipe, model_cfg, cfg, seconds, warmup_steps, rounds, ref, ours, settings, workers,
             workers_reason, flops) -> dict:
    peak, peak_key = peak_bf16_flops(dev)
    target = TARGET_SPEEDUP["cuda" if dev.type == "cuda" else "cpu"]
    speedup = ours["img_per_s"] / ref["img_per_s"]
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "device": device_name(dev), "device_type": dev.type, "torch": torch.__version__,
        "python": platform.python_version(), "threads": torch.get_num_threads(),
        "recipe": recipe, "model": model_cfg.to_dict(), "batch_size": cfg.batch_size,
        "train_config": {"lr": cfg.lr, "lr_d": cfg.lr_d, "betas": list(cfg.betas), "loss": cfg.loss},
        "seconds": seconds, "warmup_steps": warmup_steps, "rounds": rounds,
        "reference_img_per_s": ref["img_per_s"], "ours_img_per_s": ours["img_per_s"], "speedup": speedup,
        "target_speedup": target, "target_met": speedup >= target,
        "compile_s": ours["compile_s"],
        "flops_per_img": flops,
        "peak_bf16_flops": peak, "peak_entry": peak_key,
        "mfu": ({side: flops[side] * r["img_per_s"] / peak for side, r in (("reference", ref), ("ours", ours))}
                if peak else None),
        "reference": {**ref, "settings": {
            "loader": f"torch.utils.data.DataLoader(map-style Dataset, uint8 -> float per sample in __getitem__, "
                      f"shuffle=True, num_workers={workers})",
            "num_workers": workers, "num_workers_reason": workers_reason,
            "amp": False, "compile": False, "channels_last": False,
            "optimizer": "Adam(lr, betas), default implementation",
            "loss": "nn.BCELoss on torch.sigmoid(D(x)) (the example's D ends in nn.Sigmoid)",
            "logging": "five .item() reads per step, as the example prints them (the printing is left out)",
            "g_step": "reuses the D step's fake batch; D's weight gradients computed and discarded",
            "transfer": ".to(device) per batch", "cudnn_benchmark": dev.type == "cuda"}},
        "ours": {**ours, "settings": {**settings, "cudnn_benchmark": dev.type == "cuda"}},
        "work_per_step": work_per_step(settings, flops),
    }


def work_per_step(settings: dict, flops: dict) -> dict:
    """Do both sides do the same work per step? Real and fake images, G forwards, and the FLOPs."""
    same = settings["reuse_fakes"]  # the reference always reuses the D step's fakes
    return {"same": same,
            "g_forwards": {"reference": 1, "ours": 1 if same else 2},
            "images": "per step each side: one real batch and one fake batch of batch_size",
            "flops_ratio_ours_to_reference": flops["ours"] / flops["reference"],
            "difference": ("same fakes and forwards; ours skips D's weight gradients in the G step, so it does "
                           "fewer FLOPs" if same else "ours draws fresh noise for the G step: a second G forward")}


def notes(result: dict) -> list[str]:
    """Sentences on the result: target met or not, and where each side's time goes (from the profile)."""
    out = [f"speedup {result['speedup']:.2f}x: target {result['target_speedup']:g}x "
           f"{'met' if result['target_met'] else 'MISSED'} on {result['device']}"]
    if result["device_type"] == "cpu":
        s = result["ours"]["settings"]
        out.append(f"fast path on CPU: amp={s['amp']} ({s['amp_reason']}), "
                   f"channels_last={s['channels_last']} ({s['channels_last_reason']}), "
                   f"compile={s['compile']} ({s['compile_reason']})")
    work = result["work_per_step"]
    out.append(f"ours does {work['flops_ratio_ours_to_reference'] - 1:+.0%} FLOPs per image vs the reference; "
               f"same work per step: {work['same']} ({work['difference']})")
    if "ours_fid" in result:
        better = result["ours_fid"] < result["reference_fid"]
        out.append(f"FID after equal training time: reference {result['reference_fid']:.2f}, ours "
                   f"{result['ours_fid']:.2f} ({'lower' if better else 'higher'} for ours, which took "
                   f"{result['ours']['steps'] / result['reference']['steps']:.2f}x the reference's steps with "
                   f"amp={result['ours']['settings']['amp']})")
    for side, prof in result.get("profile", {}).items():
        shares = ", ".join(f"{k} {v:.0%}" for k, v in prof["shares"].items())
        top = ", ".join(f"{op['op']} {op['share']:.0%}" for op in prof["top_ops"][:4])
        out.append(f"{side}: {prof['ms_per_step']:.1f} ms/step under the profiler; share of wall time: {shares}; "
                   f"top ops by self {prof['ranked_by']} time: {top}")
    return out


def summary(result: dict) -> str:
    """The lines ``python -m aigc_course bench`` prints."""
    lines = [f"device: {result['device']} | torch {result['torch']} | recipe {result['recipe']} | "
             f"batch {result['batch_size']} | {result['seconds']:g} s timed per side in {result['rounds']} turns",
             f"reference (DataLoader, fp32, eager): {result['reference_img_per_s']:10.1f} img/s",
             f"ours (train_gan fast path):          {result['ours_img_per_s']:10.1f} img/s"
             + (f"  (compile {result['compile_s']:.1f} s, not timed)" if result["ours"]["settings"]["compile"] else ""),
             f"speedup: {result['speedup']:.2f}x (target {result['target_speedup']:g}x: "
             f"{'met' if result['target_met'] else 'missed'})",
             f"FLOPs per image (one training step / batch): reference {result['flops_per_img']['reference'] / 1e6:.1f} M, "
             f"ours {result['flops_per_img']['ours'] / 1e6:.1f} M"]
    if result["mfu"]:
        lines.append(f"MFU vs bf16 peak ({result['peak_entry']}): reference {result['mfu']['reference']:.2%}, "
                     f"ours {result['mfu']['ours']:.2%}")
    if "ours_fid" in result:
        lines.append(f"FID after equal training time ({result['fid_samples']} samples): reference "
                     f"{result['reference_fid']:.2f}, ours {result['ours_fid']:.2f}, real-vs-real floor "
                     f"{result['fid_real_floor']:.2f}")
    return "\n".join(lines + [f"note: {n}" for n in result["notes"][1:]])


def cmd_bench(args) -> int:
    """``python -m aigc_course bench``: run :func:`run_bench` on a recipe, print, optionally write JSON."""
    recipe = recipes.get_recipe(args.recipe)
    check_recipe(recipe)
    if not args.seconds > 0:
        raise ValueError(f"--seconds must be > 0, got {args.seconds}")
    runtime.set_threads()  # AIGC_THREADS or all cores, the same for both sides
    train_images = data.load(recipe.data, "train").images
    test_images = data.load(recipe.data, "test").images if args.quality else None
    result = run_bench(recipe.model, recipe.config(), train_images, seconds=args.seconds, test_images=test_images,
                       recipe=recipe.name)
    threads = f"AIGC_THREADS={os.environ['AIGC_THREADS']} " if os.environ.get("AIGC_THREADS") else ""
    result["command"] = (f"{threads}python -m aigc_course bench --recipe {recipe.name} --seconds {args.seconds:g}"
                         + (" --quality" if args.quality else "") + (f" --json {args.json}" if args.json else ""))
    print(summary(result))
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {path}")
    return 0
