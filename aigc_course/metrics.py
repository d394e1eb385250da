"""Measuring generative models: FID, precision/recall, IWAE NLL, PSNR/SSIM, mode coverage.

A ground floor of the package: it builds and loads no model. FID and precision/recall take features,
or images and the feature model to embed them with: in this course the small Fashion-MNIST CNN
``classifier.FashionClassifier`` (``recipes.classifier()`` loads the shipped one), because Inception-v3
features mean little for 28x28 grey clothes. Numbers are comparable within this course, not with
papers' Inception FIDs. Introduced in 4.5 (mode coverage in 2.3).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from scipy import linalg
from torch import Tensor, nn

from . import losses
from .data import batches_in_model_space, to_model_space
from .nn import eval_mode


# --------------------------------------------------------------------------- features


def _as_tensor(values: Tensor | np.ndarray, dtype: torch.dtype) -> Tensor:
    """A CPU tensor of ``dtype`` from a tensor (any device) or an array-like."""
    if isinstance(values, Tensor):
        return values.detach().cpu().to(dtype)
    return torch.as_tensor(np.asarray(values), dtype=dtype)


def _rows(mask: Tensor) -> str:
    """"3 rows (e.g. rows 0, 5, 7)" for a boolean (N,) mask."""
    idx = mask.nonzero().flatten().tolist()
    shown = ", ".join(str(i) for i in idx[:5]) + (", ..." if len(idx) > 5 else "")
    return f"{len(idx)} row{'s' if len(idx) != 1 else ''} (e.g. row{'s' if len(idx) != 1 else ''} {shown})"


def _check_finite(values: Tensor, name: str, what: str = "features") -> Tensor:
    """``values`` (N, ...) unchanged, or a ``ValueError`` naming ``name`` and the rows that hold NaN/Inf."""
    if values.is_floating_point() or values.is_complex():
        bad = ~torch.isfinite(values.reshape(len(values), -1)).all(dim=1) if values.dim() else ~torch.isfinite(values)
        if bool(bad.any()):
            raise ValueError(f"{name} holds {_rows(bad.reshape(-1))} with NaN/Inf; FID, precision/recall and "
                             f"density/coverage need finite {what}")
    return values


IMAGE_RANGE_SLACK = 1e-3  # float images may exceed [-1, 1] by round-off, not more


def _check_images(images: Tensor, name: str) -> None:
    """Float images must be finite and lie in [-1, 1] (uint8 0..255 is accepted as it is)."""
    if not isinstance(images, Tensor):
        raise TypeError(f"{name} must be a tensor of images (N, C, H, W), got {type(images).__name__}")
    if images.dtype == torch.uint8 or len(images) == 0:
        return
    if not images.is_floating_point():
        raise TypeError(f"{name} must be uint8 (0..255) or float images in [-1, 1], got dtype {images.dtype}")
    _check_finite(images, name, "images")
    flat = images.detach().reshape(len(images), -1)
    lo, hi = flat.min(dim=1).values, flat.max(dim=1).values
    bad = (lo < -1 - IMAGE_RANGE_SLACK) | (hi > 1 + IMAGE_RANGE_SLACK)
    if bool(bad.any()):
        raise ValueError(f"{name}: float images must lie in [-1, 1] (uint8 0..255 is also accepted); {_rows(bad)} "
                         f"lie outside, with values from {float(lo.min()):.4g} to {float(hi.max()):.4g}")


@torch.no_grad()
def extract_features(model: nn.Module, images: Tensor, batch_size: int = 500, name: str = "images") -> Tensor:
    """``model.features`` of every image (uint8 or float in [-1, 1]), in eval mode: (N, D) float32 on the CPU.
    Float images with NaN/Inf or outside [-1, 1] raise a ``ValueError`` naming ``name`` and the rows."""
    _check_images(images, name)
    dev = next(model.parameters()).device
    with eval_mode(model):
        feats = torch.cat([model.features(x).float().cpu() for x in batches_in_model_space(images, batch_size, dev)])
    return _check_finite(feats, f"the features of {name}")


# --------------------------------------------------------------------------- FID


def feature_stats(feats: Tensor | np.ndarray, name: str = "features") -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and covariance (D, D) of features (N, D), in float64 (NaN/Inf rows: a ``ValueError``)."""
    t = _as_tensor(feats, torch.float64)
    if t.dim() != 2 or len(t) < 2:
        raise ValueError(f"{name} must have shape (N, D) with N >= 2, got {tuple(t.shape)}")
    f = _check_finite(t, name).numpy()
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
    for label, value in (("mu1", mu1), ("sigma1", s1), ("mu2", mu2), ("sigma2", s2)):
        if not np.isfinite(value).all():
            raise ValueError(f"frechet_distance: {label} holds NaN/Inf; the Fréchet distance needs finite statistics")
    covmean = linalg.sqrtm(s1 @ s2)
    if not np.isfinite(covmean).all():
        offset = eps * np.eye(len(s1))
        covmean = linalg.sqrtm((s1 + offset) @ (s2 + offset))
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean.real))


def fid_from_features(feats_a: Tensor | np.ndarray, feats_b: Tensor | np.ndarray) -> float:
    """FID between two sets of features (N, D) and (M, D)."""
    return frechet_distance(*feature_stats(feats_a, "feats_a"), *feature_stats(feats_b, "feats_b"))


def fid(images_a: Tensor, images_b: Tensor, model: nn.Module | None = None, batch_size: int = 500) -> float:
    """FID between two image sets (N, C, H, W), uint8 or float in [-1, 1], in ``model``'s feature space
    (e.g. ``recipes.classifier()``). Two (N, D) feature tensors are also accepted, without a model
    (then this is :func:`fid_from_features`). FID is biased upwards for small sets: compare sets of
    equal size, and report the real-vs-real floor next to it.
    """
    if images_a.ndim == 2 and images_b.ndim == 2:
        return frechet_distance(*feature_stats(images_a, "images_a (features)"),
                                *feature_stats(images_b, "images_b (features)"))
    if model is None:
        raise ValueError("fid() of images needs the feature model: fid(a, b, model=recipes.classifier()), "
                         "or pass (N, D) features")
    return fid_from_features(extract_features(model, images_a, batch_size, "images_a"),
                             extract_features(model, images_b, batch_size, "images_b"))


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
    _check_finite(real, "real_feats")
    _check_finite(fake, "fake_feats")
    precision = _inside(fake, real, _knn_radii(real, k, chunk), chunk).float().mean().item()
    recall = _inside(real, fake, _knn_radii(fake, k, chunk), chunk).float().mean().item()
    return PrecisionRecall(precision, recall)


class DensityCoverage(NamedTuple):
    density: float   # mean number of real k-NN balls a fake falls in, divided by k (about 1 for a perfect model)
    coverage: float  # fraction of real points whose k-NN ball holds at least one fake


def density_coverage(real_feats: Tensor | np.ndarray, fake_feats: Tensor | np.ndarray, k: int = 5,
                     chunk: int = 1000) -> DensityCoverage:
    """Density and coverage (Naeem et al. 2020) from features (N, D) real and (M, D) fake.

    Both use only the real set's k-NN balls (radius = distance to the k-th nearest other real point), so
    outliers among the fakes cannot inflate them as they inflate recall's fake balls:
    density = (1 / kM) sum_j #{i : fake_j in ball_i}; coverage = share of real balls holding a fake.
    """
    real, fake = _as_tensor(real_feats, torch.float32), _as_tensor(fake_feats, torch.float32)
    if real.dim() != 2 or fake.dim() != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"features must be (N, D) and (M, D) with the same D, got {tuple(real.shape)} and {tuple(fake.shape)}")
    _check_finite(real, "real_feats")
    _check_finite(fake, "fake_feats")
    radii = _knn_radii(real, k, chunk)  # (N,)
    hits = torch.zeros(len(real), dtype=torch.bool)
    count = 0.0
    for part in fake.split(chunk):
        inside = torch.cdist(part, real) <= radii  # (chunk, N)
        count += inside.sum().item()
        hits |= inside.any(dim=0)
    return DensityCoverage(count / (k * len(fake)), hits.float().mean().item())


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
    batches = batches_in_model_space(images, batch_size or max(1, 2048 // K), next(model.parameters()).device)
    with eval_mode(model):
        total = sum(-losses.iwae_bound(model.log_weights(x, K, generator)).sum().item() for x in batches)
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
    """Peak signal-to-noise ratio in dB, per image: 10 log10(data_range^2 / MSE). Introduced in 4.5.

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
    is 2 for [-1, 1] (uint8 inputs are mapped there), 1 for [0, 1]. Introduced in 4.5.
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
    """How many modes of a 2-D mixture the samples reach, and how many samples are good (the protocol of
    VEEGAN, Srivastava et al. 2017, and PacGAN; the ring of Gaussians is from Metz et al. 2017).

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
