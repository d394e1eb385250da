"""Quality per minute: the course's recipes against the reference recipes, at equal wall-clock time.

    python -m aigc_course bench --quality [--seeds 3] [--json benchmarks/results/quality-cpu.json]

Both sides train on the same machine in alternating turns (so a busy machine slows both alike), each
with all the cores; every number is measured in the run that writes the file.

* **GAN**: our ``dcgan-fashion`` recipe as learners run it (``Trainer``, data on the device, the
  hardware's native precision, EMA generator) against the loop of ``pytorch/examples`` ``dcgan``
  with its own defaults adapted to 28x28 grey images (``bench.reference_steps``: z 100, 64 feature
  maps, batch 64, Adam 2e-4 / (0.5, 0.999), a ``DataLoader``, fp32). Turns of ``turn_s`` seconds;
  FID (10,000 samples, the course classifier's features, against the 10,000 test images) after
  each side has trained ``budgets`` seconds, and both at the same number of steps.
* **VAE**: our ``vae-mlp-fashion`` recipe (and, for the record, the convolutional ``vae-fashion``) against
  the MLP VAE of ``pytorch/examples`` ``vae``
  (784-400-20, BCE summed over pixels + KL, Adam 1e-3, batch 128, a ``DataLoader`` over [0, 1] pixels).
  The reference trains one epoch per turn, then ours trains as long as that epoch took; after each
  turn both are scored on the same test loss: BCE + KL in nats per image on the 10,000 test images
  (one z per image, the same seed for both). On grey levels this Bernoulli "likelihood" is a
  cross-entropy, not a density (Part III): it is the example's loss, used here as a score.
* **Diffusion** (``--parts diffusion``): our ``flow-fashion`` recipe (flow matching, velocity target,
  logit-normal times, EMA, the hardware's precision, Heun sampler), made unconditional, against a loop
  written like the original DDPM recipe (Ho et al. 2020, as the Hugging Face course's from-scratch
  notebook): the same U-Net predicting the noise, linear betas over 1000 steps, a ``DataLoader``, fp32, no
  EMA, and 1000-step ancestral sampling (Algorithm 2). The same learning rate and gradient clipping on both
  sides. Equal training time in alternating turns; FID of ``diffusion_samples`` samples (against the
  10,000 test images) with an equal sampling budget (about 50 network evaluations each: Heun 25 steps
  for ours, 50 strided ancestral steps for the reference) and, at the last budget, the reference's own
  1000 steps on fewer samples (``diffusion_native_samples``).

Results: one row per model and time budget with ``seconds``, ``metric``, ``ours`` and ``reference``
(means over seeds, lower is better) and their spread (std and min/max over seeds). Introduced in 4.6.
"""
from __future__ import annotations

import copy
import datetime
import os
import platform
import statistics
import time
from typing import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset

from . import data, kinds, losses, metrics, recipes, runtime
from .bench import _sync, device_name, reference_steps
from .config import GANConfig, TrainConfig
from .diffusion import DDPM_BETAS, DDPM_STEPS, Diffusion, DiffusionConfig
from .gan import build_gan
from .nn import eval_mode
from .train import trainer_for

# pytorch/examples dcgan/main.py defaults (nz, ngf = ndf, batch size, lr, beta1), on 28x28 grey images.
REFERENCE_DCGAN = GANConfig(kind="dcgan", z_dim=100, width=64, img_size=28, channels=1)
REFERENCE_DCGAN_TRAIN = TrainConfig(batch_size=64, lr=2e-4, lr_d=2e-4, betas=(0.5, 0.999))


# --- the reference VAE: pytorch/examples vae/main.py ----------------------------------------------

class ExampleVAE(nn.Module):
    """The MLP VAE of ``pytorch/examples``: 784 -> 400 -> (mu, logvar) of 20; 20 -> 400 -> 784."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc21, self.fc22 = nn.Linear(784, 400), nn.Linear(400, 20), nn.Linear(400, 20)
        self.fc3, self.fc4 = nn.Linear(20, 400), nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def decode_logits(self, z):
        return self.fc4(F.relu(self.fc3(z)))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)  # reparameterize
        return torch.sigmoid(self.decode_logits(z)), mu, logvar


class _Pixels01(Dataset):
    """Per sample, uint8 -> float in [0, 1], as ``transforms.ToTensor()`` does in the example."""

    def __init__(self, images: torch.Tensor):
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        return self.images[i].float().div(255), 0


def example_vae_epochs(model: ExampleVAE, images: torch.Tensor, seed: int) -> Iterator[int]:
    """Train ``model`` as the example's ``train(epoch)`` does, one epoch per ``next``; yields images seen."""
    loader = DataLoader(_Pixels01(images), batch_size=128, shuffle=True, generator=torch.Generator().manual_seed(seed))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    while True:
        seen = 0
        for x, _ in loader:
            opt.zero_grad()
            recon, mu, logvar = model(x)
            bce = F.binary_cross_entropy(recon, x.view(-1, 784), reduction="sum")
            kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
            loss = bce + kld
            loss.backward()
            opt.step()
            loss.item()  # the example logs loss.item() / len(data) every few batches
            seen += len(x)
        yield seen


@torch.no_grad()
def vae_test_loss(encode: Callable, decode_logits: Callable, images: torch.Tensor, batch: int = 1000,
                  seed: int = 12345) -> float:
    """Mean over ``images`` of BCE (summed over pixels, targets in [0, 1]) + KL(q(z|x) || N(0, I)), in nats,
    with one z ~ q(z|x) per image drawn from a fixed seed: the example's test loss, for any VAE.
    ``encode`` takes pixels in [0, 1]; ``decode_logits`` returns Bernoulli logits."""
    gen = torch.Generator().manual_seed(seed)
    total = 0.0
    for start in range(0, len(images), batch):
        x = images[start:start + batch].float().div(255)                           # (B, 1, 28, 28) in [0, 1]
        mu, logvar = encode(x)
        z = mu + torch.randn(mu.shape, generator=gen) * torch.exp(0.5 * logvar)
        logits = decode_logits(z).reshape(len(x), -1)
        log_px = losses.bernoulli_log_likelihood(logits, x.reshape(len(x), -1))     # (B,)
        total += (-log_px + losses.gaussian_kl(mu, logvar)).sum().item()
    return total / len(images)


# --- our side, driven through Trainer.steps() --------------------------------------------------------

class _Ours:
    """A recipe trained by its registered trainer, one turn at a time, as learners run it."""

    def __init__(self, recipe_name, seed: int, dev: torch.device, snapshot_every: int = 0):
        recipe = recipes.get_recipe(recipe_name)
        self.cfg = recipe.full.replace(steps=10**9, seed=seed, ckpt_every=0, sample_every=0)
        runtime.set_seed(seed)
        self.models = {k: m.to(dev) for k, m in recipe.build().items()}
        loader = recipes.make_data(recipe, device=dev, profile="full", seed=seed)
        self.trainer = trainer_for(recipe.kind)(self.models, loader, self.cfg, progress=False)
        self.steps = self.trainer.steps()
        self.dev, self.snapshot_every, self.snapshots = dev, snapshot_every, {}
        self.timed_s, self.done = 0.0, 0

    def sampler(self) -> nn.Module:
        return kinds.sampler_of(self.trainer.kind, self.models, self.trainer.ema)

    def run(self, seconds: float) -> None:
        _sync(self.dev)
        t0 = time.perf_counter()
        for _ in self.steps:
            self.done += 1
            if self.snapshot_every and self.done % self.snapshot_every == 0:
                self.snapshots[self.done] = copy.deepcopy(self.sampler()).cpu()
            if time.perf_counter() - t0 >= seconds:
                break
        _sync(self.dev)
        self.timed_s += time.perf_counter() - t0


# --- GAN: FID at equal time and at equal steps ------------------------------------------------------

def _fid(G: nn.Module, clf: nn.Module, test_feats: torch.Tensor, n: int, dev: torch.device) -> float:
    gen = torch.Generator().manual_seed(7)
    G = G.to(dev)
    with eval_mode(G), torch.no_grad():
        samples = torch.cat([G.sample(min(500, n - i), generator=gen).float().cpu() for i in range(0, n, 500)])
    return metrics.fid(metrics.extract_features(clf, samples), test_feats)


def gan_quality(seed: int, budgets: tuple[float, ...], turn_s: float, n: int, dev: torch.device,
                clf: nn.Module, test_feats: torch.Tensor, train_images: torch.Tensor) -> dict:
    """One seed of the GAN comparison: FID of each side after each budget, and at equal steps."""
    runtime.set_seed(seed)
    G_ref, D_ref = (m.to(dev) for m in build_gan(REFERENCE_DCGAN))
    ref_steps = reference_steps(G_ref, D_ref, train_images, REFERENCE_DCGAN_TRAIN.replace(seed=seed), dev)
    ours = _Ours("dcgan-fashion", seed, dev, snapshot_every=100)
    ref = {"timed_s": 0.0, "steps": 0, "snapshots": {}}
    out: dict = {"seed": seed, "ours": {}, "reference": {}}
    for budget in budgets:
        while ref["timed_s"] < budget - 1e-9:
            slice_s = min(turn_s, budget - ref["timed_s"])
            ours.run(slice_s)
            _sync(dev)
            t0 = time.perf_counter()
            for _ in ref_steps:
                ref["steps"] += 1
                if ref["steps"] % 100 == 0:
                    ref["snapshots"][ref["steps"]] = copy.deepcopy(G_ref).cpu()
                if time.perf_counter() - t0 >= slice_s:
                    break
            _sync(dev)
            ref["timed_s"] += time.perf_counter() - t0
        out["ours"][budget] = {"fid": _fid(copy.deepcopy(ours.sampler()), clf, test_feats, n, dev),
                               "steps": ours.done, "timed_s": ours.timed_s}
        out["reference"][budget] = {"fid": _fid(copy.deepcopy(G_ref), clf, test_feats, n, dev),
                                    "steps": ref["steps"], "timed_s": ref["timed_s"]}
    ours.steps.close()
    equal = min(max(ours.snapshots, default=0), max(ref["snapshots"], default=0))
    if equal:
        out["equal_steps"] = {"steps": equal, "ours": _fid(ours.snapshots[equal], clf, test_feats, n, dev),
                              "reference": _fid(ref["snapshots"][equal], clf, test_feats, n, dev)}
    return out


# --- VAE: test loss after each of the reference's epochs, at the same time for ours -------------------

def vae_quality(seed: int, epochs: int, dev: torch.device, train_images: torch.Tensor,
                test_images: torch.Tensor, ours: tuple = ("vae-mlp-fashion", "vae-fashion")) -> dict:
    """One seed: the reference trains one epoch per turn; then each of our recipes trains as long as that
    epoch took; after each turn every model is scored on the same test loss."""
    torch.manual_seed(seed)
    ref_model = ExampleVAE()
    ref_epochs = example_vae_epochs(ref_model, train_images, seed)
    sides = {name: _Ours(name, seed, dev) for name in ours}
    rows, ref_s = [], 0.0
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        next(ref_epochs)
        epoch_s = time.perf_counter() - t0
        ref_s += epoch_s
        for side in sides.values():
            side.run(epoch_s)  # the same wall-clock time as that epoch took
        with eval_mode(ref_model):
            row = {"epoch": epoch, "seconds": ref_s, "reference": vae_test_loss(
                lambda x: ref_model.encode(x.reshape(len(x), -1)), ref_model.decode_logits, test_images)}
        for name, side in sides.items():
            vae = copy.deepcopy(side.models["model"]).cpu().eval()
            row[name] = {"loss": vae_test_loss(lambda x: vae.encode(x * 2 - 1), vae.decode, test_images),
                         "seconds": side.timed_s, "steps": side.done}
        rows.append(row)
    for side in sides.values():
        side.steps.close()
    return {"seed": seed, "rows": rows}


# --- diffusion: our flow-matching recipe vs a DDPM loop as in the original paper --------------------

class _Images11(Dataset):
    """Per sample, uint8 -> float in [-1, 1], as ``ToTensor()`` + ``Normalize(0.5, 0.5)``."""

    def __init__(self, images: torch.Tensor):
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        return self.images[i].float().div(127.5).sub(1), 0


def ddpm_reference_config(ours: DiffusionConfig) -> DiffusionConfig:
    """Our U-Net, unconditional, read as DDPM reads it: noise prediction, linear betas, integer steps."""
    return ours.replace(n_classes=0, schedule="ddpm", prediction="eps", time_sampling="discrete", t_min=0.0)


def ddpm_reference_steps(model: Diffusion, images: torch.Tensor, seed: int, dev: torch.device, lr: float,
                         grad_clip: float, batch_size: int = 128) -> Iterator[float]:
    """Algorithm 1 of Ho et al. 2020 as a plain loop, one optimiser step per ``next``; yields the loss."""
    betas = torch.linspace(*DDPM_BETAS, DDPM_STEPS)
    alpha_bar = torch.cumprod(1 - betas, dim=0).to(dev)
    loader = DataLoader(_Images11(images), batch_size=batch_size, shuffle=True, drop_last=True,
                        generator=torch.Generator().manual_seed(seed))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    while True:
        for x, _ in loader:
            x = x.to(dev)
            t = torch.randint(0, DDPM_STEPS, (len(x),), device=dev)           # step t + 1 of 1..1000
            noise = torch.randn_like(x)
            a = alpha_bar[t].view(-1, 1, 1, 1)
            x_t = a.sqrt() * x + (1 - a).sqrt() * noise
            loss = F.mse_loss(model(x_t, (t + 1).float() / DDPM_STEPS), noise)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            opt.step()
            yield loss.item()


@torch.no_grad()
def ddpm_reference_sample(model: Diffusion, n: int, generator: torch.Generator, batch: int = 250) -> torch.Tensor:
    """Algorithm 2 of Ho et al. 2020: 1000 ancestral steps with sigma_t^2 = beta_t; images in [-1, 1]."""
    betas = torch.linspace(*DDPM_BETAS, DDPM_STEPS, dtype=torch.float64)
    alphas, alpha_bar = 1 - betas, torch.cumprod(1 - betas, dim=0)
    dev = next(model.parameters()).device
    out = []
    with eval_mode(model):
        for start in range(0, n, batch):
            m = min(batch, n - start)
            x = torch.randn(m, *model.data_shape, generator=generator).to(dev)
            for t in reversed(range(DDPM_STEPS)):
                eps = model(x, torch.full((m,), (t + 1) / DDPM_STEPS, device=dev)).float()
                x = (x - float(betas[t] / (1 - alpha_bar[t]).sqrt()) * eps) / float(alphas[t].sqrt())
                if t > 0:
                    x = x + float(betas[t].sqrt()) * torch.randn(x.shape, generator=generator).to(dev)
            out.append(x.clamp(-1, 1).cpu())
    return torch.cat(out)


def _diffusion_fid(sample: Callable[[int, torch.Generator], torch.Tensor], n: int, clf: nn.Module,
                   test_feats: torch.Tensor) -> float:
    """FID of ``n`` samples; both sides sample with the network in bf16 where the hardware has it natively
    (the integration state stays fp32: on a CPU with AMX, 49 evaluations of 48 images differ from fp32 by
    an RMS of 0.002 on [-1, 1], and run 2.3 times faster), the classifier's features in fp32."""
    with runtime.autocast(next(clf.parameters()).device):
        images = sample(n, torch.Generator().manual_seed(7))
    return metrics.fid(metrics.extract_features(clf, images.float().cpu()), test_feats)


def diffusion_quality(seed: int, budgets: tuple[float, ...], turn_s: float, n: int, n_native: int,
                      dev: torch.device, clf: nn.Module, test_feats: torch.Tensor, train_images: torch.Tensor) -> dict:
    """One seed of the diffusion comparison: FID of each side after each training budget."""
    recipe = recipes.get_recipe("flow-fashion")
    ours_recipe = recipes.Recipe("flow-fashion-unconditional", recipe.kind, recipe.model.replace(n_classes=0),
                                 recipe.data, recipe.quick, recipe.full)
    ours = _Ours(ours_recipe, seed, dev)
    runtime.set_seed(seed)
    ref_model = Diffusion(ddpm_reference_config(recipe.model)).to(dev)
    ref_steps = ddpm_reference_steps(ref_model, train_images, seed, dev, recipe.full.lr, recipe.full.grad_clip)
    ref = {"timed_s": 0.0, "steps": 0}
    out: dict = {"seed": seed, "ours": {}, "reference": {}}
    for budget in budgets:
        while ref["timed_s"] < budget - 1e-9:
            slice_s = min(turn_s, budget - ref["timed_s"])
            ours.run(slice_s)
            t0 = time.perf_counter()
            for _ in ref_steps:
                ref["steps"] += 1
                if time.perf_counter() - t0 >= slice_s:
                    break
            ref["timed_s"] += time.perf_counter() - t0
        sampler = copy.deepcopy(ours.sampler()).eval()
        out["ours"][budget] = {"steps": ours.done, "timed_s": ours.timed_s, "fid": _diffusion_fid(
            lambda k, g: sampler.sample(k, g, steps=25, sampler="heun"), n, clf, test_feats)}
        out["reference"][budget] = {"steps": ref["steps"], "timed_s": ref["timed_s"], "fid": _diffusion_fid(
            lambda k, g: ref_model.eval().sample(k, g, steps=50, sampler="ancestral"), n, clf, test_feats)}
        ref_model.train()
    last = budgets[-1]
    out["reference"][last]["fid_native"] = _diffusion_fid(
        lambda k, g: ddpm_reference_sample(ref_model, k, g), n_native, clf, test_feats)
    out["ours"][last]["fid_native_n"] = _diffusion_fid(  # ours on as many samples, for a fair FID
        lambda k, g: sampler.sample(k, g, steps=25, sampler="heun"), n_native, clf, test_feats)
    ours.steps.close()
    return out


# --- everything, and the results file -----------------------------------------------------------------

def _spread(values: list[float]) -> dict:
    return {"mean": statistics.fmean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values), "max": max(values), "values": values}


def run_quality(seeds: int = 3, budgets: tuple[float, ...] = (120.0, 600.0), turn_s: float = 30.0,
                fid_samples: int = 10_000, vae_epochs: int = 10, device: torch.device | str | None = None,
                parts: tuple[str, ...] = ("vae", "gan"), progress: Callable[[str], None] = print,
                diffusion_budgets: tuple[float, ...] = (180.0, 420.0), diffusion_samples: int = 500,
                diffusion_native_samples: int = 100) -> dict:
    dev = runtime.device(device)
    train, test = data.load("fashion-mnist", "train"), data.load("fashion-mnist", "test")
    result: dict = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                    "device": device_name(dev), "torch": torch.__version__, "python": platform.python_version(),
                    "threads": torch.get_num_threads(), "seeds": seeds, "load_average_before": os.getloadavg(),
                    "ours_settings": runtime.fast_path(dev), "rows": []}
    if "vae" in parts:
        ours = ("vae-mlp-fashion", "vae-fashion")
        runs = []
        for seed in range(seeds):
            runs.append(vae_quality(seed, vae_epochs, dev, train.images, test.images, ours))
            last = runs[-1]["rows"][-1]
            progress(f"VAE seed {seed}: after {last['seconds']:.0f} s, reference {last['reference']:.2f}, "
                     + ", ".join(f"{name} {last[name]['loss']:.2f}" for name in ours) + " nats/image")
        result["vae_runs"] = runs
        for name in ours:
            for e in range(vae_epochs):
                per = [r["rows"][e] for r in runs]
                result["rows"].append({
                    "model": "vae", "budget": f"reference epoch {e + 1}",
                    "seconds": statistics.fmean(p["seconds"] for p in per),
                    "metric": "test BCE + KL, nats/image (lower is better)",
                    "ours_recipe": name, "reference_recipe": "pytorch/examples vae (MLP 784-400-20)",
                    "ours": _spread([p[name]["loss"] for p in per]), "reference": _spread([p["reference"] for p in per])})
    if "gan" in parts:
        clf = recipes.classifier(dev)
        test_feats = metrics.extract_features(clf, test.images[:fid_samples])
        result["fid_real_floor"] = metrics.fid(metrics.extract_features(clf, train.images[:fid_samples]), test_feats)
        runs = []
        for seed in range(seeds):
            runs.append(gan_quality(seed, budgets, turn_s, fid_samples, dev, clf, test_feats, train.images))
            progress(f"GAN seed {seed}: " + ", ".join(
                f"{b:.0f} s: ours {runs[-1]['ours'][b]['fid']:.2f}, reference {runs[-1]['reference'][b]['fid']:.2f}"
                for b in budgets))
        result["gan_runs"] = [{**r, "ours": {str(k): v for k, v in r["ours"].items()},
                               "reference": {str(k): v for k, v in r["reference"].items()}} for r in runs]
        for b in budgets:
            result["rows"].append({
                "model": "gan", "budget": f"{b:.0f} s each", "seconds": b,
                "metric": f"FID, {fid_samples} samples, classifier features (lower is better)",
                "ours_recipe": "dcgan-fashion", "reference_recipe": "pytorch/examples dcgan (defaults, 28x28)",
                "ours": _spread([r["ours"][b]["fid"] for r in runs]),
                "reference": _spread([r["reference"][b]["fid"] for r in runs]),
                "steps": {"ours": _spread([r["ours"][b]["steps"] for r in runs]),
                          "reference": _spread([r["reference"][b]["steps"] for r in runs])}})
        equal = [r["equal_steps"] for r in runs if "equal_steps" in r]
        if equal:
            result["rows"].append({
                "model": "gan", "budget": "equal steps", "seconds": None,
                "steps": _spread([e["steps"] for e in equal]),
                "metric": f"FID, {fid_samples} samples, classifier features (lower is better)",
                "ours_recipe": "dcgan-fashion", "reference_recipe": "pytorch/examples dcgan (defaults, 28x28)",
                "ours": _spread([e["ours"] for e in equal]), "reference": _spread([e["reference"] for e in equal])})
    if "diffusion" in parts:
        clf = recipes.classifier(dev)
        test_feats = metrics.extract_features(clf, test.images)
        floor = {k: metrics.fid(metrics.extract_features(clf, train.images[:k]), test_feats)
                 for k in (diffusion_samples, diffusion_native_samples)}
        result["diffusion_fid_real_floor"] = {str(k): v for k, v in floor.items()}
        result["diffusion_sampling_precision"] = runtime.fast_path(dev)["amp"] + " autocast (network only)"
        runs = []
        for seed in range(seeds):
            runs.append(diffusion_quality(seed, diffusion_budgets, turn_s, diffusion_samples,
                                          diffusion_native_samples, dev, clf, test_feats, train.images))
            progress(f"diffusion seed {seed}: " + ", ".join(
                f"{b:.0f} s: ours {runs[-1]['ours'][b]['fid']:.2f}, reference {runs[-1]['reference'][b]['fid']:.2f}"
                for b in diffusion_budgets) + f"; reference 1000 steps {runs[-1]['reference'][diffusion_budgets[-1]]['fid_native']:.2f}")
        result["diffusion_runs"] = [{**r, "ours": {str(k): v for k, v in r["ours"].items()},
                                     "reference": {str(k): v for k, v in r["reference"].items()}} for r in runs]
        metric = (f"FID, {diffusion_samples} samples vs the 10,000 test images, classifier features "
                  f"(lower is better; real-vs-real floor {floor[diffusion_samples]:.2f})")
        for b in diffusion_budgets:
            result["rows"].append({
                "model": "diffusion", "budget": f"{b:.0f} s each, about 50 network evaluations per sample",
                "seconds": b, "metric": metric, "ours_recipe": "flow-fashion (unconditional), Heun 25 steps",
                "reference_recipe": "DDPM loop (Ho et al. 2020), 50 strided ancestral steps",
                "ours": _spread([r["ours"][b]["fid"] for r in runs]),
                "reference": _spread([r["reference"][b]["fid"] for r in runs]),
                "steps": {"ours": _spread([r["ours"][b]["steps"] for r in runs]),
                          "reference": _spread([r["reference"][b]["steps"] for r in runs])}})
        b = diffusion_budgets[-1]
        result["rows"].append({
            "model": "diffusion", "budget": f"{b:.0f} s each; reference with its own 1000 steps",
            "seconds": b, "metric": (f"FID, {diffusion_native_samples} samples vs the 10,000 test images "
                                     f"(real-vs-real floor {floor[diffusion_native_samples]:.2f})"),
            "ours_recipe": "flow-fashion (unconditional), Heun 25 steps (49 evaluations)",
            "reference_recipe": "DDPM loop (Ho et al. 2020), 1000 ancestral steps (Algorithm 2)",
            "ours": _spread([r["ours"][b]["fid_native_n"] for r in runs]),
            "reference": _spread([r["reference"][b]["fid_native"] for r in runs])})
    result["load_average_after"] = os.getloadavg()
    return result
