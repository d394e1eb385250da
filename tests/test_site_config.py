"""The website's configuration: nothing hides figures, everything is served by the site itself.

The browser tests (tests/browser/) look at the built pages; these fast checks guard the settings
behind them, so a change that would break the site fails here first, without a build.
"""
from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import types

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _extension():
    spec = importlib.util.spec_from_file_location("course_site", ROOT / "_ext" / "course_site.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_setting_makes_kernels_drop_figures():
    """An MPLBACKEND in the scripts that start kernels (book build, nbval) turns plt.show() into nothing."""
    for path in ["tools/course.sh", ".ci/run", "_config.yml", "pyproject.toml", "nbval_sanitize.cfg"]:
        text = (ROOT / path).read_text()
        assert "MPLBACKEND=" not in text and "matplotlib.use(" not in text, path


def test_extension_clears_mplbackend_and_checks_vendored_js(tmp_path, monkeypatch):
    ext = _extension()
    config = types.SimpleNamespace(html_theme_options={"launch_buttons": {"binderhub_url": "https://mybinder.org"}})
    monkeypatch.setenv("MPLBACKEND", "Agg")
    app = types.SimpleNamespace(confdir=str(tmp_path))
    with pytest.raises(Exception, match="npm ci"):  # nothing vendored yet: a clear error, not a broken site
        ext._check_vendor(app, config)
    assert "MPLBACKEND" not in os.environ
    for name in ext.VENDORED:
        (tmp_path / "_vendor" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "_vendor" / name).write_text("//")
    monkeypatch.setenv("AIGC_JUPYTERHUB_URL", "https://hub.example.edu/")
    ext._check_vendor(app, config)
    assert config.html_theme_options["launch_buttons"] == {"binderhub_url": "https://mybinder.org",
                                                          "jupyterhub_url": "https://hub.example.edu"}
    (tmp_path / "_static").mkdir()
    with pytest.raises(Exception, match="_static"):
        ext._check_vendor(app, config)


def test_extension_drops_repeated_scripts():
    from sphinx.builders.html._assets import _JavaScript

    ext = _extension()
    scripts = [_JavaScript("a.js"), _JavaScript(None, body="const X = 1"), _JavaScript("", body="const X = 1"),
               _JavaScript("a.js"), _JavaScript("b.js", priority=200)]
    context = {"script_files": scripts}
    ext._dedupe_scripts(None, "p", "page.html", context, None)
    assert [str(s.filename or "") for s in context["script_files"]] == ["a.js", "", "b.js"]


def test_site_serves_its_own_javascript():
    """MathJax and the widget manager load from _static/, never from a CDN (readers may be offline)."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["config"]
    assert not config["mathjax_path"].startswith(("http:", "https:", "//"))
    assert all(not key.startswith(("http:", "https:", "//")) for key in config["nb_ipywidgets_js"])
    pins = json.loads((ROOT / "package.json").read_text())["dependencies"]
    assert all(v[0].isdigit() for v in pins.values()), f"pin exact versions: {pins}"
    lock = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    for name, version in pins.items():
        assert lock[f"node_modules/{name}"]["version"] == version
    assert not (ROOT / "_static").exists(), "a _static/ folder makes Jupyter Book add all of MathJax to every page"


def test_glue_turns_numpy_and_tensor_scalars_into_numbers(monkeypatch):
    """myst-nb formats {glue:text}`key:.2f` from the value's repr: numpy 2's ``np.float64(2.5)`` fails
    (a build warning, the number missing), so the course's glue hands over plain numbers."""
    import myst_nb
    import numpy as np
    import torch

    from aigc_course import plotting

    seen = {}
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display=True: seen.__setitem__(name, value))
    plotting.glue("a", np.float64(2.5), display=False)
    plotting.glue("b", np.int64(3), display=False)
    plotting.glue("c", torch.tensor(0.25), display=False)
    plotting.glue("d", "text", display=False)
    assert seen == {"a": 2.5, "b": 3, "c": 0.25, "d": "text"}
    assert [type(seen[k]) for k in "abc"] == [float, int, float]
    assert repr(np.float64(2.5)) != repr(2.5)  # the reason (numpy >= 2)
