"""A learner's first step: JupyterLab starts, opens a chapter's ``.py`` script as a notebook (jupytext
pairing), runs every cell in Chromium, and nothing fails.

The server runs on 127.0.0.1 with a token, over a temporary copy of the chapter (JupyterLab saves, and
the repository's notebooks must stay without outputs); its settings, runtime files and workspaces go to
the same temporary folder, never to the home directory.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from browserlib import ROOT, SCREENSHOTS
from test_site import figure_cells

CHAPTER = "chapters/04_hands_on/02_dcgan"  # trains live: figures, a GIF and tqdm progress widgets
RUN_TIMEOUT_S = 600


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server over a copy of one chapter; yields (base URL, token, file name)."""
    work = tmp_path / "work"
    work.mkdir()
    for suffix in (".py", ".ipynb"):
        shutil.copy(ROOT / f"{CHAPTER}{suffix}", work)
    shutil.copy(ROOT / "jupytext.toml", work)
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"), "AIGC_PROFILE": "quick"}
    env.pop("MPLBACKEND", None)
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}",
         "--LabApp.expose_app_in_browser=True", "--LabApp.extension_manager=readonly",
         *(["--allow-root"] if os.geteuid() == 0 else [])],
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited with {proc.returncode}: {(tmp_path / 'lab.log').read_text()[-2000:]}")
        else:
            pytest.fail("jupyter lab did not answer within 60 s")
        yield base, token, f"{CHAPTER.rsplit('/', 1)[1]}.py"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    assert proc.returncode is not None


CELL_STATE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.content || !panel.content.model) return null;
  const cells = panel.content.model.cells;
  const out = [];
  for (let i = 0; i < cells.length; i++) {
    const c = cells.get(i);
    if (c.type !== 'code') continue;
    out.push({count: c.executionCount, outputs: c.outputs.toJSON().map(o => o.output_type === 'error'
             ? {type: 'error', text: o.ename + ': ' + o.evalue} : {type: o.output_type,
               mime: Object.keys(o.data || {})})});
  }
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  return {factory: panel.context.factoryName || null, path: panel.context.path, cells: out,
          kernel: kernel ? kernel.status : 'none'};
}"""


def test_chapter_runs_in_jupyterlab(offline, lab):
    base, token, name = lab
    offline.allowed = ("127.0.0.1",)
    page = offline.page()
    page.goto(f"{base}/lab/tree/{name}?token={token}", wait_until="load")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                           " && window.jupyterapp.shell.currentWidget.content"
                           " && window.jupyterapp.shell.currentWidget.content.model", timeout=60_000)
    page.wait_for_function("() => { const p = window.jupyterapp.shell.currentWidget;"
                           " const k = p.sessionContext.session && p.sessionContext.session.kernel;"
                           " return k && k.status === 'idle'; }", timeout=60_000)
    started = time.perf_counter()
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    state = None
    while time.perf_counter() - started < RUN_TIMEOUT_S:
        state = page.evaluate(CELL_STATE)
        errors = [o["text"] for c in state["cells"] for o in c["outputs"] if o["type"] == "error"]
        assert not errors, f"{name}: error output in JupyterLab: {errors}"
        if all(c["count"] is not None for c in state["cells"]) and state["kernel"] == "idle":
            break
        time.sleep(1)
    else:
        pytest.fail(f"{name}: not every cell ran within {RUN_TIMEOUT_S} s: {json.dumps(state)[:2000]}")
    seconds = time.perf_counter() - started
    page.wait_for_timeout(500)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "jupyterlab.png"))
    figures = sum(any(m.startswith("image/") for m in o.get("mime", [])) for c in state["cells"] for o in c["outputs"])
    widgets = sum("application/vnd.jupyter.widget-view+json" in o.get("mime", []) for c in state["cells"]
                  for o in c["outputs"])
    rendered_widgets = page.evaluate("() => document.querySelectorAll('.jp-OutputArea .widget-hprogress,"
                                     " .jp-OutputArea .jupyter-widgets').length")
    page.close()
    (SCREENSHOTS / "jupyterlab.json").write_text(json.dumps(
        {"chapter": name, "opened_as": state["path"], "code_cells": len(state["cells"]), "figures": figures,
         "widget_outputs": widgets, "rendered_widgets": rendered_widgets, "run_all_s": round(seconds, 1)}, indent=1))
    assert state["path"].endswith(".py"), "the .py script did not open as a notebook (jupytext pairing)"
    assert figures >= figure_cells(CHAPTER), f"{figures} figures in JupyterLab, the code makes {figure_cells(CHAPTER)}"
    assert not offline.blocked, f"JupyterLab tried to reach the network: {offline.blocked}"
    assert widgets > 0, "the chapter's progress bars should be widgets in JupyterLab"
    assert rendered_widgets >= widgets, f"{widgets} widget outputs but {rendered_widgets} rendered"
