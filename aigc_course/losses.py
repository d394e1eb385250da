r"""Loss functions and bounds of GANs and VAEs: pure functions on tensors.

They take discriminator **logits** (never probabilities) and use the stable forms
:math:`\log \sigma(t) = -\operatorname{softplus}(-t)` and
:math:`\log(1 - \sigma(t)) = -\operatorname{softplus}(t)`, and ``logsumexp`` for averages of
exponentials, so large logits never give ``inf``/``nan``. Each docstring holds the formula and the
chapter that derives it; ``tests/test_losses.py`` checks each against a closed form.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from .config import GAN_LOSSES

Tensor = torch.Tensor


def _same_shape(a: Tensor, b: Tensor, names: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{names} must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")


def _flat_sum(t: Tensor) -> Tensor:
    """Sum over every non-batch dimension: (B, ...) -> (B,)."""
    return t.reshape(t.shape[0], -1).sum(dim=1)


# --- GAN losses (chapter 2) -------------------------------------------------------------------

def gan_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    r"""Discriminator loss of the original GAN (binary cross-entropy), a scalar.

    .. math:: L_D = -\mathbb{E}_x[\log D(x)] - \mathbb{E}_z[\log(1 - D(G(z)))]
              = \overline{\operatorname{softplus}(-r)} + \overline{\operatorname{softplus}(f)}

    with :math:`D = \sigma(\text{logit})`. Introduced in 2.1.
    """
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def gan_g_saturating(fake_logits: Tensor) -> Tensor:
    r"""Generator loss of the minimax game (it *saturates*: tiny gradients when D wins), a scalar.

    .. math:: L_G = \mathbb{E}_z[\log(1 - D(G(z)))] = -\overline{\operatorname{softplus}(f)}

    Introduced in 2.1.
    """
    return -F.softplus(fake_logits).mean()


def gan_g_nonsaturating(fake_logits: Tensor) -> Tensor:
    r"""Non-saturating generator loss (the "log D trick"), a scalar.

    .. math:: L_G = -\mathbb{E}_z[\log D(G(z))] = \overline{\operatorname{softplus}(-f)}

    Its gradient is strong when D rejects the fakes (the minimax loss's vanishes there). It is not the
    same objective as the minimax loss: against the optimal D, held fixed during the generator's step,
    its expected gradient is that of :math:`\mathrm{KL}(p_g \| p_{data}) - 2\,\mathrm{JSD}(p_g \| p_{data})
    = 2\,\mathrm{KL}(\tfrac12(p_g + p_{data}) \| p_{data})` (Arjovsky & Bottou 2017, Theorem 2.5), not
    that of the JSD. Both are smallest only at :math:`p_g = p_{data}`. Introduced in 2.2.
    """
    return F.softplus(-fake_logits).mean()


def wgan_critic_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    r"""Wasserstein critic loss (minimised; its negative estimates :math:`W_1` for a 1-Lipschitz critic).

    .. math:: L_C = \mathbb{E}_z[f(G(z))] - \mathbb{E}_x[f(x)]

    Introduced in 2.4.
    """
    return fake_scores.mean() - real_scores.mean()


def wgan_g_loss(fake_scores: Tensor) -> Tensor:
    r"""Wasserstein generator loss.

    .. math:: L_G = -\mathbb{E}_z[f(G(z))]

    Introduced in 2.4.
    """
    return -fake_scores.mean()


def gradient_penalty(critic: Callable[..., Tensor], real: Tensor, fake: Tensor,
                     labels: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
    r"""WGAN-GP gradient penalty (Gulrajani et al. 2017), a scalar.

    .. math:: \hat x_i = \epsilon_i x_i + (1 - \epsilon_i)\tilde x_i,\quad \epsilon_i \sim U(0, 1),\qquad
              GP = \frac{1}{B}\sum_i \big(\lVert \nabla_{\hat x} f(\hat x_i) \rVert_2 - 1\big)^2

    The norm is taken **per sample** over all non-batch dimensions (works for vectors (B, D) and
    images (B, C, H, W)). ``create_graph=True`` keeps the penalty differentiable with respect to
    the critic's parameters. ``labels`` are passed on to a conditional critic; ``generator``
    (e.g. a seeded CPU ``torch.Generator``) makes the :math:`\epsilon_i` reproducible.
    Introduced in 2.4.
    """
    _same_shape(real, fake, "gradient_penalty: real and fake batches")
    eps_shape = (real.shape[0],) + (1,) * (real.dim() - 1)  # (B, 1, ..., 1)
    if generator is None:
        eps = torch.rand(eps_shape, device=real.device)
    else:
        eps = torch.rand(eps_shape, generator=generator, device=generator.device).to(real.device)
    eps = eps.to(real.dtype)
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    scores = critic(x_hat) if labels is None else critic(x_hat, labels)  # (B,)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)  # (B, ...)
    norms = torch.linalg.vector_norm(grad.reshape(grad.shape[0], -1), dim=1)  # (B,)
    return ((norms - 1) ** 2).mean()


def hinge_d_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    r"""Hinge discriminator loss (used with spectral norm in SNGAN/BigGAN), a scalar.

    .. math:: L_D = \mathbb{E}_x[\max(0, 1 - D(x))] + \mathbb{E}_z[\max(0, 1 + D(G(z)))]

    Introduced in 2.4.
    """
    return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()


def hinge_g_loss(fake_scores: Tensor) -> Tensor:
    r"""Hinge generator loss (the same as the Wasserstein one).

    .. math:: L_G = -\mathbb{E}_z[D(G(z))]

    Introduced in 2.4.
    """
    return wgan_g_loss(fake_scores)


@dataclass(frozen=True)
class GANLoss:
    """One GAN objective as the trainer uses it: D's loss, G's loss and what comes with them.

    ``penalty`` (WGAN-GP) is added to D's loss with weight ``gp_weight``; ``clip_value`` > 0 clamps D's
    weights after each step (the original WGAN). ``probabilities``: D's outputs are logits of
    P(real), so the trainer logs sigmoid means; ``wasserstein``: it logs E f(x) - E f(G(z)).
    Build one with :func:`gan_loss`. Introduced in 2.4.
    """

    name: str
    d_loss: Callable[[Tensor, Tensor], Tensor]   # (real outputs (B,), fake outputs (B,)) -> scalar
    g_loss: Callable[[Tensor], Tensor]           # fake outputs (B,) -> scalar
    probabilities: bool = False
    wasserstein: bool = False
    gp_weight: float = 0.0
    clip_value: float = 0.0

    def penalty(self, critic: Callable[..., Tensor], real: Tensor, fake: Tensor, labels: Tensor | None,
                generator: torch.Generator | None) -> Tensor | None:
        """The gradient penalty to add (times ``gp_weight``) to D's loss, or None."""
        return gradient_penalty(critic, real, fake, labels, generator) if self.gp_weight > 0 else None

    @torch.no_grad()
    def after_d_step(self, critic: torch.nn.Module) -> None:
        """Weight clipping to [-c, c] when ``clip_value`` > 0 (nothing otherwise)."""
        if self.clip_value > 0:
            for p in critic.parameters():
                p.clamp_(-self.clip_value, self.clip_value)


_GAN_LOSS_TABLE: dict[str, dict] = {
    "bce": dict(d_loss=gan_d_loss, g_loss=gan_g_nonsaturating, probabilities=True),
    "saturating": dict(d_loss=gan_d_loss, g_loss=gan_g_saturating, probabilities=True),
    "hinge": dict(d_loss=hinge_d_loss, g_loss=hinge_g_loss),
    "wgan-gp": dict(d_loss=wgan_critic_loss, g_loss=wgan_g_loss, wasserstein=True, uses="gp_weight"),
    "wgan-clip": dict(d_loss=wgan_critic_loss, g_loss=wgan_g_loss, wasserstein=True, uses="clip_value"),
}


def gan_loss(name: str, *, gp_weight: float = 10.0, clip_value: float = 0.01) -> GANLoss:
    """The :class:`GANLoss` for a ``TrainConfig.loss`` name: ``"bce"`` (the non-saturating GAN),
    ``"saturating"``, ``"hinge"``, ``"wgan-gp"`` (with ``gp_weight``) or ``"wgan-clip"`` (``clip_value``).
    Introduced in 2.4."""
    if name not in _GAN_LOSS_TABLE:
        raise ValueError(f"unknown GAN loss {name!r}; use one of {GAN_LOSSES}")
    spec = dict(_GAN_LOSS_TABLE[name])
    uses = spec.pop("uses", None)
    extra = {"gp_weight": gp_weight} if uses == "gp_weight" else {"clip_value": clip_value} if uses else {}
    return GANLoss(name, **spec, **extra)


# --- VAE terms (chapter 3) --------------------------------------------------------------------

def gaussian_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    r"""KL divergence of a diagonal Gaussian from the standard normal, per sample: (B, Z) -> (B,).

    .. math:: \mathrm{KL}\big(\mathcal N(\mu, \operatorname{diag}\sigma^2)\,\|\,\mathcal N(0, I)\big)
              = \tfrac12 \sum_j \big(\mu_j^2 + \sigma_j^2 - 1 - \log \sigma_j^2\big)

    with ``logvar`` :math:`= \log\sigma^2`. Introduced in 3.3.
    """
    _same_shape(mu, logvar, "gaussian_kl: mu and logvar")
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(dim=-1)


def gaussian_log_density(z: Tensor, mu: Tensor | float, logvar: Tensor | float) -> Tensor:
    r"""Log-density of a diagonal Gaussian, summed over the last (latent) dimension: (..., Z) -> (...).

    .. math:: \log \mathcal N(z; \mu, \operatorname{diag}\sigma^2)
              = -\tfrac12 \sum_j \Big(\log 2\pi + \log\sigma_j^2 + \frac{(z_j - \mu_j)^2}{\sigma_j^2}\Big)

    ``mu``/``logvar`` broadcast against ``z`` (pass ``0.0, 0.0`` for the prior :math:`\mathcal N(0, I)`).
    Used for the importance weights of the IWAE bound. Introduced in 3.4.
    """
    logvar = torch.as_tensor(logvar, dtype=z.dtype, device=z.device)
    return -0.5 * (math.log(2 * math.pi) + logvar + (z - mu).pow(2) * torch.exp(-logvar)).sum(dim=-1)


def bernoulli_log_likelihood(logits: Tensor, target01: Tensor) -> Tensor:
    r"""Bernoulli log-likelihood of targets in [0, 1] given logits, summed over all non-batch dims: (B,).

    .. math:: \log p(x \mid z) = \sum_i \big(x_i \log \sigma(\ell_i) + (1 - x_i)\log(1 - \sigma(\ell_i))\big)
              = \sum_i \big(x_i \ell_i - \operatorname{softplus}(\ell_i)\big)

    For grey levels strictly between 0 and 1 this is the usual cross-entropy, not a normalised
    density (see the continuous Bernoulli of Loaiza-Ganem & Cunningham 2019). Introduced in 3.4.
    """
    _same_shape(logits, target01, "bernoulli_log_likelihood: logits and targets")
    return _flat_sum(target01 * logits - F.softplus(logits))


def continuous_bernoulli_log_norm(logits: Tensor) -> Tensor:
    r"""Log of the normalising constant of the continuous Bernoulli (Loaiza-Ganem & Cunningham 2019), per pixel.

    The continuous Bernoulli density on [0, 1] is :math:`p(x \mid \lambda) = C(\lambda)\,\lambda^x(1-\lambda)^{1-x}`
    with :math:`\lambda = \sigma(\ell)` and

    .. math:: C(\lambda) = \frac{2\,\operatorname{artanh}(1 - 2\lambda)}{1 - 2\lambda} = \frac{\ell}{\tanh(\ell/2)},
              \qquad C(\tfrac12) = 2,

    (because :math:`1 - 2\lambda = -\tanh(\ell/2)` and :math:`2\operatorname{artanh}(1-2\lambda) = -\ell`); near
    :math:`\ell = 0` the series :math:`\log 2 + \ell^2/12` is used. Introduced in 3.4.
    """
    small = logits.abs() < 1e-3
    safe = torch.where(small, torch.ones_like(logits), logits)
    exact = torch.log(safe / torch.tanh(safe / 2))
    return torch.where(small, math.log(2.0) + logits.pow(2) / 12, exact)


def continuous_bernoulli_log_likelihood(logits: Tensor, target01: Tensor) -> Tensor:
    r"""Log-density of targets in [0, 1] under a continuous Bernoulli with these logits, summed per sample: (B,).

    The Bernoulli cross-entropy plus the log normaliser: a proper density on :math:`[0, 1]^D`, which the
    plain Bernoulli "likelihood" of grey levels is not. Introduced in 3.4.
    """
    return bernoulli_log_likelihood(logits, target01) + _flat_sum(continuous_bernoulli_log_norm(logits))


def gaussian_log_likelihood(mean: Tensor, x: Tensor, sigma: float) -> Tensor:
    r"""Gaussian log-likelihood with a fixed scalar standard deviation, summed over non-batch dims: (B,).

    .. math:: \log p(x \mid z) = \sum_i \Big(-\frac{(x_i - \mu_i)^2}{2\sigma^2} - \log\sigma - \tfrac12\log 2\pi\Big)

    Introduced in 3.4.
    """
    _same_shape(mean, x, "gaussian_log_likelihood: mean and x")
    if not sigma > 0:
        raise ValueError(f"gaussian_log_likelihood: sigma must be > 0, got {sigma!r}")
    per_dim = -0.5 * ((x - mean) / sigma).pow(2) - math.log(sigma) - 0.5 * math.log(2 * math.pi)
    return _flat_sum(per_dim)


def elbo(log_px: Tensor, kl: Tensor, beta: float = 1.0) -> Tensor:
    r"""Evidence lower bound per sample (beta-VAE when ``beta != 1``): (B,).

    .. math:: \mathrm{ELBO}(x) = \mathbb{E}_{q(z\mid x)}[\log p(x \mid z)]
              - \beta\,\mathrm{KL}\big(q(z \mid x)\,\|\,p(z)\big) \le \log p(x) \quad(\beta = 1)

    Introduced in 3.1.
    """
    _same_shape(log_px, kl, "elbo: log_px and kl")
    return log_px - beta * kl


def iwae_bound(log_w: Tensor) -> Tensor:
    r"""Importance-weighted bound from K log-weights per sample: (K, B) -> (B,).

    .. math:: \mathcal L_K(x) = \log \frac1K \sum_{k=1}^K w_k,\qquad
              \log w_k = \log p(x \mid z_k) + \log p(z_k) - \log q(z_k \mid x),\ z_k \sim q(z \mid x)

    Computed as ``logsumexp - log K`` (no under/overflow). :math:`\mathcal L_1` is the one-sample
    ELBO estimate and :math:`\mathcal L_K` grows towards :math:`\log p(x)` as K grows
    (Burda et al. 2016). Introduced in 3.4.
    """
    if log_w.dim() != 2:
        raise ValueError(f"iwae_bound expects log-weights of shape (K, B), got {tuple(log_w.shape)}")
    return torch.logsumexp(log_w, dim=0) - math.log(log_w.shape[0])
