"""Saving and loading weights and training checkpoints, safely.

* Tensors go into ``.safetensors`` files (a JSON header plus raw bytes: loading them never runs
  code, unlike ``torch.load`` of a pickle); everything else (configs, step, history, optimiser
  layout, RNG states) goes into JSON, with its tensors in a ``.safetensors`` file beside it.
* Every write is atomic: a file is written to a temporary name in the same folder and renamed
  with ``os.replace``; a checkpoint folder is written as ``<dir>.tmp`` and swapped in only once
  complete, so a crash or a full disk never destroys the last good checkpoint.
* Shipped weights live in ``aigc_course/weights/`` (or ``$AIGC_WEIGHTS_DIR``), listed in
  ``manifest.json`` with their SHA-256, configs, training cost and metrics; :func:`read_shipped`
  checks the hash before a byte is parsed.

A ground floor of the package: pure storage, it never builds or trains a model (``recipes`` does:
``recipes.pretrained(name)``, ``recipes.load_or_train(name)``, ``recipes.register_weights``).
Introduced in 4.2 (checkpoints, pretrained weights); resuming in 4.6.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import safetensors
import safetensors.torch
import torch
from torch import nn

from .errors import CheckpointError

MANIFEST = "manifest.json"
STATE_JSON = "state.json"        # written last: its presence marks a complete checkpoint
STATE_TENSORS = "state.safetensors"
CHECKPOINT_SUBDIR = "checkpoint"  # a training run's folder holds its checkpoint here


# --- files -----------------------------------------------------------------------------------

def _atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with open(tmp, "xb") as f:  # normal permissions (mkstemp's would be private, 0600)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def _state_dict(obj: nn.Module | Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    sd = obj.state_dict() if isinstance(obj, nn.Module) else obj
    # clone: safetensors refuses tensors that share memory, and wants them contiguous on the CPU
    return {k: v.detach().to("cpu", copy=True).contiguous() for k, v in sd.items()}


def save_weights(path: str | Path, module_or_state_dict: nn.Module | Mapping[str, torch.Tensor],
                 metadata: Mapping[str, Any] | None = None, *, half: bool = False) -> Path:
    """Write a module's (or a state dict's) tensors to a ``.safetensors`` file, atomically.

    ``metadata`` (JSON-serialisable) is stored in the file's header. ``half=True`` stores float32
    tensors as float16 (half the size, for shipping; loading casts them back to the model's dtype).
    """
    tensors = _state_dict(module_or_state_dict)
    if half:
        tensors = {k: v.half() if v.dtype == torch.float32 else v for k, v in tensors.items()}
    header = {"aigc_course": json.dumps(dict(metadata or {}))}
    path = Path(path)
    _atomic_write_bytes(path, safetensors.torch.save(tensors, metadata=header))
    return path


def _read_tensors(path: Path, sha256: str | None = None) -> dict[str, torch.Tensor]:
    """Tensors of a ``.safetensors`` file, after checking its SHA-256 when given (no pickle, ever)."""
    if not path.is_file():
        raise CheckpointError(f"weights file {path} does not exist")
    data = path.read_bytes()  # hash and parse the same bytes: nothing can change in between
    if sha256 is not None and sha256_bytes(data) != sha256:
        raise CheckpointError(
            f"{path} has SHA-256 {sha256_bytes(data)} but {sha256} was expected: the file is damaged "
            "or was modified. It was NOT loaded. Reinstall the course package (or re-download the "
            "weights), or retrain them with `python -m aigc_course train NAME --profile full`."
        )
    try:
        return safetensors.torch.load(data)
    except (safetensors.SafetensorError, ValueError) as err:
        raise CheckpointError(
            f"{path} is not a valid .safetensors file ({err}); it was not loaded. Only safetensors "
            "files are accepted (pickled torch.save files are refused because loading them can run code)."
        ) from err


def load_state_into(module: nn.Module, tensors: Mapping[str, torch.Tensor], source: str | Path) -> nn.Module:
    """Load a state dict into ``module`` (strict); a mismatch raises ``CheckpointError`` naming ``source``."""
    try:
        module.load_state_dict(tensors, strict=True)
    except RuntimeError as err:
        raise CheckpointError(
            f"the weights in {source} do not fit the {type(module).__name__} model (was it trained with "
            f"another config?): {err}"
        ) from err
    return module


def load_weights(path: str | Path, module: nn.Module | None = None, sha256: str | None = None):
    """Load a ``.safetensors`` file into ``module`` (strict) and return it; without a module, return
    the state dict. With ``sha256`` the file is refused (``CheckpointError``) unless its hash matches."""
    path = Path(path)
    tensors = _read_tensors(path, sha256)
    return tensors if module is None else load_state_into(module, tensors, path)


def read_metadata(path: str | Path) -> dict:
    """The metadata dict stored by ``save_weights`` in a file's header (reads only the header)."""
    with safetensors.safe_open(str(path), framework="pt") as f:
        return json.loads((f.metadata() or {}).get("aigc_course", "{}"))


# --- JSON + tensors codec (optimiser states, RNG states, nested dicts with int keys, tuples) ---

def _encode(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(obj, torch.Tensor):
        key = f"t{len(tensors)}"
        tensors[key] = obj.detach().to("cpu", copy=True).contiguous()
        return {"__tensor__": key}
    if isinstance(obj, np.ndarray):  # raw bytes + dtype: safetensors lacks some numpy dtypes
        key = f"t{len(tensors)}"
        tensors[key] = torch.from_numpy(np.ascontiguousarray(obj).view(np.uint8).reshape(-1).copy())
        return {"__ndarray__": key, "dtype": obj.dtype.str, "shape": list(obj.shape)}
    if isinstance(obj, dict):
        if all(isinstance(k, str) for k in obj):
            return {k: _encode(v, tensors) for k, v in obj.items()}
        return {"__items__": [[_encode(k, tensors), _encode(v, tensors)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, tensors) for v in obj]}
    if isinstance(obj, list):
        return [_encode(v, tensors) for v in obj]
    if isinstance(obj, (np.integer, np.floating, np.bool_)):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot store a {type(obj).__name__} in a checkpoint (use tensors, numbers, strings, lists, dicts)")


def _decode(obj: Any, tensors: Mapping[str, torch.Tensor]) -> Any:
    if isinstance(obj, list):
        return [_decode(v, tensors) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__tensor__" in obj:
        return tensors[obj["__tensor__"]]
    if "__ndarray__" in obj:
        raw = tensors[obj["__ndarray__"]].numpy().tobytes()
        return np.frombuffer(raw, dtype=np.dtype(obj["dtype"])).reshape(obj["shape"]).copy()
    if "__items__" in obj:
        return {_decode(k, tensors): _decode(v, tensors) for k, v in obj["__items__"]}
    if "__tuple__" in obj:
        return tuple(_decode(v, tensors) for v in obj["__tuple__"])
    return {k: _decode(v, tensors) for k, v in obj.items()}


# --- training checkpoints ------------------------------------------------------------------

def _check_name(name: str) -> str:
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"checkpoint part names must be letters, digits, '-' or '_'; got {name!r}")
    return name


def save_checkpoint(directory: str | Path, *, models: Mapping[str, nn.Module | Mapping[str, torch.Tensor]],
                    optimizers: Mapping[str, torch.optim.Optimizer] | None = None,
                    state: Mapping[str, Any] | None = None) -> Path:
    """Write a checkpoint folder atomically and return its path.

    ``models``: name -> module (each saved as ``<name>.safetensors``); ``optimizers``: name ->
    optimiser; ``state``: anything made of tensors, numpy arrays, numbers, strings, lists, tuples and
    dicts (step, history, RNG states...), stored as ``state.json`` + ``state.safetensors``. The new
    folder is built as ``<dir>.tmp`` and renamed over the old one only when complete.
    """
    final = Path(directory)
    if final.exists() and not final.is_dir():
        raise CheckpointError(f"cannot write a checkpoint to {final}: it is a file, not a folder; choose another --out")
    if final.is_dir():
        foreign = sorted(p.name for p in final.iterdir() if not _is_checkpoint_file(p.name))
        if foreign:
            raise CheckpointError(
                f"refusing to replace {final}: it holds files that are not part of a checkpoint ({', '.join(foreign[:5])}"
                f"{', ...' if len(foreign) > 5 else ''}); move them, or write the run elsewhere (--out)")
    tmp, old = final.with_name(final.name + ".tmp"), final.with_name(final.name + ".old")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        for name, model in models.items():
            save_weights(tmp / f"{_check_name(name)}.safetensors", model)
        tensors: dict[str, torch.Tensor] = {}
        doc = {
            "format": 1,
            "models": sorted(models),
            "optimizers": {_check_name(n): _encode(o.state_dict(), tensors) for n, o in (optimizers or {}).items()},
            "state": _encode(dict(state or {}), tensors),
        }
        _atomic_write_bytes(tmp / STATE_TENSORS, safetensors.torch.save(tensors))
        # written last, with the SHA-256 of every other file: load_checkpoint refuses a modified one
        doc["files"] = {p.name: sha256_bytes(p.read_bytes()) for p in sorted(tmp.iterdir())
                        if p.name != STATE_JSON}
        _atomic_write_bytes(tmp / STATE_JSON, json.dumps(doc).encode())
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if final.exists():
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)  # kept until the new folder is in place
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)
    return final


def _is_checkpoint_file(name: str) -> bool:
    return name in (STATE_JSON, STATE_TENSORS) or name.endswith(".safetensors")


def _verified(path: Path, doc: dict, name: str) -> Path:
    """``path / name`` after checking its SHA-256 against the checkpoint's ``state.json``."""
    file = path / name
    expected = doc.get("files", {}).get(name)
    if expected is None:
        if "files" in doc:
            raise CheckpointError(f"{file} is not listed in {path / STATE_JSON}; the checkpoint is incomplete")
        return file  # a checkpoint written before hashes were recorded
    if not file.is_file():
        raise CheckpointError(f"{file} is missing from the checkpoint {path}: it cannot be used")
    got = sha256_bytes(file.read_bytes())
    if got != expected:
        raise CheckpointError(f"{file} has SHA-256 {got}, but {path / STATE_JSON} recorded {expected}: the file was "
                              "damaged or modified after training, so it was NOT loaded")
    return file


def read_state(path: Path) -> dict:
    """The parsed ``state.json`` of a checkpoint folder (a clear error if it is damaged)."""
    try:
        return json.loads((path / STATE_JSON).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{path / STATE_JSON} is damaged ({err}); this checkpoint cannot be used: resume "
                              f"from another one (e.g. {path.with_name(path.name + '.old')} if it exists)") from None


def load_part(path: str | Path, name: str) -> dict[str, torch.Tensor]:
    """The state dict of part ``name`` of a training checkpoint, after checking its SHA-256."""
    path = find_checkpoint(path)
    return load_weights(_verified(path, read_state(path), f"{_check_name(name)}.safetensors"))


def find_checkpoint(path: str | Path) -> Path:
    """The checkpoint folder for ``path``: the folder itself, a run folder holding ``checkpoint/``,
    or the ``<dir>.old`` copy left by a crash between the two renames of ``save_checkpoint``."""
    path = Path(path)
    for cand in (path, path / CHECKPOINT_SUBDIR, path.with_name(path.name + ".old"),
                 path / (CHECKPOINT_SUBDIR + ".old")):
        if (cand / STATE_JSON).is_file():
            return cand
    raise CheckpointError(
        f"no checkpoint in {path} (looked for {STATE_JSON} there and in {path / CHECKPOINT_SUBDIR}); "
        "pass the folder written by training (`python -m aigc_course train NAME --out DIR` writes DIR/checkpoint)"
    )


def load_checkpoint(directory: str | Path, models: Mapping[str, nn.Module] | None = None,
                    optimizers: Mapping[str, torch.optim.Optimizer] | None = None) -> dict:
    """Load a folder written by ``save_checkpoint`` into ``models``/``optimizers`` (by name) and
    return its ``state`` dict (with ``state["models"]`` listing the saved model names)."""
    path = find_checkpoint(directory)
    doc = read_state(path)
    tensors = _read_tensors(_verified(path, doc, STATE_TENSORS))
    for name, model in (models or {}).items():
        if name not in doc["models"]:
            raise CheckpointError(f"checkpoint {path} has no model {name!r} (it has {doc['models']})")
        load_weights(_verified(path, doc, f"{name}.safetensors"), model)
    for name, opt in (optimizers or {}).items():
        if name not in doc["optimizers"]:
            raise CheckpointError(f"checkpoint {path} has no optimiser {name!r} (it has {sorted(doc['optimizers'])})")
        opt.load_state_dict(_decode(doc["optimizers"][name], tensors))
    state = _decode(doc["state"], tensors)
    state["models"] = list(doc["models"])
    return state


# --- shipped weights -----------------------------------------------------------------------

def weights_dir() -> Path:
    """Folder of the shipped weights: ``$AIGC_WEIGHTS_DIR`` if set, else ``aigc_course/weights``."""
    return Path(os.environ.get("AIGC_WEIGHTS_DIR") or Path(__file__).parent / "weights")


def read_manifest(directory: str | Path | None = None) -> dict:
    """The weights manifest (``{"format": 1, "weights": {}}`` when there is none yet)."""
    path = Path(directory or weights_dir()) / MANIFEST
    if not path.is_file():
        return {"format": 1, "weights": {}}
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise CheckpointError(f"{path} is not valid JSON ({err}); reinstall the course package") from err
    if manifest.get("format") != 1 or not isinstance(manifest.get("weights"), dict):
        raise CheckpointError(f"{path} is not a format-1 weights manifest; reinstall the course package")
    return manifest


def write_manifest(manifest: dict, directory: str | Path | None = None) -> Path:
    """Write the weights manifest atomically (sorted keys, one trailing newline); return its path."""
    path = Path(directory or weights_dir()) / MANIFEST
    _atomic_write_bytes(path, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    return path


def manifest_entry(name: str, directory: str | Path | None = None) -> dict:
    """The manifest entry of shipped weights ``name`` (``CheckpointError`` naming the choices if none)."""
    entries = read_manifest(directory)["weights"]
    if name not in entries:
        raise CheckpointError(
            f"no shipped weights named {name!r} in {Path(directory or weights_dir()) / MANIFEST} (available: "
            f"{sorted(entries) or 'none'}). Train them with `python -m aigc_course train {name} --profile full` "
            f"and ship them with recipes.register_weights, or use recipes.load_or_train({name!r})."
        )
    return entries[name]


def split_parts(tensors: Mapping[str, torch.Tensor]) -> dict[str, dict[str, torch.Tensor]]:
    """``{"generator.a.weight": t}`` -> ``{"generator": {"a.weight": t}}`` (one state dict per part)."""
    parts: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        part, _, rest = key.partition(".")
        parts.setdefault(part, {})[rest] = value
    return parts


def join_parts(parts: Mapping[str, Mapping[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The inverse of :func:`split_parts`: one flat dict of tensors keyed ``part.name``."""
    return {f"{_check_name(part)}.{k}": v for part, sd in parts.items() for k, v in sd.items()}


def read_shipped(name: str, directory: str | Path | None = None) -> tuple[dict, dict[str, dict[str, torch.Tensor]]]:
    """``(manifest entry, state dicts by part)`` of shipped weights ``name``, after checking the file's
    SHA-256 against the manifest. Fails closed: an entry without a hash is refused."""
    directory = Path(directory or weights_dir())
    entry = manifest_entry(name, directory)
    if not isinstance(entry.get("file"), str) or Path(entry["file"]).name != entry["file"]:
        raise CheckpointError(f"the manifest entry {name!r} in {directory / MANIFEST} names the file "
                              f"{entry.get('file')!r}, which is not a plain file name in {directory}; refused")
    path = directory / entry["file"]
    if not isinstance(entry.get("sha256"), str) or len(entry["sha256"]) != 64:
        raise CheckpointError(f"the manifest entry {name!r} in {directory / MANIFEST} has no valid sha256, so "
                              f"{path} cannot be verified and was NOT loaded; reinstall the course package")
    if not path.is_file():
        raise CheckpointError(
            f"the weights file {path} listed for {name!r} is missing. Reinstall the course package, or "
            f"train the weights with `python -m aigc_course train {entry.get('recipe', name)} --profile full` "
            "(or call recipes.load_or_train, which trains the quick recipe when no weights are shipped)."
        )
    return entry, split_parts(_read_tensors(path, entry["sha256"]))


def weights_list() -> list[dict]:
    """One dict per manifest entry: name, file, size in bytes (None if missing) and its manifest fields."""
    rows = []
    for name, entry in sorted(read_manifest()["weights"].items()):
        path = weights_dir() / entry["file"]
        rows.append({"name": name, "size": path.stat().st_size if path.is_file() else None, **entry})
    return rows
