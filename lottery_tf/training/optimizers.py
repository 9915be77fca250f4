"""Optimizer and learning-rate schedule from the config's `training` section."""
import ml_collections
import tf_keras as keras

from lottery_tf.training.schedules import OffsetSchedule, WarmupStepDecay
from lottery_tf.training.steps import parse_steps


def make_schedule(training: ml_collections.ConfigDict, steps_per_epoch: int) -> WarmupStepDecay:
    """The learning rate as a function of the global step."""
    boundaries = [parse_steps(b, steps_per_epoch)
                  for b in (training.lr_boundaries or "").split(",") if b.strip()]
    warmup = parse_steps(training.warmup, steps_per_epoch) if training.warmup else 0
    gamma = 0.1 if training.lr_gamma is None else training.lr_gamma
    return WarmupStepDecay(training.learning_rate, boundaries, gamma, warmup)


def make_optimizer(training: ml_collections.ConfigDict, steps_per_epoch: int,
                   start_step: int) -> keras.optimizers.Optimizer:
    """A fresh optimizer whose learning rate starts at the global step `start_step`."""
    schedule = OffsetSchedule(make_schedule(training, steps_per_epoch), start_step)
    if training.optimizer == "adam":
        epsilon = 1e-7 if training.adam_epsilon is None else training.adam_epsilon
        return keras.optimizers.Adam(learning_rate=schedule, epsilon=epsilon)
    return keras.optimizers.SGD(learning_rate=schedule, momentum=training.momentum or 0.0,
                                nesterov=bool(training.nesterov))
