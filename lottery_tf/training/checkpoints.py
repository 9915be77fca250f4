"""Mid-level checkpoints: model, optimizer, the evaluation curve, the early-stop
weights (those of the lowest validation loss so far) and the state of callbacks
that keep one (`CheckpointedState`, e.g. early-bird's draws), resumable.

`latest.json` is written last and atomically; it names the checkpoint that is
complete, so a kill while TensorFlow writes the checkpoint files leaves the
previous checkpoint in charge.
"""
import os
from collections.abc import Callable, Mapping
from typing import Protocol

import numpy as np
import tensorflow as tf

from lottery_tf.errors import CorruptFileError
from lottery_tf.storage import crash_points, files, store
from lottery_tf.training.callbacks import EarlyStopTracker
from lottery_tf.training.loop_spec import PausingCallback, multiples

_LATEST = "latest.json"


class CheckpointedState(Protocol):
    """A callback whose state must resume with the level (saved at each checkpoint)."""

    def checkpoint_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """(JSON-able state, arrays by name) as of the checkpoint's step."""

    def restore_checkpoint_state(self, state: dict, arrays: dict[str, np.ndarray]) -> None:
        """Takes back what `checkpoint_state` gave."""


class LevelCheckpoint:
    """The checkpoint directory of one level."""

    def __init__(self, directory: str, model, optimizer,
                 states: Mapping[str, CheckpointedState] | None = None):
        """`states`: name -> a callback's state saved and restored with the checkpoint."""
        self.directory = directory
        self._checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer)
        self._states = dict(states or {})
        # (step, weights) of the early stop as restored; None if the checkpoint has none.
        self.early_stop: tuple[int, dict] | None = None

    def save(self, step: int, tracker: EarlyStopTracker,
             early_stop: tuple[int, dict] | None = None,
             span: tuple[int, int] | None = None) -> None:
        """Writes the checkpoint for `step` (with the early-stop step's weights) and then
        marks it as the latest; `span`, the run's (start, end) steps, is recorded for
        `status` to draw its progress."""
        prefix = os.path.join(self.directory, f"ckpt-{step}")
        self._checkpoint.write(prefix)
        crash_points.reach("checkpoint_written")
        record = {"step": step, "prefix": os.path.basename(prefix), "curve": tracker.state()}
        if span is not None:
            record["start_step"], record["end_step"] = span
        current = {f"ckpt-{step}."}
        if early_stop is not None:
            name = f"early_stop-{step}.npz"
            store.save_arrays(os.path.join(self.directory, name), early_stop[1])
            record["early_stop"] = {"step": early_stop[0], "file": name}
            current.add(name)
        for state_name, holder in self._states.items():
            state, arrays = holder.checkpoint_state()
            record.setdefault("states", {})[state_name] = {"state": state}
            if arrays:
                name = f"{state_name}-{step}.npz"
                store.save_arrays(os.path.join(self.directory, name), arrays)
                record["states"][state_name]["file"] = name
                current.add(name)
        store.write_json(os.path.join(self.directory, _LATEST), record)
        stale_prefixes = ("ckpt-", "early_stop-", *(f"{name}-" for name in self._states))
        for stale in files.glob(os.path.join(self.directory, "*-*")):
            base = os.path.basename(stale)
            if base.startswith(stale_prefixes) and not any(base.startswith(keep) for keep in current):
                files.remove(stale)

    def restore(self, tracker: EarlyStopTracker) -> int | None:
        """Restores the latest complete checkpoint; returns its step, or None if none.

        A damaged checkpoint is moved aside (kept) and the level starts over: it
        is checked in full before any variable is assigned, so nothing is half-restored.
        """
        latest = os.path.join(self.directory, _LATEST)
        if not files.exists(latest):
            return None
        try:
            record = store.read_json(latest)
            prefix = os.path.join(self.directory, record["prefix"])
            reader = tf.train.load_checkpoint(prefix)
            for key in reader.get_variable_to_shape_map():
                reader.get_tensor(key)  # reads and CRC-checks every tensor
            early_stop = record.get("early_stop")  # absent in checkpoints of older versions
            if early_stop is not None:
                early_stop = (early_stop["step"], store.load_arrays(
                    os.path.join(self.directory, early_stop["file"])))
            states = {name: (saved["state"], store.load_arrays(os.path.join(self.directory, saved["file"]))
                             if "file" in saved else {})
                      for name, saved in record.get("states", {}).items() if name in self._states}
        except (CorruptFileError, KeyError, tf.errors.OpError, ValueError):
            store.quarantine(self.directory)
            return None
        self._checkpoint.read(prefix).assert_consumed()
        tracker.load_state(record["curve"])
        self.early_stop = early_stop
        for name, (state, arrays) in states.items():
            self._states[name].restore_checkpoint_state(state, arrays)
        return record["step"]


class Checkpointer(PausingCallback):
    """Saves a `LevelCheckpoint` every `every` iterations (not at the very end)."""

    needs_settled_tests = True  # the saved curve must hold the early-stop test pass

    def __init__(self, checkpoint: LevelCheckpoint, every: int, tracker: EarlyStopTracker,
                 early_stop: Callable[[], tuple[int, dict] | None] = lambda: None):
        """`early_stop` gives the (step, weights) of the lowest validation loss so far."""
        super().__init__()
        self._checkpoint = checkpoint
        self._every = every
        self._tracker = tracker
        self._early_stop = early_stop
        self._start = self._end = None

    def pause_steps(self, start, end):
        self._start, self._end = start, end
        if self._every <= 0:
            return []
        return multiples(start + 1, end, self._every)  # none at the start: nothing to save

    def on_train_batch_end(self, batch, logs=None):
        if self._every > 0 and batch % self._every == 0 and batch != self._end:
            self._checkpoint.save(batch, self._tracker, self._early_stop(), (self._start, self._end))
