"""Round 4 of the reliability probe: the cases it rated good that no earlier test held (H3, H8, H9, H12, N1's
hostile headers, N4), so that they stay good. The weak and bad cases are in `tests/test_reliability_round4.py`;
the data cases in `tests/test_data.py`."""
from __future__ import annotations

import io
import json
import os
import pathlib
import shutil
import sys

import pytest
import torch

from aigc_course import checkpoint, data, kinds, runtime, train
from aigc_course.__main__ import main
from aigc_course.config import GANConfig, TrainConfig, VAEConfig
from aigc_course.errors import CheckpointError

ROOT = pathlib.Path(__file__).parent.parent
TOY = GANConfig(kind="mlp", z_dim=2, data_dim=2, hidden=16, depth=2)
QUICK = ["--profile", "quick"]


def gan_run(out, steps=3):
    torch.manual_seed(0)
    train.GANTrainer(kinds.build("gan", TOY), data.toy2d("ring", 512),
                     TrainConfig(steps=steps, batch_size=64, log_every=1), progress=False, out_dir=out,
                     meta={"recipe": "gan-8gaussians"}).run()
    return out


# --- H3: paths in other scripts, with spaces, and a terminal that can only show ASCII ------------------------------

def test_h3_non_ascii_paths_and_an_ascii_terminal(tmp_path, monkeypatch):
    run, png = tmp_path / "运行 1", tmp_path / "样本 图.png"
    out = io.TextIOWrapper(io.BytesIO(), encoding="ascii")  # as PYTHONIOENCODING=ascii / LANG=C
    monkeypatch.setattr(sys, "stdout", out)
    assert main(["train", "gan-8gaussians", *QUICK, "--max-steps", "3", "--out", str(run)]) == 0
    assert main(["train", "gan-8gaussians", *QUICK, "--max-steps", "5", "--resume", str(run)]) == 0
    assert main(["sample", "gan-8gaussians", "--weights", str(run), "--n", "16", "--out", str(png)]) == 0
    out.flush()
    printed = out.buffer.getvalue().decode("ascii")
    assert "\\u8fd0\\u884c 1/checkpoint" in printed  # escaped, not an error after the work was done
    assert checkpoint.load_checkpoint(run)["step"] == 5 and png.read_bytes()[:4] == b"\x89PNG"


# --- H8: AIGC_PROFILE is read without regard to case and spaces; a typo is named --------------------------------

@pytest.mark.parametrize("value, expected", [("FULL", "full"), (" quick ", "quick"), ("Quick", "quick"), ("", None)])
def test_h8_profile_variable_case_and_spaces(monkeypatch, value, expected):
    monkeypatch.setenv("AIGC_PROFILE", value)
    assert runtime.profile() == (expected or ("full" if torch.cuda.is_available() else "quick"))


def test_h8_profile_typos_are_named(monkeypatch, capsys):
    monkeypatch.setenv("AIGC_PROFILE", "ful")
    with pytest.raises(ValueError, match=r"AIGC_PROFILE='ful' is not a profile; use one of \('quick', 'full'\)"):
        runtime.profile()
    with pytest.raises(SystemExit) as exit_:
        main(["train", "gan-8gaussians", "--profile", "FULL"])
    assert exit_.value.code == 2 and "invalid choice: 'FULL'" in capsys.readouterr().err


# --- H12: resuming another recipe's or another kind's checkpoint is refused before any data is loaded -----------

def test_h12_resume_of_another_recipe_or_kind(tmp_path, monkeypatch, capsys):
    run = gan_run(tmp_path / "run")

    def no_data(*a, **k):
        raise AssertionError("data was loaded before the checkpoint was checked")

    monkeypatch.setattr(data, "load", no_data)
    monkeypatch.setattr(data, "fashion_mnist", no_data)
    for name in ("dcgan-fashion", "vae2d-fashion"):
        assert main(["train", name, "--resume", str(run), "--max-steps", "9"]) == 2
        assert f"is a checkpoint of 'gan-8gaussians', not of '{name}'" in capsys.readouterr().err
    vae = kinds.build("vae", VAEConfig(kind="mlp", z_dim=2, img_size=28, hidden=32))
    trainer = train.VAETrainer(vae, torch.zeros(64, 1, 28, 28), TrainConfig(steps=8, batch_size=16),
                               progress=False, out_dir=tmp_path / "vae", resume=run)
    with pytest.raises(CheckpointError, match="holds a gan checkpoint; this is the vae trainer"):
        trainer.run()


# --- N1: hostile .safetensors headers (the recorded SHA-256 updated to match) are refused in one line -------------

def _safetensors(header: dict | bytes, body: bytes = b"", length: int | None = None) -> bytes:
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return (len(raw) if length is None else length).to_bytes(8, "little") + raw + body


@pytest.mark.parametrize("case, blob", [
    ("header length 2**62", _safetensors({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}},
                                         b"\0" * 4, length=2**62)),
    ("a 65536x65536 tensor in 64 bytes", _safetensors({"a": {"dtype": "F32", "shape": [65536, 65536],
                                                              "data_offsets": [0, 4 * 65536 * 65536]}}, b"\0" * 64)),
    ("overlapping offsets", _safetensors({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                                          "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}}, b"\0" * 24)),
])
def test_n1_hostile_safetensors_headers_are_refused(tmp_path, capsys, case, blob):
    run = gan_run(tmp_path / "run")
    part = run / "checkpoint" / "generator.safetensors"
    part.write_bytes(blob)
    state = run / "checkpoint" / "state.json"
    doc = json.loads(state.read_text())
    doc["files"]["generator.safetensors"] = checkpoint.sha256_bytes(blob)  # the attacker updated the hash
    state.write_text(json.dumps(doc))
    with pytest.raises(CheckpointError, match="is not a valid .safetensors file"):
        checkpoint.load_weights(part, sha256=checkpoint.sha256_bytes(blob))
    assert main(["sample", "gan-8gaussians", "--weights", str(run), "--out", str(tmp_path / "s.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "generator.safetensors" in err and "Traceback" not in err


# --- N4: Unicode in every flag ----------------------------------------------------------------------------------

def test_n4_unicode_digits_names_and_paths(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "gan-8gaussians", *QUICK, "--max-steps", "５", "--seed", "٣", "--out", "🚀"]) == 0
    state = checkpoint.load_checkpoint(tmp_path / "🚀")
    assert state["step"] == 5 and state["train_config"]["seed"] == 3
    for argv in (["sample", "gan-8gaussians", "--n", "²", "--out", "x.png"],
                 ["train", "gan-8gaussians", "--profile", "ｆｕｌｌ"]):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2
    capsys.readouterr()
    for lookalike in ("gan\u20108gaussians", "gan-8gauss\u0456ans"):  # a Unicode hyphen, a Cyrillic i
        assert main(["sample", lookalike, "--out", "x.png"]) == 2
        assert "unknown recipe" in capsys.readouterr().err
    undecodable = os.fsdecode(b"caf\xe9")  # bytes that are not UTF-8, as the shell passes them
    assert main(["train", "gan-8gaussians", *QUICK, "--max-steps", "2", "--out", undecodable]) == 0
    assert main(["sample", "gan-8gaussians", "--n", "16", "--out", os.fsdecode(b"\xff.png")]) == 0
    assert main(["sample", "gan-8gaussians", "--n", "16", "--out", "\u202egnp.png"]) == 0  # right-to-left override
    assert (tmp_path / os.fsdecode(b"caf\xe9") / "checkpoint").is_dir()
    assert (tmp_path / os.fsdecode(b"\xff.png")).is_file() and (tmp_path / "\u202egnp.png").is_file()


# --- H9: a notebook run twice in one kernel gives the same outputs ---------------------------------------------

@pytest.mark.slow
def test_h9_a_notebook_run_twice_in_one_kernel(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    source = ROOT / "chapters" / "01_concepts" / "02_probability.ipynb"
    shutil.copy(source, tmp_path / source.name)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("AIGC_PROFILE", "quick")
    nb = nbformat.read(tmp_path / source.name, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})

    def text_outputs():
        # stderr aside: Python shows each warning once per process, so a rerun rightly prints fewer
        return [[o.get("text") or (o.get("data") or {}).get("text/plain") for o in cell.get("outputs", [])
                 if o.get("name") != "stderr"]
                for cell in nb.cells if cell.cell_type == "code"]

    with client.setup_kernel():
        runs = []
        for _ in range(2):
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)  # raises CellExecutionError on an error
            runs.append(text_outputs())
    assert runs[0] == runs[1]
