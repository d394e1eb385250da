"""Figures for the course: image grids, loss curves, 2-D densities and GIFs.

Matplotlib only (no torchvision). Introduced in 4.1; GIFs in 2.3.
"""
from __future__ import annotations

import io
import math
import pathlib
from typing import Iterable, Mapping, Sequence

import numpy as np
import torch


def to_uint8(images: torch.Tensor | np.ndarray) -> np.ndarray:
    """Images in [-1, 1] (float) or uint8, shape (B, C, H, W) -> uint8 numpy (B, H, W, C)."""
    if isinstance(images, torch.Tensor):
        images = images.detach().float().cpu() if images.dtype != torch.uint8 else images.cpu()
        images = images.numpy()
    images = np.asarray(images)
    if images.ndim == 3:  # (B, H, W) -> (B, 1, H, W)
        images = images[:, None]
    if images.ndim != 4:
        raise ValueError(f"expected images of shape (B, C, H, W); got {images.shape}")
    if images.dtype != np.uint8:
        images = np.clip((images + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)
    return images.transpose(0, 2, 3, 1)


def make_grid(images: torch.Tensor | np.ndarray, nrow: int | None = None, padding: int = 2,
              pad_value: int = 255) -> np.ndarray:
    """Tile a batch into one uint8 picture (H, W) for grey or (H, W, 3) for colour; ``nrow`` images a row."""
    imgs = to_uint8(images)
    b, h, w, c = imgs.shape
    nrow = nrow or math.ceil(math.sqrt(b))
    ncol_rows = math.ceil(b / nrow)
    grid = np.full((ncol_rows * (h + padding) + padding, nrow * (w + padding) + padding, c), pad_value, np.uint8)
    for i in range(b):
        r, col = divmod(i, nrow)
        top, left = padding + r * (h + padding), padding + col * (w + padding)
        grid[top:top + h, left:left + w] = imgs[i]
    return grid[..., 0] if c == 1 else grid


def show_grid(images, nrow: int | None = None, title: str | None = None, ax=None, row_labels: Sequence[str] | None = None,
              figsize: float = 5.0):
    """Show a batch of images as a grid; ``row_labels`` names each row (e.g. class names)."""
    import matplotlib.pyplot as plt

    grid = make_grid(images, nrow=nrow)
    if ax is None:
        aspect = grid.shape[0] / grid.shape[1]
        _, ax = plt.subplots(figsize=(figsize, figsize * aspect))
    ax.imshow(grid, cmap="gray" if grid.ndim == 2 else None, vmin=0, vmax=255, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if row_labels is not None:
        h = to_uint8(images).shape[1]
        ax.set_yticks([2 + i * (h + 2) + h / 2 for i in range(len(row_labels))])
        ax.set_yticklabels(row_labels)
    if title:
        ax.set_title(title)
    return ax


def plot_curves(curves: Mapping[str, tuple[Sequence[float], Sequence[float]] | Sequence[float]], ax=None,
                title: str | None = None, xlabel: str = "step", ylabel: str = "loss", smooth: int = 1, logy: bool = False):
    """Plot named curves; each value is ``(x, y)`` or just ``y``. ``smooth`` is a moving-average window."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for name, data in curves.items():
        x, y = data if isinstance(data, tuple) else (np.arange(len(data)), data)
        x, y = np.asarray(x, float), np.asarray(y, float)
        if smooth > 1 and len(y) >= smooth:
            y = np.convolve(y, np.ones(smooth) / smooth, mode="valid")
            x = x[smooth - 1:]
        ax.plot(x, y, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    return ax


def plot_history(history, names: Iterable[str] | None = None, **kwargs):
    """Loss curves from a trainer ``History`` (anything with ``as_arrays(name)`` and ``names()``/``logs``)."""
    logs = history.to_dict()["logs"] if hasattr(history, "to_dict") else history
    names = list(names or logs)
    curves = {n: history.as_arrays(n) if hasattr(history, "as_arrays") else logs[n] for n in names}
    return plot_curves(curves, **kwargs)


def plot_points_2d(points: torch.Tensor | np.ndarray, ax=None, real: torch.Tensor | np.ndarray | None = None,
                   title: str | None = None, lim: float = 3.0, s: float = 2.0):
    """Scatter 2-D samples (orange) over optional real data (grey)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    if real is not None:
        real = np.asarray(real.detach().cpu() if isinstance(real, torch.Tensor) else real)
        ax.scatter(real[:, 0], real[:, 1], s=s, c="0.6", label="data")
    pts = np.asarray(points.detach().cpu() if isinstance(points, torch.Tensor) else points)
    ax.scatter(pts[:, 0], pts[:, 1], s=s, c="tab:orange", label="samples")
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    return ax


def figure_to_array(fig) -> np.ndarray:
    """Render a Matplotlib figure to an RGB uint8 array (for GIF frames)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi)
    buf.seek(0)
    from PIL import Image

    return np.asarray(Image.open(buf).convert("RGB"))


def save_gif(frames: Sequence[np.ndarray], path: str | pathlib.Path, fps: float = 5.0, scale: int = 1) -> pathlib.Path:
    """Write uint8 frames ((H, W) grey or (H, W, 3) RGB) as a looping GIF with Pillow; return the path."""
    from PIL import Image

    if len(frames) == 0:
        raise ValueError("save_gif needs at least one frame")
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pics = [Image.fromarray(np.asarray(f, dtype=np.uint8)) for f in frames]
    if scale != 1:
        pics = [p.resize((p.width * scale, p.height * scale), Image.NEAREST) for p in pics]
    pics[0].save(path, save_all=True, append_images=pics[1:], duration=int(1000 / fps), loop=0, optimize=False)
    return path


def animate(frames: Sequence[np.ndarray], path: str | pathlib.Path, fps: float = 5.0, scale: int = 1):
    """Save ``frames`` as a GIF and return an IPython image that shows it inline (and on the website)."""
    from IPython.display import Image as IPyImage

    out = save_gif(frames, path, fps=fps, scale=scale)
    return IPyImage(data=out.read_bytes(), format="gif")


def glue(name: str, value, display: bool = True) -> None:
    """``myst_nb.glue`` for the book's computed numbers, with numpy scalars and one-element tensors
    turned into plain Python numbers first: numpy 2 prints ``np.float64(2.5)``, which myst-nb cannot
    format with ``{glue:text}`key:.2f``` (a build warning, and the number missing from the page).
    Outside a book build it only records the value, like ``myst_nb.glue``. Introduced in 1.1."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    elif isinstance(value, np.generic):
        value = value.item()
    from myst_nb import glue as _glue

    _glue(name, value, display=display)


WORDS_PER_MINUTE = 200  # technical prose with maths: slower than the 250 of plain text


def page_info(page: str, *, show: bool = True) -> dict:
    """Reading time and run time of a course page, shown under its title.

    ``page`` is the notebook's stem ("02_probability"). The reading time counts the words of the
    page's markdown cells (solutions folded in dropdowns are not counted) at WORDS_PER_MINUTE; the run
    time is the page's measured time under the test command, from
    ``benchmarks/results/notebooks-cpu.json`` (none when the file or the page is missing, e.g. in an
    installed package). Displays one line of Markdown when ``show``; otherwise returns the numbers.
    """
    import json
    import re

    root = pathlib.Path(__file__).resolve().parents[1]
    found = sorted((root / "chapters").glob(f"*/{page}.ipynb")) if (root / "chapters").is_dir() else []
    info: dict = {"page": page, "words": None, "reading_min": None, "run_s": None, "machine": None}
    if found:
        cells = json.loads(found[0].read_text(encoding="utf-8"))["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        text = re.sub(r":::\{dropdown\}.*?\n:::", " ", text, flags=re.S)       # folded solutions
        words = len(re.findall(r"[A-Za-z0-9]+(?:['’-][A-Za-z0-9]+)*|[\u4e00-\u9fff]", text))
        info.update(words=words, reading_min=max(1, round(words / WORDS_PER_MINUTE)))
    results = root / "benchmarks" / "results" / "notebooks-cpu.json"
    if found and results.is_file():
        record = json.loads(results.read_text(encoding="utf-8"))
        key = str(found[0].relative_to(root))
        if key in record.get("notebooks", {}):
            info.update(run_s=float(record["notebooks"][key]), machine=record.get("machine"))
    if show:
        from IPython.display import Markdown, display

        parts = []
        if info["reading_min"]:
            parts.append(f"**Reading time** about {info['reading_min']} min")
        if info["run_s"] is not None:
            parts.append(f"**run time** {info['run_s']:.0f} s on a 2-core CPU (quick profile, "
                         "measured by the course's test command)")
        if parts:
            display(Markdown(" · ".join(parts)))
        return None  # a notebook cell shows the line, not the numbers
    return info
