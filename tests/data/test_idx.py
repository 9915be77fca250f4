"""IDX reader: plain and gzipped files, and every kind of corruption."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from lottery_tf.data.idx import (
    IMAGES_MAGIC,
    LABELS_MAGIC,
    read_idx,
    read_idx_images,
    read_idx_labels,
    resolve_idx_path,
)
from lottery_tf.errors import DataError


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array (1 or 3 dims) as an IDX file."""
    magic = IMAGES_MAGIC if array.ndim == 3 else LABELS_MAGIC
    header = struct.pack(f">I{array.ndim}I", magic, *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write(path: Path, data: bytes, gz: bool = False) -> Path:
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


IMAGES = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
LABELS = np.array([7, 0, 9], dtype=np.uint8)


@pytest.mark.parametrize("gz", [False, True])
def test_reads_images_and_labels(tmp_path: Path, gz: bool) -> None:
    suffix = ".gz" if gz else ""
    images = read_idx_images(write(tmp_path / f"i{suffix}", idx_bytes(IMAGES), gz))
    labels = read_idx_labels(write(tmp_path / f"l{suffix}", idx_bytes(LABELS), gz))
    assert images.shape == (3, 4, 5, 1) and images.dtype == np.uint8
    np.testing.assert_array_equal(images[..., 0], IMAGES)
    np.testing.assert_array_equal(labels, LABELS)
    images[0, 0, 0, 0] = 1  # callers may normalize in place


def test_gzip_detected_by_content_not_name(tmp_path: Path) -> None:
    path = write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(LABELS), gz=True)
    np.testing.assert_array_equal(read_idx_labels(path), LABELS)


def test_bad_magic_names_file(tmp_path: Path) -> None:
    data = bytearray(idx_bytes(IMAGES))
    data[2] = 0x0D  # float32 type code: not a uint8 MNIST file
    path = write(tmp_path / "bad-magic", bytes(data))
    with pytest.raises(DataError, match=r"bad-magic.*bad magic number 0x00000d03"):
        read_idx(path)


def test_truncated_payload(tmp_path: Path) -> None:
    path = write(tmp_path / "short", idx_bytes(IMAGES)[:-1])
    with pytest.raises(DataError, match=r"short is truncated.*59 follow"):
        read_idx(path)


def test_truncated_header(tmp_path: Path) -> None:
    path = write(tmp_path / "hdr", idx_bytes(IMAGES)[:10])
    with pytest.raises(DataError, match="hdr is truncated inside its header"):
        read_idx(path)
    with pytest.raises(DataError, match="shorter than the 4-byte magic"):
        read_idx(write(tmp_path / "tiny", b"\x00\x00"))


def test_extra_bytes_are_wrong_size(tmp_path: Path) -> None:
    path = write(tmp_path / "long.gz", idx_bytes(LABELS) + b"\x00\x00", gz=True)
    with pytest.raises(DataError, match=r"long.gz has the wrong size.*2 extra"):
        read_idx(path)


def test_truncated_gzip_stream(tmp_path: Path) -> None:
    data = gzip.compress(idx_bytes(IMAGES))
    path = write(tmp_path / "cut.gz", data[: len(data) // 2])
    with pytest.raises(DataError, match="cut.gz is a truncated or corrupt gzip file"):
        read_idx(path)


def test_images_and_labels_not_swapped(tmp_path: Path) -> None:
    labels = write(tmp_path / "labels", idx_bytes(LABELS))
    images = write(tmp_path / "images", idx_bytes(IMAGES))
    with pytest.raises(DataError, match="labels.*where images"):
        read_idx_images(labels)
    with pytest.raises(DataError, match="images.*where labels"):
        read_idx_labels(images)


def test_missing_file_is_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read .*nope"):
        read_idx(tmp_path / "nope")


def test_resolve_prefers_plain_then_gz(tmp_path: Path) -> None:
    assert resolve_idx_path(tmp_path, "x") is None
    write(tmp_path / "x.gz", b"")
    assert resolve_idx_path(tmp_path, "x") == tmp_path / "x.gz"
    write(tmp_path / "x", b"")
    assert resolve_idx_path(tmp_path, "x") == tmp_path / "x"
