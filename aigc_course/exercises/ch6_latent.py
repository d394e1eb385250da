"""Exercises of section 6.6 (latent diffusion).

Usage in a notebook::

    from aigc_course.exercises import ch6_latent
    ch6_latent.q66a.check(gaussian_fit_kl)   # prints a verdict, returns True/False, never raises

The checkers use their own generators and small models of their own, and name the common wrong answers:
a diagonal covariance where the full one belongs, a missing 1/2 or -d, codes renormalised before decoding,
logits squashed with tanh instead of turned into the decoder's mean image. Introduced in 6.6.
"""
from __future__ import annotations

from typing import Callable

import torch

from aigc_course import diffusion
from aigc_course.config import VAEConfig
from aigc_course.exercises import CheckFailed, Question, judge
from aigc_course.vae import build_vae

__all__ = ["q66a", "q66b"]


# --------------------------------------------------------------------------------------------------
# 6.6a Apply: KL of a full-covariance Gaussian fit from the standard normal
# --------------------------------------------------------------------------------------------------

def _kl_full(codes: torch.Tensor) -> torch.Tensor:
    codes = codes.double()
    m, cov = codes.mean(0), torch.cov(codes.T)
    return 0.5 * (torch.trace(cov) + m @ m - codes.shape[1] - torch.logdet(cov))


def _check_kl(fn: Callable) -> str:
    gen = torch.Generator().manual_seed(66)
    d = 5
    mix = torch.randn(d, d, generator=gen, dtype=torch.float64) * 0.6
    codes = torch.randn(4000, d, generator=gen, dtype=torch.float64) @ mix + 0.3 * torch.arange(d)
    m, cov = codes.mean(0), torch.cov(codes.T)
    var = cov.diagonal()
    expected = _kl_full(codes)
    wrong = {
        "that is the KL of a diagonal fit: the codes are correlated, use the full covariance (torch.cov) and its "
        "log-determinant.": 0.5 * (var.sum() + m @ m - d - var.log().sum()),
        "the KL has a factor 1/2 in front.": 2 * expected,
        "the formula subtracts the dimension d (the KL of N(0, I) from itself must be 0).": expected + 0.5 * d,
        "the mean's term m^T m is missing.": expected - 0.5 * (m @ m),
        "that is KL(N(0, I) || N(m, Sigma)), the other direction; here the fit comes first.":
            0.5 * (torch.trace(torch.linalg.inv(cov)) + m @ torch.linalg.solve(cov, m) - d + torch.logdet(cov)),
    }
    judge(fn(codes.clone().float()), expected, wrong, what="KL", atol=2e-3, rtol=2e-3)
    return f"on the checker's correlated 5-D codes the KL is {float(expected):.3f} nats."


q66a = Question(
    "6.6a", "KL(N(m, Sigma) || N(0, I)) of a Gaussian fitted to codes.", _check_kl,
    hints=["m = codes.mean(0); Sigma = torch.cov(codes.T) (the rows of codes.T are the dimensions).",
           "0.5 * (trace(Sigma) + m @ m - d - logdet(Sigma)); compute in float64."],
    solution_code='''def gaussian_fit_kl(codes):
    codes = codes.double()
    m = codes.mean(0)
    cov = torch.cov(codes.T)
    d = codes.shape[1]
    return 0.5 * (torch.trace(cov) + m @ m - d - torch.logdet(cov)).item()''',
)


# --------------------------------------------------------------------------------------------------
# 6.6b Debug: decoding latent samples
# --------------------------------------------------------------------------------------------------

def _models():
    torch.manual_seed(6)
    ldm = diffusion.Diffusion(diffusion.DiffusionConfig(kind="mlp", data_dim=4, hidden=16, depth=1)).eval()
    vae = build_vae(VAEConfig(kind="mlp", z_dim=4, img_size=8, channels=1, hidden=16)).eval()
    with torch.no_grad():
        for p in [*ldm.parameters(), *vae.parameters()]:
            p.add_(0.3 * torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())))
    return ldm, vae


def _check_decode(fn: Callable) -> str:
    ldm, vae = _models()
    with torch.no_grad():
        z = ldm.sample(6, torch.Generator().manual_seed(7), steps=10, sampler="heun")
        logits = vae.decode(z)
        expected = vae.to_image(logits)
        z_norm = (z - z.mean()) / z.std()
        wrong = {
            "that is the original code: the codes need no renormalising, and the decoder's logits become an "
            "image with vae.to_image (2 sigmoid - 1), not tanh.": torch.tanh(vae.decode(z_norm)),
            "the decoding is right now, but the codes must not be renormalised: the model already draws them on "
            "the decoder's scale.": vae.to_image(vae.decode(z_norm)),
            "the codes are right now; the logits become an image with vae.to_image (2 sigmoid(l) - 1 = "
            "tanh(l / 2)), not tanh(l).": torch.tanh(logits),
            "those are the logits themselves: turn them into the decoder's mean image with vae.to_image.": logits,
        }
        got = fn(ldm, vae, 6, torch.Generator().manual_seed(7))
    judge(got, expected, wrong, what="images", atol=1e-5, rtol=1e-4)
    return "samples decoded as the VAE decodes: vae.to_image(vae.decode(z))."


q66b = Question(
    "6.6b", "Fix the decoding of latent samples (two mistakes).", _check_decode,
    hints=["Does the decoder expect normalised codes, or codes like the ones it was trained on?",
           "What does the decoder of a Bernoulli VAE output, and how does 4.4 turn that into an image?"],
    solution_code='''def latent_samples(ldm, vae, n, generator):
    z = ldm.sample(n, generator, steps=10, sampler="heun")
    return vae.to_image(vae.decode(z))''',
)
