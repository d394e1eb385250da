"""Shared pieces of the browser tests (imported by conftest.py and the test modules)."""
from __future__ import annotations

import os
import pathlib
import shutil
from urllib.parse import urlparse

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM_ARGS = [  # as the machine's probe found necessary: no sandbox as root, no background traffic
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


def chromium_path() -> str:
    for name in (os.environ.get("AIGC_CHROMIUM"), "chromium", "chromium-browser", "/usr/bin/chromium"):
        if name and shutil.which(name):
            return shutil.which(name)
    pytest.fail("Chromium is not installed: `apt-get install chromium fonts-noto-cjk` (or set AIGC_CHROMIUM)")


class Offline:
    """A browser context where every request that leaves this machine is refused and recorded, and every
    console error and uncaught exception of a page is recorded."""

    def __init__(self, browser, allowed_hosts=("127.0.0.1", "localhost")):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.allowed = allowed_hosts
        self.context.route("**/*", self._route)

    def _route(self, route):
        url = route.request.url
        parsed = urlparse(url)
        if parsed.scheme in ("file", "data", "blob") or parsed.hostname in self.allowed:
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("internetdisconnected")

    def page(self):
        page = self.context.new_page()
        page.on("console", lambda msg: self.errors.append(f"console {msg.type}: {msg.text}")
                if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))
        page.on("response", lambda r: self.errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
        return page

    def close(self):
        self.context.close()
