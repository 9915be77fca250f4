"""Dataset sources: one file per kind, one map from a name to its source (`registry`).

The entry points the rest of the framework uses are re-exported here:
``from lottery_tf.data import sources; sources.get_spec("mnist")``.
"""

from lottery_tf.data.source import DataSource, MeasuredSource, RawData, SourceOptions
from lottery_tf.data.sources.builtin import CACHE_ENV, cache_dir
from lottery_tf.data.sources.registry import (
    default_validation_split,
    find,
    get,
    get_spec,
    image_size_applies,
    known_datasets,
    known_names,
    load_raw,
    open_source,
    raw_test_split,
    register,
    spec_of,
    unregister,
)

__all__ = [
    "CACHE_ENV",
    "DataSource",
    "MeasuredSource",
    "RawData",
    "SourceOptions",
    "cache_dir",
    "find",
    "get",
    "default_validation_split",
    "get_spec",
    "image_size_applies",
    "known_datasets",
    "known_names",
    "load_raw",
    "open_source",
    "raw_test_split",
    "register",
    "spec_of",
    "unregister",
]
