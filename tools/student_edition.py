"""Write the student edition of the course: the chapters without their solutions, checkers still working.

    python tools/student_edition.py            # -> student/chapters/**.ipynb (student/ is ignored by git)
    bash tools/course.sh student               # the same, after the setup step

What changes, chapter by chapter (the chapters' ``.py`` scripts are read with jupytext):

* every ``:::{dropdown} Solution`` block is removed from the text (the rest of the cell stays);
* the hidden cells that check the reference solution are removed; where a later cell uses the function
  such a cell defined (4.4, 4.5, 5.4), it becomes one line, ``name = chX.qYY.reference()``, which takes
  the reference from the package without showing its code;
* a first cell sets ``AIGC_EDITION=student``, so ``q.solution()`` says the solution is not part of this
  edition (``q.hint()`` and ``q.check(...)`` work as before).

Nothing else changes: up to its first exercise each notebook's code is the chapter's own, which the
course's tests execute. The reference solutions still ship inside the ``aigc_course`` package (the
checkers need them), so this edition keeps answers out of sight, not out of reach: for graded work see the
instructor guide. ``tests/test_student_edition.py`` checks that no solution text survives.
"""
from __future__ import annotations

import argparse
import pathlib
import re
import shutil
import sys

import jupytext
import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[1]
HIDDEN_TAGS = {"hide-cell", "remove-cell", "remove-input"}
DROPDOWN = re.compile(r"^:::\{dropdown\} Solution.*?^:::[ \t]*$\n?", re.M | re.S)
CHECK = re.compile(r"\b(ch\w+)\.(q\w+)\.check\(\s*(\w+)")
FIRST_CELL = ('import os\n\nos.environ["AIGC_EDITION"] = "student"  # student edition: q.solution() is '
              'withheld; q.hint() and q.check() work')


def is_reference_cell(cell) -> bool:
    """A hidden code cell that runs a checker on a reference solution."""
    tags = set(cell.metadata.get("tags", []))
    return cell.cell_type == "code" and bool(tags & HIDDEN_TAGS) and bool(CHECK.search(cell.source))


def first_exercise(nb) -> int | None:
    """Index of the first code cell that checks a learner's answer (a visible ``.check(`` call)."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and not is_reference_cell(cell) and CHECK.search(cell.source):
            return i
    return None


def student_notebook(nb):
    """The student version of a chapter notebook (a new object; ``nb`` is not changed)."""
    out = nbformat.v4.new_notebook(metadata=nb.metadata)
    out.cells.append(nbformat.v4.new_code_cell(FIRST_CELL, metadata={"tags": ["remove-cell"]}))
    cells = list(nb.cells)
    for i, cell in enumerate(cells):
        if cell.cell_type == "markdown" and DROPDOWN.search(cell.source):
            text = DROPDOWN.sub("", cell.source).strip()
            if text:
                out.cells.append(nbformat.v4.new_markdown_cell(text, metadata=cell.metadata))
            continue
        if is_reference_cell(cell):
            later = "\n".join(c.source for c in cells[i + 1:] if c.cell_type == "code")
            needed = [(mod, q, name) for mod, q, name in CHECK.findall(cell.source)
                      if re.search(rf"\b{re.escape(name)}\b", later)]
            if needed:
                lines = [f"{name} = {mod}.{q}.reference()  # the reference solution, its code left out of this edition"
                         for mod, q, name in dict.fromkeys(needed)]
                out.cells.append(nbformat.v4.new_code_cell("\n".join(lines), metadata=cell.metadata))
            continue
        new = nbformat.from_dict(dict(cell))
        if new.cell_type == "code":
            new.outputs, new.execution_count = [], None
        out.cells.append(new)
    return out


def chapters() -> list[pathlib.Path]:
    return sorted(p for p in (ROOT / "chapters").rglob("*.py") if ".ipynb_checkpoints" not in p.parts)


def build(out_dir: pathlib.Path) -> list[pathlib.Path]:
    """Write the edition into ``out_dir`` (replacing it); return the notebooks written."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    written = []
    for script in chapters():
        nb = student_notebook(jupytext.read(script))
        target = out_dir / script.relative_to(ROOT).with_suffix(".ipynb")
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        written.append(target)
    # the chapters read nothing beside themselves except the package and the data, which are installed;
    # the bibliography and the book config let a teacher build the edition as a site too
    for name in ("references.bib", "_toc.yml", "_config.yml", "intro.md"):
        if (ROOT / name).is_file():
            shutil.copyfile(ROOT / name, out_dir / name)
    return written


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(ROOT / "student"), help="folder to write (default: student/)")
    args = p.parse_args(argv)
    written = build(pathlib.Path(args.out))
    print(f"student edition: {len(written)} notebooks in {args.out} (solutions removed; open them in JupyterLab)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
