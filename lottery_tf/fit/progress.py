"""The unfinished level of a `LotteryTicket` run on disk, so a resumed `fit` keeps its records.

`BackupAndRestore` brings back the model, its masks and the optimizer; what the
callback itself has gathered is kept here, in a hidden folder beside the
replicate's levels (`.fit_progress` for the trunk, `.fit_progress_<branch>` for
a control): the running level's evaluation curve, start weights, masks and
weights at the lowest validation loss so far, and the weights a trunk rewinds
to or a control starts from. Files are written atomically after every epoch;
the folder is deleted when the last level is stored.
"""
import dataclasses

import numpy as np

from lottery_tf.fit.callbacks import LevelRecorder
from lottery_tf.storage import files as storage_files
from lottery_tf.storage import store

_START, _MASK, _EARLY = "start/", "mask/", "early_stop/"


def _prefixed(prefix: str, arrays: dict[str, np.ndarray] | None) -> dict[str, np.ndarray]:
    return {prefix + name: value for name, value in (arrays or {}).items()}


def _unprefixed(prefix: str, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray] | None:
    found = {name[len(prefix):]: value for name, value in arrays.items() if name.startswith(prefix)}
    return found or None


@dataclasses.dataclass
class Progress:
    """One run's in-progress folder.

    Attributes:
      directory: the hidden folder.
    """

    directory: str

    @property
    def _state(self) -> str:
        return storage_files.join(self.directory, "level.json")

    @property
    def _arrays(self) -> str:
        return storage_files.join(self.directory, "level.npz")

    def _weights_file(self, name: str) -> str:
        return storage_files.join(self.directory, f"{name}.npz")

    def save_weights(self, name: str, weights: dict[str, np.ndarray]) -> None:
        """Keeps named weights (the rewind point, a control's initialization)."""
        store.save_arrays(self._weights_file(name), weights)

    def load_weights(self, name: str) -> dict[str, np.ndarray] | None:
        """The weights saved under `name`, or None."""
        path = self._weights_file(name)
        return store.load_arrays(path) if storage_files.exists(path) else None

    def save_level(self, level: int, epochs_done: int, recorder: LevelRecorder,
                   arrays_changed: bool) -> None:
        """Records the running level after an epoch; its arrays only when they changed.

        The arrays go first, so a state file never names arrays not yet written.
        """
        if arrays_changed:
            store.save_arrays(self._arrays, {**_prefixed(_START, recorder.weights_start),
                                             **_prefixed(_MASK, recorder.masks),
                                             **_prefixed(_EARLY, recorder.early_stop_weights)})
        store.write_json(self._state, {"level": level, "epochs_done": epochs_done,
                                       "curve": recorder.curve, "first_step": recorder.first_step,
                                       "wall_seconds": recorder.wall_seconds})

    def load_level(self, level: int, recorder: LevelRecorder) -> int | None:
        """Fills `recorder` with the saved state of `level`.

        Returns:
          The number of the last epoch recorded, or None when nothing of this
          level is saved (the recorder is left as it was).
        """
        if not storage_files.exists(self._state):
            return None
        state = store.read_json(self._state)
        if state["level"] != level or not storage_files.exists(self._arrays):
            return None
        arrays = store.load_arrays(self._arrays)
        recorder.weights_start = _unprefixed(_START, arrays)
        recorder.masks = _unprefixed(_MASK, arrays)
        recorder.early_stop_weights = _unprefixed(_EARLY, arrays)
        recorder.first_step = state["first_step"]
        recorder.wall_seconds = state["wall_seconds"]
        recorder.tracker.load_state(state["curve"])
        return state["epochs_done"]

    def remove(self) -> None:
        """Deletes the folder (the run is stored whole)."""
        if storage_files.exists(self.directory):
            storage_files.rmtree(self.directory)
