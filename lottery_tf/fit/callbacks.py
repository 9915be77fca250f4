"""Callbacks for `model.fit` on a wrapped model: the pruning step and level recording."""
import time

import numpy as np
import tensorflow_model_optimization as tfmot
import tf_keras as keras

from lottery_tf.errors import ConfigError
from lottery_tf.fit.rewinding import ResumableSchedule
from lottery_tf.fit.wrapping import require_wrapped
from lottery_tf.pruning import masks as mask_lib
from lottery_tf.pruning import tfmot_adapter
from lottery_tf.training.callbacks import EarlyStopTracker, TensorBoardLogger


class PruningStep(tfmot.sparsity.keras.UpdatePruningStep):
    """tfmot's `UpdatePruningStep` (which `fit` on wrappers requires) that keeps pruned weights zero.

    The wrappers mask the kernels in the forward pass only; gradients stay
    dense, so every optimizer step moves pruned weights off zero until the next
    forward pass (or tfmot's re-masking at epoch ends) zeroes them again. This
    callback also re-masks when training ends, and with `every_batch=True`
    after every step, so callbacks and checkpoints in mid-epoch see exact
    zeros too. Survivors train the same either way (Adam and SGD update each
    weight from its own gradient history).
    """

    def __init__(self, every_batch: bool = False):
        super().__init__()
        self.every_batch = every_batch

    def on_train_begin(self, logs=None):
        require_wrapped(self.model, "train with PruningStep")
        super().on_train_begin(logs)

    def on_train_batch_end(self, batch, logs=None):
        if self.every_batch:
            tfmot_adapter.apply_masks(self.model)

    def on_train_end(self, logs=None):
        tfmot_adapter.apply_masks(self.model)


def _global_step(model: keras.Model, start_step: int | None) -> int:
    """The level's global step: its start (the rewind step) plus the optimizer's steps."""
    if start_step is None:
        schedule = getattr(model.optimizer, "_learning_rate", None)
        start_step = int(schedule.offset.numpy()) if isinstance(schedule, ResumableSchedule) else 0
    return start_step + int(model.optimizer.iterations.numpy())


class LevelRecorder(keras.callbacks.Callback):
    """Records one level as the command line does: the start weights, each
    validation (and test) evaluation, the early-stop step (lowest validation
    loss), and optionally TensorBoard scalars, including sparsity per layer.

    Use a new recorder per level and pass it to that level's `fit` calls
    together with `validation_data`; every `fit` epoch end is one evaluation.

    Args:
      test_data: optional (x, y) or dataset evaluated at every epoch end, so
        the early-stop test accuracy is recorded.
      logdir: optional TensorBoard folder of this level.
      start_step: the level's first global step (None: read from a
        `ResumableSchedule`, else 0).
      metric: the name of the compiled accuracy metric.
    """

    def __init__(self, test_data=None, logdir: str | None = None, start_step: int | None = None,
                 metric: str = "accuracy"):
        super().__init__()
        self.test_data = test_data
        self.logdir = logdir
        self.start_step = start_step
        self.metric = metric
        self.tracker = EarlyStopTracker()
        self.weights_start: dict[str, np.ndarray] | None = None
        self.masks: dict[str, np.ndarray] | None = None
        self.first_step: int | None = None
        self.wall_seconds = 0.0
        # The weights at the lowest validation loss so far (the early stop).
        self.early_stop_weights: dict[str, np.ndarray] | None = None
        self._clock = 0.0
        self._tensorboard: TensorBoardLogger | None = None

    def on_train_begin(self, logs=None):
        require_wrapped(self.model, "record a level of")
        if self.weights_start is None:  # the first fit of this level
            tfmot_adapter.apply_masks(self.model)
            self.weights_start = tfmot_adapter.get_weights(self.model)
            self.masks = tfmot_adapter.get_masks(self.model)
            self.first_step = _global_step(self.model, self.start_step)
        self._clock = time.perf_counter()
        if self.logdir:
            by_layer = mask_lib.percent_remaining_by_layer(self.masks)
            self._tensorboard = TensorBoardLogger(self.logdir, "ticket", by_layer,
                                                  mask_lib.percent_remaining(self.masks))
            self._tensorboard.on_train_begin({"step": _global_step(self.model, self.start_step)})

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if "val_loss" not in logs:
            raise ConfigError("LevelRecorder needs validation results: pass validation_data to fit "
                              "(the early-stop step is the lowest validation loss).")
        point = {"step": _global_step(self.model, self.start_step),
                 "val_loss": float(logs["val_loss"]),
                 "val_accuracy": float(logs.get(f"val_{self.metric}", np.nan)),
                 "test_loss": None, "test_accuracy": None}
        if self.test_data is not None:
            x, y = self.test_data if isinstance(self.test_data, tuple) else (self.test_data, None)
            test = self.model.evaluate(x, y, verbose=0, return_dict=True, batch_size=1000)
            point.update(test_loss=float(test["loss"]), test_accuracy=float(test[self.metric]))
        if point["val_loss"] < self.tracker.best_val_loss():  # a new early stop: keep its weights
            tfmot_adapter.apply_masks(self.model)
            self.early_stop_weights = tfmot_adapter.get_weights(self.model)
        self.tracker.on_test_end(point)
        if self._tensorboard is not None:
            # A MirroredVariable under MirroredStrategy: read through TensorFlow, not NumPy.
            learning_rate = keras.backend.get_value(self.model.optimizer.learning_rate)
            self._tensorboard.on_train_batch_end(point["step"], {
                "train_loss": float(logs.get("loss", np.nan)),
                "train_accuracy": float(logs.get(self.metric, np.nan)),
                "learning_rate": float(learning_rate)})
            self._tensorboard.on_test_end(point)

    def on_train_end(self, logs=None):
        self.wall_seconds += time.perf_counter() - self._clock
        if self._tensorboard is not None:
            self._tensorboard.on_train_end({"step": _global_step(self.model, self.start_step)})
            self._tensorboard = None

    @property
    def curve(self) -> list[dict]:
        """Every evaluation so far, by step."""
        return self.tracker.state()

    def summary(self) -> dict:
        """Final and early-stop figures (the command line's `metrics.json` keys).

        Raises:
          ConfigError: nothing recorded yet.
        """
        if not self.tracker.curve:
            raise ConfigError("The LevelRecorder has no evaluation yet: pass it to model.fit "
                              "with validation_data first.")
        return self.tracker.summary()
