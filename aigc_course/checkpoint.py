"""Saving and loading weights and training checkpoints, safely.

* Tensors go into ``.safetensors`` files (a JSON header plus raw bytes: loading them never runs
  code, unlike ``torch.load`` of a pickle); everything else (configs, step, history, optimiser
  layout, RNG states) goes into JSON, with its tensors in a ``.safetensors`` file beside it.
* Every write is atomic: a file is written to a temporary name in the same folder and renamed
  with ``os.replace``; a checkpoint folder is written as ``<dir>.tmp-<pid>-<random>`` (one name per
  writer) and swapped in only once complete, so a crash or a full disk never destroys the last good
  checkpoint, and a folder the user made is never deleted.
* Shipped weights live in ``aigc_course/weights/`` (or ``$AIGC_WEIGHTS_DIR``), listed in
  ``manifest.json`` with their SHA-256, configs, training cost and metrics; :func:`read_shipped`
  checks the hash before a byte is parsed. Their files are content-addressed
  (``<name>-<first 12 hex digits of the SHA-256>.safetensors``): shipping new weights writes the new
  file, then the manifest (the one step that commits), then removes the old file, so a crash or a
  full disk at any point leaves a manifest whose files all exist and match.

A ground floor of the package: pure storage, it never builds or trains a model (``recipes`` does:
``recipes.pretrained(name)``, ``recipes.load_or_train(name)``, ``recipes.register_weights``).
Introduced in 4.2 (checkpoints, pretrained weights); resuming in 4.6.
"""
from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import shutil
import socket
import uuid
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

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
MAX_FILE_BYTES = 1 << 30          # no weights or tensor file of the course comes near 1 GiB
MAX_JSON_BYTES = 64 << 20         # state.json / manifest.json: a few hundred kB in practice
MAX_JSON_DEPTH = 64               # nesting of state.json / manifest.json (a real one is about 8 deep)


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


def _read_capped(path: Path, cap: int, what: str) -> bytes:
    """The bytes of ``path`` after checking (with ``stat``, before reading) that it is a file of at most
    ``cap`` bytes: a huge or sparse file is refused instead of filling the memory."""
    try:
        info = path.stat()
        if not path.is_file():
            raise CheckpointError(f"{path} is not a file (a folder?); it cannot be read as {what}")
        if info.st_size > cap:
            raise CheckpointError(f"{path} is {info.st_size} bytes, more than the {cap} that {what} of this course "
                                  "can be; it was NOT read (a damaged or foreign file)")
        return path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"{path} does not exist") from None
    except OSError as err:
        raise CheckpointError(f"{path} cannot be read ({err.strerror or err}); fix its permissions or use "
                              "another copy") from None


def _json_depth(obj: Any, limit: int) -> int:
    """Nesting depth of parsed JSON, counted without recursion (stops counting above ``limit``)."""
    deepest, todo = 0, [(obj, 1)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
            todo.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


def _parse_json(path: Path, data: bytes) -> Any:
    """Parse JSON bytes; a ``ValueError`` (with the reason) for bad UTF-8, bad JSON or absurd nesting."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"not UTF-8 text: {err}") from None
    try:
        obj = json.loads(text)
    except RecursionError:
        raise ValueError(f"nested more than {MAX_JSON_DEPTH} levels deep") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"not valid JSON: {err}") from None
    if _json_depth(obj, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise ValueError(f"nested more than {MAX_JSON_DEPTH} levels deep")
    return obj


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
    path = Path(path)
    _atomic_write_bytes(path, weights_bytes(module_or_state_dict, metadata, half=half))
    return path


def weights_bytes(module_or_state_dict: nn.Module | Mapping[str, torch.Tensor],
                  metadata: Mapping[str, Any] | None = None, *, half: bool = False) -> bytes:
    """The bytes :func:`save_weights` writes (a ``.safetensors`` file), without writing them."""
    tensors = _state_dict(module_or_state_dict)
    if half:
        tensors = {k: v.half() if v.dtype == torch.float32 else v for k, v in tensors.items()}
    header = {"aigc_course": json.dumps(dict(metadata or {}))}
    return safetensors.torch.save(tensors, metadata=header)


def _read_tensors(path: Path, sha256: str | None = None, recorded_in: Path | None = None) -> dict[str, torch.Tensor]:
    """Tensors of a ``.safetensors`` file, after checking its size and (when given) its SHA-256: the same
    bytes are hashed and parsed, so nothing can change in between (no pickle, ever). ``recorded_in``: the
    file that recorded the hash (a checkpoint's ``state.json``), for the message."""
    if not path.exists():
        raise CheckpointError(f"weights file {path} does not exist")
    data = _read_capped(path, MAX_FILE_BYTES, "a weights file")
    if sha256 is not None and sha256_bytes(data) != sha256:
        if recorded_in is not None:
            raise CheckpointError(f"{path} has SHA-256 {sha256_bytes(data)}, but {recorded_in} recorded {sha256}: the "
                                  "file was damaged or modified after training, so it was NOT loaded")
        raise CheckpointError(
            f"{path} has SHA-256 {sha256_bytes(data)} but {sha256} was expected: the file is damaged "
            "or was modified. It was NOT loaded. Reinstall the course package (or re-download the "
            "weights), or retrain them with `python -m aigc_course train NAME --profile full`."
        )
    try:
        return safetensors.torch.load(data)
    except (safetensors.SafetensorError, ValueError, OverflowError, MemoryError) as err:
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


def _state_digest(doc: Mapping[str, Any]) -> str:
    """SHA-256 of a checkpoint's models, optimiser layout and state, as stored in ``state.json``."""
    body = {k: doc.get(k) for k in ("models", "optimizers", "state")}
    return sha256_bytes(json.dumps(body, sort_keys=True).encode())


def foreign_files(folder: Path) -> list[str]:
    """Names in ``folder`` that no checkpoint writes (a user's notes, images...): never deleted or replaced."""
    return sorted(p.name for p in folder.iterdir() if not (_is_checkpoint_file(p.name) and p.is_file()))


def _refuse_foreign(folder: Path, what: str) -> None:
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise CheckpointError(f"refusing to replace {folder}: it is a {'link' if folder.is_symlink() else 'file'}, "
                              f"not {what}; move it, or write the run elsewhere (--out)")
    if folder.is_dir():
        foreign = foreign_files(folder)
        if foreign:
            raise CheckpointError(
                f"refusing to replace {folder}: it holds files that are not part of a checkpoint "
                f"({', '.join(foreign[:5])}{', ...' if len(foreign) > 5 else ''}); move them, or write the run "
                "elsewhere (--out)")


def checkpoint_side_folders(final: Path) -> list[Path]:
    """Folders beside checkpoint ``final`` that ``save_checkpoint`` uses: ``<dir>.old`` and leftover
    ``<dir>.tmp*`` folders of writers that crashed (or that a user made)."""
    if not final.parent.is_dir():
        return []
    return sorted(p for p in final.parent.iterdir()
                  if p.name == final.name + ".old" or p.name.startswith(final.name + ".tmp"))


def check_checkpoint_target(directory: str | Path) -> None:
    """Refuse, before any work, a checkpoint folder that ``save_checkpoint`` could not replace safely: a file
    or link in its place, or files that are not part of a checkpoint in it, in ``<dir>.old`` or in a
    leftover ``<dir>.tmp*`` (a user's files there are never deleted)."""
    final = Path(directory)
    _refuse_foreign(final, "a checkpoint folder")
    for side in checkpoint_side_folders(final):
        _refuse_foreign(side, "a checkpoint folder left by an earlier save")


def _write_error(final: Path, err: OSError) -> CheckpointError:
    previous = ""
    if (final / STATE_JSON).is_file():
        try:
            step = read_state(final)["state"].get("step")
            previous = f"; the previous checkpoint {final} is intact" + (f" (step {step})" if step is not None else "")
        except CheckpointError:
            previous = f"; the previous checkpoint {final} was not touched"
    else:
        previous = "; nothing was saved there before"
    resume = f", then continue with --resume {_quote(str(final))}" if previous.startswith("; the previous") else ""
    return CheckpointError(f"could not write a checkpoint to {final} ({err.strerror or err}){previous}. Free some space "
                           f"or choose another --out{resume}")


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def save_checkpoint(directory: str | Path, *, models: Mapping[str, nn.Module | Mapping[str, torch.Tensor]],
                    optimizers: Mapping[str, torch.optim.Optimizer] | None = None,
                    state: Mapping[str, Any] | None = None) -> Path:
    """Write a checkpoint folder atomically and return its path.

    ``models``: name -> module (each saved as ``<name>.safetensors``); ``optimizers``: name ->
    optimiser; ``state``: anything made of tensors, numpy arrays, numbers, strings, lists, tuples and
    dicts (step, history, RNG states...), stored as ``state.json`` + ``state.safetensors``. The new
    folder is built as ``<dir>.tmp-<pid>-<random>`` (a name no other writer and no user uses) and
    renamed over the old one only when complete. A folder holding files that are not part of a
    checkpoint is never replaced. An ``OSError`` (a full disk, a read-only folder) becomes a
    ``CheckpointError`` naming the folder; the previous checkpoint is left intact. The state keys the
    trainer writes (``step``, ``kind``, ``meta``, ``model_config``, ``train_config``, ``history``,
    ``wall_time``) must, when present, have the trainer's types: loading checks them.
    """
    final = Path(directory)
    if final.exists() and not final.is_dir():
        raise CheckpointError(f"cannot write a checkpoint to {final}: it is a file, not a folder; choose another --out")
    _refuse_foreign(final, "a checkpoint folder")
    old = final.with_name(final.name + ".old")
    _refuse_foreign(old, "a checkpoint folder left by an earlier save")
    tmp = final.with_name(f"{final.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        tmp.mkdir(parents=True)
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
        # written last, with the SHA-256 of every other file and of its own content: load_checkpoint refuses
        # a modified file, and a state.json edited by hand (e.g. its step)
        doc["files"] = {p.name: sha256_bytes(p.read_bytes()) for p in sorted(tmp.iterdir())
                        if p.name != STATE_JSON}
        doc["state_sha256"] = _state_digest(json.loads(json.dumps(doc)))
        _atomic_write_bytes(tmp / STATE_JSON, json.dumps(doc).encode())
        if final.exists():
            if old.exists():
                shutil.rmtree(old)  # only checkpoint files (checked above)
            os.replace(final, old)  # kept until the new folder is in place
        os.replace(tmp, final)
    except BaseException as err:  # (a full disk, a second Ctrl-C...): the previous checkpoint stays in place
        shutil.rmtree(tmp, ignore_errors=True)
        if old.is_dir() and not final.exists():
            with contextlib.suppress(OSError):
                os.replace(old, final)
        if isinstance(err, OSError):
            raise _write_error(final, err) from err
        raise
    shutil.rmtree(old, ignore_errors=True)
    return final


def _is_checkpoint_file(name: str) -> bool:
    return name in (STATE_JSON, STATE_TENSORS) or name.endswith(".safetensors")


def _verified(path: Path, doc: dict, name: str) -> tuple[Path, str | None]:
    """``(path / name, its SHA-256 recorded in state.json)`` (None for checkpoints written before hashes
    were recorded); the caller reads the file once and checks the hash on the bytes it parses."""
    file = path / name
    files = doc.get("files")
    expected = (files or {}).get(name)
    if expected is None:
        if files is not None:
            raise CheckpointError(f"{file} is not listed in {path / STATE_JSON}; the checkpoint is incomplete")
        return file, None  # a checkpoint written before hashes were recorded
    if not file.is_file():
        raise CheckpointError(f"{file} is missing from the checkpoint {path}: it cannot be used")
    return file, expected


def _schema_problem(doc: Any) -> str | None:
    """What is wrong with the structure of a parsed ``state.json`` (None if nothing)."""
    if not isinstance(doc, dict):
        return f"it holds a JSON {type(doc).__name__}, not an object"
    models = doc.get("models")
    if not isinstance(models, list) or not all(isinstance(m, str) for m in models):
        return '"models" is not a list of names'
    for key in ("optimizers", "state"):
        if not isinstance(doc.get(key, {}), dict):
            return f'"{key}" is not an object'
    files = doc.get("files")
    if files is not None and (not isinstance(files, dict) or
                              not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items())):
        return '"files" is not an object of file names and SHA-256s'
    state = doc.get("state", {})
    step = state.get("step")
    if "step" in state and (not isinstance(step, int) or isinstance(step, bool) or step < 0):
        return f'"state.step" is {step!r}, not a whole number >= 0'
    for key, kind in (("kind", str), ("meta", dict), ("train_config", dict), ("history", dict)):
        if key in state and not isinstance(state[key], kind):
            return f'"state.{key}" is not {"a string" if kind is str else "an object"}'
    if "model_config" in state and not isinstance(state["model_config"], (dict, type(None))):
        return '"state.model_config" is not an object'
    if "wall_time" in state and (not isinstance(state["wall_time"], (int, float)) or isinstance(state["wall_time"], bool)):
        return '"state.wall_time" is not a number'
    return None


def read_state(path: Path) -> dict:
    """The parsed ``state.json`` of a checkpoint folder, after checking its size, its structure and (when
    recorded) its own SHA-256; a clear ``CheckpointError`` naming the file if anything is wrong."""
    file = path / STATE_JSON
    other = f"e.g. {path.with_name(path.name + '.old')} if it exists"
    try:
        doc = _parse_json(file, _read_capped(file, MAX_JSON_BYTES, "a state.json"))
    except ValueError as err:
        raise CheckpointError(f"{file} is damaged ({err}); this checkpoint cannot be used: resume "
                              f"from another one ({other})") from None
    problem = _schema_problem(doc)
    if problem is not None:
        raise CheckpointError(f"{file} is not a checkpoint's state ({problem}); this checkpoint cannot be used: "
                              f"resume from another one ({other})")
    recorded = doc.get("state_sha256")
    if recorded is not None and recorded != _state_digest(doc):
        raise CheckpointError(f"{file} was modified after it was written (its content no longer matches the SHA-256 it "
                              f"recorded); it was NOT loaded: resume from another checkpoint ({other})")
    return doc


def load_part(path: str | Path, name: str) -> dict[str, torch.Tensor]:
    """The state dict of part ``name`` of a training checkpoint, after checking its SHA-256."""
    path = find_checkpoint(path)
    file, sha = _verified(path, read_state(path), f"{_check_name(name)}.safetensors")
    return _read_tensors(file, sha, path / STATE_JSON)


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
    tensors = _read_tensors(*_verified(path, doc, STATE_TENSORS), path / STATE_JSON)
    for name, model in (models or {}).items():
        if name not in doc["models"]:
            raise CheckpointError(f"checkpoint {path} has no model {name!r} (it has {doc['models']})")
        file, sha = _verified(path, doc, f"{name}.safetensors")
        load_state_into(model, _read_tensors(file, sha, path / STATE_JSON), file)
    try:
        for name, opt in (optimizers or {}).items():
            if name not in doc.get("optimizers", {}):
                raise CheckpointError(f"checkpoint {path} has no optimiser {name!r} (it has "
                                      f"{sorted(doc.get('optimizers', {}))})")
            opt.load_state_dict(_decode(doc["optimizers"][name], tensors))
        state = _decode(doc.get("state", {}), tensors)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, RecursionError) as err:
        raise CheckpointError(f"{path / STATE_JSON} does not fit its checkpoint ({type(err).__name__}: {err}); this "
                              "checkpoint cannot be used: resume from another one") from None
    state["models"] = list(doc["models"])
    return state


def require(state: Mapping[str, Any], path: Path, *fields: str) -> None:
    """Refuse a checkpoint whose state lacks one of ``fields`` (e.g. a folder written by ``save_checkpoint``
    directly, not by training), naming its ``state.json``."""
    missing = [f for f in fields if state.get(f) is None]
    if missing:
        raise CheckpointError(f"{Path(path) / STATE_JSON} records no {', '.join(missing)}: it is not a training "
                              "checkpoint of this course (written by `python -m aigc_course train` or a Trainer)")


# --- shipped weights -----------------------------------------------------------------------

def weights_dir() -> Path:
    """Folder of the shipped weights: ``$AIGC_WEIGHTS_DIR`` if set, else ``aigc_course/weights``."""
    return Path(os.environ.get("AIGC_WEIGHTS_DIR") or Path(__file__).parent / "weights")


def _package_weights() -> Path:
    return Path(__file__).parent / "weights"


def manifest_remedy(directory: str | Path | None = None) -> str:
    """What to do about a missing or damaged manifest in ``directory``: name AIGC_WEIGHTS_DIR when it points
    elsewhere, ``git checkout`` in a clone of the course, a reinstall for an installed package."""
    directory = Path(directory or weights_dir())
    env = os.environ.get("AIGC_WEIGHTS_DIR")
    if env and Path(env) == directory and directory.resolve() != _package_weights().resolve():
        if not directory.is_dir():
            what = "does not exist" if not directory.exists() else "is not a folder"
            return (f"AIGC_WEIGHTS_DIR={env} {what}: check the variable, or unset it to use the package's "
                    "own weights")
        return (f"restore {directory / MANIFEST} (the folder AIGC_WEIGHTS_DIR={env} names), or unset AIGC_WEIGHTS_DIR "
                "to use the package's own weights")
    if directory.resolve() == _package_weights().resolve():
        clone = _package_weights().parents[1]
        if (clone / ".git").exists():
            rel = (_package_weights() / MANIFEST).relative_to(clone)
            return f"restore it with `git checkout {rel}` (in {clone}; this is a clone of the course)"
        return "reinstall the course package (pip install --force-reinstall aigc-course, or the course's requirements)"
    return f"restore {directory / MANIFEST} from where it came from"


def read_manifest(directory: str | Path | None = None) -> dict:
    """The weights manifest (``{"format": 1, "weights": {}}`` when there is none yet). A damaged one (bad
    JSON or UTF-8, absurd nesting or size, the wrong structure) raises ``CheckpointError`` naming the file and
    how to restore it. Single entries are checked where they are used (:func:`entry_problem`)."""
    directory = Path(directory or weights_dir())
    path = directory / MANIFEST
    if not path.exists():
        return {"format": 1, "weights": {}}
    try:
        manifest = _parse_json(path, _read_capped(path, MAX_JSON_BYTES, "a weights manifest"))
    except ValueError as err:
        raise CheckpointError(f"{path} is damaged ({err}); {manifest_remedy(directory)}") from None
    except CheckpointError as err:
        raise CheckpointError(f"{err}; {manifest_remedy(directory)}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != 1 or not isinstance(manifest.get("weights"), dict):
        raise CheckpointError(f"{path} is not a format-1 weights manifest; {manifest_remedy(directory)}")
    return manifest


def write_manifest(manifest: dict, directory: str | Path | None = None) -> Path:
    """Write the weights manifest atomically (sorted keys, one trailing newline); return its path."""
    path = Path(directory or weights_dir()) / MANIFEST
    _atomic_write_bytes(path, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    return path


def _plain_name(value: Any) -> bool:
    return isinstance(value, str) and value not in ("", ".", "..") and Path(value).name == value and "\\" not in value


def entry_problem(name: str, entry: Any) -> str | None:
    """Why manifest entry ``name`` cannot be used (None if it can): not an object, no plain ``file`` name
    inside the weights folder, no valid ``sha256``, no ``kind`` or ``model_config``."""
    if not isinstance(entry, dict):
        return f"the entry is a JSON {type(entry).__name__}, not an object"
    if not _plain_name(entry.get("file")):
        return (f"it names the file {entry.get('file')!r}, which is not a plain file name in the weights folder"
                if "file" in entry else "it names no file")
    sha = entry.get("sha256")
    if not isinstance(sha, str) or len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        return "it has no valid sha256, so its file cannot be verified"
    if not isinstance(entry.get("kind"), str):
        return "it has no model kind"
    if not isinstance(entry.get("model_config"), (dict, type(None))):
        return "its model_config is not an object"
    return None


def manifest_entry(name: str, directory: str | Path | None = None) -> dict:
    """The manifest entry of shipped weights ``name`` (``CheckpointError`` naming the choices if none, or
    saying what is wrong with it)."""
    directory = Path(directory or weights_dir())
    entries = read_manifest(directory)["weights"]
    if name not in entries:
        raise CheckpointError(
            f"no shipped weights named {name!r} in {directory / MANIFEST} (available: "
            f"{sorted(entries) or 'none'}). Train them with `python -m aigc_course train {name} --profile full` "
            f"and ship them with `python -m aigc_course weights register {name} RUN`, or use "
            f"recipes.load_or_train({name!r})."
        )
    entry = entries[name]
    problem = entry_problem(name, entry)
    if problem is not None:
        if isinstance(entry, dict) and "file" in entry and not _plain_name(entry.get("file")):
            problem += "; refused"
        raise CheckpointError(f"the manifest entry {name!r} in {directory / MANIFEST} cannot be used: {problem}, and "
                              f"it was NOT loaded; {manifest_remedy(directory)}")
    return entry


def shipped_file_name(name: str, data: bytes, suffix: str = ".safetensors") -> str:
    """The content-addressed file name of shipped bytes: ``<name>-<12 hex digits of their SHA-256><suffix>``."""
    return f"{name}-{sha256_bytes(data)[:12]}{suffix}"


def write_shipped_file(directory: str | Path, name: str, data: bytes, suffix: str = ".safetensors") -> tuple[str, str]:
    """Write ``data`` into the weights folder under its content-addressed name (atomic; a file of that name
    already holds the same bytes, so it is left as it is) and return ``(file name, sha256)``. Nothing refers
    to the file until :func:`commit_entry` writes the manifest."""
    directory = Path(directory)
    file = shipped_file_name(name, data, suffix)
    path = directory / file
    sha = sha256_bytes(data)
    if not (path.is_file() and not path.is_symlink() and path.stat().st_size == len(data)
            and sha256_bytes(path.read_bytes()) == sha):
        _atomic_write_bytes(path, data)
    return file, sha


@contextlib.contextmanager
def manifest_lock(directory: str | Path | None = None) -> Iterator[None]:
    """Hold an exclusive lock (``flock`` on the weights folder itself) while reading, changing and writing its
    manifest, so two writers (two ``register_weights``, an export) never lose each other's entries."""
    directory = Path(directory or weights_dir())
    directory.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory locks; writers must take turns
        yield
        return
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))  # the folder itself: no lock file
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # waits: manifest writes take milliseconds
        yield
    finally:
        os.close(fd)  # drops the lock


def _entry_files(entry: Any) -> set[str]:
    """The files of the weights folder an entry refers to (its weights, its ONNX export)."""
    if not isinstance(entry, dict):
        return set()
    files = {entry.get("file")}
    if isinstance(entry.get("onnx"), dict):
        files.add(entry["onnx"].get("file"))
    return {f for f in files if _plain_name(f)}


def commit_entry(name: str, change, directory: str | Path | None = None) -> dict:
    """Change manifest entry ``name`` in one atomic step and return the new entry: under the manifest lock,
    read the manifest, set the entry to ``change(old entry or None)``, write the manifest (the commit), then
    remove the files that only the old entry used. Before the commit every file of the new entry must
    already be written: readers see either the old entry with its files or the new one with its files."""
    directory = Path(directory or weights_dir())
    with manifest_lock(directory):
        manifest = read_manifest(directory)
        old = manifest["weights"].get(name)
        new = change(old)
        manifest["weights"][name] = new
        write_manifest(manifest, directory)
        still_used = set().union(*(_entry_files(e) for e in manifest["weights"].values()))
        for stale in _entry_files(old) - still_used:
            with contextlib.suppress(OSError):
                (directory / stale).unlink()
    return new


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
    SHA-256 against the manifest. Fails closed: an entry without a hash is refused. A reader that lost a
    race with ``register_weights`` (its file was replaced and removed after it read the manifest) reads the
    manifest once more before reporting damage."""
    directory = Path(directory or weights_dir())
    for attempt in (1, 2):
        entry = manifest_entry(name, directory)
        path = directory / entry["file"]
        try:
            if not path.is_file():
                raise CheckpointError(
                    f"the weights file {path} listed for {name!r} is missing. {manifest_remedy(directory).capitalize()}, "
                    f"or train the weights with `python -m aigc_course train {entry.get('recipe', name)} --profile full` "
                    "(or call recipes.load_or_train, which trains the quick recipe when no weights are shipped).")
            return entry, split_parts(_read_tensors(path, entry["sha256"]))
        except CheckpointError:
            again = read_manifest(directory)["weights"].get(name)
            changed = not isinstance(again, dict) or (again.get("file"), again.get("sha256")) != (
                entry["file"], entry["sha256"])
            if attempt == 2 or not changed:
                raise
    raise AssertionError("unreachable")


def weights_list() -> list[dict]:
    """One dict per manifest entry: name, file, size in bytes (None if missing) and its manifest fields;
    an entry that cannot be used has ``problem`` set (and its file is never looked at)."""
    rows = []
    directory = weights_dir()
    for name, entry in sorted(read_manifest()["weights"].items()):
        problem = entry_problem(name, entry)
        if problem is not None:
            rows.append({"name": name, "file": "-", "size": None, "problem": problem, "metrics": {}})
            continue
        path = directory / entry["file"]
        if not path.is_file():  # replaced by a registration since the manifest was read?
            again = read_manifest()["weights"].get(name)
            if entry_problem(name, again) is None:
                entry, path = again, directory / again["file"]
        rows.append({"name": name, "size": path.stat().st_size if path.is_file() else None, **entry})
    return rows
