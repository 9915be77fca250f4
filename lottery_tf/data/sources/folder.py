"""``folder:<dir>``: an image folder ``<dir>/{train,test}/<class name>/<image>``.

Labels number the sorted class folders of ``train``; images are read in the
order of their sorted class folders and sorted file names. With
``dataset.image_size`` N every image is read at N x N (`images.square_image`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from lottery_tf.data.images import read_image, square_image
from lottery_tf.data.source import CHUNK_EXAMPLES, SHARDS_SHUFFLE_SEED, Chunks, MeasuredSource, expand
from lottery_tf.errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


class FolderSource(MeasuredSource):
    """Images in class folders, read whole (`chunks` reads them a chunk of files at a time)."""

    usage = "folder:<dir>"
    resizes_images = True
    image_size_applies = True

    def read(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Both splits decoded (and squared with ``image_size``).

        Raises:
            DataError: no such folder, no class folders or images, a broken
                image, or images of several shapes without ``image_size``.
        """
        root = expand(self.location)
        files = folder_files(root)
        train_x, train_y = _read_split(files["train"], self.options.image_size)
        test_x, test_y = _read_split(files["test"], self.options.image_size)
        if test_x.shape[1:] != train_x.shape[1:]:
            raise DataError(f"{root}: test images are {test_x.shape[1:]}, train images "
                            f"{train_x.shape[1:]}; resize them to one shape")
        return train_x, train_y, test_x, test_y

    def chunks(self) -> Chunks:
        """Each split decoded a chunk of files at a time, so it may be larger than memory.

        The training files are shuffled first (a folder is read class by class, and
        streamed splits hold out the last examples).
        """
        files = folder_files(expand(self.location))
        order = np.random.default_rng(SHARDS_SHUFFLE_SEED).permutation(len(files["train"]))
        files["train"] = [files["train"][i] for i in order]
        return {split: (_folder_chunks(pairs, self.options.image_size), len(pairs))
                for split, pairs in files.items()}


def folder_files(root: Path) -> dict[str, list[tuple[Path, int]]]:
    """``{"train": [(image path, label), ...], "test": [...]}`` of an image folder, in reading order.

    Labels number the sorted class folders of ``train``.

    Raises:
        DataError: no such folder, no class folders or only one in train, or no images in a split.
    """
    if not root.is_dir():
        raise DataError(f"image folder {root} does not exist")
    classes = [p.name for p in _class_folders(root / "train")]
    if len(classes) == 1:
        raise DataError(f"{root / 'train'} holds one class folder ({classes[0]!r}); a classifier "
                        "needs at least two: add a sub-folder per class")
    return {split: _split_files(root / split, classes) for split in ("train", "test")}


def _class_folders(split_dir: Path) -> list[Path]:
    if not split_dir.is_dir():
        raise DataError(f"{split_dir} is missing; an image folder needs train/ and test/, each "
                        "with one sub-folder of images per class")
    classes = sorted(p for p in split_dir.iterdir() if p.is_dir())
    if not classes:
        raise DataError(f"{split_dir} has no class folders; put each class's images in "
                        f"{split_dir}/<class name>/")
    return classes


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
                      if path.suffix.lower() in IMAGE_SUFFIXES]
    if not pairs:
        raise DataError(f"{split_dir} holds no images ({', '.join(IMAGE_SUFFIXES)}) in its class "
                        "folders")
    return pairs


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


def _folder_chunks(pairs: list[tuple[Path, int]],
                   image_size: int | None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    first_shape = None
    for start in range(0, len(pairs), CHUNK_EXAMPLES):
        images, labels = [], []
        for path, label in pairs[start:start + CHUNK_EXAMPLES]:
            image = read_image(path)
            if image_size is not None:
                image = square_image(image, image_size).numpy()
            first_shape = first_shape or image.shape
            if image.shape != first_shape:
                raise DataError(f"{path} is {image.shape}, other images are {first_shape}; pass "
                                "--image_size=N to read every image at N x N, or resize the "
                                "images to one shape")
            images.append(image)
            labels.append(label)
        yield np.stack(images), np.asarray(labels, np.int32)
