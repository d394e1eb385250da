"""aigc_course.train: smoke training per recipe, every GAN loss, n_critic, EMA, callbacks, bit-exact
resume, the NaN guard and DDP (2 CPU processes under torchrun)."""
import hashlib
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from aigc_course import data, kinds, losses, recipes, runtime
from aigc_course.checkpoint import load_checkpoint
from aigc_course.config import GAN_LOSSES, GANConfig, TrainConfig, VAEConfig
from aigc_course.errors import TrainingDiverged
from aigc_course.train import History, SampleGrid, train_gan, train_vae

HERE = Path(__file__).parent



def synthetic_images(n=256, seed=0):
    """uint8 (n, 1, 28, 28) bright rectangles on black, labels = 10 position classes."""
    g = torch.Generator().manual_seed(seed)
    images = torch.zeros(n, 1, 28, 28, dtype=torch.uint8)
    top, left = torch.randint(0, 18, (n,), generator=g), torch.randint(0, 18, (n,), generator=g)
    for i in range(n):
        images[i, 0, top[i]:top[i] + 10, left[i]:left[i] + 10] = 255
    return images, (top * 10 // 18).long()


def state_hash(module):
    h = hashlib.sha256()
    for k, v in module.state_dict().items():
        h.update(k.encode())
        h.update(v.detach().contiguous().cpu().numpy().tobytes())
    return h.hexdigest()


def tiny(recipe):
    """The recipe's architecture at test size."""
    if recipe.kind == "vae":
        return recipe.model.replace(width=8)
    if recipe.model.kind == "mlp":
        return recipe.model.replace(hidden=32)
    return recipe.model.replace(width=8, z_dim=16)


def loader_for(recipe, batch_size=32, seed=0):
    if recipe.data.startswith("toy2d:"):
        return data.TensorLoader(data.toy2d(recipe.data[6:], 2048), batch_size=batch_size, seed=seed, device="cpu")
    images, labels = synthetic_images()
    return data.TensorLoader(images, labels, batch_size=batch_size, seed=seed, device="cpu")


def build(kind, model_cfg, seed=0):
    runtime.set_seed(seed)
    return kinds.build(kind, model_cfg)


def run_gan(model_cfg, cfg, seed=0, **kw):
    m = build("gan", model_cfg, seed)
    recipe = recipes.get_recipe("dcgan-fashion" if model_cfg.kind == "dcgan" else "gan-8gaussians")
    return train_gan(m["generator"], m["discriminator"], loader_for(recipe, cfg.batch_size), cfg, progress=False, **kw)


# --- History --------------------------------------------------------------------------------

def test_history_round_trip_and_arrays():
    h = History()
    h.log(10, d_loss=1.5, g_loss=0.5)
    h.log(20, d_loss=1.0, g_loss=0.7)
    steps, values = h.as_arrays("d_loss")
    assert steps.tolist() == [10, 20] and values.tolist() == [1.5, 1.0]
    assert h.last("g_loss") == 0.7 and "g_loss" in h
    assert History.from_dict(h.to_dict()).logs == h.logs
    with pytest.raises(KeyError, match="d_loss"):
        h.last("kl")


# --- a smoke run per recipe -----------------------------------------------------------------

@pytest.mark.parametrize("name", [n for n, r in recipes.RECIPES.items() if r.kind == "gan" and r.model.kind == "dcgan"])
def test_image_gan_recipe_smoke(name):
    """A few steps of each image-GAN recipe at tiny width: losses finite, and D (or the critic) has
    learnt to tell real from fake (a sign error in a loss would reverse this)."""
    recipe = recipes.get_recipe(name)
    cfg = recipe.quick.replace(steps=12 if recipe.quick.n_critic == 1 else 6, batch_size=32, log_every=3,
                               sample_every=0, ema=0.9, channels_last=True)
    res = run_gan(tiny(recipe), cfg)
    for key in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert all(math.isfinite(v) for _, v in res.history.logs[key]), key
    assert res.steps == cfg.steps and res.images_per_s > 0 and res.ema is not None
    if cfg.loss == "wgan-gp":
        assert res.history.last("wasserstein") > 0  # the critic scores real above fake
        assert "gp" in res.history
    else:
        assert res.history.last("d_real") > res.history.last("d_fake")  # D(x) > D(G(z))


def test_gan_8gaussians_moves_samples_to_the_modes():
    """Mean distance of G's samples to the nearest of the 8 modes falls by > 25% in 150 steps."""
    recipe = recipes.get_recipe("gan-8gaussians")
    modes = data.toy2d_modes("8gaussians")
    m = build("gan", recipe.model)
    G = m["generator"]

    def distance():
        with torch.no_grad():
            x = G.sample(2000, generator=torch.Generator().manual_seed(1))
        return torch.cdist(x, modes).min(dim=1).values.mean().item()

    before = distance()
    cfg = recipe.quick.replace(steps=150, sample_every=0)
    train_gan(G, m["discriminator"], data.toy2d("8gaussians", 10_000), cfg, progress=False)  # a plain tensor
    assert distance() < 0.75 * before


@pytest.mark.parametrize("name", [n for n, r in recipes.RECIPES.items() if r.kind == "vae"])
def test_vae_recipe_lowers_its_loss(name):
    recipe = recipes.get_recipe(name)
    cfg = recipe.quick.replace(steps=40, batch_size=32, log_every=5, sample_every=0)
    model = build("vae", tiny(recipe))["model"]
    res = train_vae(model, loader_for(recipe), cfg, progress=False)
    steps, loss = res.history.as_arrays("loss")
    assert steps[-1] == 40 and {"recon", "kl"} <= set(res.history.names())
    assert loss[-1] < 0.8 * loss[0]


# --- losses, n_critic, clipping, callbacks --------------------------------------------------------

@pytest.mark.parametrize("loss", GAN_LOSSES)
def test_every_gan_loss_and_n_critic(loss):
    """Each loss runs; D takes n_critic batches per G step; wgan-clip keeps D's weights in range."""
    model_cfg = GANConfig(kind="mlp", z_dim=2, data_dim=2, hidden=16, depth=2)
    cfg = TrainConfig(steps=4, batch_size=64, n_critic=3, loss=loss, log_every=2, clip_value=0.05)
    m = build("gan", model_cfg)
    loader = data.TensorLoader(data.toy2d("8gaussians", 1024), batch_size=64, device="cpu")
    res = train_gan(m["generator"], m["discriminator"], loader, cfg, progress=False)
    state = loader.state_dict()
    assert state["epoch"] * len(loader) + state["position"] == cfg.steps * cfg.n_critic
    assert np.isfinite(res.history.as_arrays("g_loss")[1]).all()
    assert ("wasserstein" in res.history) == loss.startswith("wgan")
    assert ("gp" in res.history) == (loss == "wgan-gp")
    if loss == "wgan-clip":
        assert all(p.abs().max() <= 0.05 for p in m["discriminator"].parameters())


def test_conditional_gan_uses_labels_and_sample_grid_records_frames():
    recipe = recipes.get_recipe("cgan-fashion")
    grid = SampleGrid(n=20, seed=3)
    cfg = recipe.quick.replace(steps=4, batch_size=32, sample_every=2, log_every=2)
    run_gan(tiny(recipe), cfg, callbacks=[grid])
    assert grid.steps == [0, 2, 4]
    assert grid.frames[0].dtype == np.uint8 and grid.frames[0].shape == (2 * 30 + 2, 10 * 30 + 2)
    assert not np.array_equal(grid.frames[0], grid.frames[-1])  # G changed


def test_callable_callbacks_get_step_and_state():
    seen = []

    def callback(step, state):
        with torch.no_grad():
            x = state.sampler.sample(5, generator=torch.Generator().manual_seed(0))
        seen.append((step, state.step, state.kind, tuple(x.shape), state.sampler.training))

    cfg = TrainConfig(steps=6, batch_size=64, sample_every=3, log_every=3)
    run_gan(GANConfig(kind="mlp", z_dim=2, hidden=16, depth=2), cfg, callbacks=[callback])
    assert seen == [(0, 0, "gan", (5, 2), True), (3, 3, "gan", (5, 2), True), (6, 6, "gan", (5, 2), True)]


def test_loader_and_config_batch_sizes_must_agree():
    m = build("gan", GANConfig(kind="mlp", z_dim=2, hidden=16, depth=2))
    loader = data.TensorLoader(data.toy2d("ring", 512), batch_size=32, device="cpu")
    with pytest.raises(ValueError, match="batch_size"):
        train_gan(m["generator"], m["discriminator"], loader, TrainConfig(steps=2, batch_size=64), progress=False)


# --- opt-in speed switches: reuse_fakes, amp on the CPU ---------------------------------------

def test_defaults_follow_the_hardware_but_not_the_algorithm():
    """By default the trainer uses what the hardware does natively (bf16 only on CPUs that have it) but
    never changes the algorithm: fresh noise for the G step unless reuse_fakes=True is asked for."""
    cfg = TrainConfig()
    assert cfg.amp is None and cfg.channels_last is None and cfg.reuse_fakes is False
    assert runtime.amp_dtype("cpu", cfg.amp) == (torch.bfloat16 if runtime.cpu_bf16_supported() else None)


def _count_forwards(module):
    calls = []
    module.register_forward_hook(lambda mod, args, out: calls.append(out.dtype))
    return calls


@pytest.mark.parametrize("reuse", [False, True])
def test_reuse_fakes_trains_with_one_g_forward_per_step(reuse):
    recipe = recipes.get_recipe("dcgan-fashion")
    cfg = recipe.quick.replace(steps=12, batch_size=32, log_every=3, sample_every=0, reuse_fakes=reuse)
    m = build("gan", tiny(recipe))
    g_calls = _count_forwards(m["generator"])
    res = train_gan(m["generator"], m["discriminator"], loader_for(recipe, 32), cfg, progress=False)
    assert len(g_calls) == cfg.steps * (1 if reuse else 2)
    assert all(math.isfinite(v) for key in ("d_loss", "g_loss") for _, v in res.history.logs[key])
    assert res.history.last("d_real") > res.history.last("d_fake")


@pytest.mark.parametrize("amp", [None, False, True])
def test_amp_sets_the_dtype_of_activations_on_the_cpu(amp):
    """amp=None/True: bf16 convolutions inside the trainer on CPUs with native bf16, fp32 elsewhere;
    amp=False: always fp32."""
    if amp and not runtime.cpu_bf16_supported():
        pytest.skip("this CPU has no native bf16: amp=True falls back to fp32")
    recipe = recipes.get_recipe("dcgan-fashion")
    m = build("gan", tiny(recipe))
    G, D = m["generator"], m["discriminator"]
    convs = [next(x for x in net.modules() if isinstance(x, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)))
             for net in (G, D)]
    seen = [_count_forwards(c) for c in convs]
    cfg = TrainConfig(steps=2, batch_size=32, amp=amp, reuse_fakes=True)
    res = train_gan(G, D, loader_for(recipe, 32), cfg, progress=False)
    expected = torch.bfloat16 if amp is not False and runtime.cpu_bf16_supported() else torch.float32
    assert res.settings["amp"] == ("bf16" if expected == torch.bfloat16 else "fp32")
    assert seen[0] and seen[1] and set(seen[0]) == set(seen[1]) == {expected}
    assert all(p.dtype == torch.float32 for p in G.parameters())  # fp32 master weights
    assert math.isfinite(res.history.last("g_loss"))


# --- resume --------------------------------------------------------------------------------

def _resume_pair(kind, model_cfg, cfg, tmp_path):
    """Hashes after N steps in one go, and after N/2 steps + checkpoint + resume for N/2 more."""
    recipe = recipes.get_recipe("vae-fashion" if kind == "vae" else "dcgan-fashion")

    def run(steps, out, resume=None):
        m = build(kind, model_cfg, seed=0 if resume is None else 99)  # a resume must overwrite the weights
        loader = loader_for(recipe, cfg.batch_size)
        c = cfg.replace(steps=steps)
        if kind == "gan":
            res = train_gan(m["generator"], m["discriminator"], loader, c, out_dir=out, resume=resume, progress=False)
        else:
            res = train_vae(m["model"], loader, c, out_dir=out, resume=resume, progress=False)
        return [state_hash(x) for x in res.models.values()] + ([state_hash(res.ema)] if res.ema else []), res

    full, _ = run(cfg.steps, tmp_path / "once")
    run(cfg.steps // 2, tmp_path / "half")
    resumed, res = run(cfg.steps, tmp_path / "resumed", resume=tmp_path / "half")
    return full, resumed, res


def test_resume_is_bit_exact_for_a_batchnorm_gan_with_ema(tmp_path):
    model_cfg = GANConfig(kind="dcgan", z_dim=8, width=8, n_classes=10)  # BN in G and D, labels
    cfg = TrainConfig(steps=8, batch_size=32, n_critic=2, ema=0.9, log_every=2)
    full, resumed, res = _resume_pair("gan", model_cfg, cfg, tmp_path)
    assert full == resumed
    assert res.steps == 8 and res.history.as_arrays("d_loss")[0][0] == 2  # History restored, then continued


def test_resume_is_bit_exact_with_reuse_fakes(tmp_path):
    model_cfg = GANConfig(kind="dcgan", z_dim=8, width=8, n_classes=10)
    cfg = TrainConfig(steps=6, batch_size=32, ema=0.9, log_every=2, reuse_fakes=True)
    full, resumed, _ = _resume_pair("gan", model_cfg, cfg, tmp_path)
    assert full == resumed


def test_resume_is_bit_exact_for_the_vae(tmp_path):
    cfg = TrainConfig(steps=6, batch_size=32, lr=1e-3, log_every=3)
    full, resumed, _ = _resume_pair("vae", VAEConfig(kind="conv", z_dim=4, width=8), cfg, tmp_path)
    assert full == resumed


def test_resume_of_a_finished_run_does_nothing(tmp_path):
    cfg = TrainConfig(steps=3, batch_size=64, log_every=1)
    model_cfg = GANConfig(kind="mlp", z_dim=2, hidden=16, depth=2)
    first = run_gan(model_cfg, cfg, out_dir=tmp_path)
    again = run_gan(model_cfg, cfg, seed=5, out_dir=tmp_path, resume=tmp_path)
    assert again.steps == 3 and state_hash(again.models["generator"]) == state_hash(first.models["generator"])


# --- NaN guard ------------------------------------------------------------------------------

def test_nan_guard_stops_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    calls = {"n": 0}
    real_g_loss = losses.gan_g_nonsaturating

    def g_loss_nan_from_step_5(fake_logits):
        calls["n"] += 1
        loss = real_g_loss(fake_logits)
        return loss * float("nan") if calls["n"] >= 5 else loss

    monkeypatch.setitem(losses._GAN_LOSS_TABLE, "bce", {**losses._GAN_LOSS_TABLE["bce"], "g_loss": g_loss_nan_from_step_5})
    model_cfg = GANConfig(kind="mlp", z_dim=2, hidden=16, depth=2)
    # log_every=10: the losses are read back only at checkpoints (steps 4 and 6), so the NaN of
    # step 5 is found at step 6, before the step-6 checkpoint could overwrite the good one.
    cfg = TrainConfig(steps=10, batch_size=64, ckpt_every=2, log_every=10)
    with pytest.raises(TrainingDiverged) as info:
        run_gan(model_cfg, cfg, out_dir=tmp_path)
    msg = str(info.value)
    assert "step 5" in msg and "g_loss = nan" in msg and str(tmp_path / "checkpoint") in msg
    assert "learning rate" in msg and "grad_clip" in msg
    m = build("gan", model_cfg)
    state = load_checkpoint(tmp_path, {"generator": m["generator"], "discriminator": m["discriminator"]})
    assert state["step"] == 4
    assert all(torch.isfinite(p).all() for p in m["generator"].parameters())


def test_huge_learning_rate_diverges_with_advice():
    m = build("vae", VAEConfig(kind="mlp", z_dim=2, img_size=28, hidden=32))
    images, _ = synthetic_images(128)
    cfg = TrainConfig(steps=30, batch_size=32, lr=1e6, log_every=1)
    with pytest.raises(TrainingDiverged, match="no checkpoint was written"):
        train_vae(m["model"], data.TensorLoader(images, batch_size=32, device="cpu"), cfg, progress=False)


# --- DDP ------------------------------------------------------------------------------------

@pytest.mark.slow
def test_ddp_two_processes_agree_and_only_rank0_writes(tmp_path):
    """torchrun with 2 CPU processes (gloo): a BN DCGAN (bce), a WGAN-GP critic and a VAE end with
    identical weights on both ranks, and only rank 0 wrote checkpoints."""
    env = {**os.environ, "PYTHONPATH": str(HERE.parent), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           str(HERE / "ddp_worker.py"), str(tmp_path)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for case in ("bce", "wgan-gp", "vae"):
        hashes = [(tmp_path / f"{case}-rank{r}.txt").read_text() for r in (0, 1)]
        assert hashes[0] == hashes[1], case
        assert (tmp_path / f"{case}-out0" / "checkpoint" / "state.json").is_file()
        assert not (tmp_path / f"{case}-out1").exists()
        state = load_checkpoint(tmp_path / f"{case}-out0")
        assert state["step"] == 4 and "x 2 processes" in state["device"]


def test_ddp_ranks_set_up_differently_fail_fast_with_a_clear_error(tmp_path):
    """Different configs or callbacks per rank would deadlock in collectives later: both stop at once."""
    env = {**os.environ, "PYTHONPATH": str(HERE.parent), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           str(HERE / "ddp_worker.py"), str(tmp_path), "mismatch"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for rank in (0, 1):
        message = (tmp_path / f"mismatch-rank{rank}.txt").read_text()
        assert "set up differently" in message and "train_config" in message and "callbacks" in message, message
