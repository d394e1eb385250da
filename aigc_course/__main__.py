"""Command line: ``python -m aigc_course {data,train,sample,weights,bench} ...``.

Each sub-command's handler lives beside the code it drives (``data.cmd_data``,
``commands.cmd_train``...); this file only parses arguments. Known errors (missing data, a bad
checksum, a bad config value) are printed as one clear message with exit status 2, no traceback.
"""
from __future__ import annotations

import argparse
import importlib
import sys


def _handler(spec: str):
    module, func = spec.split(":")
    return getattr(importlib.import_module(f"aigc_course.{module}"), func)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m aigc_course", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("data", help="find, download and describe the course data sets")
    dsub = d.add_subparsers(dest="action", required=True)
    f = dsub.add_parser("fetch", help="make a data set available (local copy or verified download)")
    f.add_argument("name", choices=["fashion-mnist", "mnist", "digits"])
    i = dsub.add_parser("info", help="where each data set was found, sizes and checksums")
    i.add_argument("name", nargs="?", default=None)
    d.set_defaults(handler="data:cmd_data")

    t = sub.add_parser("train", help="train a named recipe")
    t.add_argument("recipe")
    t.add_argument("--profile", choices=["quick", "full"], default=None)
    t.add_argument("--max-steps", type=int, default=None)
    t.add_argument("--seed", type=int, default=None)
    t.add_argument("--out", default=None, help="output directory (checkpoints, samples, history)")
    t.add_argument("--resume", default=None, help="checkpoint directory to continue from")
    t.set_defaults(handler="commands:cmd_train")

    s = sub.add_parser("sample", help="draw samples from a recipe's shipped (or given) weights")
    s.add_argument("recipe")
    s.add_argument("--n", type=int, default=64)
    s.add_argument("--out", required=True, help="PNG file to write")
    s.add_argument("--weights", default=None, help="checkpoint directory instead of the shipped weights")
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(handler="commands:cmd_sample")

    w = sub.add_parser("weights", help="list or verify the shipped pretrained weights")
    w.add_argument("action", choices=["list", "verify"])
    w.set_defaults(handler="commands:cmd_weights")

    b = sub.add_parser("bench", help="our trainer vs a reference DCGAN loop, as ratios")
    b.add_argument("--recipe", default="dcgan-fashion")
    b.add_argument("--seconds", type=float, default=20.0)
    b.add_argument("--json", default=None)
    b.add_argument("--quality", action="store_true", help="also compare FID at equal wall-clock")
    b.set_defaults(handler="bench:cmd_bench")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .errors import CourseError

    try:
        return int(_handler(args.handler)(args) or 0)
    except CourseError as err:  # an expected problem: say what to do, no traceback
        print(f"error: {err}", file=sys.stderr)
        return 2
    except ValueError as err:  # bad config values and arguments
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
