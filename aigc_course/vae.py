"""Variational auto-encoders: an MLP VAE and a convolutional VAE with Bernoulli or Gaussian decoders.

The encoder gives q(z|x) = N(mu, diag exp(logvar)); the prior is p(z) = N(0, I); the decoder gives the
parameters of p(x|z):

* ``decoder="bernoulli"``: logits over pixel intensities in [0, 1]. The data live in [-1, 1], so
  the targets are (x + 1) / 2, grey levels included. This is standard practice (Kingma & Welling
  2014) even though, for grey levels, it is a cross-entropy rather than a normalised density.
* ``decoder="gaussian"``: a mean in [-1, 1] (``tanh``) with a fixed standard deviation ``cfg.sigma``.

Images have shape (B, C, H, W) with values in [-1, 1]. Introduced in 4.4 (model, conv VAE), 4.5 (IWAE).
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from . import kinds, losses
from .config import VAEConfig
from .nn import View, check_input, conv_block, deconv_block, mlp, standard_normal

# log-variances are clamped to this range: exp(20) ~ 5e8 and exp(-30) ~ 1e-13 are far outside any
# useful posterior, and the clamp keeps exp(logvar) and exp(-logvar) finite in float32 and bfloat16.
LOGVAR_RANGE = (-30.0, 20.0)


class VAEOutput(NamedTuple):
    """What ``VAE.forward`` returns. Introduced in 4.4."""

    recon: torch.Tensor   # decoder parameters, (B, C, H, W): Bernoulli logits or Gaussian means in [-1, 1]
    mu: torch.Tensor      # posterior means, (B, z_dim)
    logvar: torch.Tensor  # posterior log-variances, (B, z_dim), clamped to LOGVAR_RANGE
    z: torch.Tensor       # reparameterised sample z = mu + exp(logvar / 2) * eps, (B, z_dim)


class _VAE(nn.Module):
    """Shared VAE logic. Subclasses set ``self.encoder`` ((B, C, H, W) -> (B, 2 z_dim)) and
    ``self.decoder`` ((B, z_dim) -> (B, C, H, W) raw outputs)."""

    def __init__(self, cfg: VAEConfig):
        super().__init__()
        self.cfg = cfg
        self.z_dim = cfg.z_dim
        self.data_shape = (cfg.channels, cfg.img_size, cfg.img_size)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Parameters of q(z|x): ``(mu, logvar)``, each (B, z_dim)."""
        check_input(x, self.data_shape, type(self).__name__, "images in [-1, 1]",
                    "check VAEConfig.img_size/channels")
        mu, logvar = self.encoder(x).chunk(2, dim=1)  # (B, z_dim) each
        return mu, logvar.clamp(*LOGVAR_RANGE)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Parameters of p(x|z), (B, C, H, W): Bernoulli logits, or Gaussian means in [-1, 1]."""
        check_input(z, (self.z_dim,), type(self).__name__, "latent vectors z",
                    f"z needs VAEConfig.z_dim={self.z_dim} columns")
        out = self.decoder(z)  # (B, C, H, W)
        return torch.tanh(out) if self.cfg.decoder == "gaussian" else out

    def forward(self, x: torch.Tensor) -> VAEOutput:
        """Encode, draw z = mu + exp(logvar / 2) * eps with eps ~ N(0, I) (reparameterisation), decode."""
        mu, logvar = self.encode(x)  # (B, z_dim) each
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)  # (B, z_dim)
        return VAEOutput(self.decode(z), mu, logvar, z)

    def log_px(self, x: torch.Tensor, recon: torch.Tensor) -> torch.Tensor:
        """log p(x|z) of images x in [-1, 1] under the decoder parameters ``recon``, shape (B,)."""
        if self.cfg.decoder == "gaussian":
            return losses.gaussian_log_likelihood(recon, x, self.cfg.sigma)
        return losses.bernoulli_log_likelihood(recon, (x + 1) / 2)

    def to_image(self, recon: torch.Tensor) -> torch.Tensor:
        """Decoder parameters -> the decoder's mean image in [-1, 1] (Bernoulli: 2 sigmoid(logits) - 1)."""
        return recon if self.cfg.decoder == "gaussian" else 2 * torch.sigmoid(recon) - 1

    def sample(self, n: int, generator: torch.Generator | None = None,
               device: torch.device | str | None = None) -> torch.Tensor:
        """``n`` images in [-1, 1] decoded from z ~ p(z); a CPU ``generator`` reproduces them on any device."""
        device = device or next(self.parameters()).device
        z = standard_normal(n, self.z_dim, generator=generator, device=device)  # (n, z_dim)
        return self.to_image(self.decode(z))  # (n, C, H, W)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Images in [-1, 1] decoded from the posterior means (no sampling noise)."""
        mu, _ = self.encode(x)
        return self.to_image(self.decode(mu))

    def log_weights(self, x: torch.Tensor, K: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Importance log-weights log p(x|z_k) + log p(z_k) - log q(z_k|x), z_k ~ q(z|x): shape (K, B).

        Feed them to ``losses.iwae_bound``; memory grows with K * B, so chunk K for large K.
        """
        mu, logvar = self.encode(x)  # (B, z_dim) each
        eps = standard_normal(K, *mu.shape, generator=generator, device=mu.device)  # (K, B, z_dim)
        z = mu + torch.exp(0.5 * logvar) * eps  # (K, B, z_dim)
        recon = self.decode(z.reshape(-1, self.z_dim))  # (K * B, C, H, W)
        x_rep = x.expand(K, *x.shape).reshape(-1, *x.shape[1:])  # (K * B, C, H, W)
        log_px = self.log_px(x_rep, recon).reshape(K, -1)  # (K, B)
        log_pz = losses.gaussian_log_density(z, 0.0, 0.0)  # (K, B)
        log_qz = losses.gaussian_log_density(z, mu, logvar)  # (K, B)
        return log_px + log_pz - log_qz

    def loss(self, x: torch.Tensor, beta: float = 1.0) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Mean negative ELBO (``beta`` weighs the KL term) and the detached terms
        ``{"recon": -mean log p(x|z), "kl": mean KL}``. Introduced in 4.4."""
        out = self(x)
        log_px = self.log_px(x, out.recon)  # (B,)
        kl = losses.gaussian_kl(out.mu, out.logvar)  # (B,)
        loss = -losses.elbo(log_px, kl, beta).mean()
        return loss, {"recon": -log_px.mean().detach(), "kl": kl.mean().detach()}


class MLPVAE(_VAE):
    """Flattened image -> two ReLU layers of ``hidden`` units -> (mu, logvar); the decoder mirrors it.

    Works for any ``img_size``. Introduced in 4.4.
    """

    def __init__(self, cfg: VAEConfig):
        super().__init__(cfg)
        n_pixels = cfg.channels * cfg.img_size**2
        self.encoder = nn.Sequential(
            nn.Flatten(),  # (B, C*H*W)
            mlp([n_pixels, cfg.hidden, cfg.hidden, 2 * cfg.z_dim]),  # (B, 2 z_dim)
        )
        self.decoder = nn.Sequential(
            mlp([cfg.z_dim, cfg.hidden, cfg.hidden, n_pixels]),  # (B, C*H*W)
            View(*self.data_shape),  # (B, C, H, W)
        )


class ConvVAE(_VAE):
    """Two strided convs (w, 2w feature maps) -> linear to (mu, logvar); the decoder mirrors it with
    transposed convs. 28x28: (B, C, 28, 28) -> (B, w, 14, 14) -> (B, 2w, 7, 7) -> (B, 2 z_dim);
    32x32 likewise via 16 and 8. No batch norm, so samples never interact (IWAE weights stay
    per-sample). Introduced in 4.4.
    """

    def __init__(self, cfg: VAEConfig):
        super().__init__(cfg)
        w, side = cfg.width, cfg.img_size // 4
        self.encoder = nn.Sequential(
            conv_block(cfg.channels, w, norm=None, act="relu"),  # (B, w, H/2, W/2)
            conv_block(w, 2 * w, norm=None, act="relu"),  # (B, 2w, H/4, W/4)
            nn.Flatten(),  # (B, 2w * side^2)
            nn.Linear(2 * w * side * side, 2 * cfg.z_dim),  # (B, 2 z_dim)
        )
        self.decoder = nn.Sequential(
            nn.Linear(cfg.z_dim, 2 * w * side * side),  # (B, 2w * side^2)
            nn.ReLU(inplace=True),
            View(2 * w, side, side),  # (B, 2w, H/4, W/4)
            deconv_block(2 * w, w, norm=None, act="relu"),  # (B, w, H/2, W/2)
            deconv_block(w, cfg.channels, norm=None, act=None),  # (B, C, H, W)
        )


_MODELS = {"mlp": MLPVAE, "conv": ConvVAE}


def build_vae(cfg: VAEConfig) -> _VAE:
    """The VAE ``cfg.kind`` asks for. Introduced in 4.4."""
    return _MODELS[cfg.kind](cfg)


def _build_parts(config: VAEConfig | dict) -> dict[str, nn.Module]:
    return {"model": build_vae(config if isinstance(config, VAEConfig) else VAEConfig.from_dict(config))}


kinds.register(kinds.ModelKind("vae", _build_parts, parts=("model",), sampler="model",
                               doc="encoder + decoder in one module (VAEConfig); trained by train.VAETrainer"))
