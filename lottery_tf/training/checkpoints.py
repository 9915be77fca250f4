"""Mid-level checkpoints: model, optimizer and the evaluation curve, resumable.

`latest.json` is written last and atomically; it names the checkpoint that is
complete, so a kill while TensorFlow writes the checkpoint files leaves the
previous checkpoint in charge.
"""
import glob
import os

import tensorflow as tf

from lottery_tf.errors import CorruptFileError
from lottery_tf.experiments import crash_points, store
from lottery_tf.training.callbacks import EarlyStopTracker
from lottery_tf.training.loop import PausingCallback

_LATEST = "latest.json"


class LevelCheckpoint:
    """The checkpoint directory of one level."""

    def __init__(self, directory: str, model, optimizer):
        self.directory = directory
        self._checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer)

    def save(self, step: int, tracker: EarlyStopTracker) -> None:
        """Writes the checkpoint for `step` and then marks it as the latest."""
        prefix = os.path.join(self.directory, f"ckpt-{step}")
        self._checkpoint.write(prefix)
        crash_points.reach("checkpoint_written")
        store.write_json(os.path.join(self.directory, _LATEST),
                         {"step": step, "prefix": os.path.basename(prefix), "curve": tracker.state()})
        for stale in glob.glob(os.path.join(self.directory, "ckpt-*")):
            if not os.path.basename(stale).startswith(f"ckpt-{step}."):
                os.remove(stale)

    def restore(self, tracker: EarlyStopTracker) -> int | None:
        """Restores the latest complete checkpoint; returns its step, or None if none.

        A damaged checkpoint is moved aside (kept) and the level starts over: it
        is checked in full before any variable is assigned, so nothing is half-restored.
        """
        latest = os.path.join(self.directory, _LATEST)
        if not os.path.exists(latest):
            return None
        try:
            record = store.read_json(latest)
            prefix = os.path.join(self.directory, record["prefix"])
            reader = tf.train.load_checkpoint(prefix)
            for key in reader.get_variable_to_shape_map():
                reader.get_tensor(key)  # reads and CRC-checks every tensor
        except (CorruptFileError, KeyError, tf.errors.OpError, ValueError):
            store.quarantine(self.directory)
            return None
        self._checkpoint.read(prefix).assert_consumed()
        tracker.load_state(record["curve"])
        return record["step"]


class Checkpointer(PausingCallback):
    """Saves a `LevelCheckpoint` every `every` iterations (not at the very end)."""

    needs_settled_tests = True  # the saved curve must hold the early-stop test pass

    def __init__(self, checkpoint: LevelCheckpoint, every: int, tracker: EarlyStopTracker):
        super().__init__()
        self._checkpoint = checkpoint
        self._every = every
        self._tracker = tracker
        self._end = None

    def pause_steps(self, start, end):
        self._end = end
        if self._every <= 0:
            return []
        first = (start // self._every + 1) * self._every
        return range(first, end, self._every)

    def on_train_batch_end(self, batch, logs=None):
        if self._every > 0 and batch % self._every == 0 and batch != self._end:
            self._checkpoint.save(batch, self._tracker)
