"""The errata appendix and the glossary: every entry present and assigned to the right article, checks
claimed where they run, short Chinese quotes only, citations that exist, well-formed sorted tables.

The appendix is six pages: an index (``errata.py``: the articles, how to read the tables, every entry in
one table, the count of checks) and one page per article (``errata_a.py`` ... ``errata_e.py``: its entries
by topic, and the check cells). The notebooks themselves are executed by nbval
(``pytest --nbval-lax chapters/appendix/errata*.ipynb``); these tests only read the text, so they take
well under a second.
"""
import functools
import re
import unicodedata
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
APPENDIX = ROOT / "chapters" / "appendix"
INDEX = APPENDIX / "errata.py"
ARTICLE_PAGES = {article: APPENDIX / f"errata_{article.lower()}.py" for article in "ABCDE"}
ERRATA_PAGES = [INDEX, *ARTICLE_PAGES.values()]
GLOSSARY = ROOT / "chapters" / "appendix" / "glossary.md"
BIB = ROOT / "references.bib"

# E01-E98 follow the order of the articles; later entries are numbered on from E99 (see the page's intro)
ARTICLES = {"A": [*range(1, 25), 99, 102], "B": [*range(25, 41), 103], "C": [*range(41, 58), 104],
            "D": [*range(58, 75), 100, 101], "E": [*range(75, 99), 105]}
SEVERITY = {"A": (20, 6), "B": (9, 8), "C": (12, 6), "D": (16, 3), "E": (12, 13)}  # (major, minor)
ENTRY_ID = r"E\d{2,3}"
CJK_RUN = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]+")
MAX_QUOTE = 12  # longest Chinese run allowed: a term or a few words, never copied sentences


@functools.lru_cache(maxsize=None)
def _read(path: Path):
    return jupytext.read(path)


def cells(kind: str, pages=tuple(ERRATA_PAGES)) -> list[str]:
    """The sources of the ``kind`` cells of ``pages`` (by default all six errata pages, index first)."""
    return [c.source for path in pages for c in _read(path).cells if c.cell_type == kind]


def page_of(article: str) -> str:
    """The file name of the notebook of Article ``article``'s page, as the pages link to it."""
    return ARTICLE_PAGES[article].with_suffix(".ipynb").name


def article_of(eid: str) -> str:
    return next(a for a, ids in ARTICLES.items() if int(eid[1:]) in ids)


def is_entry_table(table: list[list[str]]) -> bool:
    return table[0][:3] == ["ID", "Art.", "Sev."]


def ids_in_code(pages) -> set[str]:
    """Entries named as string literals ("E13") in the code cells of ``pages``: the checks they run."""
    return set(re.findall(rf"\"({ENTRY_ID})\"", "\n".join(cells("code", tuple(pages)))))


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


def entries_by_page() -> dict[str, dict[str, list[str]]]:
    """Article -> {E-id -> its table row on that article's page} (ID, article, severity, says, right,
    evidence, kind of check)."""
    found = {}
    for article, path in ARTICLE_PAGES.items():
        rows = found[article] = {}
        for table in tables("\n".join(cells("markdown", (path,)))):
            for row in table[1:]:
                if re.fullmatch(ENTRY_ID, row[0]):
                    assert is_entry_table(table), f"{path.name}: {row[0]} in a table headed {table[0][:3]}"
                    assert row[0] not in rows, f"{row[0]} has two rows"
                    rows[row[0]] = row
    return found


@pytest.fixture(scope="module")
def entries() -> dict[str, list[str]]:
    """E-id -> its table row in the errata (ID, article, severity, says, right, evidence, kind of check)."""
    rows = {}
    for page in entries_by_page().values():
        for eid, row in page.items():
            assert eid not in rows, f"{eid} has two rows"
            rows[eid] = row
    return rows


def test_every_error_has_one_row_in_its_article(entries):
    numbers = sorted(n for ids in ARTICLES.values() for n in ids)
    assert sorted(entries, key=lambda e: int(e[1:])) == [f"E{i:02d}" for i in numbers]
    assert numbers == list(range(1, len(numbers) + 1)), "entry numbers must have no gaps"
    for eid, row in entries.items():
        article = article_of(eid)
        assert row[1] == article, f"{eid} belongs to Article {article}, the table says {row[1]}"
        assert row[2] in ("major", "minor"), f"{eid}: severity {row[2]!r}"
        assert all(row[3:]), f"{eid} has an empty cell"
    for article, rows in entries_by_page().items():
        assert {article_of(eid) for eid in rows} <= {article}, f"another article's row on page {article}"
    assert not [t for t in tables("\n".join(cells("markdown", (INDEX,)))) if is_entry_table(t)], \
        "the index lists the entries in its own summary table, not in entry tables"


def test_severity_counts_match_the_overview(entries):
    for article, (major, minor) in SEVERITY.items():
        sev = [entries[f"E{i:02d}"][2] for i in ARTICLES[article]]
        assert (sev.count("major"), sev.count("minor")) == (major, minor), article


def test_checks_claimed_in_tables_are_the_ones_the_code_runs(entries):
    in_code = ids_in_code(ARTICLE_PAGES.values())
    claimed = {eid for eid, row in entries.items() if re.search(r"\bCheck\b", row[-2])}
    with_kind = {eid for eid, row in entries.items() if row[-1] != "—"}
    assert claimed == with_kind, f"'Check' without a kind: {sorted(claimed - with_kind)}, " \
                                 f"a kind without 'Check': {sorted(with_kind - claimed)}"
    assert claimed == in_code, f"claimed only: {sorted(claimed - in_code)}, run only: {sorted(in_code - claimed)}"
    # the summary cells' counts are up to date: each page's, and the index's total
    for article, path in ARTICLE_PAGES.items():
        code = "\n".join(cells("code", (path,)))
        assert f"len(CHECKED) == {len(ids_in_code([path]))}" in code, path.name
    assert f"len(checked_on) == {len(in_code)}" in "\n".join(cells("code", (INDEX,)))


def test_each_check_runs_once_on_the_page_of_its_first_entry():
    """A check cell that serves several entries is on the page of the one with the smallest number."""
    seen = {}
    for article, path in ARTICLE_PAGES.items():
        for source in cells("code", (path,)):
            ids = set(re.findall(rf"\"({ENTRY_ID})\"", source))
            for eid in ids:
                assert eid not in seen, f"{eid} is checked on page {seen[eid]} and on page {article}"
                seen[eid] = article
            if ids:
                first = min(ids, key=lambda e: int(e[1:]))
                assert article_of(first) == article, f"{path.name} runs the check of {sorted(ids)}"


def test_a_check_on_another_page_is_linked(entries):
    """A row whose check (or, for 'article's version (in E..)', whose other entry's check) runs on
    another article's page links to that page in its Evidence column."""
    checked_on = {eid: article for article, path in ARTICLE_PAGES.items() for eid in ids_in_code([path])}
    for eid, row in entries.items():
        pages = {checked_on[eid]} if eid in checked_on else set()
        other = re.search(rf"\(in ({ENTRY_ID})\)", row[-1])
        if other:
            pages.add(checked_on[other.group(1)])
        for article in pages - {row[1]}:
            assert f"]({page_of(article)})" in row[-2], f"{eid}: its check is on page {article}, not linked"


def sections(path: Path) -> dict[str, tuple[str, int, list[str]]]:
    """Topic number -> (title, the count in its heading, the entries of its tables) on an article page."""
    found = {}
    for section in re.split(r"^## ", "\n".join(cells("markdown", (path,))), flags=re.M):
        heading = re.match(r"(\d)\. (.*) \((\d+) entr(?:y|ies)\)\n", section)
        if heading:
            rows = [r[0] for t in tables(section) for r in t[1:] if re.fullmatch(ENTRY_ID, r[0])]
            assert heading.group(1) not in found, f"{path.name}: topic {heading.group(1)} twice"
            found[heading.group(1)] = (heading.group(2), int(heading.group(3)), rows)
    return found


def test_counts_typed_in_the_text_match_the_tables(entries):
    """The intro's total, the article table's entries and major/minor, each page's total and each
    section's count."""
    markdown = "\n".join(cells("markdown", (INDEX,)))
    (total,) = re.findall(r"\*\*(\d+) in all\*\*", markdown)
    assert int(total) == len(entries)
    articles = next(t for t in tables(markdown) if t[0][0] == "Article")
    assert len(articles) == 1 + len(ARTICLES)
    for row in articles[1:]:
        link = re.fullmatch(r"\[([A-E])\]\((errata_[a-e]\.ipynb)\)", row[0])
        assert link, f"the article column should link to the article's page: {row[0]!r}"
        article, ids = link.group(1), ARTICLES[link.group(1)]
        assert link.group(2) == page_of(article), row[0]
        sev = [entries[f"E{i:02d}"][2] for i in ids]
        assert row[-2].endswith(f"({len(ids)})"), f"Article {article}: {row[-2]!r}"
        assert row[-1] == f"{sev.count('major')} / {sev.count('minor')}", f"Article {article}"
    titles = {}
    for article, path in ARTICLE_PAGES.items():
        intro = "\n".join(cells("markdown", (path,))[:2])  # the title, then the intro under the page info
        ids = ARTICLES[article]
        sev = [entries[f"E{i:02d}"][2] for i in ids]
        assert f"**{len(ids)} entries** ({sev.count('major')} major, {sev.count('minor')} minor)" in intro, \
            path.name
        found = sections(path)
        assert sum(len(rows) for _, _, rows in found.values()) == len(ids), path.name
        for number, (title, count, rows) in found.items():
            assert len(rows) == count, f"{path.name}: {number}. {title} ({count})"
            assert titles.setdefault(number, title) == title, f"topic {number} is named differently"
    assert sorted(titles) == [str(i) for i in range(1, 9)], "the eight topics, numbered 1-8"


def test_the_index_lists_every_entry_with_its_page(entries):
    """The index's summary table: one row per entry, with its article, severity and topic as on the
    article's page, a subject, and a link to that page."""
    topic_of = {eid: f"{number}. {title}" for path in ARTICLE_PAGES.values()
                for number, (title, _, rows) in sections(path).items() for eid in rows}
    (summary,) = [t for t in tables("\n".join(cells("markdown", (INDEX,)))) if t[0][0] == "ID"]
    assert summary[0] == ["ID", "Article", "Severity", "Topic", "Subject", "Page"]
    ids = [row[0] for row in summary[1:]]
    assert ids == sorted(entries, key=lambda e: int(e[1:])), "one row per entry, in order"
    for eid, article, severity, topic, subject, page in summary[1:]:
        assert (article, severity) == (entries[eid][1], entries[eid][2]), eid
        assert topic == topic_of[eid], f"{eid}: topic {topic!r}, on its page {topic_of[eid]!r}"
        assert subject and not subject.endswith("."), f"{eid}: subject {subject!r}"
        assert page == f"[Article {article}]({page_of(article)})", f"{eid}: {page}"


@pytest.mark.parametrize("path", [*ERRATA_PAGES, GLOSSARY], ids=lambda p: p.name)
def test_chinese_is_quoted_only_in_short_fragments(path):
    runs = CJK_RUN.findall(path.read_text(encoding="utf-8"))
    too_long = [r for r in runs if len(r) > MAX_QUOTE]
    assert not too_long, f"Chinese runs longer than {MAX_QUOTE} characters: {too_long}"


@pytest.mark.parametrize("path", [*ERRATA_PAGES, GLOSSARY], ids=lambda p: p.name)
def test_citations_exist_in_the_bibliography(path):
    keys = set(re.findall(r"^@\w+\{([^,]+),", BIB.read_text(encoding="utf-8"), flags=re.M))
    cited = {k.strip() for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", path.read_text(encoding="utf-8"))
             for k in group.split(",")}
    assert cited or path == GLOSSARY, "no citations found: is the {cite} pattern out of date?"
    assert cited <= keys, f"not in references.bib: {sorted(cited - keys)}"


@pytest.mark.parametrize("path", [*ERRATA_PAGES, GLOSSARY], ids=lambda p: p.name)
def test_tables_have_as_many_cells_as_headers(path):
    """A stray '|' (e.g. inside $p(x|z)$) would split a cell: write \\mid and \\Vert in tables."""
    text = "\n".join(cells("markdown", (path,))) if path in ERRATA_PAGES else path.read_text(encoding="utf-8")
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


def test_the_toc_lists_the_article_pages_under_the_index():
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    chapters = [c for part in toc["parts"] for c in part["chapters"]]
    (index,) = [c for c in chapters if c["file"] == "chapters/appendix/errata"]
    assert [s["file"] for s in index.get("sections", [])] == \
        [f"chapters/appendix/{path.stem}" for path in ARTICLE_PAGES.values()]
    for path in ERRATA_PAGES:
        assert path.with_suffix(".ipynb").is_file(), f"{path.name} is not paired with a notebook"
