"""Learning-rate schedules keyed by the global training step.

Both decays share one linear warmup (`_warmup_factor`): over the first
`warmup_steps` steps the rate rises linearly to its scheduled value. Each
schedule is a pure function of the global step, so `OffsetSchedule` resumes
any of them at a rewind step.
"""
import math

import tensorflow as tf
import tf_keras as keras


def _warmup_factor(step: tf.Tensor, warmup_steps: int) -> tf.Tensor:
    """(step + 1) / warmup_steps, capped at 1 (1 throughout when there is no warmup)."""
    if warmup_steps <= 0:
        return tf.ones([], tf.float32)
    return tf.minimum(1.0, (step + 1.0) / warmup_steps)


class WarmupStepDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup to `base_lr`, then multiply by `gamma` at each boundary.

    With no boundaries and no warmup this is a constant rate.
    """

    def __init__(self, base_lr: float, boundaries=(), gamma: float = 0.1, warmup_steps: int = 0):
        self.base_lr = float(base_lr)
        self.boundaries = [int(b) for b in boundaries]
        self.gamma = float(gamma)
        self.warmup_steps = int(warmup_steps)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        passed = tf.zeros([], tf.float32)
        for boundary in self.boundaries:
            passed += tf.cast(step >= boundary, tf.float32)
        lr = self.base_lr * tf.pow(self.gamma, passed)
        return lr * _warmup_factor(step, self.warmup_steps)

    def get_config(self):
        return {
            "base_lr": self.base_lr,
            "boundaries": self.boundaries,
            "gamma": self.gamma,
            "warmup_steps": self.warmup_steps,
        }


class WarmupCosineDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup to `base_lr`, then a half cosine down to `final_lr` at `total_steps`.

    The cosine runs over the steps after the warmup, [warmup_steps, total_steps],
    and stays at `final_lr` from `total_steps` on.
    """

    def __init__(self, base_lr: float, total_steps: int, final_lr: float = 0.0,
                 warmup_steps: int = 0):
        self.base_lr = float(base_lr)
        self.total_steps = int(total_steps)
        self.final_lr = float(final_lr)
        self.warmup_steps = int(warmup_steps)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        decay_steps = float(max(1, self.total_steps - self.warmup_steps))
        progress = tf.clip_by_value((step - self.warmup_steps) / decay_steps, 0.0, 1.0)
        cosine = 0.5 * (1.0 + tf.cos(math.pi * progress))
        lr = self.final_lr + (self.base_lr - self.final_lr) * cosine
        return lr * _warmup_factor(step, self.warmup_steps)

    def get_config(self):
        return {
            "base_lr": self.base_lr,
            "total_steps": self.total_steps,
            "final_lr": self.final_lr,
            "warmup_steps": self.warmup_steps,
        }


class OffsetSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Evaluates `schedule` at `offset + optimizer iterations`.

    A level rewound to step k gets a fresh optimizer (whose own counter, and so
    Adam's bias correction, starts at 0) while its learning rate resumes at k.
    """

    def __init__(self, schedule: keras.optimizers.schedules.LearningRateSchedule, offset: int):
        self.schedule = schedule
        self.offset = int(offset)

    def __call__(self, step):
        return self.schedule(tf.cast(step, tf.int64) + self.offset)

    def get_config(self):
        return {"schedule": self.schedule.get_config(), "offset": self.offset}
