"""The unfinished level of a `LotteryTicket` run on disk, so a resumed `fit` keeps its records.

`BackupAndRestore` brings back the model, its masks and the optimizer; what the
callback itself has gathered is kept here, in a hidden folder beside the
replicate's levels (`.fit_progress` for the trunk, `.fit_progress_<branch>` for
a control): the running level's evaluation curve (after every epoch), its start
weights and masks (once, when it starts), its weights at the lowest validation
loss so far (when that moves), and the weights a trunk rewinds to or a control
starts from. Files are written atomically; each array file carries its level, so
one left from an earlier level is never taken for the running one's. The folder
is deleted when the last level is stored. A folder written before the arrays were
split (one untagged `level.npz`) is still read, for the level its state names.
"""
import dataclasses

import numpy as np

from lottery_tf.fit.callbacks import LevelRecorder
from lottery_tf.storage import files as storage_files
from lottery_tf.storage import store

_START, _MASK, _EARLY = "start/", "mask/", "early_stop/"
_LEVEL = "level"  # the level an array file belongs to, stored in it
_UNSPLIT = "level.npz"  # the older layout: all of the state's level's arrays in one file


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

    def _level_arrays(self, part: str) -> str:
        return storage_files.join(self.directory, f"level_{part}.npz")

    def _save_level_arrays(self, part: str, level: int, arrays: dict[str, np.ndarray]) -> None:
        store.save_arrays(self._level_arrays(part), {**arrays, _LEVEL: np.asarray(level)})

    def _load_level_arrays(self, part: str, level: int) -> dict[str, np.ndarray] | None:
        """The arrays of `part` saved for `level`, or None (absent, or another level's)."""
        path = self._level_arrays(part)
        if not storage_files.exists(path):
            return None
        arrays = store.load_arrays(path)
        return arrays if int(arrays.pop(_LEVEL, -1)) == level else None

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
                   started: bool = False, early_stop_moved: bool = False) -> None:
        """Records the running level after an epoch: its start weights and masks when it
        has just `started`, its early-stop weights when they moved, its curve always.

        The arrays go first, so a state file never names arrays not yet written.
        """
        if started:
            self._save_level_arrays("start", level, {**_prefixed(_START, recorder.weights_start),
                                                     **_prefixed(_MASK, recorder.masks)})
        if (started or early_stop_moved) and recorder.early_stop_weights is not None:
            self._save_level_arrays("early_stop", level, _prefixed(_EARLY, recorder.early_stop_weights))
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
        if state["level"] != level:
            return None
        start, early = self._load_level_arrays("start", level), self._load_level_arrays("early_stop", level)
        unsplit = storage_files.join(self.directory, _UNSPLIT)
        if start is None and storage_files.exists(unsplit):
            # The older layout wrote the arrays before the state, and only its level's.
            start = early = store.load_arrays(unsplit)
        if start is None:
            return None
        recorder.weights_start = _unprefixed(_START, start)
        recorder.masks = _unprefixed(_MASK, start)
        recorder.early_stop_weights = _unprefixed(_EARLY, early or {})
        recorder.first_step = state["first_step"]
        recorder.wall_seconds = state["wall_seconds"]
        recorder.tracker.load_state(state["curve"])
        return state["epochs_done"]

    def remove(self) -> None:
        """Deletes the folder (the run is stored whole)."""
        if storage_files.exists(self.directory):
            storage_files.rmtree(self.directory)
