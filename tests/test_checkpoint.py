"""aigc_course.checkpoint: exact round trips, atomic writes, hash checks, no pickle, the manifest,
pretrained() and load_or_train()."""
import json
import os
import random

import numpy as np
import pytest
import torch
from torch import nn

from aigc_course import checkpoint, data, kinds, recipes, runtime
from aigc_course.checkpoint import CheckpointError, load_checkpoint, load_weights, save_checkpoint, save_weights
from aigc_course.recipes import pretrained, register_weights
from aigc_course.config import GANConfig, TrainConfig
from aigc_course.train import train_gan

TOY_GAN = GANConfig(kind="mlp", z_dim=2, data_dim=2, hidden=16, depth=2)


@pytest.fixture(autouse=True)
def weights_dir(tmp_path_factory, monkeypatch):
    """Every test gets its own empty weights folder (never the package's)."""
    folder = tmp_path_factory.mktemp("weights")
    monkeypatch.setenv("AIGC_WEIGHTS_DIR", str(folder))
    return folder


def small_model():
    runtime.set_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4 * 26 * 26, 3))


def assert_same_state(a: dict, b: dict):
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].dtype == b[k].dtype and torch.equal(a[k], b[k]), k


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A finished 6-step toy GAN run (with EMA) in a checkpoint folder."""
    out = tmp_path_factory.mktemp("run")
    runtime.set_seed(0)
    models = kinds.build("gan", TOY_GAN)
    cfg = TrainConfig(steps=6, batch_size=64, ema=0.9, log_every=2)
    result = train_gan(models["generator"], models["discriminator"], data.toy2d("8gaussians", 512), cfg,
                       out_dir=out, progress=False, meta={"recipe": "gan-8gaussians", "command": "test"})
    return out, result


def ship(trained_run, name="toy", half=True):
    return register_weights(name, trained_run[0], metrics={"coverage": 0.5}, half=half)


# --- weights files --------------------------------------------------------------------------

def test_save_load_weights_round_trip_is_exact(tmp_path):
    model = small_model()
    model[1].running_mean.normal_()
    path = save_weights(tmp_path / "m.safetensors", model, {"note": "hi", "steps": 3})
    assert_same_state(load_weights(path), model.state_dict())
    other = small_model()
    with torch.no_grad():
        for p in other.parameters():
            p.zero_()
    load_weights(path, other)
    assert_same_state(other.state_dict(), model.state_dict())
    assert checkpoint.read_metadata(path) == {"note": "hi", "steps": 3}


def test_half_storage_halves_floats_and_loads_back(tmp_path):
    model = small_model()
    path = save_weights(tmp_path / "h.safetensors", model, half=True)
    stored = load_weights(path)
    assert stored["3.weight"].dtype == torch.float16 and stored["1.num_batches_tracked"].dtype == torch.int64
    copy = load_weights(path, small_model())
    assert copy[3].weight.dtype == torch.float32
    torch.testing.assert_close(copy[3].weight, model[3].weight.half().float(), rtol=0, atol=0)


def test_save_weights_is_atomic(tmp_path, monkeypatch):
    path = save_weights(tmp_path / "m.safetensors", small_model())
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # as open() would make it (shippable), not 0600
    before = path.read_bytes()

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)  # fails after the new bytes were written to the temp file
    changed = small_model()
    torch.nn.init.ones_(changed[3].weight)
    with pytest.raises(OSError, match="No space"):
        save_weights(path, changed)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors"]  # no temp file left


def test_checkpoint_round_trip_restores_optimizer_rng_and_state(tmp_path):
    model = small_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.5, 0.9))
    model(torch.randn(2, 1, 28, 28)).sum().backward()
    opt.step()
    random.seed(1)
    np.random.seed(2)
    state = {"step": 7, "python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state(),
             "nested": {3: (1.5, None, "x"), "list": [torch.arange(3), float("inf")]}}
    save_checkpoint(tmp_path / "ck", models={"net": model}, optimizers={"net": opt}, state=state)

    model2 = small_model()
    opt2 = torch.optim.Adam(model2.parameters(), lr=5.0)
    loaded = load_checkpoint(tmp_path / "ck", {"net": model2}, {"net": opt2})
    assert_same_state(model2.state_dict(), model.state_dict())
    assert opt2.param_groups[0]["lr"] == 1e-3 and opt2.param_groups[0]["betas"] == (0.5, 0.9)
    for p, p2 in zip(model.parameters(), model2.parameters()):
        assert torch.equal(opt.state[p]["exp_avg_sq"], opt2.state[p2]["exp_avg_sq"])
    assert loaded["step"] == 7 and loaded["models"] == ["net"]
    assert loaded["nested"][3] == (1.5, None, "x") and torch.equal(loaded["nested"]["list"][0], torch.arange(3))
    random.setstate(loaded["python"])
    np.random.set_state(loaded["numpy"])
    assert (random.random(), np.random.rand()) == (random.Random(1).random(), np.random.RandomState(2).rand())


def test_save_checkpoint_keeps_the_old_one_when_writing_fails(tmp_path, monkeypatch):
    save_checkpoint(tmp_path / "ck", models={"a": small_model(), "b": small_model()}, state={"step": 1})
    real = checkpoint.save_weights
    calls = []

    def fail_on_second(*args, **kw):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # interrupted half-way through the new checkpoint
        return real(*args, **kw)

    monkeypatch.setattr(checkpoint, "save_weights", fail_on_second)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(tmp_path / "ck", models={"a": small_model(), "b": small_model()}, state={"step": 2})
    assert load_checkpoint(tmp_path / "ck", {"a": small_model()})["step"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck"]


def test_missing_checkpoint_and_missing_part_are_explained(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint in"):
        load_checkpoint(tmp_path / "nowhere")
    save_checkpoint(tmp_path / "ck", models={"a": small_model()})
    with pytest.raises(CheckpointError, match="has no model 'ema'"):
        load_checkpoint(tmp_path / "ck", {"ema": small_model()})


def test_wrong_architecture_is_a_checkpoint_error(tmp_path):
    path = save_weights(tmp_path / "m.safetensors", small_model())
    with pytest.raises(CheckpointError, match="do not fit"):
        load_weights(path, nn.Linear(2, 2))


class _Exploit:
    """Unpickling this would create a file: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_files_are_refused_without_running_code(tmp_path, weights_dir):
    marker = tmp_path / "pwned"
    evil = weights_dir / "evil.safetensors"
    torch.save({"weight": torch.zeros(2), "payload": _Exploit(marker)}, evil)
    with pytest.raises(CheckpointError, match="not a valid .safetensors"):
        load_weights(evil, nn.Linear(2, 1))
    manifest = {"format": 1, "weights": {"evil": {
        "file": "evil.safetensors", "sha256": checkpoint.sha256_bytes(evil.read_bytes()), "kind": "gan",
        "model_config": TOY_GAN.to_dict()}}}
    (weights_dir / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match="not a valid .safetensors"):
        pretrained("evil")
    assert not marker.exists()


# --- shipped weights --------------------------------------------------------------------------

def test_register_and_pretrained_round_trip(trained_run, weights_dir):
    entry = ship(trained_run)
    result = trained_run[1]
    assert entry["steps"] == 6 and entry["ema"] and entry["kind"] == "gan" and entry["recipe"] == "gan-8gaussians"
    assert entry["metrics"] == {"coverage": 0.5} and set(entry["final_losses"]) >= {"d_loss", "g_loss"}
    assert json.loads((weights_dir / "manifest.json").read_text())["weights"]["toy"]["sha256"] == entry["sha256"]
    G = pretrained("toy")
    assert not G.training
    for (k, v), ema in zip(G.state_dict().items(), result.ema.state_dict().values()):  # the EMA copy is shipped
        torch.testing.assert_close(v, ema.half().float(), rtol=0, atol=0, msg=k)
    D = pretrained("toy", part="discriminator")
    torch.testing.assert_close(D.state_dict()["head.weight"],
                               result.models["discriminator"].state_dict()["head.weight"].half().float())
    assert set(pretrained("toy", part="all")) == {"generator", "discriminator"}
    assert recipes.weights_verify() == []
    assert [r["name"] for r in checkpoint.weights_list()] == ["toy"]


def test_register_a_plain_module(weights_dir):
    model = nn.Linear(3, 2)
    with pytest.raises(ValueError, match="kind="):
        register_weights("lin", model)
    entry = register_weights("vae-small", kinds.build("vae", {"kind": "mlp", "z_dim": 2, "hidden": 8})["model"],
                             kind="vae", model_config={"kind": "mlp", "z_dim": 2, "hidden": 8}, half=False,
                             info={"steps": 0})
    assert entry["steps"] == 0 and pretrained("vae-small").cfg.z_dim == 2


def test_tampered_weights_are_refused(trained_run, weights_dir):
    entry = ship(trained_run)
    path = weights_dir / entry["file"]
    raw = bytearray(path.read_bytes())
    raw[-3] ^= 0x01  # flip one bit of one weight
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError) as info:
        pretrained("toy")
    msg = str(info.value)
    assert str(path) in msg and entry["sha256"] in msg and checkpoint.sha256_bytes(bytes(raw)) in msg
    assert "NOT loaded" in msg and "Reinstall" in msg and "aigc_course train" in msg
    assert len(recipes.weights_verify()) == 1


def test_missing_weights_say_how_to_train_them(trained_run, weights_dir):
    with pytest.raises(CheckpointError, match="python -m aigc_course train dcgan-fashion"):
        pretrained("dcgan-fashion")
    entry = ship(trained_run)
    (weights_dir / entry["file"]).unlink()
    with pytest.raises(CheckpointError, match="is missing.*train"):
        pretrained("toy")
    assert "missing" in recipes.weights_verify()[0]


def test_load_or_train_uses_shipped_weights_or_trains_the_quick_recipe(trained_run, capsys):
    G = recipes.load_or_train("gan-8gaussians", "quick", train_steps=3, progress=False)
    assert "training the quick recipe" in capsys.readouterr().out and not G.training
    register_weights("gan-8gaussians", trained_run[0])
    shipped = recipes.load_or_train("gan-8gaussians", "quick", progress=False)
    assert "training" not in capsys.readouterr().out
    for a, b in zip(shipped.parameters(), pretrained("gan-8gaussians").parameters()):
        assert torch.equal(a, b)
    D = recipes.load_or_train("gan-8gaussians", "full", part="discriminator", train_steps=2, progress=False)
    assert D.n_classes == 0 and not torch.equal(D.head.weight, pretrained("gan-8gaussians", "discriminator").head.weight)


def test_load_models_from_a_run_folder(trained_run):
    G = recipes.load_models(trained_run[0])
    for a, b in zip(G.parameters(), trained_run[1].ema.parameters()):
        assert torch.equal(a, b)
