"""IMP with rewinding in one `model.fit` per run, its reinit control, and the data replayed exactly.

The long form of README.md's script ("Lottery tickets in your own model.fit"):
LeNet-300-100 trained with `LotteryTicket`, its data given as `make_epoch(epoch)`
so that every rewound level sees again, from the rewind step on, the batches
the dense network saw there; then a second `fit` trains each level's mask from
a fresh initialization (the reinit control), on the same batches from step 0.
Prints one row per level: percent of weights left, test accuracy at the early
stop and that step, for the ticket and the control. `tests/fit/test_fit_example.py`
runs it on tiny MNIST files, then `report` and `export` on its results.

    python examples/fit_imp.py --root=runs_fit --levels=8 --steps=9000
    python examples/fit_imp.py --root=runs_fashion --dataset=fashion_mnist --levels=8 --rewind=500

Then `python -m lottery_tf report --root=runs_fit` and `export` read the results.
"""
import argparse

import tensorflow as tf
import tf_keras as keras

from lottery_tf import api as lt
from lottery_tf.data.splits import load_splits
from lottery_tf.models.registry import build_model

BATCH, EVAL_EVERY = 60, 250
CONTROL_SEED = 1000  # the reinit control's initialization, the same at every level (as `branch reinit`)


def fresh_model(seed):
    model = lt.wrap(build_model("lenet_300_100", (28, 28, 1), 10, seed=seed))
    model.compile(keras.optimizers.Adam(1.2e-3), metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def epochs_of(x, y):
    """make_epoch(epoch): one pass over (x, y) in batches, shuffled by the epoch number."""
    x, y, count = tf.constant(x), tf.constant(y), len(y)

    def make_epoch(epoch):
        seed = tf.stack([tf.constant(0, tf.int64), epoch])
        order = tf.random.experimental.stateless_shuffle(tf.range(count), seed=seed)
        return (tf.data.Dataset.from_tensor_slices(order).batch(BATCH, drop_remainder=True)
                .map(lambda index: (tf.gather(x, index), tf.gather(y, index))))
    return make_epoch


def train(model, run, data, make_epoch):
    model.fit(run.batches(make_epoch, EVAL_EVERY), steps_per_epoch=EVAL_EVERY, epochs=run.total_epochs,
              validation_data=(data.val_x, data.val_y), validation_batch_size=1000, callbacks=[run],
              verbose=0)


def main(root, data_dir=None, levels=7, steps=9000, validation=5000, control=True, dataset="mnist", rewind=0):
    data = load_splits(dataset, data_dir, validation, verify=data_dir is None)  # own files: unchecked
    make_epoch = epochs_of(data.train_x, data.train_y)
    imp = lt.LotteryTicket(root, levels=levels, epochs_per_level=steps // EVAL_EVERY, rate=0.2,
                           output_rate=0.1, rewind=rewind, test_data=(data.test_x, data.test_y),
                           data_fingerprint=data.fingerprint(),
                           config={"dataset.name": dataset, "dataset.validation_size": validation,
                                   "training.batch_size": BATCH})
    train(fresh_model(seed=0), imp, data, make_epoch)
    rows = [[level, m["percent_remaining"], m["early_stop_test_accuracy"], m["early_stop_step"]]
            for level, m in sorted(imp.results.items())]
    if control:  # each level's mask on a fresh random initialization, the same batches from step 0
        reinit = imp.control_run("reinit", seed=CONTROL_SEED)
        train(fresh_model(seed=CONTROL_SEED), reinit, data, make_epoch)
        for row in rows[1:]:
            control_metrics = reinit.results[row[0]]
            row += [control_metrics["early_stop_test_accuracy"], control_metrics["early_stop_step"]]
    print("level | % weights | ticket acc@es | es step" + (" | reinit acc@es | es step" if control else ""))
    for row in rows:
        print(" | ".join(str(round(value, 4)) for value in row), flush=True)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True)
    parser.add_argument("--data_dir", default=None)
    parser.add_argument("--dataset", default="mnist", help="mnist or fashion_mnist")
    parser.add_argument("--levels", type=int, default=7)
    parser.add_argument("--steps", type=int, default=9000, help="iterations per level")
    parser.add_argument("--rewind", type=int, default=0, help="rewind step (0: the initialization)")
    parser.add_argument("--validation", type=int, default=5000)
    arguments = parser.parse_args()
    main(arguments.root, arguments.data_dir, arguments.levels, arguments.steps, arguments.validation,
         dataset=arguments.dataset, rewind=arguments.rewind)
