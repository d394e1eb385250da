"""aigc_course.bench: the results of a short CPU run on a tiny DCGAN, and the reference loop itself."""
import copy
import json
import math

import pytest
import torch

from aigc_course import bench, recipes, runtime
from aigc_course.config import GANConfig, TrainConfig
from aigc_course.errors import CourseError
from aigc_course.gan import build_gan

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
    return bench.run_bench(TINY, CFG, synthetic_images(512), seconds=1.5, rounds=2, warmup_steps=3, device="cpu",
                           test_images=synthetic_images(200, seed=1), fid_samples=100, profile_steps=2)


def test_results_have_the_required_fields(result):
    for key in ("device", "torch", "recipe", "batch_size", "seconds", "reference_img_per_s", "ours_img_per_s",
                "speedup", "target_speedup", "flops_per_img", "notes"):
        assert key in result, key
    assert result["device"].startswith("cpu: ") and result["torch"] == torch.__version__
    assert result["batch_size"] == 32
    for side in ("reference", "ours"):
        assert result[f"{side}_img_per_s"] > 0 and result["flops_per_img"][side] > 0
        assert result[side]["steps"] > 0 and result[side]["timed_s"] > 0
        assert math.isclose(result[side]["img_per_s"], result[side]["images"] / result[side]["timed_s"])
        for setting in ("amp", "compile", "channels_last", "loader"):
            assert setting in result[side]["settings"], (side, setting)
    assert math.isclose(result["speedup"], result["ours_img_per_s"] / result["reference_img_per_s"])
    assert result["target_met"] == (result["speedup"] >= 1.5)
    assert result["mfu"] is None and result["peak_bf16_flops"] is None  # no bf16 peak on a CPU
    assert result["reference"]["settings"]["num_workers"] == 0 and result["reference"]["settings"]["amp"] is False
    assert result["ours"]["settings"]["compile"] is False  # measured slower on CPU
    assert result["ours"]["settings"]["amp"] == ("bfloat16 autocast" if runtime.cpu_bf16_supported() else False)
    assert result["ours"]["settings"]["reuse_fakes"] is True
    work = result["work_per_step"]
    assert work["same"] is True and work["g_forwards"] == {"reference": 1, "ours": 1}
    assert work["flops_ratio_ours_to_reference"] < 1  # same forwards, but D frozen in ours' G step
    json.loads(json.dumps(result))  # what --json writes


def test_each_side_trained_about_the_asked_time(result):
    for side in ("reference", "ours"):
        assert 1.5 <= result[side]["timed_s"] < 4, (side, result[side]["timed_s"])


def test_profile_and_notes(result):
    for side in ("reference", "ours"):
        prof = result["profile"][side]
        assert prof["ms_per_step"] > 0 and len(prof["top_ops"]) > 0
        assert all(op["self_ms"] > 0 and 0 < op["share"] <= 1 for op in prof["top_ops"])
        assert any(op["op"] == "aten::convolution_backward" for op in prof["top_ops"])
        assert 0.2 < prof["shares"]["convolutions"] <= 1.05
    assert result["profile"]["reference"]["shares"]["data loading"] > 0  # the DataLoader shows up
    assert result["notes"][0].startswith(f"speedup {result['speedup']:.2f}x")
    assert "reference (DataLoader" in bench.summary(result)


def test_quality_fields(result):
    floor = result["fid_real_floor"]
    assert result["fid_samples"] == 100 and 0 <= floor
    assert result["reference_fid"] > floor and result["ours_fid"] > floor  # barely trained tiny models


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
