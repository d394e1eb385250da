"""Handlers of ``python -m aigc_course train | sample | weights`` (the parser is in ``__main__``).

Each returns an exit status; expected problems raise ``CourseError``/``ValueError`` and the CLI
prints them as one line. Introduced in 4.2.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import bench, checkpoint, data, kinds, quality, recipes, runtime
from .nn import eval_mode
from .plotting import make_grid
from .recipes import get_recipe, train_recipe


def scatter_image(points: torch.Tensor | np.ndarray, size: int = 256, lim: float = 3.0) -> np.ndarray:
    """2-D points drawn as dark 3x3 dots on a white ``size`` x ``size`` uint8 picture of [-lim, lim]^2."""
    pts = np.asarray(points, dtype=np.float64)
    img = np.full((size, size), 255, np.uint8)
    cols = np.clip(((pts[:, 0] + lim) / (2 * lim) * (size - 1)).round().astype(int), 1, size - 2)
    rows = np.clip(((lim - pts[:, 1]) / (2 * lim) * (size - 1)).round().astype(int), 1, size - 2)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            img[rows + dr, cols + dc] = 40
    return img


@torch.no_grad()
def sample_picture(model: nn.Module, n: int = 64, seed: int = 0) -> np.ndarray:
    """``n`` samples of a generator or VAE (anything with ``sample(n, generator=...)``) as one uint8
    picture: an image grid (one class per column for conditional models) or a 2-D scatter."""
    with eval_mode(model):
        x = model.sample(n, generator=torch.Generator().manual_seed(seed)).float().cpu()
    if x.dim() == 2:
        return scatter_image(x)
    return make_grid(x, nrow=getattr(model, "n_classes", 0) or None)


def write_png(picture: np.ndarray, path: str | Path) -> Path:
    """Write a uint8 picture ((H, W) or (H, W, 3)) as PNG with Pillow; return the path."""
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(picture, dtype=np.uint8)).save(path)
    return path


def cmd_train(args) -> int:
    """``train RECIPE [--profile] [--max-steps] [--seed] [--out] [--resume]``."""
    recipe = get_recipe(args.recipe)
    profile = args.profile or runtime.profile()
    runtime.set_threads()  # $AIGC_THREADS, else all cores (use 1 on a machine busy with other work)
    if args.resume:
        ckpt = checkpoint.find_checkpoint(args.resume)
        state = checkpoint.load_checkpoint(ckpt)
        saved_recipe = state.get("meta", {}).get("recipe")
        if saved_recipe not in (None, recipe.name):
            raise ValueError(f"--resume {args.resume} is a checkpoint of {saved_recipe!r}, not of {recipe.name!r}")
        # by default the resumed run keeps its own folder
        out = Path(args.out) if args.out else (ckpt.parent if ckpt.name == checkpoint.CHECKPOINT_SUBDIR else ckpt)
        target = args.max_steps or recipe.config(profile).steps
        if state["step"] >= target:
            print(f"nothing to do: {ckpt} has already trained {state['step']} steps, and --max-steps asks for "
                  f"{target}; pass a larger --max-steps to continue")
            return 0
    else:
        out = Path(args.out or Path("runs") / recipe.name)
    models, result = train_recipe(recipe, profile, steps=args.max_steps, seed=args.seed, out_dir=out,
                                  resume=args.resume, overwrite=args.overwrite)
    if torch.distributed.is_initialized() and torch.distributed.get_rank() != 0:
        return 0  # under torchrun, rank 0 reports
    draws_images = kinds.get(recipe.kind).sampler is not None  # a language model has no picture to show
    png = write_png(sample_picture(result.sampler), out / "samples.png") if draws_images else None
    print(f"trained {recipe.name} ({profile} profile): {result.steps} steps, {result.wall_time:.1f} s this run, "
          f"{result.images_per_s:.0f} {'images' if draws_images else 'sequences'}/s")
    print(f"checkpoint: {result.checkpoint}  (continue with --resume {result.checkpoint} --max-steps N)")
    if png is not None:
        print(f"samples:    {png}")
    print(f"ship it:    python -c \"from aigc_course import recipes; "
          f"recipes.register_weights('{recipe.name}', '{result.checkpoint}')\"")
    return 0


def cmd_sample(args) -> int:
    """``sample RECIPE --out PNG [--n] [--weights DIR] [--seed]``."""
    recipe = get_recipe(args.recipe)
    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise ValueError(f"--out {args.out}: give a file name ending in .png (e.g. --out samples.png)")
    if out.parent.exists() and not os.access(out.parent, os.W_OK):
        raise ValueError(f"--out {args.out}: the folder {out.parent} is not writable; choose another place")
    if args.weights:
        saved = checkpoint.load_checkpoint(checkpoint.find_checkpoint(args.weights)).get("meta", {}).get("recipe")
        if saved not in (None, recipe.name):
            raise ValueError(f"--weights {args.weights} holds a run of {saved!r}, not of {recipe.name!r}: "
                             f"use `sample {saved} --weights {args.weights}`")
        model = recipes.load_models(args.weights)
    else:
        model = recipes.pretrained(recipe.name)
    png = write_png(sample_picture(model, args.n, args.seed), out)
    print(f"{args.n} samples of {recipe.name} ({args.weights or 'shipped weights'}) -> {png}")
    return 0


def _size(nbytes: int | None) -> str:
    return "missing" if nbytes is None else f"{nbytes / 1e6:.2f} MB"


def cmd_weights(args) -> int:
    """``weights list`` (a table) or ``weights verify`` (OK/FAIL per entry; exit 1 on any failure)."""
    rows = checkpoint.weights_list()
    where = checkpoint.weights_dir() / checkpoint.MANIFEST
    if not rows:
        if args.action == "verify":  # fail closed: nothing to verify is a broken installation
            print(f"error: no shipped weights are listed in {where}: the package is incomplete; reinstall it",
                  file=sys.stderr)
            return 1
        print(f"no weights listed in {where}")
        return 0
    if args.action == "list":
        header = f"{'name':<20} {'file':<30} {'size':>9} {'steps':>7}  {'device':<28} metrics"
        print(header)
        print("-" * len(header))
        for r in rows:
            metrics = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in r["metrics"].items())
            print(f"{r['name']:<20} {r['file']:<30} {_size(r['size']):>9} {r.get('steps') or '-':>7}  "
                  f"{r.get('device', '-'):<28} {metrics or '-'}")
        print(f"total {_size(sum(r['size'] or 0 for r in rows))} in {checkpoint.weights_dir()}")
        return 0
    failed = 0
    for r in rows:
        problems = recipes.weights_verify([r["name"]])
        failed += bool(problems)
        print(f"FAIL {problems[0]}" if problems else f"OK   {r['name']} ({r['file']}, sha256 {r['sha256'][:12]}...)")
    print(f"{len(rows) - failed}/{len(rows)} weights files verified in {checkpoint.weights_dir()}")
    return 1 if failed else 0


def cmd_bench(args) -> int:
    """``python -m aigc_course bench``: the speed benchmark, or with ``--quality`` the quality benchmark."""
    runtime.set_threads()  # AIGC_THREADS or all cores, the same for every side
    threads = f"AIGC_THREADS={os.environ['AIGC_THREADS']} " if os.environ.get("AIGC_THREADS") else ""
    if args.quality:
        result = quality.run_quality(seeds=args.seeds, parts=tuple(args.parts))
        result["command"] = (f"{threads}python -m aigc_course bench --quality --seeds {args.seeds} --parts "
                             + " ".join(args.parts) + (f" --json {args.json}" if args.json else ""))
    else:
        recipe = recipes.get_recipe(args.recipe)
        bench.check_recipe(recipe)
        train_images = data.load(recipe.data, "train").images
        result = bench.run_bench(recipe.model, recipe.config(), train_images, seconds=args.seconds, recipe=recipe.name)
        result["command"] = (f"{threads}python -m aigc_course bench --recipe {recipe.name} --seconds {args.seconds:g}"
                             + (f" --json {args.json}" if args.json else ""))
        print(bench.summary(result))
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {path}")
    return 0
