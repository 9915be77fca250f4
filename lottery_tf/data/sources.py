"""Find a dataset's raw arrays on disk or through tensorflow-datasets.

Places are tried in a fixed order and the first that holds the data wins:

1. ``data_dir`` given by the caller (standard IDX files, plain or ``.gz``, for
   mnist/fashion_mnist; official CIFAR-10 binary batches for cifar10); a named
   folder without them is an error, never skipped for the places below;
2. known system locations (Debian's ``dataset-fashion-mnist``);
3. the project cache ``$LOTTERY_TF_DATA/<name>/`` (default
   ``~/.cache/lottery_tf``), which ``scripts/get_data.sh`` fills;
4. tensorflow-datasets: first an already prepared copy (no network), then,
   if allowed and the download host answers, a download.

A place that holds some but not all files, or a corrupt file, is an error at
once rather than a silent fall-through, so bad data never hides behind good.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

import numpy as np

from lottery_tf.data import checksums, custom_sources, shards
from lottery_tf.data.cifar import read_cifar10, resolve_cifar10_dir
from lottery_tf.data.idx import (
    IDX_FILE_NAMES,
    read_idx_images,
    read_idx_labels,
    resolve_idx_path,
)
from lottery_tf.data.registry import DatasetSpec, get_spec
from lottery_tf.errors import DataError

CACHE_ENV = "LOTTERY_TF_DATA"

SYSTEM_DIRS: dict[str, tuple[Path, ...]] = {
    "fashion_mnist": (Path("/usr/share/datasets/fashion-mnist"),),
}

# Where tensorflow-datasets downloads each dataset from (its builders' URLs);
# probed first so an offline machine fails in seconds, not after retries.
_TFDS_DOWNLOAD_HOSTS: dict[str, tuple[str, int]] = {
    "mnist": ("storage.googleapis.com", 443),
    "fashion_mnist": ("fashion-mnist.s3-website.eu-central-1.amazonaws.com", 80),
    "cifar10": ("www.cs.toronto.edu", 443),
}
_PROBE_TIMEOUT_S = 3.0

_FETCH_HINT = {
    "mnist": "run scripts/get_data.sh",
    "fashion_mnist": "run scripts/get_data.sh",
    "cifar10": (
        "put the official CIFAR-10 binary batches (data_batch_1.bin .. "
        "data_batch_5.bin, test_batch.bin from cifar-10-binary.tar.gz) in a "
        "folder and pass it as data_dir, or run once online so "
        "tensorflow-datasets downloads cifar10"
    ),
}


class RawData(NamedTuple):
    """A dataset as loaded: NHWC uint8 images and int32 labels."""

    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray


def cache_dir() -> Path:
    """Return the project data cache root (``$LOTTERY_TF_DATA`` or the default).

    Returns:
        ``$LOTTERY_TF_DATA`` if set and non-empty, else ``~/.cache/lottery_tf``.
    """
    value = os.environ.get(CACHE_ENV)
    return Path(value).expanduser() if value else Path.home() / ".cache" / "lottery_tf"


def load_raw(
    name: str,
    data_dir: str | Path | None = None,
    *,
    download: bool = True,
    tfds_data_dir: str | Path | None = None,
    verify: bool = True,
    split_train: str | None = None,
    split_test: str | None = None,
    image_size: int | None = None,
) -> RawData:
    """Load a dataset's official train and test sets from the first place holding it.

    Args:
        name: a registry name (``mnist``, ``fashion_mnist``, ``cifar10``).
        data_dir: optional folder with the dataset's standard files.
        download: whether tensorflow-datasets may download when no prepared
            copy exists (skipped quickly when the download host is unreachable).
        tfds_data_dir: tensorflow-datasets data dir; None means its default
            (``$TFDS_DATA_DIR`` or ``~/tensorflow_datasets``).
        verify: check MNIST/Fashion-MNIST files against the pinned SHA-256
            digests (see `lottery_tf.data.checksums`).
        split_train, split_test: tfds splits of a ``tfds:<name>`` source.
        image_size: square size images of a ``folder:``/``tfds:`` source are read at.

    A ``npz:``, ``folder:`` or ``tfds:`` name is read by
    `lottery_tf.data.custom_sources` (``data_dir`` is then the tfds data dir).

    Returns:
        `RawData` with images (N, H, W, C) uint8 and labels (N,) int32, in
        the official order (tensorflow-datasets MNIST copies are in its own
        shuffled order, which it does not record).

    Raises:
        ConfigError: ``name`` is unknown.
        DataError: ``data_dir`` does not hold the dataset, a place holds
            incomplete or corrupt files, or no place holds the dataset; the
            latter lists every place looked at and the fix.
    """
    if shards.is_shards(name):
        raise DataError(f"{name} is streamed from its shards, never loaded whole; read a split "
                        "with lottery_tf.data.streaming.ShardSplits")
    if custom_sources.is_custom(name):
        return RawData(*custom_sources.load(name, None if data_dir is None else os.fspath(data_dir),
                                            split_train, split_test, image_size))
    spec = get_spec(name)
    looked: list[str] = []
    for label, directory in _candidate_dirs(name, data_dir):
        raw = _load_from_dir(spec, directory, verify)
        if raw is not None:
            return _checked(spec, raw, f"{label} {directory}")
        if label == "data_dir":  # a folder the user named is used or refused, never skipped
            raise DataError(
                f"data_dir {directory} does not hold {name}: {_expected_files(name)} not found "
                f"there{'' if directory.is_dir() else ' (no such folder)'}. Put the files there, "
                "or leave dataset.data_dir unset to use the cache"
            )
        looked.append(f"{label} {directory}: {_expected_files(name)} not found")
    raw = _load_from_tfds(name, tfds_data_dir, download, looked)
    if raw is not None:
        return _checked(spec, raw, "tensorflow-datasets")
    places = "\n".join(f"  - {place}" for place in looked)
    raise DataError(
        f"dataset {name!r} not found. Looked in:\n{places}\nFix: {_FETCH_HINT[name]}."
    )


def _candidate_dirs(name: str, data_dir: str | Path | None) -> list[tuple[str, Path]]:
    """List (label, folder) pairs in the order they are tried."""
    dirs: list[tuple[str, Path]] = []
    if data_dir is not None:
        dirs.append(("data_dir", Path(data_dir).expanduser()))
    dirs.extend(("system location", path) for path in SYSTEM_DIRS.get(name, ()))
    dirs.append((f"cache (${CACHE_ENV})", cache_dir() / name))
    return dirs


def _expected_files(name: str) -> str:
    if name == "cifar10":
        return "CIFAR-10 binary batches (data_batch_1.bin .. test_batch.bin)"
    return "IDX files (train-images-idx3-ubyte[.gz] ...)"


def _load_from_dir(spec: DatasetSpec, directory: Path, verify: bool) -> RawData | None:
    """Load from one folder; None when it holds none of the dataset's files."""
    if spec.name == "cifar10":
        folder = resolve_cifar10_dir(directory)
        return None if folder is None else RawData(*read_cifar10(folder))
    paths = {role: resolve_idx_path(directory, base) for role, base in IDX_FILE_NAMES.items()}
    if all(path is None for path in paths.values()):
        return None
    missing = [IDX_FILE_NAMES[role] for role, path in paths.items() if path is None]
    if missing:
        raise DataError(
            f"{directory} holds only part of {spec.name}: missing {', '.join(missing)} "
            "(plain or .gz); add the missing files or run scripts/get_data.sh"
        )
    if verify:
        for path in paths.values():
            checksums.verify_file(spec.name, path)
    return RawData(
        read_idx_images(paths["train_images"]),
        read_idx_labels(paths["train_labels"]),
        read_idx_images(paths["test_images"]),
        read_idx_labels(paths["test_labels"]),
    )


def _checked(spec: DatasetSpec, raw: RawData, where: str) -> RawData:
    """Check shapes and labels against the spec; labels become int32."""
    for split, images, labels in (
        ("train", raw.train_x, raw.train_y),
        ("test", raw.test_x, raw.test_y),
    ):
        if images.dtype != np.uint8 or images.shape[1:] != spec.image_shape:
            raise DataError(
                f"{spec.name} {split} images from {where} have shape {images.shape[1:]} "
                f"{images.dtype}, expected {spec.image_shape} uint8: wrong dataset in "
                "that place; remove it or point data_dir elsewhere"
            )
        if len(images) != len(labels):
            raise DataError(
                f"{spec.name} {split} set from {where} has {len(images)} images but "
                f"{len(labels)} labels: the image and label files do not belong "
                "together; replace them with the original files"
            )
        if len(labels) and int(labels.max()) >= spec.num_classes:
            raise DataError(
                f"{spec.name} {split} labels from {where} reach {int(labels.max())}, "
                f"beyond the {spec.num_classes} classes: wrong or corrupt label file; "
                "replace it with the original"
            )
    return RawData(
        raw.train_x,
        raw.train_y.astype(np.int32),
        raw.test_x,
        raw.test_y.astype(np.int32),
    )


def _load_from_tfds(
    name: str, data_dir: str | Path | None, download: bool, looked: list[str]
) -> RawData | None:
    """Load through tensorflow-datasets, recording in ``looked`` why it failed."""
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        looked.append("tensorflow-datasets: not installed")
        return None
    data_dir_arg = None if data_dir is None else os.fspath(data_dir)
    builder = tfds.builder(name, data_dir=data_dir_arg)
    if builder.is_prepared():
        return _tfds_arrays(tfds, name, data_dir_arg, download=False)
    looked.append(f"tensorflow-datasets: no prepared copy at {builder.data_dir}")
    if not download:
        looked.append("tensorflow-datasets download: disabled (download=False)")
        return None
    host, port = _TFDS_DOWNLOAD_HOSTS[name]
    if not _reachable(host, port):
        looked.append(f"tensorflow-datasets download: skipped, {host} unreachable (offline?)")
        return None
    try:
        return _tfds_arrays(tfds, name, data_dir_arg, download=True)
    except Exception as exc:  # noqa: BLE001 - tfds raises many types; all mean "no data"
        reason = str(exc).splitlines()[0] if str(exc) else ""
        looked.append(f"tensorflow-datasets download: failed ({type(exc).__name__}: {reason})")
        return None


def _tfds_arrays(tfds: ModuleType, name: str, data_dir: str | None, download: bool) -> RawData:
    """Read both splits whole with ``tfds.load`` and convert them to numpy."""
    train, test = tfds.as_numpy(
        tfds.load(name, split=["train", "test"], data_dir=data_dir, download=download, batch_size=-1)
    )
    return RawData(*_tfds_split(train), *_tfds_split(test))


def _tfds_split(split: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    images, labels = split["image"], split["label"]
    if "id" in split:
        # tfds shuffles records when it writes them; CIFAR keeps the original
        # index in its id ("train_00042"), so the official order is restored.
        order = np.argsort([int(bytes(i).rsplit(b"_", 1)[1]) for i in split["id"]], kind="stable")
        images, labels = images[order], labels[order]
    return np.ascontiguousarray(images), labels


def _reachable(host: str, port: int, timeout: float = _PROBE_TIMEOUT_S) -> bool:
    """Whether a TCP connection to host:port opens within ``timeout`` seconds.

    Runs in a daemon thread because name resolution ignores socket timeouts
    and can hang on a machine without network.
    """
    result: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout + 1.0)
    return bool(result and result[0])
