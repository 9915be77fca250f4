"""IMP in one fit under another strategy or precision, as its own process.

    python lottery_ticket_variants.py <root> default|mirrored|mixed_float16|mixed_bfloat16

`mirrored` trains under MirroredStrategy on 2 logical CPUs, which must be
configured before TensorFlow initialises, hence a separate process; the others
run here too so that every variant starts from the same process state. Prints
the loss scale the optimizer held when each level began (mixed_float16 only).
"""
import json
import sys

import numpy as np
import tensorflow as tf
import tf_keras as keras

from lottery_tf import api as lt
from lottery_tf.testing import synthetic_images
from lottery_tf.training.precision import precision_policy

TRAIN, BATCH, STEPS_PER_EPOCH, LEVELS = 240, 30, 4, 2


class LossScaleAtLevelStart(keras.callbacks.Callback):
    """The loss scale as each level begins; lowers it at every epoch end.

    Listed before LotteryTicket, so the lowering precedes the level-end rewind, which must restart it.
    """

    def __init__(self, epochs_per_level: int):
        super().__init__()
        self.epochs_per_level, self.scales = epochs_per_level, []

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        scaled = isinstance(optimizer, keras.mixed_precision.LossScaleOptimizer)
        if scaled and epoch % self.epochs_per_level == 0:
            self.scales.append(float(optimizer.loss_scale))

    def on_epoch_end(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if isinstance(optimizer, keras.mixed_precision.LossScaleOptimizer):
            optimizer._loss_scale.current_loss_scale.assign(4.0)  # as if overflows had lowered it


def _model(precision: str | None) -> keras.Model:
    keras.utils.set_random_seed(0)
    with precision_policy(precision):
        model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(name="flatten"),
                                  keras.layers.Dense(48, activation="relu", name="hidden"),
                                  keras.layers.Dense(10, name="output", dtype="float32")], name="small")
        model = lt.wrap(model)
        model.compile(keras.optimizers.Adam(3e-3), metrics=["accuracy"],
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def main(root: str, variant: str) -> None:
    precision = variant if variant.startswith("mixed") else None
    if variant == "mirrored":
        tf.config.set_logical_device_configuration(
            tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * 2)
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        assert strategy.num_replicas_in_sync == 2
    else:
        strategy = tf.distribute.get_strategy()
    tf.config.experimental.enable_op_determinism()
    x, y = synthetic_images(TRAIN + 60, 0)
    x = x.astype(np.float32) / 255.0
    test = (x[TRAIN:], y[TRAIN:])
    with strategy.scope():
        model = _model(precision)
    imp = lt.LotteryTicket(root, levels=LEVELS, epochs_per_level=2, rate=0.5, output_rate=0.2, rewind="2it",
                           test_data=test)
    scales = LossScaleAtLevelStart(imp.epochs_per_level)
    dataset = tf.data.Dataset.from_tensor_slices((x[:TRAIN], y[:TRAIN])).batch(BATCH)
    model.fit(dataset, epochs=imp.total_epochs, validation_data=test, callbacks=[scales, imp], verbose=0)
    json.dump({"levels": sorted(imp.results), "loss_scales": scales.scales}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
