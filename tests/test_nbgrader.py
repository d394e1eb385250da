"""The nbgrader assignments (tools/nbgrader_course.py): release without solutions, autograde with the
course's checkers; the reference answers get full marks and a wrong answer fewer."""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import nbgrader_course as course  # noqa: E402

pytest.importorskip("nbgrader")
pytestmark = pytest.mark.slow


def _nbgrader(args: list[str], cwd: pathlib.Path) -> subprocess.CompletedProcess:
    # nbgrader runs `alembic` (its database migrations) from PATH: the environment's bin folder first
    path = os.pathsep.join([str(pathlib.Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = {**os.environ, "OMP_NUM_THREADS": "1", "AIGC_THREADS": "1", "PATH": path}
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=1800)
    assert proc.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def _filled(release: nbformat.NotebookNode, part: str, wrong: set[str]) -> nbformat.NotebookNode:
    """A submission: every answer cell gets the reference solution, except those in ``wrong``."""
    nb = nbformat.from_dict(release)
    by_cell = {f"{course.ident(q)}-answer": q for _, q in course.questions(course.PARTS[part][1])}
    for cell in nb.cells:
        q = by_cell.get(cell.metadata.get("nbgrader", {}).get("grade_id"))
        if q is None:
            continue
        if q.name in wrong:
            name = course.defined_name(q)
            cell.source = (f"def {name}(*args, **kwargs):\n    return None  # a wrong answer" if "def " in q.solution_code
                           else f"{name} = -1.0  # a wrong answer")
        else:
            cell.source = q.solution_code.strip()
    return nb


def test_release_hides_solutions_and_autograde_scores_them(tmp_path):
    root = tmp_path / "class"
    course.build(root)
    from nbgrader.api import Gradebook

    totals = {}
    for part, (_, modules) in course.PARTS.items():
        _nbgrader(["generate_assignment", part, "--force"], root)
        release = nbformat.read(root / "release" / part / f"{part}.ipynb", as_version=4)
        text = "\n".join(c.source for c in release.cells)
        qs = course.questions(modules)
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text, part
        stubs = sum(c.source.count("raise NotImplementedError()") for c in release.cells if c.cell_type == "code")
        assert stubs == len(qs), part
        for _, q in qs:  # no line of a reference solution is handed out
            body = [line.strip() for line in q.solution_code.splitlines()
                    if len(line.strip()) > 20 and not line.strip().startswith(("def ", "#", "from ", "import "))]
            assert not [line for line in body if line in text], (part, q.name)
        first = qs[0][1].name
        for student, wrong in (("reference", set()), ("wrong", {first})):
            folder = root / "submitted" / student / part
            folder.mkdir(parents=True)
            nbformat.write(_filled(release, part, wrong), folder / f"{part}.ipynb")
        _nbgrader(["autograde", part, "--create", "--force"], root)
        totals[part] = len(qs)
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for part, n in totals.items():
            ref = gb.find_submission(part, "reference")
            bad = gb.find_submission(part, "wrong")
            print(f"{part}: reference {ref.score}/{ref.max_score}, wrong {bad.score}/{bad.max_score}")
            assert ref.max_score == n and ref.score == n, f"{part}: the reference answers lost points"
            assert bad.score == n - 1, f"{part}: the wrong answer was not the one point lost"
