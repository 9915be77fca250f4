"""The one map from a dataset name to its source, and the by-name entry points over it.

A key is either an exact name (the built-in ``mnist``, ``fashion_mnist``,
``cifar10``) or a prefix ending in ``:`` (``npz:`` matches ``npz:<file>``).
Config validation, ``--help``, error messages and the shards command read
their names from here; no other module tests a prefix.

A new kind of source is one file in this folder (a `DataSource` subclass, or a
`MeasuredSource` with a ``read`` method) and one line in `_SOURCES` (or a
`register` call from the user's own code).

This module imports no TensorFlow: the sources load it only when they read.
"""

from __future__ import annotations

import numpy as np

from lottery_tf.data.normalization import with_normalization
from lottery_tf.data.source import DataSource, RawData, SourceOptions
from lottery_tf.data.sources.builtin import SPECS, BuiltinSource
from lottery_tf.data.sources.folder import FolderSource
from lottery_tf.data.sources.npz import NpzSource
from lottery_tf.data.sources.shards import ShardsSource
from lottery_tf.data.sources.tfds import TfdsSource
from lottery_tf.data.spec import DatasetSpec
from lottery_tf.errors import ConfigError

_SOURCES: dict[str, type[DataSource]] = {
    **{name: BuiltinSource for name in SPECS},
    "npz:": NpzSource,
    "folder:": FolderSource,
    "tfds:": TfdsSource,
    "shards:": ShardsSource,
}


def register(key: str, source: type[DataSource], *, replace: bool = False) -> None:
    """Adds a source kind (``key`` ``"prefix:"``) or one dataset name (``key`` without ``:``).

    Args:
        key: ``"memory:"`` to serve every name ``memory:<...>``, or an exact name.
        source: the `DataSource` subclass that serves it.
        replace: allow overriding a registered key.

    Raises:
        ConfigError: a malformed key, a source that is no `DataSource`, or a
            key already registered without ``replace``.
    """
    prefix, _, rest = key.partition(":") if isinstance(key, str) else ("", "", "")
    if not prefix or rest or not prefix.replace("_", "").replace("-", "").isalnum():
        raise ConfigError(f"a source key is a name or a prefix ending in ':' (e.g. 'memory:'), "
                          f"got {key!r}")
    if not (isinstance(source, type) and issubclass(source, DataSource)):
        raise ConfigError(f"the source of {key!r} must be a DataSource subclass, got {source!r}")
    if key in _SOURCES and not replace:
        raise ConfigError(f"data source {key!r} is already registered; pass replace=True to "
                          "override it")
    _SOURCES[key] = source


def unregister(key: str) -> None:
    """Removes a key `register` added (tests clean up with it); an unknown key is ignored."""
    _SOURCES.pop(key, None)


def find(name: str) -> type[DataSource] | None:
    """The source class serving dataset `name`, or None when no key matches."""
    if not isinstance(name, str):
        return None
    prefix, colon, _ = name.partition(":")
    return _SOURCES.get(f"{prefix}:") if colon else _SOURCES.get(name)


def get(name: str) -> type[DataSource]:
    """The source class serving dataset `name`.

    Raises:
        ConfigError: no key matches; the message lists the known names.
    """
    source = find(name)
    if source is None:
        raise ConfigError(f"unknown dataset {name!r}; known datasets: "
                          f"{', '.join(known_datasets())}, or {', '.join(_prefix_usages())}")
    return source


def open_source(name: str, options: SourceOptions | None = None) -> DataSource:
    """The source of dataset `name` with `options` (nothing is read yet).

    Raises:
        ConfigError: `name` is unknown (see `get`).
    """
    return get(name)(name, options)


def known_datasets() -> tuple[str, ...]:
    """The exact dataset names (the built-in ones and any registered), sorted."""
    return tuple(sorted(key for key in _SOURCES if not key.endswith(":")))


def known_names() -> tuple[str, ...]:
    """Every accepted name as written in help: exact names, then ``prefix:<...>`` forms."""
    return (*known_datasets(), *_prefix_usages())


def _prefix_usages(streamed: bool = True) -> list[str]:
    return [source.usage or f"{key}<...>" for key, source in _SOURCES.items()
            if key.endswith(":") and (streamed or not source.streamed)]


def writable_names() -> tuple[str, ...]:
    """The names a shards folder can be written from (every one but ``shards:`` itself)."""
    return (*known_datasets(), *_prefix_usages(streamed=False))


def image_size_applies(name: str) -> bool:
    """Whether ``dataset.image_size`` may be set for dataset `name` (no data read, no TensorFlow).

    Args:
        name: a dataset name; an unknown one gives False.

    Returns:
        True for sources that read images at that size (``folder:``, ``tfds:``)
        or hold images of one stored size (``shards:``).
    """
    source = find(name)
    return source is not None and source.image_size_applies


def default_validation_split(name: str) -> str:
    """How dataset `name` holds out validation when ``dataset.validation_split`` is unset
    (no data read, no TensorFlow): ``last`` for sources stored in random order, else
    ``stratified``; an unknown name gives ``stratified``."""
    source = find(name) if isinstance(name, str) else None
    return "last" if source is not None and source.stored_in_random_order else "stratified"


# --- by-name entry points -------------------------------------------------------------
def get_spec(name: str, data_dir: str | None = None, split_train: str | None = None,
             split_test: str | None = None, image_size: int | None = None) -> DatasetSpec:
    """The spec of dataset `name`: a built-in's fixed one, or measured by its source.

    Args:
        name: one of `known_names()`.
        data_dir, split_train, split_test: where a ``tfds:`` source lives and
            which splits it uses (ignored by the others).
        image_size: square size images of a ``folder:``/``tfds:`` source are read at
            (a ``shards:`` folder must hold images of that size).

    Returns:
        The dataset's spec; a measured source's shape, classes and statistics
        come from its arrays (classes: the largest label + 1).

    Raises:
        ConfigError: the name is unknown; the message lists the known ones.
        DataError: a source's data is missing or inconsistent.
    """
    options = SourceOptions(data_dir=data_dir, split_train=split_train, split_test=split_test,
                            image_size=image_size)
    return open_source(name, options).spec()


def spec_of(dataset, recorded: dict | None = None) -> DatasetSpec:
    """The spec of a config's ``dataset`` section (name, data_dir and split fields).

    Args:
        dataset: ``config.dataset`` (its ``normalization`` is the spec's).
        recorded: the ``data_spec`` an experiment's config.json recorded; when
            given, it is the spec and no data is read (export needs no data).

    Returns:
        As :func:`get_spec`.
    """
    if recorded:
        spec = DatasetSpec(**{key: tuple(value) if isinstance(value, list) else value
                              for key, value in recorded.items()})
    else:
        spec = get_spec(dataset.name, dataset.get("data_dir"), dataset.get("split_train"),
                        dataset.get("split_test"), dataset.get("image_size"))
    # The config decides (specs recorded before the field existed have none).
    return with_normalization(spec, dataset.get("normalization"))


def load_raw(name: str, data_dir=None, *, download: bool = True, tfds_data_dir=None,
             verify: bool = True, split_train: str | None = None, split_test: str | None = None,
             image_size: int | None = None) -> RawData:
    """The official train and test arrays of dataset `name`, read whole by its source.

    Args:
        name: one of `known_names()` (a ``shards:`` folder is streamed, never loaded).
        data_dir: the dataset's folder (the tfds data dir of a ``tfds:`` source).
        download, tfds_data_dir, verify: for the built-in datasets (see
            `lottery_tf.data.sources.builtin.load_raw`).
        split_train, split_test: tfds splits of a ``tfds:<name>`` source.
        image_size: square size images of a ``folder:``/``tfds:`` source are read at.

    Returns:
        `RawData`: (N, ...) inputs and (N,) int32 labels of train and test.

    Raises:
        ConfigError: ``name`` is unknown.
        DataError: the data is missing or corrupt, or streamed only.
    """
    options = SourceOptions(data_dir=data_dir, split_train=split_train, split_test=split_test,
                            image_size=image_size, download=download, verify=verify,
                            tfds_data_dir=tfds_data_dir)
    return open_source(name, options).arrays()


def raw_test_split(dataset) -> tuple[np.ndarray, np.ndarray]:
    """The raw test inputs and labels of a config's ``dataset`` section, without downloading.

    Args:
        dataset: ``config.dataset`` (name, data_dir, split and image_size
            fields, verify_checksums).

    Returns:
        ``(test_x, test_y)`` as stored (uint8 pixels or floats, not
        normalized); a ``shards:`` folder's test split is read from its shards.

    Raises:
        ConfigError: the name is unknown.
        DataError: the data is not found offline, or is corrupt.
    """
    options = SourceOptions(data_dir=dataset.get("data_dir"),
                            split_train=dataset.get("split_train"),
                            split_test=dataset.get("split_test"),
                            image_size=dataset.get("image_size"), download=False,
                            verify=bool(dataset.get("verify_checksums", True)))
    return open_source(dataset.name, options).test_arrays()
