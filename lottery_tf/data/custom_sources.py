"""Your own data: arrays in an .npz, a folder of class sub-folders, any prepared tfds dataset.

``dataset.name`` picks the source by prefix:

- ``npz:<file>``: arrays ``x_train``, ``y_train``, ``x_test``, ``y_test`` (the
  names of ``keras.datasets.*.load_data``). Inputs are ``(N, ...)``, uint8
  (pixels, scaled by 1/255) or any float; labels are integers ``0..K-1``.
- ``folder:<dir>``: ``<dir>/train/<class>/*`` and ``<dir>/test/<class>/*``,
  each the layout of ``image_dataset_from_directory``. Classes are the sorted
  sub-folder names of ``train``; images (PNG, JPEG, BMP, GIF) must share one
  shape and are read in sorted order.
- ``tfds:<name>``: a tensorflow-datasets dataset already prepared in
  ``dataset.data_dir`` (default: tfds's own data dir); ``dataset.split_train``
  and ``dataset.split_test`` (default ``train`` / ``test``) pick the splits.
  Nothing is downloaded.

``dataset.image_size = N`` makes images of ``folder:`` and ``tfds:`` sources
N x N as they are read (`square_image`), so images of many sizes (ImageNet)
form one array.

Every source is read whole into memory. Normalization statistics (per channel,
i.e. per last axis) come from the whole training split, as for the built-in
datasets, and are recorded in the experiment's config.json.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from lottery_tf.errors import ConfigError, DataError

PREFIXES = ("npz", "folder", "tfds")
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def is_custom(name: str) -> bool:
    """Whether `name` is a `prefix:` source rather than a built-in dataset."""
    return isinstance(name, str) and name.partition(":")[0] in PREFIXES and ":" in name


@functools.lru_cache(maxsize=2)
def load(name: str, data_dir: str | None = None, split_train: str | None = None,
         split_test: str | None = None,
         image_size: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Train and test arrays of a `prefix:` source (cached: the spec and the splits share one read).

    Args:
        name: ``npz:<file>``, ``folder:<dir>`` or ``tfds:<name>``.
        data_dir: the tfds data dir (``tfds:`` only).
        split_train, split_test: tfds split names (``tfds:`` only).
        image_size: N to make every image N x N (`square_image`; ``folder:``
            and ``tfds:`` only), None to keep them as they are.

    Returns:
        ``(train_x, train_y, test_x, test_y)``; labels int32.

    Raises:
        ConfigError: an unknown prefix or an empty location.
        DataError: the data is missing, unreadable or inconsistent; the message
            names the fix.
    """
    prefix, _, where = name.partition(":")
    if not where:
        raise ConfigError(f"dataset.name {name!r} names no {prefix} location; write {prefix}:<...>")
    if prefix == "npz":
        arrays = _load_npz(Path(where).expanduser())
    elif prefix == "folder":
        arrays = _load_folder(Path(where).expanduser(), image_size)
    elif prefix == "tfds":
        arrays = _load_tfds(where, data_dir, split_train or "train", split_test or "test", image_size)
    else:
        raise ConfigError(f"unknown data source {prefix!r}; use one of {PREFIXES}")
    return _checked(name, *arrays)


def square_image(image, size: int):
    """The image with its shorter side resized to `size`, then its central `size` x `size`.

    Keeps the aspect ratio (the crop drops the longer side's borders), as
    ImageNet's evaluation resize-then-center-crop does. Bilinear with
    antialiasing, rounded back to uint8.

    Args:
        image: (H, W, C) uint8 array or tensor.
        size: the output's height and width.

    Returns:
        A (size, size, C) uint8 tensor.
    """
    import tensorflow as tf

    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    scaled = tf.cast(tf.math.ceil(shape * (size / tf.reduce_min(shape))), tf.int32)
    resized = tf.image.resize(image, tf.maximum(scaled, size), antialias=True)
    top, left = tf.unstack((tf.shape(resized)[:2] - size) // 2)
    square = resized[top:top + size, left:left + size]
    return tf.cast(tf.clip_by_value(tf.round(square), 0, 255), tf.uint8)


def statistics(train_x: np.ndarray) -> tuple[float, tuple[float, ...], tuple[float, ...]]:
    """Pixel scale and per-channel mean/std of a training split (population std).

    Returns:
        ``(scale, mean, std)``: scale 255 for uint8 inputs, else 1; mean and std
        of ``x / scale`` over every axis but the last; a zero std becomes 1.
    """
    scale = 255.0 if train_x.dtype == np.uint8 else 1.0
    axes = tuple(range(train_x.ndim - 1))
    # float64 sums: a float32 running sum over millions of pixels drifts.
    mean = train_x.mean(axis=axes, dtype=np.float64) / scale
    square = np.square(train_x, dtype=np.float64).mean(axis=axes) / scale**2
    std = np.sqrt(np.maximum(square - mean**2, 0.0))
    std = np.where(std > 0, std, 1.0)
    return scale, tuple(float(v) for v in mean), tuple(float(v) for v in std)


def _checked(name, train_x, train_y, test_x, test_y):
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
    return (np.ascontiguousarray(train_x), train_y.astype(np.int32),
            np.ascontiguousarray(test_x), test_y.astype(np.int32))


def _load_npz(path: Path):
    if not path.is_file():
        raise DataError(f"npz file {path} does not exist; write it with "
                        f"np.savez(path, {'=..., '.join(NPZ_KEYS)}=...)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in NPZ_KEYS if key not in archive.files]
            if missing:
                raise DataError(f"{path} lacks the arrays {missing} (it holds {archive.files}); "
                                f"save all of {list(NPZ_KEYS)}")
            return tuple(archive[key] for key in NPZ_KEYS)
    except DataError:
        raise
    except Exception as error:  # zip or pickle errors: all mean a damaged file
        raise DataError(f"{path} is not a readable .npz ({type(error).__name__}: {error}); "
                        "rewrite it with np.savez") from None


def _class_folders(split_dir: Path) -> list[Path]:
    if not split_dir.is_dir():
        raise DataError(f"{split_dir} is missing; an image folder needs train/ and test/, each "
                        "with one sub-folder of images per class")
    classes = sorted(p for p in split_dir.iterdir() if p.is_dir())
    if not classes:
        raise DataError(f"{split_dir} has no class folders; put each class's images in "
                        f"{split_dir}/<class name>/")
    return classes


def read_image(path: Path) -> np.ndarray:
    """One image file decoded to an (H, W, C) uint8 array.

    Raises:
        DataError: the file is not a readable PNG, JPEG, BMP or GIF.
    """
    import tensorflow as tf

    try:
        return tf.io.decode_image(tf.io.read_file(str(path)), expand_animations=False).numpy()
    except Exception:  # decode errors have many types; all mean "not an image"
        raise DataError(f"{path} is not a readable image (PNG, JPEG, BMP or GIF); remove or "
                        "replace it") from None


def _split_files(split_dir: Path, classes: list[str]) -> list[tuple[Path, int]]:
    found = {p.name for p in _class_folders(split_dir)}
    unknown = sorted(found - set(classes))
    if unknown:
        raise DataError(f"{split_dir} has classes {unknown} that train/ lacks; give both splits "
                        "the same class folders")
    pairs = []
    for label, cls in enumerate(classes):
        folder = split_dir / cls
        if folder.is_dir():
            pairs += [(path, label) for path in sorted(folder.iterdir())
                      if path.suffix.lower() in _IMAGE_SUFFIXES]
    if not pairs:
        raise DataError(f"{split_dir} holds no images ({', '.join(_IMAGE_SUFFIXES)}) in its class "
                        "folders")
    return pairs


def folder_files(root: Path) -> dict[str, list[tuple[Path, int]]]:
    """``{"train": [(image path, label), ...], "test": [...]}`` of an image folder, in reading order.

    Labels number the sorted class folders of ``train``.

    Raises:
        DataError: no such folder, no class folders, or no images in a split.
    """
    if not root.is_dir():
        raise DataError(f"image folder {root} does not exist")
    classes = [p.name for p in _class_folders(root / "train")]
    return {split: _split_files(root / split, classes) for split in ("train", "test")}


def _read_split(pairs: list[tuple[Path, int]], image_size: int | None):
    images = []
    for path, _ in pairs:
        image = read_image(path)
        if image_size is not None:
            image = square_image(image, image_size).numpy()
        if images and image.shape != images[0].shape:
            raise DataError(f"{path} is {image.shape}, other images are {images[0].shape}; "
                            "resize the images to one shape")
        images.append(image)
    return np.stack(images), np.asarray([label for _, label in pairs], np.int32)


def _load_folder(root: Path, image_size: int | None):
    files = folder_files(root)
    train_x, train_y = _read_split(files["train"], image_size)
    test_x, test_y = _read_split(files["test"], image_size)
    if test_x.shape[1:] != train_x.shape[1:]:
        raise DataError(f"{root}: test images are {test_x.shape[1:]}, train images "
                        f"{train_x.shape[1:]}; resize them to one shape")
    return train_x, train_y, test_x, test_y


def tfds_builder(name: str, data_dir: str | None):
    """The prepared tfds builder of `name` and its (input, label) feature keys.

    Raises:
        DataError: the dataset is not prepared in ``data_dir`` or has nested keys.
    """
    import tensorflow_datasets as tfds

    where = data_dir or os.environ.get("TFDS_DATA_DIR") or "tfds's default data dir"
    try:
        builder = tfds.builder(name, data_dir=data_dir)
        prepared = builder.is_prepared()
    except Exception as error:  # an unknown name, or files of another version
        raise DataError(f"tfds dataset {name!r} is not available in {where} ({type(error).__name__}: "
                        f"{str(error).splitlines()[0] if str(error) else ''}); prepare it there with "
                        f"`tfds build {name} --data_dir=<dir>` and set dataset.data_dir") from None
    if not prepared:
        raise DataError(f"tfds dataset {name!r} is not prepared in {builder.data_dir}; prepare it "
                        f"with `tfds build {name} --data_dir=<dir>` and set dataset.data_dir")
    keys = builder.info.supervised_keys or ("image", "label")
    if not isinstance(keys[0], str):
        raise DataError(f"tfds dataset {name!r} has nested supervised keys {keys}; lottery_tf reads "
                        "one input feature and one label")
    return builder, keys


def require_one_size(name: str, builder, keys, image_size: int | None, fix: str) -> None:
    """Refuses a tfds dataset whose inputs differ in shape unless `image_size` squares them.

    Raises:
      DataError: images of many sizes and no `image_size`; the message ends with `fix`.
    """
    shape = getattr(builder.info.features[keys[0]], "shape", ())
    if image_size is None and None in tuple(shape or ()):
        raise DataError(f"tfds dataset {name!r} has images of many sizes ({keys[0]} shape "
                        f"{tuple(shape)}); {fix}")


def _tfds_split(name: str, builder, keys, split: str, field: str, image_size: int | None = None):
    import tensorflow_datasets as tfds

    require_one_size(name, builder, keys, image_size,
                     "set dataset.image_size to read them at one square size")
    try:
        if image_size is None:
            data = tfds.as_numpy(builder.as_dataset(split=split, batch_size=-1))
        else:
            data = _squared_tfds_split(tfds, builder, split, keys, image_size)
    except Exception as error:  # a split name the dataset does not have
        raise DataError(f"tfds dataset {name!r} has no split {split!r} (splits: "
                        f"{sorted(builder.info.splits)}); set dataset.{field} "
                        f"({type(error).__name__})") from None
    return data[keys[0]], data[keys[1]]


def squared_tfds_dataset(builder, split: str, keys, image_size: int):
    """A tfds split as a tf.data dataset of ``{input, label}`` with every image `image_size` square."""
    return builder.as_dataset(split=split).map(
        lambda example: {keys[0]: square_image(example[keys[0]], image_size),
                         keys[1]: example[keys[1]]})


def _squared_tfds_split(tfds, builder, split: str, keys, image_size: int) -> dict:
    """A tfds split read whole with every image made `image_size` square (sizes may differ)."""
    squared = squared_tfds_dataset(builder, split, keys, image_size)
    batches = list(tfds.as_numpy(squared.batch(1024)))
    if batches:
        return {key: np.concatenate([batch[key] for batch in batches]) for key in keys}
    spec = squared.element_spec
    return {key: np.zeros((0, *spec[key].shape), spec[key].dtype.as_numpy_dtype) for key in keys}


def _load_tfds(name: str, data_dir: str | None, split_train: str, split_test: str,
               image_size: int | None):
    builder, keys = tfds_builder(name, data_dir)
    return (*_tfds_split(name, builder, keys, split_train, "split_train", image_size),
            *_tfds_split(name, builder, keys, split_test, "split_test", image_size))


def validation_source(name: str) -> str:
    """The tfds name of a source that may take ``dataset.split_validation``.

    Raises:
        ConfigError: `name` is not a ``tfds:<name>`` source.
    """
    prefix, _, where = name.partition(":")
    if prefix != "tfds" or not where:
        raise ConfigError(f"dataset.split_validation names a tfds split, but {name!r} is no "
                          "tfds:<name> source; unset it (validation is the last validation_size "
                          "training examples)")
    return where


def load_validation(name: str, data_dir: str | None, split: str,
                    image_size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The inputs and labels of a ``tfds:<name>`` source's validation split (N x N with `image_size`).

    Raises:
        ConfigError: `name` is not a ``tfds:`` source.
        DataError: the dataset is not prepared or has no such split.
    """
    where = validation_source(name)
    builder, keys = tfds_builder(where, data_dir)
    x, y = _tfds_split(where, builder, keys, split, "split_validation", image_size)
    if len(x) == 0:
        raise DataError(f"tfds split {split!r} of {where!r} is empty; name a split with examples")
    return np.ascontiguousarray(x), y.astype(np.int32)
