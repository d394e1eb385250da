"""Write an nbgrader course folder with one autograded assignment per Part, built from the course's exercises.

    python tools/nbgrader_course.py --out ~/aigc-class       # source/part1 ... source/part5 + nbgrader_config.py
    cd ~/aigc-class && nbgrader generate_assignment part3    # release/part3/part3.ipynb: solutions removed

Each assignment notebook has, per exercise of the Part: the prompt (a markdown cell), an answer cell
(nbgrader ``solution``: the reference solution between ``### BEGIN SOLUTION`` / ``### END SOLUTION``,
which ``generate_assignment`` replaces by a stub) and a locked, graded test cell (1 point) whose hidden
tests call the same checker the chapter uses (``ch3.q31a.check(...)``): a student's answer is graded by
exactly the checks that give feedback in the chapter, and the wrong answers they name. The instructor
guide walks through the whole cycle (release, collect, autograde, feedback) for a JupyterHub class;
``tests/test_nbgrader.py`` runs it: reference answers get full marks, a wrong answer fewer.
"""
from __future__ import annotations

import argparse
import importlib
import pathlib
import re
import shutil
import sys

import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[1]
PARTS = {  # assignment -> (title, exercise modules)
    "part1": ("Part I: concepts", ["ch1"]),
    "part2": ("Part II: GAN maths", ["ch2", "ch2_dynamics"]),
    "part3": ("Part III: VAE maths", ["ch3"]),
    "part4": ("Part IV: hands-on training", ["ch4"]),
    "part5": ("Part V: applications", ["ch5a", "ch5b", "ch5c"]),
    "part6": ("Part VI: diffusion and flow matching",
              ["ch6_noise", "ch6_elbo", "ch6_flow", "ch6_unet", "ch6_guidance", "ch6_latent"]),
}
# exercises whose answer builds on functions defined on their chapter's page: no stand-alone assignment
ON_THE_PAGE_ONLY = {"6.5c"}
SETUP = """import math

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import linprog
from torch.distributions import Normal

from aigc_course import diffusion, losses
from aigc_course.exercises import {modules}"""
DEFINED = re.compile(r"^(?:def (\w+)\(|(\w+) = )", re.M)


def questions(modules: list[str]) -> list[tuple[str, object]]:
    """(module name, Question) of each exercise, in the modules' order."""
    from aigc_course.exercises import Question

    out = []
    for name in modules:
        module = importlib.import_module(f"aigc_course.exercises.{name}")
        names = getattr(module, "__all__", None) or [k for k, v in vars(module).items() if isinstance(v, Question)]
        out += [(name, getattr(module, k)) for k in names
                if isinstance(getattr(module, k), Question) and getattr(module, k).name not in ON_THE_PAGE_ONLY]
    return out


def ident(question) -> str:
    """The question's name as nbgrader ids and Python attributes need it: ``q64a`` for "6.4a"."""
    name = question.name
    return name if name.isidentifier() else "q" + name.replace(".", "")


def defined_name(question) -> str:
    """The name the solution defines (the function or the ``answer``) that the checker is given."""
    found = [a or b for a, b in DEFINED.findall(question.solution_code)]
    if not found:
        raise ValueError(f"{question.name}: its solution defines no function or value to grade")
    return found[-1]  # the last definition is the answer (helpers come first)


def _meta(grade_id: str, *, solution=False, grade=False, locked=False, points=None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution,
            "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def assignment(part: str) -> nbformat.NotebookNode:
    title, modules = PARTS[part]
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells.append(nbformat.v4.new_markdown_cell(
        f"# {title}: graded exercises\n\nWrite each answer in the cell below its question, replacing "
        "`raise NotImplementedError()`. Run the whole notebook before you submit it: the graded cells call the "
        "same checkers as the chapters' exercises (`q.check(...)` there tells you what is wrong, here it is "
        "only graded). Each question is worth one point.", metadata=_meta("intro", locked=True)))
    nb.cells.append(nbformat.v4.new_code_cell(SETUP.format(modules=", ".join(modules)),
                                              metadata=_meta("setup", locked=True)))
    for module, q in questions(modules):
        name = defined_name(q)
        nb.cells.append(nbformat.v4.new_markdown_cell(f"## {q.name}\n\n{q.prompt}",
                                                      metadata=_meta(f"{ident(q)}-prompt", locked=True)))
        nb.cells.append(nbformat.v4.new_code_cell(
            f"### BEGIN SOLUTION\n{q.solution_code.strip()}\n### END SOLUTION",
            metadata=_meta(f"{ident(q)}-answer", solution=True)))
        nb.cells.append(nbformat.v4.new_code_cell(
            f"# graded: the checker of {q.name} ({module}), the one the chapter uses\n"
            f"### BEGIN HIDDEN TESTS\n"
            f"_verdict = {module}.{ident(q)}.check({name}, quiet=True)\n"
            f"assert _verdict, _verdict.message\n"
            f"### END HIDDEN TESTS",
            metadata=_meta(f"{ident(q)}-check", grade=True, locked=True, points=1)))
    return nb


CONFIG = '''"""nbgrader settings of the AIGC course assignments (written by tools/nbgrader_course.py)."""
c = get_config()  # noqa: F821 (nbgrader defines it)
c.CourseDirectory.course_id = "{course_id}"
c.CourseDirectory.root = "{root}"
c.Execute.timeout = 600          # seconds per cell; the checkers run small models on the CPU
c.Execute.allow_errors = True    # a crashing answer loses its points, not the whole notebook
c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}
'''


def build(out_dir: pathlib.Path, course_id: str = "aigc-course") -> list[pathlib.Path]:
    """Write ``out_dir/source/partN/partN.ipynb`` and ``nbgrader_config.py``; return the notebooks."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "nbgrader_config.py").write_text(CONFIG.format(course_id=course_id, root=out_dir.resolve()))
    written = []
    for part in PARTS:
        folder = out_dir / "source" / part
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        path = folder / f"{part}.ipynb"
        nbformat.write(assignment(part), path)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(ROOT / "student" / "nbgrader"), help="the course folder to write")
    p.add_argument("--course-id", default="aigc-course")
    args = p.parse_args(argv)
    written = build(pathlib.Path(args.out).expanduser(), args.course_id)
    total = sum(len(questions(PARTS[w.stem][1])) for w in written)
    print(f"nbgrader course in {args.out}: {len(written)} assignments, {total} graded questions; next: "
          f"cd {args.out} && nbgrader generate_assignment part1")
    return 0


if __name__ == "__main__":
    sys.exit(main())
