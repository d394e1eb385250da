"""The errata appendix and the glossary: every entry present and assigned to the right article, checks
claimed where they run, short Chinese quotes only, citations that exist, well-formed sorted tables.

The notebook itself is executed by nbval (``pytest --nbval-lax chapters/appendix/errata.ipynb``); these
tests only read the text, so they take well under a second.
"""
import re
import unicodedata
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
ERRATA = ROOT / "chapters" / "appendix" / "errata.py"
GLOSSARY = ROOT / "chapters" / "appendix" / "glossary.md"
BIB = ROOT / "references.bib"

# E01-E98 follow the order of the articles; later entries are numbered on from E99 (see the page's intro)
ARTICLES = {"A": [*range(1, 25), 99, 102], "B": [*range(25, 41), 103], "C": [*range(41, 58), 104],
            "D": [*range(58, 75), 100, 101], "E": [*range(75, 99), 105]}
SEVERITY = {"A": (20, 6), "B": (9, 8), "C": (12, 6), "D": (16, 3), "E": (12, 13)}  # (major, minor)
ENTRY_ID = r"E\d{2,3}"
CJK_RUN = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]+")
MAX_QUOTE = 12  # longest Chinese run allowed: a term or a few words, never copied sentences


def cells(kind: str) -> list[str]:
    return [c.source for c in jupytext.read(ERRATA).cells if c.cell_type == kind]


def split_row(line: str) -> list[str]:
    """Cells of a markdown table row, splitting on unescaped pipes outside code spans."""
    cells_, current, in_code = [], "", False
    for i, ch in enumerate(line.strip().strip("|")):
        if ch == "`":
            in_code = not in_code
        if ch == "|" and not in_code and (i == 0 or line.strip().strip("|")[i - 1] != "\\"):
            cells_.append(current.strip())
            current = ""
        else:
            current += ch
    return cells_ + [current.strip()]


def tables(markdown: str) -> list[list[list[str]]]:
    """Every table in ``markdown`` as a list of rows (header first, separator dropped)."""
    found, rows = [], []
    for line in markdown.splitlines() + [""]:
        if line.lstrip().startswith("|"):
            if not re.fullmatch(r"\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?", line.strip()):
                rows.append(split_row(line))
        elif rows:
            found.append(rows)
            rows = []
    return found


@pytest.fixture(scope="module")
def entries() -> dict[str, list[str]]:
    """E-id -> its table row in the errata (ID, article, severity, says, right, evidence, kind of check)."""
    rows = {}
    for table in tables("\n".join(cells("markdown"))):
        for row in table[1:]:
            if re.fullmatch(ENTRY_ID, row[0]):
                assert row[0] not in rows, f"{row[0]} has two rows"
                rows[row[0]] = row
    return rows


def test_every_error_has_one_row_in_its_article(entries):
    numbers = sorted(n for ids in ARTICLES.values() for n in ids)
    assert sorted(entries, key=lambda e: int(e[1:])) == [f"E{i:02d}" for i in numbers]
    assert numbers == list(range(1, len(numbers) + 1)), "entry numbers must have no gaps"
    for eid, row in entries.items():
        article = next(a for a, ids in ARTICLES.items() if int(eid[1:]) in ids)
        assert row[1] == article, f"{eid} belongs to Article {article}, the table says {row[1]}"
        assert row[2] in ("major", "minor"), f"{eid}: severity {row[2]!r}"
        assert all(row[3:]), f"{eid} has an empty cell"


def test_severity_counts_match_the_overview(entries):
    for article, (major, minor) in SEVERITY.items():
        sev = [entries[f"E{i:02d}"][2] for i in ARTICLES[article]]
        assert (sev.count("major"), sev.count("minor")) == (major, minor), article


def test_checks_claimed_in_tables_are_the_ones_the_code_runs(entries):
    code = "\n".join(cells("code"))
    in_code = set(re.findall(rf"\"({ENTRY_ID})\"", code))
    claimed = {eid for eid, row in entries.items() if re.search(r"\bCheck\b", row[-2])}
    with_kind = {eid for eid, row in entries.items() if row[-1] != "—"}
    assert claimed == with_kind, f"'Check' without a kind: {sorted(claimed - with_kind)}, " \
                                 f"a kind without 'Check': {sorted(with_kind - claimed)}"
    assert claimed == in_code, f"claimed only: {sorted(claimed - in_code)}, run only: {sorted(in_code - claimed)}"
    assert f"len(CHECKED) == {len(in_code)}" in code  # the summary cell's count is up to date


def test_counts_typed_in_the_text_match_the_tables(entries):
    """The intro's total, the article table's entries and major/minor, and each section's count."""
    markdown = "\n".join(cells("markdown"))
    (total,) = re.findall(r"\*\*(\d+) in all\*\*", markdown)
    assert int(total) == len(entries)
    articles = next(t for t in tables(markdown) if t[0][0] == "Article")
    for row in articles[1:]:
        article, ids = row[0], ARTICLES[row[0]]
        sev = [entries[f"E{i:02d}"][2] for i in ids]
        assert row[-2].endswith(f"({len(ids)})"), f"Article {article}: {row[-2]!r}"
        assert row[-1] == f"{sev.count('major')} / {sev.count('minor')}", f"Article {article}"
    sections = re.split(r"^## ", markdown, flags=re.M)
    for section in sections:
        heading = re.match(r"\d\. .*\((\d+) entries\)", section)
        if heading:
            rows = [r for t in tables(section) for r in t[1:] if re.fullmatch(ENTRY_ID, r[0])]
            assert len(rows) == int(heading.group(1)), heading.group(0)


@pytest.mark.parametrize("path", [ERRATA, GLOSSARY], ids=lambda p: p.name)
def test_chinese_is_quoted_only_in_short_fragments(path):
    runs = CJK_RUN.findall(path.read_text(encoding="utf-8"))
    too_long = [r for r in runs if len(r) > MAX_QUOTE]
    assert not too_long, f"Chinese runs longer than {MAX_QUOTE} characters: {too_long}"


@pytest.mark.parametrize("path", [ERRATA, GLOSSARY], ids=lambda p: p.name)
def test_citations_exist_in_the_bibliography(path):
    keys = set(re.findall(r"^@\w+\{([^,]+),", BIB.read_text(encoding="utf-8"), flags=re.M))
    cited = {k.strip() for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", path.read_text(encoding="utf-8"))
             for k in group.split(",")}
    assert cited or path == GLOSSARY, "no citations found: is the {cite} pattern out of date?"
    assert cited <= keys, f"not in references.bib: {sorted(cited - keys)}"


@pytest.mark.parametrize("path", [ERRATA, GLOSSARY], ids=lambda p: p.name)
def test_tables_have_as_many_cells_as_headers(path):
    """A stray '|' (e.g. inside $p(x|z)$) would split a cell: write \\mid and \\Vert in tables."""
    text = "\n".join(cells("markdown")) if path == ERRATA else path.read_text(encoding="utf-8")
    for table in tables(text):
        width = len(table[0])
        for row in table[1:]:
            assert len(row) == width, f"{len(row)} cells instead of {width}: {row[:2]}"


def _sort_key(term: str) -> str:
    plain = unicodedata.normalize("NFKD", term)
    return "".join(c for c in plain if not unicodedata.combining(c)).casefold()


def test_glossary_is_a_sorted_bilingual_table():
    (table, *_) = tables(GLOSSARY.read_text(encoding="utf-8"))
    header, rows = table[0], table[1:]
    assert header == ["English", "中文", "Definition", "Section"]
    assert 70 <= len(rows) <= 300  # a glossary, not a dictionary (Part VI took it past 200)
    english = [r[0] for r in rows]
    assert english == sorted(english, key=_sort_key), "sort the glossary alphabetically by the English term"
    assert len({_sort_key(e) for e in english}) == len(english), "duplicate terms"
    for term, chinese, definition, section in rows:
        assert CJK_RUN.search(chinese), f"{term}: no Chinese term"
        assert definition.endswith("."), f"{term}: the definition should be one sentence ending in '.'"
        assert re.fullmatch(r"[1-6]\.[1-6]|—", section), f"{term}: section {section!r}"
