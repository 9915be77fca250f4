"""Optimizer and learning-rate schedule from the config's `training` section."""
import ml_collections
import tf_keras as keras

from lottery_tf.training.schedules import OffsetSchedule, WarmupCosineDecay, WarmupStepDecay
from lottery_tf.training.steps import parse_steps


def make_schedule(training: ml_collections.ConfigDict,
                  steps_per_epoch: int) -> keras.optimizers.schedules.LearningRateSchedule:
    """The learning rate as a function of the global step.

    `training.lr_schedule` picks it: step decay (unset or "step": multiply by
    `lr_gamma` at each of `lr_boundaries`) or "cosine" (down to `lr_final` at
    `train_steps`); either starts with a linear `warmup` when one is set.
    """
    warmup = parse_steps(training.warmup, steps_per_epoch) if training.warmup else 0
    if training.get("lr_schedule") == "cosine":
        return WarmupCosineDecay(training.learning_rate,
                                 parse_steps(training.train_steps, steps_per_epoch),
                                 training.get("lr_final") or 0.0, warmup)
    boundaries = [parse_steps(b, steps_per_epoch)
                  for b in (training.lr_boundaries or "").split(",") if b.strip()]
    gamma = 0.1 if training.lr_gamma is None else training.lr_gamma
    return WarmupStepDecay(training.learning_rate, boundaries, gamma, warmup)


def make_optimizer(training: ml_collections.ConfigDict, steps_per_epoch: int,
                   start_step: int) -> keras.optimizers.Optimizer:
    """A fresh optimizer whose learning rate starts at the global step `start_step`.

    Under `training.precision = "mixed_float16"` it is wrapped in a dynamic
    `LossScaleOptimizer`: float16 gradients underflow without loss scaling
    (bfloat16 has float32's range and needs none).
    """
    schedule = OffsetSchedule(make_schedule(training, steps_per_epoch), start_step)
    if training.optimizer == "adam":
        epsilon = 1e-7 if training.adam_epsilon is None else training.adam_epsilon
        optimizer = keras.optimizers.Adam(learning_rate=schedule, epsilon=epsilon)
    else:
        optimizer = keras.optimizers.SGD(learning_rate=schedule, momentum=training.momentum or 0.0,
                                         nesterov=bool(training.nesterov))
    if training.get("precision") == "mixed_float16":
        optimizer = keras.mixed_precision.LossScaleOptimizer(optimizer)
    return optimizer
