"""Every page of the built website, as a reader sees it in Chromium with the network off.

For each page in ``_toc.yml``: no JavaScript error in the console; no request leaves the machine; the
maths is typeset (MathJax reports what it rendered, and no raw ``\\(``, ``\\[`` or ``$$`` is left in the
text); every ``<img>`` has loaded; the page shows at least as many figures as its code makes; widgets
are rendered; Chinese text is drawn with a CJK font. A report of what was found per page goes to
``_build/screenshots/report.json``, with screenshots of a few pages beside it.
"""
from __future__ import annotations

import json
import io
import re
import tokenize

import nbformat
import pytest
import yaml

from browserlib import ROOT, SCREENSHOTS

SCREENSHOT_PAGES = {"intro": "landing", "chapters/02_gan_math/01_minimax": "2.1-minimax",
                    "chapters/04_hands_on/02_dcgan": "4.2-dcgan", "chapters/appendix/errata": "errata"}
HAN = re.compile(r"[\u4e00-\u9fff]")
REPORT: dict[str, dict] = {}


def toc_pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        for chapter in part.get("chapters", []):
            pages.append(chapter["file"])
            pages.extend(s["file"] for s in chapter.get("sections", []))
    return pages


_ANIMATE = re.compile(r"^(\w+\.)*animate\(", re.M)  # a GIF shown as the cell's value


def figure_cells(page: str) -> int:
    """How many figures the page's code makes: each ``plt.show()`` and each displayed ``animate(...)``
    in a code cell that is not removed from the page."""
    path = ROOT / f"{page}.ipynb"
    if not path.is_file():
        return 0
    count = 0
    for cell in nbformat.read(path, as_version=4).cells:
        tags = set(cell.metadata.get("tags", []))
        if cell.cell_type != "code" or tags & {"remove-cell", "remove-output"}:
            continue
        code = _without_strings(cell.source)
        count += code.count("plt.show()") + len(_ANIMATE.findall(code))
    return count


def _without_strings(source: str) -> str:
    """The code with its string literals blanked (the errata quote the articles' code, `plt.show()`
    included, in strings that are never run)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return source
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    chars = list(source)
    for tok in tokens:
        if tok.type == tokenize.STRING:
            start = offsets[tok.start[0] - 1] + tok.start[1]
            end = offsets[tok.end[0] - 1] + tok.end[1]
            chars[start:end] = ["\n" if c == "\n" else " " for c in chars[start:end]]
    return "".join(chars)


def has_maths(page: str) -> bool:
    """Whether the page's text (markdown) has maths for MathJax to typeset."""
    path = ROOT / f"{page}.ipynb"
    text = ("\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
            if path.is_file() else (ROOT / f"{page}.md").read_text())
    return bool(re.search(r"\$[^$\n]+\$|\$\$|\\\(|\\\[|```\{math\}|:::\{math\}", text))


# JavaScript run in the page ------------------------------------------------------------------------
WAIT_MATHJAX = """async () => {
  if (!window.MathJax) return {loaded: false, count: 0};
  for (let i = 0; i < 200 && !(MathJax.startup && MathJax.startup.promise); i++)
    await new Promise(r => setTimeout(r, 50));
  await MathJax.startup.promise;
  return {loaded: true, count: Array.from(MathJax.startup.document.math).length,
          version: MathJax.version};
}"""

RAW_TEX = """() => {
  const main = document.querySelector('main') || document.body;
  const clone = main.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, mjx-container, .cell_input, textarea').forEach(e => e.remove());
  const text = clone.textContent;
  const hits = [];
  for (const token of ['\\\\(', '\\\\[', '$$']) {
    const i = text.indexOf(token);
    if (i >= 0) hits.push(text.slice(Math.max(0, i - 40), i + 40));
  }
  return hits;
}"""

IMAGES = """async () => {
  const imgs = Array.from(document.querySelectorAll('main img'));
  for (const img of imgs) { img.loading = 'eager'; try { await img.decode(); } catch (e) {} }
  return {
    broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src')),
    total: imgs.length,
    figures: document.querySelectorAll('div.cell_output img').length,
  };
}"""

SCROLLING_CODE = """() => Array.from(document.querySelectorAll('div.cell_input pre'))
  .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent.split('\\n')
  .reduce((a, b) => (b.length > a.length ? b : a), '').slice(0, 80))"""

SOLUTIONS = """() => {
  const boxes = Array.from(document.querySelectorAll('main details.sd-dropdown, main details.hide'));
  return {total: boxes.length, open: boxes.filter(d => d.open).length};
}"""

WIDGETS = """() => ({
  views: document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length,
  rendered: document.querySelectorAll('main .jupyter-widgets, main .widget-inline-hbox, main .p-Widget, main .lm-Widget').length,
})"""

MARK_HAN = """() => {
  const walker = document.createTreeWalker(document.querySelector('main') || document.body, NodeFilter.SHOW_TEXT);
  const han = /[\\u4e00-\\u9fff]+/;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest('script, style, pre, code, mjx-container') || !parent.checkVisibility()) continue;
    const m = han.exec(node.data);
    if (!m) continue;
    const start = node.splitText(m.index);
    start.splitText(m[0].length);
    const span = document.createElement('span');
    span.setAttribute('data-cjk-probe', '');
    start.parentNode.replaceChild(span, start);
    span.appendChild(start);
    return m[0];
  }
  return null;
}"""


def rendered_fonts(page, selector: str) -> list[dict]:
    """The platform fonts Chromium used to draw the text of ``selector`` (DevTools protocol)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    cdp.detach()
    return fonts


def open_page(offline, url: str):
    page = offline.page()
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    return page


@pytest.mark.parametrize("name", toc_pages())
def test_page_as_a_reader_sees_it(offline, server, name):
    page = open_page(offline, f"{server}{name}.html")
    maths = page.evaluate(WAIT_MATHJAX)
    page.wait_for_timeout(300)  # widgets render after the embed script has run
    images = page.evaluate(IMAGES)
    widgets = page.evaluate(WIDGETS)
    solutions = page.evaluate(SOLUTIONS)
    scrolling = page.evaluate(SCROLLING_CODE)
    raw = page.evaluate(RAW_TEX)
    han = page.evaluate(MARK_HAN)
    fonts = rendered_fonts(page, "[data-cjk-probe]") if han else []
    expected = figure_cells(name)
    REPORT[name] = {"figures": images["figures"], "figure_cells": expected, "images": images["total"],
                    "maths": maths["count"], "widgets": widgets, "collapsed": solutions, "cjk_sample": han,
                    "cjk_fonts": sorted({f["familyName"] for f in fonts})}
    if name in SCREENSHOT_PAGES:
        shot = SCREENSHOTS / SCREENSHOT_PAGES[name]
        page.screenshot(path=f"{shot}.png", full_page=False)
        for what, selector in (("figure", "div.cell_output img"), ("widget", "main .widget-hprogress")):
            if page.locator(selector).count():
                element = page.locator(selector).first
                element.scroll_into_view_if_needed()
                element.screenshot(path=f"{shot}-{what}.png")
    page.close()

    assert not offline.blocked, f"{name}: requests left the site (readers offline see them fail): {offline.blocked}"
    assert not offline.errors, f"{name}: JavaScript errors: {offline.errors}"
    if has_maths(name):  # (Sphinx adds MathJax only to pages with maths)
        assert maths["loaded"], f"{name}: the page has maths but MathJax did not load from the site"
        assert maths["count"] > 0, f"{name}: the page has maths but MathJax typeset none"
    assert not raw, f"{name}: raw TeX left in the text: {raw}"
    assert not images["broken"], f"{name}: images that did not load: {images['broken']}"
    assert images["figures"] >= expected, \
        f"{name}: the code makes {expected} figure(s) but the page shows {images['figures']}"
    assert widgets["rendered"] >= widgets["views"], f"{name}: widgets not rendered: {widgets}"
    assert not scrolling, f"{name}: code cells that scroll sideways at 1280 px: {scrolling}"
    assert solutions["open"] == 0, f"{name}: solutions and hidden cells must start collapsed: {solutions}"
    if han:
        cjk = [f for f in fonts if re.search(r"CJK|Han|Hei|Song|Kai|Ming|SC|TC|JP", f["familyName"])
               and f["glyphCount"] > 0]
        assert cjk, f"{name}: the Chinese text {han!r} is drawn with {fonts}, not a CJK font"


@pytest.mark.parametrize("name", ["intro", "chapters/02_gan_math/01_minimax"])
def test_page_from_file_url(offline, site, name):
    """Opened straight from the disk (file://), as a reader with a downloaded copy would."""
    page = open_page(offline, (site / f"{name}.html").as_uri())
    maths = page.evaluate(WAIT_MATHJAX)
    images = page.evaluate(IMAGES)
    raw = page.evaluate(RAW_TEX)
    page.close()
    assert not offline.blocked, f"{name}: requests left the machine: {offline.blocked}"
    assert maths["loaded"] and (maths["count"] > 0 or not has_maths(name)), f"{name}: maths not typeset"
    assert not raw, f"{name}: raw TeX left in the text: {raw}"
    assert not images["broken"] and images["figures"] >= figure_cells(name)


def test_download_and_launch_buttons(offline, server):
    """A chapter offers its .ipynb and .py for download, and both links work."""
    page = open_page(offline, f"{server}chapters/02_gan_math/01_minimax.html")
    links = page.evaluate("""() => Array.from(document.querySelectorAll('.dropdown-download-buttons a'))
                              .map(a => a.getAttribute('href'))""")
    launch = page.evaluate("""() => Array.from(document.querySelectorAll('.dropdown-launch-buttons a'))
                              .map(a => a.getAttribute('href'))""")
    for suffix in (".ipynb", ".py"):
        href = next((h for h in links if h and h.endswith(suffix)), None)
        assert href, f"no {suffix} download link among {links}"
        response = page.request.get(f"{server}chapters/02_gan_math/{href}")
        assert response.ok and len(response.body()) > 1000, f"{href} does not download"
    assert any("mybinder.org" in h for h in launch) and any("colab.research.google.com" in h for h in launch), launch
    page.close()


def test_zz_write_report(site):
    """Runs last (file order): what the page tests found, for the record (and the issue notes)."""
    assert REPORT, "no page was checked"
    (SCREENSHOTS / "report.json").write_text(json.dumps(REPORT, indent=1, sort_keys=True, ensure_ascii=False))
    missing = [p for p in SCREENSHOT_PAGES.values() if not (SCREENSHOTS / f"{p}.png").is_file()]
    assert not missing, f"screenshots not taken: {missing}"
