"""How inputs are prepared for the network: `dataset.normalization`.

Three choices, each applied the same way by the in-memory splits (NumPy), the
streamed shards and the exported SavedModel (TensorFlow):

- ``standardize`` (the default): ``(x / pixel_scale - mean) / std`` with the
  training split's per-channel statistics (as OpenLTH does for MNIST).
- ``unit_range``: ``x / pixel_scale``, pixels in [0, 1] (most re-implementations).
- ``example_l2``: each example divided by its L2 norm over all its values, as
  the original lottery-ticket code's ``keras.utils.normalize`` on flattened
  MNIST images.

The choice matters to magnitude pruning: under ``unit_range`` or ``example_l2``
a pixel that is always 0 sends no gradient to its weights, which keep their
initial magnitudes; standardized, it is a constant input whose weights train.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from lottery_tf.data.spec import DatasetSpec
from lottery_tf.errors import ConfigError

DEFAULT = "standardize"
FORMULAS = {
    "standardize": "(pixel / {scale:g} - mean) / std",
    "unit_range": "pixel / {scale:g}",
    "example_l2": "pixel / ||pixels of the example||_2",
}
NAMES = tuple(FORMULAS)


def check(name: str) -> None:
    """Raises ConfigError naming the choices when `name` is not one."""
    if name not in FORMULAS:
        raise ConfigError(f"dataset.normalization={name!r} is unknown; set it to one of "
                          f"{', '.join(NAMES)} (unset: {DEFAULT}).")


def with_normalization(spec: DatasetSpec, name: str | None) -> DatasetSpec:
    """`spec` set to normalize by `name` (None: the default, standardize)."""
    name = name or DEFAULT
    check(name)
    return spec if spec.normalization == name else dataclasses.replace(spec, normalization=name)


def formula(spec: DatasetSpec) -> str:
    """The spec's normalization as a readable formula (for export records and messages)."""
    return FORMULAS[spec.normalization].format(scale=spec.pixel_scale)


def normalize_array(images: np.ndarray, spec: DatasetSpec) -> np.ndarray:
    """`images` as the network takes them, a new float32 array of the same shape.

    Args:
        images: (N, ..., C) inputs as the dataset stores them (uint8 pixels, or floats).
        spec: its ``normalization``, ``pixel_scale`` and per-channel ``mean``/``std``.
    """
    out = images.astype(np.float32)
    # In place, because a float32 copy of a training set is hundreds of MB.
    np.divide(out, np.float32(spec.pixel_scale), out=out)
    if spec.normalization == "standardize":
        np.subtract(out, np.asarray(spec.mean, dtype=np.float32), out=out)
        np.divide(out, np.asarray(spec.std, dtype=np.float32), out=out)
    elif spec.normalization == "example_l2":
        norms = np.sqrt(np.square(out.reshape(len(out), -1)).sum(axis=1, dtype=np.float64))
        norms[norms == 0] = 1.0  # an all-zero example stays zero (keras.utils.normalize does the same)
        np.divide(out, norms.astype(np.float32).reshape((-1,) + (1,) * (out.ndim - 1)), out=out)
    else:
        check(spec.normalization)
    return out


def normalize_tensor(x, spec: DatasetSpec):
    """`normalize_array` on a batch tensor, with TensorFlow ops (streamed data, SavedModels)."""
    import tensorflow as tf  # lazy: the config layer reads NAMES without TensorFlow

    x = tf.math.divide(tf.cast(x, tf.float32), tf.constant(spec.pixel_scale, tf.float32))
    if spec.normalization == "standardize":
        x = tf.math.subtract(x, tf.constant(spec.mean, tf.float32))
        return tf.math.divide(x, tf.constant(spec.std, tf.float32))
    if spec.normalization == "example_l2":
        axes = list(range(1, len(spec.image_shape) + 1))
        norms = tf.sqrt(tf.reduce_sum(tf.square(x), axis=axes, keepdims=True))
        return tf.math.divide(x, tf.where(norms > 0, norms, tf.ones_like(norms)))
    check(spec.normalization)
    return x


def value_range(spec: DatasetSpec) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel lowest and highest values a normalized input of non-negative pixels can take."""
    channels = len(spec.mean)
    if spec.normalization == "standardize":
        mean, std = np.asarray(spec.mean, np.float32), np.asarray(spec.std, np.float32)
        return (0.0 - mean) / std, (1.0 - mean) / std
    return np.zeros(channels, np.float32), np.ones(channels, np.float32)
