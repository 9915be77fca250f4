"""The one interface every dataset source implements (as big_vision's data sources).

A source turns one dataset name (``mnist``, ``npz:<file>``, ``shards:<dir>``,
...) and the dataset section's options into what the framework asks of data:
its `DatasetSpec`, its raw train/test arrays, optionally a separate validation
split, chunks for writing a shards folder, or streamed splits. The kinds live
in ``lottery_tf/data/sources/``, one file each, and
``lottery_tf/data/sources/registry.py`` maps names to them.

`MeasuredSource` is the base of sources whose spec is measured from their
arrays (npz, image folders, tfds): a new one implements only `read`.
"""

from __future__ import annotations

import abc
import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, NamedTuple

import numpy as np

from lottery_tf.data.spec import DatasetSpec, measured_spec
from lottery_tf.errors import ConfigError, DataError

# Examples per chunk when a source's arrays are written as shards.
CHUNK_EXAMPLES = 1024
# Seeds the order in which a source not stored shuffled is written as shards.
SHARDS_SHUFFLE_SEED = 0x5A4D

Chunks = dict[str, tuple[Iterator[tuple[np.ndarray, np.ndarray]], int]]


class RawData(NamedTuple):
    """A dataset as loaded: (N, ...) inputs and (N,) int32 labels of each split."""

    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray


@dataclass(frozen=True)
class SourceOptions:
    """How a source reads its data: the dataset section's fields and the loader's switches.

    Attributes:
        data_dir: the dataset's folder (built-in files, or the tfds data dir of ``tfds:``).
        split_train, split_test: tfds split names (``tfds:`` only).
        image_size: N to read every image N x N (sources that resize), or the
            size a ``shards:`` folder must hold.
        download: whether tensorflow-datasets may download a built-in dataset.
        verify: check built-in files against their pinned digests.
        tfds_data_dir: tensorflow-datasets data dir for the built-in datasets.
    """

    data_dir: str | None = None
    split_train: str | None = None
    split_test: str | None = None
    image_size: int | None = None
    download: bool = True
    verify: bool = True
    tfds_data_dir: str | None = None

    def __post_init__(self):
        # Paths and strings name the same folder (and share a cached read).
        for field in ("data_dir", "tfds_data_dir"):
            value = getattr(self, field)
            if value is not None:
                object.__setattr__(self, field, os.fspath(value))


class DataSource(abc.ABC):
    """One dataset name's data. Subclasses set the class facts and implement `spec` and `arrays`.

    Class attributes:
        usage: how a name of this kind is written, for messages and help
            (``npz:<file>``); None for a built-in name.
        resizes_images: ``image_size`` reads every image at that square size.
        image_size_applies: ``dataset.image_size`` may be set for this kind
            (it resizes, or names the size a stored folder holds).
        has_validation_split: it can serve a separate validation split
            (``dataset.split_validation``).
        streamed: its splits are streamed from disk (`streamed_splits`),
            never loaded whole, so it cannot be written as shards.
        stored_in_random_order: its training examples are stored shuffled, so
            the last ones are a fair validation sample (`validation_split`
            defaults to ``last``, not ``stratified``; see `data.validation`).
    """

    usage: ClassVar[str | None] = None
    resizes_images: ClassVar[bool] = False
    image_size_applies: ClassVar[bool] = False
    has_validation_split: ClassVar[bool] = False
    streamed: ClassVar[bool] = False
    stored_in_random_order: ClassVar[bool] = False

    def __init__(self, name: str, options: SourceOptions | None = None):
        """Remembers the name and options; reads nothing yet.

        Args:
            name: the dataset name, e.g. ``mnist`` or ``npz:/data/x.npz``.
            options: how to read it (defaults: `SourceOptions()`).
        """
        self.name = name
        self.options = options or SourceOptions()

    @property
    def location(self) -> str:
        """What follows ``<prefix>:`` in the name.

        Raises:
            ConfigError: the name has nothing after its prefix.
        """
        prefix, _, where = self.name.partition(":")
        if not where:
            raise ConfigError(f"dataset.name {self.name!r} names no {prefix} location; "
                              f"write {prefix}:<...>")
        return where

    @abc.abstractmethod
    def spec(self) -> DatasetSpec:
        """The dataset's spec (shapes, classes, sizes, normalization statistics).

        Raises:
            DataError: the data behind a measured spec is missing or inconsistent.
        """

    @abc.abstractmethod
    def arrays(self) -> RawData:
        """The official train and test splits, whole, in the source's order.

        Raises:
            DataError: the data is missing, corrupt, or only streamed.
        """

    def validation_arrays(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """The inputs and labels of a separate validation split named `split`.

        Raises:
            ConfigError: the source has no separate validation splits (the default).
        """
        raise no_validation_split(self.name)

    def test_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The raw test inputs and labels (by default the test half of `arrays`)."""
        raw = self.arrays()
        return raw.test_x, raw.test_y

    def chunks(self) -> Chunks:
        """``{split: (chunks, count)}`` for writing shards; by default `arrays` cut in chunks.

        Raises:
            DataError: as `arrays`.
        """
        raw = self.arrays()
        train_x, train_y = raw.train_x, raw.train_y
        if not self.stored_in_random_order:
            # Streamed splits hold out the last examples: shuffle what may be in class order.
            order = np.random.default_rng(SHARDS_SHUFFLE_SEED).permutation(len(train_y))
            train_x, train_y = train_x[order], train_y[order]
        return {"train": (array_chunks(train_x, train_y), len(train_x)),
                "test": (array_chunks(raw.test_x, raw.test_y), len(raw.test_x))}

    def streamed_splits(self, validation_size: int):
        """Splits streamed from disk instead of loaded arrays, or None (the default).

        Returns:
            None, or an object playing `splits.Splits`' role (``streamed`` True).
        """
        return None


class MeasuredSource(DataSource):
    """A source whose spec is measured from its arrays, read once per name and options.

    Subclasses implement `read`; the arrays are checked (matching lengths, integer
    labels, uint8 or float inputs, two classes at least) and cached, so the spec
    and the splits share one read.
    """

    @abc.abstractmethod
    def read(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(train_x, train_y, test_x, test_y)`` as stored.

        Raises:
            DataError: the data is missing or unreadable; the message names the fix.
        """

    def _key(self) -> tuple:
        options = self.options
        return (type(self), self.name, options.data_dir, options.split_train,
                options.split_test, options.image_size)

    def __eq__(self, other) -> bool:
        return isinstance(other, MeasuredSource) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def arrays(self) -> RawData:
        """The checked arrays (see `read`), cached per name and options."""
        return _checked_read(self)

    def spec(self) -> DatasetSpec:
        """The spec measured from the arrays (`spec.measured_spec`)."""
        return measured_spec(self.name, *self.arrays())


@functools.lru_cache(maxsize=2)
def _checked_read(source: MeasuredSource) -> RawData:
    """The source's arrays, checked; cached because the spec and the splits both ask."""
    return checked_arrays(source.name, *source.read())


def clear_cache() -> None:
    """Forgets the cached arrays of every measured source (after files under one name changed)."""
    _checked_read.cache_clear()


def checked_arrays(name: str, train_x, train_y, test_x, test_y) -> RawData:
    """A source's arrays checked for what training needs; labels become int32.

    Raises:
        DataError: lengths differ, a split is empty, labels are not one
            non-negative integer per example, inputs are neither uint8 nor
            float, the splits' example shapes differ, or one class only.
    """
    fix = "; fix the arrays and rerun"
    for split, x, y in (("train", train_x, train_y), ("test", test_x, test_y)):
        if len(x) != len(y):
            raise DataError(f"{name}: {split} has {len(x)} inputs but {len(y)} labels{fix}")
        if len(x) == 0:
            raise DataError(f"{name}: the {split} split is empty{fix}")
        if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
            raise DataError(f"{name}: {split} labels must be one non-negative integer class per "
                            f"example, got {y.dtype} of shape {y.shape}{fix}")
        if not (x.dtype == np.uint8 or np.issubdtype(x.dtype, np.floating)):
            raise DataError(f"{name}: {split} inputs are {x.dtype}; give uint8 pixels or floats{fix}")
    if train_x.shape[1:] != test_x.shape[1:]:
        raise DataError(f"{name}: train inputs are {train_x.shape[1:]} but test inputs "
                        f"{test_x.shape[1:]}; both splits need one example shape{fix}")
    if train_x.ndim < 2:
        raise DataError(f"{name}: inputs need at least one feature axis, got shape {train_x.shape}{fix}")
    if int(max(train_y.max(), test_y.max())) < 1:
        raise DataError(f"{name}: the labels hold a single class; IMP needs at least two{fix}")
    return RawData(np.ascontiguousarray(train_x), train_y.astype(np.int32),
                   np.ascontiguousarray(test_x), test_y.astype(np.int32))


def array_chunks(x: np.ndarray, y: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Consecutive `CHUNK_EXAMPLES`-example slices of in-memory arrays."""
    for start in range(0, len(x), CHUNK_EXAMPLES):
        yield x[start:start + CHUNK_EXAMPLES], y[start:start + CHUNK_EXAMPLES]


def no_validation_split(name: str) -> ConfigError:
    """The error for ``dataset.split_validation`` on a source without validation splits."""
    return ConfigError(f"dataset.split_validation names a tfds split, but {name!r} is no "
                       "tfds:<name> source; unset it (validation is the last validation_size "
                       "training examples)")


def expand(location: str) -> Path:
    """A location written in a dataset name as a path (``~`` expanded)."""
    return Path(location).expanduser()
