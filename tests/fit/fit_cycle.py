"""One IMP cycle through lottery_tf.api inside model.fit, for the strategy tests.

Imported by test_fit_strategies.py (default strategy) and run as a script
there under MirroredStrategy on 2 logical CPUs, which must be configured
before TensorFlow initialises, hence a separate process.
"""
import json
import sys

import numpy as np
import tensorflow as tf
import tf_keras as keras

MODELS = ("sequential", "functional", "lenet_300_100")
RATE, OUTPUT_RATE, REWIND_STEP, BATCH = 0.5, 0.2, 3, 16


def build(kind: str) -> keras.Model:
    """A seeded Sequential, functional (conv + dense) or zoo model."""
    keras.utils.set_random_seed(0)
    if kind == "sequential":
        return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                                 keras.layers.Dense(32, activation="relu"), keras.layers.Dense(10)])
    if kind == "functional":
        inputs = keras.Input((28, 28, 1))
        hidden = keras.layers.Conv2D(4, 3, strides=2, activation="relu")(inputs)
        hidden = keras.layers.Dense(16, activation="relu")(keras.layers.Flatten()(hidden))
        return keras.Model(inputs, keras.layers.Dense(10, name="logits")(hidden))
    from lottery_tf.models.registry import build_model
    return build_model(kind, (28, 28, 1), 10, seed=0)


def data(count: int = 96):
    rng = np.random.default_rng(0)
    return rng.normal(size=(count, 28, 28, 1)).astype(np.float32), rng.integers(0, 10, count)


def cycle(kind: str, strategy: tf.distribute.Strategy) -> dict:
    """Level 0, prune, rewind, level 1; returns what the tests check."""
    from lottery_tf import api as lt
    from lottery_tf.pruning import tfmot_adapter

    x, y = data()
    with strategy.scope():
        model = lt.wrap(build(kind))
        model.compile(keras.optimizers.Adam(lt.ResumableSchedule(1e-2)), metrics=["accuracy"],
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rewind = lt.RewindCallback(step=REWIND_STEP)
    fit = dict(batch_size=BATCH, epochs=2, shuffle=False, verbose=0)
    model.fit(x, y, callbacks=[lt.PruningStep(), rewind], **fit)
    masks = lt.prune(model, rate=RATE, output_rate=OUTPUT_RATE)
    start = lt.rewind(model, rewind)
    at_start = tfmot_adapter.get_weights(model)
    survivors_equal = all(np.array_equal(at_start[f"{n}/kernel"], rewind.weights[f"{n}/kernel"] * m)
                          for n, m in masks.items())
    others_equal = all(np.array_equal(value, rewind.weights[name]) for name, value in at_start.items()
                       if name.rsplit("/", 1)[0] not in masks)
    recorder = lt.LevelRecorder(test_data=(x[:32], y[:32]))
    model.fit(x, y, callbacks=[lt.PruningStep(), recorder], validation_data=(x[:32], y[:32]), **fit)
    kernels = tfmot_adapter.prunable_kernels(model)
    kinds = lt.layer_kinds(model)
    return {
        "start": start, "curve_steps": [point["step"] for point in recorder.curve],
        "early_stop_step": recorder.summary()["early_stop_step"],
        "survivors_equal": survivors_equal, "others_equal": others_equal,
        "pruned_nonzero": int(sum(np.count_nonzero(kernels[n][m == 0]) for n, m in masks.items())),
        "kept": {n: int(m.sum()) for n, m in masks.items()},
        "sizes": {n: int(m.size) for n, m in masks.items()}, "kinds": kinds,
        "weights_end": {n: k.tolist() for n, k in kernels.items()},
        "masks": {n: m.astype(int).tolist() for n, m in masks.items()},
    }


if __name__ == "__main__":  # python fit_cycle.py mirrored: every model under MirroredStrategy
    tf.config.set_logical_device_configuration(
        tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * 2)
    tf.config.experimental.enable_op_determinism()
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert strategy.num_replicas_in_sync == 2
    json.dump({kind: cycle(kind, strategy) for kind in MODELS}, sys.stdout)
