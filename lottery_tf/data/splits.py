"""Train/validation/test splits, normalized and ready for the input pipeline."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lottery_tf.data import custom_sources, shards
from lottery_tf.data.registry import DatasetSpec, get_spec
from lottery_tf.data.sources import load_raw
from lottery_tf.data.streaming import ShardSplits
from lottery_tf.errors import ConfigError


@dataclass(frozen=True)
class Splits:
    """Normalized float32 NHWC images and int32 labels for each split.

    Validation holds the last examples of the official training set and
    training holds the ones before them, so the two never overlap.
    """

    train_x: np.ndarray
    train_y: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray

    streamed = False

    @property
    def num_train(self) -> int:
        """Examples in the training split."""
        return len(self.train_y)

    def first_train_examples(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """The first `count` training examples (for scoring at initialization)."""
        return self.train_x[:count], self.train_y[:count]

    def fingerprint(self) -> str:
        """A hash of every split's contents: the same files give the same fingerprint."""
        digest = hashlib.blake2b(digest_size=16)
        for array in (self.train_x, self.train_y, self.val_x, self.val_y, self.test_x, self.test_y):
            digest.update(f"{array.dtype.str}{array.shape}".encode())
            digest.update(np.ascontiguousarray(array).data)
        return digest.hexdigest()


def normalize_images(images: np.ndarray, spec: DatasetSpec) -> np.ndarray:
    """Scale pixels to [0, 1] (by the spec's pixel_scale), then standardize with its mean/std.

    Args:
        images: (N, H, W, C) uint8 images, or any (N, ..., C) inputs of the spec.
        spec: provides the per-channel ``mean`` and ``std``.

    Returns:
        A new float32 array of the same shape.
    """
    out = images.astype(np.float32)
    # In place, because a float32 copy of a training set is hundreds of MB.
    np.divide(out, np.float32(spec.pixel_scale), out=out)
    np.subtract(out, np.asarray(spec.mean, dtype=np.float32), out=out)
    np.divide(out, np.asarray(spec.std, dtype=np.float32), out=out)
    return out


def load_splits(
    name: str,
    data_dir: str | Path | None = None,
    validation_size: int = 5000,
    *,
    download: bool = True,
    verify: bool = True,
    tfds_data_dir: str | Path | None = None,
    split_train: str | None = None,
    split_test: str | None = None,
    split_validation: str | None = None,
    image_size: int | None = None,
) -> Splits | ShardSplits:
    """Load a dataset and split off the last ``validation_size`` training examples.

    A ``shards:<dir>`` dataset is not loaded: its `ShardSplits` stream it.

    Args:
        name: a registry name (``mnist``, ``fashion_mnist``, ``cifar10``), or
            ``npz:``, ``folder:``, ``tfds:``, ``shards:`` source.
        data_dir: optional folder with the dataset's standard files.
        validation_size: examples taken from the end of the training set;
            0 gives empty validation arrays.
        download: passed to `lottery_tf.data.sources.load_raw`.
        verify: passed to `lottery_tf.data.sources.load_raw`.
        tfds_data_dir: passed to `lottery_tf.data.sources.load_raw`.
        split_train, split_test: tfds splits of a ``tfds:<name>`` source.
        split_validation: a tfds split of a ``tfds:<name>`` source to validate on
            (all of ``split_train`` then trains; ``validation_size`` must be 0).
        image_size: square size images of a ``folder:``/``tfds:`` source are read at.

    Returns:
        The normalized `Splits`.

    Raises:
        ConfigError: unknown dataset, or ``validation_size`` outside
            [0, training set size).
        DataError: the data is missing or corrupt.
    """
    if split_validation is not None:
        custom_sources.validation_source(name)
        if validation_size != 0:
            raise ConfigError(f"dataset.split_validation={split_validation!r} gives the validation "
                              f"examples, so validation_size={validation_size} would drop training "
                              "examples for nothing; set --config.dataset.validation_size=0")
    if shards.is_shards(name):
        get_spec(name, image_size=image_size)  # the stored size is the asked one
        return ShardSplits(name, validation_size)
    spec = get_spec(name, data_dir, split_train, split_test, image_size)
    if isinstance(validation_size, bool) or not isinstance(validation_size, (int, np.integer)):
        raise ConfigError(f"validation_size must be an integer, got {validation_size!r}")
    raw = load_raw(
        name, data_dir, download=download, tfds_data_dir=tfds_data_dir, verify=verify,
        split_train=split_train, split_test=split_test, image_size=image_size,
    )
    num_train = len(raw.train_x)
    if not 0 <= validation_size < num_train:
        raise ConfigError(
            f"validation_size={validation_size} is out of range for {name}: it must be "
            f"at least 0 and less than the {num_train} training examples"
        )
    cut = num_train - int(validation_size)
    train_x = normalize_images(raw.train_x, spec)
    if split_validation is not None:
        val_x, val_y = custom_sources.load_validation(
            name, None if data_dir is None else str(data_dir), split_validation, image_size)
        return Splits(train_x=train_x, train_y=raw.train_y.astype(np.int32),
                      val_x=normalize_images(val_x, spec), val_y=val_y,
                      test_x=normalize_images(raw.test_x, spec), test_y=raw.test_y.astype(np.int32))
    return Splits(
        # Copies, so neither split keeps the other's memory alive.
        train_x=train_x[:cut].copy() if cut < num_train else train_x,
        train_y=raw.train_y[:cut].astype(np.int32),
        val_x=train_x[cut:].copy(),
        val_y=raw.train_y[cut:].astype(np.int32),
        test_x=normalize_images(raw.test_x, spec),
        test_y=raw.test_y.astype(np.int32),
    )
