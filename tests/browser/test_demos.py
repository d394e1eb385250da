"""The live demos run the shipped models in the page (ONNX Runtime Web, WebAssembly), with the network
off, and draw what PyTorch draws for the same latents. Timings go to _build/screenshots/demos.json."""
from __future__ import annotations

import json
import statistics
import sys

import numpy as np
import pytest
import torch

from browserlib import ROOT, SCREENSHOTS

sys.path.insert(0, str(ROOT))
from aigc_course import diffusion, export  # noqa: E402
from aigc_course.demos import diffusion_demo_images, tile, to_grey  # noqa: E402

DEMO_PAGES = {  # page -> the demos it has, in order
    "chapters/04_hands_on/02_dcgan": [("dcgan-fashion", "samples")],
    "chapters/04_hands_on/03_cgan_wgan": [("cgan-fashion", "classes")],
    "chapters/04_hands_on/04_conv_vae": [("vae2d-fashion", "latent2d")],
    "chapters/05_applications/01_latent_walks": [("vae2d-fashion", "latent2d")],
    "chapters/06_diffusion/05_guidance": [("flow-fashion", "diffusion")],
}
DIFFUSION_SETTINGS = "Heun 6 steps (11 evaluations), guidance 2 (two outputs each)"
DIFFUSION_ATOL = 1e-3  # the page's sampling loop vs Diffusion.sample: float32 in both, up to 23 evaluations
TIMINGS: dict[str, dict] = {}

WAIT_READY = """async (timeoutMs) => {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    const demos = Array.from(document.querySelectorAll('div.aigc-demo'));
    if (demos.length && demos.every(d => d.dataset.state === 'ready' || d.dataset.state === 'error')) break;
    await new Promise(r => setTimeout(r, 50));
  }
  return Array.from(document.querySelectorAll('div.aigc-demo')).map(d => d.dataset.state || 'none');
}"""

STATE = """(i) => {
  const s = window.aigcDemos[i];
  const canvas = document.querySelectorAll('div.aigc-demo')[i].querySelector('canvas.aigc-demo-canvas');
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  const grey = [];
  for (let p = 0; p < data.length; p += 4) grey.push(data[p]);
  return {model: s.model, kind: s.kind, seed: s.seed, label: s.label, z: s.z, labels: s.labels,
          output: s.output, runs: s.runs, loadMs: s.loadMs, runMs: s.runMs, error: s.error || null,
          guidance: s.guidance, schedule: s.schedule, evaluations: s.evaluations,
          width: canvas.width, height: canvas.height, grey: grey};
}"""

# one change of a control, then wait for the redraw it causes; returns the milliseconds it took
CHANGE_AND_TIME = """async ([i, selector, value]) => {
  const root = document.querySelectorAll('div.aigc-demo')[i];
  const control = root.querySelector(selector);
  const before = window.aigcDemos[i].runs;
  const t0 = performance.now();
  if (control.tagName === 'BUTTON') control.click();
  else { control.value = String(value); control.dispatchEvent(new Event(control.type === 'range' ? 'input' : 'change')); }
  while (window.aigcDemos[i].runs === before && performance.now() - t0 < 20000)
    await new Promise(r => setTimeout(r, 1));
  return performance.now() - t0;
}"""


def _pytorch_images(name: str, state: dict, h: int = 28, w: int = 28) -> np.ndarray:
    model = export.ImageModel(name)
    z = torch.tensor(state["z"], dtype=torch.float32).reshape(-1, model.z_dim)
    inputs = (z,) if state["labels"] is None else (z, torch.tensor(state["labels"], dtype=torch.long))
    with torch.no_grad():
        return model(*inputs).numpy()


def _check_diffusion(name: str, state: dict) -> float:
    """The page's sampling loop gives Diffusion.sample's images for the same noise, label, guidance and steps."""
    model = export.ImageModel(name)
    n = len(state["labels"])
    np.testing.assert_allclose(np.asarray(state["z"], dtype=np.float32),
                               export.demo_latent(state["seed"], n, model.z_dim).ravel(), atol=1e-6, rtol=0)
    expected = diffusion_demo_images(model.model, state["seed"], n, state["label"], state["guidance"],
                                     state["schedule"]).numpy()
    got = np.asarray(state["output"], dtype=np.float32).reshape(expected.shape)
    diff = float(np.abs(got - expected).max())
    assert diff <= DIFFUSION_ATOL, f"{name}: the browser's samples differ from PyTorch's by {diff:.2e}"
    sampler, steps = state["schedule"].split(":")
    assert state["evaluations"] == diffusion.nfe(sampler, int(steps)), "one ONNX run per network evaluation"
    return diff


def _check_against_pytorch(name: str, kind: str, state: dict) -> float:
    """Latents equal demo_latent (or the sliders' values), outputs and pixels equal PyTorch's."""
    if kind == "diffusion":
        return _check_diffusion(name, state)
    model = export.ImageModel(name)
    z = np.asarray(state["z"], dtype=np.float32).reshape(-1, model.z_dim)
    if kind != "latent2d":
        np.testing.assert_allclose(z, export.demo_latent(state["seed"], z.shape[0], model.z_dim), atol=1e-6, rtol=0,
                                   err_msg=f"{name}: the page's latents are not demo_latent's")
    expected = _pytorch_images(name, state)
    got = np.asarray(state["output"], dtype=np.float32).reshape(expected.shape)
    out_diff = float(np.abs(got - expected).max())
    assert out_diff <= 1e-4, f"{name}: the browser's images differ from PyTorch's by {out_diff:.2e}"
    cols = state["width"] // 28
    grey = np.asarray(state["grey"], dtype=np.int16).reshape(state["height"], state["width"])
    pixel_diff = int(np.abs(grey - to_grey(tile(expected, cols)).astype(np.int16)).max())
    assert pixel_diff <= 1, f"{name}: canvas pixels differ from PyTorch's by {pixel_diff} grey levels"
    return out_diff


@pytest.mark.parametrize("page", sorted(DEMO_PAGES))
def test_demo_runs_offline_and_matches_pytorch(offline, server, page):
    tab = offline.page()
    tab.goto(f"{server}{page}.html", wait_until="load")
    states = tab.evaluate(WAIT_READY, 60000)
    assert states == ["ready"] * len(DEMO_PAGES[page]), \
        f"{page}: demo states {states}; {tab.evaluate('() => window.aigcDemos.map(d => d.error)')}"
    for i, (name, kind) in enumerate(DEMO_PAGES[page]):
        state = tab.evaluate(STATE, i)
        assert (state["model"], state["kind"]) == (name, kind)
        diffs = [_check_against_pytorch(name, kind, state)]
        change_ms = []
        if kind == "samples":
            actions = [(".aigc-demo-new", None), (".aigc-demo-seed", 1234), (".aigc-demo-new", None)]
        elif kind == "classes":
            actions = [(".aigc-demo-class", 0), (".aigc-demo-class", 7), (".aigc-demo-new", None)]
        elif kind == "diffusion":  # class, no label, guidance, a cheaper sampler
            actions = [(".aigc-demo-class", 3), (".aigc-demo-class", 10), (".aigc-demo-class", 1),
                       (".aigc-demo-guidance", 4), (".aigc-demo-steps", "euler:4")]
        else:
            actions = [(".aigc-demo-slider", v) for v in (-2.5, -1.0, 0.5, 1.75, 2.9)]
        for selector, value in actions:
            change_ms.append(tab.evaluate(CHANGE_AND_TIME, [i, selector, value]))
            state = tab.evaluate(STATE, i)
            diffs.append(_check_against_pytorch(name, kind, state))
        if kind == "classes":
            assert set(state["labels"]) == {7}, "the class picker sets the labels"
        if kind == "diffusion":
            assert (state["label"], state["guidance"], state["schedule"]) == (1, 4, "euler:4")
        if kind == "latent2d":
            assert abs(state["z"][0] - 2.9) < 1e-6, "the first slider sets z1"
            first = tab.evaluate(STATE, i)["grey"]
            tab.evaluate(CHANGE_AND_TIME, [i, ".aigc-demo-walk", None])  # the latent walk moves z by itself
            tab.wait_for_timeout(600)
            moving = tab.evaluate(STATE, i)
            tab.locator("div.aigc-demo .aigc-demo-walk").nth(i).click()  # stop it
            assert moving["runs"] > state["runs"] + 2 and moving["grey"] != first, "the latent walk animates"
        slug = page.split("/")[-1]
        root = tab.locator("div.aigc-demo").nth(i)
        root.scroll_into_view_if_needed()
        root.screenshot(path=str(SCREENSHOTS / f"demo-{slug}-{i}.png"))
        TIMINGS[f"{page}#{i}"] = {
            "model": name, "kind": kind, "onnx_bytes": export.shipped_onnx(name).stat().st_size,
            "load_ms": round(state["loadMs"], 1),
            "first_run_ms": round(state["runMs"][0], 1),
            "run_ms_median": round(statistics.median(state["runMs"]), 2),
            "images_per_run": len(state["z"]) // export.ImageModel(name).z_dim,
            **({"ms_per_image_first_run": round(state["runMs"][0] / (len(state["z"]) // 784), 1),
                "first_run_settings": DIFFUSION_SETTINGS} if kind == "diffusion" else {}),
            "change_to_redraw_ms": [round(t, 1) for t in change_ms],
            "max_abs_diff_vs_torch": max(diffs),
        }
        print(f"{page} demo {i}: {TIMINGS[f'{page}#{i}']}")
    assert not offline.blocked, f"{page}: requests left the site: {offline.blocked}"
    assert not offline.errors, f"{page}: JavaScript errors: {offline.errors}"
    (SCREENSHOTS / "demos.json").write_text(json.dumps(TIMINGS, indent=2, sort_keys=True) + "\n")
    tab.close()


def test_without_javascript_the_static_figure_stays(browser, site):
    """A reader with JavaScript off sees the PyTorch figure and its caption."""
    ctx = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    try:
        tab = ctx.new_page()
        tab.goto((site / "chapters/04_hands_on/02_dcgan.html").as_uri())
        figure = tab.locator("div.aigc-demo img.aigc-demo-static").first
        assert figure.is_visible()
        assert figure.evaluate("img => img.naturalWidth") > 0
        assert "Static figure" in tab.locator("div.aigc-demo p.aigc-demo-caption").first.inner_text()
    finally:
        ctx.close()


def test_from_a_file_url_the_demo_says_why_it_cannot_start(offline, site):
    """Opened from the disk, WebAssembly modules do not load: the figure stays and a note says what to do."""
    tab = offline.page()
    tab.goto((site / "chapters/04_hands_on/04_conv_vae.html").as_uri(), wait_until="load")
    states = tab.evaluate(WAIT_READY, 30000)
    if states == ["ready"]:  # a browser that allows it: fine too
        return
    assert states == ["error"], states
    assert tab.locator("div.aigc-demo img.aigc-demo-static").first.is_visible()
    assert "http.server" in tab.locator("div.aigc-demo p.aigc-demo-status").first.inner_text()
    offline.errors.clear()  # the refused module load is the expected console error here
