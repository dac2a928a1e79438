"""Find, verify and (optionally) download the MNIST-family datasets, offline first.

Where the four IDX files of a dataset are looked for:

1. the explicit ``data_dir=`` argument, else
2. ``$FMNIST_DATA_DIR`` (either the dataset directory itself or a parent holding ``<name>/``).
   A directory named by 1. or 2. is the only place used: when it lacks a file (a typo, an
   incomplete copy) :class:`DatasetNotFoundError` names it and the missing files, rather than
   another copy being loaded without a word.

Otherwise the first of these holding all four files wins:

3. Debian's ``/usr/share/datasets/fashion-mnist/`` (package ``dataset-fashion-mnist``);
4. Keras's cache ``~/.keras/datasets/<keras dir>/``;
5. a download into that cache, only when ``download=True`` or ``$FMNIST_DOWNLOAD=1``.

Every file is verified by SHA-256 before use. Debian re-compressed its ``.gz`` files, so their
bytes differ from the upstream downloads while the decompressed IDX payload is identical: a file
passes when the SHA-256 of its *payload* matches the known payload digest, or when the SHA-256
of the ``.gz`` file matches the known upstream download.

Example::

    >>> from fmnist.data import load_dataset
    >>> (x_train, y_train), (x_test, y_test) = load_dataset("fashion_mnist")
    >>> x_train.shape, x_train.dtype
    ((60000, 28, 28), dtype('uint8'))
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd

from fmnist.atomic import atomic_path
from fmnist.data.idx import IDXFormatError, parse_idx, read_payload

DATA_DIR_ENV = "FMNIST_DATA_DIR"
DOWNLOAD_ENV = "FMNIST_DOWNLOAD"
DEBIAN_PACKAGE = "dataset-fashion-mnist"

FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
MNIST_CLASSES = tuple(str(d) for d in range(10))

FILES = {  # role -> (file name, IDX dimensions)
    "train_images": ("train-images-idx3-ubyte.gz", 3),
    "train_labels": ("train-labels-idx1-ubyte.gz", 1),
    "test_images": ("t10k-images-idx3-ubyte.gz", 3),
    "test_labels": ("t10k-labels-idx1-ubyte.gz", 1),
}


class DatasetError(RuntimeError):
    """A dataset file is missing, corrupt, truncated or not the expected file."""


class DatasetNotFoundError(DatasetError, FileNotFoundError):
    """None of the searched locations holds the dataset."""


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """Where a dataset comes from and the digests that identify its files."""

    name: str
    class_names: tuple[str, ...]
    keras_dir: str  # directory name Keras uses under ~/.keras/datasets/
    url: str  # base URL of the official .gz files
    payload_sha256: dict[str, str]  # file name -> SHA-256 of the decompressed IDX payload
    gz_sha256: dict[str, str]  # file name -> SHA-256 of the upstream .gz download
    system_dirs: tuple[str, ...] = ()
    # Keras caches MNIST as one .npz (~/.keras/datasets/mnist.npz), not as IDX files.
    keras_npz: str | None = None
    keras_npz_sha256: str | None = None


DATASETS: dict[str, DatasetSpec] = {
    "fashion_mnist": DatasetSpec(
        name="fashion_mnist",
        class_names=FASHION_MNIST_CLASSES,
        keras_dir="fashion-mnist",
        url="https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
        # Payload digests: identical for the upstream files and Debian's re-compressed copies.
        payload_sha256={
            "train-images-idx3-ubyte.gz": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "train-labels-idx1-ubyte.gz": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "t10k-images-idx3-ubyte.gz": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "t10k-labels-idx1-ubyte.gz": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        },
        gz_sha256={},
        system_dirs=("/usr/share/datasets/fashion-mnist",),
    ),
    "mnist": DatasetSpec(
        name="mnist",
        class_names=MNIST_CLASSES,
        keras_dir="mnist",
        url="https://storage.googleapis.com/cvdf-datasets/mnist/",
        payload_sha256={},
        # SHA-256 of the official .gz files (the payload digests are not known offline).
        gz_sha256={
            "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        },
        keras_npz="mnist.npz",
        keras_npz_sha256="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
    ),
}

CLASS_NAMES: dict[str, tuple[str, ...]] = {n: s.class_names for n, s in DATASETS.items()}


def get_spec(name: str) -> DatasetSpec:
    """Return the :class:`DatasetSpec` of ``name`` or raise a ``ValueError`` listing valid names."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(DATASETS)}")
    return DATASETS[name]


def candidate_dirs(name: str, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The directories searched for ``name``, in order (see the module docstring): the one
    named by ``data_dir`` or ``$FMNIST_DATA_DIR`` alone, else the default places."""
    spec = get_spec(name)
    if data_dir is not None:
        return [Path(data_dir)]
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return [Path(env), Path(env) / name]
    return [*(Path(d) for d in spec.system_dirs), keras_cache_dir(name)]


def keras_cache_dir(name: str) -> Path:
    """Keras's download cache for ``name`` (respects ``$KERAS_HOME``)."""
    home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    return home / "datasets" / get_spec(name).keras_dir


def _has_all_files(directory: Path) -> bool:
    return all((directory / fname).is_file() for fname, _ in FILES.values())


def _missing_files(directory: Path) -> str:
    if not directory.is_dir():
        return f"{directory} does not exist" if not directory.exists() else f"{directory} is not a directory"
    missing = [fname for fname, _ in FILES.values() if not (directory / fname).is_file()]
    return f"{directory} lacks {', '.join(missing)}"


def _named_dir(name: str, data_dir=None) -> Path | None:
    """The directory the user named (``data_dir``, else ``$FMNIST_DATA_DIR``) if it holds the
    four files; None when neither is set.

    A named directory is never skipped: a typo or an incomplete copy would otherwise load
    some other copy (or download one) without a word.

    Raises:
        DatasetNotFoundError: naming the directory and what it lacks.
    """
    if data_dir is not None:
        source = "data_dir"
    elif os.environ.get(DATA_DIR_ENV):
        source = f"${DATA_DIR_ENV}"
    else:
        return None
    dirs = candidate_dirs(name, data_dir)
    for directory in dirs:
        if _has_all_files(directory):
            return directory
    if not dirs[0].exists():
        dirs = dirs[:1]  # no need to say that its subdirectory does not exist either
    unset = "omit data_dir" if data_dir is not None else f"unset {DATA_DIR_ENV}"
    raise DatasetNotFoundError(
        f"dataset {name!r} not found in the directory given by {source}: "
        f"{'; '.join(_missing_files(d) for d in dirs)}. It must hold the four files "
        f"{', '.join(f for f, _ in FILES.values())}"
        + (f" (itself or in its subdirectory {name}/)" if len(dirs) > 1 else "")
        + f"; or {unset} to search the default places."
    )


def find_dataset(name: str = "fashion_mnist", data_dir=None) -> Path:
    """Return the first directory holding all four files of ``name`` (no download).

    A directory named by ``data_dir`` or ``$FMNIST_DATA_DIR`` must hold them: it is the
    answer or an error, never skipped for another copy.
    """
    named = _named_dir(name, data_dir)
    if named is not None:
        return named
    looked = candidate_dirs(name, data_dir)
    for directory in looked:
        if _has_all_files(directory):
            return directory
    places = "\n".join(f"  - {d}" for d in looked)
    spec = get_spec(name)
    if spec.keras_npz:
        places += f"\n  - {keras_cache_dir(name).parent / spec.keras_npz} (Keras's .npz cache)"
    hint = (
        f"install the Debian package ({'sudo ' if os.geteuid() else ''}apt-get install "
        f"{DEBIAN_PACKAGE}), "
        if get_spec(name).system_dirs
        else ""
    )
    raise DatasetNotFoundError(
        f"dataset {name!r} not found; looked for {', '.join(f for f, _ in FILES.values())} in:\n"
        f"{places}\nTo obtain it: {hint}copy the four files into {keras_cache_dir(name)}, set "
        f"{DATA_DIR_ENV}, or allow a download with `fmnist data fetch {name}` / "
        f"load_dataset(..., download=True) / {DOWNLOAD_ENV}=1."
    )


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify_file(path: str | Path, spec: DatasetSpec, fname: str | None = None) -> bytes:
    """Verify one dataset file and return its decompressed payload.

    ``fname`` is the official file name whose digests apply (default: ``path.name``; a
    download in progress lives under a temporary name).

    Raises:
        DatasetError: naming the file, expected vs actual digest and how to fix it.
    """
    path = Path(path)
    fname = fname or path.name
    fix = (
        f"Delete or replace {path} (reinstall {DEBIAN_PACKAGE} or run `fmnist data fetch "
        f"{spec.name}`); the file is not modified automatically."
    )
    raw = path.read_bytes()
    gz_digest = sha256_hex(raw)
    if spec.gz_sha256.get(fname) == gz_digest:
        payload = read_payload(path)
    else:
        try:
            payload = read_payload(path)
        except IDXFormatError as exc:
            raise DatasetError(f"{exc}. {fix}") from exc
        expected = spec.payload_sha256.get(fname)
        actual = sha256_hex(payload)
        if expected is None:
            raise DatasetError(
                f"{path}: SHA-256 of the file is {gz_digest}, expected the official download "
                f"{spec.gz_sha256.get(fname, '<unknown>')}. {fix}"
            )
        if actual != expected:
            raise DatasetError(
                f"{path}: checksum mismatch: SHA-256 of the decompressed IDX payload is {actual}, "
                f"expected {expected}. The file is corrupt, truncated or not the official "
                f"{spec.name} file. {fix}"
            )
    return payload


def _load_dir(directory: Path, spec: DatasetSpec) -> dict[str, np.ndarray]:
    arrays = {}
    for role, (fname, ndim) in FILES.items():
        path = directory / fname
        payload = verify_file(path, spec)
        try:
            arrays[role] = parse_idx(payload, source=str(path), ndim=ndim)
        except IDXFormatError as exc:
            raise DatasetError(str(exc)) from exc
    for split in ("train", "test"):
        n_img, n_lab = len(arrays[f"{split}_images"]), len(arrays[f"{split}_labels"])
        if n_img != n_lab:
            raise DatasetError(f"{directory}: {split} has {n_img} images but {n_lab} labels")
    return arrays


def load_dataset(name: str = "fashion_mnist", data_dir=None, download: bool | None = None):
    """Load a dataset exactly like ``keras.datasets.<name>.load_data()``, offline first.

    Args:
        name: ``"fashion_mnist"`` or ``"mnist"``.
        data_dir: the directory holding the four files; when given (or ``$FMNIST_DATA_DIR``
            is set) nothing else is searched and a missing file raises
            :class:`DatasetNotFoundError`.
        download: allow downloading into Keras's cache when no local copy exists
            (default: ``$FMNIST_DOWNLOAD == "1"``).

    Returns:
        ``((x_train, y_train), (x_test, y_test))`` as uint8 arrays.
    """
    spec = get_spec(name)
    # A named directory that lacks the files raises here: no .npz or download fallback.
    directory = _named_dir(name, data_dir)
    try:
        if directory is None:
            directory = find_dataset(name, data_dir)
    except DatasetNotFoundError:
        npz = keras_cache_dir(name).parent / spec.keras_npz if spec.keras_npz else None
        if npz is not None and npz.is_file():
            return _load_keras_npz(npz, spec)
        if download is None:
            download = os.environ.get(DOWNLOAD_ENV, "") == "1"
        if not download:
            raise
        directory = fetch(name)
    arrays = _load_dir(directory, spec)
    return (arrays["train_images"], arrays["train_labels"]), (
        arrays["test_images"],
        arrays["test_labels"],
    )


def _load_keras_npz(path: Path, spec: DatasetSpec):
    """Keras's own cached copy (``keras.datasets.mnist`` format), verified by SHA-256."""
    actual = sha256_hex(path.read_bytes())
    if actual != spec.keras_npz_sha256:
        raise DatasetError(
            f"{path}: checksum mismatch: SHA-256 is {actual}, expected {spec.keras_npz_sha256} "
            f"(Keras's {spec.keras_npz}). Delete it and let Keras or `fmnist data fetch "
            f"{spec.name}` download it again; the file is not modified automatically."
        )
    with np.load(path, allow_pickle=False) as data:
        arrays = [np.asarray(data[k], dtype=np.uint8) for k in ("x_train", "y_train", "x_test", "y_test")]
    return (arrays[0], arrays[1]), (arrays[2], arrays[3])


def fetch(name: str = "fashion_mnist", target_dir=None, timeout: float = 60.0) -> Path:
    """Download the missing files of ``name`` into ``target_dir`` (default: Keras's cache).

    Each file is written to a temporary file in the target directory, verified, then renamed
    into place, so an interrupted or corrupt download never leaves a half-written file. An
    existing file is verified and kept, never overwritten.
    """
    spec = get_spec(name)
    target = Path(target_dir) if target_dir is not None else keras_cache_dir(name)
    target.mkdir(parents=True, exist_ok=True)
    for fname, _ in FILES.values():
        final = target / fname
        if final.exists():
            verify_file(final, spec)  # raises if the user's file is bad; we never replace it
            continue
        url = spec.url + fname
        try:
            # Published under the final name only once verified; a normal file's permissions.
            with atomic_path(final) as tmp:
                with open(tmp, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
                    out.write(resp.read())
                verify_file(tmp, spec, fname)
        except DatasetError:
            raise
        except Exception as exc:
            raise DatasetError(f"download of {url} failed: {exc}") from exc
    return target


def checksum_report(name: str = "fashion_mnist", data_dir=None):
    """One row per file: where it is, expected vs actual SHA-256 of the payload, and the verdict.

    Returns a pandas DataFrame (for notebooks and ``fmnist data info``).
    """

    spec = get_spec(name)
    directory = find_dataset(name, data_dir)
    rows = []
    for fname, _ in FILES.values():
        path = directory / fname
        try:
            payload_digest, status = sha256_hex(verify_file(path, spec)), "OK"
        except DatasetError as exc:
            payload_digest, status = "-", f"FAILED: {exc}"
        rows.append({
            "file": fname,
            "expected payload SHA-256": spec.payload_sha256.get(fname, "(by .gz digest)")[:16] + "…",
            "actual payload SHA-256": payload_digest[:16] + "…",
            "status": status,
        })  # fmt: skip
    return pd.DataFrame(rows).set_index("file")


def dataset_info(name: str = "fashion_mnist", data_dir=None) -> dict:
    """Where ``name`` was found, checksum status, shapes and class counts (for ``fmnist data info``)."""
    spec = get_spec(name)
    info: dict = {"name": name, "searched": [str(d) for d in candidate_dirs(name, data_dir)]}
    try:
        directory = find_dataset(name, data_dir)
    except DatasetNotFoundError as exc:
        info.update(found=False, error=str(exc))
        return info
    info.update(found=True, directory=str(directory))
    try:
        arrays = _load_dir(directory, spec)
    except DatasetError as exc:
        info.update(verified=False, error=str(exc))
        return info
    info["verified"] = True
    info["shapes"] = {role: list(a.shape) for role, a in arrays.items()}
    for split in ("train", "test"):
        counts = np.bincount(arrays[f"{split}_labels"], minlength=len(spec.class_names))
        info[f"{split}_class_counts"] = dict(zip(spec.class_names, counts.tolist()))
    return info
