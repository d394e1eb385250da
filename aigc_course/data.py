"""Course data: Fashion-MNIST and MNIST (IDX files, verified), sklearn digits, 2-D toy sets, and a
device-resident batch loader.

Introduced in 4.1 (the data pipeline); the 2-D toy sets in 2.3.

Where the IDX files come from, in this order (the first complete, verified copy wins):

1. ``$AIGC_DATA/<name>/`` then ``$AIGC_DATA/`` itself, when ``AIGC_DATA`` is set;
2. the cache, ``~/.cache/aigc_course/<name>/`` (``AIGC_CACHE`` replaces ``~/.cache/aigc_course``);
3. system folders, ``/usr/share/datasets/<name>/`` (Debian's ``dataset-fashion-mnist`` installs
   Fashion-MNIST there; ``AIGC_SYSTEM_DATA``, a ``os.pathsep``-separated list, replaces the list);
4. a download from the official URLs into the cache, unless ``AIGC_OFFLINE=1``.

Each folder may hold the files gzipped (``train-images-idx3-ubyte.gz``) or not. A file whose SHA-256
differs from the known one is renamed to ``<file>.corrupt-<timestamp>`` and never used.
"""
from __future__ import annotations

import dataclasses
import hashlib
import math
import http.client
import os
import shlex
import tempfile
import time
import urllib.request
import warnings
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Iterator, NamedTuple

import numpy as np
import torch

from .errors import ChecksumError, DataError, DataNotFoundError, IDXFormatError

__all__ = [
    "ChecksumError", "DataError", "DataNotFoundError", "IDXFormatError",
    "ImageData", "read_idx", "fashion_mnist", "mnist", "digits", "load", "where",
    "toy2d", "toy2d_modes", "TensorLoader", "cmd_data",
    "DatasetSpec", "cache_root", "DATASETS", "CHECKSUMS", "SYSTEM_DIRS", "NAMES", "TOY2D_NAMES",
]

NAMES = ("fashion-mnist", "mnist", "digits")
SPLITS = ("train", "test")
SPLIT_FILES = {  # split -> (images file, labels file), without the .gz suffix
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
SYSTEM_DIRS = ("/usr/share/datasets",)  # roots holding <name>/ folders; env AIGC_SYSTEM_DATA overrides
DOWNLOAD_TIMEOUT_S = 60.0
MAX_DOWNLOAD_BYTES = 64 * 2**20   # the largest official .gz is 26 MB; anything bigger is refused
MAX_IDX_BYTES = 256 * 2**20       # decompressed size limit of IDX files without a known shape
EXPECTED_DIMS = {  # the shapes of MNIST and Fashion-MNIST (both): checked in the header, before decompressing all
    "train-images-idx3-ubyte": (60000, 28, 28), "train-labels-idx1-ubyte": (60000,),
    "t10k-images-idx3-ubyte": (10000, 28, 28), "t10k-labels-idx1-ubyte": (10000,),
}
_IDX_MAGICS = {0x00000801: "labels (1-D)", 0x00000803: "images (3-D)"}  # unsigned-byte IDX only


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """What we know about an IDX data set: where to download it and what its classes are called."""

    name: str
    title: str
    urls: tuple[str, ...]  # base URLs tried in order; the file name + ".gz" is appended
    classes: tuple[str, ...]
    apt_package: str | None = None  # Debian package that installs it under /usr/share/datasets


DATASETS: dict[str, DatasetSpec] = {
    "fashion-mnist": DatasetSpec(
        name="fashion-mnist",
        title="Fashion-MNIST",
        urls=("https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",),
        classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        apt_package="dataset-fashion-mnist",
    ),
    "mnist": DatasetSpec(
        name="mnist",
        title="MNIST",
        urls=("https://ossci-datasets.s3.amazonaws.com/mnist/",
              "https://storage.googleapis.com/cvdf-datasets/mnist/"),
        classes=tuple(str(d) for d in range(10)),
    ),
}

# Known SHA-256 sums, per data set and file: "idx" is the sum of the DECOMPRESSED IDX bytes (the same
# whoever gzipped the file), "gz" the sum of the official .gz download.
# - Fashion-MNIST "idx": measured from Debian's dataset-fashion-mnist (whose .gz files are recompressed,
#   so their own sums differ from the official ones). "gz": tensorflow/datasets,
#   tensorflow_datasets/url_checksums/fashion_mnist.txt (the official .gz files).
# - MNIST: no published sum of the decompressed files was found, only the .gz ones, from
#   tensorflow/datasets, tensorflow_datasets/url_checksums/mnist.txt (sizes 9912422, 28881, 1648877,
#   4542 bytes). So MNIST is verified on the official .gz bytes: a download must match them exactly;
#   a local copy that is not the official .gz (unpacked or recompressed) cannot be verified and is
#   used after the IDX structure checks, with a warning.
CHECKSUMS: dict[str, dict[str, dict[str, str]]] = {
    "fashion-mnist": {
        "train-images-idx3-ubyte": {
            "idx": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"},
        "train-labels-idx1-ubyte": {
            "idx": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"},
        "t10k-images-idx3-ubyte": {
            "idx": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"},
        "t10k-labels-idx1-ubyte": {
            "idx": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
            "gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"},
    },
    "mnist": {
        "train-images-idx3-ubyte": {
            "gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"},
        "train-labels-idx1-ubyte": {
            "gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"},
        "t10k-images-idx3-ubyte": {
            "gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"},
        "t10k-labels-idx1-ubyte": {
            "gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"},
    },
}


class ImageData(NamedTuple):
    """An image data set held in memory. Introduced in 4.1.

    ``images`` uint8 (N, C, H, W) in 0..255, ``labels`` int64 (N,), ``classes[label]`` is the class
    name. The tensors may be shared with an in-process cache: treat them as read-only.
    """

    images: torch.Tensor
    labels: torch.Tensor
    classes: list[str]
    name: str


# ----------------------------------------------------------------------------------------------
# IDX files


def _idx_error(path: Path | str, what: str) -> IDXFormatError:
    return IDXFormatError(
        f"{path} is not a valid IDX file: {what}. Delete it and fetch it again "
        "(`python -m aigc_course data fetch NAME`), or point AIGC_DATA at a good copy."
    )


def _declared_limit(head: bytes, limit: int) -> int:
    """The IDX size the header ``head`` declares (plus 64 KiB, so that a few bytes too many are reported as
    such), when the header is complete and that is below ``limit``; else ``limit``."""
    if len(head) < 4 or len(head) < 4 + 4 * head[3]:
        return limit
    dims = np.frombuffer(head, dtype=">u4", count=head[3], offset=4)
    return min(limit, 4 + 4 * len(dims) + math.prod(int(d) for d in dims) + 2**16)


def _read_bytes(path: Path, limit: int = MAX_IDX_BYTES, *, by_header: bool = False) -> tuple[bytes, bytes]:
    """(bytes on disk, IDX bytes): gzip is recognised by its magic number, not by the name. Decompression
    stops at ``limit`` bytes: a file that would inflate beyond it (a "gzip bomb") is refused. With
    ``by_header`` the limit is lowered to the size the file's own header declares (read first), so memory
    follows the real file, not the cap."""
    try:
        raw = path.read_bytes()
    except PermissionError as err:
        raise DataError(f"{path} cannot be read ({err.strerror}): fix its permissions "
                        f"(e.g. `chmod a+r {shlex.quote(str(path))}`) or point AIGC_DATA elsewhere") from None
    if raw[:2] != b"\x1f\x8b":
        if by_header:
            limit = _declared_limit(raw[:4 + 4 * 255], limit)
        if len(raw) > limit + 1:
            raise _idx_error(path, f"{len(raw)} bytes, more than the {limit} expected")
        return raw, raw
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        if by_header:
            head = inflater.decompress(raw, 4)
            if len(head) == 4 and head[3]:
                head += inflater.decompress(inflater.unconsumed_tail, 4 * head[3])
            limit = _declared_limit(head, limit)
            rest = inflater.decompress(inflater.unconsumed_tail, limit + 1 - len(head)) if limit >= len(head) else b""
            buf = head + rest
        else:
            buf = inflater.decompress(raw, limit + 1)
    except zlib.error as err:
        raise _idx_error(path, f"damaged gzip data ({err})") from None
    if len(buf) > limit:
        raise _idx_error(path, f"it inflates to more than {limit} bytes (expected at most that; a damaged "
                               "file or a gzip bomb), so it was not decompressed further")
    if not inflater.eof:
        raise _idx_error(path, "truncated gzip data (the stream ends early)")
    return raw, buf


def _parse_idx(buf: bytes, path: Path | str, expected: tuple[int, ...] | None = None) -> np.ndarray:
    """Check the header, the dimensions (against ``expected`` when known) and the exact payload size;
    return a uint8 array."""
    if len(buf) < 4:
        raise _idx_error(path, f"only {len(buf)} bytes, too short for the 4-byte magic number")
    magic = int.from_bytes(buf[:4], "big")
    if magic not in _IDX_MAGICS:
        expected = ", ".join(f"0x{m:08X} for {kind}" for m, kind in _IDX_MAGICS.items())
        raise _idx_error(path, f"magic number 0x{magic:08X}, expected {expected} "
                               "(unsigned bytes, type code 0x08)")
    ndim = buf[3]
    header = 4 + 4 * ndim
    if len(buf) < header:
        raise _idx_error(path, f"truncated header ({len(buf)} bytes, a {ndim}-D header has {header})")
    dims = tuple(int(d) for d in np.frombuffer(buf, dtype=">u4", count=ndim, offset=4))
    if expected is not None and dims != expected:
        raise _idx_error(path, f"dimensions {dims} in the header, expected {expected}")
    expected_bytes = math.prod(dims)  # Python ints: no overflow for absurd headers
    payload = len(buf) - header
    if payload < expected_bytes:
        raise _idx_error(path, f"truncated: dimensions {dims} need {expected_bytes} data bytes, "
                               f"the file holds {payload}")
    if payload > expected_bytes:
        raise _idx_error(path, f"{payload - expected_bytes} unexpected bytes after the "
                               f"{expected_bytes} data bytes of dimensions {dims}")
    # copy: a writable array owning its memory (torch.from_numpy warns on read-only buffers)
    return np.frombuffer(buf, dtype=np.uint8, count=expected_bytes, offset=header).reshape(dims).copy()


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an unsigned-byte IDX file (raw or gzipped) into a uint8 array. Introduced in 4.1.

    Raises IDXFormatError (naming the file and the problem) on a bad magic number, a damaged
    gzip stream, or a payload whose size differs from what the header's dimensions promise.
    No checksum is checked here; the data set loaders do that.
    """
    path = Path(path)
    return _parse_idx(_read_bytes(path, by_header=True)[1], path)


def _idx_size(dims: tuple[int, ...]) -> int:
    return 4 + 4 * len(dims) + math.prod(dims)


def _sha256(buf: bytes) -> str:
    return hashlib.sha256(buf).hexdigest()


class _FileRead(NamedTuple):
    array: np.ndarray
    idx_sha: str  # SHA-256 of the decompressed IDX bytes
    file_sha: str | None  # SHA-256 of the bytes on disk, for gzip files


@lru_cache(maxsize=16)
def _read_hashed(path: str, size: int, mtime_ns: int, stem: str = "") -> _FileRead:
    """Read and hash a file once per process; (size, mtime) in the key notice a replaced file. For a known
    ``stem`` the decompressed size is capped at the exact IDX size and the header dims must match."""
    dims = EXPECTED_DIMS.get(stem)
    raw, buf = _read_bytes(Path(path), _idx_size(dims) if dims else MAX_IDX_BYTES)
    return _FileRead(_parse_idx(buf, path, dims), _sha256(buf), _sha256(raw) if raw is not buf else None)


def _timestamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


def _move_aside(path: Path) -> str:
    """Rename a bad file to <file>.corrupt-<timestamp>; say what happened (read-only folders too)."""
    target = path.with_name(f"{path.name}.corrupt-{_timestamp()}")
    try:
        path.rename(target)
    except OSError as err:
        return (f"it could not be moved aside ({err.strerror or err}; the folder is read-only?) "
                "and is skipped: remove or replace it")
    return f"it was moved aside to {target}"


def _load_file(path: Path, name: str, stem: str, *, must_verify: bool = False,
               read_only: bool = False) -> tuple[np.ndarray, str]:
    """Read a data set file and check it against CHECKSUMS. Returns (array, "verified"|"unverified").

    A mismatch moves the file aside (not when ``read_only``, as ``data info`` is) and raises
    ChecksumError. Without a usable known sum the file is "unverified" (a warning), unless
    ``must_verify`` (downloads), which makes that a ChecksumError.
    """
    try:
        stat = path.stat()
        read = _read_hashed(str(path), stat.st_size, stat.st_mtime_ns, stem)
    except IDXFormatError as err:
        text = str(err).replace("data fetch NAME", f"data fetch {name}")
        raise IDXFormatError(f"{text} ({'left in place: data info only reads' if read_only else _move_aside(path)})") from None
    known = CHECKSUMS.get(name, {}).get(stem, {})
    if "idx" in known:
        if read.idx_sha == known["idx"]:
            return read.array, "verified"
        problem = f"SHA-256 of its decompressed bytes is {read.idx_sha}, expected {known['idx']}"
    elif "gz" in known and read.file_sha == known["gz"]:
        return read.array, "verified"
    elif not must_verify:
        warnings.warn(f"{path}: no known SHA-256 to check this copy against (only the official .gz "
                      "download has one); using it after the IDX format checks", stacklevel=3)
        return read.array, "unverified"
    else:
        got = read.file_sha or read.idx_sha
        problem = f"SHA-256 is {got}, expected {known.get('gz', '(no known sum)')}"
    aside = "it was left in place (data info only reads)" if read_only else _move_aside(path)
    raise ChecksumError(f"{path}: checksum mismatch, {problem}; {aside}. It is never used.")


# ----------------------------------------------------------------------------------------------
# Finding the files


def _offline() -> bool:
    return os.environ.get("AIGC_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def cache_root() -> Path:
    """``$AIGC_CACHE`` or ``~/.cache/aigc_course``: downloads go to ``cache_root()/<name>/``."""
    return Path(os.environ.get("AIGC_CACHE") or Path.home() / ".cache" / "aigc_course").expanduser()


def _system_roots() -> list[Path]:
    env = os.environ.get("AIGC_SYSTEM_DATA")
    roots = env.split(os.pathsep) if env is not None else SYSTEM_DIRS
    return [Path(r).expanduser() for r in roots if r]


def _search_dirs(name: str) -> list[tuple[str, Path]]:
    """(label, folder) pairs in lookup order."""
    dirs = []
    if os.environ.get("AIGC_DATA"):
        root = Path(os.environ["AIGC_DATA"]).expanduser()
        dirs += [("AIGC_DATA", root / name), ("AIGC_DATA", root)]
    dirs.append(("cache", cache_root() / name))
    dirs += [("system", root / name) for root in _system_roots()]
    return dirs


def _folder_state(folder: Path, source: str) -> str | None:
    """Why ``folder`` holds no data files when it is not a readable folder (None when it is one)."""
    try:
        if folder.is_dir():
            return None
        if folder.exists():
            where = "point AIGC_DATA at the folder that holds it" if source == "AIGC_DATA" else "move it away"
            return f"a file, not a folder: {where}"
        blocking = next((p for p in folder.parents if p.exists() and not p.is_dir()), None)
        if blocking is not None:
            where = "point AIGC_DATA at a folder" if source == "AIGC_DATA" else "move it away"
            return f"no such folder: {blocking} is a file, not a folder; {where}"
    except OSError as err:
        return f"cannot be read: {(err.strerror or str(err)).lower()}"
    return "no such folder"


def _existing(folder: Path, stem: str) -> Path | None:
    """The file for ``stem`` in ``folder``, uncompressed preferred (no decompression needed)."""
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _check_name_split(name: str, split: str) -> DatasetSpec:
    if name not in DATASETS:
        raise ValueError(f"unknown IDX data set {name!r}; use one of {sorted(DATASETS)}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return DATASETS[name]


def _remedies(spec: DatasetSpec) -> list[str]:
    files = ", ".join(f"{stem}[.gz]" for pair in SPLIT_FILES.values() for stem in pair)
    fixes = []
    if spec.apt_package:
        fixes.append(f"sudo apt-get install {spec.apt_package}   (Debian/Ubuntu: installs "
                     f"/usr/share/datasets/{spec.name}/)")
    fixes.append(f"go online and run: python -m aigc_course data fetch {spec.name}")
    fixes.append(f"set AIGC_DATA to a folder holding the IDX files ({files}), directly or in a "
                 f"{spec.name}/ subfolder")
    return fixes


def _failure(spec: DatasetSpec, split: str, looked: list[str], problems: list[str],
             checksum: bool) -> DataError:
    lines = [f"{spec.title} ({split} split) is not available. Looked in:"]
    lines += [f"  - {item}" for item in looked]
    if problems:
        lines.append("Problems:")
        lines += [f"  - {p}" for p in problems]
    lines.append("Fix it with one of:")
    lines += [f"  - {fix}" for fix in _remedies(spec)]
    return (ChecksumError if checksum else DataNotFoundError)("\n".join(lines))


class _Found(NamedTuple):
    arrays: tuple[np.ndarray, np.ndarray]
    source: str  # AIGC_DATA | cache | system | download
    folder: Path
    files: dict[str, int]  # path -> size in bytes
    checksum: str  # verified | unverified


def _from_folder(folder: Path, paths: list[Path], name: str, stems: tuple[str, str], source: str,
                 read_only: bool = False) -> _Found:
    loaded = [_load_file(p, name, s, read_only=read_only) for p, s in zip(paths, stems)]
    status = "verified" if all(v == "verified" for _, v in loaded) else "unverified"
    return _Found((loaded[0][0], loaded[1][0]), source, folder,
                  {str(p): p.stat().st_size for p in paths}, status)


_urlopen = urllib.request.urlopen  # module level so tests can forbid the network


def _download(url: str, dest: Path) -> None:
    """Stream ``url`` into a temporary file beside ``dest``, then rename it (atomic); https only, and at
    most ``MAX_DOWNLOAD_BYTES``."""
    if url.split(":", 1)[0] not in ("https", "file"):  # file: for local mirrors
        raise ValueError(f"refusing to download {url}: only https (or a local file: mirror) is used")
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, _urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
            total = 0
            while chunk := response.read(1 << 20):
                total += len(chunk)
                if total > MAX_DOWNLOAD_BYTES:
                    raise ValueError(f"{url} sent more than {MAX_DOWNLOAD_BYTES} bytes; stopped (not a data file)")
                out.write(chunk)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _fetch_file(spec: DatasetSpec, stem: str, folder: Path, problems: list[str]) -> Path | None:
    """Download one file into ``folder`` from the first mirror that gives verified bytes."""
    dest = folder / f"{stem}.gz"
    for base in spec.urls:
        url = f"{base}{stem}.gz"
        try:
            _download(url, dest)
        except (OSError, http.client.HTTPException, ValueError) as err:  # URLError is an OSError
            problems.append(f"download {url} failed: {err}")
            continue
        try:
            _load_file(dest, spec.name, stem, must_verify=True)
            return dest
        except ChecksumError as err:  # already moved aside
            problems.append(f"download {url}: {err}")
        except IDXFormatError as err:  # already moved aside by _load_file (the message says where)
            problems.append(f"download {url} gave a damaged file: {err}")
    return None


def _cached_or_fetched(spec: DatasetSpec, stem: str, folder: Path, problems: list[str]) -> Path | None:
    """A usable copy already in the cache folder (the other file of the split was missing), or a download."""
    path = _existing(folder, stem)
    if path is not None:
        try:
            _load_file(path, spec.name, stem)
            return path
        except ChecksumError as err:
            problems.append(str(err))
    return _fetch_file(spec, stem, folder, problems)


def _locate(name: str, split: str, download: bool, read_only: bool = False) -> _Found:
    """Find, verify and read one split, trying every place in order. Raises DataError."""
    spec = _check_name_split(name, split)
    stems = SPLIT_FILES[split]
    looked: list[str] = [] if os.environ.get("AIGC_DATA") else ["AIGC_DATA: not set"]
    problems: list[str] = []
    checksum_failed = False
    for source, folder in _search_dirs(name):
        try:
            paths = [_existing(folder, stem) for stem in stems]
        except OSError as err:  # a folder without read/search permission: say so, and look further
            looked.append(f"{source}: {folder}/ (cannot be read: {(err.strerror or str(err)).lower()}; fix its "
                          f"permissions, e.g. `chmod a+rx {shlex.quote(str(folder))}`, or point AIGC_DATA elsewhere)")
            continue
        if None in paths:
            missing = " and ".join(f"{s}[.gz]" for s, p in zip(stems, paths) if p is None)
            looked.append(f"{source}: {folder}/ ({_folder_state(folder, source) or 'missing ' + missing})")
            continue
        try:
            return _from_folder(folder, paths, name, stems, source, read_only)
        except (ChecksumError, IDXFormatError) as err:  # a bad copy here: try the next place
            checksum_failed = checksum_failed or isinstance(err, ChecksumError)
            looked.append(f"{source}: {folder}/ ({'checksum mismatch' if isinstance(err, ChecksumError) else 'damaged file'})")
            problems.append(str(err))
            warnings.warn(f"{err} Looking elsewhere.", stacklevel=3)
    folder = cache_root() / name
    if not download or _offline():
        why = "AIGC_OFFLINE=1" if _offline() else "not asked to download"
        looked.append(f"download into {folder}/: skipped ({why})")
        raise _failure(spec, split, looked, problems, checksum_failed)
    paths = [_cached_or_fetched(spec, s, folder, problems) for s in stems]
    looked.append(f"download into {folder}/ from {', '.join(spec.urls)}")
    if None in paths:
        raise _failure(spec, split, looked, problems, checksum_failed)
    return _from_folder(folder, paths, name, stems, "download")


# ----------------------------------------------------------------------------------------------
# Data sets


def _idx_dataset(name: str, split: str, download: bool = True, read_only: bool = False) -> tuple[ImageData, _Found]:
    found = _locate(name, split, download, read_only)
    images, labels = found.arrays
    spec = DATASETS[name]
    problem = None
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        problem = f"images {images.shape} and labels {labels.shape} are not (N, H, W) and (N,)"
    elif labels.size and int(labels.max()) >= len(spec.classes):
        problem = f"label {int(labels.max())} is out of range for {len(spec.classes)} classes"
    if problem:
        raise IDXFormatError(f"{spec.title} {split} files in {found.folder}: {problem}. Replace them "
                             f"(`python -m aigc_course data fetch {name}`) or fix AIGC_DATA.")
    data = ImageData(torch.from_numpy(images).unsqueeze(1),  # (N, 1, H, W) uint8, shares memory
                     torch.from_numpy(labels.astype(np.int64)), list(spec.classes), name)
    return data, found


def fashion_mnist(split: str = "train") -> ImageData:
    """Fashion-MNIST, 60000 train / 10000 test images (1, 28, 28) uint8, 10 classes. Introduced in 4.1.

    Found locally (AIGC_DATA, cache, /usr/share/datasets) or downloaded and verified; see the module
    docstring. Verified copies are cached in-process, so repeated calls are cheap.
    """
    return _idx_dataset("fashion-mnist", split)[0]


def mnist(split: str = "train") -> ImageData:
    """MNIST digits, 60000 train / 10000 test images (1, 28, 28) uint8. Introduced in 4.1."""
    return _idx_dataset("mnist", split)[0]


@lru_cache(maxsize=1)
def _digits() -> ImageData:
    from sklearn.datasets import load_digits  # slow import, only when needed

    bunch = load_digits()
    images = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)  # 0..16 -> 0..255
    return ImageData(torch.from_numpy(images).unsqueeze(1),  # (1797, 1, 8, 8)
                     torch.from_numpy(bunch.target.astype(np.int64)), [str(d) for d in range(10)], "digits")


def digits() -> ImageData:
    """scikit-learn's 1797 handwritten digits, (1, 8, 8) uint8 scaled from 0..16 to 0..255.

    Bundled with scikit-learn, so always available offline. Introduced in 4.1.
    """
    return _digits()


def load(name: str, split: str = "train") -> ImageData:
    """``load("fashion-mnist" | "mnist" | "digits", split)``. digits has one split, "train"."""
    if name == "digits":
        if split != "train":
            raise ValueError(f"digits has a single split, 'train' (all 1797 images); got {split!r}")
        return digits()
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; use one of {NAMES}")
    return _idx_dataset(name, split)[0]


def _split_entry(name: str, split: str, download: bool, read_only: bool = False) -> dict:
    """One split's :func:`where` entry; DataError propagates."""
    if name == "digits":
        import sklearn.datasets

        images = digits().images
        source, folder, files, checksum = ("scikit-learn", Path(sklearn.datasets.__file__).parent / "data",
                                           {}, "bundled with scikit-learn")
    else:
        data, found = _idx_dataset(name, split, download, read_only)
        images, source, folder, files, checksum = (data.images, found.source, found.folder,
                                                   found.files, found.checksum)
    return {"found": True, "source": source, "folder": str(folder), "files": files,
            "samples": len(images), "shape": list(images.shape[1:]), "checksum": checksum}


def where(name: str) -> dict:
    """Where each split of a data set is found (never downloads), with sizes and checksum status.

    Returns ``{"name", "splits": {split: {"found": True, "source", "folder", "files": {path: bytes},
    "samples", "shape", "checksum"} or {"found": False, "error": message}}}``. Used by
    ``python -m aigc_course data info``.
    """
    if name not in NAMES:
        raise ValueError(f"unknown data set {name!r}; use one of {NAMES}")
    splits = {}
    for split in ("train",) if name == "digits" else SPLITS:
        try:
            splits[split] = _split_entry(name, split, download=False, read_only=True)
        except DataError as err:
            splits[split] = {"found": False, "error": str(err)}
        except OSError as err:  # e.g. a folder without permissions that a later step met: report, go on
            splits[split] = {"found": False, "error": f"{err.filename or name}: {err.strerror or err}"}
    return {"name": name, "splits": splits}


# ----------------------------------------------------------------------------------------------
# 2-D toy data


TOY2D_NAMES = ("8gaussians", "25gaussians", "ring", "moons")
_TOY_STD = {"8gaussians": 0.02, "25gaussians": 0.05}


def toy2d_modes(name: str) -> torch.Tensor | None:
    """Mode centres (M, 2) of the Gaussian-mixture toy sets, None for "ring" and "moons".

    "8gaussians": 8 points on the circle of radius 2; "25gaussians": the 5x5 grid {-2..2}^2.
    Introduced in 2.3.
    """
    if name == "8gaussians":
        angles = torch.arange(8, dtype=torch.float64) * (2 * torch.pi / 8)
        return (2.0 * torch.stack([angles.cos(), angles.sin()], dim=1)).float()  # (8, 2)
    if name == "25gaussians":
        grid = torch.arange(-2.0, 3.0)
        return torch.cartesian_prod(grid, grid)  # (25, 2)
    if name in ("ring", "moons"):
        return None
    raise ValueError(f"unknown toy data set {name!r}; use one of {TOY2D_NAMES}")


def toy2d(name: str, n: int, seed: int = 0) -> torch.Tensor:
    """``n`` float32 points (n, 2) from a 2-D toy distribution, the same for the same seed.

    "8gaussians" (std 0.02) and "25gaussians" (std 0.05) are mixtures with equal weights around
    ``toy2d_modes(name)``; "ring" has uniform angle, radius 2 and radial std 0.05; "moons" is
    scikit-learn's two moons with noise 0.05. Introduced in 2.3.
    """
    if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
        raise ValueError(f"n must be a positive int, got {n!r}")
    modes = toy2d_modes(name)  # also validates the name
    gen = torch.Generator().manual_seed(seed)
    if modes is not None:
        which = torch.randint(len(modes), (n,), generator=gen)
        return modes[which] + _TOY_STD[name] * torch.randn(n, 2, generator=gen)  # (n, 2)
    if name == "ring":
        angle = torch.rand(n, generator=gen) * (2 * torch.pi)
        radius = 2.0 + 0.05 * torch.randn(n, generator=gen)
        return torch.stack([radius * angle.cos(), radius * angle.sin()], dim=1)  # (n, 2)
    from sklearn.datasets import make_moons

    points, _ = make_moons(n_samples=n, noise=0.05, random_state=seed)
    return torch.from_numpy(points).float()  # (n, 2)


# ----------------------------------------------------------------------------------------------
# Loader


def _positive_int(value, what: str, minimum: int = 1) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{what} must be an int >= {minimum}, got {value!r}")
    return value


def binarize(images: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """A fixed stochastic binarisation of uint8 images: each pixel is 255 with probability u / 255, else 0
    (uint8 out, same shape). Used for test sets; training draws afresh each batch
    (``TensorLoader(binarize=True)``). Introduced in 4.5."""
    if images.dtype != torch.uint8:
        raise ValueError(f"binarize needs uint8 images, got {images.dtype}")
    gen = torch.Generator().manual_seed(seed)
    return ((torch.rand(images.shape, generator=gen) * 255 < images.cpu()).to(torch.uint8) * 255)


def to_model_space(images: torch.Tensor) -> torch.Tensor:
    """uint8 images in 0..255 -> float32 in [-1, 1]; float images are returned as they are (assumed in [-1, 1])."""
    if images.dtype == torch.uint8:
        return images.float() / 127.5 - 1.0
    if not images.is_floating_point():
        raise TypeError(f"images must be uint8 (0..255) or float (in [-1, 1]), got dtype {images.dtype}")
    return images.float()


def batches_in_model_space(images: torch.Tensor, batch_size: int, device: torch.device | str):
    """Consecutive batches of ``images`` moved to ``device`` and scaled to [-1, 1] there (for evaluation)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    for start in range(0, len(images), batch_size):
        yield to_model_space(images[start:start + batch_size].to(device))


class TensorLoader:
    """Batches from tensors kept on the device: no workers, no host-to-device copies per step.

    Introduced in 4.1; used for speed in 4.6. ``iter(loader)`` yields ``(x, y)``: ``x`` float32 on
    the device, uint8 images scaled to [-1, 1] there when ``scale`` (float inputs such as ``toy2d``
    pass through unchanged); ``y`` int64 labels or None. ``len(loader)`` is batches per epoch.

    The loader is a cursor over an endless, seeded sequence of epochs: iterating continues the
    current epoch where the last iteration stopped, and a new epoch (freshly shuffled) starts when
    one is complete. ``state_dict()`` saves that cursor, so a resumed run sees the same batches.
    With ``world_size > 1`` every rank draws the same permutation and takes its own strided slice:
    disjoint samples, the same number of batches on every rank (as DDP needs).
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor | None = None, batch_size: int = 128,
                 shuffle: bool = True, seed: int = 0, device=None, drop_last: bool = True,
                 scale: bool = True, rank: int = 0, world_size: int = 1, binarize: bool = False):
        if not isinstance(images, torch.Tensor) or images.ndim < 1:
            raise TypeError(f"images must be a torch.Tensor with a sample dimension, got "
                            f"{type(images).__name__}")
        n = len(images)
        if labels is not None:
            if not isinstance(labels, torch.Tensor) or labels.shape != (n,):
                shape = tuple(labels.shape) if isinstance(labels, torch.Tensor) else type(labels).__name__
                raise ValueError(f"labels must be a tensor of shape ({n},) to match images "
                                 f"{tuple(images.shape)}, got {shape}")
        self.world_size = _positive_int(world_size, "world_size")
        if not isinstance(rank, int) or not 0 <= rank < self.world_size:
            raise ValueError(f"rank must be an int in [0, {self.world_size}), got {rank!r}")
        if n < self.world_size:
            raise ValueError(f"{n} samples cannot be shared by world_size={self.world_size} ranks")
        self.batch_size = _positive_int(batch_size, "batch_size")
        self.drop_last = bool(drop_last)
        per_rank = n // self.world_size if self.drop_last else -(-n // self.world_size)
        if self.drop_last and self.batch_size > per_rank:
            raise ValueError(
                f"batch_size={batch_size} is larger than the {per_rank} samples each of the "
                f"{self.world_size} rank(s) gets per epoch, so drop_last=True would yield no batch; "
                "use a smaller batch_size or drop_last=False")
        self.seed = _positive_int(seed, "seed", minimum=0)
        if device is None:
            from .runtime import device as best_device

            device = best_device()
        self.device = torch.device(device)
        self.images = images.to(self.device)  # uint8 stays uint8: 4x less memory than float
        self.labels = None if labels is None else labels.to(self.device, torch.long)
        self.shuffle, self.scale, self.rank = bool(shuffle), bool(scale), rank
        if binarize and images.dtype != torch.uint8:
            raise ValueError("binarize=True needs uint8 images (grey levels 0..255 become P(pixel = 1))")
        self.binarize = bool(binarize)
        self.per_rank = per_rank
        self._generator = torch.Generator().manual_seed(self.seed)  # CPU: same stream everywhere
        self.epoch, self.position = 0, 0  # position = batches already yielded in this epoch
        self._epoch_start_state: torch.Tensor | None = None  # generator state before this epoch's draw
        self._order: torch.Tensor | None = None  # this rank's sample indices for the epoch, on device

    def __len__(self) -> int:
        if self.drop_last:
            return self.per_rank // self.batch_size
        return -(-self.per_rank // self.batch_size)

    def _epoch_order(self) -> torch.Tensor:
        """This rank's indices for the current epoch, drawn once (and redrawn after a resume)."""
        if self._order is None:
            n = len(self.images)
            self._epoch_start_state = self._generator.get_state()
            perm = torch.randperm(n, generator=self._generator) if self.shuffle else torch.arange(n)
            total = self.per_rank * self.world_size
            if total > n:  # drop_last=False: pad by wrapping so every rank has as many samples
                perm = torch.cat([perm, perm[: total - n]])
            self._order = perm[:total][self.rank :: self.world_size].to(self.device)
        return self._order

    def _batch(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        x = self.images.index_select(0, index)  # (B, ...) still uint8; much faster than images[index]
        if self.binarize:  # dynamic binarisation: a fresh draw of every pixel, seeded by (seed, epoch, batch)
            gen = torch.Generator(device=self.device).manual_seed(
                hash((self.seed, self.rank, self.epoch, self.position)) % 2**63)
            x01 = (torch.rand(x.shape, generator=gen, device=self.device) * 255 < x).float()
            return (x01 * 2 - 1 if self.scale else x01), (None if self.labels is None else
                                                          self.labels.index_select(0, index))
        if x.dtype == torch.uint8:
            x = x.float().div_(127.5).sub_(1) if self.scale else x.float()  # on the device
        y = None if self.labels is None else self.labels.index_select(0, index)
        return x, y

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
        order = self._epoch_order()
        while self.position < len(self):
            start = self.position * self.batch_size
            self.position += 1  # advance first: a state_dict taken now resumes after this batch
            yield self._batch(order[start : start + self.batch_size])
        self.epoch, self.position, self._order = self.epoch + 1, 0, None

    def infinite(self) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
        """Batches forever; epochs advance and reshuffle, deterministically from the seed."""
        while True:
            yield from self

    def state_dict(self) -> dict:
        """Epoch, position in it and generator state: enough for a bit-exact resume."""
        self._epoch_order()  # make sure this epoch's generator state is recorded
        return {"epoch": self.epoch, "position": self.position,
                "generator": self._epoch_start_state.clone(),
                "n": len(self.images), "batch_size": self.batch_size,
                "world_size": self.world_size, "drop_last": self.drop_last, "shuffle": self.shuffle}

    def load_state_dict(self, state: dict) -> None:
        """Continue from ``state``: the next batches are the ones the saved loader would yield."""
        mine = {"n": len(self.images), "batch_size": self.batch_size, "world_size": self.world_size,
                "drop_last": self.drop_last, "shuffle": self.shuffle}
        changed = {k: (state.get(k), v) for k, v in mine.items() if state.get(k) != v}
        if changed:
            detail = ", ".join(f"{k}: saved {old!r}, now {new!r}" for k, (old, new) in changed.items())
            raise ValueError(f"this loader state was saved with different settings ({detail}); "
                             "resume with the same data and loader settings")
        if not 0 <= int(state["position"]) <= len(self):
            raise ValueError(f"position {state['position']} is outside the {len(self)} batches of an epoch")
        self._generator.set_state(state["generator"])
        self.epoch, self.position, self._order = int(state["epoch"]), int(state["position"]), None


# ----------------------------------------------------------------------------------------------
# Command line


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:.1f} MB" if n_bytes >= 1e6 else f"{n_bytes / 1e3:.1f} kB"


def _describe(name: str, split: str, entry: dict) -> str:
    if not entry["found"]:
        return f"{name} {split}: not found"
    shape = "x".join(str(s) for s in entry["shape"])
    files = ", ".join(f"{Path(p).name} ({_size(size)})" for p, size in entry["files"].items())
    where_ = f"{entry['folder']} ({entry['source']})" + (f": {files}" if files else "")
    return f"{name} {split}: {entry['samples']} images {shape}, {entry['checksum']}, in {where_}"


def cmd_data(args) -> int:
    """``python -m aigc_course data fetch NAME`` / ``data info [NAME]``."""
    if args.action == "fetch":
        for split in ("train",) if args.name == "digits" else SPLITS:
            # finds or downloads and verifies; a DataError says what to do
            print(_describe(args.name, split, _split_entry(args.name, split, download=True)))
        return 0
    names = NAMES if args.name is None else (args.name,)
    for name in names:
        entries = where(name)["splits"]  # ValueError for an unknown name
        for split, entry in entries.items():
            print(_describe(name, split, entry))
        errors = [e["error"] for e in entries.values() if not e["found"]]
        if errors:  # the splits' messages differ only in the split's name: show one
            print("  " + errors[0].replace("\n", "\n  "))
    return 0
