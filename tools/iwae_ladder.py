"""How far is the shipped binarised VAE's IWAE bound from converged? L_K for K up to 5000, on a subset.

    python tools/iwae_ladder.py [--name vae-binarized-fashion] [--images 500] [--kmax 5000]

The manifest records the IWAE bound of ``vae-binarized-fashion`` at K = 5000 only (``tools/evaluate_weights.py``).
This script draws ``--kmax`` importance log-weights per binarised test image (the same binarisation, seed 0,
and the same noise stream as ``evaluate_weights.binary_nll``), and evaluates L_K on the first K of them for
each K of the ladder: nested prefixes, so each L_K is an unbiased estimate of E[L_K] and the differences
between rungs are paired per image. It also records the effective sample size (sum w)^2 / sum w^2 of the K =
``--kmax`` weights. Part III (3.4) reads the result from ``benchmarks/results/iwae-ladder-cpu.json``.
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import pathlib
import platform
import time

import torch

import aigc_course as ac
from aigc_course import data, losses, recipes

ROOT = pathlib.Path(__file__).resolve().parents[1]
LADDER = (1, 10, 100, 1000, 5000)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--name", default="vae-binarized-fashion", help="a shipped VAE on binarised data")
    p.add_argument("--images", type=int, default=500, help="the first N binarised test images")
    p.add_argument("--kmax", type=int, default=5000, help="log-weights per image (the top rung)")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "iwae-ladder-cpu.json"))
    return p.parse_args(argv)


def ladder(vae: torch.nn.Module, binary: torch.Tensor, kmax: int, chunk: int = 50) -> dict:
    """Per-image L_K (nats) for each K of the ladder up to kmax, and the ESS of all kmax weights."""
    ks = [k for k in LADDER if k < kmax] + [kmax]
    gen = torch.Generator().manual_seed(1)                      # as evaluate_weights.binary_nll
    bounds, ess = {k: [] for k in ks}, []
    with torch.no_grad():
        for start in range(0, len(binary), chunk):
            x = data.to_model_space(binary[start:start + chunk])
            log_w = torch.cat([vae.log_weights(x, min(500, kmax - k), gen)
                               for k in range(0, kmax, 500)]).double()          # (kmax, B)
            for k in ks:
                bounds[k].append(losses.iwae_bound(log_w[:k]))
            w = torch.softmax(log_w, dim=0)                                   # normalised weights
            ess.append(1 / w.pow(2).sum(0))
    return {"per_image": {k: torch.cat(v) for k, v in bounds.items()}, "ess": torch.cat(ess)}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    ac.runtime.set_threads(1)
    started = time.perf_counter()
    vae = recipes.pretrained(args.name, device="cpu")
    binary = data.binarize(data.fashion_mnist("test").images[:args.images], seed=0)
    result = ladder(vae, binary, args.kmax)
    per_image, n = result["per_image"], args.images
    ks = list(per_image)
    rungs = {}
    for k in ks:
        values = per_image[k]
        rungs[str(k)] = {"mean": values.mean().item(), "se": (values.std() / math.sqrt(n)).item()}
    steps = {}
    for lo, hi in zip(ks, ks[1:]):
        diff = per_image[hi] - per_image[lo]
        steps[f"{lo}->{hi}"] = {"mean": diff.mean().item(), "se": (diff.std() / math.sqrt(n)).item(),
                                "share_images_up": (diff > 0).double().mean().item()}
    report = {
        "what": f"IWAE bound L_K of {args.name} on the first {n} binarised test images "
                "(data.binarize seed 0), nested prefixes of the same log-weights",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {ac.describe(torch.device('cpu'))}",
        "command": f"python tools/iwae_ladder.py --name {args.name} --images {n} --kmax {args.kmax}",
        "model": args.name, "images": n, "kmax": args.kmax, "rungs": rungs, "steps": steps,
        "ess_median": result["ess"].median().item(), "ess_min": result["ess"].min().item(),
        "seconds": round(time.perf_counter() - started, 1),
    }
    pathlib.Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    for k, r in rungs.items():
        print(f"K = {k:>5}: L_K = {r['mean']:.3f} ± {r['se']:.3f} nats")
    for name, r in steps.items():
        print(f"{name:>12}: {r['mean']:+.3f} ± {r['se']:.3f} nats (paired)")
    print(f"ESS at K = {args.kmax}: median {report['ess_median']:.1f}, min {report['ess_min']:.1f}; "
          f"{report['seconds']} s; wrote {args.out}")


if __name__ == "__main__":
    main()
