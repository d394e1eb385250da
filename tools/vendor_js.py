"""Copy the JavaScript the website serves itself from ``node_modules/`` into ``_vendor/``.

    npm ci                       # installs the versions pinned in package-lock.json
    python tools/vendor_js.py    # -> _vendor/mathjax/..., _vendor/widgets/...

``_config.yml`` lists ``_vendor`` in ``html_static_path``, so the build copies it to
``_build/html/_static/``: MathJax (typeset maths), RequireJS and the ipywidgets HTML manager (embedded
widgets) and ONNX Runtime Web (the live demos) then load from the site itself, and pages work offline, from ``file://`` or a local server.
The repository has no ``_static`` folder on purpose: when one exists, Jupyter Book adds every ``.js``
under every static path to every page (all of MathJax's files, loaded twice over).
"""
from __future__ import annotations

import json
import pathlib
import shutil
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
NODE = ROOT / "node_modules"
VENDOR = ROOT / "_vendor"

# (package, files or folders inside it, destination folder inside _vendor)
ASSETS = [
    ("mathjax", ["es5"], "mathjax"),
    ("requirejs", ["require.js"], "widgets"),
    ("@jupyter-widgets/html-manager", ["dist"], "widgets"),
    # the live demos (_site/demos.js): the WebAssembly-only build, one thread, no WebGPU/WebGL bundles
    ("onnxruntime-web", ["dist/ort.wasm.min.js", "dist/ort-wasm-simd-threaded.mjs",
                         "dist/ort-wasm-simd-threaded.wasm"], "ort"),
]
SKIP_SUFFIXES = (".map", ".LICENSE.txt")  # source maps are large and not needed to run
SKIP_NAMES = {"embed.js", "libembed-amd.js"}  # other bundles of the same code; embed-amd.js is the one used


def _version(package: str) -> str:
    meta = NODE / package / "package.json"
    if not meta.is_file():
        raise SystemExit(f"error: {meta} is missing: run `npm ci` in {ROOT} first (needs Node.js and npm)")
    return json.loads(meta.read_text())["version"]


def _copy(src: pathlib.Path, dest: pathlib.Path) -> int:
    """Copy a file, or a folder's files (flattening the top folder), skipping maps; return bytes copied."""
    total = 0
    files = [src] if src.is_file() else sorted(p for p in src.rglob("*") if p.is_file())
    for f in files:
        if f.name.endswith(SKIP_SUFFIXES) or f.name in SKIP_NAMES:
            continue
        target = dest / (f.name if src.is_file() else f.relative_to(src))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, target)
        total += f.stat().st_size
    return total


def main() -> int:
    wanted = json.loads((ROOT / "package.json").read_text())["dependencies"]
    versions = {pkg: _version(pkg) for pkg, _, _ in ASSETS}
    stale = {p: (v, wanted[p]) for p, v in versions.items() if wanted.get(p) != v}
    if stale:
        raise SystemExit(f"error: node_modules holds other versions than package.json pins ({stale}); run `npm ci`")
    shutil.rmtree(VENDOR, ignore_errors=True)
    total = 0
    for pkg, parts, dest in ASSETS:
        for part in parts:
            total += _copy(NODE / pkg / part, VENDOR / dest)
    (VENDOR / "VERSIONS.json").write_text(json.dumps(versions, indent=2, sort_keys=True) + "\n")
    print(f"vendored {', '.join(f'{p}@{v}' for p, v in versions.items())} into {VENDOR} ({total / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
