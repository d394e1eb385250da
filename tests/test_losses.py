"""aigc_course.losses against closed forms, torch.distributions, finite differences and Monte Carlo."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Bernoulli, MultivariateNormal, Normal, kl_divergence

from aigc_course import losses
from aigc_course.config import GAN_LOSSES, VAEConfig
from aigc_course.vae import build_vae



def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _logits(n=64, scale=3.0, seed=0):
    return torch.randn(n, generator=_gen(seed), dtype=torch.float64) * scale


# --- GAN losses ------------------------------------------------------------------------------

def test_gan_losses_match_log_sigmoid_forms():
    r, f = _logits(seed=0), _logits(seed=1)
    D_r, D_f = torch.sigmoid(r), torch.sigmoid(f)
    torch.testing.assert_close(losses.gan_d_loss(r, f), -(torch.log(D_r).mean() + torch.log(1 - D_f).mean()))
    torch.testing.assert_close(losses.gan_g_saturating(f), torch.log(1 - D_f).mean())
    torch.testing.assert_close(losses.gan_g_nonsaturating(f), -torch.log(D_f).mean())
    torch.testing.assert_close(losses.gan_d_loss(r, f),
                               F.binary_cross_entropy_with_logits(r, torch.ones_like(r))
                               + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f)))


def test_gan_losses_are_finite_for_huge_logits():
    big = torch.tensor([-200.0, 200.0])
    for value in (losses.gan_d_loss(big, big), losses.gan_g_saturating(big), losses.gan_g_nonsaturating(big)):
        assert torch.isfinite(value)
    torch.testing.assert_close(losses.gan_g_nonsaturating(torch.tensor([-200.0])), torch.tensor(200.0))


def test_nonsaturating_gradient_dominates_when_d_rejects_fakes():
    f = torch.tensor([-10.0], requires_grad=True)  # D(G(z)) = sigmoid(-10) ~ 4.5e-5: D wins
    (g_sat,) = torch.autograd.grad(losses.gan_g_saturating(f), f)
    (g_ns,) = torch.autograd.grad(losses.gan_g_nonsaturating(f), f)
    assert g_sat.item() < 0 and g_ns.item() < 0  # both push the fake logit up
    torch.testing.assert_close(g_sat, -torch.sigmoid(torch.tensor([-10.0])))
    assert abs(g_ns.item()) / abs(g_sat.item()) > 1e4  # e^10 ~ 22026


def test_wgan_and_hinge_losses_match_formulas():
    r, f = _logits(seed=2), _logits(seed=3)
    torch.testing.assert_close(losses.wgan_critic_loss(r, f), f.mean() - r.mean())
    torch.testing.assert_close(losses.wgan_g_loss(f), -f.mean())
    torch.testing.assert_close(losses.hinge_d_loss(r, f),
                               torch.clamp(1 - r, min=0).mean() + torch.clamp(1 + f, min=0).mean())
    torch.testing.assert_close(losses.hinge_g_loss(f), -f.mean())


def test_gan_loss_objects():
    """Each TrainConfig.loss name gives the right pair of losses and the right extras (no string checks
    left in the trainer: the objects carry the penalty, the clipping and what to log)."""
    expect = {"bce": (losses.gan_d_loss, losses.gan_g_nonsaturating), "saturating": (losses.gan_d_loss,
              losses.gan_g_saturating), "hinge": (losses.hinge_d_loss, losses.hinge_g_loss),
              "wgan-gp": (losses.wgan_critic_loss, losses.wgan_g_loss),
              "wgan-clip": (losses.wgan_critic_loss, losses.wgan_g_loss)}
    assert set(expect) == set(GAN_LOSSES)
    for name, pair in expect.items():
        loss = losses.gan_loss(name, gp_weight=5.0, clip_value=0.05)
        assert (loss.d_loss, loss.g_loss) == pair and loss.name == name
        assert loss.probabilities == (name in ("bce", "saturating"))
        assert loss.wasserstein == name.startswith("wgan")
        assert loss.gp_weight == (5.0 if name == "wgan-gp" else 0.0)
        assert loss.clip_value == (0.05 if name == "wgan-clip" else 0.0)
    with pytest.raises(ValueError, match="wgan-gp"):
        losses.gan_loss("wgan")


def test_gan_loss_penalty_and_clipping():
    critic = torch.nn.Linear(3, 1)
    real, fake = torch.randn(4, 3), torch.randn(4, 3)
    assert losses.gan_loss("bce").penalty(critic, real, fake, None, None) is None
    gp = losses.gan_loss("wgan-gp").penalty(lambda x: critic(x).squeeze(1), real, fake, None, None)
    norm = critic.weight.norm()  # a linear critic's input gradient is w everywhere
    torch.testing.assert_close(gp, (norm - 1) ** 2)
    with torch.no_grad():
        critic.weight.fill_(1.0)
    losses.gan_loss("wgan-clip", clip_value=0.01).after_d_step(critic)
    assert critic.weight.abs().max().item() == pytest.approx(0.01)
    with torch.no_grad():
        critic.weight.fill_(1.0)
    losses.gan_loss("hinge").after_d_step(critic)  # no clipping for other losses
    assert critic.weight.abs().max().item() == 1.0


# --- gradient penalty ------------------------------------------------------------------------

def _linear_critic(w):
    return lambda x: (x * w).reshape(x.shape[0], -1).sum(dim=1)  # f(x) = <w, x>, gradient w everywhere


@pytest.mark.parametrize("shape", [(2,), (1, 4, 4), (3, 5, 5)], ids=["vector", "grey-image", "rgb-image"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradient_penalty_of_linear_critic_is_norm_minus_one_squared(shape, seed):
    g = _gen(seed)
    w = torch.randn(shape, generator=g, dtype=torch.float64) * (0.2 + seed)  # norms below and above 1
    real = torch.randn(8, *shape, generator=g, dtype=torch.float64)
    fake = torch.randn(8, *shape, generator=g, dtype=torch.float64)
    gp = losses.gradient_penalty(_linear_critic(w), real, fake, generator=g)
    torch.testing.assert_close(gp, (w.norm() - 1) ** 2)


def test_gradient_penalty_is_differentiable_in_critic_parameters():
    g = _gen(0)
    real, fake = torch.randn(6, 1, 3, 3, generator=g, dtype=torch.float64), torch.randn(6, 1, 3, 3, dtype=torch.float64)
    w = (torch.randn(1, 3, 3, generator=g, dtype=torch.float64) * 0.5).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda w: losses.gradient_penalty(_linear_critic(w), real, fake), (w,))
    (grad,) = torch.autograd.grad(losses.gradient_penalty(_linear_critic(w), real, fake), w)
    n = w.detach().norm()
    torch.testing.assert_close(grad, 2 * (n - 1) * w.detach() / n)  # d/dw (||w|| - 1)^2


def test_gradient_penalty_norm_is_per_sample_and_passes_labels():
    x = torch.randn(5, 2, 3, generator=_gen(4), dtype=torch.float64)
    labels = torch.arange(5)
    seen = {}

    def critic(x_hat, y):  # f(x) = ||x||^2 / 2, gradient x: penalty mean_i (||x_i|| - 1)^2 when real == fake
        seen["labels"] = y
        return 0.5 * x_hat.pow(2).sum(dim=(1, 2))

    gp = losses.gradient_penalty(critic, x, x.clone(), labels=labels)
    torch.testing.assert_close(gp, ((x.reshape(5, -1).norm(dim=1) - 1) ** 2).mean())
    assert seen["labels"] is labels


def test_gradient_penalty_reproducible_with_generator_and_rejects_mismatch():
    critic = lambda x: torch.tanh(x).pow(2).sum(dim=1)  # noqa: E731 - nonlinear: depends on the interpolates
    real, fake = torch.randn(16, 2), torch.randn(16, 2)
    a = losses.gradient_penalty(critic, real, fake, generator=_gen(7))
    b = losses.gradient_penalty(critic, real, fake, generator=_gen(7))
    c = losses.gradient_penalty(critic, real, fake, generator=_gen(8))
    assert a == b and a != c
    with pytest.raises(ValueError, match="same shape"):
        losses.gradient_penalty(critic, real, torch.randn(16, 3))


# --- VAE terms -------------------------------------------------------------------------------

def _posterior(b=32, z=6, seed=0):
    g = _gen(seed)
    return torch.randn(b, z, generator=g, dtype=torch.float64), torch.randn(b, z, generator=g, dtype=torch.float64)


def test_gaussian_kl_matches_torch_distributions():
    mu, logvar = _posterior()
    expected = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(-1)
    torch.testing.assert_close(losses.gaussian_kl(mu, logvar), expected)
    assert torch.all(losses.gaussian_kl(torch.zeros(3, 4), torch.zeros(3, 4)) == 0)
    with pytest.raises(ValueError, match="same shape"):
        losses.gaussian_kl(mu, logvar[:, :3])


def test_gaussian_kl_matches_monte_carlo_estimate():
    mu, logvar = _posterior(b=4, z=3, seed=1)
    mu, logvar = mu * 0.5, logvar * 0.5
    z = mu + torch.exp(0.5 * logvar) * torch.randn(200_000, *mu.shape, generator=_gen(2), dtype=torch.float64)
    mc = (losses.gaussian_log_density(z, mu, logvar) - losses.gaussian_log_density(z, 0.0, 0.0)).mean(0)
    torch.testing.assert_close(mc, losses.gaussian_kl(mu, logvar), atol=0.02, rtol=0.01)


def test_gaussian_log_density_matches_normal():
    mu, logvar = _posterior(seed=3)
    z = torch.randn(5, *mu.shape, dtype=torch.float64)
    expected = Normal(mu, torch.exp(0.5 * logvar)).log_prob(z).sum(-1)  # (5, B)
    torch.testing.assert_close(losses.gaussian_log_density(z, mu, logvar), expected)
    torch.testing.assert_close(losses.gaussian_log_density(z, 0.0, 0.0), Normal(0.0, 1.0).log_prob(z).sum(-1))


def test_bernoulli_log_likelihood_matches_distribution():
    g = _gen(5)
    logits = torch.randn(4, 1, 6, 6, generator=g, dtype=torch.float64) * 4
    binary = (torch.rand(4, 1, 6, 6, generator=g, dtype=torch.float64) > 0.5).double()
    expected = Bernoulli(logits=logits).log_prob(binary).reshape(4, -1).sum(1)
    torch.testing.assert_close(losses.bernoulli_log_likelihood(logits, binary), expected)
    grey = torch.rand(4, 1, 6, 6, generator=g, dtype=torch.float64)  # grey levels: the cross-entropy form
    expected = Bernoulli(logits=logits, validate_args=False).log_prob(grey).reshape(4, -1).sum(1)
    torch.testing.assert_close(losses.bernoulli_log_likelihood(logits, grey), expected)
    assert torch.isfinite(losses.bernoulli_log_likelihood(torch.full((1, 3), 500.0), torch.zeros(1, 3))).all()


def test_gaussian_log_likelihood_matches_distribution():
    g = _gen(6)
    mean, x = torch.randn(3, 2, 4, 4, generator=g, dtype=torch.float64), torch.randn(3, 2, 4, 4, dtype=torch.float64)
    for sigma in (0.1, 1.0, 2.5):
        expected = Normal(mean, sigma).log_prob(x).reshape(3, -1).sum(1)
        torch.testing.assert_close(losses.gaussian_log_likelihood(mean, x, sigma), expected)
    with pytest.raises(ValueError, match="sigma"):
        losses.gaussian_log_likelihood(mean, x, 0.0)


def test_elbo_formula():
    log_px, kl = torch.tensor([-10.0, -20.0]), torch.tensor([1.0, 3.0])
    torch.testing.assert_close(losses.elbo(log_px, kl), torch.tensor([-11.0, -23.0]))
    torch.testing.assert_close(losses.elbo(log_px, kl, beta=4.0), torch.tensor([-14.0, -32.0]))
    with pytest.raises(ValueError, match="same shape"):
        losses.elbo(log_px, kl[:1])


def test_iwae_bound_equals_log_mean_exp_in_float64():
    log_w = -200 + 5 * torch.randn(50, 7, generator=_gen(8))  # exp(-200) underflows in float32
    assert (torch.log(torch.exp(log_w).mean(0)) == -math.inf).all()  # the naive float32 formula fails
    expected = torch.log(torch.exp(log_w.double()).mean(0))
    torch.testing.assert_close(losses.iwae_bound(log_w).double(), expected)
    with pytest.raises(ValueError, match=r"\(K, B\)"):
        losses.iwae_bound(log_w[0])


def _small_vae():
    torch.manual_seed(0)
    model = build_vae(VAEConfig(kind="mlp", z_dim=4, img_size=6, hidden=32))
    with torch.no_grad():  # make p(x|z) depend strongly on z, so the importance weights vary
        for p in model.decoder.parameters():
            p.mul_(3)
    x = (torch.rand(64, 1, 6, 6, generator=_gen(9)) > 0.5).float() * 2 - 1
    return model, x


def test_iwae_with_one_sample_is_the_single_sample_elbo_estimate():
    model, x = _small_vae()
    with torch.no_grad():
        log_w = model.log_weights(x, 1, generator=_gen(10))  # (1, B)
        mu, logvar = model.encode(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn(1, *mu.shape, generator=_gen(10))[0]
        expected = (model.log_px(x, model.decode(z)) + losses.gaussian_log_density(z, 0.0, 0.0)
                    - losses.gaussian_log_density(z, mu, logvar))
    assert log_w.shape == (1, 64)
    torch.testing.assert_close(losses.iwae_bound(log_w), expected)


def test_iwae_bound_grows_with_k():
    model, x = _small_vae()
    with torch.no_grad():
        bounds = [losses.iwae_bound(model.log_weights(x, k, generator=_gen(11))).mean().item() for k in (1, 5, 50)]
    assert bounds[0] < bounds[1] < bounds[2], bounds


def test_bounds_on_linear_gaussian_model():
    """p(z) = N(0, I), p(x|z) = N(Wz + b, s^2 I): log p(x) is known in closed form. With the exact
    (here diagonal) posterior every importance weight equals p(x); with a worse q the ELBO is
    far below log p(x) and IWAE with large K nearly reaches it."""
    W = torch.tensor([[2.0, 0.0], [0.0, 1.0], [0.0, 0.0]], dtype=torch.float64)  # orthogonal columns
    b, s = torch.tensor([0.5, -1.0, 0.2], dtype=torch.float64), 0.7
    x = torch.randn(5, 3, generator=_gen(12), dtype=torch.float64)
    log_px = MultivariateNormal(b, W @ W.T + s**2 * torch.eye(3, dtype=torch.float64)).log_prob(x)  # (5,)
    post_var = 1 / (1 + (W**2).sum(0) / s**2)  # diagonal because W^T W is
    post_mu = (x - b) @ W / s**2 * post_var  # (5, 2)

    def log_w(mu, logvar, K):
        z = mu + torch.exp(0.5 * logvar) * torch.randn(K, *mu.shape, generator=_gen(13), dtype=torch.float64)
        lik = losses.gaussian_log_likelihood((z @ W.T + b).reshape(-1, 3), x.repeat(K, 1), s).reshape(K, -1)
        return lik + losses.gaussian_log_density(z, 0.0, 0.0) - losses.gaussian_log_density(z, mu, logvar)

    exact = log_w(post_mu, post_var.log().expand_as(post_mu), 10)
    torch.testing.assert_close(exact, log_px.expand(10, 5))
    rough_mu, rough_logvar = post_mu + 0.5, torch.zeros_like(post_mu)
    elbo_mc = log_w(rough_mu, rough_logvar, 20_000).mean(0)
    iwae = losses.iwae_bound(log_w(rough_mu, rough_logvar, 1000))
    assert torch.all(log_px - elbo_mc > 1.0)  # the ELBO pays KL(q || posterior), here several nats
    assert torch.all((log_px - iwae).abs() < 0.2)  # IWAE with K = 1000 is nearly tight
