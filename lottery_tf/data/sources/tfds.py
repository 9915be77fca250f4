"""``tfds:<name>``: a tensorflow-datasets dataset already prepared in ``dataset.data_dir``.

Its supervised keys (or ``image``/``label``) give the input and the label;
``dataset.split_train``/``split_test`` pick the splits (default train/test) and
``dataset.split_validation`` may name a separate validation split. With
``dataset.image_size`` N every image is read at N x N (`images.square_image`).
"""

from __future__ import annotations

import os

import numpy as np

from lottery_tf.data.images import square_image
from lottery_tf.data.source import CHUNK_EXAMPLES, Chunks, MeasuredSource
from lottery_tf.errors import DataError


class TfdsSource(MeasuredSource):
    """A prepared tfds dataset, read whole (`chunks` reads a chunk of elements at a time)."""

    usage = "tfds:<name>"
    resizes_images = True
    image_size_applies = True
    has_validation_split = True

    def read(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The training and test splits' inputs and labels.

        Raises:
            DataError: not prepared, no such split, or images of many sizes
                without ``image_size``.
        """
        options = self.options
        builder, keys = tfds_builder(self.location, options.data_dir)
        return (*_tfds_split(self.location, builder, keys, options.split_train or "train",
                             "split_train", options.image_size),
                *_tfds_split(self.location, builder, keys, options.split_test or "test",
                             "split_test", options.image_size))

    def validation_arrays(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """The inputs and labels of tfds split `split` (N x N with ``image_size``).

        Raises:
            DataError: the dataset is not prepared, or the split is missing or empty.
        """
        builder, keys = tfds_builder(self.location, self.options.data_dir)
        x, y = _tfds_split(self.location, builder, keys, split, "split_validation",
                           self.options.image_size)
        if len(x) == 0:
            raise DataError(f"tfds split {split!r} of {self.location!r} is empty; name a split "
                            "with examples")
        return np.ascontiguousarray(x), y.astype(np.int32)

    def chunks(self) -> Chunks:
        """Each split read a chunk of elements at a time, so it may be larger than memory.

        Raises:
            DataError: not prepared, no such split, or images of many sizes
                without ``image_size``.
        """
        import tensorflow_datasets as tfds

        name, image_size = self.location, self.options.image_size
        builder, keys = tfds_builder(name, self.options.data_dir)
        require_one_size(name, builder, keys, image_size, "pass --image_size=N to write them at N x N")
        chunks = {}
        for split, tfds_split in (("train", self.options.split_train or "train"),
                                  ("test", self.options.split_test or "test")):
            try:
                count = builder.info.splits[tfds_split].num_examples
                if image_size is None:
                    dataset = builder.as_dataset(split=tfds_split, batch_size=CHUNK_EXAMPLES)
                else:
                    dataset = squared_tfds_dataset(builder, tfds_split, keys,
                                                   image_size).batch(CHUNK_EXAMPLES)
            except Exception as error:  # a split name the dataset does not have
                raise DataError(f"tfds dataset {name!r} has no split {tfds_split!r} (splits: "
                                f"{sorted(builder.info.splits)}); set --split_{split} "
                                f"({type(error).__name__})") from None
            chunks[split] = (((batch[keys[0]], batch[keys[1]]) for batch in tfds.as_numpy(dataset)),
                             count)
        return chunks


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


def squared_tfds_dataset(builder, split: str, keys, image_size: int):
    """A tfds split as a tf.data dataset of ``{input, label}`` with every image `image_size` square."""
    return builder.as_dataset(split=split).map(
        lambda example: {keys[0]: square_image(example[keys[0]], image_size),
                         keys[1]: example[keys[1]]})


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


def _squared_tfds_split(tfds, builder, split: str, keys, image_size: int) -> dict:
    """A tfds split read whole with every image made `image_size` square (sizes may differ)."""
    squared = squared_tfds_dataset(builder, split, keys, image_size)
    batches = list(tfds.as_numpy(squared.batch(1024)))
    if batches:
        return {key: np.concatenate([batch[key] for batch in batches]) for key in keys}
    spec = squared.element_spec
    return {key: np.zeros((0, *spec[key].shape), spec[key].dtype.as_numpy_dtype) for key in keys}
