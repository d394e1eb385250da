"""Command line: ``python -m aigc_course {data,train,sample,weights,export,bench} ...``.

Each sub-command's handler lives beside the code it drives (``data.cmd_data``,
``commands.cmd_train``...); this file only parses arguments. Known errors (missing data, a bad
checksum, a bad config value) are printed as one clear message with exit status 2, no traceback.
"""
from __future__ import annotations

import argparse
import importlib
import math
import signal
import sys


def _handler(spec: str):
    module, func = spec.split(":")
    return getattr(importlib.import_module(f"aigc_course.{module}"), func)


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds > 0, got {text!r}")
    return value


def _count(text: str, minimum: int = 1, maximum: int | None = None) -> int:
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be a whole number >= {minimum}, got {text!r}")
    if maximum is not None and value > maximum:
        raise argparse.ArgumentTypeError(f"must be at most {maximum}, got {text!r}")
    return value


def _sample_count(text: str) -> int:
    """``sample --n``: at most a million points (a scatter); image recipes allow fewer (checked by the handler)."""
    return _count(text, 1, 1_000_000)


class _RecipeParser(argparse.ArgumentParser):
    """A sub-command parser whose help ends with the list of recipes (read from the registry only when the
    help is shown: importing the recipes loads PyTorch)."""

    def format_help(self) -> str:
        if getattr(self, "lists_recipes", False) and not self.epilog:
            from .recipes import RECIPES

            width = max(len(name) for name in RECIPES)
            self.epilog = "recipes:\n" + "\n".join(f"  {name:<{width}}  {r.description or r.kind}"
                                                    for name, r in RECIPES.items())
        return super().format_help()


def _seed(text: str) -> int:
    value = _count(text, 0)
    if value >= 2**63:
        raise argparse.ArgumentTypeError(f"must be below 2**63, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m aigc_course", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True, parser_class=_RecipeParser)

    d = sub.add_parser("data", help="find, download and describe the course data sets")
    dsub = d.add_subparsers(dest="action", required=True)
    f = dsub.add_parser("fetch", help="make a data set available (local copy or verified download)")
    f.add_argument("name", choices=["fashion-mnist", "mnist", "digits"])
    i = dsub.add_parser("info", help="where each data set was found, sizes and checksums")
    i.add_argument("name", nargs="?", default=None)
    d.set_defaults(handler="data:cmd_data")

    t = sub.add_parser("train", help="train a named recipe", formatter_class=argparse.RawDescriptionHelpFormatter)
    t.lists_recipes = True
    t.add_argument("recipe", help="the recipe to train (listed below)")
    t.add_argument("--profile", choices=["quick", "full"], default=None)
    t.add_argument("--max-steps", type=_count, default=None, help="train until this many steps in total")
    t.add_argument("--seed", type=_seed, default=None)
    t.add_argument("--out", default=None,
                   help="output folder (checkpoint/, samples.png); default runs/RECIPE, or the resumed run's folder")
    t.add_argument("--resume", default=None, help="checkpoint (or run) folder to continue from")
    t.add_argument("--overwrite", action="store_true", help="replace another run's checkpoint in --out")
    t.set_defaults(handler="commands:cmd_train")

    s = sub.add_parser("sample", help="draw samples from a recipe's shipped (or given) weights",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    s.lists_recipes = True
    s.add_argument("recipe", help="the recipe whose model samples (listed below)")
    s.add_argument("--n", type=_sample_count, default=64,
                   help="number of samples (at most 10000 images in one grid, or 1000000 points of a 2-D recipe)")
    s.add_argument("--out", required=True, help="PNG file to write")
    s.add_argument("--weights", default=None, help="checkpoint directory instead of the shipped weights")
    s.add_argument("--seed", type=_seed, default=0)
    s.set_defaults(handler="commands:cmd_sample")

    w = sub.add_parser("weights", help="list, verify or register the shipped pretrained weights")
    w.add_argument("action", choices=["list", "verify", "register"],
                   help="register NAME RUN ships the weights of a training run (its checkpoint folder)")
    w.add_argument("name", nargs="?", default=None, help="register: the name to ship the weights under (a recipe)")
    w.add_argument("run", nargs="?", default=None, help="register: the run (or checkpoint) folder")
    w.set_defaults(handler="commands:cmd_weights")

    e = sub.add_parser("export", help="export a shipped image model to ONNX (for the website's live demos)")
    e.add_argument("format", choices=["onnx"])
    e.add_argument("name", help="a shipped GAN or VAE (e.g. dcgan-fashion), or 'all' for the demos' models")
    e.add_argument("--out", default=None,
                   help="folder to write NAME.onnx into (default: the weights folder, recorded in its manifest)")
    e.set_defaults(handler="export:cmd_export")

    b = sub.add_parser("bench", help="speed (images/s) or, with --quality, quality per minute vs reference loops",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    b.lists_recipes = True
    b.add_argument("--recipe", default="dcgan-fashion", help="the recipe to time (default dcgan-fashion; listed below)")
    b.add_argument("--seconds", type=_positive_seconds, default=30.0, help="timed seconds per side (speed)")
    b.add_argument("--json", default=None, help="write the results to this JSON file")
    b.add_argument("--quality", action="store_true",
                   help="FID of dcgan-fashion and the test loss of vae-fashion vs the pytorch/examples recipes "
                        "at equal wall-clock (about an hour on 2 CPU cores)")
    b.add_argument("--seeds", type=_count, default=3, help="seeds of the quality benchmark")
    b.add_argument("--parts", nargs="+", choices=["vae", "gan", "diffusion"], default=["vae", "gan"],
                   help="the quality benchmark's comparisons (diffusion: flow-fashion vs a DDPM loop, about "
                        "three hours on one CPU core)")
    b.set_defaults(handler="commands:cmd_bench")
    return p


def _say(text: str) -> None:
    """Print to stderr; a closed terminal (SIGHUP) or a broken pipe must not turn into a traceback."""
    try:
        print(text, file=sys.stderr)
    except UnicodeEncodeError:  # e.g. PYTHONIOENCODING=ascii and a path in another script: escape it
        encoding = getattr(sys.stderr, "encoding", None) or "ascii"
        try:
            print(text.encode(encoding, "backslashreplace").decode(encoding), file=sys.stderr)
        except (OSError, ValueError):
            pass
    except (OSError, ValueError):
        pass


def _escape_unencodable_output() -> None:
    """A terminal that cannot show a path (``PYTHONIOENCODING=ascii``, ``LANG=C`` on old Pythons) gets it
    escaped (``\\u8fd0``) instead of an error after the work is done."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError, OSError):  # not a text stream we may reconfigure
            pass


def main(argv: list[str] | None = None) -> int:
    _escape_unencodable_output()
    args = build_parser().parse_args(argv)
    from .errors import CourseError

    try:
        return int(_handler(args.handler)(args) or 0)
    except CourseError as err:  # an expected problem: say what to do, no traceback
        _say(f"error: {err}")
        return 2
    except ValueError as err:  # bad config values and arguments
        _say(f"error: {err}")
        return 2
    except KeyboardInterrupt as err:  # Ctrl-C, SIGTERM, SIGHUP: the trainer saved a checkpoint first if it had an --out
        signum = getattr(err, "signum", signal.SIGINT)
        _say(f"interrupted{': ' + str(err) if str(err) else ''}")
        return 128 + int(signum)
    except PermissionError as err:
        _say(f"error: {err.filename or ''}: permission denied; fix the permissions or choose another path")
        return 2
    except OSError as err:  # a full disk, a folder where a file should be, ...: one line naming the path
        where = f"{err.filename}: " if err.filename else ""
        _say(f"error: {where}{err.strerror or err}; free some space, fix the path or choose another one")
        return 2


if __name__ == "__main__":
    sys.exit(main())
