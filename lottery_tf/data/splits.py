"""Train/validation/test splits, normalized and ready for the input pipeline."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lottery_tf.data import validation
from lottery_tf.data.normalization import DEFAULT as DEFAULT_NORMALIZATION
from lottery_tf.data.normalization import normalize_array, with_normalization
from lottery_tf.data.source import RawData, SourceOptions, no_validation_split
from lottery_tf.data.sources import registry
from lottery_tf.data.spec import DatasetSpec
from lottery_tf.data.streaming import ShardSplits
from lottery_tf.errors import ConfigError


@dataclass(frozen=True)
class Splits:
    """Normalized float32 NHWC images and int32 labels for each split.

    Validation holds examples of the official training set (the last ones, or
    a stratified random sample: `lottery_tf.data.validation`) and training the
    others, so the two never overlap; `validation` records how they were chosen.
    """

    train_x: np.ndarray
    train_y: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    validation: dict | None = None

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
    """The inputs as the network takes them (`lottery_tf.data.normalization`), float32."""
    return normalize_array(images, spec)


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
    validation_split: str | None = None,
    normalization: str | None = None,
) -> Splits | ShardSplits:
    """Load a dataset and split off the last ``validation_size`` training examples.

    The name's source (`lottery_tf.data.sources.registry`) gives the spec and
    the arrays; a streamed source (``shards:<dir>``) is not loaded: its
    `ShardSplits` stream it.

    Args:
        name: one of `lottery_tf.data.sources.known_names()` (``mnist``,
            ``npz:<file>``, ``shards:<dir>``, ...).
        data_dir: optional folder with the dataset's standard files.
        validation_size: examples held out of the training set (`hold_out`);
            0 gives empty validation arrays.
        download: passed to the source (built-in datasets).
        verify: passed to the source (built-in datasets).
        tfds_data_dir: passed to the source (built-in datasets).
        split_train, split_test: tfds splits of a ``tfds:<name>`` source.
        split_validation: a tfds split of a ``tfds:<name>`` source to validate on
            (all of ``split_train`` then trains; ``validation_size`` must be 0).
        image_size: square size images of a ``folder:``/``tfds:`` source are read at.
        validation_split: how the held-out examples are chosen, ``last`` or
            ``stratified`` (`lottery_tf.data.validation`); None: the source's
            default (`registry.default_validation_split`).
        normalization: how inputs are prepared (`lottery_tf.data.normalization`);
            None: standardize.

    Returns:
        The normalized `Splits`, or the source's streamed splits.

    Raises:
        ConfigError: unknown dataset, or ``validation_size`` outside
            [0, training set size).
        DataError: the data is missing or corrupt.
    """
    if split_validation is not None:
        kind = registry.find(name)
        if kind is None or not kind.has_validation_split:
            raise no_validation_split(name)
        if validation_size != 0:
            raise ConfigError(f"dataset.split_validation={split_validation!r} gives the validation "
                              f"examples, so validation_size={validation_size} would drop training "
                              "examples for nothing; set --config.dataset.validation_size=0")
    options = SourceOptions(data_dir=data_dir, split_train=split_train, split_test=split_test,
                            image_size=image_size, download=download, verify=verify,
                            tfds_data_dir=tfds_data_dir)
    source = registry.open_source(name, options)
    if source.streamed and validation_split not in (None, "last"):  # refused before any read
        raise ConfigError(f"{name} is streamed, so validation holds its last {validation_size} "
                          "examples (the shards writer shuffles them); unset "
                          "dataset.validation_split or set it to last.")
    streamed = source.streamed_splits(validation_size)
    if streamed is not None:
        streamed.normalization = normalization or DEFAULT_NORMALIZATION
        return streamed
    spec = with_normalization(source.spec(), normalization)
    if isinstance(validation_size, bool) or not isinstance(validation_size, (int, np.integer)):
        raise ConfigError(f"validation_size must be an integer, got {validation_size!r}")
    raw = source.arrays()
    if split_validation is not None:  # validation_size is 0 (checked above)
        val_x, val_y = source.validation_arrays(split_validation)
        return Splits(train_x=normalize_images(raw.train_x, spec),
                      train_y=raw.train_y.astype(np.int32),
                      val_x=normalize_images(val_x, spec), val_y=val_y,
                      test_x=normalize_images(raw.test_x, spec), test_y=raw.test_y.astype(np.int32),
                      validation={"mode": "split", "split": split_validation, "size": int(len(val_y))})
    mode = validation_split or registry.default_validation_split(name)
    validation.check_mode(mode)
    return hold_out(raw, spec, int(validation_size), name, mode)


def hold_out(raw: RawData, spec: DatasetSpec, validation_size: int, name: str, mode: str) -> Splits:
    """The validation split (`validation_size` examples chosen by `mode`) and training: the rest.

    The one place that decides which training examples validate; see
    `lottery_tf.data.validation` for the modes.

    Args:
        raw: the source's arrays.
        spec: normalizes the inputs (`normalize_images`).
        validation_size: examples held out, in [0, training examples).
        name: the dataset's name, for the error message.
        mode: ``last`` or ``stratified``.

    Returns:
        The normalized `Splits`, with `validation` describing the split.

    Raises:
        ConfigError: ``validation_size`` outside [0, training examples), or an unknown mode.
        DataError: training or validation misses a class of the data.
    """
    num_train = len(raw.train_x)
    if not 0 <= validation_size < num_train:
        raise ConfigError(
            f"validation_size={validation_size} is out of range for {name}: it must be "
            f"at least 0 and less than the {num_train} training examples"
        )
    train_index, val_index = validation.split_indices(raw.train_y, validation_size, mode)
    train_y = raw.train_y[train_index].astype(np.int32)
    val_y = raw.train_y[val_index].astype(np.int32)
    validation.check_classes(name, train_y, val_y, np.union1d(raw.train_y, raw.test_y), mode)
    # Each side normalized from its own (uint8) rows: no float32 copy of the whole set.
    return Splits(train_x=normalize_images(raw.train_x[train_index], spec), train_y=train_y,
                  val_x=normalize_images(raw.train_x[val_index], spec), val_y=val_y,
                  test_x=normalize_images(raw.test_x, spec), test_y=raw.test_y.astype(np.int32),
                  validation=validation.describe(mode, val_y, val_index))
