"""CIFAR-10 binary batch reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lottery_tf.data.cifar import (
    CIFAR10_SUBDIR,
    CIFAR10_TEST_FILE,
    CIFAR10_TRAIN_FILES,
    read_cifar10,
    read_cifar10_batch,
    resolve_cifar10_dir,
)
from lottery_tf.errors import DataError


def batch_bytes(images_chw: np.ndarray, labels: np.ndarray) -> bytes:
    """Encode CHW images and labels as CIFAR-10 binary records."""
    records = np.concatenate(
        [labels.astype(np.uint8)[:, None], images_chw.reshape(len(labels), -1)], axis=1
    )
    return records.astype(np.uint8).tobytes()


def random_batch(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    return rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8), rng.integers(0, 10, n)


def test_batch_is_nhwc(tmp_path: Path) -> None:
    chw = np.zeros((2, 3, 32, 32), dtype=np.uint8)
    chw[0, 0, 1, 2] = 10  # red, row 1, column 2
    chw[1, 2, 31, 0] = 20  # blue, row 31, column 0
    path = tmp_path / "data_batch_1.bin"
    path.write_bytes(batch_bytes(chw, np.array([3, 9])))
    images, labels = read_cifar10_batch(path)
    assert images.shape == (2, 32, 32, 3) and images.dtype == np.uint8
    assert images.flags.c_contiguous
    assert images[0, 1, 2, 0] == 10 and images[1, 31, 0, 2] == 20
    assert images.sum() == 30
    np.testing.assert_array_equal(labels, [3, 9])


def test_size_not_multiple_of_record(tmp_path: Path) -> None:
    path = tmp_path / "test_batch.bin"
    path.write_bytes(batch_bytes(*random_batch(np.random.default_rng(0), 2))[:-5])
    with pytest.raises(DataError, match=r"test_batch.bin has 6141 bytes.*3073"):
        read_cifar10_batch(path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "data_batch_2.bin"
    path.write_bytes(b"")
    with pytest.raises(DataError, match="data_batch_2.bin has 0 bytes"):
        read_cifar10_batch(path)


def test_label_out_of_range(tmp_path: Path) -> None:
    images, _ = random_batch(np.random.default_rng(0), 3)
    path = tmp_path / "data_batch_3.bin"
    path.write_bytes(batch_bytes(images, np.array([1, 10, 2])))
    with pytest.raises(DataError, match=r"data_batch_3.bin has label 10 in record 1"):
        read_cifar10_batch(path)


@pytest.mark.parametrize("subdir", [False, True])
def test_reads_all_batches_in_order(tmp_path: Path, subdir: bool) -> None:
    rng = np.random.default_rng(1)
    folder = tmp_path / CIFAR10_SUBDIR if subdir else tmp_path
    folder.mkdir(exist_ok=True)
    expected_y = []
    for name in (*CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE):
        images, labels = random_batch(rng, 2)
        (folder / name).write_bytes(batch_bytes(images, labels))
        expected_y.append(labels)
    assert resolve_cifar10_dir(tmp_path) == folder
    train_x, train_y, test_x, test_y = read_cifar10(tmp_path)
    assert train_x.shape == (10, 32, 32, 3) and test_x.shape == (2, 32, 32, 3)
    np.testing.assert_array_equal(train_y, np.concatenate(expected_y[:5]))
    np.testing.assert_array_equal(test_y, expected_y[5])


def test_missing_batches_listed(tmp_path: Path) -> None:
    images, labels = random_batch(np.random.default_rng(2), 1)
    (tmp_path / "data_batch_1.bin").write_bytes(batch_bytes(images, labels))
    with pytest.raises(DataError, match=r"missing data_batch_2.bin, .*test_batch.bin"):
        read_cifar10(tmp_path)


def test_resolve_none_when_empty(tmp_path: Path) -> None:
    assert resolve_cifar10_dir(tmp_path) is None
