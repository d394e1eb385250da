"""Export shipped models to ONNX, for the live demos that run in the reader's browser.

    python -m aigc_course export onnx dcgan-fashion     # -> aigc_course/weights/dcgan-fashion-<sha256[:12]>.onnx

Each exported file is an *image model*: latent vectors (and class labels for a conditional GAN) in,
images in [-1, 1] out, shape (n, 1, 28, 28), float32, any batch size n. A GAN exports its (EMA)
generator; a VAE its decoder followed by ``to_image`` (the decoder's mean image). A diffusion model
exports its denoiser, one network evaluation: ``(x, t, labels) -> velocity`` (the sampling loop runs in
the page's JavaScript, 6.5). Writing into the
weights folder records the file, its SHA-256, size, inputs and the export check in the manifest entry's
``onnx`` field, so the website (``_ext/course_site.py``) copies a verified file. The check runs the file
with ``onnxruntime`` and compares it with PyTorch on the same inputs.

The browser draws its latents with :func:`demo_latent`, a small generator that JavaScript reproduces
exactly (``_site/demos.js``), so a page's static figure and its live demo show the same images for the
same seed. Introduced in 4.2 (the live demos); see DESIGN.md, "Live demos".
"""
from __future__ import annotations

import contextlib
import io
import logging
import math
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import checkpoint, recipes
from .errors import CheckpointError

# the models the website's demos use: name -> what the demo shows
DEMO_MODELS = {
    "dcgan-fashion": "samples",
    "cgan-fashion": "classes",
    "vae2d-fashion": "latent2d",
    "vae-fashion": "samples",
    "flow-fashion": "diffusion",
}
OPSET = 18
CHECK_ATOL = 1e-4  # onnxruntime vs PyTorch, images in [-1, 1] (float32 kernels differ in rounding)


class ImageModel(nn.Module):
    """``(z[, labels]) -> images in [-1, 1]`` of one shipped model: what the demos run."""

    def __init__(self, name: str):
        super().__init__()
        entry = checkpoint.manifest_entry(name)
        self.name, self.kind = name, entry["kind"]
        model = recipes.pretrained(name, device="cpu")
        if self.kind == "gan":
            self.model = model
            self.z_dim, self.n_classes = model.z_dim, model.n_classes
        elif self.kind == "vae":
            self.model = model
            self.z_dim, self.n_classes = model.z_dim, 0
        elif self.kind == "diffusion" and model.cfg.kind == "unet":
            self.model = model
            self.z_dim, self.n_classes = math.prod(model.data_shape), model.n_classes  # noise: one per pixel
        else:
            raise ValueError(f"{name!r} is a {self.kind!r} model; only GANs and VAEs make images to export "
                             f"(choose one of {sorted(DEMO_MODELS)})")
        self.data_shape = tuple(model.data_shape)
        self.eval()

    @property
    def input_names(self) -> list[str]:
        if self.kind == "diffusion":
            return ["x", "t", "labels"] if self.n_classes else ["x", "t"]
        return ["z", "labels"] if self.n_classes else ["z"]

    def forward(self, z: torch.Tensor, second: torch.Tensor | None = None,
                third: torch.Tensor | None = None) -> torch.Tensor:
        if self.kind == "gan":
            return self.model(z, second)  # labels or None -> (n, C, H, W), tanh output
        if self.kind == "diffusion":
            return self.model(z, second, third)  # x_t (n, C, H, W), t (n,), labels (n,) -> the network's output
        return self.model.to_image(self.model.decode(z))  # (n, C, H, W)

    def example_inputs(self, n: int = 8, seed: int = 0) -> tuple[torch.Tensor, ...]:
        z = torch.from_numpy(demo_latent(seed, n, self.z_dim))
        # classes in turn (a diffusion model's null label too); unconditional models take no labels
        labels = torch.arange(n, dtype=torch.long) % max(1, self.n_classes + (self.kind == "diffusion"))
        if self.kind == "diffusion":  # noisy images at times spread over [0, 1], the null label included
            x = z.reshape(n, *self.data_shape)
            t = torch.linspace(0.0, 1.0, n)
            return (x, t, labels) if self.n_classes else (x, t)
        return (z, labels) if self.n_classes else (z,)


def demo_latent(seed: int, n: int, z_dim: int) -> np.ndarray:
    """Latents z ~ N(0, I) of shape (n, z_dim), float32, drawn the way the browser demos draw them:
    mulberry32 (a 32-bit generator) for uniforms, Box-Muller for normals. ``_site/demos.js`` has the
    same code, so seed s gives the same z in the page and here (to the last bit or one float32 ulp)."""
    state = int(seed) & 0xFFFFFFFF

    def uniform() -> float:  # mulberry32, in Python's unbounded ints masked to 32 bits
        nonlocal state
        state = (state + 0x6D2B79F5) & 0xFFFFFFFF
        t = state
        t = _imul(t ^ (t >> 15), t | 1)
        t = (t + _imul(t ^ (t >> 7), t | 61)) & 0xFFFFFFFF ^ t
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296.0

    out = np.empty(n * z_dim, dtype=np.float64)
    for i in range(0, n * z_dim, 2):
        u1, u2 = 1.0 - uniform(), uniform()  # u1 in (0, 1]: log(u1) is finite
        r = math.sqrt(-2.0 * math.log(u1))
        out[i] = r * math.cos(2.0 * math.pi * u2)
        if i + 1 < out.size:
            out[i + 1] = r * math.sin(2.0 * math.pi * u2)
    return out.astype(np.float32).reshape(n, z_dim)


def _imul(a: int, b: int) -> int:
    """JavaScript's Math.imul: the low 32 bits of a * b."""
    return (a * b) & 0xFFFFFFFF


def _onnxruntime():
    try:
        import onnxruntime
    except ImportError as err:  # pragma: no cover - listed in requirements.txt
        raise CheckpointError("checking an ONNX file needs onnxruntime: pip install -r requirements.txt") from err
    return onnxruntime


def run_onnx(data: bytes | str | Path, *inputs: torch.Tensor | np.ndarray) -> np.ndarray:
    """Run an exported image model with onnxruntime (CPU) on ``inputs`` (z, then labels)."""
    ort = _onnxruntime()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    source = data if isinstance(data, bytes) else str(data)
    session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    arrays = [x.numpy() if torch.is_tensor(x) else np.asarray(x) for x in inputs]
    return session.run(None, dict(zip(names, arrays)))[0]


def to_onnx_bytes(model: ImageModel) -> bytes:
    """The ONNX file of ``model`` (opset 18, dynamic batch size), via ``torch.onnx.export(dynamo=True)``."""
    inputs = model.example_inputs(n=4)
    batch = torch.export.Dim("n", min=1, max=4096)
    shapes = tuple({0: batch} for _ in inputs)
    buf = io.BytesIO()
    quiet_loggers = [logging.getLogger(n) for n in ("torch.onnx", "torch.onnx._internal.exporter._registration")]
    levels = [lg.level for lg in quiet_loggers]
    for lg in quiet_loggers:  # the exporter narrates its steps and warns about torchvision's operators
        lg.setLevel(logging.ERROR)
    try:
        with torch.no_grad(), contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(model, inputs, dynamo=True, external_data=False, opset_version=OPSET,
                                        input_names=model.input_names, output_names=["images"],
                                        dynamic_shapes=shapes, verbose=False)
    finally:
        for lg, level in zip(quiet_loggers, levels):
            lg.setLevel(level)
    program.save(buf, external_data=False)
    return buf.getvalue()


def check_onnx(data: bytes | str | Path, model: ImageModel, n: int = 16, seed: int = 1) -> float:
    """Largest |onnxruntime - PyTorch| over ``n`` demo latents (and each class); raises if above CHECK_ATOL."""
    inputs = model.example_inputs(n=n, seed=seed)
    with torch.no_grad():
        expected = model(*inputs).numpy()
    got = run_onnx(data, *inputs)
    if got.shape != expected.shape:
        raise CheckpointError(f"the ONNX model of {model.name!r} gives shape {got.shape}, PyTorch {expected.shape}")
    diff = float(np.abs(got - expected).max())
    if not diff <= CHECK_ATOL:
        raise CheckpointError(f"the ONNX model of {model.name!r} differs from PyTorch by {diff:.2e} "
                              f"(> {CHECK_ATOL:g}) on the same inputs; it was not written")
    return diff


def export_onnx(name: str, out_dir: str | Path | None = None) -> dict:
    """Export shipped model ``name`` to ``out_dir/NAME.onnx``, or by default into the weights folder under a
    content-addressed name (``NAME-<sha256[:12]>.onnx``, as the weights) recorded in the manifest, after
    checking it against PyTorch. Returns what the manifest records. (The website copies it as ``NAME.onnx``.)"""
    model = ImageModel(name)
    data = to_onnx_bytes(model)
    diff = check_onnx(data, model)
    directory = Path(out_dir) if out_dir is not None else checkpoint.weights_dir()
    shipped = out_dir is None or directory.resolve() == checkpoint.weights_dir().resolve()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if shipped:  # content-addressed, as the weights: the manifest (written below) is the commit
            file, _ = checkpoint.write_shipped_file(directory, name, data, ".onnx")
        else:
            file = f"{name}.onnx"
            checkpoint._atomic_write_bytes(directory / file, data)
    except OSError as err:
        raise CheckpointError(f"cannot write the ONNX export of {name!r} into {directory} ({err.strerror or err}); "
                              "choose another folder (--out)") from None
    info = {
        "file": file, "sha256": checkpoint.sha256_bytes(data), "bytes": len(data), "opset": OPSET,
        "inputs": ({"x": [None, *model.data_shape], "t": [None]} if model.kind == "diffusion"
                   else {"z": [None, model.z_dim]}) | ({"labels": [None]} if model.n_classes else {}),
        "n_classes": model.n_classes, "output": ["images", None, *model.data_shape],
        "max_abs_diff_vs_torch": diff, "torch": torch.__version__,
        "from_sha256": checkpoint.manifest_entry(name)["sha256"],
    }
    if shipped:
        weights_sha = info["from_sha256"]

        def add_export(entry):
            if not isinstance(entry, dict) or entry.get("sha256") != weights_sha:
                raise CheckpointError(f"the weights of {name!r} were replaced while they were exported; export again")
            return {**entry, "onnx": info}

        try:
            checkpoint.commit_entry(name, add_export)  # also removes the previous export's file
        except OSError as err:
            raise CheckpointError(f"cannot record the ONNX export of {name!r} in {checkpoint.weights_dir()} "
                                  f"({err.strerror or err}); make the folder writable") from None
    return info


def shipped_onnx(name: str) -> Path:
    """The shipped ONNX file of ``name`` after checking its SHA-256 against the manifest, and that it was
    exported from the weights shipped now (not from older ones)."""
    entry = checkpoint.manifest_entry(name)
    info = entry.get("onnx")
    if not isinstance(info, dict) or Path(str(info.get("file"))).name != info.get("file"):
        raise CheckpointError(f"{name!r} has no ONNX export in the manifest: run "
                              f"`python -m aigc_course export onnx {name}`")
    path = checkpoint.weights_dir() / info["file"]
    if not path.is_file():
        raise CheckpointError(f"{path} (the ONNX export of {name!r}) is missing: run "
                              f"`python -m aigc_course export onnx {name}`")
    if checkpoint.sha256_bytes(path.read_bytes()) != info.get("sha256"):
        raise CheckpointError(f"{path} does not match its SHA-256 in the manifest (modified or damaged): "
                              f"run `python -m aigc_course export onnx {name}` again")
    if info.get("from_sha256") != entry["sha256"]:
        raise CheckpointError(f"{path} was exported from other weights than the shipped {entry['file']}: "
                              f"run `python -m aigc_course export onnx {name}` again")
    return path


def cmd_export(args) -> int:
    names = sorted(DEMO_MODELS) if args.name == "all" else [args.name]
    for name in names:
        if name not in kinds_of_images():
            raise ValueError(f"{name!r}: no shipped image model of that name (choose from "
                             f"{sorted(kinds_of_images())} or 'all')")
        info = export_onnx(name, args.out)
        print(f"{name}: {info['file']} ({info['bytes'] / 1e6:.2f} MB, opset {info['opset']}), "
              f"max |onnxruntime - torch| = {info['max_abs_diff_vs_torch']:.1e}")
    return 0


def kinds_of_images() -> list[str]:
    """Shipped models that make images (GANs and VAEs on images, diffusion models with a U-Net)."""
    out = []
    for name, entry in checkpoint.read_manifest()["weights"].items():
        if checkpoint.entry_problem(name, entry) is not None:
            continue
        config = entry.get("model_config") or {}
        if (entry.get("kind") in ("gan", "vae") and config.get("img_size")) or (
                entry.get("kind") == "diffusion" and config.get("kind") == "unet"):
            out.append(name)
    return sorted(out)


__all__ = ["DEMO_MODELS", "ImageModel", "demo_latent", "run_onnx", "to_onnx_bytes", "check_onnx",
           "export_onnx", "shipped_onnx", "kinds_of_images"]
