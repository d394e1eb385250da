"""Run each notebook top to bottom twice in the same kernel (a learner's "Run All" after "Run All").

    python tools/run_twice.py [NOTEBOOK.ipynb ...]      # default: every chapter notebook

A second run must not fail: no state left over from the first (files that now exist, a model already
wrapped or compiled, a global changed) may break it. Prints the seconds of each run and exits 1 if any
notebook fails, naming the cell. The quick profile is used unless AIGC_PROFILE says otherwise.
"""
from __future__ import annotations

import os
import pathlib
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = pathlib.Path(__file__).resolve().parents[1]


class RunFailed(Exception):
    def __init__(self, run: int, index: int, err: CellExecutionError):
        super().__init__(f"run {run}, cell {index}: {err}")
        self.run = run


def run_twice(path: pathlib.Path) -> list[float]:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    times = []
    with client.setup_kernel():
        for run in (1, 2):
            start = time.perf_counter()
            for index, cell in enumerate(nb.cells):
                if cell.cell_type == "code":
                    try:
                        client.execute_cell(cell, index)
                    except CellExecutionError as err:
                        raise RunFailed(run, index, err) from None
            times.append(time.perf_counter() - start)
    return times


def main(argv: list[str]) -> int:
    os.environ.setdefault("AIGC_PROFILE", "quick")
    paths = [pathlib.Path(a) for a in argv] or sorted(ROOT.glob("chapters/*/*.ipynb"))
    failed = []
    for path in paths:
        try:
            first, second = run_twice(path.resolve())
            print(f"ok    {path}: run 1 {first:.0f} s, run 2 {second:.0f} s", flush=True)
        except RunFailed as err:
            failed.append(path)
            print(f"FAIL  {path}: {err}"[:3000], flush=True)
    print(f"{len(paths) - len(failed)}/{len(paths)} notebooks ran twice in one kernel")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
