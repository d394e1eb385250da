"""Round 4 of the reliability probe (`tests/test_reliability.py` holds the earlier rounds): one test per case
the probe rated weak or bad, named after its case id (H4, H2, ...). Each one failed before the fix. The data
cases (D7, H7, D2/D8, D9) are in `tests/test_data.py`, beside that file's synthetic data sets."""
from __future__ import annotations

import errno
import json
import os
import pathlib
import re
import resource
import shlex
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import torch
from torch import nn

from aigc_course import bench, checkpoint, commands, data, kinds, metrics, recipes, train
from aigc_course.__main__ import main
from aigc_course.config import GANConfig, TrainConfig
from aigc_course.errors import CheckpointError, Interrupted

ROOT = pathlib.Path(__file__).parent.parent
TOY = GANConfig(kind="mlp", z_dim=2, data_dim=2, hidden=16, depth=2)


def toy_trainer(cfg=None, model_cfg=TOY, **kw):
    torch.manual_seed(0)
    models = kinds.build("gan", model_cfg)
    cfg = cfg or TrainConfig(steps=6, batch_size=64, ckpt_every=2, log_every=2)
    return train.GANTrainer(models, data.toy2d("ring", 512), cfg, progress=False, **kw)


def cli_env(**extra):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AIGC_THREADS": "1", "OMP_NUM_THREADS": "1",
           "PYTHONUNBUFFERED": "1"}
    env.update(extra)
    return env


def cli(*args, cwd=None, timeout=600, preexec_fn=None, **extra):
    return subprocess.run([sys.executable, "-m", "aigc_course", *map(str, args)], env=cli_env(**extra), cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, preexec_fn=preexec_fn)


class Training:
    """A long ``train gan-8gaussians`` in a subprocess; ``started()`` waits until its loop runs."""

    def __init__(self, out, cwd=None):
        self.proc = subprocess.Popen([sys.executable, "-m", "aigc_course", "train", "gan-8gaussians", "--profile",
                                      "quick", "--max-steps", "10000000", "--out", str(out)], env=cli_env(), cwd=cwd,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._seen = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)
            if line.startswith("train gan on"):
                self._seen.set()

    def started(self):
        assert self._seen.wait(600), "the training never started: " + "".join(self.lines)
        time.sleep(1.5)  # the loop (and its signal handlers) starts right after that line

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        err = self.proc.stderr.read()
        self.proc.wait(600)
        return self.proc.returncode, err


def no_traceback(text: str) -> bool:
    return "Traceback" not in text


# --- H4 (bad): SIGTERM / SIGHUP save a checkpoint, as Ctrl-C does --------------------------------------------

def test_h4_sigterm_saves_a_checkpoint_and_exits_143(tmp_path):
    run = Training(tmp_path / "run")
    run.started()
    rc, err = run.stop(signal.SIGTERM)
    assert rc == 128 + signal.SIGTERM, err
    assert "stopped by SIGTERM at step" in err and "checkpoint saved to" in err and no_traceback(err)
    state = checkpoint.load_checkpoint(tmp_path / "run")
    assert state["step"] > 0  # quick recipes write no periodic checkpoint: this one is the interrupt's
    resumed = cli("train", "gan-8gaussians", "--profile", "quick", "--max-steps", state["step"] + 5,
                  "--resume", tmp_path / "run")
    assert resumed.returncode == 0, resumed.stderr
    assert checkpoint.load_checkpoint(tmp_path / "run")["step"] == state["step"] + 5


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_h4_sigterm_and_sighup_in_the_api_save_then_stop(tmp_path, sig):
    got = []
    before = signal.signal(sig, lambda s, f: got.append(s))  # (so an unhandled signal cannot kill the tests)
    try:
        trainer = toy_trainer(TrainConfig(steps=50, batch_size=64, log_every=5), out_dir=tmp_path / "run")
        steps = trainer.steps()
        next(steps)
        os.kill(os.getpid(), sig)
        with pytest.raises(Interrupted, match=f"stopped by {signal.Signals(sig).name} at step .*checkpoint saved") as info:
            for _ in steps:
                pass
        assert info.value.signum == sig and not got  # the trainer handled it, not the handler installed before
        assert checkpoint.load_checkpoint(tmp_path / "run")["step"] >= 1
        os.kill(os.getpid(), sig)  # the handler from before is back
        assert got == [sig]
    finally:
        signal.signal(sig, before)


def test_h4_t6_a_second_signal_stops_at_once_and_says_what_was_saved(tmp_path):
    before = signal.signal(signal.SIGTERM, lambda s, f: None)
    try:
        trainer = toy_trainer(TrainConfig(steps=50, batch_size=64, log_every=5), out_dir=tmp_path / "run")
        steps = trainer.steps()
        next(steps)
        os.kill(os.getpid(), signal.SIGTERM)  # the first asks the loop to stop after this step
        with pytest.raises(Interrupted, match="stopped at once by a second SIGTERM: nothing was saved since the start"):
            os.kill(os.getpid(), signal.SIGTERM)
        steps.close()
    finally:
        signal.signal(signal.SIGTERM, before)


def test_h4_the_cli_returns_128_plus_the_signal(monkeypatch, capsys):
    def stopped(args):
        raise Interrupted("stopped by SIGTERM at step 3; checkpoint saved to x", signal.SIGTERM)

    monkeypatch.setattr(commands, "cmd_train", stopped)
    assert main(["train", "gan-8gaussians"]) == 143
    assert "stopped by SIGTERM" in capsys.readouterr().err


# --- H2 (bad): one training per output folder; a checkpoint is never silently replaced ------------------------

def test_h2_a_second_training_on_the_same_out_is_refused_naming_the_first(tmp_path):
    first = toy_trainer(TrainConfig(steps=8, batch_size=64, ckpt_every=4, log_every=2), out_dir=tmp_path / "run")
    steps = first.steps()
    next(steps)  # training: the lock is held
    with pytest.raises(CheckpointError, match=rf"another training \(pid {os.getpid()} on .*\) is writing to "
                                              rf".*run; wait for it to finish, or choose another --out"):
        toy_trainer(out_dir=tmp_path / "run")
    for _ in steps:
        pass
    assert checkpoint.load_checkpoint(tmp_path / "run")["step"] == 8
    toy_trainer(out_dir=tmp_path / "run", overwrite=True).run()  # free again once the first one ended


def test_h2_two_cli_trainings_with_the_same_out(tmp_path):
    first = Training(tmp_path / "same")
    first.started()
    second = cli("train", "gan-8gaussians", "--profile", "quick", "--max-steps", 50, "--out", tmp_path / "same")
    assert second.returncode == 2 and no_traceback(second.stderr)
    assert f"another training (pid {first.proc.pid} on" in second.stderr and "choose another --out" in second.stderr
    rc, err = first.stop()
    assert rc == 143 and checkpoint.load_checkpoint(tmp_path / "same")["step"] > 50  # the first run's work


def test_h2_a_checkpoint_that_another_run_wrote_meanwhile_is_kept(tmp_path):
    """A writer that took no lock (an old version, another machine on a network disk) replaced the checkpoint:
    this run saves beside it and says where, instead of replacing the other run."""
    trainer = toy_trainer(out_dir=tmp_path / "run")
    steps = trainer.steps()
    next(steps), next(steps)  # step 2: this run's first checkpoint
    other = kinds.build("gan", TOY)
    checkpoint.save_checkpoint(tmp_path / "run" / "checkpoint", models=other,
                               state={"kind": "gan", "step": 99, "run_id": "someone-else"})
    with pytest.raises(CheckpointError, match=r"another run replaced .*checkpoint while this one trained, so this "
                                              r"run's step 4 was saved to .*checkpoint-[0-9a-f]{8}"):
        for _ in steps:
            pass
    assert checkpoint.load_checkpoint(tmp_path / "run")["step"] == 99  # the other run's, untouched
    (aside,) = (tmp_path / "run").glob("checkpoint-*")
    assert checkpoint.load_checkpoint(aside)["step"] == 4


def test_h2_c3_writers_use_their_own_temporary_folders(tmp_path):
    """save_checkpoint never deletes a `<dir>.tmp` it did not make (the old code did, silently)."""
    mine = tmp_path / "ck.tmp"
    mine.mkdir()
    (mine / "precious.txt").write_text("mine")
    checkpoint.save_checkpoint(tmp_path / "ck", models={"a": nn.Linear(2, 2)}, state={"step": 1})
    checkpoint.save_checkpoint(tmp_path / "ck", models={"a": nn.Linear(2, 2)}, state={"step": 2})
    assert (mine / "precious.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck", "ck.tmp"]  # no temporary folder of ours left


# --- C3 (weak): foreign files are found before training, not after ---------------------------------------------

def test_c3_foreign_files_are_found_before_any_training(tmp_path):
    toy_trainer(out_dir=tmp_path / "run").run()
    notes = tmp_path / "run" / "checkpoint" / "notes.txt"
    notes.write_text("mine")
    for kw in ({"overwrite": True}, {"resume": tmp_path / "run"}):
        with pytest.raises(CheckpointError, match="notes.txt"):
            toy_trainer(TrainConfig(steps=400, batch_size=64, ckpt_every=100), out_dir=tmp_path / "run", **kw)
    notes.unlink()
    leftover = tmp_path / "run" / "checkpoint.tmp"
    leftover.mkdir()
    (leftover / "precious.txt").write_text("mine")
    with pytest.raises(CheckpointError, match=r"checkpoint\.tmp.*precious\.txt"):
        toy_trainer(out_dir=tmp_path / "run", overwrite=True)
    assert (leftover / "precious.txt").read_text() == "mine"


def test_c3_cli_refuses_in_seconds_without_training(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "gan-8gaussians", "--profile", "quick", "--max-steps", "4", "--out", "A"]) == 0
    (tmp_path / "A" / "checkpoint" / "notes.txt").write_text("mine")
    ran = []
    monkeypatch.setattr(train.GANTrainer, "train_step", lambda self: ran.append(1))
    assert main(["train", "gan-8gaussians", "--profile", "quick", "--max-steps", "400", "--resume", "A"]) == 2
    assert "notes.txt" in capsys.readouterr().err and not ran


# --- H1 (weak): a full disk is one line naming the folder; the previous checkpoint stays -------------------------

def test_h1_disk_full_during_a_checkpoint(tmp_path, monkeypatch):
    trainer = toy_trainer(out_dir=tmp_path / "run")
    steps = trainer.steps()
    next(steps), next(steps)  # step 2 saved
    ckpt = tmp_path / "run" / "checkpoint"
    before = {p.name: p.read_bytes() for p in ckpt.iterdir()}

    def disk_full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(checkpoint, "_atomic_write_bytes", disk_full)
    with pytest.raises(CheckpointError, match=rf"could not write a checkpoint to {re.escape(str(ckpt))} \(No space left "
                                              r"on device\); the previous checkpoint .* is intact \(step 2\)\. Free "
                                              r"some space or choose another --out, then continue with --resume"):
        for _ in steps:
            pass
    assert {p.name: p.read_bytes() for p in ckpt.iterdir()} == before
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["checkpoint"]  # no temporary folder left
    with pytest.raises(CheckpointError, match=r"\(No space left on device\); nothing was saved there before\. Free"):
        toy_trainer(out_dir=tmp_path / "fresh").run()  # a fresh run on a full disk
    assert not list((tmp_path / "fresh").iterdir())


def test_h1_cli_file_size_limit_is_one_line(tmp_path):
    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (150_000, 150_000))

    proc = cli("train", "gan-8gaussians", "--profile", "quick", "--max-steps", 5, "--out", tmp_path / "run",
               preexec_fn=small_files)
    assert proc.returncode == 2 and no_traceback(proc.stderr), proc.stderr[-2000:]
    assert f"could not write a checkpoint to {tmp_path / 'run' / 'checkpoint'} (File too large)" in proc.stderr
    assert not list((tmp_path / "run").glob("checkpoint*"))


# --- C5 (weak), N5 (weak): PNG paths ------------------------------------------------------------------------------

def test_c5_sample_out_is_a_folder_or_under_a_file(tmp_path, capsys):
    (tmp_path / "d.png").mkdir()
    (tmp_path / "afile").write_text("x")
    assert main(["sample", "gan-8gaussians", "--out", str(tmp_path / "d.png")]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert main(["sample", "gan-8gaussians", "--out", str(tmp_path / "afile" / "x.png")]) == 2
    assert "afile is a file, not a folder" in capsys.readouterr().err


def test_c5_train_refuses_a_folder_at_samples_png_before_training(tmp_path, capsys):
    (tmp_path / "run" / "samples.png").mkdir(parents=True)
    assert main(["train", "gan-8gaussians", "--profile", "quick", "--max-steps", "3", "--out",
                 str(tmp_path / "run")]) == 2
    assert "samples.png is a folder" in capsys.readouterr().err
    assert not (tmp_path / "run" / "checkpoint").exists()


def test_n5_png_writes_replace_a_planted_link_instead_of_writing_through_it(tmp_path, monkeypatch):
    victim = tmp_path / "victim" / "notes.txt"
    victim.parent.mkdir()
    victim.write_text("do not touch")
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "samples.png").symlink_to(victim)
    assert main(["sample", "gan-8gaussians", "--n", "16", "--out", str(shared / "samples.png")]) == 0
    (shared / "run").mkdir()
    (shared / "run" / "samples.png").symlink_to(victim)
    assert main(["train", "gan-8gaussians", "--profile", "quick", "--max-steps", "3", "--out",
                 str(shared / "run")]) == 0
    assert victim.read_text() == "do not touch"
    for png in (shared / "samples.png", shared / "run" / "samples.png"):
        assert not png.is_symlink() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- C6 (weak): a checkpoint that records no recipe is compared with the recipe ---------------------------------

def test_c6_a_checkpoint_without_a_recipe_is_checked_before_sampling(tmp_path, capsys):
    toy_trainer(out_dir=tmp_path / "run").run()  # through the API: no recipe recorded
    assert "recipe" not in checkpoint.load_checkpoint(tmp_path / "run")["meta"]
    for name in ("dcgan-fashion", "vae-fashion", "cgan-fashion"):
        assert main(["sample", name, "--weights", str(tmp_path / "run"), "--out", str(tmp_path / "x.png")]) == 2
        err = capsys.readouterr().err
        assert "records no recipe and holds a gan model (kind='mlp'" in err and name in err
    assert not (tmp_path / "x.png").exists()
    assert main(["sample", "gan-8gaussians", "--weights", str(tmp_path / "run"), "--out", str(tmp_path / "x.png")]) == 0


# --- C7b (weak): AIGC_THREADS has an upper bound --------------------------------------------------------------------

def test_c7b_absurd_thread_counts_are_refused_not_a_segfault(tmp_path):
    proc = cli("train", "gan-8gaussians", "--profile", "quick", "--max-steps", 2, "--out", tmp_path / "r",
               AIGC_THREADS="100000")
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-500:])
    assert "AIGC_THREADS='100000' is more than" in proc.stderr and no_traceback(proc.stderr)


# --- C8 (weak): bench --json is checked before the run, and its results are never lost -------------------------

def test_c8_bench_json_is_checked_before_the_benchmark(tmp_path, monkeypatch, capsys):
    ran = []
    monkeypatch.setattr(bench, "run_bench", lambda *a, **k: ran.append(1) or {"ok": 1})
    monkeypatch.setattr(bench, "summary", lambda result: "summary")
    monkeypatch.setattr(commands.data, "load", lambda *a, **k: data.ImageData(
        torch.zeros(4, 1, 28, 28, dtype=torch.uint8), torch.zeros(4, dtype=torch.long), [], "x"))
    (tmp_path / "afile").write_text("x")
    assert main(["bench", "--seconds", "0.5", "--json", str(tmp_path / "afile" / "out.json")]) == 2
    assert "--json" in capsys.readouterr().err and not ran
    # the write fails after the run: the results are printed, then the error
    def disk_full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoint, "_atomic_write_bytes", disk_full)
    assert main(["bench", "--seconds", "0.5", "--json", str(tmp_path / "out.json")]) == 2
    out = capsys.readouterr()
    assert '"ok": 1' in out.out and "No space left on device" in out.err


def test_bench_prints_no_profiler_noise(capfd):
    with bench._without_profiler_noise():
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]):
            torch.ones(8) @ torch.ones(8)
        os.write(2, b"USDT:2026-12-07 1:1 SyncActivityProfilerHandler.cpp:52] profiler_start\n")
        os.write(2, b"a real warning\n")
    err = capfd.readouterr().err
    assert "profiler_start" not in err and "USDT" not in err and "a real warning" in err


# --- P5 (weak), N1 (weak), P3: state.json with the wrong structure, absurd nesting, huge files, edits ------------

@pytest.fixture
def toy_run(tmp_path):
    toy_trainer(out_dir=tmp_path / "run", meta={"recipe": "gan-8gaussians"}).run()
    return tmp_path / "run"


def _edit_state(run, change, keep_digest=False):
    path = run / "checkpoint" / "state.json"
    doc = json.loads(path.read_text())
    new = change(doc)  # edits in place, or returns a replacement document (a list)
    doc = new if isinstance(new, list) else doc
    if not keep_digest and isinstance(doc, dict):
        doc.pop("state_sha256", None)  # as an older checkpoint, which has no digest
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize("case,change,message", [
    ("a JSON list", lambda d: [d], "holds a JSON list, not an object"),
    ('"files" a list', lambda d: d.update(files=[]), '"files" is not an object'),
    ("a missing tensor", lambda d: d["state"]["rng"][0].update(noise={"__tensor__": "t99999"}), "does not fit"),
    ('"step": "abc"', lambda d: d["state"].update(step="abc"), '"state.step" is \'abc\''),
    ('"meta" a list', lambda d: d["state"].update(meta=[]), '"state.meta" is not an object'),
])
def test_p5_state_json_with_the_wrong_structure_is_named(toy_run, capsys, case, change, message):
    _edit_state(toy_run, change)
    with pytest.raises(CheckpointError, match=re.escape(message)):
        toy_trainer(TrainConfig(steps=8, batch_size=64, ckpt_every=2, log_every=2), out_dir=toy_run,
                    resume=toy_run).run()
    assert main(["train", "gan-8gaussians", "--resume", str(toy_run), "--max-steps", "8"]) == 2
    assert main(["sample", "gan-8gaussians", "--weights", str(toy_run), "--out", str(toy_run / "s.png")]) == 2
    assert "state.json" in capsys.readouterr().err


def test_p5_no_kind_or_a_float_in_the_model_config_name_the_file(toy_run, capsys):
    _edit_state(toy_run, lambda d: d["state"]["model_config"].update(hidden=16.5))
    assert main(["sample", "gan-8gaussians", "--weights", str(toy_run), "--out", str(toy_run / "s.png")]) == 2
    err = capsys.readouterr().err
    assert "state.json" in err and "hidden" in err
    _edit_state(toy_run, lambda d: d["state"].pop("kind"))
    assert main(["sample", "gan-8gaussians", "--weights", str(toy_run), "--out", str(toy_run / "s.png")]) == 2
    assert "state.json records no kind" in capsys.readouterr().err


def test_p5_resume_checks_the_model_config(toy_run):
    with pytest.raises(CheckpointError, match=r"records another model config \(hidden 16 there, 32 here\)"):
        toy_trainer(TrainConfig(steps=8, batch_size=64), model_cfg=TOY.replace(hidden=32), out_dir=toy_run,
                    resume=toy_run).run()


def test_p3_a_hand_edited_state_json_is_refused(toy_run):
    _edit_state(toy_run, lambda d: d["state"].update(step=600), keep_digest=True)
    with pytest.raises(CheckpointError, match="state.json was modified after it was written"):
        checkpoint.load_checkpoint(toy_run)


def test_n1_absurdly_nested_state_json(toy_run, capsys):
    (toy_run / "checkpoint" / "state.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(CheckpointError, match=r"state\.json is damaged \(nested more than"):
        checkpoint.load_checkpoint(toy_run)
    assert main(["sample", "gan-8gaussians", "--weights", str(toy_run), "--out", str(toy_run / "s.png")]) == 2
    assert main(["train", "gan-8gaussians", "--resume", str(toy_run), "--max-steps", "9"]) == 2
    assert capsys.readouterr().err.count("nested more than") == 2


def test_n1_a_huge_weights_file_is_refused_before_it_is_read(toy_run, monkeypatch):
    part = toy_run / "checkpoint" / "generator.safetensors"
    os.truncate(part, 2 * 2**30)  # sparse: 2 GiB on paper, nothing on the disk
    real = pathlib.Path.read_bytes

    def read_bytes(self):
        assert self.stat().st_size < 2**30, f"{self} was read whole"
        return real(self)

    monkeypatch.setattr(pathlib.Path, "read_bytes", read_bytes)
    with pytest.raises(CheckpointError, match=r"generator\.safetensors is 2147483648 bytes, more than the"):
        recipes.load_models(toy_run)


# --- X1 (weak), H10 (weak), P6: the manifest's entries, encoding and remedies -------------------------------------

@pytest.fixture
def weights_folder(tmp_path, monkeypatch):
    folder = tmp_path / "weights"
    monkeypatch.setenv("AIGC_WEIGHTS_DIR", str(folder))
    recipes.register_weights("gan-8gaussians", kinds.build("gan", TOY)["generator"], kind="gan",
                             model_config=TOY.to_dict(), info={"steps": 1})
    return folder


def test_x1_bad_manifest_entries_are_reported_not_crashed_on(weights_folder, capsys):
    manifest = checkpoint.read_manifest()
    good = manifest["weights"]["gan-8gaussians"]
    manifest["weights"].update({
        "no-file": {k: v for k, v in good.items() if k != "file"},
        "not-an-object": [1, 2],
        "outside": {**good, "file": "/etc/passwd"},
        "dcgan-fashion": "a string",
    })
    checkpoint.write_manifest(manifest)
    assert main(["weights", "list"]) == 0
    out = capsys.readouterr().out
    for name in ("no-file", "not-an-object", "outside", "dcgan-fashion"):
        assert re.search(rf"^{name} .* invalid entry: ", out, re.M), out
    assert main(["weights", "verify"]) == 1
    out = capsys.readouterr().out
    assert out.count("FAIL ") == 4 and "OK   gan-8gaussians" in out
    assert main(["sample", "dcgan-fashion", "--out", str(weights_folder / "x.png")]) == 2
    assert "cannot be used: the entry is a JSON str" in capsys.readouterr().err
    with pytest.raises(CheckpointError, match="not a plain file name"):
        recipes.pretrained("outside")


def test_h10_a_manifest_with_bad_bytes_or_nesting_is_named_with_the_right_remedy(weights_folder, capsys):
    path = weights_folder / "manifest.json"
    text = path.read_bytes()
    path.write_bytes(text[:50] + b"\xff" + text[50:])
    with pytest.raises(CheckpointError, match=r"manifest\.json is damaged \(not UTF-8 text.*AIGC_WEIGHTS_DIR="):
        recipes.pretrained("gan-8gaussians")
    assert main(["weights", "verify"]) == 2 and "manifest.json is damaged" in capsys.readouterr().err
    path.write_text('{"format": 1, "weights": ' + "[" * 50_000 + "]" * 50_000 + "}")
    with pytest.raises(CheckpointError, match="nested more than"):
        checkpoint.read_manifest()
    os.truncate(path, 200 * 2**20)
    with pytest.raises(CheckpointError, match="more than the"):
        checkpoint.read_manifest()


def test_h10_p6_the_remedy_fits_a_clone_an_install_or_the_variable(tmp_path, monkeypatch):
    monkeypatch.delenv("AIGC_WEIGHTS_DIR", raising=False)
    package = checkpoint._package_weights()
    assert "git checkout aigc_course/weights/manifest.json" in checkpoint.manifest_remedy(package)  # this is a clone
    real_exists = pathlib.Path.exists
    monkeypatch.setattr(pathlib.Path, "exists", lambda self: False if self.name == ".git" else real_exists(self))
    assert "reinstall the course package" in checkpoint.manifest_remedy(package)  # an installed package
    monkeypatch.setattr(pathlib.Path, "exists", real_exists)
    monkeypatch.setenv("AIGC_WEIGHTS_DIR", str(tmp_path / "wieghts"))  # misspelt
    assert "AIGC_WEIGHTS_DIR=" in checkpoint.manifest_remedy()
    proc = cli("weights", "verify", AIGC_WEIGHTS_DIR=str(tmp_path / "wieghts"))
    assert proc.returncode == 1 and f"AIGC_WEIGHTS_DIR={tmp_path / 'wieghts'} does not exist" in proc.stderr


# --- H11 (weak), H11b (bad), N3 (weak): shipping weights is one atomic step ---------------------------------------

def _module(seed):
    torch.manual_seed(seed)
    return kinds.build("gan", TOY)["generator"]


def _ship(seed):
    return recipes.register_weights("toy", _module(seed), kind="gan", model_config=TOY.to_dict(), info={"steps": 1})


def test_h11_an_unwritable_weights_folder_is_one_error_naming_it(weights_folder, tmp_path, monkeypatch, capsys):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(CheckpointError, match=rf"cannot write the weights of 'toy' into the weights folder "
                                              rf"{re.escape(str(tmp_path / 'afile' / 'w'))} "):
        recipes.register_weights("toy", _module(0), kind="gan", model_config=TOY.to_dict(),
                                 directory=tmp_path / "afile" / "w")
    before = {p.name: p.read_bytes() for p in weights_folder.iterdir()}

    def denied(path, data):
        raise PermissionError(errno.EACCES, "Permission denied", str(path.with_name(f".{path.name}.abc.tmp")))

    real = checkpoint._atomic_write_bytes
    monkeypatch.setattr(checkpoint, "_atomic_write_bytes", denied)
    with pytest.raises(CheckpointError, match=rf"into the weights folder {re.escape(str(weights_folder))} \(Permission"):
        _ship(1)
    assert {p.name: p.read_bytes() for p in weights_folder.iterdir()} == before
    monkeypatch.setattr(checkpoint, "_atomic_write_bytes", real)
    monkeypatch.setenv("AIGC_WEIGHTS_DIR", str(tmp_path / "afile" / "w"))
    assert main(["weights", "register", "toy", str(tmp_path)]) == 2  # the printed "ship it" command: no traceback
    assert "no checkpoint in" in capsys.readouterr().err


def test_h11b_a_failed_manifest_write_keeps_the_shipped_weights(weights_folder, monkeypatch):
    first = _ship(0)
    before = {p.name: p.read_bytes() for p in weights_folder.iterdir()}

    def disk_full(*args, **kw):
        raise OSError(errno.ENOSPC, "No space left on device")

    real = checkpoint.write_manifest
    monkeypatch.setattr(checkpoint, "write_manifest", disk_full)
    with pytest.raises(CheckpointError, match="nothing was changed there"):
        _ship(1)
    monkeypatch.setattr(checkpoint, "write_manifest", real)
    assert {p.name: p.read_bytes() for p in weights_folder.iterdir()} == before  # the new file was not left behind
    assert recipes.weights_verify() == [] and checkpoint.manifest_entry("toy")["sha256"] == first["sha256"]
    second = _ship(1)
    assert second["file"] != first["file"] and not (weights_folder / first["file"]).exists()  # removed after
    assert re.fullmatch(r"toy-[0-9a-f]{12}\.safetensors", second["file"]) and second["file"][4:16] == second["sha256"][:12]


def test_n3_readers_during_a_registration_never_see_damage(weights_folder, monkeypatch):
    _ship(0)
    seen = []
    real_write = checkpoint.write_manifest

    def read_between(*args, **kw):  # a reader between the weights write and the manifest write
        seen.append(recipes.weights_verify(["toy"]))
        seen.append(float(next(recipes.pretrained("toy").parameters()).detach().sum()))
        return real_write(*args, **kw)

    monkeypatch.setattr(checkpoint, "write_manifest", read_between)
    _ship(1)
    assert seen[0] == [] and isinstance(seen[1], float)
    monkeypatch.setattr(checkpoint, "write_manifest", real_write)

    real_read = checkpoint._read_tensors
    swapped = []

    def lose_the_race(*args, **kw):  # this reader read the manifest, then a registration replaced the file
        if not swapped:
            swapped.append(1)
            _ship(2)
        return real_read(*args, **kw)

    monkeypatch.setattr(checkpoint, "_read_tensors", lose_the_race)
    model = recipes.pretrained("toy")  # re-reads the manifest instead of reporting damage
    for a, b in zip(model.parameters(), _module(2).parameters()):
        assert torch.equal(a, b.half().float())


@pytest.mark.slow
def test_n3_concurrent_readers_and_a_writer(weights_folder):
    _ship(0)
    writer = subprocess.Popen([sys.executable, "-c", (
        "import torch; from aigc_course import kinds, recipes; from aigc_course.config import GANConfig\n"
        f"cfg = GANConfig(**{TOY.to_dict()!r})\n"
        "for i in range(60):\n"
        "    torch.manual_seed(i % 2)\n"
        "    recipes.register_weights('toy', kinds.build('gan', cfg)['generator'], kind='gan', "
        "model_config=cfg.to_dict(), info={'steps': 1})\n")], env=cli_env(AIGC_WEIGHTS_DIR=str(weights_folder)))
    problems, reads = [], 0
    while writer.poll() is None:
        problems += recipes.weights_verify(["toy"])
        reads += 1
    assert writer.returncode == 0 and reads > 10
    assert problems == []
    assert sorted(p.suffix for p in weights_folder.iterdir()) == [".json", ".safetensors", ".safetensors"]


# --- H5 (bad): sample --n is bounded and drawn in batches --------------------------------------------------------

def test_h5_sample_n_is_refused_up_front(tmp_path, monkeypatch, capsys):
    def no_model(*a, **k):
        raise AssertionError("a model was built before --n was checked")

    monkeypatch.setattr(recipes, "pretrained", no_model)
    assert main(["sample", "dcgan-fashion", "--n", "20000", "--out", str(tmp_path / "x.png")]) == 2
    assert "at most 10000 samples of dcgan-fashion fit in one PNG grid" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["sample", "gan-8gaussians", "--n", "100000000", "--out", str(tmp_path / "x.png")])
    assert exit_.value.code == 2 and "--n: must be at most 1000000" in capsys.readouterr().err


def test_h5_samples_are_drawn_in_batches():
    class Stub(nn.Module):
        def __init__(self, n_classes=0, image=True):
            super().__init__()
            self.n_classes, self.image, self.calls = n_classes, image, []
            self.w = nn.Parameter(torch.zeros(1))

        def sample(self, n, generator=None):
            self.calls.append(n)
            return torch.zeros(n, 1, 4, 4) if self.image else torch.randn(n, 2, generator=generator)

    points = Stub(image=False)
    commands.sample_picture(points, 5000)
    assert sum(points.calls) == 5000 and max(points.calls) <= 1024
    grid = Stub(n_classes=10)
    commands.sample_picture(grid, 3000)
    assert sum(grid.calls) == 3000 and all(n % 10 == 0 and n <= 1024 for n in grid.calls)
    with pytest.raises(ValueError, match="at most 10000 images fit in one PNG grid"):
        commands.sample_picture(Stub(), 20000)


# --- H6 (bad): metrics refuse NaN/Inf and out-of-range images, naming the input and the rows ---------------------

class Features(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(1))

    def features(self, x):
        return x.flatten(1)[:, :8] * self.w


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_h6_features_with_nan_or_inf_are_refused(bad):
    gen = torch.Generator().manual_seed(0)
    real, fake = torch.randn(50, 4, generator=gen), torch.randn(50, 4, generator=gen)
    fake[7, 2] = bad
    for fn in (metrics.precision_recall, metrics.density_coverage, metrics.fid_from_features, metrics.fid):
        with pytest.raises(ValueError, match=r"holds 1 row \(e\.g\. row 7\) with NaN/Inf"):
            fn(real, fake)
    with pytest.raises(ValueError, match=r"real_feats holds 50 rows \(e\.g\. rows 0, 1, 2, 3, 4, \.\.\.\)"):
        metrics.precision_recall(torch.full((50, 4), float("nan")), fake)


def test_h6_images_with_nan_or_out_of_range_are_refused():
    gen = torch.Generator().manual_seed(0)
    a, b = torch.rand(20, 1, 4, 4, generator=gen) * 2 - 1, torch.rand(20, 1, 4, 4, generator=gen) * 2 - 1
    model = Features()
    assert np.isfinite(metrics.fid(a, b, model))
    nan = b.clone()
    nan[3, 0, 1, 1] = float("nan")
    with pytest.raises(ValueError, match=r"images_b holds 1 row \(e\.g\. row 3\) with NaN/Inf"):
        metrics.fid(a, nan, model)
    with pytest.raises(ValueError, match=r"images_a: float images must lie in \[-1, 1\].*20 rows"):
        metrics.fid(a * 1e6, b, model)
    assert np.isfinite(metrics.fid(((a + 1) * 127.5).to(torch.uint8), b, model))  # uint8 is fine


# --- N2 (weak): printed commands are quoted for the shell ----------------------------------------------------------

def test_n2_printed_commands_survive_quotes_spaces_and_dollar_signs(tmp_path):
    out = "Bob's run $(touch PWNED)"
    env = cli_env(AIGC_WEIGHTS_DIR=str(tmp_path / "w"))
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env["PATH"]  # `python` is this Python
    proc = cli("train", "gan-8gaussians", "--profile", "quick", "--max-steps", 3, "--out", out, cwd=tmp_path,
               AIGC_WEIGHTS_DIR=str(tmp_path / "w"))
    assert proc.returncode == 0, proc.stderr
    resume = re.search(r"continue with --resume (.*) --max-steps N\)", proc.stdout).group(1)
    assert shlex.split(resume) == [f"{out}/checkpoint"]
    ship = re.search(r"^ship it: +(.*)$", proc.stdout, re.M).group(1)
    for line in (ship, f"python -m aigc_course train gan-8gaussians --profile quick --max-steps 5 --resume {resume}"):
        pasted = subprocess.run(["bash", "-c", line], cwd=tmp_path, env=env, capture_output=True, text=True,
                                timeout=600)
        assert pasted.returncode == 0, (line, pasted.stderr)
    assert not (tmp_path / "PWNED").exists()
    assert checkpoint.manifest_entry("gan-8gaussians", tmp_path / "w")["steps"] == 3
    assert checkpoint.load_checkpoint(tmp_path / out)["step"] == 5


# --- the command line's help lists the recipes ------------------------------------------------------------------

@pytest.mark.parametrize("command", ["train", "sample"])
def test_help_lists_the_recipes(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    for name, recipe in recipes.RECIPES.items():
        assert re.search(rf"^  {re.escape(name)} ", out, re.M), name
