"""Learning-rate schedules keyed by the global training step."""
import tensorflow as tf
import tf_keras as keras


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
        if self.warmup_steps > 0:
            lr *= tf.minimum(1.0, (step + 1.0) / self.warmup_steps)
        return lr

    def get_config(self):
        return {
            "base_lr": self.base_lr,
            "boundaries": self.boundaries,
            "gamma": self.gamma,
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
