"""Tests of aigc_course.metrics: closed forms, limiting cases and monotonicity (no full training)."""
import math

import numpy as np
import pytest
import torch

from aigc_course import checkpoint, classifier, data, metrics, recipes
from aigc_course.config import VAEConfig
from aigc_course.vae import build_vae


def smooth_images(n: int, seed: int = 0) -> torch.Tensor:
    """(n, 1, 28, 28) float images in [-1, 1] with some spatial structure (upsampled 7x7 noise)."""
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(n, 1, 7, 7, generator=g) * 2 - 1
    return torch.nn.functional.interpolate(low, size=28, mode="bilinear", align_corners=False)


@pytest.fixture(scope="module")
def random_classifier():
    torch.manual_seed(0)
    return classifier.FashionClassifier(width=8).eval()


# --------------------------------------------------------------------------- classifier


def test_classifier_shapes_and_feature_extraction(random_classifier):
    x = smooth_images(6)
    assert random_classifier(x).shape == (6, 10)
    assert random_classifier.features(x).shape == (6, random_classifier.feature_dim) == (6, 32)
    as_uint8 = ((x + 1) * 127.5).round().to(torch.uint8)
    random_classifier.train()
    f_uint8 = metrics.extract_features(random_classifier, as_uint8, batch_size=4)
    assert random_classifier.training, "extract_features must restore the training flag"
    random_classifier.eval()
    f_float = metrics.extract_features(random_classifier, metrics.to_model_space(as_uint8), batch_size=6)
    torch.testing.assert_close(f_uint8, f_float)
    with pytest.raises(TypeError, match="uint8"):
        metrics.to_model_space(torch.zeros(2, 1, 28, 28, dtype=torch.int32))


def test_random_shift_moves_each_image_by_at_most_two_pixels():
    x = torch.full((500, 1, 28, 28), -1.0)
    x[:, :, 14, 14] = 1.0
    out = classifier.random_shift(x, 2, torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    assert ((out == 1.0).flatten(1).sum(1) == 1).all(), "the bright pixel must survive exactly once"
    rows, cols = (out[:, 0] == 1.0).nonzero()[:, 1:].T
    dy, dx = rows - 14, cols - 14
    assert dy.abs().max() == 2 and dx.abs().max() == 2
    assert len(set(zip(dy.tolist(), dx.tolist()))) == 25, "all 25 shifts should occur"


def test_train_classifier_learns_an_easy_task():
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(512) % 2
    images = (torch.rand(512, 1, 16, 16, generator=g) * 100).to(torch.uint8)
    images[labels == 1, :, 4:12, 4:12] += 150  # class 1: a bright square
    model, history = classifier.train_classifier(images, labels, epochs=2, batch_size=32, width=8,
                                              seed=0, device="cpu", progress=False)
    assert not model.training
    assert history["loss"] and history["wall_time_s"] > 0
    assert classifier.evaluate_classifier(model, images, labels) > 0.9


# --------------------------------------------------------------------------- FID


def test_frechet_distance_matches_closed_form_for_diagonal_gaussians():
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    s1, s2 = rng.uniform(0.1, 3, size=5), rng.uniform(0.1, 3, size=5)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(s1 + s2 - 2 * np.sqrt(s1 * s2))
    got = metrics.frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2))
    assert got == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_survives_singular_covariances():
    feats_a = np.random.default_rng(0).normal(size=(10, 40))  # N < D: rank-deficient covariance
    feats_b = np.random.default_rng(1).normal(size=(10, 40)) + 1.0
    value = metrics.fid_from_features(feats_a, feats_b)
    assert np.isfinite(value) and value > 40  # the mean shift alone contributes 40


def test_fid_of_a_set_with_itself_is_zero():
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(2000, 32)) @ rng.normal(size=(32, 32))  # correlated features
    _, sigma = metrics.feature_stats(feats)
    assert abs(metrics.fid_from_features(feats, feats)) < 1e-6 * np.trace(sigma)
    # torch tensors work too, and fid() accepts (N, D) features directly
    t = torch.from_numpy(feats).float()
    assert abs(metrics.fid(t, t)) < 1e-6 * np.trace(sigma)


def test_fid_grows_with_noise(random_classifier):
    clean = smooth_images(400, seed=1)
    noise = torch.randn(clean.shape, generator=torch.Generator().manual_seed(2))
    base = metrics.fid(clean, clean, model=random_classifier, batch_size=128)
    scores = [metrics.fid(clean, (clean + s * noise).clamp(-1, 1), model=random_classifier, batch_size=128)
              for s in (0.05, 0.2, 0.5, 1.0)]
    assert abs(base) < 1e-6 * scores[0]
    assert all(a < b for a, b in zip(scores, scores[1:])), scores


# --------------------------------------------------------------------------- precision / recall


def test_precision_recall_limits():
    feats = torch.randn(300, 16, generator=torch.Generator().manual_seed(0))
    assert tuple(metrics.precision_recall(feats, feats, k=3, chunk=64)) == (1.0, 1.0)
    far = metrics.precision_recall(feats, feats + 100.0, k=3)
    assert far.precision == 0.0 and far.recall == 0.0


def test_precision_recall_separates_quality_from_coverage():
    g = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [50.0, 0.0]])
    real = torch.cat([c + torch.randn(400, 2, generator=g) for c in centres])
    fake = torch.randn(400, 2, generator=g)  # only the first of the two real clusters
    p, r = metrics.precision_recall(real, fake, k=3)
    assert p > 0.95 and 0.4 < r < 0.55


def test_precision_recall_radius_is_the_kth_neighbour_distance():
    real = torch.arange(10.0)[:, None]  # points 0, 1, ..., 9 on a line
    fake = torch.tensor([[9.9], [10.5], [-0.9], [-1.5]])
    # k=1: every ball has radius 1, so 10.5 and -1.5 fall outside; k=2: end balls have radius 2
    assert metrics.precision_recall(real, fake, k=1).precision == 0.5
    assert metrics.precision_recall(real, fake, k=2).precision == 1.0


# --------------------------------------------------------------------------- likelihood


class MeanPixelWeights(torch.nn.Module):
    """A stand-in VAE whose K log-weights all equal the image's mean pixel: the bound is that mean."""

    def __init__(self):
        super().__init__()
        self.unused = torch.nn.Parameter(torch.zeros(()))

    def log_weights(self, x, K, generator=None):
        return x.flatten(1).mean(1).expand(K, len(x))  # (K, B)


def test_nll_iwae_averages_over_images_not_batches():
    levels = torch.linspace(-1, 0.5, 12)
    images = levels.view(12, 1, 1, 1).expand(12, 1, 4, 4)
    # batches of 5, 5 and 2 images: a mean of batch means would differ from the mean over images
    assert metrics.nll_iwae(MeanPixelWeights(), images, K=7, batch_size=5) == pytest.approx(-levels.mean().item())
    shifted = images + 1.0
    assert metrics.nll_iwae(MeanPixelWeights(), shifted[:10], K=3, batch_size=4) == pytest.approx(
        -shifted[:10].mean().item())


def test_iwae_nll_is_not_above_the_negative_elbo():
    torch.manual_seed(0)
    vae = build_vae(VAEConfig(kind="mlp", z_dim=4, img_size=8, hidden=32))
    with torch.no_grad():  # a poor encoder q(z|x): the gap between the bounds becomes large
        for p in vae.encoder.parameters():
            p.mul_(3)
    images = (torch.rand(64, 1, 8, 8, generator=torch.Generator().manual_seed(1)) * 255).to(torch.uint8)
    neg_elbo = metrics.nll_iwae(vae, images, K=1, generator=torch.Generator().manual_seed(2))
    nll_50 = metrics.nll_iwae(vae, images, K=50, batch_size=16, generator=torch.Generator().manual_seed(3))
    assert nll_50 < neg_elbo - 1.0
    again = metrics.nll_iwae(vae, images, K=50, batch_size=16, generator=torch.Generator().manual_seed(3))
    assert again == pytest.approx(nll_50, rel=1e-6), "a seeded generator must make it repeatable"
    assert metrics.bits_per_dim(64 * math.log(2), (1, 8, 8)) == pytest.approx(1.0)
    assert metrics.bits_per_dim(2 * 784 * math.log(2), 784) == pytest.approx(2.0)


# --------------------------------------------------------------------------- PSNR / SSIM


def test_psnr_closed_form():
    a = smooth_images(4)
    b = a + 0.1  # MSE = 0.01 exactly (up to float rounding)
    assert float(metrics.psnr(a, b)) == pytest.approx(10 * math.log10(4 / 0.01), rel=1e-4)
    assert float(metrics.psnr(a, b, data_range=1.0)) == pytest.approx(10 * math.log10(1 / 0.01), rel=1e-4)
    per_image = metrics.psnr(a, b, reduction="none")
    assert per_image.shape == (4,)
    assert torch.isinf(metrics.psnr(a, a)).all()
    with pytest.raises(ValueError, match="same shape"):
        metrics.psnr(a, b[:2])


def test_ssim_identity_flat_closed_form_and_noise():
    a = smooth_images(8)
    assert torch.allclose(metrics.ssim(a, a, reduction="none"), torch.ones(8))
    # flat images: variances and covariance vanish, SSIM = (2 m1 m2 + C1) / (m1^2 + m2^2 + C1)
    m1, m2, c1 = 0.3, -0.2, (0.01 * 2.0) ** 2
    flat = metrics.ssim(torch.full((1, 1, 16, 16), m1), torch.full((1, 1, 16, 16), m2))
    assert float(flat) == pytest.approx((2 * m1 * m2 + c1) / (m1**2 + m2**2 + c1), rel=1e-4)
    noise = torch.randn(a.shape, generator=torch.Generator().manual_seed(0))
    scores = [float(metrics.ssim(a, (a + s * noise).clamp(-1, 1))) for s in (0.05, 0.1, 0.3, 0.6)]
    assert all(1.0 > x > y for x, y in zip(scores, scores[1:])), scores


# --------------------------------------------------------------------------- mode coverage


def eight_gaussians(n: int, std: float, only_mode: int | None = None, seed: int = 0):
    angles = torch.arange(8) * (2 * math.pi / 8)
    modes = 2.0 * torch.stack([angles.cos(), angles.sin()], dim=1)  # (8, 2)
    g = torch.Generator().manual_seed(seed)
    idx = torch.randint(0, 8, (n,), generator=g) if only_mode is None else torch.full((n,), only_mode)
    return modes[idx] + std * torch.randn(n, 2, generator=g), modes


def test_mode_coverage_of_exact_samples():
    samples, modes = data.toy2d("8gaussians", 8000), data.toy2d_modes("8gaussians")
    cov = metrics.mode_coverage(samples, modes, std=0.02)  # the std that data.toy2d documents
    assert cov["modes_covered"] == cov["n_modes"] == 8
    # a 2-D isotropic Gaussian sample lies within 3 std with probability 1 - exp(-9/2)
    assert cov["high_quality"] == pytest.approx(1 - math.exp(-4.5), abs=0.005)
    assert sum(cov["per_mode_counts"]) == round(cov["high_quality"] * 8000)


def test_mode_coverage_threshold_is_a_tenth_of_the_fair_share():
    _, modes = eight_gaussians(1, std=0.05)
    which = torch.cat([torch.zeros(13), torch.ones(12), torch.full((975,), 2)]).long()
    cov = metrics.mode_coverage(modes[which], modes, std=0.05)  # 1000 samples: 12.5 needed per mode
    assert cov["per_mode_counts"][:3] == [13, 12, 975]
    assert cov["modes_covered"] == 2 and cov["high_quality"] == 1.0


def test_mode_coverage_of_a_collapsed_generator():
    samples, modes = eight_gaussians(2000, std=0.05, only_mode=3)
    cov = metrics.mode_coverage(samples, modes, std=0.05)
    assert cov["modes_covered"] == 1
    assert cov["per_mode_counts"][3] == max(cov["per_mode_counts"])
    scattered = metrics.mode_coverage(torch.zeros(100, 2), modes, std=0.05)  # all far from every mode
    assert scattered["modes_covered"] == 0 and scattered["high_quality"] == 0.0


# --------------------------------------------------------------------------- shipped classifier


def test_shipped_classifier_loads_with_recorded_accuracy():
    entry = checkpoint.read_manifest()["weights"].get(recipes.CLASSIFIER_NAME)
    if entry is None or not (checkpoint.weights_dir() / entry["file"]).is_file():
        pytest.skip("classifier weights not shipped yet (run tools/train_classifier.py)")
    assert entry["kind"] == "classifier"
    assert entry["metrics"]["test_accuracy"] >= 0.90
    model = recipes.classifier(device="cpu")
    assert isinstance(model, classifier.FashionClassifier) and not model.training
    assert metrics.extract_features(model, torch.zeros(3, 1, 28, 28, dtype=torch.uint8)).shape == (3, 128)


def test_density_and_coverage_count_real_balls():
    from aigc_course.metrics import density_coverage

    real = torch.arange(10.0)[:, None]          # k = 1: every real ball has radius 1
    fake = torch.tensor([[0.5], [0.5], [40.0]])  # two fakes in the balls of 0 and 1, one far outlier
    dc = density_coverage(real, fake, k=1)
    assert dc.density == pytest.approx(4 / 3)   # (2 + 2 + 0) balls / (k * 3 fakes)
    assert dc.coverage == pytest.approx(2 / 10)  # the balls of 0 and 1
    # the outlier has no effect on coverage, unlike recall's balls around the fakes
    from aigc_course.metrics import precision_recall
    assert precision_recall(real, fake, k=1).recall > dc.coverage
