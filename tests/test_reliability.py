"""Bad input and bad luck: each case a hostile review found gets a clear error that names the file, flag or
field and says what to do, and nothing is lost. (The table "What can go wrong" in the setup appendix
lists the same cases with their messages.)"""
from __future__ import annotations

import gzip
import json
import math
import os
import pathlib
import signal
import threading
import zlib

import numpy as np
import pytest
import torch

from aigc_course import checkpoint, data, kinds, recipes, train
from aigc_course.__main__ import main
from aigc_course.config import GANConfig, TrainConfig, VAEConfig
from aigc_course.errors import CheckpointError, DataError, IDXFormatError, TrainingDiverged

TOY = GANConfig(kind="mlp", z_dim=2, data_dim=2, hidden=16, depth=2)


def toy_trainer(tmp_path, cfg=None, **kw):
    torch.manual_seed(0)
    models = kinds.build("gan", TOY)
    cfg = cfg or TrainConfig(steps=6, batch_size=64, ckpt_every=2, log_every=2)
    return train.GANTrainer(models, data.toy2d("ring", 512), cfg, progress=False, **kw)


# --- 1. a NaN gradient must not poison the "last good" checkpoint -------------------------------------

def test_nan_weights_are_never_saved(tmp_path, monkeypatch):
    trainer = toy_trainer(tmp_path, out_dir=tmp_path / "run")
    real_step = trainer.step_g.__call__
    calls = {"n": 0}

    def poison_in_step_4(loss):
        real_step(loss)
        calls["n"] += 1
        if calls["n"] == 4:  # step 4's losses were finite; its update leaves NaN weights (a NaN gradient)
            with torch.no_grad():
                next(trainer.G.parameters()).fill_(float("nan"))

    trainer.step_g = poison_in_step_4
    with pytest.raises(TrainingDiverged, match="NaN/Inf at step 4.*nothing was saved"):
        trainer.run()
    state = checkpoint.load_checkpoint(tmp_path / "run")
    assert state["step"] == 2  # the last good one, untouched
    G = kinds.build("gan", TOY)["generator"]
    G.load_state_dict(checkpoint.load_part(tmp_path / "run", "generator"))
    assert all(torch.isfinite(p).all() for p in G.parameters())


# --- 2. resuming with a new learning rate applies it, and says so ------------------------------------------

def test_resume_applies_the_new_learning_rate_and_reports_changes(tmp_path):
    toy_trainer(tmp_path, out_dir=tmp_path / "run").run()
    cfg = TrainConfig(steps=8, batch_size=64, ckpt_every=2, log_every=2, lr=5e-5, betas=(0.0, 0.9))
    resumed = toy_trainer(tmp_path, cfg, out_dir=tmp_path / "run", resume=tmp_path / "run")
    with pytest.warns(UserWarning, match=r"lr 0.0002 -> 5e-05.*betas"):
        resumed.run()
    assert all(g["lr"] == 5e-5 and g["betas"] == (0.0, 0.9) for g in resumed.optimizers["generator"].param_groups)
    assert resumed.optimizers["discriminator"].param_groups[0]["lr"] == cfg.lr_d
    assert set(resumed.resume_changes) >= {"lr", "betas", "steps"}


# --- 3. the output folder is checked before any work, and never silently replaced ---------------------------

def test_out_dir_problems_are_found_before_training(tmp_path):
    file = tmp_path / "a-file"
    file.write_text("x")
    with pytest.raises(CheckpointError, match="is a file"):
        toy_trainer(tmp_path, out_dir=file)
    toy_trainer(tmp_path, out_dir=tmp_path / "run").run()
    with pytest.raises(CheckpointError, match="already holds a checkpoint.*--resume.*--overwrite"):
        toy_trainer(tmp_path, out_dir=tmp_path / "run")
    toy_trainer(tmp_path, out_dir=tmp_path / "run", overwrite=True).run()  # explicit: allowed


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only folders")
def test_read_only_out_dir_is_refused_before_training(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(CheckpointError, match="cannot write"):
            toy_trainer(tmp_path, out_dir=ro / "run")
    finally:
        ro.chmod(0o700)


def test_unrelated_files_in_a_checkpoint_folder_are_never_deleted(tmp_path):
    toy_trainer(tmp_path, out_dir=tmp_path / "run").run()
    precious = tmp_path / "run" / "checkpoint" / "notes.txt"
    precious.write_text("mine")
    with pytest.raises(CheckpointError, match="notes.txt"):
        toy_trainer(tmp_path, out_dir=tmp_path / "run", overwrite=True).run()
    assert precious.read_text() == "mine"


def test_cli_resume_defaults_to_the_resumed_folder_and_says_when_there_is_nothing_to_do(tmp_path, capsys,
                                                                                      monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "gan-8gaussians", "--profile", "quick", "--max-steps", "4", "--out", "mine"]) == 0
    assert main(["train", "gan-8gaussians", "--profile", "quick", "--max-steps", "6", "--resume", "mine"]) == 0
    assert checkpoint.load_checkpoint(tmp_path / "mine")["step"] == 6 and not (tmp_path / "runs").exists()
    capsys.readouterr()
    assert main(["train", "gan-8gaussians", "--profile", "quick", "--max-steps", "6", "--resume", "mine"]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert main(["train", "dcgan-fashion", "--resume", "mine"]) == 2  # a checkpoint of another recipe
    assert main(["sample", "dcgan-fashion", "--weights", "mine", "--out", "s.png"]) == 2
    assert "holds a run of 'gan-8gaussians'" in capsys.readouterr().err


# --- 4. weights verification fails closed ---------------------------------------------------------------------

def test_manifest_entry_without_a_hash_or_with_a_path_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("AIGC_WEIGHTS_DIR", str(tmp_path))
    G = kinds.build("gan", TOY)
    checkpoint.save_weights(tmp_path / "g.safetensors", checkpoint.join_parts({k: m.state_dict() for k, m in G.items()}))
    for entry, message in (({"sha256": None}, "no valid sha256"), ({"file": "../g.safetensors"}, "plain file name")):
        manifest = {"format": 1, "weights": {"toy": {"file": "g.safetensors", "kind": "gan",
                                                    "model_config": TOY.to_dict(), **entry}}}
        checkpoint.write_manifest(manifest, tmp_path)
        with pytest.raises(CheckpointError, match=message):
            recipes.pretrained("toy")
    with pytest.raises(ValueError, match="letters, digits"):
        recipes.register_weights("../evil", G["generator"], kind="gan", model_config=TOY.to_dict())


# --- 5. configs refuse NaN/Inf, floats where ints belong, truthy strings, and changes after construction ------

@pytest.mark.parametrize("bad", [dict(lr=math.nan), dict(lr_d=math.inf), dict(betas=(0.5, math.nan)),
                                 dict(gp_weight=math.nan), dict(clip_value=math.inf), dict(grad_clip=math.nan),
                                 dict(compile="no"), dict(amp=1), dict(steps=2.5), dict(seed=10**23)])
def test_train_config_refuses(bad):
    field = next(iter(bad))
    with pytest.raises(ValueError, match=f"TrainConfig.{field}"):
        TrainConfig(**bad)


def test_model_configs_refuse_and_all_configs_are_frozen():
    with pytest.raises(ValueError, match="GANConfig.z_dim"):
        GANConfig(z_dim=2.5)
    with pytest.raises(ValueError, match="VAEConfig.sigma"):
        VAEConfig(sigma=math.nan)
    cfg = TrainConfig()
    with pytest.raises(AttributeError):
        cfg.lr = 1.0
    with pytest.raises(ValueError, match="TrainConfig.lr"):
        cfg.replace(lr=math.nan)  # replace checks again


# --- 6. one clear line instead of a traceback ---------------------------------------------------------------

def test_cli_errors_name_the_flag_or_variable(tmp_path, monkeypatch, capsys):
    for argv, flag in ((["train", "gan-8gaussians", "--max-steps", "0"], "--max-steps"),
                       (["train", "gan-8gaussians", "--seed", str(10**23)], "--seed"),
                       (["bench", "--seconds", "inf"], "--seconds"),
                       (["sample", "gan-8gaussians", "--n", "-1", "--out", "a.png"], "--n")):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2 and flag in capsys.readouterr().err
    assert main(["sample", "gan-8gaussians", "--out", str(tmp_path / "noext")]) == 2
    assert ".png" in capsys.readouterr().err
    monkeypatch.setenv("AIGC_DEVICE", "gpu")
    assert main(["weights", "list"]) == 0  # listing needs no device
    assert main(["sample", "gan-8gaussians", "--out", str(tmp_path / "a.png")]) == 2
    assert "AIGC_DEVICE" in capsys.readouterr().err
    monkeypatch.delenv("AIGC_DEVICE")
    monkeypatch.setenv("AIGC_THREADS", "abc")
    assert main(["train", "gan-8gaussians", "--out", str(tmp_path / "t")]) == 2
    assert "AIGC_THREADS" in capsys.readouterr().err


def test_corrupt_state_json_is_named(tmp_path):
    toy_trainer(tmp_path, out_dir=tmp_path / "run").run()
    state = tmp_path / "run" / "checkpoint" / "state.json"
    state.write_text(state.read_text()[:100])
    with pytest.raises(CheckpointError, match="state.json is damaged"):
        checkpoint.load_checkpoint(tmp_path / "run")


def test_ctrl_c_saves_a_checkpoint_and_the_cli_exits_130(tmp_path, capsys):
    before = signal.getsignal(signal.SIGINT)  # (SIG_IGN when the tests run in a background job)
    trainer = toy_trainer(tmp_path, TrainConfig(steps=50, batch_size=64, log_every=5), out_dir=tmp_path / "run")
    steps = trainer.steps()
    next(steps)
    os.kill(os.getpid(), signal.SIGINT)  # the handler only asks the loop to stop after this step
    with pytest.raises(KeyboardInterrupt, match="checkpoint saved"):
        for _ in steps:
            pass
    assert checkpoint.load_checkpoint(tmp_path / "run")["step"] >= 1
    assert signal.getsignal(signal.SIGINT) is before  # restored


# --- 7, 8. data files: bombs, absurd headers, truncated copies, and `data info` only reads ------------------

def _idx(dims, fill=0):
    header = bytes([0, 0, 8, len(dims)]) + b"".join(int(d).to_bytes(4, "big") for d in dims)
    return header + bytes([fill]) * math.prod(dims)


def test_gzip_bomb_is_refused_without_inflating_it(tmp_path, monkeypatch):
    bomb = tmp_path / "train-labels-idx1-ubyte.gz"
    bomb.write_bytes(gzip.compress(_idx((60000,)) + bytes(50_000_000), compresslevel=9))
    assert bomb.stat().st_size < 200_000
    with pytest.raises(IDXFormatError, match="inflates to more than"):
        data._read_hashed(str(bomb), 0, 0, "train-labels-idx1-ubyte")
    absurd = tmp_path / "x-idx3-ubyte"
    absurd.write_bytes(bytes([0, 0, 8, 3]) + (2**32 - 1).to_bytes(4, "big") * 3)
    with pytest.raises(IDXFormatError, match="truncated"):
        data.read_idx(absurd)
    wrong = tmp_path / "t10k-labels-idx1-ubyte"
    wrong.write_bytes(_idx((7,)))
    with pytest.raises(IDXFormatError, match=r"dimensions \(7,\) in the header, expected \(10000,\)"):
        data._read_hashed(str(wrong), 1, 1, "t10k-labels-idx1-ubyte")


def test_downloads_are_https_only_and_capped(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="only https"):
        data._download("http://example.org/x.gz", tmp_path / "x.gz")

    class Endless:
        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

        def read(self, n):
            return b"\0" * n

    monkeypatch.setattr(data, "_urlopen", lambda url, timeout: Endless())
    monkeypatch.setattr(data, "MAX_DOWNLOAD_BYTES", 3 * 2**20)
    with pytest.raises(ValueError, match="more than"):
        data._download("https://example.org/x.gz", tmp_path / "x.gz")
    assert not list(tmp_path.glob("*"))  # no partial file left


# --- 9. training checkpoints carry their own hashes ----------------------------------------------------------

def test_a_modified_checkpoint_file_is_refused(tmp_path):
    toy_trainer(tmp_path, out_dir=tmp_path / "run").run()
    part = tmp_path / "run" / "checkpoint" / "generator.safetensors"
    raw = bytearray(part.read_bytes())
    raw[-10] ^= 0xFF  # one flipped byte in the tensor data
    part.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="SHA-256.*NOT loaded"):
        recipes.load_models(tmp_path / "run")
    with pytest.raises(CheckpointError, match="generator.safetensors"):
        toy_trainer(tmp_path, out_dir=tmp_path / "run", resume=tmp_path / "run").run()
    with pytest.raises(CheckpointError):
        recipes.register_weights("toy", tmp_path / "run", directory=tmp_path / "w")


def test_tests_run_with_the_network_blocked():
    """conftest blocks every connection that leaves the machine (loopback still works)."""
    import socket

    with pytest.raises(OSError, match="network blocked"):
        socket.create_connection(("192.0.2.1", 443), timeout=1)  # TEST-NET-1: never routed
    server = socket.create_server(("127.0.0.1", 0))
    with server, socket.create_connection(server.getsockname(), timeout=1):
        pass


def test_the_session_check_finds_writes_in_the_home_folder(tmp_path, monkeypatch):
    """The root conftest fails a test session that wrote into the home folder (outside the caches)."""
    import importlib.util
    import time

    spec = importlib.util.spec_from_file_location("root_conftest", pathlib.Path(__file__).parents[1] / "conftest.py")
    root_conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(root_conftest)
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".cache" / "aigc_course").mkdir(parents=True)
    (tmp_path / "old.txt").write_text("before")
    time.sleep(0.05)
    start = time.time()
    assert root_conftest._home_changes(start) == []
    (tmp_path / ".cache" / "aigc_course" / "data.gz").write_bytes(b"cache is fine")
    (tmp_path / ".cache" / "x").write_text("tool caches too")
    assert root_conftest._home_changes(start) == []
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "stray.txt").write_text("not fine")
    assert root_conftest._home_changes(start) == [str(tmp_path / "notes" / "stray.txt")]


def test_the_session_check_finds_writes_in_the_system_folders(tmp_path):
    """The root conftest also fails a session that wrote under /etc, /usr, /opt, ... (bytecode caches and the
    allowed state folders aside); here the check runs on stand-in folders."""
    import importlib.util
    import time

    spec = importlib.util.spec_from_file_location("root_conftest", pathlib.Path(__file__).parents[1] / "conftest.py")
    root_conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(root_conftest)
    usr, var = tmp_path / "usr", tmp_path / "var"
    (usr / "lib" / "__pycache__").mkdir(parents=True)
    (var / "log").mkdir(parents=True)
    (usr / "lib" / "old.py").write_text("before")
    time.sleep(0.05)
    start = time.time()

    def changes():
        return root_conftest._system_changes(start, roots=(str(usr), str(var)), allowed=(str(var / "log"),))

    assert changes() == []
    (usr / "lib" / "__pycache__" / "old.cpython-311.pyc").write_bytes(b"bytecode is fine")
    (var / "log" / "x.log").write_text("logs too")
    assert changes() == []
    (usr / "lib" / "old.py").write_text("changed")
    assert changes() == [str(usr / "lib" / "old.py")]
    assert root_conftest._system_changes(0.0, roots=(str(tmp_path / "missing"),)) == []
