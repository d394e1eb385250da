"""CI gate for the paired notebooks.

1. Every ``chapters/**/*.py`` percent script has its ``.ipynb`` and the two have the same cells
   (jupytext re-renders the .py into a notebook and compares cell types and sources).
2. Committed ``.ipynb`` files carry no outputs and no execution counts.
3. Code lines stay under ``MAX_LINE`` characters, so code never scrolls sideways on the website.
4. Numbers are glued with ``aigc_course.plotting.glue``, not ``myst_nb.glue``: numpy 2 scalars glued
   directly print as ``np.float64(...)``, which the book cannot format (a warning, a number missing).
5. Every cell marker is ``# %%``, optionally followed by ``[markdown]`` and then metadata: text before
   ``[markdown]`` would become the cell's hidden title, and that line vanishes from the page.
6. Every ``{glue:text}`key``` in the prose has a ``glue(...)`` call in the same script that can produce
   it: the key as a string literal, or an f-string pattern such as ``glue(f"d52_win{i}", ...)``. A key
   never glued would otherwise surface only as a warning of the book build; one glued in a loop that does
   not reach it still does (nbval runs the code, but does not check the prose).
Run ``jupytext --sync chapters/*/*.py`` to fix (1) and ``python tools/check_notebooks.py --strip`` for (2).
"""
from __future__ import annotations

import pathlib
import re
import sys

import jupytext
import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[1]
MAX_LINE = 99  # characters in a code cell's line
GLUE_REF = re.compile(r"\{glue:(?:text|md|any|math|figure)\}`([A-Za-z0-9_]+)")   # a key in the prose
GLUE_FSTRING = re.compile(r'glue\(\s*f"([^"]+)"')                                 # glue(f"key_{i}", ...)
# "# %%", "# %% [markdown]", then optional metadata (tags=[...] or a JSON object)
CELL_MARKER = re.compile(r'^# %%( \[markdown\])?( (tags=\[.*\]|\{.*\}|\w+=\S.*))?$')


def cells(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def unglued_keys(text: str) -> list[str]:
    """Keys referenced by {glue:text} roles that no glue call in ``text`` can produce."""
    patterns = [re.compile("^" + re.sub(r"\\\{[^}]*\\\}", ".+", re.escape(f)) + "$")
                for f in GLUE_FSTRING.findall(text)]
    missing = []
    for key in sorted(set(GLUE_REF.findall(text))):
        if f'"{key}"' in text or any(pat.match(key) for pat in patterns):
            continue
        missing.append(key)
    return missing


def main(argv: list[str]) -> int:
    strip = "--strip" in argv
    problems = []
    scripts = sorted(p for p in (ROOT / "chapters").rglob("*.py") if ".ipynb_checkpoints" not in p.parts)
    notebooks = sorted(p for p in (ROOT / "chapters").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    for py in scripts:
        ipynb = py.with_suffix(".ipynb")
        if not ipynb.exists():
            problems.append(f"{ipynb.relative_to(ROOT)} is missing: run `jupytext --sync {py.relative_to(ROOT)}`")
            continue
        script = py.read_text()
        for number, line in enumerate(script.splitlines(), 1):
            if line.startswith("# %%") and not CELL_MARKER.match(line):
                problems.append(f"{py.relative_to(ROOT)}:{number}: a malformed cell marker (text before "
                                f"[markdown] becomes a hidden title and leaves the page): {line[:60]}...")
        for key in unglued_keys(script):
            problems.append(f"{py.relative_to(ROOT)}: {{glue:text}}`{key}` is used in the prose but no glue(...) "
                            "call in the script produces it")
        if cells(jupytext.read(py)) != cells(nbformat.read(ipynb, as_version=4)):
            problems.append(f"{py.relative_to(ROOT)} and its .ipynb differ: run `jupytext --sync {py.relative_to(ROOT)}`")
    for ipynb in notebooks:
        if not ipynb.with_suffix(".py").exists():
            problems.append(f"{ipynb.relative_to(ROOT)} has no paired .py script")
        nb = nbformat.read(ipynb, as_version=4)
        dirty = [c for c in nb.cells if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count"))]
        if dirty and strip:
            for c in dirty:
                c.outputs, c.execution_count = [], None
            nbformat.write(nb, ipynb)
        elif dirty:
            problems.append(f"{ipynb.relative_to(ROOT)} has outputs: run `python tools/check_notebooks.py --strip`")
        for c in nb.cells:
            if c.cell_type == "code" and "from myst_nb import glue" in c.source:
                problems.append(f"{ipynb.relative_to(ROOT)}: import glue from aigc_course.plotting (it turns numpy "
                                "scalars into numbers the book can format), not from myst_nb")
            if c.cell_type == "code":
                for line in c.source.splitlines():
                    if len(line) > MAX_LINE:
                        problems.append(f"{ipynb.relative_to(ROOT)}: a code line of {len(line)} characters "
                                        f"(at most {MAX_LINE}, or the page scrolls sideways): {line[:60]}...")
    for line in problems:
        print("FAIL", line)
    print(f"checked {len(scripts)} scripts and {len(notebooks)} notebooks: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
