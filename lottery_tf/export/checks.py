"""Checks that an export answers as the stored level did.

Predictions are compared on raw test images (random pixels when the data is
not found offline, so exporting never needs it); accuracy is measured on the
whole test split when it is found.
"""
import ml_collections
import numpy as np
import tensorflow as tf

from lottery_tf.data.sources import raw_test_split, spec_of
from lottery_tf.errors import DataError, LotteryError
from lottery_tf.export.saved_model import SIGNATURE, saved_kernels

CHECK_EXAMPLES = 256
# Largest |difference| allowed, as a fraction of max(1, largest |logit|). A stripped
# model runs the same kernels on the same values, so the SavedModel should agree to
# rounding; TFLite uses its own (XNNPACK) kernels, which reorder the sums.
SAVED_MODEL_TOLERANCE = 1e-5
TFLITE_TOLERANCE = 1e-4


class ExportError(LotteryError):
    """The exported model does not reproduce the trained level."""


def test_split(config: ml_collections.ConfigDict) -> tuple[np.ndarray, np.ndarray] | None:
    """The raw (uint8) test images and labels, or None if the data is not found offline.

    A streamed ``shards:`` dataset's test split is read from its shards.
    """
    try:
        return raw_test_split(config.dataset)
    except DataError:
        return None


def check_images(config: ml_collections.ConfigDict, count: int = CHECK_EXAMPLES,
                 split: tuple[np.ndarray, np.ndarray] | None = None,
                 spec=None) -> tuple[np.ndarray, str]:
    """Raw uint8 test images to compare predictions on, and what they are.

    Falls back to random pixels when the dataset cannot be found without
    downloading, so exporting never needs the data.
    """
    split = split if split is not None else test_split(config)
    if split is None:
        spec = spec or spec_of(config.dataset)
        rng = np.random.default_rng(0)
        images = (rng.integers(0, 256, (count, *spec.image_shape), dtype=np.uint8) if spec.pixel_scale == 255
                  else rng.uniform(0, spec.pixel_scale, (count, *spec.image_shape)).astype(np.float32))
        return images, f"{count} random images (the {config.dataset.name} data was not found)"
    images = split[0][:count]
    return images, f"the first {len(images)} {config.dataset.name} test images"


def saved_model_accuracy(directory: str, images: np.ndarray, labels: np.ndarray,
                         batch_size: int = 1000) -> float:
    """Accuracy of a SavedModel loaded back, fed raw images through its default signature."""
    serve = tf.saved_model.load(directory).signatures[SIGNATURE]
    correct = 0
    for start in range(0, len(images), batch_size):
        logits = serve(images=tf.constant(images[start:start + batch_size]))["logits"]
        correct += int(np.sum(np.argmax(logits.numpy(), axis=1) == labels[start:start + batch_size]))
    return correct / len(images)


def max_diff(expected: np.ndarray, got: np.ndarray, tolerance: float, what: str) -> float:
    """Largest |difference|; raises ExportError above `tolerance` * max(1, max |expected|)."""
    difference = float(np.max(np.abs(expected - got)))
    allowed = tolerance * max(1.0, float(np.max(np.abs(expected))))
    if not difference <= allowed:
        raise ExportError(f"{what} differs from the trained level by {difference:.3g} "
                          f"(allowed {allowed:.3g}); the export is wrong.")
    return difference


def percent_zero(kernels: dict[str, np.ndarray]) -> float:
    """Exact zeros among all entries of `kernels`, in percent."""
    zeros = sum(int(np.sum(kernel == 0)) for kernel in kernels.values())
    return 100.0 * zeros / sum(kernel.size for kernel in kernels.values())


def check_sparsity(saved_model: str, masks: dict) -> dict[str, np.ndarray]:
    """The saved prunable kernels; raises ExportError if a pruned weight is not zero."""
    kernels = saved_kernels(saved_model)
    for name, mask in masks.items():
        # A surviving weight may be exactly zero by chance, so only pruned ones are required to be.
        if np.any(kernels[name][mask == 0] != 0):
            raise ExportError(f"The saved kernel of {name} has non-zero weights where its mask is 0.")
    return kernels
