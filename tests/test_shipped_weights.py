"""The weights that ship with the package: present, untampered, loadable, small, documented."""
import json

import pytest
import torch

from aigc_course import checkpoint, recipes

MANIFEST = checkpoint.weights_dir() / "manifest.json"
ENTRIES = json.loads(MANIFEST.read_text())["weights"] if MANIFEST.exists() else {}
# Every recipe on data these machines have offline ships weights (MNIST must be downloaded: its recipe is
# for readers who can; the toy 2-D recipes train in seconds).
IMAGE_RECIPES = [name for name, r in recipes.RECIPES.items() if not r.data.startswith("toy2d:") and r.data != "mnist"]


def test_every_shipped_file_matches_the_manifest():
    assert recipes.weights_verify() == []


def test_every_image_recipe_ships_weights():
    missing = [name for name in IMAGE_RECIPES if name not in ENTRIES]
    assert not missing, f"no shipped weights for {missing}: train with --profile full and register them"


def test_total_size_under_30_mb():
    total = sum((checkpoint.weights_dir() / e["file"]).stat().st_size for e in ENTRIES.values())
    assert total < 30 * 2**20, f"shipped weights take {total / 2**20:.1f} MiB"


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_manifest_entry_is_documented(name):
    entry = ENTRIES[name]
    for key in ("sha256", "kind", "model_config", "steps", "wall_time_s", "device", "command", "torch", "date"):
        assert entry.get(key) not in (None, ""), f"{name}: manifest field {key!r} is empty"
    assert entry["steps"] > 0 and entry["wall_time_s"] > 0


@pytest.mark.parametrize("name", sorted(n for n in ENTRIES if ENTRIES[n]["kind"] in ("gan", "vae")))
def test_shipped_generators_sample_finite_values(name):
    model = recipes.pretrained(name, device="cpu")
    with torch.no_grad():
        x = model.sample(8, generator=torch.Generator().manual_seed(0))
    assert torch.isfinite(x).all()
    if x.dim() == 4:  # images come out of tanh (GAN) or to_image (VAE): [-1, 1]; 2-D toy points are unbounded
        assert x.min() >= -1 - 1e-4 and x.max() <= 1 + 1e-4
    assert x.std() > 0.05, "samples are constant: the weights did not load or the model collapsed"
