"""The errata pages against their sources: every quoted fragment occurs in the article it is attributed
to, course-section links sit only in the columns that give the correct version, each check says what
kind of check it is, and the authors' notes (``errata_notes.md``) list the same entries as the pages.

The quote tests read the five seed articles from ``AIGC_SEEDS`` (default: ``../shared/seeds`` next to
the repository) and are skipped where they are absent. Like ``test_errata.py`` these tests only read
text.
"""
import os
import re
from pathlib import Path

import pytest

from test_errata import ARTICLES, CJK_RUN, ENTRY_ID, ERRATA_PAGES, INDEX, cells, tables

ROOT = Path(__file__).resolve().parents[1]
PAGE_DIR = ROOT / "chapters" / "appendix"
NOTES = PAGE_DIR / "errata_notes.md"
SEEDS = Path(os.environ.get("AIGC_SEEDS", ROOT.parent / "shared" / "seeds"))
SEED_FILES = {"A": "000_6a6815629cb8cddd.txt", "B": "001_462d302aa808bfd9.txt",
              "C": "002_342ad59ca38063a2.txt", "D": "003_7dabdeebb5d8ba9e.txt",
              "E": "004_e8e30c57d93bf6fd.txt"}
NOTES_SEED = {f"S{i}": article for i, article in enumerate("ABCDE")}
KINDS = ("article's version", "correct statement", "illustration")
# columns where a link to a course section belongs: those that give the correct version
LINK_COLUMNS = {"What is right", "Evidence", "Correct citation and evidence"}
COURSE_LINK = re.compile(r"\]\((\.\./[^)]+)\)")
# any link to a page or a site (not maths such as [c_{ij}=1](f_i^\top f_j))
ANY_LINK = re.compile(r"\]\(((?:\.\./)?[\w./-]+\.(?:ipynb|md)(?:#[\w-]+)?|https?://[^)\s]+)\)")
SHAPE = re.compile(r"\([A-Z0-9]+(, ?[A-Z0-9]+)*\)")  # a tensor shape


def entry_tables() -> list[list[list[str]]]:
    """The pages' tables of entries (header first), each row with the kind-of-check column."""
    return [t for t in tables("\n".join(cells("markdown"))) if t[0][:3] == ["ID", "Art.", "Sev."]]


def entry_rows() -> dict[str, dict[str, str]]:
    """E-id -> {column header: cell}."""
    return {row[0]: dict(zip(table[0], row)) for table in entry_tables() for row in table[1:]
            if re.fullmatch(ENTRY_ID, row[0])}


def article_of(eid: str) -> str:
    return next(a for a, ids in ARTICLES.items() if int(eid[1:]) in ids)


@pytest.fixture(scope="module")
def seeds() -> dict[str, str]:
    if not all((SEEDS / name).is_file() for name in SEED_FILES.values()):
        pytest.skip(f"the seed articles are not in {SEEDS} (set AIGC_SEEDS)")
    return {a: (SEEDS / name).read_text(encoding="utf-8") for a, name in SEED_FILES.items()}


def fragments(text: str) -> list[str]:
    """Chinese runs and backticked code in ``text`` that should occur verbatim in the article.

    Code with an ellipsis (an abridged line) and tensor shapes such as `(N, 1, 1, 1)` (a description,
    not a quote) are left out; a Chinese run is stripped of the punctuation that our sentence around
    it supplies.
    """
    found = [r.strip("（）()“”「」，。、：；") for r in CJK_RUN.findall(text)]
    found += [c for c in re.findall(r"`([^`]+)`", text)
              if "…" not in c and "..." not in c and not SHAPE.fullmatch(c)]
    return [f for f in found if f]


def occurs(fragment: str, article: str) -> bool:
    """``fragment`` is in ``article``, up to spacing (we quote `(None,128,128,1)` without spaces)."""
    return re.sub(r"\s+", "", fragment) in re.sub(r"\s+", "", article)


def test_every_quoted_fragment_occurs_in_its_article(seeds):
    missing = []
    for eid, row in entry_rows().items():
        said = row.get("The article says") or row["Cited as"]
        article = seeds[article_of(eid)]
        missing += [(eid, f) for f in fragments(said) if not occurs(f, article)]
    assert not missing, f"quoted but not in the attributed article: {missing}"


def test_every_chinese_quote_in_the_notes_occurs_in_its_article(seeds):
    missing = []
    for eid, seed, body in notes_entries():
        said = next((line for line in body.splitlines() if line.startswith("- **Article says:**")), "")
        article = seeds[NOTES_SEED[seed]]
        missing += [(eid, r) for r in fragments(said) if CJK_RUN.fullmatch(r) and not occurs(r, article)]
    assert not missing, f"quoted in the notes but not in the attributed article: {missing}"


def test_the_quote_test_can_fail(seeds):
    """A quote attributed to the wrong article, or code the article does not have, is reported."""
    said = "the discriminator keeps adjusting (不断调整生成器G的参数) and calls `torch.zeros(3)`"
    assert [f for f in fragments(said) if not occurs(f, seeds["A"])] == ["torch.zeros(3)"]
    assert [f for f in fragments(said) if not occurs(f, seeds["C"])] == ["不断调整生成器", "的参数",
                                                                          "torch.zeros(3)"]


def test_course_links_only_where_the_correct_version_is_given():
    """No link at all (to a course section or to another errata page) outside those columns."""
    for table in entry_tables():
        header = table[0]
        for row in table[1:]:
            for column, cell in zip(header, row):
                if column not in LINK_COLUMNS:
                    assert not COURSE_LINK.search(cell), \
                        f"{row[0]}: a course link in '{column}' (the article's own sections are not links)"
                    assert not ANY_LINK.search(cell), f"{row[0]}: a link in '{column}'"


@pytest.mark.parametrize("path", ERRATA_PAGES, ids=lambda p: p.name)
def test_course_links_point_at_existing_pages(path):
    text = "\n".join(cells("markdown", (path,)))
    targets = set(COURSE_LINK.findall(text))
    assert targets or path == INDEX, "no course links found: is the pattern out of date?"
    for target in targets:
        assert (PAGE_DIR / target.split("#")[0]).resolve().is_file(), target
    # links between the errata pages: each to a page that exists and is built
    for target in set(ANY_LINK.findall(text)) - targets:
        if "://" not in target:
            assert target.endswith(".ipynb") and (PAGE_DIR / target).is_file(), target


def test_every_check_says_what_kind_it_is():
    rows = entry_rows()
    for eid, row in rows.items():
        kind = row["Kind of check"]
        if kind == "—":
            continue
        m = re.fullmatch(rf"({'|'.join(map(re.escape, KINDS))})(?: \((?:in ({ENTRY_ID})|[a-z ]+)\))?", kind)
        assert m, f"{eid}: kind of check {kind!r}"
        if m.group(2):  # the article's version runs in another entry's check
            other = rows[m.group(2)]["Kind of check"]
            assert other.startswith("article's version"), f"{eid} points at {m.group(2)}, which is {other!r}"
    kinds = [row["Kind of check"].split(" (")[0] for row in rows.values()]
    assert kinds.count("article's version") > kinds.count("illustration")


def test_the_intro_describes_the_kinds():
    intro = "\n".join(cells("markdown", (INDEX,))[:2])  # the title, then the intro
    for kind in KINDS:
        assert f"*{kind}*" in intro, kind


def notes_entries() -> list[tuple[str, str, str]]:
    """(E-id, seed, body) of every entry of errata_notes.md."""
    text = NOTES.read_text(encoding="utf-8")
    parts = re.split(r"^### ", text, flags=re.M)[1:]
    found = []
    for part in parts:
        m = re.match(rf"({ENTRY_ID}) · (S\d) · ", part)
        if m:
            found.append((m.group(1), m.group(2), part))
    return found


def test_the_notes_list_the_same_entries_as_the_page():
    page = entry_rows()
    notes = notes_entries()
    ids = [eid for eid, _, _ in notes]
    assert len(ids) == len(set(ids)), "an entry appears twice in the notes"
    assert set(ids) == set(page), f"notes only: {sorted(set(ids) - set(page))}, " \
                                  f"page only: {sorted(set(page) - set(ids))}"
    for eid, seed, body in notes:
        assert NOTES_SEED[seed] == page[eid]["Art."], f"{eid}: notes {seed}, page Article {page[eid]['Art.']}"
        severity = re.search(r"· (major|minor)\b[^\n]*$", body.splitlines()[0])
        assert severity and severity.group(1) == page[eid]["Sev."], f"{eid}: severity differs"


def test_the_notes_counts_match_the_page():
    text = NOTES.read_text(encoding="utf-8")
    page = entry_rows()
    summary = next(t for t in tables(text) if t[0][0] == "Seed")
    for seed, entries, major, minor in summary[1:]:
        article = NOTES_SEED[seed]
        sev = [row["Sev."] for eid, row in page.items() if row["Art."] == article]
        assert entries.startswith(f"{len(sev)} ("), f"{seed}: {entries}"
        assert (int(major), int(minor)) == (sev.count("major"), sev.count("minor")), seed
    for seed, count in re.findall(r"^## (S\d) — .*\((\d+) entries\)", text, flags=re.M):
        assert int(count) == sum(row["Art."] == NOTES_SEED[seed] for row in page.values()), seed
