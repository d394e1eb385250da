"""Add rows to the EN/ZH glossary table, keeping it sorted (alphabetically by the English term).

    python tools/glossary_add.py "term|中文|One-sentence definition.|3.4" ...

Existing terms are left as they are (a duplicate is reported, not added).
"""
from __future__ import annotations

import pathlib
import sys
import unicodedata

GLOSSARY = pathlib.Path(__file__).resolve().parents[1] / "chapters" / "appendix" / "glossary.md"


def sort_key(term: str) -> str:
    plain = unicodedata.normalize("NFKD", term)
    return "".join(c for c in plain if not unicodedata.combining(c)).casefold()


def main(rows: list[str]) -> int:
    lines = GLOSSARY.read_text(encoding="utf-8").splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("| English |")) + 2
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    table = lines[start:end]
    known = {sort_key(l.split("|")[1].strip()) for l in table}
    for row in rows:
        cells = [c.strip() for c in row.split("|")]
        if len(cells) != 4:
            raise SystemExit(f"need 'term|中文|definition|section', got {row!r}")
        if sort_key(cells[0]) in known:
            print(f"already there: {cells[0]}")
            continue
        table.append("| " + " | ".join(cells) + " |")
        known.add(sort_key(cells[0]))
    table.sort(key=lambda l: sort_key(l.split("|")[1].strip()))
    GLOSSARY.write_text("\n".join(lines[:start] + table + lines[end:]) + "\n", encoding="utf-8")
    print(f"{len(table)} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
