"""Named recipes and the shipped weights: what to train, how, and the models ready to use.

* A :class:`Recipe` is a model kind + its config + data + a quick and a full training config.
  ``python -m aigc_course train NAME --profile full`` trains one (the shipped weights were made that
  way). Sizes are CPU-reasonable: the full profiles were trained on 2 CPU cores.
* :func:`pretrained` gives shipped weights (hash-checked), :func:`load_or_train` the model the
  profile wants, :func:`load_models` the models of a training checkpoint, :func:`register_weights`
  ships a run's weights, :func:`classifier` the metrics' feature network.

Everything model-specific comes from the registry of kinds (``kinds``): which parts to build, which
one samples, which parts are shipped. Introduced in 4.2.
"""
from __future__ import annotations

import contextlib
import datetime
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import torch
from torch import nn

from . import checkpoint, data, kinds, runtime
from . import classifier as _classifier_kind, gan as _gan_kind, text, vae as _vae_kind  # noqa: F401 (kinds)
from .checkpoint import CheckpointError
from .config import GANConfig, LMConfig, TrainConfig, VAEConfig
from .diffusion import DiffusionConfig
from .train import TrainResult, train

TOY_SAMPLES = 50_000


def _quote(text: str) -> str:
    return shlex.quote(text)  # points drawn from a 2-D toy distribution for training


@dataclass(frozen=True)
class Recipe:
    """How to train one named model. ``data`` is a data set name (``data.load``) or ``toy2d:NAME``."""

    name: str
    kind: str                      # a registered model kind ("gan", "vae", ...)
    model: Any                     # its model config (GANConfig, VAEConfig, ...)
    data: str
    quick: TrainConfig             # CPU minutes: shows the loop, not the final quality
    full: TrainConfig              # trains to the quality the website shows
    description: str = ""
    binarize: bool = False         # dynamically binarised images (a fresh Bernoulli draw per batch)

    def config(self, profile: str | None = None) -> TrainConfig:
        """The TrainConfig of ``profile`` (default: ``runtime.profile()``)."""
        profile = profile or runtime.profile()
        if profile not in runtime.PROFILES:
            raise ValueError(f"profile={profile!r} is not one of {runtime.PROFILES}")
        return self.quick if profile == "quick" else self.full

    def build(self) -> dict[str, nn.Module]:
        """Fresh (untrained) models of this recipe, by part name."""
        return kinds.build(self.kind, self.model)


_DCGAN = GANConfig(kind="dcgan", z_dim=64, img_size=28, channels=1, width=32)
_GAN_TRAIN = TrainConfig(steps=300, batch_size=128, lr=2e-4, lr_d=2e-4, betas=(0.5, 0.999), loss="bce",
                         log_every=10, sample_every=50, ckpt_every=0)
_VAE = VAEConfig(kind="conv", z_dim=16, img_size=28, channels=1, width=32, decoder="bernoulli")
_BINARY_VAE = VAEConfig(kind="mlp", z_dim=50, img_size=28, channels=1, hidden=512, decoder="bernoulli")
_UNET = DiffusionConfig(kind="unet", img_size=28, channels=1, width=32, mult=(1, 2, 4), blocks=1, n_classes=10)
_FLOW_TRAIN = TrainConfig(steps=100, batch_size=128, lr=1e-3, betas=(0.9, 0.999), log_every=10, sample_every=50,
                          ema=0.9995, channels_last=False, grad_clip=1.0)
_VAE_TRAIN = TrainConfig(steps=300, batch_size=128, lr=1e-3, betas=(0.9, 0.999), log_every=10, sample_every=50)

RECIPES: dict[str, Recipe] = {r.name: r for r in [  # see register_recipe to add one
    Recipe("gan-8gaussians", "gan",
           GANConfig(kind="mlp", z_dim=2, data_dim=2, hidden=128, depth=3), "toy2d:8gaussians",
           quick=TrainConfig(steps=500, batch_size=256, lr=1e-4, lr_d=1e-4, betas=(0.5, 0.999), log_every=10,
                             sample_every=50),
           full=TrainConfig(steps=5000, batch_size=256, lr=1e-4, lr_d=1e-4, betas=(0.5, 0.999), log_every=20,
                            sample_every=250, ckpt_every=1000),
           description="MLP GAN on a mixture of 8 Gaussians (2.3): watch the modes appear, or collapse"),
    Recipe("dcgan-fashion", "gan", _DCGAN, "fashion-mnist",
           quick=_GAN_TRAIN,
           full=_GAN_TRAIN.replace(steps=3000, log_every=25, sample_every=250, ckpt_every=500, ema=0.995),
           description="DCGAN (Radford et al. 2016) on Fashion-MNIST, non-saturating loss (4.2)"),
    # hinge loss + spectral norm (no batch norm in D) + Adam(0, 0.9), as SNGAN with projection (Miyato &
    # Koyama 2018); with the non-saturating loss and Adam(0.5, 0.999) the same model never learnt sandals
    Recipe("cgan-fashion", "gan", _DCGAN.replace(n_classes=10, spectral_norm=True, critic=True), "fashion-mnist",
           quick=_GAN_TRAIN.replace(loss="hinge", betas=(0.0, 0.9)),
           full=_GAN_TRAIN.replace(steps=3000, loss="hinge", betas=(0.0, 0.9), log_every=25, sample_every=250,
                                   ckpt_every=500, ema=0.995),
           description="class-conditional DCGAN (projection discriminator, spectral norm, hinge loss), "
                       "10 classes (4.3)"),
    Recipe("wgangp-fashion", "gan", _DCGAN.replace(critic=True), "fashion-mnist",
           quick=_GAN_TRAIN.replace(steps=80, loss="wgan-gp", n_critic=5, lr=1e-4, lr_d=1e-4, betas=(0.0, 0.9),
                                    sample_every=20),
           full=_GAN_TRAIN.replace(steps=1000, loss="wgan-gp", n_critic=5, lr=1e-4, lr_d=1e-4, betas=(0.0, 0.9),
                                   log_every=10, sample_every=100, ckpt_every=200, ema=0.995),
           description="WGAN-GP critic (Gulrajani et al. 2017): n_critic=5, lambda=10, Adam(1e-4, 0, 0.9) (4.3)"),
    Recipe("vae-fashion", "vae", _VAE, "fashion-mnist",
           quick=_VAE_TRAIN,
           full=_VAE_TRAIN.replace(steps=4000, log_every=25, sample_every=250, ckpt_every=1000),
           description="convolutional VAE, z=16, Bernoulli decoder (4.4)"),
    Recipe("vae-mlp-fashion", "vae", VAEConfig(kind="mlp", z_dim=20, img_size=28, channels=1, hidden=512), "fashion-mnist",
           quick=_VAE_TRAIN,
           full=_VAE_TRAIN.replace(steps=4700, log_every=25, sample_every=250, ckpt_every=1000),
           description="MLP VAE (two hidden layers of 512, z=20): the best test loss per CPU minute (4.6)"),
    Recipe("vae-binarized-fashion", "vae", _BINARY_VAE, "fashion-mnist",
           quick=_VAE_TRAIN, full=_VAE_TRAIN.replace(steps=20000, log_every=50, sample_every=1000, ckpt_every=2000),
           description="MLP VAE on dynamically binarised Fashion-MNIST: a real likelihood, so a real NLL (3.4, 4.5)",
           binarize=True),
    Recipe("vae-binarized-mnist", "vae", _BINARY_VAE, "mnist",
           quick=_VAE_TRAIN, full=_VAE_TRAIN.replace(steps=20000, log_every=50, sample_every=1000, ckpt_every=2000),
           description="the same on dynamically binarised MNIST (download it first), to compare with Burda et al. 2016",
           binarize=True),
    # 22,634 training characters: the model overfits quickly. Steps, dropout and lr were chosen on the
    # validation poems (bits per character every 25 steps; best: dropout 0.3, lr 1e-3, ~275 steps).
    Recipe("charlm-tang", "charlm",
           LMConfig(vocab_size=2600, block_size=64, n_layer=3, n_head=4, d_model=96, dropout=0.3),
           "text:tang300",
           quick=TrainConfig(steps=60, batch_size=32, lr=1e-3, betas=(0.9, 0.99), log_every=10, grad_clip=1.0),
           full=TrainConfig(steps=300, batch_size=32, lr=1e-3, betas=(0.9, 0.99), log_every=10, grad_clip=1.0,
                            ckpt_every=100),
           description="character-level Transformer on the 300 Tang poems (fortunes-zh) (1.4)"),
    # Flow matching (straight paths, velocity target, logit-normal times) with a small U-Net, class labels
    # dropped 10% of the time for classifier-free guidance; an EMA of the weights is what samples (6.4, 6.5).
    # channels_last is off: GroupNorm is slower in that layout on CPUs (measured in 6.4).
    Recipe("flow-fashion", "diffusion", _UNET, "fashion-mnist",
           quick=_FLOW_TRAIN,
           full=_FLOW_TRAIN.replace(steps=7500, log_every=50, sample_every=1000, ckpt_every=500),
           description="flow-matching U-Net (2.5M parameters), class-conditional with classifier-free guidance (6.4, 6.5)"),
    # Flow matching in the 16-D latent space of vae-fashion (Rombach et al. 2022, at small scale): an MLP
    # denoiser on codes z ~ q(z|x); samples are decoded by the VAE (6.6).
    Recipe("latent-flow-fashion", "diffusion", DiffusionConfig(kind="mlp", data_dim=16, hidden=512, depth=4),
           "latents:vae-fashion",
           quick=TrainConfig(steps=300, batch_size=256, lr=1e-3, betas=(0.9, 0.999), log_every=10, ema=0.999),
           full=TrainConfig(steps=8000, batch_size=256, lr=1e-3, betas=(0.9, 0.999), log_every=50, ema=0.999,
                            ckpt_every=2000),
           description="flow matching in the latent space of vae-fashion, MLP denoiser (6.6)"),
    Recipe("vae2d-fashion", "vae", _VAE.replace(z_dim=2), "fashion-mnist",
           quick=_VAE_TRAIN,
           full=_VAE_TRAIN.replace(steps=4000, log_every=25, sample_every=250, ckpt_every=1000),
           description="convolutional VAE with a 2-D latent space, for latent maps (4.4, 5.1)"),
]}


def register_recipe(recipe: Recipe, *, replace: bool = False) -> Recipe:
    """Add a recipe (its kind must be registered); ``replace=True`` to redefine one."""
    kinds.get(recipe.kind)
    if recipe.name in RECIPES and not replace and RECIPES[recipe.name] != recipe:
        raise ValueError(f"a recipe named {recipe.name!r} exists; pass replace=True to redefine it")
    RECIPES[recipe.name] = recipe
    return recipe


def get_recipe(name: str | Recipe) -> Recipe:
    """The recipe called ``name`` (a ``Recipe`` passes through)."""
    if isinstance(name, Recipe):
        return name
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; choose one of: {', '.join(RECIPES)}")
    return RECIPES[name]


def make_data(recipe: str | Recipe, split: str = "train", device: torch.device | str | None = None, *,
              profile: str | None = None, seed: int | None = None, limit: int | None = None) -> data.TensorLoader:
    """The recipe's training data as a ``TensorLoader`` with the profile's batch size.

    ``limit`` keeps only the first ``limit`` samples (for quick experiments and tests).
    """
    recipe = get_recipe(recipe)
    cfg = recipe.config(profile)
    seed = cfg.seed if seed is None else seed
    if recipe.data.startswith("toy2d:"):
        images, labels = data.toy2d(recipe.data.split(":", 1)[1], limit or TOY_SAMPLES, seed=seed), None
    elif recipe.data.startswith("latents:"):
        images, labels = latent_codes(recipe.data.split(":", 1)[1], split)
        images, labels = images[:limit], labels[:limit]
    elif recipe.data.startswith("text:"):
        train_text, val_text, vocab = text_split(recipe.data)
        ids = vocab.encode(train_text if split == "train" else val_text)
        images, labels = text.windows(ids, recipe.model.block_size)[:limit], None
    else:
        loaded = data.load(recipe.data, split)
        images, labels = loaded.images[:limit], loaded.labels[:limit]
    return data.TensorLoader(images, labels, batch_size=cfg.batch_size, seed=seed, device=runtime.device(device),
                             binarize=recipe.binarize)


@torch.no_grad()
def latent_codes(vae_name: str = "vae-fashion", split: str = "train", seed: int = 0,
                 device: torch.device | str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Codes ``z ~ q(z|x)`` of every image of the VAE's data set (one draw per image from ``seed``) under
    the shipped VAE ``vae_name``, and the labels: the data of latent diffusion (6.6). (N, z_dim) float32."""
    vae = pretrained(vae_name, device=device)
    recipe = get_recipe(vae_name)
    images = data.load(recipe.data, split)
    gen = torch.Generator().manual_seed(seed)
    codes = []
    for x in data.batches_in_model_space(images.images, 1000, next(vae.parameters()).device):
        mu, logvar = vae.encode(x)
        eps = torch.randn(mu.shape, generator=gen).to(mu.device)
        codes.append((mu + torch.exp(0.5 * logvar) * eps).float().cpu())
    return torch.cat(codes), images.labels


def text_split(name: str = "text:tang300") -> tuple[str, str, "text.CharVocab"]:
    """(training text, validation text, vocabulary) of a text data set: whole poems held out (10%, seeded);
    the vocabulary is every character of the file (so validation has no unknown characters)."""
    if name != "text:tang300":
        raise ValueError(f"unknown text data set {name!r}; the course has 'text:tang300'")
    poems = text.tang_poems()
    train, val = text.split_poems(poems)
    return text.corpus(train), text.corpus(val), text.CharVocab(text.corpus(poems))


def train_recipe(name: str | Recipe, profile: str | None = None, *, steps: int | None = None, seed: int | None = None,
                 out_dir: str | Path | None = None, resume: str | Path | None = None, progress: bool = True,
                 device: torch.device | str | None = None, callbacks: Iterable[Callable] = (),
                 limit: int | None = None, overwrite: bool = False) -> tuple[dict[str, nn.Module], TrainResult]:
    """Build the recipe's model(s) (seeded), load its data and train; return ``(models, result)``.

    ``steps``/``seed`` override the profile's config. Introduced in 4.2.
    """
    recipe = get_recipe(name)
    profile = profile or runtime.profile()
    cfg = recipe.config(profile)
    cfg = cfg.replace(steps=steps if steps is not None else cfg.steps, seed=seed if seed is not None else cfg.seed)
    dev = runtime.device(device)
    runtime.set_seed(cfg.seed)  # the initial weights
    models = {k: m.to(dev) for k, m in recipe.build().items()}
    loader = make_data(recipe, device=dev, profile=profile, seed=cfg.seed, limit=limit)
    command = f"python -m aigc_course train {recipe.name} --profile {profile} --max-steps {cfg.steps} --seed {cfg.seed}"
    result = train(recipe.kind, models, loader, cfg, callbacks=callbacks, out_dir=out_dir, resume=resume,
                   progress=progress, overwrite=overwrite,
                   meta={"recipe": recipe.name, "profile": profile, "command": command})
    return models, result


# --- models ready to use: shipped weights, checkpoints -------------------------------------------

def _select(kind: str, models: dict[str, nn.Module], part: str | None):
    """One part (default: the kind's sampler, else its first part), or ``"all"`` of them as a dict."""
    spec = kinds.get(kind)
    part = part or spec.sampler or spec.parts[0]
    if part == "all":
        return models
    if part not in models:
        raise ValueError(f"part={part!r} is not one of {sorted(models)} (or 'all')")
    return models[part]


def _built(kind: str, config, parts: Mapping[str, Mapping[str, torch.Tensor]], source,
           device: torch.device | str | None) -> dict[str, nn.Module]:
    """The kind's models built from ``config`` with the weights of ``parts`` loaded (eval mode, on device).
    Parts that are not stored (e.g. a GAN's discriminator in a generator-only file) are left out."""
    try:
        models = kinds.build(kind, config)
    except (ValueError, TypeError, KeyError, AttributeError) as err:
        raise CheckpointError(f"the model config recorded for {source} cannot build a {kind!r} model ({err}); it "
                              "was damaged or edited: use another copy of these weights") from None
    unknown = set(parts) - set(models)
    if unknown or not parts:
        raise CheckpointError(f"{source} holds parts {sorted(parts)} but a {kind} model has {sorted(models)}")
    dev = runtime.device(device)
    return {name: checkpoint.load_state_into(m, parts[name], source).to(dev).eval()
            for name, m in models.items() if name in parts}


def pretrained(name: str, part: str | None = None, *, device: torch.device | str | None = None):
    """Shipped model ``name`` in eval mode on ``device`` (default: the best one), after checking its
    SHA-256 against the manifest.

    GANs return the generator (the EMA copy when trained with one); ``part="discriminator"`` gives
    D and ``part="all"`` a dict of both. A missing or modified file raises ``CheckpointError`` saying
    what to do. Introduced in 4.2.
    """
    entry, parts = checkpoint.read_shipped(name)
    return _select(entry["kind"], _built(entry["kind"], entry["model_config"], parts,
                                         checkpoint.weights_dir() / entry["file"], device), part)


CLASSIFIER_NAME = "classifier-fashion"


def classifier(device: torch.device | str | None = None) -> nn.Module:
    """The shipped feature network of the metrics (``classifier-fashion``, hash-verified, eval mode);
    pass it to ``metrics.fid(..., model=...)`` or ``metrics.extract_features``. Introduced in 4.5."""
    return pretrained(CLASSIFIER_NAME, device=device)


def load_or_train(name: str, profile: str | None = None, *, part: str | None = None,
                  train_steps: int | None = None, progress: bool = True,
                  device: torch.device | str | None = None):
    """Model(s) of recipe ``name`` ready to use, the way the profile wants it.

    ``quick``: the shipped weights (checked); if none are shipped, train the quick recipe and say
    so. ``full``: train from scratch with the full recipe (``train_steps`` overrides its length).
    Returns what ``pretrained`` returns. Introduced in 4.2.
    """
    profile = profile or runtime.profile()
    if profile not in runtime.PROFILES:
        raise ValueError(f"profile={profile!r} is not one of {runtime.PROFILES}")
    entry = checkpoint.read_manifest()["weights"].get(name)
    if profile == "quick" and entry is not None and (checkpoint.entry_problem(name, entry) is not None or
                                                     (checkpoint.weights_dir() / entry["file"]).is_file()):
        return pretrained(name, part, device=device)  # (an unusable entry: its clear error)
    if profile == "quick":
        print(f"note: no shipped weights for {name!r}; training the quick recipe instead "
              f"(ship weights with `python -m aigc_course train {name} --profile full`, then "
              f"`python -m aigc_course weights register {name} runs/{name}`)")
    models, result = train_recipe(name, profile, steps=train_steps, progress=progress, device=device)
    spec = kinds.get(result.kind)
    if result.ema is not None:  # sample from the EMA copy, as the shipped weights do
        models = {**models, spec.ema_of: result.ema}
    for model in models.values():
        model.eval()
    return _select(result.kind, models, part)


def _checkpoint_parts(ckpt: Path, state: dict) -> dict[str, dict[str, torch.Tensor]]:
    """State dicts of the parts worth shipping (the kind's ``shipped`` parts; its EMA copy, if saved,
    in place of the part it tracks)."""
    spec = kinds.get(state["kind"])
    saved = state["models"]
    return {part: checkpoint.load_part(ckpt, "ema" if part == spec.ema_of and "ema" in saved else part)
            for part in spec.shipped_parts}


def load_models(path: str | Path, part: str | None = None, *, device: torch.device | str | None = None):
    """Model(s) from a training checkpoint (or run) folder, built from its stored config, in eval
    mode; as :func:`pretrained`, GANs give the generator (the EMA copy if trained with one) unless
    ``part`` says otherwise."""
    ckpt = checkpoint.find_checkpoint(path)
    state = checkpoint.load_checkpoint(ckpt)
    checkpoint.require(state, ckpt, "kind")
    _known_kind(state, ckpt)
    if state.get("model_config") is None:
        raise CheckpointError(f"{ckpt} does not record its model config (models without .cfg); build the "
                              "model yourself and use checkpoint.load_checkpoint(dir, {name: model})")
    models = _built(state["kind"], state["model_config"], _checkpoint_parts(ckpt, state), ckpt / checkpoint.STATE_JSON,
                    device)
    return _select(state["kind"], models, part)


def _known_kind(state: Mapping[str, Any], ckpt: Path) -> None:
    if state.get("kind") not in kinds.names():
        raise CheckpointError(f"{ckpt / checkpoint.STATE_JSON} records the model kind {state.get('kind')!r}, which is "
                              f"not a registered kind ({', '.join(kinds.names())}); this checkpoint cannot be used here")


# the model-config fields that decide what a model draws (its architecture and its data's shape): a checkpoint
# that records no recipe is accepted for a recipe only when these agree (sizes such as width may differ)
_SAMPLE_SPACE_FIELDS = ("kind", "img_size", "channels", "data_dim", "n_classes", "vocab_size", "block_size")


def check_checkpoint_recipe(recipe: str | Recipe, path: str | Path, state: Mapping[str, Any] | None = None, *,
                            flag: str = "") -> None:
    """Refuse a checkpoint that is not of ``recipe``: one that records another recipe, or (recording none, as
    runs trained through the Python API) another model kind or a model that draws something else (another
    architecture, image size, number of channels or classes) than the recipe's model."""
    recipe = get_recipe(recipe)
    ckpt = checkpoint.find_checkpoint(path)
    state = checkpoint.load_checkpoint(ckpt) if state is None else state
    meta = state.get("meta") or {}
    where = f"{flag} {path}" if flag else str(path)
    saved = meta.get("recipe")
    if saved is not None:
        if saved != recipe.name:
            raise ValueError(f"{where} holds a run of {saved!r}, not of {recipe.name!r}: use `sample {saved} "
                             f"--weights {_quote(str(path))}`")
        return
    kind, config = state.get("kind"), state.get("model_config") or {}
    mine = recipe.model.to_dict() if hasattr(recipe.model, "to_dict") else dict(recipe.model)
    differ = {k: (config.get(k), mine.get(k)) for k in _SAMPLE_SPACE_FIELDS if k in mine and config.get(k) != mine[k]}
    if kind != recipe.kind or differ:
        theirs = ", ".join(f"{k}={config.get(k)!r}" for k in _SAMPLE_SPACE_FIELDS if k in config)
        ours = ", ".join(f"{k}={mine.get(k)!r}" for k in _SAMPLE_SPACE_FIELDS if k in mine)
        raise ValueError(f"{where} records no recipe and holds a {kind} model ({theirs}), not a model of "
                         f"{recipe.name!r} (a {recipe.kind}: {ours}); sample it with the recipe it was trained for")


def _run_entry(source) -> tuple[dict[str, dict[str, torch.Tensor]], dict]:
    """Parts and manifest fields of a finished training run (checkpoint/run folder or TrainResult)."""
    source = getattr(source, "checkpoint", source)
    if source is None:
        raise CheckpointError("this TrainResult has no checkpoint: train with out_dir=... to register its weights")
    ckpt = checkpoint.find_checkpoint(source)
    state = checkpoint.load_checkpoint(ckpt)
    checkpoint.require(state, ckpt, "kind", "step", "model_config", "train_config", "wall_time", "device", "history")
    _known_kind(state, ckpt)
    meta = state.get("meta") or {}
    fields = {
        "recipe": meta.get("recipe"),
        "kind": state["kind"],
        "model_config": state["model_config"],
        "train_config": state["train_config"],
        "ema": "ema" in state["models"],
        "steps": state["step"],
        "wall_time_s": round(state["wall_time"], 1),
        "device": state["device"],
        "final_losses": {k: v[-1][1] for k, v in state["history"]["logs"].items() if v},
        "command": meta.get("command", ""),
    }
    return _checkpoint_parts(ckpt, state), fields


def register_weights(name: str, source, *, kind: str | None = None, model_config: dict | None = None,
                     metrics: Mapping[str, float] | None = None, command: str | None = None,
                     info: Mapping[str, Any] | None = None, half: bool = True,
                     directory: str | Path | None = None) -> dict:
    """Ship weights as ``<name>-<sha256[:12]>.safetensors`` and record them in the manifest; return the entry.

    ``source``: a training checkpoint/run folder or a ``TrainResult`` trained with ``out_dir`` (configs,
    steps, wall time, device and final losses come from its checkpoint), or an ``nn.Module`` with
    ``kind`` (its config comes from the kind, or ``model_config``; e.g. the metrics classifier; ``info``
    adds fields such as ``steps``). ``metrics`` (FID, NLL, accuracy...) and ``command`` are recorded
    too. ``half`` stores float32 tensors as float16 (about 2x smaller). Shipping is one atomic step: the
    new file is written under its content-addressed name, then the manifest points at it, then the
    previous file is removed; a failure at any point leaves the previous weights shipped and verified.
    """
    if isinstance(source, nn.Module):
        if kind is None:
            raise ValueError("register_weights(name, module, ...) needs kind= to rebuild the model")
        spec = kinds.get(kind)
        config = model_config if model_config is not None else spec.model_config({spec.parts[0]: source})
        if config is None:
            raise ValueError(f"the {kind} module records no config: pass model_config=")
        parts, fields = {spec.parts[0]: source.state_dict()}, {"recipe": None, "kind": kind, "model_config": dict(config)}
    else:
        parts, fields = _run_entry(source)
    if not isinstance(name, str) or not name.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"register_weights: the name must be letters, digits, '-' or '_' (it names a file in the "
                         f"weights folder), got {name!r}")
    directory = Path(directory or checkpoint.weights_dir())
    data = checkpoint.weights_bytes(checkpoint.join_parts(parts), {"name": name}, half=half)
    fields_after = {
        "recipe": fields["recipe"] or name,
        "metrics": dict(metrics or {}),
        "command": command or fields.get("command", ""),
        "torch": torch.__version__,
        "date": datetime.date.today().isoformat(),
    }
    file = checkpoint.shipped_file_name(name, data)
    existed = (directory / file).exists()
    try:
        # 1. the new file under its own content-addressed name (nothing refers to it yet); 2. the manifest
        # (the commit: readers see the old entry and file, or the new ones); 3. the old file is removed
        file, sha = checkpoint.write_shipped_file(directory, name, data)
        return checkpoint.commit_entry(name, lambda old: {**fields, **dict(info or {}), "file": file, "sha256": sha,
                                                          **fields_after}, directory)
    except BaseException as err:
        if not existed:  # the new file was not committed: remove it (unless the manifest refers to it after all)
            with contextlib.suppress(OSError, CheckpointError):
                if file not in {e.get("file") for e in checkpoint.read_manifest(directory)["weights"].values()
                                if isinstance(e, dict)}:
                    (directory / file).unlink(missing_ok=True)
        if not isinstance(err, OSError):
            raise
        raise CheckpointError(f"cannot write the weights of {name!r} into the weights folder {directory} "
                              f"({err.strerror or err}); nothing was changed there. Make the folder writable, or ship "
                              "into another folder (AIGC_WEIGHTS_DIR, or directory=...)") from None


def weights_verify(names: Iterable[str] | None = None) -> list[str]:
    """Problems with the shipped weights (empty list = all good): each file must exist, match its
    SHA-256 and load strictly into the model built from its config. ``names``: only these entries."""
    entries = checkpoint.read_manifest()["weights"]
    problems = []
    for name in sorted(entries) if names is None else names:
        if name not in entries:
            problems.append(f"{name}: not in the manifest {checkpoint.weights_dir() / checkpoint.MANIFEST}")
            continue
        try:
            pretrained(name, "all", device="cpu")
        except (CheckpointError, KeyError, ValueError, TypeError) as err:
            problems.append(f"{name}: {err}")
    return problems
