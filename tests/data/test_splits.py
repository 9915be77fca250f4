"""Train/validation/test splits and normalization."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from lottery_tf.data import sources
from lottery_tf.data.idx import IDX_FILE_NAMES
from lottery_tf.data.sources import get_spec, known_datasets
from lottery_tf.data.splits import load_splits, normalize_images
from lottery_tf.errors import ConfigError

N_TRAIN, N_TEST = 20, 6


@pytest.fixture
def mnist_dir(tmp_path: Path) -> Path:
    """Tiny MNIST-format folder whose training image i is filled with value i."""
    train = np.repeat(np.arange(N_TRAIN, dtype=np.uint8), 28 * 28).reshape(N_TRAIN, 28, 28)
    arrays = {
        "train_images": train,
        "train_labels": np.arange(N_TRAIN, dtype=np.uint8) % 10,
        "test_images": np.full((N_TEST, 28, 28), 255, dtype=np.uint8),
        "test_labels": np.arange(N_TEST, dtype=np.uint8),
    }
    for role, name in IDX_FILE_NAMES.items():
        array = arrays[role]
        magic = 0x803 if array.ndim == 3 else 0x801
        data = struct.pack(f">I{array.ndim}I", magic, *array.shape) + array.tobytes()
        (tmp_path / f"{name}.gz").write_bytes(gzip.compress(data))
    return tmp_path


def test_sizes_order_and_no_overlap(mnist_dir: Path) -> None:
    splits = load_splits("mnist", mnist_dir, validation_size=5, verify=False, download=False)
    assert splits.train_x.shape == (15, 28, 28, 1) and splits.val_x.shape == (5, 28, 28, 1)
    assert splits.test_x.shape == (N_TEST, 28, 28, 1)
    spec = get_spec("mnist")
    # Recover each example's original index from its constant pixel value.
    train_ids = np.rint(splits.train_x[:, 0, 0, 0] * spec.std[0] * 255 + spec.mean[0] * 255)
    val_ids = np.rint(splits.val_x[:, 0, 0, 0] * spec.std[0] * 255 + spec.mean[0] * 255)
    np.testing.assert_array_equal(train_ids, np.arange(15))
    np.testing.assert_array_equal(val_ids, np.arange(15, 20))  # the LAST examples
    np.testing.assert_array_equal(splits.val_y, np.arange(15, 20) % 10)
    assert not set(train_ids) & set(val_ids)
    for labels in (splits.train_y, splits.val_y, splits.test_y):
        assert labels.dtype == np.int32
    for images in (splits.train_x, splits.val_x, splits.test_x):
        assert images.dtype == np.float32


def test_normalization(mnist_dir: Path) -> None:
    splits = load_splits("mnist", mnist_dir, validation_size=5, verify=False, download=False)
    spec = get_spec("mnist")
    expected_white = (1.0 - spec.mean[0]) / spec.std[0]
    np.testing.assert_allclose(splits.test_x, expected_white, rtol=1e-6)
    np.testing.assert_allclose(splits.train_x[0], -spec.mean[0] / spec.std[0], rtol=1e-6)


def test_normalize_per_channel() -> None:
    spec = get_spec("cifar10")
    images = np.zeros((1, 2, 2, 3), dtype=np.uint8)
    images[..., 1] = 255
    out = normalize_images(images, spec)
    np.testing.assert_allclose(out[0, 0, 0], [
        -spec.mean[0] / spec.std[0], (1 - spec.mean[1]) / spec.std[1], -spec.mean[2] / spec.std[2],
    ], rtol=1e-6)
    assert out.dtype == np.float32 and images[0, 0, 0, 1] == 255


def test_zero_validation(mnist_dir: Path) -> None:
    splits = load_splits("mnist", mnist_dir, validation_size=0, verify=False, download=False)
    assert splits.train_x.shape[0] == N_TRAIN
    assert splits.val_x.shape == (0, 28, 28, 1) and splits.val_y.shape == (0,)


@pytest.mark.parametrize("size", [-1, N_TRAIN, N_TRAIN + 1])
def test_validation_size_out_of_range(mnist_dir: Path, size: int) -> None:
    with pytest.raises(ConfigError, match=f"validation_size={size} is out of range"):
        load_splits("mnist", mnist_dir, validation_size=size, verify=False, download=False)


def test_validation_size_must_be_int(mnist_dir: Path) -> None:
    with pytest.raises(ConfigError, match="must be an integer"):
        load_splits("mnist", mnist_dir, validation_size=0.1, verify=False)  # type: ignore[arg-type]


def test_registry() -> None:
    assert known_datasets() == ("cifar10", "fashion_mnist", "mnist")
    spec = get_spec("cifar10")
    assert spec.image_shape == (32, 32, 3) and len(spec.mean) == len(spec.std) == 3
    assert (spec.train_size, spec.test_size, spec.num_classes) == (50000, 10000, 10)
    with pytest.raises(ConfigError, match="unknown dataset 'svhn'; known datasets"):
        get_spec("svhn")


REAL_MNIST = sources.cache_dir() / "mnist"


@pytest.mark.skipif(
    not (REAL_MNIST / "train-images-idx3-ubyte").exists()
    and not (REAL_MNIST / "train-images-idx3-ubyte.gz").exists(),
    reason="real MNIST not in the cache (run scripts/get_data.sh)",
)
def test_real_mnist() -> None:
    splits = load_splits("mnist", download=False)
    assert len(splits.train_x) == 55000 and len(splits.train_y) == 55000
    assert len(splits.val_x) == 5000 and len(splits.val_y) == 5000
    assert len(splits.test_x) == 10000 and len(splits.test_y) == 10000
    assert splits.train_x.shape[1:] == (28, 28, 1)
    # The pinned mean/std standardize the training pixels.
    assert abs(float(splits.train_x.mean())) < 0.01
    assert abs(float(splits.train_x.std()) - 1.0) < 0.01
    assert set(np.unique(splits.test_y)) == set(range(10))
