"""The unfinished level's records on disk: start weights and masks written once, the
early-stop weights when they move, and nothing taken from another level's files."""
import os

import numpy as np

from lottery_tf.fit.callbacks import LevelRecorder
from lottery_tf.fit.progress import Progress


def _recorder(start: float, early: float | None) -> LevelRecorder:
    recorder = LevelRecorder()
    recorder.weights_start = {"dense/kernel": np.full((2, 2), start, np.float32)}
    recorder.masks = {"dense": np.eye(2, dtype=np.float32)}
    recorder.early_stop_weights = (None if early is None
                                   else {"dense/kernel": np.full((2, 2), early, np.float32)})
    recorder.first_step = 0
    return recorder


def test_start_and_masks_are_written_once_and_early_stop_when_it_moves(tmp_path):
    progress = Progress(str(tmp_path / ".fit_progress"))
    progress.save_level(1, -1, _recorder(start=1.0, early=None), started=True)
    start_file = os.path.join(progress.directory, "level_start.npz")
    written = os.stat(start_file).st_mtime_ns
    # Later epochs: the start in memory is never rewritten; the early stop is, when it moves.
    progress.save_level(1, 0, _recorder(start=9.0, early=2.0), early_stop_moved=True)
    progress.save_level(1, 1, _recorder(start=9.0, early=3.0))  # did not move: kept at 2
    assert os.stat(start_file).st_mtime_ns == written
    loaded = LevelRecorder()
    assert progress.load_level(1, loaded) == 1
    np.testing.assert_array_equal(loaded.weights_start["dense/kernel"], np.full((2, 2), 1.0))
    np.testing.assert_array_equal(loaded.masks["dense"], np.eye(2))
    np.testing.assert_array_equal(loaded.early_stop_weights["dense/kernel"], np.full((2, 2), 2.0))


def test_a_new_level_never_reads_the_previous_levels_arrays(tmp_path):
    progress = Progress(str(tmp_path / ".fit_progress"))
    progress.save_level(1, 0, _recorder(start=1.0, early=2.0), started=True)
    progress.save_level(2, 1, _recorder(start=5.0, early=None), started=True)
    loaded = LevelRecorder()
    assert progress.load_level(2, loaded) == 1
    np.testing.assert_array_equal(loaded.weights_start["dense/kernel"], np.full((2, 2), 5.0))
    assert loaded.early_stop_weights is None  # level 1's early stop is not level 2's
    assert progress.load_level(1, LevelRecorder()) is None  # the state names level 2


def test_a_folder_in_the_older_single_file_layout_still_resumes(tmp_path):
    # Before the split, one untagged level.npz held the state's level's arrays.
    from lottery_tf.storage import store
    progress = Progress(str(tmp_path / ".fit_progress"))
    recorder = _recorder(start=1.0, early=2.0)
    os.makedirs(progress.directory)
    store.save_arrays(os.path.join(progress.directory, "level.npz"),
                      {**{"start/" + k: v for k, v in recorder.weights_start.items()},
                       **{"mask/" + k: v for k, v in recorder.masks.items()},
                       **{"early_stop/" + k: v for k, v in recorder.early_stop_weights.items()}})
    store.write_json(os.path.join(progress.directory, "level.json"),
                     {"level": 3, "epochs_done": 4, "curve": recorder.curve, "first_step": 0,
                      "wall_seconds": 1.5})
    loaded = LevelRecorder()
    assert progress.load_level(3, loaded) == 4
    np.testing.assert_array_equal(loaded.weights_start["dense/kernel"], np.full((2, 2), 1.0))
    np.testing.assert_array_equal(loaded.masks["dense"], np.eye(2))
    np.testing.assert_array_equal(loaded.early_stop_weights["dense/kernel"], np.full((2, 2), 2.0))
    assert progress.load_level(2, LevelRecorder()) is None  # only the level its state names
