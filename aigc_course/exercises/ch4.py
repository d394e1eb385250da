"""Exercises of Part IV, hands-on training and evaluation. Introduced in 4.2.

Usage in a notebook::

    from aigc_course.exercises import as_tensor, ch4, judge
    ch4.q42a.check(deconv_out)    # prints a verdict, returns True/False, never raises
    ch4.q42a.hint()
    ch4.q42a.solution()

Questions are named by section (``q42a`` is the first exercise of 4.2). Each checker runs the
answer on its own inputs, compares it with the reference and names the common wrong answer it
matches.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
from scipy import linalg
from torch import nn

from aigc_course.exercises import CheckFailed, Question, as_tensor, judge

__all__ = ["q42a", "q42b", "q43a", "q44a", "q44b", "q45a", "q45b", "q45c", "q46a", "q46b"]


# --------------------------------------------------------------------------------------------------
# 4.2 DCGAN
# --------------------------------------------------------------------------------------------------

_DECONV_CASES = [  # (size, kernel, stride, padding, output_padding)
    (7, 4, 2, 1, 0), (14, 4, 2, 1, 0), (4, 4, 1, 0, 0), (5, 3, 2, 1, 1), (9, 5, 3, 2, 2), (1, 7, 1, 0, 0),
]


def _check_deconv_out(fn: Callable) -> None:
    for n, k, s, p, op in _DECONV_CASES:
        layer = nn.ConvTranspose2d(1, 1, k, s, p, output_padding=op)
        expected = layer(torch.zeros(1, 1, n, n)).shape[-1]  # the ground truth is PyTorch itself
        assert expected == (n - 1) * s - 2 * p + k + op
        wrong = {
            "this is the output size of an ordinary (strided) convolution, floor((n + 2p − k)/s) + 1: a "
            "transposed convolution runs it backwards, so solve that formula for n instead.":
                torch.tensor(float((n + 2 * p - k) // s + 1)),
            "the padding must be subtracted: in a transposed convolution, p removes p rows from each border "
            "of the output.": torch.tensor(float((n - 1) * s + 2 * p + k + op)),
            "the stride multiplies (n − 1), the gaps between input pixels, not n.":
                torch.tensor(float(n * s - 2 * p + k + op)),
            "output_padding is missing: it adds op rows on one side to pick among the sizes a strided "
            "convolution maps to the same n.": torch.tensor(float((n - 1) * s - 2 * p + k)),
        }
        judge(fn(n, k, s, p, op), torch.tensor(float(expected)), wrong,
               what=f"output size for n={n}, kernel={k}, stride={s}, padding={p}, output_padding={op}",
               atol=0.0, rtol=0.0)


q42a = Question(
    name="q42a",
    prompt="Write `deconv_out(n, kernel, stride, padding, output_padding)`: the side of the output of "
           "`nn.ConvTranspose2d(..., kernel, stride, padding, output_padding=output_padding)` for an n×n input.",
    checker=_check_deconv_out,
    hints=["A transposed convolution with these settings maps n to the sizes m that the ordinary "
           "convolution (same kernel, stride, padding) maps back to n.",
           "Solve n = (m + 2p − k)/s + 1 for m, then add output_padding: m = (n − 1)·s − 2p + k + op."],
    solution_code="""
def deconv_out(n, kernel, stride, padding, output_padding=0):
    return (n - 1) * stride - 2 * padding + kernel + output_padding
""",
)


def _deconv_bn_params(c_in: int, c_out: int, k: int) -> int:
    return c_in * c_out * k * k + 2 * c_out


def _check_block_params(fn: Callable) -> None:
    from aigc_course.nn import count_parameters, deconv_block

    for c_in, c_out, k in [(128, 64, 4), (64, 32, 4), (3, 5, 3)]:
        expected = count_parameters(deconv_block(c_in, c_out, kernel_size=k))
        assert expected == _deconv_bn_params(c_in, c_out, k)
        wrong = {
            "you counted a bias for the transposed convolution, but a DCGAN block has none: batch norm "
            "subtracts the mean right after it, so a bias would be cancelled (its shift β takes that role).":
                torch.tensor(float(expected + c_out)),
            "batch norm has parameters too: a scale γ and a shift β per channel (its running mean and "
            "variance are buffers, not parameters).": torch.tensor(float(c_in * c_out * k * k)),
            "the running mean and variance of batch norm are buffers, updated by averaging, not learnt "
            "parameters: count only γ and β.": torch.tensor(float(expected + 2 * c_out)),
            "a kernel connects every input channel to every output channel: c_in · c_out · k², not "
            "(c_in + c_out) · k².": torch.tensor(float((c_in + c_out) * k * k + 2 * c_out)),
        }
        judge(fn(c_in, c_out, k), torch.tensor(float(expected)), wrong,
               what=f"parameter count for c_in={c_in}, c_out={c_out}, kernel={k}", atol=0.0, rtol=0.0)


q42b = Question(
    name="q42b",
    prompt="Write `block_params(c_in, c_out, k)`: the number of learnt parameters of a DCGAN generator "
           "block `ConvTranspose2d(c_in, c_out, k, bias=False) + BatchNorm2d(c_out) + ReLU`.",
    checker=_check_block_params,
    hints=["The kernel has shape (c_in, c_out, k, k). Which layers of the block have parameters?",
           "Batch norm learns a scale and a shift per channel; ReLU learns nothing."],
    solution_code="""
def block_params(c_in, c_out, k):
    return c_in * c_out * k * k + 2 * c_out   # kernel + batch norm's gamma and beta
""",
)


# --------------------------------------------------------------------------------------------------
# 4.3 Conditional GAN and WGAN-GP
# --------------------------------------------------------------------------------------------------

def _check_wasserstein(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(43)
    real, fake = 2 + torch.randn(64, generator=gen), -1 + 3 * torch.randn(64, generator=gen)
    expected = real.mean() - fake.mean()
    wrong = {
        "sign flipped: this is the critic's loss E[f(G(z))] − E[f(x)], which it MINIMISES. The Wasserstein "
        "estimate is its negative, E[f(x)] − E[f(G(z))], large when the critic separates the sets.": -expected,
        "critic scores are not probabilities: no sigmoid. A WGAN critic outputs unbounded real numbers.":
            torch.sigmoid(real).mean() - torch.sigmoid(fake).mean(),
        "each expectation is a mean over its own batch, not a sum.": real.sum() - fake.sum(),
    }
    judge(fn(real.clone(), fake.clone()), expected, wrong, what="Wasserstein estimate")
    try:  # the two batches need not have the same size
        uneven = fn(real.clone(), fake[:48].clone())
    except RuntimeError as err:
        raise CheckFailed("your function fails when the real and generated batches differ in size "
                          f"({err}): take each expectation as the mean over its own batch, "
                          "real_scores.mean() − fake_scores.mean().")
    judge(uneven, real.mean() - fake[:48].mean(), {}, what="Wasserstein estimate (batches of 64 and 48)")


q43a = Question(
    name="q43a",
    prompt="Write `wasserstein_estimate(real_scores, fake_scores)`: the critic's estimate of W1(p_data, p_g) "
           "from its scores on a real batch and a generated batch (1-D tensors, possibly of different sizes).",
    checker=_check_wasserstein,
    hints=["Kantorovich–Rubinstein: W1 = sup over 1-Lipschitz f of E_data[f(x)] − E_g[f(x)].",
           "`real_scores.mean() - fake_scores.mean()`; `losses.wgan_critic_loss` returns its negative."],
    solution_code="""
def wasserstein_estimate(real_scores, fake_scores):
    return real_scores.mean() - fake_scores.mean()
""",
)


# --------------------------------------------------------------------------------------------------
# 4.4 Convolutional VAE
# --------------------------------------------------------------------------------------------------

def _check_beta_loss(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(44)
    recon = 200 + 30 * torch.rand(32, generator=gen, dtype=torch.float64)  # −log p(x|z) per image, (B,)
    kl = 5 + 20 * torch.rand(32, generator=gen, dtype=torch.float64)       # KL per image, (B,)
    for beta in (4.0, 0.5):
        expected = (recon + beta * kl).mean()
        wrong = {
            "β multiplies the wrong term: it weighs the KL (how far q(z|x) may move from the prior), not the "
            "reconstruction.": (beta * recon + kl).mean(),
            "the KL is a penalty: it is ADDED to the reconstruction loss (the ELBO subtracts it from "
            "log p(x|z), and the loss is minus the ELBO).": (recon - beta * kl).mean(),
            "β is missing: with β = 1 this is the plain VAE; the β-VAE weighs the KL by β.": (recon + kl).mean(),
            "average over the batch (mean), do not sum: the trainer's loss is a per-image mean.":
                (recon + beta * kl).sum(),
        }
        judge(fn(recon.clone(), kl.clone(), beta), expected, wrong, what=f"β-VAE loss for β={beta}")


q44a = Question(
    name="q44a",
    prompt="Write `beta_vae_loss(recon, kl, beta)`: the batch loss of a β-VAE from the per-image "
           "reconstruction term recon = −log p(x|z) and KL(q(z|x) || p(z)) (1-D tensors).",
    checker=_check_beta_loss,
    hints=["The β-VAE objective is E_q[log p(x|z)] − β·KL; the loss is its negative, averaged over the batch.",
           "`(recon + beta * kl).mean()`."],
    solution_code="""
def beta_vae_loss(recon, kl, beta):
    return (recon + beta * kl).mean()
""",
)


def _check_active_units(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(441)
    spread = torch.tensor([1.0, 0.5, 0.3, 0.05, 0.02, 0.001, 0.0])  # per latent dimension
    offset = torch.tensor([0.0, 3.0, -1.0, 0.0, 2.0, 5.0, -4.0])
    cases = []
    for n, perm in [(500, list(range(7))), (300, [6, 2, 0, 4, 1, 5, 3])]:
        mu = (torch.randn(n, 7, generator=gen) * spread + offset)[:, perm]
        for threshold in (0.01, 0.5, 0.001):
            cases.append((mu, threshold))
    first = None
    for mu, threshold in cases:
        variances = mu.var(dim=0)
        # variances are about 1, 0.25, 0.09, 0.0025, 0.0004, 1e-6, 0: far from every threshold
        assert ((variances - threshold).abs() > threshold / 3).all()
        expected = int((variances > threshold).sum())
        answer = fn(mu.clone(), threshold)
        if first is None:
            first = answer
        wrong = {
            "the variance must be taken over the data (dim=0, one value per latent dimension), not over the "
            "latent dimensions of each image.": torch.tensor(float((mu.var(dim=1) > threshold).sum())),
            "a unit is active when its posterior mean VARIES with x; a large mean alone (an offset) says "
            "nothing about whether the decoder uses it.":
                torch.tensor(float((mu.mean(dim=0).abs() > threshold).sum())),
            "compare the variance (not the standard deviation) with the threshold.":
                torch.tensor(float((mu.std(dim=0) > threshold).sum())),
        }
        if threshold != 0.01:
            wrong[f"with threshold={threshold} your function still counts the dimensions above 0.01: use the "
                  f"`threshold` argument instead of a fixed number."] = \
                torch.tensor(float((variances > 0.01).sum()))
        judge(answer, torch.tensor(float(expected)), wrong,
              what=f"number of active units for threshold={threshold}", atol=0, rtol=0)


q44b = Question(
    name="q44b",
    prompt="Write `active_units(mu, threshold=0.01)`: the number of latent dimensions whose posterior mean "
           "varies over the data, Var_x(E_q[z_j | x]) > threshold (Burda et al.), from mu of shape (N, z_dim).",
    checker=_check_active_units,
    hints=["One variance per latent dimension j, computed over the N images.",
           "`int((mu.var(dim=0) > threshold).sum())`."],
    solution_code="""
def active_units(mu, threshold=0.01):
    return int((mu.var(dim=0) > threshold).sum())
""",
)


# --------------------------------------------------------------------------------------------------
# 4.5 Evaluation
# --------------------------------------------------------------------------------------------------

def _random_cov(d: int, rng: np.random.Generator) -> np.ndarray:
    """A well-conditioned covariance with positive entries (so an element-wise sqrt runs, and is wrong)."""
    a = rng.uniform(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def _fd_parts(mu1, s1, mu2, s2):
    diff = mu1 - mu2
    return float(diff @ diff), float(np.trace(s1) + np.trace(s2)), float(np.trace(linalg.sqrtm(s1 @ s2).real))


def _check_frechet(fn: Callable) -> None:
    rng = np.random.default_rng(45)
    d = 6
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    s1, s2 = _random_cov(d, rng), _random_cov(d, rng)  # do not commute: sqrt(S1) sqrt(S2) != sqrtm(S1 S2)
    means, traces, cross = _fd_parts(mu1, s1, mu2, s2)
    expected = torch.tensor(means + traces - 2 * cross)
    sq1, sq2 = linalg.sqrtm(s1).real, linalg.sqrtm(s2).real
    wrong = {
        "the cross term −2·tr((Σ1 Σ2)^{1/2}) is missing: without it the covariance part is tr(Σ1 + Σ2), "
        "which is not zero even for two identical Gaussians.": torch.tensor(means + traces),
        "np.sqrt is an ELEMENT-WISE square root; the formula needs the MATRIX square root "
        "scipy.linalg.sqrtm(Σ1 @ Σ2) (a matrix M with M @ M = Σ1 Σ2).":
            torch.tensor(means + traces - 2 * np.trace(np.sqrt(s1 @ s2))),
        "element-wise sqrt of Σ1 * Σ2 is not the matrix square root of the PRODUCT Σ1 @ Σ2: use "
        "scipy.linalg.sqrtm(s1 @ s2).": torch.tensor(means + traces - 2 * np.trace(np.sqrt(s1 * s2))),
        "sqrt(Σ1)·sqrt(Σ2) equals (Σ1 Σ2)^{1/2} only when the matrices commute; covariances of two "
        "feature sets do not. Use sqrtm(Σ1 @ Σ2).": torch.tensor(means + traces - 2 * np.trace(sq1 @ sq2)),
        "the mean term is the SQUARED distance ||μ1 − μ2||², not the distance.":
            torch.tensor(math.sqrt(means) + traces - 2 * cross),
        "the factor 2 of the cross term is missing.": torch.tensor(means + traces - cross),
    }
    judge(fn(mu1.copy(), s1.copy(), mu2.copy(), s2.copy()), expected, wrong, what="Fréchet distance",
           atol=1e-6, rtol=1e-6)
    same = as_tensor(fn(mu1.copy(), s1.copy(), mu1.copy(), s1.copy()), "Fréchet distance of a Gaussian to itself")
    if abs(float(same)) > 1e-6:
        raise CheckFailed(f"the distance of a Gaussian to itself should be 0, got {float(same):.3g}.")


q45a = Question(
    name="q45a",
    prompt="Write `frechet(mu1, s1, mu2, s2)` (numpy arrays): the squared Fréchet distance between "
           "N(mu1, s1) and N(mu2, s2), the formula behind FID.",
    checker=_check_frechet,
    hints=["d² = ||μ1 − μ2||² + tr(Σ1 + Σ2 − 2 (Σ1 Σ2)^{1/2}).",
           "The square root is a matrix square root: `scipy.linalg.sqrtm(s1 @ s2).real` (drop round-off "
           "imaginary parts)."],
    solution_code="""
from scipy import linalg


def frechet(mu1, s1, mu2, s2):
    diff = mu1 - mu2
    covmean = linalg.sqrtm(s1 @ s2).real
    return diff @ diff + np.trace(s1 + s2 - 2 * covmean)
""",
)


def _pr_sets(seed: int, n_dense: int = 40, n_sparse: int = 20, m: int = 200) -> tuple[torch.Tensor, torch.Tensor]:
    """Real points: a dense and a sparse cluster (so the k-NN radii differ a lot); fakes spread over both."""
    gen = torch.Generator().manual_seed(seed)
    real = torch.cat([0.1 * torch.randn(n_dense, 2, generator=gen), 3 + 1.5 * torch.randn(n_sparse, 2, generator=gen)])
    fake = torch.cat([0.4 * torch.randn(m // 3, 2, generator=gen), 3 + 2.5 * torch.randn(m // 3, 2, generator=gen),
                      1.5 + 0.8 * torch.randn(m - 2 * (m // 3), 2, generator=gen)])
    return real.double(), fake.double()


def _check_precision(fn: Callable) -> None:
    for k, seed in ((3, 450), (1, 550)):
        real, fake = _pr_sets(seed)
        d_rr, d_fr = torch.cdist(real, real), torch.cdist(fake, real)
        radii = d_rr.kthvalue(k + 1, dim=1).values                      # the point itself is at distance 0
        nearest_d, nearest_i = d_fr.min(dim=1)
        expected = (d_fr <= radii).any(dim=1).double().mean()
        wrong = {
            "each real point's radius must be the distance to its k-th nearest OTHER real point: in "
            "torch.cdist(real, real) every row holds a 0 (the point itself), so take kthvalue(k + 1).":
                (d_fr <= d_rr.kthvalue(k, dim=1).values).any(dim=1).double().mean(),
            "that is RECALL: the share of real points inside the balls around the fakes. Precision puts the "
            "balls around the REAL points and counts the fakes inside them.":
                (torch.cdist(real, fake) <= torch.cdist(fake, fake).kthvalue(k + 1, dim=1).values)
                .any(dim=1).double().mean(),
            "one radius for every ball (the mean k-NN radius) loses what the method is for: dense regions get "
            "small balls and sparse ones large balls. Give each real point its own radius.":
                (nearest_d <= radii.mean()).double().mean(),
            "checking only the ball of the NEAREST real point is not enough: a fake can lie outside its nearest "
            "neighbour's small ball and still inside the larger ball of another real point. Test all balls "
            "(`.any(dim=1)` over the real points).": (nearest_d <= radii[nearest_i]).double().mean(),
        }
        judge(fn(real.clone(), fake.clone(), k), expected, wrong, what=f"precision with k = {k}",
              atol=1e-6, rtol=1e-6)


q45b = Question(
    name="q45b",
    prompt="Write `precision(real, fake, k)`: the improved precision of Kynkäänniemi et al. (2019) from "
           "feature tensors real (N, D) and fake (M, D): the share of fakes that fall inside at least one "
           "ball around a real point, whose radius is the distance to that point's k-th nearest real neighbour.",
    checker=_check_precision,
    hints=["`torch.cdist(a, b)` gives all pairwise distances. The radii come from cdist(real, real), the "
           "test from cdist(fake, real).",
           "Each row of cdist(real, real) contains a 0: the point itself. The k-th nearest OTHER point is "
           "`.kthvalue(k + 1, dim=1)`.",
           "A fake is inside if it is within the radius of ANY real point: compare the (M, N) distances with the "
           "(N,) radii, then `.any(dim=1)` and average."],
    solution_code="""
def precision(real, fake, k):
    radii = torch.cdist(real, real).kthvalue(k + 1, dim=1).values   # skip the point itself
    inside = torch.cdist(fake, real) <= radii                        # (M, N): fake j in the ball of real i
    return inside.any(dim=1).float().mean()
""",
)


def _fit_infinity(ns, values) -> float:
    """Intercept a of the least-squares fit values ~ a + b / n."""
    ns, values = np.asarray(ns, dtype=np.float64), np.asarray(values, dtype=np.float64)
    design = np.stack([np.ones_like(ns), 1.0 / ns], axis=1)
    return float(np.linalg.lstsq(design, values, rcond=None)[0][0])


def _check_fid_infinity(fn: Callable) -> None:
    rng = np.random.default_rng(452)
    cases = [
        (np.array([250, 500, 1000, 2000]), 3.0, 900.0, 0.0),      # exact: a + b / n
        (np.array([500, 1000, 2000, 4000, 8000]), 0.4, 2500.0, 0.02),
        (np.array([100, 200, 300, 600]), 12.0, 400.0, 0.05),
    ]
    for ns, a, b, noise in cases:
        values = a + b / ns + noise * rng.normal(size=len(ns))
        expected = _fit_infinity(ns, values)
        slope = np.polyfit(1.0 / ns, values, 1)[0]
        wrong = {
            "this is the FID at the largest n, which still contains the bias c/n: fit FID_n = a + c/n and "
            "return the intercept a, the value at 1/n = 0.": torch.tensor(float(values[-1])),
            "the bias shrinks like 1/n, not linearly in n: regress the FIDs on 1/n (a straight line in 1/n), "
            "then read it off at 1/n = 0.": torch.tensor(float(np.polyfit(ns, values, 1)[1])),
            "the mean of the FIDs is not an extrapolation: fit a + c/n and take a.":
                torch.tensor(float(values.mean())),
            "that is the slope c (how fast the bias shrinks); FID at n → ∞ is the intercept a.":
                torch.tensor(float(slope)),
            "a line through the origin forces FID_∞ = 0: the fit needs an intercept (np.polyfit(1/n, fid, 1) "
            "or a column of ones in the design matrix).": torch.tensor(0.0),
        }
        judge(fn(ns.copy(), values.copy()), torch.tensor(expected), wrong,
              what=f"FID_∞ from n = {ns.tolist()}", atol=1e-6, rtol=1e-6)
    try:  # the page calls it with plain lists
        from_lists = fn(ns.tolist(), values.tolist())
    except TypeError as err:
        raise CheckFailed(f"your function fails on Python lists ({err}): convert first, e.g. "
                          "ns = np.asarray(ns, dtype=float), before computing 1 / ns.") from None
    judge(from_lists, torch.tensor(expected), {}, what="FID_∞ from Python lists", atol=1e-6, rtol=1e-6)


q45c = Question(
    name="q45c",
    prompt="Write `fid_at_infinity(ns, fids)`: from FIDs computed with n samples per set (arrays of equal "
           "length), fit FID_n = FID_∞ + c / n by least squares and return FID_∞ (Chong & Forsyth 2020).",
    checker=_check_fid_infinity,
    hints=["The bias of FID falls like 1/n, so FID_n is a straight line in x = 1/n.",
           "`np.polyfit(1 / np.asarray(ns), fids, 1)` returns (slope, intercept); FID_∞ is the intercept."],
    solution_code="""
def fid_at_infinity(ns, fids):
    slope, intercept = np.polyfit(1 / np.asarray(ns, dtype=float), fids, 1)
    return intercept
""",
)


# --------------------------------------------------------------------------------------------------
# 4.6 Going fast and big
# --------------------------------------------------------------------------------------------------

_MFU_CASES = [(92.9e6, 587.0, 1.0e12), (3.1e9, 41_000.0, 989e12), (7.5e8, 12_500.0, 312e12)]


def _check_mfu(fn: Callable) -> None:
    for flops, rate, peak in _MFU_CASES:
        expected = flops * rate / peak
        wrong = {
            "that is a percentage: return the utilisation as a fraction between 0 and 1.": torch.tensor(100 * expected),
            "upside down: achieved FLOP/s (FLOPs per image × images per second) goes on top, the peak below.":
                torch.tensor(peak / (flops * rate)),
            "the images per second are missing: FLOPs per image alone is work, not a rate.": torch.tensor(flops / peak),
        }
        judge(fn(flops, rate, peak), torch.tensor(expected, dtype=torch.float64), wrong,
               what=f"MFU for {flops:.3g} FLOPs/image at {rate:g} images/s on a {peak:.3g} FLOP/s device")


q46a = Question(
    name="q46a",
    prompt="Write `mfu(flops_per_image, images_per_s, peak_flops)`: the model FLOPs utilisation, the fraction "
           "of the device's peak FLOP/s that the training step really uses.",
    checker=_check_mfu,
    hints=["Achieved FLOP/s = work per image × images per second.", "Divide the achieved FLOP/s by the peak."],
    solution_code="""
def mfu(flops_per_image, images_per_s, peak_flops):
    return flops_per_image * images_per_s / peak_flops
""",
)

_SHARD_CASES = [(60_000, 128, 1), (60_000, 128, 2), (60_000, 128, 8), (1_000, 64, 3), (50_000, 256, 7)]


def _check_batches_per_rank(fn: Callable) -> None:
    from aigc_course import data

    for n, batch, world in _SHARD_CASES:
        images = torch.zeros(n, 1, 1, 1, dtype=torch.uint8)
        expected = len(data.TensorLoader(images, batch_size=batch, rank=0, world_size=world, device="cpu"))
        wrong = {
            "this ignores the sharding: under DDP each of the world_size processes sees only its own 1/world_size "
            "of every epoch.": torch.tensor(float(n // batch)),
            "a partial last batch is dropped (drop_last=True): round down, not up.":
                torch.tensor(float(math.ceil(n / world / batch))),
            "the number of batches is a whole number: divide with //, twice.": torch.tensor(n / world / batch),
        }
        judge(fn(n, batch, world), torch.tensor(float(expected)), wrong,
               what=f"batches per rank for {n} samples, batch {batch}, world size {world}", atol=0.0, rtol=0.0)


q46b = Question(
    name="q46b",
    prompt="Write `batches_per_rank(n_samples, batch_size, world_size)`: how many full batches each DDP process "
           "trains on per epoch when the data set is sharded across `world_size` processes (drop_last=True), "
           "as `aigc_course.data.TensorLoader` does.",
    checker=_check_batches_per_rank,
    hints=["Each process gets n_samples // world_size samples of every epoch.",
           "Then count the full batches in that share: (n_samples // world_size) // batch_size."],
    solution_code="""
def batches_per_rank(n_samples, batch_size, world_size):
    return (n_samples // world_size) // batch_size
""",
)
