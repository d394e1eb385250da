"""Handlers of ``python -m aigc_course train | sample | weights`` (the parser is in ``__main__``).

Each returns an exit status; expected problems raise ``CourseError``/``ValueError`` and the CLI
prints them as one line. Introduced in 4.2.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import checkpoint, recipes, runtime
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
    out = Path(args.out or Path("runs") / recipe.name)
    models, result = train_recipe(recipe, profile, steps=args.max_steps, seed=args.seed, out_dir=out,
                                  resume=args.resume)
    if torch.distributed.is_initialized() and torch.distributed.get_rank() != 0:
        return 0  # under torchrun, rank 0 reports
    png = write_png(sample_picture(result.sampler), out / "samples.png")
    print(f"trained {recipe.name} ({profile} profile): {result.steps} steps, {result.wall_time:.1f} s this run, "
          f"{result.images_per_s:.0f} images/s")
    print(f"checkpoint: {result.checkpoint}  (continue with --resume {result.checkpoint} --max-steps N)")
    print(f"samples:    {png}")
    print(f"ship it:    python -c \"from aigc_course import recipes; "
          f"recipes.register_weights('{recipe.name}', '{result.checkpoint}')\"")
    return 0


def cmd_sample(args) -> int:
    """``sample RECIPE --out PNG [--n] [--weights DIR] [--seed]``."""
    recipe = get_recipe(args.recipe)
    if args.n <= 0:
        raise ValueError(f"--n must be a positive number of samples, got {args.n}")
    model = recipes.load_models(args.weights) if args.weights else recipes.pretrained(recipe.name)
    png = write_png(sample_picture(model, args.n, args.seed), args.out)
    print(f"{args.n} samples of {recipe.name} ({args.weights or 'shipped weights'}) -> {png}")
    return 0


def _size(nbytes: int | None) -> str:
    return "missing" if nbytes is None else f"{nbytes / 1e6:.2f} MB"


def cmd_weights(args) -> int:
    """``weights list`` (a table) or ``weights verify`` (OK/FAIL per entry; exit 1 on any failure)."""
    rows = checkpoint.weights_list()
    where = checkpoint.weights_dir() / checkpoint.MANIFEST
    if not rows:
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
