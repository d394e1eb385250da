"""Turn "section N.M" in the markdown cells of a chapter script into a link to that chapter (idempotent).

    python tools/link_sections.py chapters/appendix/errata_a.py [...]

The section numbers come from the chapter files: chapters/0N_*/0M_*.py is section N.M. Only sections that
exist are linked; text already inside a link is left alone.
"""
from __future__ import annotations

import os
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
WORD = re.compile(r"(?<!\[)\b([Ss]ections?) (\d)\.(\d)\b(?![^\[]*\])")


def sections() -> dict[str, pathlib.Path]:
    found = {}
    for path in sorted(ROOT.glob("chapters/0[0-9]_*/0[0-9]_*.py")):
        part, page = path.parent.name[:2], path.name[:2]
        found[f"{int(part)}.{int(page)}"] = path.with_suffix(".ipynb")
    return found


def link(script: pathlib.Path) -> int:
    known = sections()
    lines = script.read_text(encoding="utf-8").splitlines(keepends=True)
    in_markdown, changed = False, 0
    for i, line in enumerate(lines):
        if line.startswith("# %%"):
            in_markdown = "[markdown]" in line
            continue
        if not in_markdown:
            continue

        def repl(m: re.Match) -> str:
            nonlocal changed
            key = f"{m.group(2)}.{m.group(3)}"
            if key not in known:
                return m.group(0)
            changed += 1
            target = os.path.relpath(known[key], script.parent)
            return f"[{m.group(1)} {key}]({target})"

        lines[i] = WORD.sub(repl, line)
    script.write_text("".join(lines), encoding="utf-8")
    return changed


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(f"{name}: {link(pathlib.Path(name).resolve())} links added")
