"""Read IDX files, the format of MNIST and Fashion-MNIST, plain or gzipped.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number
of dimensions), one big-endian uint32 per dimension, then the raw payload.
Only the two forms MNIST uses are accepted: uint8 images with 3 dimensions
(magic 0x00000803) and uint8 labels with 1 dimension (magic 0x00000801).
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from lottery_tf.errors import DataError

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801

# The four standard files of an MNIST-format dataset, by role.
IDX_FILE_NAMES: dict[str, str] = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

_GZIP_MAGIC = b"\x1f\x8b"
_FIX = "delete it and rerun scripts/get_data.sh (or copy the original file again)"


def read_file_bytes(path: str | Path) -> bytes:
    """Return a file's bytes, decompressed when it is gzip data.

    Gzip is detected from the content, not the name, so a plain file named
    ``.gz`` or a gzip file without the suffix still reads correctly.

    Args:
        path: the file to read.

    Returns:
        The (decompressed) bytes.

    Raises:
        DataError: the file cannot be read or is a broken gzip stream.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(
            f"{path} is a truncated or corrupt gzip file ({exc}); {_FIX}"
        ) from exc


def resolve_idx_path(directory: str | Path, base_name: str) -> Path | None:
    """Find ``base_name`` in ``directory``, plain first, then with ``.gz``.

    Args:
        directory: the folder to look in.
        base_name: a standard IDX name such as ``train-images-idx3-ubyte``.

    Returns:
        The existing file's path, or None when neither form exists.
    """
    for candidate in (Path(directory) / base_name, Path(directory) / f"{base_name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def read_idx(path: str | Path) -> np.ndarray:
    """Read a uint8 IDX file of images (3 dims) or labels (1 dim).

    Args:
        path: an IDX file, plain or gzipped.

    Returns:
        A writable uint8 array shaped as the header declares.

    Raises:
        DataError: naming the file when the magic number is not one of the two
            accepted ones, the header is cut short, or the payload is not
            exactly the size the header declares.
    """
    path = Path(path)
    data = read_file_bytes(path)
    if len(data) < 4:
        raise DataError(
            f"IDX file {path} is truncated: {len(data)} bytes, shorter than the "
            f"4-byte magic number; {_FIX}"
        )
    (magic,) = struct.unpack(">I", data[:4])
    if magic not in (IMAGES_MAGIC, LABELS_MAGIC):
        raise DataError(
            f"IDX file {path} has bad magic number 0x{magic:08x} (expected "
            f"0x{IMAGES_MAGIC:08x} for uint8 images or 0x{LABELS_MAGIC:08x} for "
            f"uint8 labels): it is not an MNIST-format file; {_FIX}"
        )
    ndim = magic & 0xFF
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise DataError(
            f"IDX file {path} is truncated inside its header ({len(data)} of "
            f"{header_size} bytes); {_FIX}"
        )
    dims = struct.unpack(f">{ndim}I", data[4:header_size])
    expected = int(np.prod(dims, dtype=np.int64))
    actual = len(data) - header_size
    if actual < expected:
        raise DataError(
            f"IDX file {path} is truncated: header declares shape {dims} = "
            f"{expected} bytes of data but only {actual} follow; {_FIX}"
        )
    if actual > expected:
        raise DataError(
            f"IDX file {path} has the wrong size: header declares shape {dims} = "
            f"{expected} bytes of data but {actual} follow ({actual - expected} "
            f"extra); {_FIX}"
        )
    # Copy so callers get a writable array that does not pin the raw bytes.
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(dims).copy()


def read_idx_images(path: str | Path) -> np.ndarray:
    """Read an IDX images file as NHWC uint8 with one channel.

    Args:
        path: an images file (magic 0x00000803), plain or gzipped.

    Returns:
        Array of shape (N, H, W, 1), dtype uint8.

    Raises:
        DataError: the file is corrupt (see `read_idx`) or holds labels.
    """
    array = read_idx(path)
    if array.ndim != 3:
        raise DataError(
            f"IDX file {path} holds labels (1 dimension) where images "
            f"(magic 0x{IMAGES_MAGIC:08x}) were expected: check the file name; {_FIX}"
        )
    return array[..., np.newaxis]


def read_idx_labels(path: str | Path) -> np.ndarray:
    """Read an IDX labels file.

    Args:
        path: a labels file (magic 0x00000801), plain or gzipped.

    Returns:
        Array of shape (N,), dtype uint8.

    Raises:
        DataError: the file is corrupt (see `read_idx`) or holds images.
    """
    array = read_idx(path)
    if array.ndim != 1:
        raise DataError(
            f"IDX file {path} holds images (3 dimensions) where labels "
            f"(magic 0x{LABELS_MAGIC:08x}) were expected: check the file name; {_FIX}"
        )
    return array
