"""ONNX exports of the live demos' models (aigc_course.export) and the demos' static side (demos.py)."""
from __future__ import annotations

import base64
import io
import pathlib
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from aigc_course import checkpoint, export
from aigc_course.demos import latent_grid, live_demo, tile, to_grey
from aigc_course.errors import CheckpointError


@pytest.fixture(scope="module")
def image_models():
    return {name: export.ImageModel(name) for name in export.DEMO_MODELS}


@pytest.mark.parametrize("name", sorted(export.DEMO_MODELS))
def test_shipped_onnx_matches_pytorch(name, image_models):
    """The shipped file (hash-checked) gives PyTorch's images on the same inputs, at any batch size."""
    path = export.shipped_onnx(name)
    model = image_models[name]
    info = checkpoint.manifest_entry(name)["onnx"]
    print(f"{name}: {path.name} {path.stat().st_size / 1e6:.2f} MB, opset {info['opset']}")
    for n, seed in [(1, 3), (7, 4), (64, 5)]:
        inputs = model.example_inputs(n=n, seed=seed)
        with torch.no_grad():
            expected = model(*inputs).numpy()
        got = export.run_onnx(path, *inputs)
        assert got.shape == expected.shape == (n, *model.data_shape)
        np.testing.assert_allclose(got, expected, atol=export.CHECK_ATOL, rtol=0)
        if model.kind != "diffusion":  # a diffusion export gives the denoiser's output (a velocity), not images
            assert np.abs(got).max() <= 1.0 + 1e-6, "images lie in [-1, 1]"


def test_conditional_export_follows_the_label(image_models):
    """Changing only the label changes the image (the export did not freeze one class)."""
    model = image_models["cgan-fashion"]
    z = torch.from_numpy(export.demo_latent(0, 10, model.z_dim))
    labels = torch.arange(10)
    got = export.run_onnx(export.shipped_onnx("cgan-fashion"), z[:1].repeat(10, 1), labels)
    with torch.no_grad():
        expected = model(z[:1].repeat(10, 1), labels).numpy()
    np.testing.assert_allclose(got, expected, atol=export.CHECK_ATOL, rtol=0)
    assert np.abs(got[0] - got[1]).mean() > 0.05


def test_export_to_a_folder_leaves_the_manifest_alone(tmp_path):
    before = checkpoint.read_manifest()
    info = export.export_onnx("vae2d-fashion", tmp_path)
    assert (tmp_path / "vae2d-fashion.onnx").stat().st_size == info["bytes"]
    assert info["max_abs_diff_vs_torch"] <= export.CHECK_ATOL
    assert checkpoint.read_manifest() == before


def test_a_modified_or_stale_export_is_refused(tmp_path, monkeypatch):
    shutil.copytree(checkpoint.weights_dir(), tmp_path / "w")
    monkeypatch.setenv("AIGC_WEIGHTS_DIR", str(tmp_path / "w"))
    path = tmp_path / "w" / checkpoint.manifest_entry("vae2d-fashion")["onnx"]["file"]  # vae2d-fashion-<sha>.onnx
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"vae2d-fashion-[0-9a-f]{12}\.onnx does not match its SHA-256"):
        export.shipped_onnx("vae2d-fashion")
    manifest = checkpoint.read_manifest()
    manifest["weights"]["dcgan-fashion"]["onnx"]["from_sha256"] = "0" * 64
    checkpoint.write_manifest(manifest)
    with pytest.raises(CheckpointError, match="exported from other weights"):
        export.shipped_onnx("dcgan-fashion")
    del manifest["weights"]["cgan-fashion"]["onnx"]
    checkpoint.write_manifest(manifest)
    with pytest.raises(CheckpointError, match="export onnx cgan-fashion"):
        export.shipped_onnx("cgan-fashion")


def test_demo_latent_is_standard_normal_and_reproducible():
    z = export.demo_latent(7, 500, 40)  # 20 000 numbers
    assert z.dtype == np.float32 and z.shape == (500, 40)
    np.testing.assert_array_equal(z, export.demo_latent(7, 500, 40))
    assert not np.array_equal(z, export.demo_latent(8, 500, 40))
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1) < 0.03  # 4 standard errors
    assert abs((np.abs(z) < 1).mean() - 0.6827) < 0.015  # the shape, not just two moments
    # odd sizes: the last Box-Muller pair is cut, not shifted
    np.testing.assert_array_equal(export.demo_latent(3, 1, 5).ravel(), export.demo_latent(3, 1, 6).ravel()[:5])


def test_mulberry32_matches_its_javascript_definition():
    """demo_latent against a second, independent transcription of the JavaScript in _site/demos.js
    (modular arithmetic instead of masks); the browser test compares the page's own latents too."""
    def js_mulberry32(a):
        def imul(x, y):
            return ((x & 0xFFFFFFFF) * (y & 0xFFFFFFFF)) % 2**32
        while True:
            a = (a + 0x6D2B79F5) % 2**32
            t = imul(a ^ (a >> 15), 1 | a)
            t = ((t + imul(t ^ (t >> 7), 61 | t)) % 2**32) ^ t
            yield ((t ^ (t >> 14)) % 2**32) / 2**32
    gen = js_mulberry32(0)
    u = [next(gen) for _ in range(4)]
    r = np.sqrt(-2 * np.log(1 - u[0]))
    expected = np.array([r * np.cos(2 * np.pi * u[1]), r * np.sin(2 * np.pi * u[1])], dtype=np.float32)
    np.testing.assert_array_equal(export.demo_latent(0, 1, 2)[0], expected)
    assert "0x6D2B79F5" in (pathlib.Path(__file__).parents[1] / "_site" / "demos.js").read_text()


def _png_pixels(url: str) -> np.ndarray:
    from PIL import Image

    data = base64.b64decode(url.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(data)))


@pytest.mark.parametrize("name,kind", [("dcgan-fashion", "samples"), ("cgan-fashion", "classes"),
                                       ("vae2d-fashion", "latent2d")])
def test_live_demo_static_figure_is_the_models_output(name, kind, image_models):
    demo = live_demo(name, kind, n=6, cols=3, label=2, points=5)
    html = demo._repr_html_()
    assert f'data-model="{name}"' in html and f'data-demo="{kind}"' in html
    url = re.search(r'src="(data:image/png;base64,[^"]+)"', html).group(1)
    pixels = _png_pixels(url)
    model = image_models[name]
    if kind == "latent2d":
        z = torch.from_numpy(latent_grid(5, 3.0))
        inputs, cols, scale = (z,), 5, 2
        assert 'data-lim="3.0"' in html
    else:
        z = torch.from_numpy(export.demo_latent(0, 6, model.z_dim))
        inputs = (z, torch.full((6,), 2)) if kind == "classes" else (z,)
        cols, scale = 3, 3
    with torch.no_grad():
        expected = to_grey(tile(model(*inputs).numpy(), cols))
    np.testing.assert_array_equal(pixels[::scale, ::scale], expected)


def test_latent_grid_centres_and_orientation():
    z = latent_grid(3, 3.0)
    np.testing.assert_allclose(z[0], [-2.0, 2.0])   # top-left: z1 smallest, z2 largest
    np.testing.assert_allclose(z[2], [2.0, 2.0])
    np.testing.assert_allclose(z[-1], [2.0, -2.0])


def test_live_demo_refuses_bad_settings():
    with pytest.raises(ValueError, match="kind='samples'"):
        live_demo("dcgan-fashion", "classes")
    with pytest.raises(ValueError, match="latent2d needs 2"):
        live_demo("vae-fashion", "latent2d")
    with pytest.raises(ValueError, match="kind="):
        live_demo("dcgan-fashion", "video")
    with pytest.raises(ValueError, match="n=0"):
        live_demo("dcgan-fashion", n=0)


def test_cli_export_names_the_choices(tmp_path):
    out = subprocess.run([sys.executable, "-m", "aigc_course", "export", "onnx", "charlm-tang", "--out",
                          str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 2
    assert "charlm-tang" in out.stderr and "dcgan-fashion" in out.stderr
    assert not list(tmp_path.iterdir())
