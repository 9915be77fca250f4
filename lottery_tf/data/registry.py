"""Facts about a dataset (shapes, sizes, normalization): a fixed table for the
built-in datasets, measured from the data for `npz:`, `folder:` and `tfds:`
sources (see custom_sources.py)."""

from __future__ import annotations

from dataclasses import dataclass

from lottery_tf.errors import ConfigError


@dataclass(frozen=True)
class DatasetSpec:
    """What the rest of the framework needs to know about a dataset.

    Attributes:
        name: registry name, also the tensorflow-datasets name.
        image_shape: (height, width, channels) of one image.
        num_classes: number of labels, 0..num_classes-1.
        train_size: examples in the official training set.
        test_size: examples in the official test set.
        mean: per-channel pixel mean of the training set, pixels in [0, 1].
        std: per-channel pixel standard deviation of the training set, pixels
            in [0, 1].
        pixel_scale: inputs are divided by it before standardizing (255 for
            uint8 pixels, 1 for float inputs).
    """

    name: str
    image_shape: tuple[int, ...]
    num_classes: int
    train_size: int
    test_size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    pixel_scale: float = 255.0


# mean/std are over every pixel of the full official training set (all 60000
# or 50000 images, before any validation split) with pixels scaled to [0, 1]
# and population std (numpy's default ddof=0), per channel:
#   x = train_images.astype(float64) / 255; x.mean(axis=(0, 1, 2)); x.std(axis=(0, 1, 2))
# MNIST and Fashion-MNIST were computed that way from the files the checksums
# module pins (mnist 0.13066048/0.3081078, fashion 0.2860406/0.35302424).
# CIFAR-10 could not be computed here (no offline copy); the values are the
# widely published ones of the same computation on its 50000 training images
# (equal to (125.3, 123.0, 113.9) / 255 and (63.0, 62.1, 66.7) / 255).
_SPECS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            name="mnist",
            image_shape=(28, 28, 1),
            num_classes=10,
            train_size=60000,
            test_size=10000,
            mean=(0.1307,),
            std=(0.3081,),
        ),
        DatasetSpec(
            name="fashion_mnist",
            image_shape=(28, 28, 1),
            num_classes=10,
            train_size=60000,
            test_size=10000,
            mean=(0.2860,),
            std=(0.3530,),
        ),
        DatasetSpec(
            name="cifar10",
            image_shape=(32, 32, 3),
            num_classes=10,
            train_size=50000,
            test_size=10000,
            mean=(0.4914, 0.4822, 0.4465),
            std=(0.2470, 0.2435, 0.2616),
        ),
    )
}


def known_datasets() -> tuple[str, ...]:
    """Return the names ``get_spec`` accepts, sorted.

    Returns:
        The dataset names.
    """
    return tuple(sorted(_SPECS))


def get_spec(name: str, data_dir: str | None = None, split_train: str | None = None,
             split_test: str | None = None, image_size: int | None = None) -> DatasetSpec:
    """Look up a built-in dataset, or measure a `npz:`/`folder:`/`tfds:` source.

    Args:
        name: one of `known_datasets()`, or ``npz:<file>``, ``folder:<dir>``,
            ``tfds:<name>``, ``shards:<dir>`` (its manifest's recorded spec).
        data_dir, split_train, split_test: where a ``tfds:`` source lives and
            which splits it uses (ignored for the others).
        image_size: square size images of a ``folder:``/``tfds:`` source are read at
            (a ``shards:`` folder must hold images of that size).

    Returns:
        The dataset's spec; a source's shape, classes and statistics come from
        its arrays (classes: the largest label + 1).

    Raises:
        ConfigError: the name is unknown; the message lists the known ones.
        DataError: a source's data is missing or inconsistent.
    """
    from lottery_tf.data import custom_sources, shards  # they read files; the table needs nothing

    if shards.is_shards(name):
        from lottery_tf.data import streaming

        return streaming.manifest_spec(name, image_size)
    if custom_sources.is_custom(name):
        train_x, train_y, test_x, test_y = custom_sources.load(name, data_dir, split_train, split_test,
                                                                    image_size)
        scale, mean, std = custom_sources.statistics(train_x)
        return DatasetSpec(name=name, image_shape=tuple(int(d) for d in train_x.shape[1:]),
                           num_classes=int(max(train_y.max(), test_y.max())) + 1,
                           train_size=len(train_x), test_size=len(test_x), mean=mean, std=std,
                           pixel_scale=scale)
    try:
        return _SPECS[name]
    except KeyError:
        raise ConfigError(
            f"unknown dataset {name!r}; known datasets: {', '.join(known_datasets())}, or "
            "npz:<file>, folder:<dir>, tfds:<name>, shards:<dir>"
        ) from None


def spec_of(dataset, recorded: dict | None = None) -> DatasetSpec:
    """The spec of a config's ``dataset`` section (name, data_dir and split fields).

    Args:
        dataset: ``config.dataset``.
        recorded: the ``data_spec`` an experiment's config.json recorded; when
            given, it is the spec and no data is read (export needs no data).

    Returns:
        As :func:`get_spec`.
    """
    if recorded:
        return DatasetSpec(**{key: tuple(value) if isinstance(value, list) else value
                              for key, value in recorded.items()})
    return get_spec(dataset.name, dataset.get("data_dir"), dataset.get("split_train"),
                    dataset.get("split_test"), dataset.get("image_size"))
