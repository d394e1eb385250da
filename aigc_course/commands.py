"""Handlers of ``python -m aigc_course train | sample | weights`` (the parser is in ``__main__``).

Each returns an exit status; expected problems raise ``CourseError``/``ValueError`` and the CLI
prints them as one line. Introduced in 4.2.
"""
from __future__ import annotations

import io
import json
import os
import shlex
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


MAX_GRID_SAMPLES = 10_000        # images in one PNG grid (100 x 100 tiles of 28 px: a 3002 x 3002 picture)
MAX_SCATTER_SAMPLES = 1_000_000  # points in one 2-D scatter picture
SAMPLE_BATCH = 1024              # samples drawn at once: memory stays small whatever n is


def sample_limit(draws_images: bool) -> int:
    """The most samples ``sample_picture`` draws: a grid of images or a scatter of points."""
    return MAX_GRID_SAMPLES if draws_images else MAX_SCATTER_SAMPLES


@torch.no_grad()
def sample_picture(model: nn.Module, n: int = 64, seed: int = 0) -> np.ndarray:
    """``n`` samples of a generator or VAE (anything with ``sample(n, generator=...)``) as one uint8
    picture: an image grid (one class per column for conditional models) or a 2-D scatter. They are drawn
    in batches of at most ``SAMPLE_BATCH`` (a multiple of the number of classes), from one seeded generator;
    ``n`` is at most ``MAX_GRID_SAMPLES`` images or ``MAX_SCATTER_SAMPLES`` points."""
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_SCATTER_SAMPLES:
        raise ValueError(f"n must be a whole number from 1 to {MAX_SCATTER_SAMPLES}, got {n!r}")
    n_classes = getattr(model, "n_classes", 0) or 0
    batch = max(n_classes, SAMPLE_BATCH // n_classes * n_classes) if n_classes else SAMPLE_BATCH
    gen = torch.Generator().manual_seed(seed)
    parts = []
    with eval_mode(model):
        for start in range(0, n, batch):
            parts.append(model.sample(min(batch, n - start), generator=gen).float().cpu())
            if start == 0 and parts[0].dim() == 4 and n > MAX_GRID_SAMPLES:  # known after one small batch
                raise ValueError(f"n={n}: at most {MAX_GRID_SAMPLES} images fit in one PNG grid")
    x = torch.cat(parts)
    if x.dim() == 2:
        return scatter_image(x)
    return make_grid(x, nrow=n_classes or None)


def check_output_file(path: str | Path, flag: str, suffix: str | None = None) -> Path:
    """Refuse, before any work, an output file that cannot be written: a folder in its place, a file where its
    folder should be, a folder that cannot be created or written. Creates the missing folders."""
    path = Path(path)
    if suffix is not None and path.suffix.lower() != suffix:
        raise ValueError(f"{flag} {path}: give a file name ending in {suffix} (e.g. {flag} samples{suffix})")
    if path.is_dir():
        raise ValueError(f"{flag} {path} is a folder; give a file name (e.g. {flag} {path / ('out' + (suffix or ''))})")
    blocking = next((p for p in [path.parent, *path.parent.parents] if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise ValueError(f"{flag} {path}: {blocking} is a file, not a folder; choose another place")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        probe = path.parent / f".{path.name}.{os.getpid()}.write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise ValueError(f"{flag} {path}: cannot write into the folder {path.parent} ({err.strerror or err}); "
                         "choose another place") from None
    return path


def write_file(path: str | Path, data: bytes, flag: str) -> Path:
    """Write ``data`` atomically (a temporary file renamed over ``path``: a link at ``path`` is replaced, never
    written through); an ``OSError`` becomes a one-line error naming ``flag`` and the path."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        raise ValueError(f"{flag} {path} is a folder; give a file name")
    try:
        checkpoint._atomic_write_bytes(path, data)
    except OSError as err:
        raise ValueError(f"{flag} {path}: could not write it ({err.strerror or err}); free some space or choose "
                         "another place") from None
    return path


def write_png(picture: np.ndarray, path: str | Path, flag: str = "--out") -> Path:
    """Write a uint8 picture ((H, W) or (H, W, 3)) as PNG with Pillow; return the path. The file is replaced
    atomically (a symbolic link planted at ``path`` is replaced, not written through)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(picture, dtype=np.uint8)).save(buf, format="PNG")
    return write_file(path, buf.getvalue(), flag)


def _draws_images(recipe) -> bool:
    """Whether a recipe's samples are images (a grid), not points (a scatter)."""
    return not recipe.data.startswith(("toy2d:", "latents:"))


def cmd_train(args) -> int:
    """``train RECIPE [--profile] [--max-steps] [--seed] [--out] [--resume]``."""
    recipe = get_recipe(args.recipe)
    profile = args.profile or runtime.profile()
    runtime.set_threads()  # $AIGC_THREADS, else all cores (use 1 on a machine busy with other work)
    if args.resume:
        ckpt = checkpoint.find_checkpoint(args.resume)
        state = checkpoint.load_checkpoint(ckpt)
        checkpoint.require(state, ckpt, "kind", "step")
        saved_recipe = (state.get("meta") or {}).get("recipe")
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
    draws_images = kinds.get(recipe.kind).sampler is not None  # a language model has no picture to show
    if draws_images and (out / "samples.png").is_dir() and not (out / "samples.png").is_symlink():
        raise ValueError(f"--out {out}: {out / 'samples.png'} is a folder, where training writes its samples; "
                         "move it or choose another --out (checked before training, so no work is lost)")
    models, result = train_recipe(recipe, profile, steps=args.max_steps, seed=args.seed, out_dir=out,
                                  resume=args.resume, overwrite=args.overwrite)
    if torch.distributed.is_initialized() and torch.distributed.get_rank() != 0:
        return 0  # under torchrun, rank 0 reports
    png = write_png(sample_picture(result.sampler), out / "samples.png") if draws_images else None
    print(f"trained {recipe.name} ({profile} profile): {result.steps} steps, {result.wall_time:.1f} s this run, "
          f"{result.images_per_s:.0f} {'images' if draws_images else 'sequences'}/s")
    ckpt = shlex.quote(str(result.checkpoint))
    print(f"checkpoint: {result.checkpoint}  (continue with --resume {ckpt} --max-steps N)")
    if png is not None:
        print(f"samples:    {png}")
    print(f"ship it:    python -m aigc_course weights register {shlex.quote(recipe.name)} {ckpt}")
    return 0


def cmd_sample(args) -> int:
    """``sample RECIPE --out PNG [--n] [--weights DIR] [--seed]``."""
    recipe = get_recipe(args.recipe)
    limit = sample_limit(_draws_images(recipe))
    if args.n > limit:  # before any model is built or a byte allocated
        raise ValueError(f"--n {args.n}: at most {limit} samples of {recipe.name} fit in one "
                         f"{'PNG grid' if _draws_images(recipe) else 'scatter picture'}; ask for fewer")
    out = check_output_file(args.out, "--out", ".png")
    if args.weights:
        state = checkpoint.load_checkpoint(checkpoint.find_checkpoint(args.weights))
        recipes.check_checkpoint_recipe(recipe, args.weights, state, flag="--weights")
        model = recipes.load_models(args.weights)
    else:
        model = recipes.pretrained(recipe.name)
    png = write_png(sample_picture(model, args.n, args.seed), out)
    print(f"{args.n} samples of {recipe.name} ({args.weights or 'shipped weights'}) -> {png}")
    return 0


def _size(nbytes: int | None) -> str:
    return "missing" if nbytes is None else f"{nbytes / 1e6:.2f} MB"


def cmd_weights(args) -> int:
    """``weights list`` (a table), ``weights verify`` (OK/FAIL per entry; exit 1 on any failure) or
    ``weights register NAME RUN`` (ship a training run's weights)."""
    if args.action == "register":
        if not args.name or not args.run:
            raise ValueError("weights register needs a name and a run folder: "
                             "python -m aigc_course weights register NAME RUN")
        entry = recipes.register_weights(args.name, args.run)
        print(f"registered {args.name}: {entry['file']} (sha256 {entry['sha256'][:12]}..., {entry.get('steps')} steps) "
              f"in {checkpoint.weights_dir() / checkpoint.MANIFEST}")
        return 0
    if args.name or args.run:
        raise ValueError(f"weights {args.action} takes no further arguments")
    rows = checkpoint.weights_list()
    where = checkpoint.weights_dir() / checkpoint.MANIFEST
    if not rows:
        if args.action == "verify":  # fail closed: nothing to verify is a broken installation
            print(f"error: no shipped weights are listed in {where}; {checkpoint.manifest_remedy()}",
                  file=sys.stderr)
            return 1
        print(f"no weights listed in {where}")
        return 0
    if args.action == "list":
        width = max(30, *(len(str(r["file"])) for r in rows))
        header = f"{'name':<22} {'file':<{width}} {'size':>9} {'steps':>7}  {'device':<28} metrics"
        print(header)
        print("-" * len(header))
        for r in rows:
            if r.get("problem"):
                print(f"{r['name']:<22} {'-':<{width}} {'-':>9} {'-':>7}  {'-':<28} invalid entry: {r['problem']}")
                continue
            metrics = r.get("metrics") if isinstance(r.get("metrics"), dict) else {}
            shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items())
            print(f"{r['name']:<22} {r['file']:<{width}} {_size(r['size']):>9} {str(r.get('steps') or '-'):>7}  "
                  f"{str(r.get('device', '-')):<28} {shown or '-'}")
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
    if args.json:  # before an hour of benchmarking, not after
        check_output_file(args.json, "--json")
    threads = f"AIGC_THREADS={os.environ['AIGC_THREADS']} " if os.environ.get("AIGC_THREADS") else ""
    json_flag = f" --json {shlex.quote(args.json)}" if args.json else ""
    if args.quality:
        result = quality.run_quality(seeds=args.seeds, parts=tuple(args.parts))
        result["command"] = (f"{threads}python -m aigc_course bench --quality --seeds {args.seeds} --parts "
                             + " ".join(args.parts) + json_flag)
    else:
        recipe = recipes.get_recipe(args.recipe)
        bench.check_recipe(recipe)
        train_images = data.load(recipe.data, "train").images
        result = bench.run_bench(recipe.model, recipe.config(), train_images, seconds=args.seconds, recipe=recipe.name)
        result["command"] = (f"{threads}python -m aigc_course bench --recipe {recipe.name} --seconds {args.seconds:g}"
                             + json_flag)
        print(bench.summary(result))
    if args.json:
        text = json.dumps(result, indent=2) + "\n"
        try:
            path = write_file(args.json, text.encode(), "--json")
        except ValueError:
            print(text)  # the results are not lost: they are printed, then the error
            raise
        print(f"wrote {path}")
    return 0
