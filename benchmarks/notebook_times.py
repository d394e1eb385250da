"""Time every notebook of the course under nbval (quick profile) and write a results file.

    python benchmarks/notebook_times.py [--out benchmarks/results/notebooks-cpu.json] [paths...]

Runs pytest + nbval exactly as the test command does, reads the per-cell timings from a JUnit XML
report and sums them per notebook (kernel start-up included in the first cell). The instructor guide
shows the table from the results file. Target: the whole suite in at most 12 minutes (720 s) on 2 cores.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

ROOT = pathlib.Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("paths", nargs="*", default=["chapters"])
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "notebooks-cpu.json"))
    p.add_argument("--from-junit", default=None, metavar="XML",
                   help="summarise the JUnit report of a test run instead of running the notebooks (e.g. the "
                        "test command's, written when AIGC_JUNIT names a file: one thread per notebook while "
                        "the website builds on the other core, so the times are an upper bound)")
    args = p.parse_args(argv)
    env = {**os.environ, "AIGC_PROFILE": "quick", "MPLBACKEND": "Agg"}
    with tempfile.TemporaryDirectory() as tmp:
        if args.from_junit:
            xml, wall = pathlib.Path(args.from_junit), None
            protocol = ("the test command (bash tools/course.sh test): one torch thread per notebook while "
                        "the website builds on the other core")
            proc = subprocess.CompletedProcess([], 0)
        else:
            xml = pathlib.Path(tmp) / "nbval.xml"
            protocol = "pytest --nbval-lax on the notebooks alone, default threads"
            start = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "pytest", *args.paths, "--nbval-lax", "--nbval-current-env", "-p",
                 "no:cacheprovider", "--nbval-sanitize-with", "nbval_sanitize.cfg", f"--junitxml={xml}", "-q"],
                cwd=ROOT, env=env)
            wall = time.perf_counter() - start
        per_notebook: dict[str, float] = {}
        failures = 0
        for case in ET.parse(xml).getroot().iter("testcase"):
            name = case.get("classname", "").replace(".", "/")
            if "ipynb" not in name and not (case.get("file") or "").endswith(".ipynb"):
                continue  # a test of tests/, in the test command's report
            nb = name.split("/ipynb")[0] + ".ipynb" if "ipynb" in name else case.get("file", name)
            per_notebook[nb] = per_notebook.get(nb, 0.0) + float(case.get("time", 0))
            failures += any(child.tag in ("failure", "error") for child in case)
    try:
        import torch
        torch_version = torch.__version__
    except ImportError:  # pragma: no cover
        torch_version = "?"
    result = {
        "what": "wall time of each notebook under pytest --nbval-lax, quick profile",
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}, torch {torch_version}",
        "device": "cpu",
        "notebooks": {k: round(v, 1) for k, v in sorted(per_notebook.items())},
        "total_s": round(sum(per_notebook.values()), 1),
        "protocol": protocol,
        "pytest_wall_s": round(wall, 1) if wall is not None else None,
        "target_total_s": 720,
        "failures": failures,
    }
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    width = max(map(len, per_notebook), default=10)
    for nb, t in result["notebooks"].items():
        print(f"{nb:<{width}}  {t:7.1f} s")
    print(f"{'total':<{width}}  {result['total_s']:7.1f} s  (target <= 720 s); written to {out}")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
