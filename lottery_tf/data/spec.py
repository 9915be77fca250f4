"""What the framework needs to know about a dataset, and how a source's arrays measure it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DatasetSpec:
    """What the rest of the framework needs to know about a dataset.

    Attributes:
        name: the dataset's name (``mnist``, ``npz:<file>``, ...).
        image_shape: (height, width, channels) of one image, or any example shape.
        num_classes: number of labels, 0..num_classes-1.
        train_size: examples in the official training set.
        test_size: examples in the official test set.
        mean: per-channel pixel mean of the training set, pixels in [0, 1].
        std: per-channel pixel standard deviation of the training set, pixels
            in [0, 1].
        pixel_scale: inputs are divided by it before standardizing (255 for
            uint8 pixels, 1 for float inputs).
        normalization: how inputs are prepared (`lottery_tf.data.normalization`):
            standardize, unit_range or example_l2; the config's
            ``dataset.normalization``, not a fact of the data.
    """

    name: str
    image_shape: tuple[int, ...]
    num_classes: int
    train_size: int
    test_size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    pixel_scale: float = 255.0
    normalization: str = "standardize"


def statistics(train_x: np.ndarray) -> tuple[float, tuple[float, ...], tuple[float, ...]]:
    """Pixel scale and per-channel mean/std of a training split (population std).

    Args:
        train_x: the training inputs, (N, ..., C).

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


def measured_spec(name: str, train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray,
                  test_y: np.ndarray) -> DatasetSpec:
    """The spec of a source whose facts come from its arrays rather than a table.

    Args:
        name: the dataset's name.
        train_x, train_y, test_x, test_y: the source's checked arrays.

    Returns:
        The spec: shape of one example, classes (the largest label + 1), split
        sizes and the training split's `statistics`.
    """
    scale, mean, std = statistics(train_x)
    return DatasetSpec(name=name, image_shape=tuple(int(d) for d in train_x.shape[1:]),
                       num_classes=int(max(train_y.max(), test_y.max())) + 1,
                       train_size=len(train_x), test_size=len(test_x), mean=mean, std=std,
                       pixel_scale=scale)
