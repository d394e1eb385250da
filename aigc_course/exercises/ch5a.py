"""Exercises of Part V, first half: latent walks (5.1), denoising and inpainting (5.2). Introduced in 5.1.

Usage in a notebook::

    from aigc_course.exercises import ch5a
    ch5a.q51a.check(slerp)   # prints a verdict, returns True/False, never raises
    ch5a.q51a.hint()
    ch5a.q51a.solution()

Questions are named by section: ``q51a`` is the first exercise of 5.1. Each checker runs the answer
on its own random inputs (a private generator: the global RNG is left alone), compares it with the
reference and, when it differs, names the common wrong answer it matches.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from scipy import stats

from aigc_course.exercises import CheckFailed, Question, as_tensor, judge, prediction

__all__ = ["q51a", "q51b", "q51c", "q51d", "q52a", "q52b", "q52c", "q52d"]


def _normal(gen: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=gen, dtype=torch.float64)


# --------------------------------------------------------------------------------------------------
# 5.1 Latent walks
# --------------------------------------------------------------------------------------------------

def _omega(z0: torch.Tensor, z1: torch.Tensor) -> torch.Tensor:
    """Angle between the rows of z0 and z1, (B, 1)."""
    cos = (z0 * z1).sum(1) / (z0.norm(dim=1) * z1.norm(dim=1))
    return torch.arccos(cos.clamp(-1, 1))[:, None]


def _check_slerp(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(51)
    B, d = 6, 12
    scale = torch.tensor([0.5, 1.0, 2.0, 3.0, 1.5, 4.0], dtype=torch.float64)[:, None]
    z0 = _normal(gen, B, d) * scale                 # rows of different norms
    z1 = _normal(gen, B, d) * scale.flip(0)
    omega = _omega(z0, z1)                          # (B, 1), none of them near 0 or pi
    u0, u1 = z0 / z0.norm(dim=1, keepdim=True), z1 / z1.norm(dim=1, keepdim=True)
    for t in (0.3, 0.8):
        expected = (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)
        directions = (torch.sin((1 - t) * omega) * u0 + torch.sin(t * omega) * u1) / torch.sin(omega)
        norms = (1 - t) * z0.norm(dim=1, keepdim=True) + t * z1.norm(dim=1, keepdim=True)
        wrong = {
            f"this is the straight line (1 − t) z0 + t z1, linear interpolation (lerp). Slerp moves along "
            f"the arc: its weights are sin((1 − t)Ω)/sin Ω and sin(tΩ)/sin Ω.": (1 - t) * z0 + t * z1,
            "the two weights are swapped: slerp must return z0 at t = 0, so z0 gets sin((1 − t)Ω)/sin Ω.":
                (torch.sin(t * omega) * z0 + torch.sin((1 - t) * omega) * z1) / torch.sin(omega),
            "the weights are not divided by sin Ω: then slerp(z0, z1; 1) = sin(Ω) z1, not z1.":
                torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1,
            "you interpolated the unit vectors z/‖z‖ only: the result has norm 1. The formula weights z0 "
            "and z1 themselves.": directions,
            "you interpolated the directions and the norms separately: a reasonable curve, but not "
            "Shoemake's slerp when the norms differ. Apply the formula to z0 and z1 directly.":
                directions / directions.norm(dim=1, keepdim=True) * norms,
        }
        value = as_tensor(fn(z0.clone(), z1.clone(), t), f"slerp at t = {t}")
        if value.shape == expected.shape and not torch.isfinite(value).all():
            raise CheckFailed("nan or inf for rows that are far from parallel. Ω is the angle between the "
                              "vectors: arccos of the NORMALISED dot product (the cosine similarity), "
                              "clamped to [−1, 1]. The raw dot product z0·z1 is usually outside [−1, 1], "
                              "where arccos is nan (or 0 or π after clamping, and sin Ω = 0).")
        judge(value, expected, wrong, what=f"slerp at t = {t}")
    same = _normal(gen, 2, d)
    parallel = torch.cat([same, 2.5 * same])          # rows 2, 3 are multiples of rows 0, 1: Ω = 0
    value = as_tensor(fn(torch.cat([same, same]), parallel, 0.4), "slerp of parallel rows")
    if not torch.isfinite(value).all():
        raise CheckFailed("right formula, but for parallel rows (Ω = 0) it divides 0 by 0 and returns "
                          "nan. Where sin Ω is (nearly) 0, return the linear interpolation: slerp tends "
                          "to lerp as Ω → 0.")
    judge(value, 0.6 * torch.cat([same, same]) + 0.4 * parallel, {}, what="slerp of parallel rows",
          atol=1e-4)


q51a = Question(
    name="q51a",
    prompt="Write `slerp(z0, z1, t)`: spherical linear interpolation of each row of z0 and z1 (B, d) at "
           "the number t, sin((1 − t)Ω)/sin Ω · z0 + sin(tΩ)/sin Ω · z1 with Ω the angle between the rows; "
           "the linear interpolation where the rows are parallel. Return shape (B, d).",
    checker=_check_slerp,
    hints=["cos Ω = z0·z1 / (‖z0‖ ‖z1‖) row by row (`torch.cosine_similarity(z0, z1, dim=1)`); clamp it "
           "to [−1, 1] before `torch.arccos`, and keep a trailing dimension to broadcast over d.",
           "Divide by `sin(omega).clamp(min=1e-7)` and pick the lerp with `torch.where(sin > 1e-7, ...)`."],
    solution_code="""
def my_slerp(z0, z1, t):
    cos = torch.cosine_similarity(z0, z1, dim=1).clamp(-1, 1)[:, None]
    omega = torch.arccos(cos)
    sin = torch.sin(omega)
    curved = (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / sin.clamp(min=1e-7)
    return torch.where(sin > 1e-7, curved, (1 - t) * z0 + t * z1)
""",
)


def _check_prob_norm_below(fn: Callable) -> None:
    r = torch.tensor([0.3, 1.0, 1.7, 2.5, 4.0, 5.7, 8.0, 9.5], dtype=torch.float64)
    for d in (1, 2, 5, 64):
        rn, r2 = r.numpy(), (r**2).numpy()
        expected = torch.as_tensor(stats.chi2.cdf(r2, d))
        wrong = {
            "the norm is not χ²-distributed, its SQUARE is: ‖z‖² ~ χ²_d, so P(‖z‖ ≤ r) = "
            "P(‖z‖² ≤ r²). You evaluated the χ² distribution function at r instead of r².":
                torch.as_tensor(stats.chi2.cdf(rn, d)),
            "this is the probability of a norm ABOVE r (the survival function); the question asks for "
            "at most r.": torch.as_tensor(stats.chi2.sf(r2, d)),
            "‖z‖² is a sum of d squares: d degrees of freedom, not d − 1.":
                torch.as_tensor(stats.chi2.cdf(r2, max(d - 1, 1))) if d > 1 else torch.full_like(r, -1.0),
            "this is the normal approximation ‖z‖ ≈ N(√d, 1/2): close in high dimensions, wrong in low "
            "ones. The exact answer is the χ² distribution function at r².":
                torch.as_tensor(stats.norm.cdf(rn, loc=math.sqrt(d), scale=math.sqrt(0.5))),
            "this is the normal approximation ‖z‖² ≈ N(d, 2d): the exact answer is the χ²_d "
            "distribution function at r².": torch.as_tensor(stats.norm.cdf(r2, loc=d, scale=math.sqrt(2 * d))),
            "this is a density (pdf), not a probability: use the distribution function (cdf).":
                torch.as_tensor(stats.chi.pdf(rn, d)),
        }
        judge(fn(r.clone(), d), expected, wrong, what=f"P(‖z‖ ≤ r) in d = {d}", atol=1e-7, rtol=1e-5)


q51b = Question(
    name="q51b",
    prompt="Write `prob_norm_below(r, d)`: the probability that z ~ N(0, I_d) has norm ‖z‖ ≤ r, for a "
           "float64 tensor of radii r and a whole number d. Return a tensor of the same shape as r.",
    checker=_check_prob_norm_below,
    hints=["‖z‖² = Σ z_j² is a sum of d squared standard normals: a χ² variable with d degrees of "
           "freedom. P(‖z‖ ≤ r) = P(‖z‖² ≤ r²).",
           "`torch.as_tensor(scipy.stats.chi2.cdf(r**2, d))`, or "
           "`torch.special.gammainc(torch.tensor(d / 2, dtype=r.dtype), r**2 / 2)` "
           "(the χ² distribution function is a regularised incomplete gamma function)."],
    solution_code="""
def prob_norm_below(r, d):
    return torch.special.gammainc(torch.tensor(d / 2, dtype=r.dtype), r**2 / 2)
""",
)


# --------------------------------------------------------------------------------------------------
# 5.1c Predict: how much longer is the arc than the straight line?
# --------------------------------------------------------------------------------------------------

def _slerp_rows(z0: torch.Tensor, z1: torch.Tensor, t: float) -> torch.Tensor:
    omega = _omega(z0, z1)
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)


def path_length_ratio(d: int = 64, n: int = 1000, steps: int = 64) -> float:
    """Mean length of the slerp path between two independent N(0, I_d) codes over the mean length of
    the straight path, measured on ``n`` pairs (a polygon of ``steps`` segments along each arc)."""
    gen = torch.Generator().manual_seed(510)
    z0, z1 = _normal(gen, n, d), _normal(gen, n, d)
    ts = torch.linspace(0, 1, steps + 1, dtype=torch.float64).tolist()
    points = torch.stack([_slerp_rows(z0, z1, t) for t in ts])                  # (steps + 1, n, d)
    arc = (points[1:] - points[:-1]).norm(dim=2).sum(0)                        # (n,)
    return (arc.mean() / (z1 - z0).norm(dim=1).mean()).item()


q51c = prediction(
    "q51c",
    "Two independent codes z0, z1 of N(0, I_64). Predict the mean length of the slerp path from z0 to z1 "
    "divided by the mean length of the straight (lerp) path: one number; within 3% counts.",
    path_length_ratio, rel_tol=0.03,
    explanation="Two independent codes are nearly orthogonal and of nearly equal norm r ≈ √d: the straight "
                "path is the hypotenuse r√2 of a right isosceles triangle, slerp a quarter circle of length "
                "r·π/2. Their ratio is π/(2√2) ≈ 1.11: slerp's detour is only 11% longer, and the ratio "
                "does not depend on d.",
    wrong={"the two paths are not equally long: the straight line is the shortest path between two "
           "points; slerp goes round the arc.": 1.0,
           "π/2 is a half circle over its diameter. Two independent codes are about 90° apart, not 180°: "
           "the arc is a QUARTER circle r·π/2, the chord r√2.": math.pi / 2,
           "√2 is the chord of a quarter circle over its radius (‖z1 − z0‖ ≈ √2 ‖z0‖); compare the arc "
           "r·π/2 with that chord.": math.sqrt(2)},
    hints=["In high dimensions two independent codes have almost the same norm r ≈ √d and meet at almost "
           "exactly 90°.",
           "A right angle with two sides of length r: the chord is r√2, the arc between them r·π/2."],
    solution_code="""
# nearly orthogonal codes of nearly equal norm r: arc r*pi/2 against chord r*sqrt(2)
answer = (math.pi / 2) / math.sqrt(2)
""",
)


# --------------------------------------------------------------------------------------------------
# 5.1d Apply: a straight path that stays a sample of the prior
# --------------------------------------------------------------------------------------------------

def _check_prior_lerp(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(511)
    B, d = 6, 10
    z0, z1 = _normal(gen, B, d), _normal(gen, B, d)
    for t in (0.5, 0.2, 0.9, 0.0, 1.0):
        line = (1 - t) * z0 + t * z1
        scale = math.sqrt((1 - t) ** 2 + t**2)
        n0, n1 = z0.norm(dim=1, keepdim=True), z1.norm(dim=1, keepdim=True)
        unit = line / line.norm(dim=1, keepdim=True)
        wrong = {
            "the variance of (1 − t) z0 + t z1 is (1 − t)² + t²: divide by its square ROOT, the standard "
            "deviation, to get variance 1.": line / scale**2,
            "this is the plain straight line: its variance per coordinate is (1 − t)² + t², ½ at the "
            "midpoint. Divide by the standard deviation √((1 − t)² + t²).": line,
            "you put the path on the unit sphere: the prior's samples have norm about √d, not 1, and "
            "dividing by the norm of this very point makes it no longer Gaussian.": unit,
            "you rescaled each point to norm √d: close to the shell, but a fixed norm is not a Gaussian "
            "sample (its norm would be χ_d-distributed). Divide by the constant √((1 − t)² + t²) instead.":
                unit * math.sqrt(d),
            "you rescaled each point to the interpolated norm (1 − t)‖z0‖ + t‖z1‖ (normalised lerp): a "
            "reasonable curve, but not an exact prior sample. Divide by √((1 − t)² + t²), a constant "
            "that does not look at the codes.": unit * ((1 - t) * n0 + t * n1),
            "this is slerp: also on the shell, but the question asks for the straight path rescaled.":
                _slerp_rows(z0, z1, t),
        }
        if t in (0.0, 1.0):
            wrong = {}
        judge(fn(z0.clone(), z1.clone(), t), line / scale, wrong, what=f"the rescaled path at t = {t}")


q51d = Question(
    name="q51d",
    prompt="Write `prior_lerp(z0, z1, t)`: the straight path (1 − t) z0 + t z1 between rows of (B, d) "
           "tensors, multiplied by the one number (depending on t only) that makes every point exactly "
           "N(0, I_d) when z0 and z1 are independent N(0, I_d) codes.",
    checker=_check_prior_lerp,
    hints=["A sum of independent Gaussians is Gaussian: (1 − t) z0 + t z1 ~ N(0, ((1 − t)² + t²) I).",
           "Divide by the standard deviation: `((1 - t) * z0 + t * z1) / math.sqrt((1 - t)**2 + t**2)`."],
    solution_code="""
def prior_lerp(z0, z1, t):
    sd = math.sqrt((1 - t) ** 2 + t**2)          # standard deviation of (1 - t) z0 + t z1
    return ((1 - t) * z0 + t * z1) / sd
""",
)


# --------------------------------------------------------------------------------------------------
# 5.2 Denoising and inpainting
# --------------------------------------------------------------------------------------------------

def _image_pairs(gen: torch.Generator, B: int = 5, side: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """Clean images in [-1, 1] and degraded copies with a different error level each: (B, 1, side, side)."""
    clean = (torch.rand(B, 1, side, side, generator=gen, dtype=torch.float64) * 2 - 1)
    level = torch.tensor([0.02, 0.05, 0.1, 0.3, 0.6], dtype=torch.float64)[:B].view(B, 1, 1, 1)
    return clean, (clean + level * _normal(gen, B, 1, side, side)).clamp(-1, 1)


def _check_psnr(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(52)
    clean, restored = _image_pairs(gen)
    mse = (clean - restored).pow(2).flatten(1).mean(dim=1)          # (B,)
    expected = 10 * torch.log10(4 / mse)
    value = as_tensor(fn(restored.clone(), clean.clone()), "PSNR per image")
    if value.dim() == 0:
        raise CheckFailed("you returned one number for the whole batch: return one PSNR per image, "
                          "shape (B,). (Averages of PSNRs and PSNRs of the average MSE also differ.)")
    wrong = {
        "the peak is the RANGE of the pixel values: images in [−1, 1] have range 2, so the numerator is "
        "2² = 4. With peak 1 every PSNR is 6.02 dB too low.": 10 * torch.log10(1 / mse),
        "peak 255 is for uint8 images in {0, ..., 255}; these images are floats in [−1, 1], range 2.":
            10 * torch.log10(255**2 / mse),
        "decibels use the base-10 logarithm: 10 log10(peak² / MSE). You used the natural log.":
            10 * torch.log(4 / mse),
        "the peak must be squared: PSNR = 10 log10(peak² / MSE) = 20 log10(peak / √MSE).":
            10 * torch.log10(2 / mse),
        "20 log10 goes with the ROOT mean square error: 20 log10(peak / √MSE). With the MSE itself, "
        "use 10 log10(peak² / MSE).": 20 * torch.log10(2 / mse),
        "MSE is the MEAN squared error over the pixels, not the sum.":
            10 * torch.log10(4 / (clean - restored).pow(2).flatten(1).sum(dim=1)),
        "PSNR = 10 log10(peak² / MSE), not peak² / MSE in dB without the logarithm.": 4 / mse,
    }
    judge(value, expected, wrong, what="PSNR per image", atol=1e-6, rtol=1e-6)


q52a = Question(
    name="q52a",
    prompt="Write `psnr(restored, clean)`: the peak signal-to-noise ratio in dB of each image, for image "
           "batches (B, 1, H, W) with values in [−1, 1]. Return shape (B,).",
    checker=_check_psnr,
    hints=["PSNR = 10 log10(peak² / MSE), with MSE the mean over the pixels of one image and peak the "
           "range of the values.",
           "The range of [−1, 1] is 2: `10 * torch.log10(4 / (restored - clean).pow(2).flatten(1).mean(1))`."],
    solution_code="""
def psnr(restored, clean):
    mse = (restored - clean).pow(2).flatten(1).mean(dim=1)
    return 10 * torch.log10(2.0**2 / mse)
""",
)


def _check_masked_mse(fn: Callable) -> None:
    gen = torch.Generator().manual_seed(521)
    B, side = 4, 10
    target = torch.rand(B, 1, side, side, generator=gen, dtype=torch.float64) * 2 - 1
    mask = torch.ones(B, 1, side, side, dtype=torch.float64)         # 1 = observed
    for b, hole in enumerate([2, 4, 6, 8]):                          # holes of different sizes
        mask[b, :, :hole, side - hole:] = 0
    observed = torch.where(mask > 0, target, torch.full_like(target, 3.0))   # junk in the hole
    guess = (target + 0.3 * _normal(gen, B, 1, side, side)).clamp(-1, 1)
    sq = (guess - observed) ** 2
    n_obs = mask.flatten(1).sum(dim=1)                               # (B,)
    expected = (mask * sq).flatten(1).sum(dim=1) / n_obs
    value = as_tensor(fn(guess.clone(), observed.clone(), mask.clone()), "masked MSE per image")
    if value.dim() == 0:
        raise CheckFailed("you returned one number for the batch: each image has its own mask, so "
                          "return one masked MSE per image, shape (B,).")
    wrong = {
        "the mask is ignored: the missing pixels hold junk, and the loss must not look at them. Sum "
        "mask·(x − y)² and divide by the number of OBSERVED pixels.": sq.flatten(1).mean(dim=1),
        "you divided by all the pixels, observed or not: that is the MSE over the observed pixels times "
        "the observed fraction, which differs from image to image. Divide by mask.sum() per image.":
            (mask * sq).flatten(1).mean(dim=1),
        "the mask is the wrong way round: 1 marks an OBSERVED pixel; you measured the error in the hole.":
            ((1 - mask) * sq).flatten(1).sum(dim=1) / (1 - mask).flatten(1).sum(dim=1),
        "that is the sum of squared errors over the observed pixels: divide it by their number.":
            (mask * sq).flatten(1).sum(dim=1),
    }
    judge(value, expected, wrong, what="masked MSE per image")


q52b = Question(
    name="q52b",
    prompt="Write `masked_mse(x, y, mask)`: the mean squared error between x and the observed image y over "
           "the observed pixels only (mask 1 = observed, 0 = missing; the missing pixels of y hold junk), "
           "for batches (B, 1, H, W). Return one value per image, shape (B,).",
    checker=_check_masked_mse,
    hints=["Only pixels with mask 1 count, in the sum and in the count.",
           "`(mask * (x - y)**2).flatten(1).sum(1) / mask.flatten(1).sum(1)`."],
    solution_code="""
def masked_mse(x, y, mask):
    return (mask * (x - y) ** 2).flatten(1).sum(dim=1) / mask.flatten(1).sum(dim=1)
""",
)


# --------------------------------------------------------------------------------------------------
# 5.2c Predict: the posterior mean against a posterior sample
# --------------------------------------------------------------------------------------------------

_TOY_S, _TOY_SIGMA = 0.5, 1.0        # prior N(0, s²) per pixel, noise σ


def _psnr_range2(restored: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
    return 10 * torch.log10(4 / (restored - clean).pow(2).flatten(1).mean(dim=1))


def sample_vs_mean_gap(n: int = 256, side: int = 28, s: float = _TOY_S, sigma: float = _TOY_SIGMA) -> float:
    """Mean PSNR (range 2) of the posterior mean minus that of one posterior sample, in dB, for images
    of independent N(0, s²) pixels seen through Gaussian noise of strength sigma (``n`` images)."""
    gen = torch.Generator().manual_seed(522)
    x = s * _normal(gen, n, 1, side, side)
    y = x + sigma * _normal(gen, n, 1, side, side)
    gain = s**2 / (s**2 + sigma**2)                     # posterior N(gain · y, gain · σ²)
    mean = gain * y
    sample = mean + math.sqrt(gain * sigma**2) * _normal(gen, n, 1, side, side)
    return (_psnr_range2(mean, x) - _psnr_range2(sample, x)).mean().item()


q52c = prediction(
    "q52c",
    f"Each pixel of a toy image is x ~ N(0, {_TOY_S}²), independently, and we observe y = x + σε with "
    f"σ = {_TOY_SIGMA}. Denoiser A returns the posterior mean E[x | y]; denoiser B returns one sample of "
    "the posterior p(x | y). Predict the mean PSNR of A minus the mean PSNR of B, in dB: one number; "
    "within ±0.25 dB counts.",
    sample_vs_mean_gap, abs_tol=0.25, unit=" dB",
    explanation="A sample x̃ and the true x are two independent draws from the same posterior p(x | y): "
                "x̃ − x = (x̃ − E[x | y]) − (x − E[x | y]) is the difference of two independent errors of "
                "variance Var(x | y) each, so the sample's MSE is twice the posterior mean's (the MMSE). "
                "Twice the MSE costs 10 log10 2 ≈ 3.01 dB, whatever the prior, the noise or the data range.",
    wrong={"a posterior sample is not as good as the mean in squared error: it adds a second, independent "
           "error of the same size as the mean's.": 0.0,
           "PSNR is 10 log10 of a ratio of SQUARED errors: the MSE doubles, so the gap is 10 log10 2, not "
           "20 log10 2.": 20 * math.log10(2),
           "the RMS error grows by √2, but decibels of a squared error are 10 log10 of the MSE ratio 2, "
           "not 10 log10 √2.": 10 * math.log10(math.sqrt(2)),
           "that is the posterior mean's gain over the noisy input y, 10 log10(σ² / Var(x | y)); the "
           "question compares the mean with a posterior sample.":
               10 * math.log10((_TOY_S**2 + _TOY_SIGMA**2) / _TOY_S**2),
           "that is the posterior sample's gain over the noisy input y; the question compares it with "
           "the posterior mean.": 10 * math.log10((_TOY_S**2 + _TOY_SIGMA**2) / (2 * _TOY_S**2))},
    hints=["Write the sample's error as x̃ − x = (x̃ − E[x | y]) + (E[x | y] − x). Given y, x̃ and x are "
           "independent draws from the same posterior.",
           "Both parts have variance Var(x | y) and are independent: the sample's MSE is 2 Var(x | y), the "
           "mean's Var(x | y). How many dB is a factor 2 in MSE?"],
    solution_code="""
# a sample and the truth are independent draws from p(x | y): the sample's MSE is twice the MMSE
answer = 10 * math.log10(2)
""",
)


# --------------------------------------------------------------------------------------------------
# 5.2d Apply: the MMSE denoiser for black-or-white pixels
# --------------------------------------------------------------------------------------------------

_BINARY_CASES = [(0.5, 0.3), (1.0, 0.8), (0.35, 0.5), (0.8, 0.1)]    # (sigma, p = P(white))


def _check_mmse_binary(fn: Callable) -> None:
    y = torch.linspace(-2.5, 2.5, 41, dtype=torch.float64)
    for sigma, p in _BINARY_CASES:
        prior = 0.5 * math.log(p / (1 - p))                      # half the prior log-odds of white
        half_odds = y / sigma**2 + prior                         # half the posterior log-odds
        expected = torch.tanh(half_odds)
        m, v = 2 * p - 1, 4 * p * (1 - p)                        # the prior's mean and variance
        wrong = {
            "this is the MAP estimate, the more probable of −1 and +1 (the sign of the posterior log-odds): "
            "sharp, but not the minimum-MSE estimate. The posterior MEAN weighs both values by their "
            "probabilities: P(white | y) − P(black | y).": torch.sign(half_odds),
            "this is sign(y), the nearest of −1 and +1: a MAP-like guess that also ignores the prior. The "
            "posterior mean weighs both values by their posterior probabilities.": torch.sign(y),
            "this is y clipped to [−1, 1]: it uses neither the noise level nor the prior. Compute "
            "P(white | y) by Bayes' rule.": y.clamp(-1, 1),
            "the prior is missing: with P(white) = p the posterior log-odds gain log(p / (1 − p)), so "
            "E[x | y] = tanh(y / σ² + ½ log(p / (1 − p))).": torch.tanh(y / sigma**2),
            "σ where σ² belongs: the log-likelihood ratio of +1 against −1 is ((y + 1)² − (y − 1)²) / (2σ²) "
            "= 2y / σ².": torch.tanh(y / sigma + prior),
            "tanh takes HALF the log-odds: P(+) − P(−) = tanh(½ log(P(+) / P(−))). You used the whole "
            "log-odds 2y / σ² + log(p / (1 − p)).": torch.tanh(2 * half_odds),
            "this is P(white | y), a probability in [0, 1]; the pixel's value is +1 or −1, so "
            "E[x | y] = (+1) P(white | y) + (−1) P(black | y) = 2 P(white | y) − 1.":
                torch.sigmoid(2 * half_odds),
            "this is the prior mean 2p − 1: it ignores the observation.": torch.full_like(y, m),
            "this is the linear (Wiener) estimate m + v / (v + σ²) (y − m) with the prior's mean and "
            "variance: the best LINEAR denoiser, and the posterior mean only for a Gaussian prior. "
            "This prior has two points; compute P(white | y) by Bayes' rule.": m + v / (v + sigma**2) * (y - m),
        }
        if p == 0.5:
            wrong = {k: w for k, w in wrong.items() if not k.startswith("the prior is missing")}
        value = as_tensor(fn(y.clone(), sigma, p), f"E[x | y] for σ = {sigma}, p = {p}")
        if value.shape == y.shape and not torch.isfinite(value).all():
            raise CheckFailed(f"nan or inf for σ = {sigma}, p = {p}: an exponential overflows, or 0/0 "
                              "appears. Write the result with torch.tanh or torch.sigmoid of the log-odds.")
        judge(value, expected, wrong, what=f"E[x | y] for σ = {sigma}, p = {p}", atol=1e-7, rtol=1e-6)
    big = torch.tensor([-40.0, 40.0], dtype=torch.float64)       # far outside: certain black / white
    value = as_tensor(fn(big, 0.2, 0.5), "E[x | y] for y = ±40, σ = 0.2")
    if not torch.isfinite(value).all():
        raise CheckFailed("right formula, but for y = ±40 and σ = 0.2 it returns nan or inf: the "
                          "exponentials overflow, or both underflow to 0 and give 0/0. Write it with "
                          "torch.tanh (or torch.sigmoid) of the log-odds, which saturate at ±1.")
    judge(value, torch.tensor([-1.0, 1.0], dtype=torch.float64), {}, what="E[x | y] for y = ±40, σ = 0.2")


q52d = Question(
    name="q52d",
    prompt="A pixel is white (x = +1) with probability p and black (x = −1) otherwise; we observe "
           "y = x + σε with ε ~ N(0, 1). Write `mmse_binary(y, sigma, p)`: the minimum-MSE denoiser "
           "E[x | y] for a float64 tensor y and numbers sigma, p (0 < p < 1). Return the shape of y; it must "
           "stay finite for large |y|.",
    checker=_check_mmse_binary,
    hints=["Bayes' rule: P(white | y) / P(black | y) = p / (1 − p) · exp(−(y − 1)² / 2σ²) / exp(−(y + 1)² / 2σ²). "
           "Simplify the exponent.",
           "The posterior log-odds are 2y / σ² + log(p / (1 − p)), and E[x | y] = P(white | y) − P(black | y) "
           "= tanh(half the log-odds)."],
    solution_code="""
def mmse_binary(y, sigma, p):
    half_log_odds = y / sigma**2 + 0.5 * math.log(p / (1 - p))    # half of log P(+1 | y) / P(-1 | y)
    return torch.tanh(half_log_odds)                               # P(+1 | y) - P(-1 | y)
""",
)
