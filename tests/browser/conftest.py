"""Fixtures of the browser tests: Debian's Chromium driven by Playwright, with the network off.

These tests look at what readers and learners see: the built website (``_build/html``, made by
``bash tools/course.sh book``) and a chapter run in JupyterLab. ``bash tools/course.sh test`` runs them
after building the site. Playwright never downloads a browser here: it launches the system Chromium
(``apt-get install chromium fonts-noto-cjk``).
"""
from __future__ import annotations

import functools
import http.server
import pathlib
import threading

import pytest

from browserlib import CHROMIUM_ARGS, SCREENSHOTS, SITE, Offline, chromium_path


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="session")
def site() -> pathlib.Path:
    if not (SITE / "index.html").is_file():
        pytest.fail(f"no built website in {SITE}: run `bash tools/course.sh book` first")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SITE


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output readable
        pass


@pytest.fixture(scope="session")
def server(site):
    """``python -m http.server`` on 127.0.0.1 over the built site; yields its base URL."""
    handler = functools.partial(_Quiet, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def offline(browser):
    ctx = Offline(browser)
    yield ctx
    ctx.close()
