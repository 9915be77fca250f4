"""IMP in one fit under BackupAndRestore, as a process the resume test kills and starts again.

    python lottery_ticket_run.py <root> <backup_dir> [<epoch>:<batch>]

With `<epoch>:<batch>` the process kills itself with SIGKILL after that batch
of that fit epoch, as a preempted machine would stop.
"""
import os
import signal
import sys

import numpy as np
import tensorflow as tf
import tf_keras as keras

from lottery_tf import api as lt
from lottery_tf.testing import synthetic_images

TRAIN, BATCH, STEPS_PER_EPOCH = 300, 30, 4


class KillAt(keras.callbacks.Callback):
    """SIGKILLs this process after batch `batch` of epoch `epoch`."""

    def __init__(self, epoch: int, batch: int):
        super().__init__()
        self.epoch, self.batch, self.current = epoch, batch, -1

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.current, batch) == (self.epoch, self.batch):
            os.kill(os.getpid(), signal.SIGKILL)


def main(root: str, backup_dir: str, kill_at: str | None) -> None:
    tf.config.experimental.enable_op_determinism()
    x, y = synthetic_images(TRAIN + 60, 0)
    x = x.astype(np.float32) / 255.0
    test = (x[TRAIN:], y[TRAIN:])
    x, y = tf.constant(x[:TRAIN]), tf.constant(y[:TRAIN])

    def make_epoch(epoch):
        seed = tf.stack([tf.constant(1, tf.int64), epoch])
        order = tf.random.experimental.stateless_shuffle(tf.range(TRAIN), seed=seed)
        return (tf.data.Dataset.from_tensor_slices(order).batch(BATCH, drop_remainder=True)
                .map(lambda index: (tf.gather(x, index), tf.gather(y, index))))

    keras.utils.set_random_seed(0)
    model = lt.wrap(keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(name="flatten"),
                                      keras.layers.Dense(48, activation="relu", name="hidden"),
                                      keras.layers.Dense(10, name="output")], name="small"))
    model.compile(keras.optimizers.Adam(lt.ResumableSchedule(keras.optimizers.schedules.PiecewiseConstantDecay(
        [10], [3e-3, 1e-3]))), metrics=["accuracy"],
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    imp = lt.LotteryTicket(root, levels=3, epochs_per_level=2, rate=0.5, rewind="3it", test_data=test)
    callbacks = [imp, keras.callbacks.BackupAndRestore(backup_dir)]
    if kill_at:
        callbacks.append(KillAt(*map(int, kill_at.split(":"))))
    model.fit(imp.batches(make_epoch, STEPS_PER_EPOCH), steps_per_epoch=STEPS_PER_EPOCH,
              epochs=imp.total_epochs, validation_data=test, callbacks=callbacks, verbose=0)
    print("finished levels", sorted(imp.results))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
