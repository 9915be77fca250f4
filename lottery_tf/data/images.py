"""Decoding one image file and squaring one image, shared by the image sources."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lottery_tf.errors import DataError


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
    import tensorflow as tf  # lazy: naming a source must not load TensorFlow

    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    scaled = tf.cast(tf.math.ceil(shape * (size / tf.reduce_min(shape))), tf.int32)
    resized = tf.image.resize(image, tf.maximum(scaled, size), antialias=True)
    top, left = tf.unstack((tf.shape(resized)[:2] - size) // 2)
    square = resized[top:top + size, left:left + size]
    return tf.cast(tf.clip_by_value(tf.round(square), 0, 255), tf.uint8)


def read_image(path: Path) -> np.ndarray:
    """One image file decoded to an (H, W, C) uint8 array.

    Args:
        path: a PNG, JPEG, BMP or GIF file.

    Returns:
        The decoded image.

    Raises:
        DataError: the file is not a readable PNG, JPEG, BMP or GIF.
    """
    import tensorflow as tf

    try:
        return tf.io.decode_image(tf.io.read_file(str(path)), expand_animations=False).numpy()
    except Exception:  # decode errors have many types; all mean "not an image"
        raise DataError(f"{path} is not a readable image (PNG, JPEG, BMP or GIF); remove or "
                        "replace it") from None
