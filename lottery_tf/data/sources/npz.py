"""``npz:<file>``: arrays saved with ``np.savez(file, x_train=..., y_train=..., x_test=..., y_test=...)``.

Inputs may be uint8 pixels (divided by 255) or floats of any example shape;
the spec's mean and std are measured per last axis over the training split.
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
        """The file's ``x_train, y_train, x_test, y_test``.

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
                return tuple(archive[key] for key in NPZ_KEYS)
        except DataError:
            raise
        except Exception as error:  # zip or pickle errors: all mean a damaged file
            raise DataError(f"{path} is not a readable .npz ({type(error).__name__}: {error}); "
                            "rewrite it with np.savez") from None
