"""Live demos on the website: a shipped model generating images in the reader's browser.

    from aigc_course.demos import live_demo
    live_demo("dcgan-fashion")                 # 4.2: new samples, a seed field
    live_demo("cgan-fashion", "classes")       # 4.3: a class picker
    live_demo("vae2d-fashion", "latent2d")     # 4.4, 5.1: two latent sliders and a latent walk
    live_demo("flow-fashion", "diffusion")     # 6.5: class, guidance weight and steps; the sampling loop in JS

In a notebook the cell shows a static figure that PyTorch made (the images of seed 0, or for
``latent2d`` the decoded grid of the latent plane). On the website, ``_site/demos.js`` adds the
controls and runs the model's ONNX export (:mod:`aigc_course.export`) with ONNX Runtime Web; the same
seed gives the same images there as here. Readers without JavaScript keep the static figure.
Introduced in 4.2; see DESIGN.md, "Live demos".
"""
from __future__ import annotations

import base64
import html
import io
import json
import math

import numpy as np
import torch

from .export import DEMO_MODELS, ImageModel, demo_latent

FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot"]
KINDS = ("samples", "classes", "latent2d", "diffusion")
DIFFUSION_SCHEDULES = ("euler:4", "euler:8", "euler:16", "heun:3", "heun:6", "heun:12")  # the page's choices


def _png(grey: np.ndarray, scale: int) -> str:
    """A (H, W) uint8 picture as a data: URL of a PNG, each pixel a scale x scale block."""
    from PIL import Image

    big = np.kron(grey, np.ones((scale, scale), dtype=np.uint8))
    buf = io.BytesIO()
    Image.fromarray(big, mode="L").save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def to_grey(images: np.ndarray) -> np.ndarray:
    """Images in [-1, 1] -> uint8 grey levels, the way the page draws them (round((x + 1) * 127.5))."""
    return np.clip(np.floor((np.asarray(images, dtype=np.float64) + 1) * 127.5 + 0.5), 0, 255).astype(np.uint8)


def tile(images: np.ndarray, cols: int) -> np.ndarray:
    """(n, 1, h, w) -> one (rows * h, cols * w) picture, row by row, no gaps (as the page's canvas)."""
    n, _, h, w = images.shape
    rows = -(-n // cols)
    out = np.zeros((rows * h, cols * w), dtype=images.dtype)
    for k in range(n):
        r, c = divmod(k, cols)
        out[r * h:(r + 1) * h, c * w:(c + 1) * w] = images[k, 0]
    return out


def latent_grid(points: int, lim: float) -> np.ndarray:
    """The (points * points, 2) latents of the static ``latent2d`` figure: cell centres of a grid over
    [-lim, lim]^2, z1 left to right, z2 top (+lim) to bottom (the page's marker uses the same map)."""
    centres = -lim + (np.arange(points) + 0.5) * (2 * lim / points)
    z1, z2 = np.meshgrid(centres, centres[::-1])
    return np.stack([z1.ravel(), z2.ravel()], axis=1).astype(np.float32)


class LiveDemo:
    """What :func:`live_demo` returns: shown as HTML (static figure + the demo's settings)."""

    def __init__(self, model: ImageModel, kind: str, *, seed: int, n: int, cols: int, scale: int, points: int,
                 lim: float, label: int, guidance: float = 2.0, schedule: str = "heun:6"):
        self.name, self.kind = model.name, kind
        self.model = model
        _, self.h, self.w = self.model.data_shape
        self.seed, self.n, self.cols, self.scale, self.points, self.lim, self.label = (
            seed, n, cols, scale, points, lim, label)
        self.guidance, self.schedule = guidance, schedule
        self.images = self._static_images()

    def _static_images(self) -> np.ndarray:
        if self.kind == "diffusion":  # what the page's JavaScript loop draws for the same settings
            return diffusion_demo_images(self.model.model, self.seed, self.n, self.label, self.guidance,
                                         self.schedule).numpy()
        if self.kind == "latent2d":
            z = torch.from_numpy(latent_grid(self.points, self.lim))
            inputs = (z,)
        else:
            z = torch.from_numpy(demo_latent(self.seed, self.n, self.model.z_dim))
            inputs = (z, torch.full((self.n,), self.label, dtype=torch.long)) if self.model.n_classes else (z,)
        with torch.no_grad():
            return self.model(*inputs).numpy()  # (n, 1, h, w) in [-1, 1]

    def _repr_html_(self) -> str:
        cols = self.points if self.kind == "latent2d" else min(self.cols, self.n)
        picture = _png(to_grey(tile(self.images, cols)), self.scale if self.kind != "latent2d" else 2)
        attrs = {"data-model": self.name, "data-demo": self.kind, "data-z-dim": self.model.z_dim,
                 "data-n": 1 if self.kind == "latent2d" else self.n, "data-cols": cols, "data-h": self.h,
                 "data-w": self.w, "data-seed": self.seed,
                 "data-scale": 8 if self.kind == "latent2d" else self.scale,
                 "data-lim": self.lim, "data-label": self.label}
        if self.kind in ("classes", "diffusion"):
            attrs["data-classes"] = json.dumps(FASHION_CLASSES)
        if self.kind == "diffusion":
            attrs.update({"data-guidance": self.guidance, "data-schedule": self.schedule})
        sampler, steps = self.schedule.split(":")
        what = {"samples": f"{self.n} samples of seed {self.seed}",
                "classes": f"{self.n} samples of class {self.label} ({FASHION_CLASSES[self.label]}), seed {self.seed}",
                "latent2d": f"the decoder's images over the latent plane [-{self.lim:g}, {self.lim:g}]²",
                "diffusion": f"{self.n} samples of class {self.label} ({FASHION_CLASSES[self.label]}), seed {self.seed}, "
                             f"guidance weight {self.guidance:g}, {sampler.capitalize()} with {steps} steps"}[self.kind]
        alt = f"{self.name}: {what}, made by PyTorch"
        attr_text = " ".join(f'{k}="{html.escape(str(v), quote=True)}"' for k, v in attrs.items())
        return (f'<div class="aigc-demo" {attr_text}>'
                f'<div class="aigc-demo-figure"><img class="aigc-demo-static" src="{picture}" alt="{html.escape(alt)}" '
                f'title="{html.escape(alt)}"></div>'
                f'<p class="aigc-demo-caption">Static figure: {html.escape(what)} ({html.escape(self.name)}, made by '
                f'PyTorch when this page was built). On the course website the model runs in your browser.</p>'
                f'</div>')

    def __repr__(self) -> str:
        return f"LiveDemo({self.name!r}, {self.kind!r}): {self.images.shape[0]} static images"


def diffusion_demo_images(model, seed: int, n: int, label: int, guidance: float, schedule: str) -> torch.Tensor:
    """Images of the diffusion demo: ``model.sample`` from ``demo_latent`` noise (the page's generator), for
    one ``label`` (``n_classes``: no label), ``schedule`` = ``"heun:6"`` or ``"euler:8"`` (sampler:steps)."""
    sampler, steps = schedule.split(":")
    noise = torch.from_numpy(demo_latent(seed, n, math.prod(model.data_shape))).reshape(n, *model.data_shape)
    labels = torch.full((n,), label, dtype=torch.long)
    with torch.no_grad():
        return model.sample(n, noise=noise, labels=labels, steps=int(steps), sampler=sampler, guidance=guidance,
                            device="cpu").cpu()


def live_demo(name: str, kind: str | None = None, *, seed: int = 0, n: int = 16, cols: int = 8, scale: int = 3,
              points: int = 9, lim: float = 3.0, label: int = 5, guidance: float = 2.0,
              schedule: str = "heun:6") -> LiveDemo:
    """A live demo of shipped model ``name`` (see the module docstring); ``kind`` defaults to the
    model's own (``export.DEMO_MODELS``). ``samples``/``classes``: ``n`` images of ``seed`` in ``cols``
    columns (``classes`` starts at class ``label``); ``latent2d``: sliders over [-lim, lim]^2 and a
    static grid of ``points`` x ``points`` decoded images."""
    kind = kind or DEMO_MODELS.get(name)
    if kind not in KINDS:
        raise ValueError(f"kind={kind!r} is not one of {KINDS} (the demos' models: {DEMO_MODELS})")
    if not (isinstance(n, int) and 1 <= n <= 64 and isinstance(cols, int) and cols >= 1):
        raise ValueError(f"n={n!r} must be an int in [1, 64] and cols={cols!r} an int >= 1")
    if not (0 <= label < len(FASHION_CLASSES)):
        raise ValueError(f"label={label!r} must lie in [0, {len(FASHION_CLASSES)})")
    model = ImageModel(name)
    if kind == "classes" and not model.n_classes:
        raise ValueError(f"{name!r} is not class-conditional: use kind='samples'")
    if kind == "latent2d" and model.z_dim != 2:
        raise ValueError(f"{name!r} has a {model.z_dim}-D latent space; latent2d needs 2 (vae2d-fashion)")
    if (kind == "diffusion") != (model.kind == "diffusion"):
        raise ValueError(f"{name!r} is a {model.kind} model: kind='diffusion' is for diffusion models, and they "
                         "have no other demo")
    if kind == "diffusion" and schedule not in DIFFUSION_SCHEDULES:
        raise ValueError(f"schedule={schedule!r} is not one of the demo's {DIFFUSION_SCHEDULES}")
    return LiveDemo(model, kind, seed=seed, n=n, cols=cols, scale=scale, points=points, lim=lim, label=label,
                    guidance=guidance, schedule=schedule)


__all__ = ["live_demo", "LiveDemo", "to_grey", "tile", "latent_grid", "diffusion_demo_images", "FASHION_CLASSES"]
