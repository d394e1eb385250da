"""Measuring generative models: a feature classifier, FID, precision/recall, IWAE NLL, PSNR/SSIM, mode coverage.

Introduced in 4.5 (mode coverage in 2.3). Inception-v3 features are meaningless for 28x28 grey
clothes, so FID and precision/recall here live in the 128-d feature space of a small CNN trained on
Fashion-MNIST itself (:class:`FashionClassifier`; the shipped weights are ``classifier-fashion``).
Numbers are therefore comparable within this course, not with papers' Inception FIDs.
"""
from __future__ import annotations

import math
import time
from typing import Iterator, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from scipy import linalg
from torch import Tensor, nn
from tqdm.auto import tqdm

from . import checkpoint, data, losses, runtime
from .nn import conv_block

CLASSIFIER_NAME = "classifier-fashion"


# --------------------------------------------------------------------------- inputs


def to_model_space(images: Tensor) -> Tensor:
    """uint8 images in 0..255 -> float32 in [-1, 1]; float images are returned as they are (assumed in [-1, 1])."""
    if images.dtype == torch.uint8:
        return images.float() / 127.5 - 1.0
    if not images.is_floating_point():
        raise TypeError(f"images must be uint8 (0..255) or float (in [-1, 1]), got dtype {images.dtype}")
    return images.float()


def _batches(images: Tensor, batch_size: int, device: torch.device) -> Iterator[Tensor]:
    """Consecutive batches of ``images`` on ``device``, scaled to [-1, 1] there."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    for start in range(0, len(images), batch_size):
        yield to_model_space(images[start:start + batch_size].to(device))


def _device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def _resolve_device(device: torch.device | str | None) -> torch.device:
    return torch.device(device) if device is not None else runtime.device()


def _as_tensor(values: Tensor | np.ndarray, dtype: torch.dtype) -> Tensor:
    """A CPU tensor of ``dtype`` from a tensor (any device) or an array-like."""
    if isinstance(values, Tensor):
        return values.detach().cpu().to(dtype)
    return torch.as_tensor(np.asarray(values), dtype=dtype)


# --------------------------------------------------------------------------- the feature classifier


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
    dev = _resolve_device(device)
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
    was_training = model.training
    model.eval()
    dev = _device_of(model)
    preds = torch.cat([model(x).argmax(1).cpu() for x in _batches(images, batch_size, dev)])
    model.train(was_training)
    return (preds == labels.cpu()).float().mean().item()


def classifier(device: torch.device | str | None = None) -> FashionClassifier:
    """The shipped pretrained :class:`FashionClassifier` (hash-verified, eval mode, on ``device``).

    Produced by ``python tools/train_classifier.py``; its test accuracy is in the weights manifest.
    """
    return checkpoint.pretrained(CLASSIFIER_NAME).to(_resolve_device(device)).eval()


@torch.no_grad()
def extract_features(model: nn.Module, images: Tensor, batch_size: int = 500) -> Tensor:
    """``model.features`` of every image (uint8 or float in [-1, 1]), in eval mode: (N, D) float32 on the CPU."""
    was_training = model.training
    model.eval()
    dev = _device_of(model)
    feats = torch.cat([model.features(x).float().cpu() for x in _batches(images, batch_size, dev)])
    model.train(was_training)
    return feats


# --------------------------------------------------------------------------- FID


def feature_stats(feats: Tensor | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and covariance (D, D) of features (N, D), in float64."""
    f = _as_tensor(feats, torch.float64).numpy()
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"features must have shape (N, D) with N >= 2, got {f.shape}")
    return f.mean(axis=0), np.cov(f, rowvar=False)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray,
                     eps: float = 1e-6) -> float:
    r"""Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2) (Heusel et al. 2017).

    .. math:: d^2 = \lVert\mu_1-\mu_2\rVert^2 + \operatorname{tr}\big(\Sigma_1+\Sigma_2-2(\Sigma_1\Sigma_2)^{1/2}\big)

    As in the reference implementation: if the matrix square root is not finite (near-singular
    covariances), ``eps * I`` is added to both covariances; a tiny imaginary part from round-off
    is dropped. Round-off can also leave a result of about -1e-12 for identical sets.
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    s1, s2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != (len(mu1), len(mu1)):
        raise ValueError(f"shapes do not match: mu {mu1.shape} vs {mu2.shape}, sigma {s1.shape} vs {s2.shape}")
    covmean = linalg.sqrtm(s1 @ s2)
    if not np.isfinite(covmean).all():
        offset = eps * np.eye(len(s1))
        covmean = linalg.sqrtm((s1 + offset) @ (s2 + offset))
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean.real))


def fid_from_features(feats_a: Tensor | np.ndarray, feats_b: Tensor | np.ndarray) -> float:
    """FID between two sets of features (N, D) and (M, D)."""
    return frechet_distance(*feature_stats(feats_a), *feature_stats(feats_b))


def fid(images_a: Tensor, images_b: Tensor, model: nn.Module | None = None, batch_size: int = 500) -> float:
    """FID between two image sets (N, C, H, W), uint8 or float in [-1, 1], in ``model``'s feature space.

    ``model=None`` uses the shipped :func:`classifier`. Two (N, D) feature tensors are also accepted
    (then this is :func:`fid_from_features`). FID is biased upwards for small sets: compare sets of
    equal size, and report the real-vs-real floor next to it.
    """
    if images_a.ndim == 2 and images_b.ndim == 2:
        return fid_from_features(images_a, images_b)
    model = model if model is not None else classifier()
    return fid_from_features(extract_features(model, images_a, batch_size),
                             extract_features(model, images_b, batch_size))


# --------------------------------------------------------------------------- precision / recall


class PrecisionRecall(NamedTuple):
    precision: float  # fraction of fake samples inside the real manifold (quality)
    recall: float     # fraction of real samples inside the fake manifold (coverage)


def _knn_radii(feats: Tensor, k: int, chunk: int) -> Tensor:
    """Distance from each point to its k-th nearest other point: (N,)."""
    if len(feats) <= k:
        raise ValueError(f"need more than k={k} points to form k-NN balls, got {len(feats)}")
    # kthvalue(k + 1): the nearest "neighbour" at distance 0 is the point itself
    return torch.cat([torch.cdist(part, feats).kthvalue(k + 1, dim=1).values for part in feats.split(chunk)])


def _inside(queries: Tensor, points: Tensor, radii: Tensor, chunk: int) -> Tensor:
    """Which queries fall inside at least one ball (points[i], radii[i]): bool (Q,)."""
    return torch.cat([(torch.cdist(part, points) <= radii).any(dim=1) for part in queries.split(chunk)])


def precision_recall(real_feats: Tensor | np.ndarray, fake_feats: Tensor | np.ndarray, k: int = 3,
                     chunk: int = 1000) -> PrecisionRecall:
    """Improved precision and recall (Kynkäänniemi et al. 2019) from features (N, D) and (M, D).

    Each set's manifold is the union of balls around its points with radius = distance to the k-th
    nearest neighbour. Precision: share of fakes inside the real manifold; recall: share of reals
    inside the fake manifold. Distances are computed ``chunk`` rows at a time.
    """
    real, fake = _as_tensor(real_feats, torch.float32), _as_tensor(fake_feats, torch.float32)
    if real.dim() != 2 or fake.dim() != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"features must be (N, D) and (M, D) with the same D, got {tuple(real.shape)} and {tuple(fake.shape)}")
    precision = _inside(fake, real, _knn_radii(real, k, chunk), chunk).float().mean().item()
    recall = _inside(real, fake, _knn_radii(fake, k, chunk), chunk).float().mean().item()
    return PrecisionRecall(precision, recall)


# --------------------------------------------------------------------------- likelihood


@torch.no_grad()
def nll_iwae(model: nn.Module, images: Tensor, K: int = 100, batch_size: int | None = None,
             generator: torch.Generator | None = None) -> float:
    """Mean negative IWAE bound, in nats per image: an upper bound on -log p(x) that tightens as K grows.

    ``model`` is a VAE with ``log_weights(x, K, generator) -> (K, B)`` (see ``aigc_course.vae``);
    ``images`` are uint8 or float in [-1, 1]. ``batch_size`` defaults to max(1, 2048 // K), so each
    step decodes about 2048 images whatever K is. With K=1 this is the one-sample negative ELBO
    estimate (Burda et al. 2016). Stochastic: pass a seeded CPU ``generator`` for repeatable numbers.
    Introduced in 4.5.
    """
    if K < 1:
        raise ValueError(f"K must be >= 1, got {K}")
    was_training = model.training
    model.eval()
    batches = _batches(images, batch_size or max(1, 2048 // K), _device_of(model))
    total = sum(-losses.iwae_bound(model.log_weights(x, K, generator)).sum().item() for x in batches)
    model.train(was_training)
    return total / len(images)


def bits_per_dim(nll_nats: float, dims: int | tuple[int, ...]) -> float:
    """Convert an NLL in nats per image to bits per dimension: nll / (D ln 2), D = number of pixels x channels.

    ``dims`` is D or an image shape such as (1, 28, 28). A density over continuous [-1, 1] pixels
    gives a different number from a model of 256 discrete levels (Theis et al. 2016): add
    D * ln(127.5) nats to a dequantised continuous NLL before converting to compare with those.
    """
    d = dims if isinstance(dims, int) else math.prod(dims)
    return nll_nats / (d * math.log(2.0))


# --------------------------------------------------------------------------- image similarity


def _reduce(values: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return values.mean()
    if reduction == "none":
        return values
    raise ValueError(f"reduction={reduction!r}; use 'mean' or 'none' (one value per image)")


def _pair(a: Tensor, b: Tensor, who: str) -> tuple[Tensor, Tensor]:
    if a.shape != b.shape:
        raise ValueError(f"{who}: images must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    if a.dim() != 4:
        raise ValueError(f"{who}: expects image batches (B, C, H, W), got {tuple(a.shape)}; use x[None] for one image")
    return to_model_space(a), to_model_space(b)


def psnr(a: Tensor, b: Tensor, data_range: float = 2.0, reduction: str = "mean") -> Tensor:
    """Peak signal-to-noise ratio in dB, per image: 10 log10(data_range^2 / MSE). Introduced in 5.2.

    ``data_range`` is 2 for images in [-1, 1] (uint8 inputs are mapped there), 1 for [0, 1].
    ``reduction="mean"`` averages the per-image PSNRs; ``"none"`` returns (B,). Identical images give inf.
    """
    a, b = _pair(a, b, "psnr")
    mse = (a - b).pow(2).flatten(1).mean(dim=1)                   # (B,)
    return _reduce(10.0 * torch.log10(data_range**2 / mse), reduction)


def _gaussian_window(size: int, sigma: float, channels: int, device: torch.device) -> Tensor:
    x = torch.arange(size, dtype=torch.float32, device=device) - (size - 1) / 2
    g = torch.exp(-x**2 / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).expand(channels, 1, size, size)  # (C, 1, size, size)


def ssim(a: Tensor, b: Tensor, data_range: float = 2.0, reduction: str = "mean",
         window: int = 11, sigma: float = 1.5) -> Tensor:
    """Structural similarity (Wang et al. 2004): 11x11 Gaussian window (sigma 1.5), K1=0.01, K2=0.03.

    Local means, variances and covariance come from a depthwise ``conv2d`` (valid positions only);
    the SSIM map is averaged per image (and over channels). 1 for identical images. ``data_range``
    is 2 for [-1, 1] (uint8 inputs are mapped there), 1 for [0, 1]. Introduced in 5.2.
    """
    a, b = _pair(a, b, "ssim")
    c = a.shape[1]
    w = _gaussian_window(window, sigma, c, a.device)

    def blur(t: Tensor) -> Tensor:
        return F.conv2d(t, w, groups=c)                            # (B, C, H-10, W-10)

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    ssim_map = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return _reduce(ssim_map.flatten(1).mean(dim=1), reduction)


# --------------------------------------------------------------------------- 2-D toy data


def mode_coverage(samples: Tensor | np.ndarray, modes: Tensor | np.ndarray, std: float,
                  k: float = 3.0) -> dict:
    """How many modes of a 2-D mixture the samples reach, and how many samples are good (Metz et al. 2017).

    Thresholds: a sample is *high quality* if it lies within ``k * std`` of its nearest mode
    (k = 3 by default; for exact samples of an isotropic 2-D Gaussian that holds with probability
    1 - exp(-k^2/2), about 98.9%). A mode is *covered* if it receives at least
    max(1, 0.1 * N / M) high-quality samples, a tenth of its share if all M modes were equally hit.
    Returns dict(modes_covered, n_modes, high_quality (fraction of all N samples), per_mode_counts).
    Introduced in 2.3.
    """
    x, m = _as_tensor(samples, torch.float64), _as_tensor(modes, torch.float64)
    if x.dim() != 2 or m.dim() != 2 or x.shape[1] != m.shape[1]:
        raise ValueError(f"samples (N, 2) and modes (M, 2) expected, got {tuple(x.shape)} and {tuple(m.shape)}")
    dist, nearest = torch.cdist(x, m).min(dim=1)                  # (N,), (N,)
    good = dist <= k * std
    counts = torch.bincount(nearest[good], minlength=len(m))      # (M,)
    needed = max(1.0, 0.1 * len(x) / len(m))
    return {
        "modes_covered": int((counts >= needed).sum()),
        "n_modes": len(m),
        "high_quality": good.double().mean().item(),
        "per_mode_counts": counts.tolist(),
    }
