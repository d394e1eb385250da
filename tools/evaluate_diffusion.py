"""Measure the shipped diffusion model's sampling curves into results files (read by sections 6.4-6.6).

    python tools/evaluate_diffusion.py nfe       [--n 2000]   # FID against network evaluations, 4 samplers
    python tools/evaluate_diffusion.py guidance  [--n 2000]   # fidelity and diversity against the guidance weight
    python tools/evaluate_diffusion.py training  --run runs/flow-fashion   # FID against training time (snapshots)
    python tools/evaluate_diffusion.py latent    [--n 2000]   # latent diffusion vs its VAE's prior and reconstructions

Every curve uses the metrics of 4.5 in the shipped classifier's feature space, against the 10,000 test
images, with the real-vs-real floor at the same number of samples (FID is biased upwards for small
sets: compare points of one file, not with the 10,000-sample numbers of the manifest). Seeds are fixed;
``--seeds`` repeats the noise to give a spread. Results go to ``benchmarks/results/diffusion-*.json``
with the machine, the threads and the command. Introduced in 6.4.
"""
from __future__ import annotations

import argparse
import datetime
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

from aigc_course import checkpoint, data, diffusion, metrics, recipes, runtime

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
MODEL = "flow-fashion"
NFE_GRID = {  # sampler -> step counts, so that the network evaluations run from 4 to 100
    "euler": [4, 8, 16, 32, 50],
    "heun": [2, 4, 8, 16, 25, 50],      # 2 steps - 1 evaluations: 3, 7, 15, 31, 49, 99
    "ddim": [4, 8],                     # = Euler on straight paths (6.3): two points show it
    "ancestral": [4, 8, 16, 32],
}
GUIDANCE = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0]


class Reference:
    """Features of the 10,000 test images, their labels, and the real-vs-real floor at ``n``."""

    def __init__(self, n: int, device: torch.device):
        self.clf = recipes.classifier(device=device)
        test, train = data.fashion_mnist("test"), data.fashion_mnist("train")
        self.test_feats = self.features(test.images)
        self.floor = metrics.fid(self.features(train.images[:n]), self.test_feats)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return metrics.extract_features(self.clf, images)

    def scores(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> dict:
        feats = self.features(images)
        pr = metrics.precision_recall(self.test_feats, feats, k=3)
        dc = metrics.density_coverage(self.test_feats, feats, k=5)
        out = {"fid": metrics.fid(feats, self.test_feats), "precision": pr.precision, "recall": pr.recall,
               "density": dc.density, "coverage": dc.coverage}
        if labels is not None:  # does the classifier see the class that was asked for?
            with torch.no_grad():
                pred = torch.cat([self.clf(x).argmax(1).cpu() for x in
                                  data.batches_in_model_space(images, 500, next(self.clf.parameters()).device)])
            out["label_accuracy"] = (pred == labels.cpu()).float().mean().item()
        return out


def _draw(model, *args, **kwargs) -> torch.Tensor:
    """``model.sample(...)`` with the network in bf16 where the hardware has it natively (the integration
    state stays fp32; on the course's CPU this is 2.3 times faster and moves pixels by an RMS of 0.002)."""
    with runtime.autocast(next(model.parameters()).device):
        return model.sample(*args, **kwargs)


def _spread(values: list[float]) -> dict:
    return {"mean": statistics.fmean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "values": values}


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def nfe_curve(model, ref: Reference, n: int, seeds: int) -> list[dict]:
    rows = []
    for sampler, step_list in NFE_GRID.items():
        for steps in step_list:
            runs, secs = [], []
            for seed in range(seeds):
                images, s = _timed(lambda: _draw(model, n, torch.Generator().manual_seed(100 + seed), steps=steps,
                                                        sampler=sampler, guidance=0.0))
                runs.append(ref.scores(images))
                secs.append(s)
            row = {"sampler": sampler, "steps": steps, "nfe": diffusion.nfe(sampler, steps),
                   "ms_per_sample": 1000 * statistics.fmean(secs) / n,
                   **{k: _spread([r[k] for r in runs]) for k in runs[0]}}
            rows.append(row)
            print(f"{sampler:9s} steps {steps:3d} nfe {row['nfe']:3d}: FID {row['fid']['mean']:.2f} "
                  f"± {row['fid']['std']:.2f}, recall {row['recall']['mean']:.3f}", flush=True)
    # the GANs of Part IV on the same protocol (same n, seeds, reference): one network evaluation each
    for name in ("dcgan-fashion", "cgan-fashion"):
        G = recipes.pretrained(name, device=next(model.parameters()).device)
        runs, secs = [], []
        for seed in range(seeds):
            with torch.no_grad():
                images, s = _timed(lambda: G.sample(n, generator=torch.Generator().manual_seed(100 + seed)))
            runs.append(ref.scores(images.cpu()))
            secs.append(s)
        rows.append({"sampler": name, "steps": 1, "nfe": 1, "ms_per_sample": 1000 * statistics.fmean(secs) / n,
                     **{k: _spread([r[k] for r in runs]) for k in runs[0]}})
    return rows


def guidance_curve(model, ref: Reference, n: int, seeds: int, steps: int) -> list[dict]:
    rows = []
    labels = torch.arange(n) % model.n_classes
    for w in GUIDANCE:
        runs = []
        for seed in range(seeds):
            images = _draw(model, n, torch.Generator().manual_seed(200 + seed), steps=steps, sampler="heun",
                                  guidance=w, labels=labels)
            runs.append(ref.scores(images, labels))
        row = {"guidance": w, "steps": steps, "nfe": diffusion.nfe("heun", steps, w, conditional=True),
               **{k: _spread([r[k] for r in runs]) for k in runs[0]}}
        rows.append(row)
        print(f"w {w:3.1f}: FID {row['fid']['mean']:.2f}, precision {row['precision']['mean']:.3f}, "
              f"recall {row['recall']['mean']:.3f}, label accuracy {row['label_accuracy']['mean']:.3f}", flush=True)
    return rows


def training_curve(run: Path, ref: Reference, n: int, device) -> list[dict]:
    rows = []
    snaps = sorted((run / "snapshots").glob("step-*"), key=lambda p: int(p.name.split("-")[1]))
    for snap in [*snaps, run / "checkpoint"]:
        state = checkpoint.read_state(snap)["state"]
        if rows and state["step"] == rows[-1]["step"]:
            continue
        model = recipes.load_models(snap, device=device)
        images = _draw(model, n, torch.Generator().manual_seed(300), steps=25, sampler="heun", guidance=0.0)
        row = {"step": state["step"], "wall_time_s": state["wall_time"], **ref.scores(images)}
        rows.append(row)
        print(f"step {row['step']:6d} ({row['wall_time_s'] / 60:.0f} min): FID {row['fid']:.2f}, "
              f"recall {row['recall']:.3f}", flush=True)
    return rows


@torch.no_grad()
def latent_comparison(ref: Reference, n: int, seeds: int, device) -> dict:
    """Latent flow matching vs the VAE's prior samples vs the VAE's reconstructions of test images."""
    vae = recipes.pretrained("vae-fashion", device=device)
    ldm = recipes.pretrained("latent-flow-fashion", device=device)
    test = data.fashion_mnist("test")
    decode = lambda z: torch.cat([vae.to_image(vae.decode(p)) for p in z.split(1000)])  # noqa: E731
    out: dict = {}
    def reconstruct(g, sample_z: bool):
        x = data.to_model_space(test.images[torch.randperm(len(test.images), generator=g)[:n]].to(device))
        mu, logvar = vae.encode(x)
        eps = torch.randn(mu.shape, generator=g).to(device)
        return decode(mu + torch.exp(0.5 * logvar) * eps if sample_z else mu)

    sides = {  # the codes the latent model learns are z ~ q(z|x): their decodings bound what it can reach
        "latent_flow": lambda g: decode(_draw(ldm, n, g, steps=25, sampler="heun")),
        "vae_prior": lambda g: vae.sample(n, generator=g),
        "vae_reconstruction_sampled_z": lambda g: reconstruct(g, True),
        "vae_reconstruction_mean_z": lambda g: reconstruct(g, False),
    }
    for name, fn in sides.items():
        runs = [ref.scores(fn(torch.Generator().manual_seed(400 + s)).cpu()) for s in range(seeds)]
        out[name] = {k: _spread([r[k] for r in runs]) for k in runs[0]}
        print(f"{name:20s} FID {out[name]['fid']['mean']:.2f} ± {out[name]['fid']['std']:.2f}", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=["nfe", "guidance", "training", "latent"])
    p.add_argument("--n", type=int, default=2000, help="samples per point")
    p.add_argument("--seeds", type=int, default=2, help="noise seeds per point (spread)")
    p.add_argument("--steps", type=int, default=10, help="guidance: Heun steps per sample")
    p.add_argument("--run", default="runs/flow-fashion", help="training: the run folder with snapshots/")
    p.add_argument("--device", default=None)
    p.add_argument("--out", default=None, help="results file (default benchmarks/results/diffusion-WHAT-cpu.json)")
    args = p.parse_args(argv)
    runtime.set_threads()
    dev = runtime.device(args.device)
    print(runtime.describe(dev))
    ref = Reference(args.n, dev)
    result = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "sampling_precision": runtime.fast_path(dev)["amp"] + " autocast (network only)",
              "device": runtime.describe(dev), "threads": torch.get_num_threads(), "torch": torch.__version__,
              "python": platform.python_version(), "n_samples": args.n, "seeds": args.seeds,
              "fid_floor": ref.floor, "feature_space": recipes.CLASSIFIER_NAME,
              "command": "python tools/evaluate_diffusion.py " + " ".join(sys.argv[1:] if argv is None else argv)}
    start = time.perf_counter()
    if args.what == "latent":
        result["latent"] = latent_comparison(ref, args.n, args.seeds, dev)
    elif args.what == "training":
        result["model"], result["rows"] = MODEL, training_curve(Path(args.run), ref, args.n, dev)
    else:
        model = recipes.pretrained(MODEL, device=dev)
        result["model"] = MODEL
        result["model_sha256"] = checkpoint.manifest_entry(MODEL)["sha256"]
        result["rows"] = (nfe_curve(model, ref, args.n, args.seeds) if args.what == "nfe"
                          else guidance_curve(model, ref, args.n, args.seeds, args.steps))
    result["seconds"] = time.perf_counter() - start
    out = Path(args.out) if args.out else RESULTS / f"diffusion-{args.what}-cpu.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {out} in {result['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
