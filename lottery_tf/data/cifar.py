"""Read the official CIFAR-10 binary batches (``cifar-10-binary.tar.gz``).

Each record is 1 label byte followed by 3072 pixel bytes: the 32x32 red plane,
then green, then blue (CHW, rows in order). Images are returned as NHWC uint8.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lottery_tf.errors import DataError

CIFAR10_TRAIN_FILES: tuple[str, ...] = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
CIFAR10_TEST_FILE = "test_batch.bin"
CIFAR10_SUBDIR = "cifar-10-batches-bin"

_IMAGE_BYTES = 3 * 32 * 32
RECORD_BYTES = 1 + _IMAGE_BYTES
_NUM_CLASSES = 10
_FIX = (
    "replace it with the file from the official cifar-10-binary.tar.gz "
    "(folder cifar-10-batches-bin/)"
)


def resolve_cifar10_dir(directory: str | Path) -> Path | None:
    """Find the folder holding the CIFAR-10 batches in or just below ``directory``.

    The tarball unpacks into ``cifar-10-batches-bin/``, so both the folder
    itself and that subfolder are accepted.

    Args:
        directory: a folder given by the user or a known location.

    Returns:
        The folder that holds at least one batch file, or None if none does.
    """
    names = (*CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE)
    for candidate in (Path(directory), Path(directory) / CIFAR10_SUBDIR):
        if any((candidate / name).is_file() for name in names):
            return candidate
    return None


def read_cifar10_batch(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 binary batch file.

    Args:
        path: e.g. ``data_batch_1.bin`` or ``test_batch.bin``.

    Returns:
        ``(images, labels)``: uint8 arrays of shape (N, 32, 32, 3) and (N,).

    Raises:
        DataError: naming the file when it is unreadable, empty, not a whole
            number of 3073-byte records, or has a label outside 0..9.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read CIFAR-10 batch {path}: {exc.strerror or exc}") from exc
    if not data or len(data) % RECORD_BYTES:
        raise DataError(
            f"CIFAR-10 batch {path} has {len(data)} bytes, not a positive multiple "
            f"of the {RECORD_BYTES}-byte record size (truncated or not a CIFAR-10 "
            f"binary batch); {_FIX}"
        )
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, RECORD_BYTES)
    labels = records[:, 0].copy()
    if labels.max() >= _NUM_CLASSES:
        bad = int(np.argmax(labels >= _NUM_CLASSES))
        raise DataError(
            f"CIFAR-10 batch {path} has label {labels[bad]} in record {bad} "
            f"(labels must be 0..9; is it a CIFAR-100 file?); {_FIX}"
        )
    # CHW planes -> HWC; ascontiguousarray makes the transposed copy once.
    images = np.ascontiguousarray(records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    return images, labels


def read_cifar10(directory: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read all six CIFAR-10 batches from a folder (or its batches subfolder).

    Args:
        directory: folder holding the batches or ``cifar-10-batches-bin/``.

    Returns:
        ``(train_x, train_y, test_x, test_y)``: NHWC uint8 images, uint8 labels,
        training batches concatenated in order 1..5.

    Raises:
        DataError: a batch file is missing or corrupt.
    """
    folder = resolve_cifar10_dir(directory) or Path(directory)
    names = (*CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE)
    missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        raise DataError(
            f"CIFAR-10 folder {folder} is incomplete: missing {', '.join(missing)}; "
            "put all six files of the official cifar-10-binary.tar.gz there"
        )
    train = [read_cifar10_batch(folder / name) for name in CIFAR10_TRAIN_FILES]
    test_x, test_y = read_cifar10_batch(folder / CIFAR10_TEST_FILE)
    train_x = np.concatenate([images for images, _ in train])
    train_y = np.concatenate([labels for _, labels in train])
    return train_x, train_y, test_x, test_y
