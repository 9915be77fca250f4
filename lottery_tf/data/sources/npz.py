"""``npz:<file>``: arrays saved with ``np.savez(file, x_train=..., y_train=..., x_test=..., y_test=...)``.

Inputs may be uint8 pixels (divided by 255) or floats of any example shape;
the spec's mean and std are measured per last axis over the training split.
``(N, H, W)`` inputs are grayscale images without a channel axis (as
``keras.datasets.mnist`` returns them): they are read as ``(N, H, W, 1)``, so the
models and the augmentation get NHWC images and one channel's statistics.
"""

from __future__ import annotations

import numpy as np

from lottery_tf.data.source import MeasuredSource, expand
from lottery_tf.errors import DataError

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


class NpzSource(MeasuredSource):
    """The four arrays of one ``.npz`` file, read whole."""

    usage = "npz:<file>"

    def read(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The file's ``x_train, y_train, x_test, y_test`` (``(N, H, W)`` inputs given a channel axis).

        Raises:
            DataError: no such file, a missing array, or not a readable ``.npz``.
        """
        path = expand(self.location)
        if not path.is_file():
            raise DataError(f"npz file {path} does not exist; write it with "
                            f"np.savez(path, {'=..., '.join(NPZ_KEYS)}=...)")
        try:
            with np.load(path, allow_pickle=False) as archive:
                missing = [key for key in NPZ_KEYS if key not in archive.files]
                if missing:
                    raise DataError(f"{path} lacks the arrays {missing} (it holds {archive.files}); "
                                    f"save all of {list(NPZ_KEYS)}")
                x_train, y_train, x_test, y_test = (archive[key] for key in NPZ_KEYS)
        except DataError:
            raise
        except Exception as error:  # zip or pickle errors: all mean a damaged file
            raise DataError(f"{path} is not a readable .npz ({type(error).__name__}: {error}); "
                            "rewrite it with np.savez") from None
        return with_channel_axis(x_train), y_train, with_channel_axis(x_test), y_test


def with_channel_axis(inputs: np.ndarray) -> np.ndarray:
    """``(N, H, W)`` grayscale images as ``(N, H, W, 1)``; inputs of any other rank as given.

    Args:
        inputs: one split's inputs.

    Returns:
        The inputs, a channel axis appended to rank-3 arrays (a view, no copy).
    """
    return inputs[..., np.newaxis] if inputs.ndim == 3 else inputs
