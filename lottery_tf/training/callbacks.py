"""Callbacks that observe training: rewind capture, early stop, TensorBoard, console."""
import sys
import time
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from lottery_tf.pruning import tfmot_adapter
from lottery_tf.training import position
from lottery_tf.training.loop_spec import PausingCallback


def _format(value) -> str:
    return "   -  " if value is None else f"{value:.4f}"


def _resumed(logs: dict) -> bool:
    """Whether training begins past the run's start: restored from its checkpoint."""
    return logs["step"] > logs.get("start_step", logs["step"])


class RewindCapture(PausingCallback):
    """Hands the (masked) weights at step `rewind_step` to `save`.

    Step 0 is the initialization, captured before any update.
    """

    def __init__(self, rewind_step: int, save: Callable[[dict], None]):
        super().__init__()
        self.rewind_step = rewind_step
        self._save = save

    def pause_steps(self, start, end):
        return [self.rewind_step] if start < self.rewind_step <= end else []

    def on_train_begin(self, logs=None):
        if logs and logs.get("step") == self.rewind_step:
            self._save(tfmot_adapter.get_weights(self.model))

    def on_train_batch_end(self, batch, logs=None):
        if batch == self.rewind_step:
            self._save(tfmot_adapter.get_weights(self.model))


class EarlyStopTracker(PausingCallback):
    """Records every evaluation; the early-stop step is the minimum validation loss.

    Its `state()` travels with checkpoints so a resumed level keeps its curve.
    """

    def __init__(self):
        super().__init__()
        self.curve: list[dict] = []

    def on_test_end(self, logs=None):
        point = {key: value for key, value in logs.items() if key != "deferred"}
        self.curve = sorted([p for p in self.curve if p["step"] != point["step"]] + [point],
                            key=lambda p: p["step"])

    def state(self) -> list[dict]:
        return list(self.curve)

    def load_state(self, curve: list[dict]) -> None:
        self.curve = list(curve)

    def best_val_loss(self) -> float:
        """The lowest validation loss recorded (inf if none)."""
        losses = [p["val_loss"] for p in self.curve if np.isfinite(p["val_loss"])]
        return min(losses, default=float("inf"))

    def summary(self) -> dict:
        """Final and early-stop figures of the curve recorded so far."""
        final = self.curve[-1]
        candidates = [p for p in self.curve if np.isfinite(p["val_loss"])]
        best = min(candidates, key=lambda p: p["val_loss"]) if candidates else final
        return {
            "final_step": final["step"],
            "test_accuracy": final["test_accuracy"],
            "test_loss": final["test_loss"],
            "val_accuracy": final["val_accuracy"],
            "val_loss": final["val_loss"],
            "early_stop_step": best["step"],
            "early_stop_val_loss": best["val_loss"],
            "early_stop_test_accuracy": best["test_accuracy"],
        }


class TensorBoardLogger(PausingCallback):
    """Writes one run's curves: train, validation and test, and its sparsity.

    Curve tags start with `group` (`ticket` or `control`) so that charts keep
    tickets and controls apart; accuracies are in percent. The percent of
    weights remaining is written when training starts (or resumes) and ends,
    so it draws as a line. Writes ignore a `record_if` condition set around
    them (Keras' TensorBoard callback sets one for its batch summaries during `fit`).
    """

    def __init__(self, logdir: str, group: str, percent_remaining_by_layer: dict[str, float],
                 percent_remaining: float):
        super().__init__()
        self._writer = tf.summary.create_file_writer(logdir)
        self._group = group
        self._by_layer = percent_remaining_by_layer
        self._total = percent_remaining

    def _write_sparsity(self, step: int) -> None:
        with tf.summary.record_if(True), self._writer.as_default():
            for layer, value in self._by_layer.items():
                tf.summary.scalar(f"percent_remaining_by_layer/{layer}", value, step=step)
            tf.summary.scalar("percent_remaining/total", self._total, step=step)
        self._writer.flush()

    def on_train_begin(self, logs=None):
        self._write_sparsity(logs["step"])

    def on_train_batch_end(self, batch, logs=None):
        group = self._group
        with tf.summary.record_if(True), self._writer.as_default():
            tf.summary.scalar(f"{group}/train/loss", logs["train_loss"], step=batch)
            tf.summary.scalar(f"{group}/train/accuracy", 100.0 * logs["train_accuracy"], step=batch)
            tf.summary.scalar(f"{group}/train/learning_rate", logs["learning_rate"], step=batch)

    def on_test_end(self, logs=None):
        tags = (("test_loss", "test/loss", 1.0), ("test_accuracy", "test/accuracy", 100.0))
        if not logs.get("deferred"):  # a deferred test pass: its validation is written already
            tags = (("val_loss", "validation/loss", 1.0), ("val_accuracy", "validation/accuracy", 100.0),
                    *tags)
        with tf.summary.record_if(True), self._writer.as_default():
            for key, tag, scale in tags:
                if logs[key] is not None and np.isfinite(logs[key]):
                    tf.summary.scalar(f"{self._group}/{tag}", scale * logs[key], step=logs["step"])
        self._writer.flush()

    def on_train_end(self, logs=None):
        self._write_sparsity(logs["step"])
        self._writer.close()


class ConsoleLogger(PausingCallback):
    """One line per evaluation with speed and time left."""

    def __init__(self, prefix: str, end_step: int, stream=sys.stdout):
        super().__init__()
        self._prefix = prefix
        self._end_step = end_step
        self._stream = stream
        self._last_eval = None

    def on_train_begin(self, logs=None):
        self._clock = time.perf_counter()
        self._clock_step = logs["step"]
        if _resumed(logs):
            self._stream.write(position.resume_message(logs["step"]) + "\n")

    def on_test_end(self, logs=None):
        if logs.get("deferred"):
            return
        self._last_eval = logs
        if logs["step"] == self._clock_step:
            self._print(logs, "")

    def on_train_batch_end(self, batch, logs=None):
        if self._last_eval is None or self._last_eval["step"] != batch:
            return
        elapsed = time.perf_counter() - self._clock
        rate = (batch - self._clock_step) / elapsed if elapsed > 0 else float("nan")
        eta = (self._end_step - batch) / rate if rate > 0 else float("nan")
        self._print(self._last_eval,
                    f" train loss {logs['train_loss']:.4f} | {rate:.0f} it/s | ETA {eta:.0f}s")

    def _print(self, evaluation, extra):
        self._stream.write(
            f"{self._prefix} step {evaluation['step']:>6}/{self._end_step} |"
            f" val loss {evaluation['val_loss']:.4f} acc {evaluation['val_accuracy']:.4f} |"
            f" test acc {_format(evaluation['test_accuracy'])} |{extra}\n")
        self._stream.flush()


class ProgressLine(PausingCallback):
    """`--quiet`'s one line per run: the label, a bar, step, speed and time left.

    On a terminal the line is redrawn in place at every pause; elsewhere (a log
    file) it is written once, when the run ends.
    """

    WIDTH = 20

    def __init__(self, label: str, end_step: int, stream=sys.stderr):
        super().__init__()
        self._label = label
        self._end_step = end_step
        self._stream = stream
        self._redraw = bool(getattr(stream, "isatty", lambda: False)())

    def on_train_begin(self, logs=None):
        self._clock = time.perf_counter()
        self._first = self._step = logs["step"]
        if _resumed(logs):
            self._write(position.resume_message(logs["step"]) + "\n")
        if self._redraw:
            self._write("\r" + self.line())

    def on_train_batch_end(self, batch, logs=None):
        self._step = batch
        if self._redraw:
            self._write("\r" + self.line())

    def on_train_end(self, logs=None):
        self._step = logs["step"]
        self._write(("\r" if self._redraw else "") + self.line() + "\n")

    def line(self) -> str:
        """The progress line as it stands."""
        elapsed = time.perf_counter() - self._clock
        rate = (self._step - self._first) / elapsed if elapsed > 0 else 0.0
        left = (self._end_step - self._step) / rate if rate > 0 else float("nan")
        filled = self.WIDTH * self._step // max(self._end_step, 1)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        left_text = "?" if np.isnan(left) else f"{left:.0f}s left"
        return (f"{self._label} [{bar}] step {self._step}/{self._end_step} | {rate:.0f} it/s | "
                f"{left_text} | {elapsed:.0f}s")

    def _write(self, text: str) -> None:
        self._stream.write(text)
        self._stream.flush()
