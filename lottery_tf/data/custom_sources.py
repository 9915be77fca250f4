# TEMPORARY SHIM (issue 24): re-exports lottery_tf.data.sources; removed once imports are updated.
"""The npz:, folder: and tfds: sources now live in lottery_tf/data/sources/ (one file each); square_image and
read_image in lottery_tf/data/images.py, statistics in lottery_tf/data/spec.py."""

from __future__ import annotations

import numpy as np

from lottery_tf.data.images import read_image, square_image
from lottery_tf.data.source import MeasuredSource, SourceOptions, clear_cache
from lottery_tf.data.sources import registry
from lottery_tf.data.sources.folder import folder_files
from lottery_tf.data.sources.tfds import require_one_size, squared_tfds_dataset, tfds_builder
from lottery_tf.data.spec import statistics

__all__ = ["folder_files", "is_custom", "load", "read_image", "require_one_size", "square_image",
           "squared_tfds_dataset", "statistics", "tfds_builder"]


def is_custom(name: str) -> bool:
    """Whether `name` is a source whose spec is measured from its arrays (not a built-in, not shards)."""
    kind = registry.find(name)
    return kind is not None and issubclass(kind, MeasuredSource)


def load(name: str, data_dir: str | None = None, split_train: str | None = None,
         split_test: str | None = None,
         image_size: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(train_x, train_y, test_x, test_y)`` of a measured source (cached; see `source.clear_cache`)."""
    options = SourceOptions(data_dir=data_dir, split_train=split_train, split_test=split_test,
                            image_size=image_size)
    return tuple(registry.open_source(name, options).arrays())


load.cache_clear = clear_cache
