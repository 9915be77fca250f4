"""Iterative magnitude pruning with rewinding inside an ordinary `model.fit`, with a reinit control.

The README's script ("Lottery tickets in your own model.fit"), run by
tests/fit/test_example.py on tiny data and on real MNIST with:

    python examples/fit_imp.py --root=/tmp/fit_runs --levels=7 --steps=9000

Then `python -m lottery_tf report --root=/tmp/fit_runs` and `export` read the results.
"""
import argparse

import tensorflow as tf
import tf_keras as keras

from lottery_tf import api as lt
from lottery_tf.data.splits import load_splits
from lottery_tf.models.registry import build_model

BATCH, EVAL_EVERY = 60, 250
CONTROL_SEED = 1000  # the reinit control's initialization, the same at every level (as `branch reinit`)
SETTINGS = {"model.name": "lenet_300_100", "dataset.name": "mnist", "pruning.strategy": "global",
            "pruning.rate": 0.2, "pruning.output_rate": 0.1, "training.batch_size": BATCH}


def train_level(model, data, make_epoch, start, steps, callbacks):
    """One level's fit from global step `start`: batches resume there, one evaluation per 250 steps."""
    model.fit(lt.batches_from_step(make_epoch, start, EVAL_EVERY), steps_per_epoch=EVAL_EVERY,
              epochs=(steps - start) // EVAL_EVERY, validation_data=(data.val_x, data.val_y),
              validation_batch_size=1000, callbacks=[lt.PruningStep(), *callbacks], verbose=0)


def fresh_model(seed):
    model = lt.wrap(build_model("lenet_300_100", (28, 28, 1), 10, seed=seed))
    model.compile(keras.optimizers.Adam(1.2e-3), metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def main(root, data_dir=None, levels=7, steps=9000, validation=5000, control=True):
    data = load_splits("mnist", data_dir, validation, verify=data_dir is None)  # own files: unchecked
    x, y, n = tf.constant(data.train_x), tf.constant(data.train_y), len(data.train_y)

    def make_epoch(epoch):  # one epoch's batches, shuffled by the epoch number
        seed = tf.stack([tf.constant(0, tf.int64), epoch])
        order = tf.random.experimental.stateless_shuffle(tf.range(n), seed=seed)
        return (tf.data.Dataset.from_tensor_slices(order).batch(BATCH, drop_remainder=True)
                .map(lambda index: (tf.gather(x, index), tf.gather(y, index))))

    settings = {**SETTINGS, "dataset.validation_size": validation, "training.train_steps": f"{steps}it",
                "training.eval_every": f"{EVAL_EVERY}it"}
    save = dict(config=settings, data_fingerprint=data.fingerprint())
    model, rewind, rows = fresh_model(seed=0), lt.RewindCallback(step=0), []
    for level in range(levels + 1):
        start = 0
        if level:
            lt.prune(model, rate=0.2, output_rate=0.1)      # global ranking, output layer at 10%
            start = lt.rewind(model, rewind)                # survivors back to step 0, fresh Adam
        recorder = lt.LevelRecorder(test_data=(data.test_x, data.test_y))
        train_level(model, data, make_epoch, start, steps, [rewind, recorder])
        ticket = lt.save_level(root, level, model, recorder, rewind=rewind, **save)
        row = [level, ticket["percent_remaining"], ticket["early_stop_test_accuracy"],
               ticket["early_stop_step"]]
        if control and level:  # the same mask on a fresh random initialization
            reinit = fresh_model(seed=CONTROL_SEED)
            lt.set_masks(reinit, lt.get_masks(model))
            recorder = lt.LevelRecorder(test_data=(data.test_x, data.test_y))
            train_level(reinit, data, make_epoch, 0, steps, [recorder])
            reinit_metrics = lt.save_level(root, level, reinit, recorder, control="reinit", seed=CONTROL_SEED,
                                           **save)
            row += [reinit_metrics["early_stop_test_accuracy"], reinit_metrics["early_stop_step"]]
        rows.append(row)
        print(" | ".join(str(round(value, 4)) for value in row), flush=True)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True)
    parser.add_argument("--data_dir", default=None)
    parser.add_argument("--levels", type=int, default=7)
    parser.add_argument("--steps", type=int, default=9000)
    parser.add_argument("--validation", type=int, default=5000)
    arguments = parser.parse_args()
    main(arguments.root, arguments.data_dir, arguments.levels, arguments.steps, arguments.validation)
