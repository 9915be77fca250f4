"""The built-in datasets (mnist, fashion_mnist, cifar10): their fixed specs and where their files are.

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

import numpy as np

from lottery_tf.data import checksums
from lottery_tf.data.cifar import read_cifar10, resolve_cifar10_dir
from lottery_tf.data.idx import (
    IDX_FILE_NAMES,
    read_idx_images,
    read_idx_labels,
    resolve_idx_path,
)
from lottery_tf.data.source import DataSource, RawData
from lottery_tf.data.spec import DatasetSpec
from lottery_tf.errors import ConfigError, DataError

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


# mean/std are over every pixel of the full official training set (all 60000
# or 50000 images, before any validation split) with pixels scaled to [0, 1]
# and population std (numpy's default ddof=0), per channel:
#   x = train_images.astype(float64) / 255; x.mean(axis=(0, 1, 2)); x.std(axis=(0, 1, 2))
# MNIST and Fashion-MNIST were computed that way from the files the checksums
# module pins (mnist 0.13066048/0.3081078, fashion 0.2860406/0.35302424).
# CIFAR-10 could not be computed here (no offline copy); the values are the
# widely published ones of the same computation on its 50000 training images
# (equal to (125.3, 123.0, 113.9) / 255 and (63.0, 62.1, 66.7) / 255).
SPECS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            name="mnist",
            image_shape=(28, 28, 1),
            num_classes=10,
            train_size=60000,
            test_size=10000,
            mean=(0.1307,),
            std=(0.3081,),
        ),
        DatasetSpec(
            name="fashion_mnist",
            image_shape=(28, 28, 1),
            num_classes=10,
            train_size=60000,
            test_size=10000,
            mean=(0.2860,),
            std=(0.3530,),
        ),
        DatasetSpec(
            name="cifar10",
            image_shape=(32, 32, 3),
            num_classes=10,
            train_size=50000,
            test_size=10000,
            mean=(0.4914, 0.4822, 0.4465),
            std=(0.2470, 0.2435, 0.2616),
        ),
    )
}


class BuiltinSource(DataSource):
    """A built-in dataset: its spec from `SPECS` (no data read), its arrays from the first place with them."""

    # MNIST's, Fashion-MNIST's and CIFAR-10's training files hold the classes mixed.
    stored_in_random_order = True

    def spec(self) -> DatasetSpec:
        """The fixed spec of the name (see `SPECS`)."""
        return _spec(self.name)

    def arrays(self) -> RawData:
        """As `load_raw` with the source's data_dir, download, verify and tfds_data_dir."""
        options = self.options
        return load_raw(self.name, options.data_dir, download=options.download,
                        tfds_data_dir=options.tfds_data_dir, verify=options.verify)


def _spec(name: str) -> DatasetSpec:
    try:
        return SPECS[name]
    except KeyError:
        raise ConfigError(f"unknown dataset {name!r}; known datasets: "
                          f"{', '.join(sorted(SPECS))}") from None


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
) -> RawData:
    """Load a built-in dataset's official train and test sets from the first place holding it.

    Args:
        name: a built-in name (``mnist``, ``fashion_mnist``, ``cifar10``).
        data_dir: optional folder with the dataset's standard files.
        download: whether tensorflow-datasets may download when no prepared
            copy exists (skipped quickly when the download host is unreachable).
        tfds_data_dir: tensorflow-datasets data dir; None means its default
            (``$TFDS_DATA_DIR`` or ``~/tensorflow_datasets``).
        verify: check MNIST/Fashion-MNIST files against the pinned SHA-256
            digests (see `lottery_tf.data.checksums`).

    Returns:
        `RawData` with images (N, H, W, C) uint8 and labels (N,) int32, in
        the official order (tensorflow-datasets MNIST copies are in its own
        shuffled order, which it does not record).

    Raises:
        ConfigError: ``name`` is not a built-in dataset.
        DataError: ``data_dir`` does not hold the dataset, a place holds
            incomplete or corrupt files, or no place holds the dataset; the
            latter lists every place looked at and the fix.
    """
    spec = _spec(name)
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
