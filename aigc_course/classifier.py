"""The feature classifier of the metrics: a small CNN trained on Fashion-MNIST itself.

Inception-v3 features mean little for 28x28 grey clothes, so FID and precision/recall in this course
live in the 128-d pooled features of :class:`FashionClassifier` (shipped as ``classifier-fashion``,
trained by ``tools/train_classifier.py``; load it with ``recipes.classifier()``). It is registered as
the model kind ``"classifier"``. Introduced in 4.5.
"""
from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from . import data, kinds, runtime
from .nn import conv_block, eval_mode


class FashionClassifier(nn.Module):
    """Small CNN for 28x28 grey images in [-1, 1]; its pooled 128-d features define FID here.

    conv 32 -> pool -> conv 64 -> conv 64 -> pool -> conv 128 -> global average pool -> linear 10.
    About 0.13 M parameters; the shipped weights reach 91.8% test accuracy on Fashion-MNIST
    after 8 epochs (``tools/train_classifier.py``).
    Introduced in 4.5.
    """

    def __init__(self, width: int = 32, n_classes: int = 10, channels: int = 1):
        super().__init__()
        self.config = {"width": width, "n_classes": n_classes, "channels": channels}
        self.feature_dim = 4 * width
        self.body = nn.Sequential(
            conv_block(channels, width, 3, 1, 1, act="relu"),        # (B, w, 28, 28)
            nn.MaxPool2d(2),                                          # (B, w, 14, 14)
            conv_block(width, 2 * width, 3, 1, 1, act="relu"),       # (B, 2w, 14, 14)
            conv_block(2 * width, 2 * width, 3, 1, 1, act="relu"),   # (B, 2w, 14, 14)
            nn.MaxPool2d(2),                                          # (B, 2w, 7, 7)
            conv_block(2 * width, 4 * width, 3, 1, 1, act="relu"),   # (B, 4w, 7, 7)
            nn.AdaptiveAvgPool2d(1),                                  # (B, 4w, 1, 1)
            nn.Flatten(),                                             # (B, 4w)
        )
        self.head = nn.Linear(4 * width, n_classes)

    def features(self, x: Tensor) -> Tensor:
        """(B, C, 28, 28) in [-1, 1] -> (B, 4*width) pooled features (non-negative, after ReLU)."""
        return self.body(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))  # (B, n_classes) logits


def random_shift(x: Tensor, max_shift: int = 2, generator: torch.Generator | None = None) -> Tensor:
    """Shift each image by its own random (dy, dx) in [-max_shift, max_shift] pixels: pad with -1, then crop."""
    b, c, h, w = x.shape
    s = max_shift
    padded = F.pad(x, (s, s, s, s), value=-1.0)                                   # (B, C, H+2s, W+2s)
    offsets = torch.randint(0, 2 * s + 1, (2, b, 1), generator=generator, device=x.device)
    rows = (torch.arange(h, device=x.device) + offsets[0]).view(b, 1, h, 1)      # (B, 1, H, 1)
    cols = (torch.arange(w, device=x.device) + offsets[1]).view(b, 1, 1, w)      # (B, 1, 1, W)
    out = padded.gather(2, rows.expand(b, c, h, w + 2 * s))                       # (B, C, H, W+2s)
    return out.gather(3, cols.expand(b, c, h, w))                                 # (B, C, H, W)


def train_classifier(images: Tensor, labels: Tensor, *, epochs: int = 8, batch_size: int = 128,
                     lr: float = 2e-3, width: int = 32, seed: int = 0, device: torch.device | str | None = None,
                     progress: bool = True) -> tuple[FashionClassifier, dict]:
    """Train a :class:`FashionClassifier` with Adam, a cosine learning rate and ±2-pixel random shifts.

    ``images``: uint8 (N, C, H, W); ``labels``: int64 (N,). Returns ``(model, history)`` where
    ``history`` maps ``"loss"`` and ``"accuracy"`` (training batch) to lists of ``(step, value)``,
    plus ``"wall_time_s"``. The model comes back in eval mode. Introduced in 4.5.
    """
    dev = torch.device(device) if device is not None else runtime.device()
    torch.manual_seed(seed)
    model = FashionClassifier(width=width, n_classes=int(labels.max()) + 1, channels=images.shape[1]).to(dev)
    loader = data.TensorLoader(images, labels, batch_size=batch_size, shuffle=True, seed=seed, device=dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * len(loader))
    shift_gen = torch.Generator(device=dev).manual_seed(seed)
    history: dict = {"loss": [], "accuracy": []}
    start, step = time.perf_counter(), 0
    model.train()
    bar = tqdm(total=epochs * len(loader), disable=not progress, desc="classifier")
    for _ in range(epochs):
        for x, y in loader:
            logits = model(random_shift(x, 2, shift_gen))
            loss = F.cross_entropy(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            if step % 50 == 0 or step == epochs * len(loader):
                history["loss"].append((step, loss.item()))
                history["accuracy"].append((step, (logits.argmax(1) == y).float().mean().item()))
                bar.set_postfix(loss=f"{history['loss'][-1][1]:.3f}")
            bar.update()
    bar.close()
    history["wall_time_s"] = time.perf_counter() - start
    return model.eval(), history


@torch.no_grad()
def evaluate_classifier(model: nn.Module, images: Tensor, labels: Tensor, batch_size: int = 1000) -> float:
    """Fraction of ``images`` (uint8 or float in [-1, 1]) whose predicted class equals ``labels``."""
    dev = next(model.parameters()).device
    with eval_mode(model):
        preds = torch.cat([model(x).argmax(1).cpu() for x in data.batches_in_model_space(images, batch_size, dev)])
    return (preds == labels.cpu()).float().mean().item()


kinds.register(kinds.ModelKind(
    "classifier", lambda config: {"model": FashionClassifier(**config)}, parts=("model",),
    config_of=lambda model: dict(model.config), doc="the metrics' feature CNN (no sampler)"))
