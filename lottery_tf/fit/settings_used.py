"""The settings a `fit`-based level actually ran with, read from the model, recorder and rewind.

`save_level` records these in config.json instead of the command line's
defaults, which a `model.fit` script never used: the pruning `prune` last
applied to the model (strategy and rates), the compiled optimizer (type,
constant learning rate, SGD momentum), the level's last global step and the
spacing of its evaluations, and the rewind step. What cannot be read (the batch
size `fit` drew, a learning-rate schedule's shape, weight decay in the loss) is
recorded as unset (None) unless the caller states it in `config`.
"""
import math

import numpy as np
import tf_keras as keras

from lottery_tf.fit.callbacks import LevelRecorder
from lottery_tf.fit.pruning import pruning_settings
from lottery_tf.fit.rewinding import ResumableSchedule, RewindCallback


def _shortest(value) -> float:
    """A float32 optimizer setting as the decimal it was written as (1.2e-3, not 0.00120000005)."""
    return float(str(np.float32(value)))


def _optimizer_settings(model: keras.Model) -> dict[str, object]:
    """Optimizer type, constant learning rate and SGD momentum of the compiled model."""
    optimizer = getattr(model, "optimizer", None)
    if isinstance(optimizer, keras.mixed_precision.LossScaleOptimizer):
        optimizer = optimizer.inner_optimizer
    name = type(optimizer).__name__.lower()
    if name not in ("adam", "sgd"):  # the config's optimizers; anything else is not one of them
        return {}
    settings: dict[str, object] = {"training.optimizer": name}
    rate = getattr(optimizer, "_learning_rate", None)  # tf_keras keeps the schedule only here
    if isinstance(rate, ResumableSchedule) and not callable(rate.schedule):
        rate = rate.schedule
    if not callable(rate) and rate is not None:  # a constant (a variable), not a schedule
        settings["training.learning_rate"] = _shortest(keras.backend.get_value(rate))
    if name == "sgd":
        settings["training.momentum"] = _shortest(optimizer.momentum)
        settings["training.nesterov"] = bool(optimizer.nesterov)
    else:
        settings["training.adam_epsilon"] = _shortest(optimizer.epsilon)
    return settings


def _step_settings(recorder: LevelRecorder) -> dict[str, object]:
    """The level's last global step, and the evaluation spacing when it was regular."""
    steps = [int(point["step"]) for point in recorder.curve]
    settings: dict[str, object] = {"training.train_steps": f"{steps[-1]}it"}
    gaps = {later - earlier for earlier, later in zip(steps, steps[1:], strict=False)}
    if len(gaps) == 1:
        settings["training.eval_every"] = f"{gaps.pop()}it"
    return settings


def used_settings(model: keras.Model, recorder: LevelRecorder,
                  rewind: RewindCallback | None = None) -> dict[str, object]:
    """What this level ran with, by dotted config key; keys it cannot read are absent.

    Args:
      model: the wrapped, compiled model after the level's `fit`.
      recorder: the level's `LevelRecorder` (with at least one evaluation).
      rewind: the `RewindCallback`, if the experiment rewinds.

    Returns:
      Dotted config keys (`pruning.strategy`, `training.learning_rate`, ...) to values.
    """
    settings = {**_optimizer_settings(model), **_step_settings(recorder)}
    pruning = pruning_settings(model)
    if pruning is not None:
        settings.update({f"pruning.{key}": value for key, value in pruning.items()})
    if rewind is not None:
        settings["rewind"] = f"{rewind.step}it"
    return settings


def same_value(stated: object, used: object) -> bool:
    """Whether a stated config value and a used one agree (floats to float32 precision)."""
    if isinstance(stated, float | int) and isinstance(used, float) and not isinstance(stated, bool):
        return math.isclose(float(stated), used, rel_tol=1e-6, abs_tol=1e-12)
    return stated == used
