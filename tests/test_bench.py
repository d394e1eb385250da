"""aigc_course.bench: the results of a short CPU run on a tiny DCGAN, and the reference loop itself."""
import copy
import json
import math
import statistics

import pytest
import torch

from aigc_course import bench, data, recipes, runtime
from aigc_course.config import GANConfig, TrainConfig
from aigc_course.errors import CourseError
from aigc_course.gan import build_gan
from aigc_course.train import GANTrainer

TINY = GANConfig(kind="dcgan", z_dim=16, width=8)
CFG = TrainConfig(batch_size=32, lr=2e-4, lr_d=2e-4, betas=(0.5, 0.999))



def synthetic_images(n, seed=0):
    """uint8 (n, 1, 28, 28): bright 10x10 squares at random places on black."""
    g = torch.Generator().manual_seed(seed)
    images = torch.zeros(n, 1, 28, 28, dtype=torch.uint8)
    for i, (top, left) in enumerate(torch.randint(0, 18, (n, 2), generator=g).tolist()):
        images[i, 0, top:top + 10, left:left + 10] = 255
    return images


@pytest.fixture(scope="module")
def result():
    return bench.run_bench(TINY, CFG, synthetic_images(512), seconds=1.5, rounds=5, warmup_steps=3, device="cpu",
                           profile_steps=2)


def test_results_have_the_required_fields(result):
    for key in ("device", "torch", "recipe", "batch_size", "seconds_per_side", "rounds", "reference", "rows", "notes"):
        assert key in result, key
    assert result["device"].startswith("cpu: ") and result["torch"] == torch.__version__
    assert result["batch_size"] == 32 and result["rounds"] == 5
    ref = result["reference"]
    assert ref["steps"] > 0 and ref["flops_per_img"] > 0 and len(ref["img_per_s"]["rounds"]) == 5
    assert ref["settings"]["num_workers"] == 0 and ref["settings"]["amp"] == "fp32"
    names = [r["name"] for r in result["rows"]]
    assert names[0] == "same work, fp32"
    for row in result["rows"]:
        rates, speedups = row["img_per_s"], row["speedup"]
        assert len(rates["rounds"]) == len(speedups["rounds"]) == 5
        assert rates["min"] <= rates["median"] <= rates["max"]
        for o, r, sp in zip(rates["rounds"], ref["img_per_s"]["rounds"], speedups["rounds"]):
            assert math.isclose(sp, o / r)  # each round's speedup is against the same round's reference
        assert math.isclose(row["img_per_s"]["median"], statistics.median(rates["rounds"]))
        assert row["settings"]["reuse_fakes"] is True and row["settings"]["compile"] is False  # CPU
    same = result["rows"][0]["settings"]
    assert same["amp"] == "fp32" and same["channels_last"] is False
    fast = runtime.fast_path("cpu")
    if fast["amp"] != "fp32" or fast["channels_last"]:  # the fast path row exists only if it changes something
        assert len(result["rows"]) == 2 and result["rows"][1]["settings"]["channels_last"] == fast["channels_last"]
    assert result["peak_bf16_flops"] is None and all(r["mfu"] is None for r in result["rows"])  # no peak on CPU
    json.loads(json.dumps(result))  # what --json writes


def test_each_side_trained_about_the_asked_time(result):
    sides = [result["reference"]] + result["rows"]
    for side in sides:
        assert 1.5 <= side["timed_s"] < 4, side["timed_s"]


def test_profile_and_notes(result):
    for side in ("reference", "ours"):
        prof = result["profile"][side]
        assert prof["ms_per_step"] > 0 and len(prof["top_ops"]) > 0
        assert all(op["self_ms"] > 0 and 0 < op["share"] <= 1 for op in prof["top_ops"])
        assert any(op["op"] == "aten::convolution_backward" for op in prof["top_ops"])
        assert 0.05 < prof["shares"]["convolutions"] <= 1.05  # 0.17 with one thread beside the book build
    assert result["profile"]["reference"]["shares"]["data loading"] > 0  # the DataLoader shows up
    assert result["notes"][0].startswith("same work, fp32: ")
    assert "reference (DataLoader" in bench.summary(result)


def test_same_work_row_does_the_reference_algorithm():
    """At amp=False in NCHW, our trainer and the reference loop compute the same losses from the same
    weights, batches and noise: the same-work row compares plumbing, not algorithms."""
    runtime.set_seed(0)
    G, D = build_gan(TINY)
    images = synthetic_images(256)
    dev = torch.device("cpu")
    ref = bench.reference_steps(copy.deepcopy(G), copy.deepcopy(D), images, CFG, dev, shuffle=False,
                                noise=torch.Generator().manual_seed(CFG.seed))
    ref_losses = [next(ref)[1:] for _ in range(6)]
    settings = bench.same_work_settings(dev)
    loader = data.TensorLoader(images, batch_size=CFG.batch_size, shuffle=False, device=dev)
    trainer = GANTrainer({"generator": copy.deepcopy(G), "discriminator": copy.deepcopy(D)}, loader,
                         bench._ours_config(CFG, settings, log_every=1, steps=6), progress=False)
    ours = [(float(s["d_loss"]), float(s["g_loss"])) for s in trainer.steps()]
    for (rd, rg), (od, og) in zip(ref_losses, ours):
        assert od == pytest.approx(rd, rel=1e-4, abs=1e-5) and og == pytest.approx(rg, rel=1e-4, abs=1e-5)
    # ... and the check can fail: fresh noise for the G step (the trainer's default) is another algorithm
    other = GANTrainer({"generator": copy.deepcopy(G), "discriminator": copy.deepcopy(D)}, loader,
                       bench._ours_config(CFG, settings, 1, 6).replace(reuse_fakes=False), progress=False)
    assert [round(float(s["g_loss"]), 5) for s in other.steps()] != [round(g, 5) for _, g in ours]


def test_reference_loop_trains():
    runtime.set_seed(0)
    G, D = build_gan(TINY)
    G0, D0 = copy.deepcopy(G), copy.deepcopy(D)
    steps = bench.reference_steps(G, D, synthetic_images(128), CFG, torch.device("cpu"))
    losses = [next(steps) for _ in range(6)]  # 4 batches per epoch: crosses an epoch boundary
    assert all(b == 32 and math.isfinite(d) and math.isfinite(g) for b, d, g in losses)
    assert len({round(d, 6) for _, d, _ in losses}) > 1 and len({round(g, 6) for _, _, g in losses}) > 1
    for before, after in ((G0, G), (D0, D)):
        changed = [not torch.equal(p0, p) for p0, p in zip(before.parameters(), after.parameters())]
        assert all(changed), "every parameter of G and D must move"


def test_example_dataset_normalises_like_totensor_normalize():
    images = torch.tensor([0, 255, 51], dtype=torch.uint8).reshape(3, 1, 1, 1)
    ds = bench._ExampleImages(images)
    values = [ds[i][0].item() for i in range(3)]
    assert values == pytest.approx([-1.0, 1.0, 51 / 255 * 2 - 1])


def test_only_the_dcgan_example_recipe_is_accepted():
    bench.check_recipe(recipes.get_recipe("dcgan-fashion"))
    for name in ("wgangp-fashion", "cgan-fashion", "vae-fashion", "gan-8gaussians"):
        with pytest.raises(CourseError, match="dcgan-fashion"):
            bench.check_recipe(recipes.get_recipe(name))


def test_peak_table_matches_device_names(monkeypatch):
    cuda = torch.device("cuda")
    for name, peak in [("NVIDIA H100 80GB HBM3", 989e12), ("NVIDIA H100 PCIe", 756e12), ("NVIDIA H200", 989e12),
                       ("NVIDIA A100-SXM4-80GB", 312e12), ("NVIDIA GeForce RTX 4090", None)]:
        monkeypatch.setattr(torch.cuda, "get_device_name", lambda dev=None, name=name: name)
        assert bench.peak_bf16_flops(cuda)[0] == peak, name
    assert bench.peak_bf16_flops(torch.device("cpu")) == (None, None)


def test_readme_benchmark_table_matches_results():
    """The README's table is generated from benchmarks/results/*.json and must not go stale."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    run = subprocess.run([sys.executable, "benchmarks/render_tables.py", "--check"], cwd=root, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
