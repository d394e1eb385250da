"""aigc_course.gan / vae / nn: shapes for every configuration, gradients, input checks, determinism."""
import itertools

import pytest
import torch
from torch import nn

from aigc_course import losses
from aigc_course.config import GANConfig, VAEConfig
from aigc_course.gan import DCDiscriminator, DCGenerator, MLPDiscriminator, MLPGenerator, build_gan
from aigc_course.nn import View, conv_block, count_parameters, deconv_block, init_dcgan_
from aigc_course.vae import LOGVAR_RANGE, ConvVAE, MLPVAE, VAEOutput, build_vae



def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _labels(cfg, b):
    return torch.arange(b) % cfg.n_classes if cfg.n_classes else None


def _assert_all_grads(*modules, skip=()):
    for module in modules:
        for name, p in module.named_parameters():
            if name in skip:
                continue
            assert p.grad is not None, f"{type(module).__name__}.{name} got no gradient"
            assert torch.isfinite(p.grad).all(), f"{type(module).__name__}.{name} has a non-finite gradient"


# --- GAN shape grid --------------------------------------------------------------------------

DC_GRID = list(itertools.product((28, 32, 64), (1, 3), (0, 10), (False, True), (False, True)))


@pytest.mark.parametrize("size,channels,n_classes,critic,sn", DC_GRID,
                         ids=[f"{s}px-c{c}-cls{k}-critic{int(cr)}-sn{int(sn)}" for s, c, k, cr, sn in DC_GRID])
def test_dcgan_shapes_range_and_gradients(size, channels, n_classes, critic, sn):
    torch.manual_seed(0)
    cfg = GANConfig(kind="dcgan", z_dim=8, img_size=size, channels=channels, width=8,
                    n_classes=n_classes, critic=critic, spectral_norm=sn)
    G, D = build_gan(cfg)
    assert isinstance(G, DCGenerator) and isinstance(D, DCDiscriminator)
    assert (G.z_dim, G.n_classes, G.cfg) == (8, n_classes, cfg)
    y = _labels(cfg, 3)
    x = G(G.noise(3), y)
    assert x.shape == (3, channels, size, size)
    assert x.min() >= -1 and x.max() <= 1
    logits = D(x, y)
    assert logits.shape == (3,)
    logits.sum().backward()
    _assert_all_grads(G, D)
    has_bn = any(isinstance(m, nn.BatchNorm2d) for m in D.modules())
    assert has_bn != critic


MLP_GRID = list(itertools.product((0, 4), (False, True)))


@pytest.mark.parametrize("n_classes,sn", MLP_GRID, ids=[f"cls{k}-sn{int(sn)}" for k, sn in MLP_GRID])
def test_mlp_gan_shapes_and_gradients(n_classes, sn):
    torch.manual_seed(0)
    cfg = GANConfig(kind="mlp", z_dim=3, data_dim=5, hidden=16, depth=2, n_classes=n_classes, spectral_norm=sn)
    G, D = build_gan(cfg)
    assert isinstance(G, MLPGenerator) and isinstance(D, MLPDiscriminator)
    y = _labels(cfg, 7)
    x = G(torch.randn(7, 3), y)
    assert x.shape == (7, 5)
    logits = D(x, y)
    assert logits.shape == (7,)
    logits.sum().backward()
    _assert_all_grads(G, D)


def test_mlp_generator_output_is_unbounded():
    G = MLPGenerator(GANConfig(kind="mlp", z_dim=2, data_dim=2, hidden=8, depth=1))
    with torch.no_grad():
        G.net[-1].bias.fill_(5.0)  # toy data sits at radius ~2-4: no tanh may clip it
        assert G.sample(4).min() > 1.5


def test_default_dcgan_28_parameter_counts():
    """Width 64, z_dim 64, 28x28x1: G 1,329,921 + D 431,937 = 1,761,858 parameters. Shipped weights
    depend on these exact shapes."""
    G, D = build_gan(GANConfig())
    assert (count_parameters(G), count_parameters(D)) == (1_329_921, 431_937)
    assert count_parameters(ConvVAE(VAEConfig(z_dim=16))) == 220_385


def test_dcgan_architecture_details():
    D = DCDiscriminator(GANConfig(img_size=28))
    first = D.features[0]
    assert not any(isinstance(m, nn.BatchNorm2d) for m in first.modules())  # no BN on the input layer
    assert isinstance(first[-1], nn.LeakyReLU) and first[-1].negative_slope == 0.2
    assert isinstance(DCGenerator(GANConfig()).net[-1][-1], nn.Tanh)


def test_dcgan_init_statistics():
    torch.manual_seed(0)
    G = DCGenerator(GANConfig())
    convs = [m for m in G.modules() if isinstance(m, (nn.ConvTranspose2d, nn.Linear))]
    bns = [m for m in G.modules() if isinstance(m, nn.BatchNorm2d)]
    w = torch.cat([m.weight.flatten() for m in convs])
    assert abs(w.std().item() - 0.02) < 1e-3 and abs(w.mean().item()) < 1e-3
    bn_w = torch.cat([m.weight for m in bns])
    assert abs(bn_w.mean().item() - 1) < 0.01 and 0.01 < bn_w.std().item() < 0.03
    assert all((m.bias == 0).all() for m in convs + bns if m.bias is not None)


def test_spectral_norm_bounds_largest_singular_value():
    torch.manual_seed(0)
    D = DCDiscriminator(GANConfig(width=8, critic=True, spectral_norm=True))
    x = torch.randn(4, 1, 28, 28)
    for _ in range(30):  # each training-mode forward runs one power iteration
        D(x)
    D.eval()
    for layer in (D.features[1][0], D.head):
        sigma = torch.linalg.matrix_norm(layer.weight.reshape(layer.weight.shape[0], -1), ord=2)
        assert abs(sigma.item() - 1) < 0.05


def test_gradient_penalty_through_conditional_critic():
    torch.manual_seed(0)
    G, D = build_gan(GANConfig(z_dim=8, width=8, n_classes=3, critic=True, spectral_norm=True))
    y = torch.tensor([0, 1, 2, 0])
    real, fake = torch.rand(4, 1, 28, 28) * 2 - 1, G.sample(4, labels=y).detach()
    gp = losses.gradient_penalty(D, real, fake, labels=y, generator=_gen(0))
    gp.backward()
    _assert_all_grads(D, skip={"head.bias"})  # a constant shift leaves the input gradient unchanged


# --- GAN input checks ------------------------------------------------------------------------

def test_discriminator_rejects_wrong_image_shape_with_a_hint():
    D = DCDiscriminator(GANConfig(width=8))
    with pytest.raises(ValueError) as err:
        D(torch.randn(2, 3, 32, 32))
    msg = str(err.value)
    assert "DCDiscriminator" in msg and "(B, 1, 28, 28)" in msg and "(2, 3, 32, 32)" in msg and "GANConfig" in msg
    with pytest.raises(ValueError, match="floating-point"):
        D(torch.zeros(2, 1, 28, 28, dtype=torch.uint8))
    with pytest.raises(ValueError, match="data_dim"):
        MLPDiscriminator(GANConfig(kind="mlp", data_dim=2))(torch.randn(4, 3))


def test_generator_rejects_wrong_latent_shape():
    G = DCGenerator(GANConfig(z_dim=16, width=8))
    with pytest.raises(ValueError, match=r"\(B, 16\).*z_dim"):
        G(torch.randn(2, 8))
    with pytest.raises(ValueError, match=r"\(B, 16\)"):
        G(torch.randn(2, 16, 1, 1))


def test_label_checks():
    G, D = build_gan(GANConfig(z_dim=8, width=8, n_classes=10))
    z, x = torch.randn(2, 8), torch.randn(2, 1, 28, 28)
    with pytest.raises(ValueError, match="class-conditional.*labels"):
        G(z)
    with pytest.raises(ValueError, match="class-conditional.*labels"):
        D(x)
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        D(x, torch.tensor([3, 10]))
    with pytest.raises(ValueError, match="int64"):
        G(z, torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="int64"):
        G(z, torch.tensor([1, 2, 3]))
    G0, D0 = build_gan(GANConfig(z_dim=8, width=8))
    with pytest.raises(ValueError, match="unconditional"):
        D0(x, torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="unconditional"):
        G0.sample(2, labels=3)


# --- GAN sampling ----------------------------------------------------------------------------

def test_sample_is_reproducible_with_a_generator():
    torch.manual_seed(0)
    G = DCGenerator(GANConfig(z_dim=8, width=8, n_classes=4)).eval()
    a, b = G.sample(6, generator=_gen(1)), G.sample(6, generator=_gen(1))
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not torch.equal(a, G.sample(6, generator=_gen(2)))
    torch.testing.assert_close(G.noise(5, generator=_gen(3)), torch.randn(5, 8, generator=_gen(3)))
    z = G.noise(6, generator=_gen(1))
    torch.testing.assert_close(a, G(z, torch.tensor([0, 1, 2, 3, 0, 1])))  # default labels: arange(n) % n_classes
    torch.testing.assert_close(G.sample(3, labels=2, generator=_gen(1)),
                               G(G.noise(3, generator=_gen(1)), torch.tensor([2, 2, 2])))


# --- memory format and autocast --------------------------------------------------------------

def test_channels_last_matches_contiguous():
    torch.manual_seed(0)
    G, D = build_gan(GANConfig(z_dim=8, width=8, img_size=32, channels=3, n_classes=3))
    vae = ConvVAE(VAEConfig(z_dim=4, width=8, img_size=32, channels=3))
    G.eval(), D.eval()
    z, y = torch.randn(4, 8), torch.tensor([0, 1, 2, 0])
    x = torch.rand(4, 3, 32, 32) * 2 - 1
    ref = (G(z, y), D(x, y), vae.encode(x)[0], vae.decode(torch.randn(4, 4, generator=_gen(0))))
    for m in (G, D, vae):
        m.to(memory_format=torch.channels_last)
    x_cl = x.to(memory_format=torch.channels_last)
    out = (G(z, y), D(x_cl, y), vae.encode(x_cl)[0], vae.decode(torch.randn(4, 4, generator=_gen(0))))
    for a, b in zip(ref, out):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_bf16_autocast_runs_and_stays_close():
    torch.manual_seed(0)
    G, D = build_gan(GANConfig(z_dim=8, width=8, n_classes=3, critic=True))
    vae = ConvVAE(VAEConfig(z_dim=4, width=8))
    z, y, x = torch.randn(4, 8), torch.tensor([0, 1, 2, 0]), torch.rand(4, 1, 28, 28) * 2 - 1
    ref = (G(z, y), D(x, y), vae.encode(x)[0])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = (G(z, y), D(x, y), vae.encode(x)[0])
        loss, _ = vae.loss(x)
    assert torch.isfinite(loss)
    for a, b in zip(ref, out):
        torch.testing.assert_close(a, b.float(), rtol=0.05, atol=0.05)


# --- VAE -------------------------------------------------------------------------------------

VAE_GRID = list(itertools.product(("mlp", "conv"), (28, 32), ("bernoulli", "gaussian"), (1, 3)))


@pytest.mark.parametrize("kind,size,decoder,channels", VAE_GRID,
                         ids=[f"{k}-{s}px-{d}-c{c}" for k, s, d, c in VAE_GRID])
def test_vae_shapes_and_gradients(kind, size, decoder, channels):
    torch.manual_seed(0)
    cfg = VAEConfig(kind=kind, z_dim=4, img_size=size, channels=channels, hidden=32, width=8, decoder=decoder)
    vae = build_vae(cfg)
    assert isinstance(vae, MLPVAE if kind == "mlp" else ConvVAE)
    x = torch.rand(3, channels, size, size) * 2 - 1
    out = vae(x)
    assert isinstance(out, VAEOutput)
    assert out.recon.shape == x.shape and out.mu.shape == out.logvar.shape == out.z.shape == (3, 4)
    assert vae.log_px(x, out.recon).shape == (3,)
    loss, terms = vae.loss(x)
    assert loss.shape == () and set(terms) == {"recon", "kl"}
    loss.backward()
    _assert_all_grads(vae)
    for images in (vae.to_image(out.recon), vae.sample(5), vae.reconstruct(x)):
        assert images.shape[1:] == x.shape[1:] and images.min() >= -1 and images.max() <= 1
    assert vae.log_weights(x, 6).shape == (6, 3)


def test_vae_loss_is_negative_elbo_and_beta_weighs_kl():
    vae = MLPVAE(VAEConfig(kind="mlp", z_dim=3, img_size=8, hidden=16))
    x = torch.rand(5, 1, 8, 8) * 2 - 1
    torch.manual_seed(1)
    loss1, terms = vae.loss(x)
    torch.manual_seed(1)
    out = vae(x)
    log_px, kl = vae.log_px(x, out.recon), losses.gaussian_kl(out.mu, out.logvar)
    torch.testing.assert_close(loss1, -(log_px - kl).mean())
    torch.testing.assert_close(terms["recon"], -log_px.mean())
    torch.testing.assert_close(terms["kl"], kl.mean())
    assert not terms["kl"].requires_grad
    torch.manual_seed(1)
    loss3, _ = vae.loss(x, beta=3.0)
    torch.testing.assert_close(loss3 - loss1, 2 * kl.mean())


def test_vae_log_px_targets():
    """Bernoulli: targets (x + 1) / 2; Gaussian: x itself with the fixed sigma."""
    x = torch.rand(2, 1, 28, 28) * 2 - 1
    recon = torch.randn(2, 1, 28, 28)
    bern = ConvVAE(VAEConfig(width=8))
    torch.testing.assert_close(bern.log_px(x, recon), losses.bernoulli_log_likelihood(recon, (x + 1) / 2))
    torch.testing.assert_close(bern.to_image(recon), 2 * torch.sigmoid(recon) - 1)
    gauss = ConvVAE(VAEConfig(width=8, decoder="gaussian", sigma=0.3))
    torch.testing.assert_close(gauss.log_px(x, recon.tanh()), losses.gaussian_log_likelihood(recon.tanh(), x, 0.3))


def test_vae_clamps_logvar_and_stays_finite():
    vae = ConvVAE(VAEConfig(z_dim=4, width=8))
    x = torch.rand(2, 1, 28, 28) * 2 - 1
    with torch.no_grad():
        vae.encoder[-1].bias[4:].fill_(1e4)  # the second half of the output is logvar
    _, logvar = vae.encode(x)
    assert (logvar == LOGVAR_RANGE[1]).all()
    loss, _ = vae.loss(x)
    assert torch.isfinite(loss)
    assert torch.isfinite(vae.log_weights(x, 3)).all()


def test_vae_sampling_reproducible_and_reconstruct_deterministic():
    vae = ConvVAE(VAEConfig(z_dim=4, width=8))
    torch.testing.assert_close(vae.sample(3, generator=_gen(5)), vae.sample(3, generator=_gen(5)), rtol=0, atol=0)
    x = torch.rand(2, 1, 28, 28) * 2 - 1
    torch.testing.assert_close(vae.reconstruct(x), vae.reconstruct(x), rtol=0, atol=0)


def test_vae_rejects_bad_shapes():
    vae = ConvVAE(VAEConfig(z_dim=4, width=8, img_size=28))
    with pytest.raises(ValueError, match=r"\(B, 1, 28, 28\).*img_size"):
        vae(torch.randn(2, 1, 32, 32))
    with pytest.raises(ValueError, match=r"\(B, 1, 28, 28\)"):
        vae.loss(torch.randn(2, 784))
    with pytest.raises(ValueError, match=r"\(B, 4\).*z_dim"):
        vae.decode(torch.randn(2, 5))


# --- nn blocks -------------------------------------------------------------------------------

def test_blocks_and_count_parameters():
    assert count_parameters(nn.Linear(3, 4)) == 16
    shared = nn.Linear(2, 2)
    assert count_parameters(nn.Sequential(shared, shared)) == 6  # a shared layer counts once
    frozen = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    frozen[0].requires_grad_(False)
    assert count_parameters(frozen) == 9 and count_parameters(frozen, trainable_only=True) == 3
    block = conv_block(3, 8)  # conv (no bias: BN follows) + BN + LeakyReLU
    assert count_parameters(block) == 3 * 8 * 16 + 2 * 8
    assert block(torch.randn(2, 3, 16, 16)).shape == (2, 8, 8, 8)
    up = deconv_block(8, 3, norm=None, act="tanh")
    assert up(torch.randn(2, 8, 8, 8)).shape == (2, 3, 16, 16) and count_parameters(up) == 8 * 3 * 16 + 3
    assert View(4, 2, 2)(torch.randn(5, 16)).shape == (5, 4, 2, 2)
    with pytest.raises(ValueError, match="norm"):
        conv_block(3, 8, norm="layer")
    assert init_dcgan_(block) is block
