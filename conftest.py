"""Settings for every pytest run of the course (unit tests, nbval over chapters/, browser tests).

* nbval starts the kernels that execute the chapters from this process, and they inherit its
  environment: an ``MPLBACKEND`` set in the caller's shell would silently turn every ``plt.show()`` into
  nothing. It is removed here, so kernels use Jupyter's inline backend, as a learner's do.
* Nothing a test or a notebook does may write outside the working folder, the data cache
  (``~/.cache/aigc_course``) or a temporary folder. At the end of the session the home folder is searched
  for files changed during the run (tool caches excepted: ``~/.cache``, Jupyter's runtime files, IPython's
  and matplotlib's settings), so are the system folders (``/etc``, ``/usr``, ``/opt``, ``/srv``, ``/var``
  but its logs, caches, spools and state), and the shipped weights are compared with their state at the
  start; any such change fails the session, naming the files. Python's bytecode caches (``__pycache__``)
  are allowed everywhere: the interpreter writes them on first import.
"""
import os
import pathlib
import time

import pytest

os.environ.pop("MPLBACKEND", None)

ROOT = pathlib.Path(__file__).resolve().parent
WEIGHTS = ROOT / "aigc_course" / "weights"
HOME_ALLOWED = (".cache", ".local/share/jupyter", ".jupyter", ".ipython", ".config/matplotlib", ".npm",
                ".pyenv", ".config/chromium", ".pki", ".local/share/fonts", ".fontconfig")
SYSTEM_ROOTS = ("/etc", "/usr", "/opt", "/srv", "/var")
SYSTEM_ALLOWED = ("/var/tmp", "/var/log", "/var/cache", "/var/lib", "/var/spool", "/var/run", "/var/lock")
_START: dict = {}


def _weights_state() -> dict:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(WEIGHTS.iterdir()) if p.is_file()}


def _newer(dirpath: str, filenames: list[str], since: float) -> list[str]:
    """The files of one folder modified after ``since`` (unreadable ones skipped)."""
    changed = []
    for name in filenames:
        path = pathlib.Path(dirpath) / name
        try:
            if path.lstat().st_mtime > since:
                changed.append(str(path))
        except OSError:
            pass
    return changed


def _home_changes(since: float) -> list[str]:
    home = pathlib.Path.home()
    if not home.is_dir():
        return []
    changed = []
    for dirpath, dirnames, filenames in os.walk(home):
        rel = pathlib.Path(dirpath).relative_to(home).as_posix()
        here = pathlib.Path(dirpath).resolve()
        if here == ROOT or ROOT in here.parents:  # the working folder may live under home
            dirnames[:] = []
            continue
        dirnames[:] = [d for d in dirnames
                       if not any((d if rel == "." else f"{rel}/{d}").startswith(a) for a in HOME_ALLOWED)]
        changed += _newer(dirpath, filenames, since)
        if len(changed) > 20:
            break
    return changed


def _system_changes(since: float, roots=SYSTEM_ROOTS, allowed=SYSTEM_ALLOWED) -> list[str]:
    """Files under the system folders changed after ``since`` (bytecode caches and the working folder aside)."""
    changed = []
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            here = pathlib.Path(dirpath)
            dirnames[:] = [d for d in dirnames if d != "__pycache__" and str(here / d) not in allowed
                           and (here / d).resolve() != ROOT and not (here / d).is_symlink()]
            changed += _newer(dirpath, filenames, since)
            if len(changed) > 20:
                return changed
    return changed


def pytest_sessionstart(session):
    _START.update(time=time.time() - 1, weights=_weights_state())


def pytest_sessionfinish(session, exitstatus):
    if not _START or os.environ.get("AIGC_ALLOW_HOME_WRITES") == "1":
        return
    problems = []
    weights = _weights_state()
    if weights != _START["weights"]:
        moved = sorted(k for k in set(weights) | set(_START["weights"]) if weights.get(k) != _START["weights"].get(k))
        problems.append(f"the shipped weights changed during the tests: {moved} (tests must write to tmp_path "
                        "and set AIGC_WEIGHTS_DIR)")
    home = _home_changes(_START["time"])
    if home:
        problems.append(f"files written in the home folder outside the data cache: {home[:10]}")
    system = _system_changes(_START["time"])
    if system:
        problems.append(f"files written in the system folders: {system[:10]} (write to tmp_path or the "
                        "working folder)")
    if problems:
        for line in problems:
            print(f"\nerror: {line}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
