"""The command line: ``python -m aigc_course train | sample | weights`` (real subprocesses where the
exit status and output matter, in-process calls otherwise)."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aigc_course import checkpoint, kinds, recipes
from aigc_course.__main__ import main

ROOT = Path(__file__).parent.parent


def cli(*args, weights_dir=None, cwd=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AIGC_THREADS": "1", "OMP_NUM_THREADS": "1"}
    if weights_dir is not None:
        env["AIGC_WEIGHTS_DIR"] = str(weights_dir)
    return subprocess.run([sys.executable, "-m", "aigc_course", *map(str, args)], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """``train gan-8gaussians --max-steps 20`` through the real CLI."""
    out = tmp_path_factory.mktemp("run")
    proc = cli("train", "gan-8gaussians", "--profile", "quick", "--max-steps", 20, "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert "checkpoint:" in proc.stdout and str(out / "samples.png") in proc.stdout
    return out


@pytest.fixture
def shipped(run_dir, tmp_path, monkeypatch):
    """A weights folder holding the run's weights, and AIGC_WEIGHTS_DIR pointing at it (in-process too)."""
    monkeypatch.setenv("AIGC_WEIGHTS_DIR", str(tmp_path))
    recipes.register_weights("gan-8gaussians", run_dir)
    return tmp_path


def test_train_writes_a_checkpoint_and_samples(run_dir):
    state = checkpoint.load_checkpoint(run_dir)
    assert state["step"] == 20 and state["meta"]["recipe"] == "gan-8gaussians"
    assert Image.open(run_dir / "samples.png").size == (256, 256)


def test_train_a_language_model_through_the_cli(tmp_path):
    """A kind without images (charlm) trains, saves and reports; no samples.png is written."""
    from aigc_course import text
    from aigc_course.errors import DataNotFoundError

    try:
        text.tang_file()
    except DataNotFoundError:
        pytest.skip("the Tang poems (fortunes-zh) are not installed")
    proc = cli("train", "charlm-tang", "--profile", "quick", "--max-steps", 2, "--out", tmp_path / "lm")
    assert proc.returncode == 0, proc.stderr
    assert "2 steps" in proc.stdout and "sequences/s" in proc.stdout and "samples:" not in proc.stdout
    assert checkpoint.load_checkpoint(tmp_path / "lm")["step"] == 2
    assert not (tmp_path / "lm" / "samples.png").exists()


def test_train_resumes_to_more_steps(run_dir, tmp_path, capsys):
    assert main(["train", "gan-8gaussians", "--profile", "quick", "--max-steps", "25", "--out", str(tmp_path),
                 "--resume", str(run_dir)]) == 0
    assert "25 steps" in capsys.readouterr().out
    assert checkpoint.load_checkpoint(tmp_path)["step"] == 25


def test_weights_verify_ok_then_fails_on_a_tampered_file(shipped):
    good = cli("weights", "verify", weights_dir=shipped)
    assert good.returncode == 0 and "OK   gan-8gaussians" in good.stdout, good.stdout + good.stderr
    path = shipped / checkpoint.manifest_entry("gan-8gaussians", shipped)["file"]
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 0xFF
    path.write_bytes(bytes(raw))
    bad = cli("weights", "verify", weights_dir=shipped)
    assert bad.returncode == 1 and "FAIL gan-8gaussians" in bad.stdout and "SHA-256" in bad.stdout


def test_weights_verify_fails_on_a_missing_file(shipped, capsys):
    (shipped / checkpoint.manifest_entry("gan-8gaussians", shipped)["file"]).unlink()
    assert main(["weights", "verify"]) == 1
    assert "missing" in capsys.readouterr().out


def test_weights_list_and_empty_manifest(shipped, tmp_path, monkeypatch, capsys):
    assert main(["weights", "list"]) == 0
    out = capsys.readouterr().out
    assert "gan-8gaussians-" in out and ".safetensors" in out and "20" in out and "total" in out
    monkeypatch.setenv("AIGC_WEIGHTS_DIR", str(tmp_path / "empty"))
    assert main(["weights", "list"]) == 0 and "no weights listed" in capsys.readouterr().out
    assert main(["weights", "verify"]) == 1  # fails closed: nothing to verify is a broken installation
    assert "no shipped weights are listed" in capsys.readouterr().err


def test_sample_writes_a_png_from_shipped_or_given_weights(shipped, run_dir, tmp_path):
    assert main(["sample", "gan-8gaussians", "--out", str(tmp_path / "a.png"), "--n", "500"]) == 0
    assert main(["sample", "gan-8gaussians", "--weights", str(run_dir), "--out", str(tmp_path / "b.png")]) == 0
    a = Image.open(tmp_path / "a.png")
    assert a.size == (256, 256) and np.asarray(a).min() < 255  # some dots drawn


def test_sample_image_recipe_grid(tmp_path):
    """An image model from a checkpoint folder gives a grid PNG (one class per column when conditional)."""
    recipe = recipes.get_recipe("cgan-fashion")
    models = kinds.build("gan", recipe.model.replace(width=8))
    checkpoint.save_checkpoint(tmp_path / "ck", models=models, state={
        "kind": "gan", "model_config": recipe.model.replace(width=8).to_dict()})
    assert main(["sample", "cgan-fashion", "--weights", str(tmp_path / "ck"), "--n", "20",
                 "--out", str(tmp_path / "g.png")]) == 0
    assert Image.open(tmp_path / "g.png").size == (10 * 30 + 2, 2 * 30 + 2)


def test_bad_recipe_name_exits_2_with_the_list_and_no_traceback():
    proc = cli("sample", "dcgan-mnist", "--out", "x.png")
    assert proc.returncode == 2
    assert "unknown recipe 'dcgan-mnist'" in proc.stderr and "dcgan-fashion" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_shipped_weights_exit_2_with_advice(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AIGC_WEIGHTS_DIR", str(tmp_path))
    assert main(["sample", "vae-fashion", "--out", str(tmp_path / "x.png")]) == 2
    assert "python -m aigc_course train vae-fashion" in capsys.readouterr().err
