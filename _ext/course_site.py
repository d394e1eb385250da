"""Sphinx extension of the course website (loaded through ``sphinx.local_extensions`` in ``_config.yml``).

* The kernels that execute the notebooks are started by this Sphinx process and inherit its
  environment: an ``MPLBACKEND`` (e.g. ``Agg`` from a shell profile) would make every ``plt.show()``
  draw nothing on the site. It is removed here, so kernels use the inline backend.
* Checks that the vendored JavaScript (``tools/vendor_js.py``) is present: without it the pages would
  show raw ``\\(...\\)`` maths and blank widgets to readers who are offline.
* Removes scripts that the toolchain adds twice to every page (a JavaScript error otherwise).
* Adds a ``.py`` entry (the jupytext percent script a chapter is edited as) to each chapter's download
  menu, next to ``.ipynb``, and copies the scripts into the built site.
* Copies the ONNX exports of the live demos' models (``aigc_course.export``, SHA-256 checked against the
  weights manifest) into ``_static/models/``, where ``_site/demos.js`` loads them.
* ``AIGC_JUPYTERHUB_URL`` (e.g. ``https://hub.example.edu``) turns on the JupyterHub launch button for
  whoever hosts the course with a hub; Binder and Colab buttons come from ``_config.yml``.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ConfigError, ExtensionError

VENDORED = ("mathjax/tex-mml-chtml.js", "widgets/require.js", "widgets/embed-amd.js", "ort/ort.wasm.min.js",
            "ort/ort-wasm-simd-threaded.mjs", "ort/ort-wasm-simd-threaded.wasm")


def _check_vendor(app: Sphinx, config) -> None:
    os.environ.pop("MPLBACKEND", None)
    root = Path(app.confdir)
    if (root / "_static").is_dir():
        raise ConfigError(
            f"{root / '_static'} exists: Jupyter Book then adds every .js file of every static folder to every "
            "page (all of MathJax). Put styles in _site/ (listed in html_css_files) and remove _static/"
        )
    missing = [f for f in VENDORED if not (root / "_vendor" / f).is_file()]
    if missing:
        raise ConfigError(
            f"the website's JavaScript is missing from {root / '_vendor'} ({', '.join(missing)}): run "
            "`npm ci && python tools/vendor_js.py` (or `bash tools/course.sh setup`), then build again"
        )
    hub = os.environ.get("AIGC_JUPYTERHUB_URL", "").strip()
    if hub:
        options = config.html_theme_options
        launch = dict(options.get("launch_buttons", {}))
        launch["jupyterhub_url"] = hub.rstrip("/")
        options["launch_buttons"] = launch


def _script_of(app: Sphinx, pagename: str) -> Path | None:
    """The paired ``.py`` script of a notebook page, if there is one."""
    source = Path(app.srcdir) / f"{pagename}.ipynb"
    script = source.with_suffix(".py")
    return script if source.is_file() and script.is_file() else None


def _add_script_download(app: Sphinx, pagename, templatename, context, doctree) -> None:
    if _script_of(app, pagename) is None:
        return
    for button in context.get("header_buttons", []):
        if button.get("label") == "download-buttons":
            button["buttons"].insert(1, {
                "type": "link",
                "url": f"{context['pathto']('_sources', 1)}/{pagename}.py",
                "text": ".py",
                "tooltip": "Download the jupytext script (open it as a notebook in JupyterLab)",
                "icon": "fas fa-file-code",
                "label": "download-script-button",
            })


def _dedupe_scripts(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """Drop repeated ``<script>`` entries: with Jupyter Book 1.0.4 and Sphinx 7.4 the inline scripts of
    sphinx-thebe and sphinx-togglebutton are added twice, and the second ``const THEBE_JS_URL`` is a
    JavaScript error on every page."""
    seen, unique = set(), []
    for script in context.get("script_files", []):
        # an inline script (its body is an attribute) comes once with filename None, once with ''
        key = (getattr(script, "filename", script) or "", getattr(script, "priority", 0),
               tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def _copy_scripts(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    for doc in app.env.found_docs:
        script = _script_of(app, doc)
        if script is not None:
            target = Path(app.outdir) / "_sources" / f"{doc}.py"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(script, target)


def _copy_models(app: Sphinx, exception) -> None:
    """The demos' ONNX files, verified, into the site (a missing or stale export stops the build)."""
    if exception is not None or app.builder.format != "html":
        return
    from aigc_course import export
    from aigc_course.errors import CourseError

    target = Path(app.outdir) / "_static" / "models"
    target.mkdir(parents=True, exist_ok=True)
    for name in sorted(export.DEMO_MODELS):
        try:
            source = export.shipped_onnx(name)
        except CourseError as err:
            raise ExtensionError(f"live demo model {name!r}: {err}") from err
        shutil.copyfile(source, target / f"{name}.onnx")


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _check_vendor)
    app.connect("html-page-context", _add_script_download, priority=502)  # after the theme's buttons
    # (not later than 503: a later theme handler returns a template name, which ends the event)
    app.connect("html-page-context", _dedupe_scripts, priority=503)
    app.connect("build-finished", _copy_scripts)
    app.connect("build-finished", _copy_models)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
