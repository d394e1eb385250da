"""Every {cite} key of every page is in references.bib (the book build only warns about a missing one)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([*ROOT.glob("chapters/**/*.py"), *ROOT.glob("chapters/**/*.md"), ROOT / "intro.md"])
CITE = re.compile(r"\{cite(?::\w+)?\}`([^`]+)`")


def bib_keys() -> set[str]:
    return set(re.findall(r"^@\w+\{([^,\s]+),", (ROOT / "references.bib").read_text(encoding="utf-8"), re.M))


@pytest.mark.parametrize("path", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_cited_key_is_in_the_bibliography(path):
    cited = {k.strip() for group in CITE.findall(path.read_text(encoding="utf-8")) for k in group.split(",")}
    assert cited <= bib_keys(), f"{path.name} cites keys missing from references.bib: {sorted(cited - bib_keys())}"


def test_the_bibliography_has_no_duplicate_keys():
    keys = re.findall(r"^@\w+\{([^,\s]+),", (ROOT / "references.bib").read_text(encoding="utf-8"), re.M)
    assert len(keys) == len(set(keys)), sorted({k for k in keys if keys.count(k) > 1})


def test_the_pattern_finds_citations():
    assert sum(bool(CITE.search(p.read_text(encoding="utf-8"))) for p in PAGES) > 20
