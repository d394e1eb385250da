"""The package's shape: layers without cycles, one registry of model kinds that a new kind plugs into
without touching any other module, and a wheel that installs everything it needs."""
from __future__ import annotations

import ast
import os
import pathlib
import subprocess
import sys
import zipfile

import pytest
import torch
from torch import nn

from aigc_course import kinds, recipes, train
from aigc_course.__main__ import main
from aigc_course.config import TrainConfig

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "aigc_course"

# Bottom up; a module may import from its own layer or below, never above (DESIGN.md, section 2).
LAYERS = [
    {"errors", "config", "runtime", "nn", "kinds"},
    {"data", "losses", "checkpoint", "plotting"},
    {"gan", "vae", "classifier", "text", "diffusion"},
    {"metrics", "train"},
    {"recipes"},
    {"commands", "bench", "quality", "export", "demos", "__main__", "exercises", "errata_checks",
     "__init__"},
]
LAYER_OF = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def module_name(path: pathlib.Path) -> str:
    rel = path.relative_to(PACKAGE)
    return "exercises" if rel.parts[0] == "exercises" else rel.stem


def package_imports(path: pathlib.Path, in_subpackage: bool | None = None) -> set[str]:
    """Top-level modules of aigc_course that ``path`` imports anywhere (module level or inside functions)."""
    if in_subpackage is None:
        in_subpackage = path.parent != PACKAGE  # e.g. aigc_course/exercises/ch2.py
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:  # relative import
            if node.level == 1 and in_subpackage:
                found.add(path.parent.name)  # within the subpackage
            elif node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "aigc_course":
            parts = node.module.split(".")
            found.update([parts[1]] if len(parts) > 1 else [alias.name for alias in node.names])
        elif isinstance(node, ast.Import):
            found.update(alias.name.split(".")[1] for alias in node.names
                         if alias.name.startswith("aigc_course."))
    return found


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        graph.setdefault(name, set()).update(package_imports(path) - {name})
    return graph


def test_every_module_has_a_layer():
    assert set(import_graph()) == set(LAYER_OF), "add new modules to LAYERS (and to DESIGN.md)"


def test_no_module_imports_a_higher_layer():
    upward = [f"{m} (layer {LAYER_OF[m]}) imports {d} (layer {LAYER_OF[d]})"
              for m, deps in import_graph().items() for d in sorted(deps) if LAYER_OF[d] > LAYER_OF[m]]
    assert not upward, upward


def test_the_import_graph_has_no_cycle():
    graph = import_graph()
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in graph.get(node, ()):
            if state.get(dep) == 1:
                raise AssertionError(f"import cycle: {' -> '.join(path + [node, dep])}")
            if dep not in state:
                visit(dep, path + [node])
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, [])


def test_the_layering_check_sees_imports_inside_functions(tmp_path):
    """The check must catch the lazy imports that once hid cycles (checkpoint -> recipes)."""
    fake = PACKAGE / "checkpoint.py"
    source = fake.read_text() + "\n\ndef _sneaky():\n    from .recipes import pretrained\n    return pretrained\n"
    probe = tmp_path / "checkpoint.py"
    probe.write_text(source)
    assert "recipes" in package_imports(probe, in_subpackage=False)
    assert "recipes" not in package_imports(fake)


# --- a new model kind, added from the outside -----------------------------------------------------

class GaussianMixture(nn.Module):
    """A mixture of K isotropic Gaussians in the plane, fitted by maximum likelihood."""

    def __init__(self, components: int = 8):
        super().__init__()
        self.config = {"components": components}
        self.logits = nn.Parameter(torch.zeros(components))
        self.means = nn.Parameter(torch.randn(components, 2))
        self.log_std = nn.Parameter(torch.zeros(components))

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        d2 = (x[:, None, :] - self.means[None]).pow(2).sum(-1)                     # (B, K)
        log_n = -d2 / (2 * torch.exp(2 * self.log_std)) - 2 * self.log_std - torch.log(torch.tensor(2 * torch.pi))
        return torch.logsumexp(torch.log_softmax(self.logits, 0) + log_n, dim=1)    # (B,)

    def sample(self, n: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
        comp = torch.multinomial(torch.softmax(self.logits.detach().cpu(), 0), n, replacement=True, generator=generator)
        eps = torch.randn(n, 2, generator=generator)
        dev = self.means.device
        return self.means[comp.to(dev)] + torch.exp(self.log_std[comp.to(dev)])[:, None] * eps.to(dev)


class MixtureTrainer(train.Trainer):
    kind = "mixture"

    def __init__(self, models, loader, cfg, **kw):
        super().__init__(models, loader, cfg, **kw)
        self.step_model = self.optimizer_step("model", self.models["model"].parameters(), cfg.lr)

    def train_step(self):
        x, _ = self.batch()
        loss = -self.models["model"].log_prob(x).mean()
        self.step_model(loss)
        return {"loss": loss}


@pytest.fixture
def mixture_kind(monkeypatch, tmp_path):
    monkeypatch.setenv("AIGC_WEIGHTS_DIR", str(tmp_path / "weights"))
    kinds.register(kinds.ModelKind("mixture", lambda cfg: {"model": GaussianMixture(**cfg)}, parts=("model",),
                                   sampler="model", config_of=lambda m: dict(m.config)))
    train.register_trainer(MixtureTrainer)
    cfg = TrainConfig(steps=60, batch_size=256, lr=0.05, betas=(0.9, 0.999), log_every=10)
    recipes.register_recipe(recipes.Recipe("gmm-8gaussians", "mixture", {"components": 8}, "toy2d:8gaussians",
                                           quick=cfg, full=cfg.replace(steps=200)))
    yield
    recipes.RECIPES.pop("gmm-8gaussians", None)
    train.unregister_trainer("mixture")
    kinds.unregister("mixture")


def test_a_new_kind_trains_saves_loads_and_samples_through_the_cli(mixture_kind, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "gmm-8gaussians", "--profile", "quick", "--out", str(run)]) == 0
    assert (run / "samples.png").is_file() and (run / "checkpoint" / "state.json").is_file()
    state = __import__("aigc_course").checkpoint.load_checkpoint(run)
    losses = [v for _, v in state["history"]["logs"]["loss"]]
    assert state["kind"] == "mixture" and losses[-1] < losses[0] - 0.5  # it learnt something

    model = recipes.load_models(run)
    assert isinstance(model, GaussianMixture) and not model.training
    entry = recipes.register_weights("gmm-8gaussians", run)
    assert entry["kind"] == "mixture" and entry["model_config"] == {"components": 8}
    shipped = recipes.pretrained("gmm-8gaussians", device="cpu")
    for a, b in zip(shipped.parameters(), model.parameters()):
        torch.testing.assert_close(a, b, atol=1e-2, rtol=1e-2)  # stored as float16
    assert recipes.load_or_train("gmm-8gaussians", "quick").config == {"components": 8}

    png = tmp_path / "s.png"
    assert main(["sample", "gmm-8gaussians", "--out", str(png), "--n", "100"]) == 0 and png.is_file()
    assert main(["weights", "verify"]) == 0
    assert "1/1 weights files verified" in capsys.readouterr().out


def test_trainer_steps_is_a_generator_that_can_pause(tmp_path):
    """steps() yields one dict of losses per step; stopping and going on equals one uninterrupted run."""
    from aigc_course import data
    from aigc_course.config import GANConfig

    def fresh():
        torch.manual_seed(0)
        models = kinds.build("gan", GANConfig(kind="mlp", z_dim=2, hidden=16, depth=2))
        loader = data.TensorLoader(data.toy2d("ring", 512), batch_size=64, device="cpu")
        return train.GANTrainer(models, loader, TrainConfig(steps=8, batch_size=64, log_every=4), progress=False)

    whole = fresh()
    per_step = list(whole.steps())
    assert len(per_step) == 8 and set(per_step[0]) >= {"d_loss", "g_loss", "d_real", "d_fake"}
    paused = fresh()
    it = paused.steps()
    first = [next(it) for _ in range(3)]
    it.close()
    rest = list(paused.steps())
    assert len(first) + len(rest) == 8 and paused.step == 8
    for a, b in zip(per_step, first + rest):
        torch.testing.assert_close(a["d_loss"], b["d_loss"])
    assert whole.result().history.last("g_loss") == paused.result().history.last("g_loss")


# --- the wheel -----------------------------------------------------------------------------------

@pytest.mark.slow
def test_the_wheel_holds_every_subpackage_the_weights_and_its_dependencies(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        (src / name).write_bytes((ROOT / name).read_bytes())
    import shutil

    shutil.copytree(PACKAGE, src / "aigc_course", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "dist"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation",
                            "-q", "-w", str(out)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    (wheel,) = out.glob("aigc_course-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    sources = {str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts}
    weights = {str(p.relative_to(ROOT)) for p in (PACKAGE / "weights").iterdir() if p.is_file()}
    assert sources <= names, sorted(sources - names)
    assert weights <= names, sorted(weights - names)
    meta = next(n for n in names if n.endswith("METADATA"))
    requires = [line.split(":", 1)[1].strip().split()[0].split(">")[0]
                for line in zipfile.ZipFile(wheel).read(meta).decode().splitlines() if line.startswith("Requires-Dist:")]
    for dep in ("torch", "numpy", "scipy", "scikit-learn", "matplotlib", "pillow", "safetensors", "tqdm", "ipython"):
        assert dep in requires, f"{dep} is not declared in the wheel's dependencies {requires}"

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = ("import aigc_course, aigc_course.exercises.ch2, pathlib; "
            f"assert pathlib.Path(aigc_course.__file__).is_relative_to({str(site)!r}), aigc_course.__file__; "
            "print(aigc_course.recipes.pretrained('dcgan-fashion', device='cpu').z_dim)")
    env = {**os.environ, "PYTHONPATH": str(site)}
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip() == "64"


# --- docstrings point to sections that exist --------------------------------------------------------

def toc_sections() -> set[str]:
    """Section numbers of the pages in _toc.yml ("2.1", ...), read from each page's title."""
    import re

    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    found = set()
    for part in toc.get("parts", []):
        for chapter in part["chapters"]:
            page = ROOT / f"{chapter['file']}.py"
            if page.is_file():
                title = next((l for l in page.read_text().splitlines() if l.startswith("# # ")), "")
                found.update(re.findall(r"^# # (\d+\.\d+)\b", title))
    return found


def test_introduced_in_points_to_existing_sections():
    import re

    sections = toc_sections()
    assert {"2.1", "4.2"} <= sections
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text()
        for sentence in re.findall(r"[Ii]ntroduced in (.+?)(?:\.\s|\.$|\.\"|$)", text, flags=re.M):
            for number in re.findall(r"\b(\d\.\d)\b", sentence):
                if number not in sections:
                    bad.append(f"{path.relative_to(ROOT)}: 'Introduced in {sentence}' -> {number}")
    assert not bad, bad
