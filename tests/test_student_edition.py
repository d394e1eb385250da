"""The student edition (tools/student_edition.py): no solution text survives, the checkers still work."""
from __future__ import annotations

import importlib
import pathlib
import re
import sys

import jupytext
import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import student_edition as se  # noqa: E402

from aigc_course.exercises import Question  # noqa: E402


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    written = se.build(out)
    return out, {p.relative_to(out).with_suffix(".py").as_posix(): p for p in written}


def _norm(line: str) -> str:
    """A line without indentation, markdown comment marks or a trailing code comment."""
    return line.strip().lstrip("# ").split("  #")[0].rstrip()


def _solution_only_lines(nb) -> set[str]:
    """Lines (of 15+ characters) that the chapter has only inside its solutions: the dropdowns'
    text and the hidden cells that check a reference solution."""
    inside, outside = set(), set()
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            blocks = se.DROPDOWN.findall(cell.source)
            rest = se.DROPDOWN.sub("", cell.source)
        elif se.is_reference_cell(cell):
            blocks, rest = [cell.source], ""
        else:
            blocks, rest = [], cell.source
        for block in blocks:
            inside |= {_norm(line) for line in block.splitlines()}
        outside |= {_norm(line) for line in rest.splitlines()}
    return {line for line in inside - outside if len(line) >= 15 and line not in (":::", "```")}


def test_every_chapter_is_in_the_edition(edition):
    _, notebooks = edition
    assert sorted(notebooks) == sorted(p.relative_to(ROOT).as_posix() for p in se.chapters())


def test_no_solution_text_survives(edition):
    _, notebooks = edition
    checked = 0
    for script, path in notebooks.items():
        original = jupytext.read(ROOT / script)
        student = nbformat.read(path, as_version=4)
        text = "\n".join(c.source for c in student.cells)
        assert ":::{dropdown} Solution" not in text, script
        assert not any(se.is_reference_cell(c) for c in student.cells), script
        lines = {_norm(line) for line in text.splitlines()}
        leaked = [line for line in _solution_only_lines(original) if line in lines]
        assert not leaked, f"{script}: solution text left in the student edition: {leaked[:3]}"
        checked += len(_solution_only_lines(original))
    assert checked > 200, "the check looked at the solutions' text"


def test_the_package_solutions_are_not_pasted_into_the_edition(edition):
    """No line of a reference solution's code (25+ characters) appears in a student notebook, unless the
    chapter's own teaching text has it too (2.1 teaches the value function the exercise asks for)."""
    _, notebooks = edition
    solution_lines = {}
    for name in ["ch1", "ch2", "ch2_dynamics", "ch3", "ch4", "ch5a", "ch5b", "ch5c", "ch6_noise", "ch6_elbo",
                 "ch6_flow", "ch6_unet", "ch6_guidance", "ch6_latent"]:
        module = importlib.import_module(f"aigc_course.exercises.{name}")
        for q in (v for v in vars(module).values() if isinstance(v, Question)):
            for line in q.solution_code.splitlines():
                if len(_norm(line)) >= 25 and not line.strip().startswith(("def ", "#", "import ", "from ")):
                    solution_lines[_norm(line)] = q.name
    leaked = []
    for script, path in notebooks.items():
        original = jupytext.read(ROOT / script)
        taught = set()
        for cell in original.cells:
            if cell.cell_type == "markdown":
                taught |= {_norm(x) for x in se.DROPDOWN.sub("", cell.source).splitlines()}
            elif not se.is_reference_cell(cell):
                taught |= {_norm(x) for x in cell.source.splitlines()}
        student = {_norm(x) for c in nbformat.read(path, as_version=4).cells for x in c.source.splitlines()}
        leaked += [(script, solution_lines[x], x) for x in student & set(solution_lines) if x not in taught]
    assert not leaked, leaked[:5]


def test_up_to_the_first_exercise_the_code_is_the_chapters_own(edition):
    """So each notebook of the edition runs to its first exercise exactly as the chapter (which nbval
    executes in the same test run) does."""
    _, notebooks = edition
    for script, path in notebooks.items():
        original = jupytext.read(ROOT / script)
        student = nbformat.read(path, as_version=4)
        first = se.first_exercise(original)
        if first is None:
            continue
        code_before = [c.source for c in original.cells[:first + 1] if c.cell_type == "code"]
        student_code = [c.source for c in student.cells if c.cell_type == "code"][1:]  # after the edition cell
        assert student_code[:len(code_before)] == code_before, script


def test_reference_cells_give_solutions_that_pass(edition):
    """Where a later cell needs a reference function, the edition's one-liner gives one that passes."""
    _, notebooks = edition
    replaced = 0
    for script, path in notebooks.items():
        for cell in nbformat.read(path, as_version=4).cells:
            for name, mod, q in re.findall(r"^(\w+) = (ch\w+)\.(q\w+)\.reference\(\)", cell.source, re.M):
                question = getattr(importlib.import_module(f"aigc_course.exercises.{mod}"), q)
                assert question.check(question.reference(), quiet=True), (script, name)
                replaced += 1
    assert replaced >= 4  # 4.4, 4.5 (three), 5.4


def test_solution_is_withheld_in_the_student_edition(monkeypatch, capsys):
    from aigc_course.exercises import ch3

    monkeypatch.setenv("AIGC_EDITION", "student")
    shown = []
    monkeypatch.setattr("aigc_course.exercises.display", lambda obj: shown.append(obj.data))
    ch3.q34a.solution()
    assert "not part of the student edition" in shown[0] and "logsumexp" not in shown[0]
    monkeypatch.delenv("AIGC_EDITION")
    ch3.q34a.solution()
    assert "logsumexp" in shown[1]


@pytest.mark.slow
def test_a_student_notebook_runs_to_the_end(edition):
    """2.1 in the student edition, executed top to bottom: the exercise stubs get verdicts, not errors."""
    from nbclient import NotebookClient

    out, notebooks = edition
    path = notebooks["chapters/02_gan_math/01_minimax.py"]
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT / "chapters" / "02_gan_math")}}).execute()
    text = "\n".join(str(o.get("data", {}).get("text/markdown", "")) for c in nb.cells if c.cell_type == "code"
                     for o in c.get("outputs", []))
    assert "Not yet" in text  # the stubs were checked
    assert "Solution (" not in text
