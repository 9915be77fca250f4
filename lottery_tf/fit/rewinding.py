"""Rewinding: the weights at step k of the first training, and resuming a level from them.

A rewound level is trained as the command line trains it
(`lottery_tf.experiments.masked_run`): the survivors take the step-k weights,
the optimizer starts afresh (zero moments, its counter at 0, so Adam's bias
correction restarts), the learning rate resumes at step k through
`ResumableSchedule`, and the data resume at the batch of step k through
`batches_from_step`.
"""
from collections.abc import Callable, Mapping

import numpy as np
import tensorflow as tf
import tf_keras as keras

from lottery_tf.errors import ConfigError
from lottery_tf.fit.pruning import zero_removed_units
from lottery_tf.fit.wrapping import require_wrapped
from lottery_tf.pruning import tfmot_adapter


class RewindCallback(keras.callbacks.Callback):
    """Records every weight of the model at global step `step` of the first training.

    Step 0 is the initialization (recorded when `fit` begins, before any
    update); step k > 0 is recorded after the k-th optimizer step. The step is
    read from the optimizer's counter, so several `fit` calls count on.

    Attributes:
      step: the rewind step.
    """

    def __init__(self, step: int = 0):
        super().__init__()
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ConfigError(f"The rewind step must be an integer >= 0, got {step!r}.")
        self.step = step
        self._weights: dict[str, np.ndarray] | None = None

    @property
    def recorded(self) -> bool:
        """Whether the weights at `step` have been recorded."""
        return self._weights is not None

    @property
    def weights(self) -> dict[str, np.ndarray]:
        """The recorded weights by `layer/weight` name.

        Raises:
          ConfigError: training has not reached the rewind step yet.
        """
        if self._weights is None:
            raise ConfigError(f"The weights at rewind step {self.step} have not been recorded: pass this "
                              "RewindCallback to the first model.fit and train past that step before "
                              "rewinding.")
        return self._weights

    def load(self, weights: Mapping[str, np.ndarray]) -> None:
        """Takes weights recorded at `step` by an earlier process (a resumed run)."""
        self._weights = dict(weights)

    def _record_if_due(self) -> None:
        if self._weights is not None:
            return
        done = int(self.model.optimizer.iterations.numpy())
        if done == self.step:
            self._weights = tfmot_adapter.get_weights(self.model)
        elif done > self.step:
            raise ConfigError(f"Training passed rewind step {self.step} (now at step {done}) without "
                              "stopping there: start recording from a fresh optimizer, and use a "
                              "steps_per_execution that divides the rewind step.")

    def on_train_begin(self, logs=None):
        if self.step == 0:
            self._record_if_due()

    def on_train_batch_end(self, batch, logs=None):
        if self._weights is None:
            self._record_if_due()


class ResumableSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """A learning-rate schedule that `rewind` can restart at step k.

    Evaluates `schedule(offset + optimizer iterations)`; `rewind` sets the offset
    to the rewind step and the optimizer's counter to 0 (as the command line's
    `OffsetSchedule` does, with the offset in a variable so a compiled `fit` sees it).
    """

    def __init__(self, schedule: keras.optimizers.schedules.LearningRateSchedule | float):
        self.schedule = schedule
        self.offset = tf.Variable(0, dtype=tf.int64, trainable=False, name="schedule_offset")

    def __call__(self, step):
        step = tf.cast(step, tf.int64) + self.offset
        if callable(self.schedule):
            return self.schedule(step)
        return tf.constant(float(self.schedule))

    def get_config(self):
        schedule = self.schedule
        if isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
            schedule = keras.optimizers.schedules.serialize(schedule)
        return {"schedule": schedule, "offset": int(self.offset.numpy())}


def _reset_optimizer(optimizer: keras.optimizers.Optimizer, step: int) -> None:
    """Fresh optimizer state in place: zero moments, counter 0, schedule resumed at `step`.

    A loss-scaling optimizer (what `compile` makes under `mixed_float16`) resets
    its inner optimizer and restarts its dynamic loss scale at the initial scale,
    as a new one would.
    """
    if isinstance(optimizer, keras.mixed_precision.LossScaleOptimizer):
        if optimizer.dynamic:
            optimizer.dynamic_counter.assign(0)
            optimizer._loss_scale.current_loss_scale.assign(optimizer.initial_scale)  # noqa: SLF001
        optimizer = optimizer.inner_optimizer
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise ConfigError(f"rewind needs a tf_keras.optimizers optimizer (got {type(optimizer).__name__}); "
                          "legacy optimizers are not supported.")
    schedule = optimizer._learning_rate  # noqa: SLF001 - tf_keras keeps the schedule only here
    if isinstance(schedule, ResumableSchedule):
        schedule.offset.assign(step)
    elif isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule) and step > 0:
        raise ConfigError("The optimizer's learning-rate schedule cannot resume at the rewind step "
                          f"{step}: wrap it as lottery_tf.api.ResumableSchedule(schedule).")
    for variable in optimizer.variables:
        if variable is optimizer.iterations:
            continue
        variable.assign(tf.zeros_like(variable))
    optimizer.iterations.assign(0)


def rewind(model: keras.Model, source: RewindCallback | Mapping[str, np.ndarray],
           step: int | None = None) -> int:
    """Sets the survivors to the rewind weights and restarts the optimizer at the rewind step.

    Pruned weights stay exactly zero (the masks are kept). Call it after
    `prune` and before the next level's `fit`, inside the strategy's scope.

    Args:
      model: a wrapped, compiled model.
      source: the `RewindCallback` of the first training, or weights by name
        (as `RewindCallback.weights` or a stored `weights_start.npz`).
      step: the rewind step when `source` is a dict of weights (default 0).

    Returns:
      The step the level resumes at: feed the data from it (`batches_from_step`).

    Raises:
      ConfigError: the model is not wrapped or not compiled, the rewind step
        was not recorded yet, or the weights do not fit the model.
    """
    require_wrapped(model, "rewind")
    if isinstance(source, RewindCallback):
        weights, step = source.weights, source.step
    else:
        weights, step = source, 0 if step is None else int(step)
    if getattr(model, "optimizer", None) is None:
        raise ConfigError("Compile the model before rewinding it: rewind also resets its optimizer.")
    masks = tfmot_adapter.get_masks(model)
    try:
        tfmot_adapter.set_weights(model, weights)
    except ValueError as error:
        raise ConfigError(f"The rewind weights do not fit model {model.name!r}: {error}") from None
    tfmot_adapter.set_masks(model, masks)
    zero_removed_units(model)
    _reset_optimizer(model.optimizer, step)
    return step


def batches_from_step(make_epoch: Callable[[tf.Tensor], tf.data.Dataset], start_step: int,
                      steps_per_epoch: int) -> tf.data.Dataset:
    """An endless stream of batches starting at global step `start_step`.

    `make_epoch(epoch)` builds the batches of one pass over the data (an int64
    tensor; seed its shuffle with it, e.g. `shuffle(n, seed=seed + epoch)`), so
    every level sees at step t the batch the first training saw at step t.
    `steps_per_epoch` is the number of batches one such pass yields (the data's
    epoch, not `fit`'s); pass `fit` its own `steps_per_epoch=` (e.g. the
    evaluation interval), since the stream is endless.

    Raises:
      ConfigError: a negative step or a non-positive epoch length.
    """
    if start_step < 0 or steps_per_epoch <= 0:
        raise ConfigError(f"Need start_step >= 0 and steps_per_epoch > 0, got {start_step} and "
                          f"{steps_per_epoch}.")
    first_epoch = start_step // steps_per_epoch
    return (tf.data.Dataset.range(first_epoch, np.iinfo(np.int64).max)
            .flat_map(make_epoch)
            .skip(start_step - first_epoch * steps_per_epoch))
