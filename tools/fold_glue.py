"""Move the ``glue(...)`` bookkeeping of a page's visible code cells into cells the site shows folded.

    python tools/fold_glue.py chapters/04_hands_on/02_dcgan.py [...]   # rewrites the .py; then jupytext --sync
    python tools/fold_glue.py --check chapters/*/*.py                   # lists what is left, changes nothing

A reader should see the idea, and a sceptic one click away the bookkeeping (issue 27). For each visible
code cell (no ``hide-input``/``hide-cell``/``remove-*`` tag) this moves every *top-level* statement that
only glues (``glue(...)``, or a ``for``/``if``/``with`` whose body only glues) into a new cell tagged
``hide-input`` right after it, when that is safe: no later statement of the same cell rebinds or mutates
(item or attribute assignment, augmented assignment) a name the glue reads. A cell that holds nothing but
glue is tagged ``hide-input`` instead. Whatever cannot be moved safely is printed with its line for a
person to restructure; nothing else changes (the script round-trips the percent format exactly).
"""
from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

import jupytext

HIDDEN = {"hide-input", "hide-cell", "remove-input", "remove-cell", "remove-output"}
FOLDING = {"hide-input", "hide-cell", "remove-input", "remove-cell"}


def _is_glue_call(node: ast.AST) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name) and node.value.func.id == "glue")


def glue_only(node: ast.stmt) -> bool:
    """True for a statement that does nothing but glue (possibly in a loop or a branch)."""
    if _is_glue_call(node):
        return True
    if isinstance(node, (ast.For, ast.If, ast.With)):
        body = list(node.body) + list(getattr(node, "orelse", []))
        return bool(body) and all(glue_only(s) or isinstance(s, ast.Pass) for s in body)
    return False


def contains_glue(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "glue"
               for n in ast.walk(node))


def _reads(node: ast.AST) -> set[str]:
    bound = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - bound


def _base_name(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Subscript, ast.Attribute)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _writes(node: ast.AST) -> set[str]:
    """Names a statement rebinds or mutates through item/attribute assignment."""
    out = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            out.add(n.id)
        elif isinstance(n, (ast.Subscript, ast.Attribute)) and isinstance(n.ctx, (ast.Store, ast.Del)):
            base = _base_name(n)
            if base:
                out.add(base)
        elif isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            out.add(n.name)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            out.update((a.asname or a.name).split(".")[0] for a in n.names)
    return out


def fold_cell(source: str) -> tuple[str, str, list[str]]:
    """(visible source, folded glue source, problems) of one code cell."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source, "", ["cell does not parse (magics?): left alone"] if "glue(" in source else []
    lines = source.split("\n")
    stmts = tree.body
    movable, problems = [], []
    for i, s in enumerate(stmts):
        if glue_only(s):
            later = set().union(*(_writes(t) for t in stmts[i + 1:] if not glue_only(t))) if i + 1 < len(
                stmts) else set()
            clash = _reads(s) & later
            if clash:
                problems.append(f"line {s.lineno}: glue reads {sorted(clash)}, changed later in the cell")
            else:
                movable.append(s)
        elif contains_glue(s):
            problems.append(f"line {s.lineno}: glue inside a statement that does more than glue")
    if not movable:
        return source, "", problems
    take = set()
    for s in movable:
        start = s.lineno - 1
        # a comment block directly above the statement belongs to it
        while start > 0 and lines[start - 1].lstrip().startswith("#") and (start - 1) not in take:
            start -= 1
        take.update(range(start, s.end_lineno))
    kept = [ln for k, ln in enumerate(lines) if k not in take]
    moved = [ln for k, ln in enumerate(lines) if k in take]
    visible = re.sub(r"\n{3,}", "\n\n\n", "\n".join(kept)).strip("\n")
    return visible, "\n".join(moved).strip("\n"), problems


def fold_notebook(path: Path, write: bool) -> tuple[int, list[str]]:
    nb = jupytext.read(path)
    cells, moved_total, problems = [], 0, []
    for cell in nb.cells:
        tags = set(cell.metadata.get("tags", []))
        if cell.cell_type != "code" or tags & FOLDING or "glue(" not in cell.source:
            cells.append(cell)
            continue
        visible, folded, issues = fold_cell(cell.source)
        problems += [f"{path}: cell starting {cell.source.splitlines()[0][:50]!r}: {p}" for p in issues]
        if not folded:
            cells.append(cell)
            continue
        moved_total += folded.count("glue(")
        if not visible.strip():                      # nothing but glue: fold the cell itself
            cell.metadata["tags"] = sorted(tags | {"hide-input"})
            cells.append(cell)
            continue
        cell.source = visible
        cells.append(cell)
        cells.append(jupytext.reads("# %% tags=[\"hide-input\"]\n" + folded + "\n",
                                    fmt="py:percent").cells[0])
    nb.cells = cells
    if write and moved_total:
        jupytext.write(nb, path, fmt="py:percent")
    return moved_total, problems


def visible_glue_lines(path: Path) -> int:
    """Lines calling ``glue(`` in code cells the site shows unfolded."""
    nb = jupytext.read(path)
    return sum(1 for c in nb.cells if c.cell_type == "code" and not set(c.metadata.get("tags", [])) & FOLDING
               for ln in c.source.split("\n") if re.search(r"\bglue\(", ln) and not ln.lstrip().startswith("#"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("paths", nargs="+", type=Path)
    ap.add_argument("--check", action="store_true", help="report only, change nothing")
    args = ap.parse_args(argv)
    left = 0
    for path in args.paths:
        moved, problems = fold_notebook(path, write=not args.check)
        for p in problems:
            print(p)
        remaining = visible_glue_lines(path)
        left += remaining
        print(f"{path}: {'would move' if args.check else 'moved'} {moved} glue call(s); "
              f"{remaining} visible glue line(s) left")
    return 0 if left == 0 or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
