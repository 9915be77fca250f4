"""Step time of IMP in one `model.fit` (`LotteryTicket`) against the same model's plain `fit`.

Three variants of LeNet-300-100 on the same arrays (Fashion-MNIST from the
project's cache, else synthetic images of its shape), the same batch, the same
compile and the same validation set, in one process:
  plain     the unwrapped tf_keras model, `fit` with no callback (no lottery_tf at all),
  wrapped   the model in tfmot's wrappers with `PruningStep` (the masks' own cost),
  callback  the wrapped model with `LotteryTicket` (levels of `--epochs_per_level`
            epochs: recording, storing, pruning and rewinding at level ends).

The three fits run in turns, one epoch each (scripts/timing_turns.py), so a slow
spell of a shared machine hits neighbouring epochs alike. An epoch's time runs
from one epoch end to the next: training, validation and, for `callback`, the
level-end work. The first epoch (tracing) is left out. The ratio to `plain` is
the summed epoch time of the same epochs; level-end epochs are also shown apart.

  nice -n 10 python scripts/bench_fit_callback.py --out=/tmp/bench_fit_callback.json
"""
import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
import tf_keras as keras

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing_turns import run_in_turns  # noqa: E402

from lottery_tf import api as lt  # noqa: E402
from lottery_tf.models.registry import build_model  # noqa: E402
from lottery_tf.testing import synthetic_images  # noqa: E402

VARIANTS = ("plain", "wrapped", "callback")


class EpochTurns(keras.callbacks.Callback):
    """Hands the turn on at every epoch end (listed last, so level-end work is inside the epoch)."""

    def __init__(self, variant):
        super().__init__()
        self.variant = variant

    def on_epoch_end(self, epoch, logs=None):
        self.variant.boundary()


def _data(train: int):
    try:
        from lottery_tf.data.splits import load_splits
        data = load_splits("fashion_mnist", validation_size=5000, normalization="unit_range")
        return (data.train_x[:train], data.train_y[:train]), (data.val_x, data.val_y), "fashion_mnist"
    except Exception:  # no cached Fashion-MNIST: images of its shape
        x, y = synthetic_images(train + 5000, 0)
        x = x.astype(np.float32) / 255.0
        return (x[:train], y[:train]), (x[train:], y[train:]), "synthetic"


def _model(wrapped: bool) -> keras.Model:
    model = build_model("lenet_300_100", (28, 28, 1), 10, seed=0)
    model = lt.wrap(model) if wrapped else model
    model.compile(keras.optimizers.Adam(1.2e-3), metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def _training(name: str, train, validation, batch: int, levels: int, epochs_per_level: int, root: str):
    def fit(variant):
        callbacks = {"plain": [], "wrapped": [lt.PruningStep()],
                     "callback": [lt.LotteryTicket(root, levels=levels, epochs_per_level=epochs_per_level,
                                                   rate=0.2, output_rate=0.1, tensorboard=False)]}[name]
        model = _model(name != "plain")
        model.fit(*train, batch_size=batch, epochs=(levels + 1) * epochs_per_level,
                  validation_data=validation, validation_batch_size=1000,
                  callbacks=[*callbacks, EpochTurns(variant)], verbose=0)
    return fit


def main(train: int, batch: int, levels: int, epochs_per_level: int, out: str | None) -> dict:
    train_data, validation, source = _data(train)
    steps = -(-len(train_data[1]) // batch)
    epochs = (levels + 1) * epochs_per_level
    with tempfile.TemporaryDirectory() as root:
        trainings = {name: _training(name, train_data, validation, batch, levels, epochs_per_level, root)
                     for name in VARIANTS}
        variants = run_in_turns(trainings, rounds=epochs - 1, label="fit")
    seconds = {name: variant.segment_seconds for name, variant in variants.items()}
    # Segment i is epoch i + 1 (epoch 0 traces); epoch e ends a level when (e + 1) % epochs_per_level == 0.
    level_end = [(i + 2) % epochs_per_level == 0 for i in range(epochs - 1)]
    summary = {"data": source, "train_examples": len(train_data[1]), "batch": batch,
               "steps_per_epoch": steps, "epochs": epochs, "epochs_per_level": epochs_per_level,
               "levels": levels, "epoch_seconds": {name: [round(s, 4) for s in values]
                                                   for name, values in seconds.items()},
               "setup_seconds": {name: round(variant.setup_seconds, 2) for name, variant in variants.items()}}
    for name in VARIANTS:
        summary[f"{name}_ms_per_step"] = round(1000 * sum(seconds[name]) / (steps * (epochs - 1)), 4)
        summary[f"{name}_ratio"] = round(sum(seconds[name]) / sum(seconds["plain"]), 3)
        inside = [s for s, end in zip(seconds[name], level_end, strict=True) if not end]
        plain_inside = [s for s, end in zip(seconds["plain"], level_end, strict=True) if not end]
        summary[f"{name}_inside_level_ratio"] = round(sum(inside) / sum(plain_inside), 3)
        ends = [s - statistics.median(inside) for s, end in zip(seconds[name], level_end, strict=True) if end]
        summary[f"{name}_level_end_extra_seconds"] = round(statistics.mean(ends), 3) if ends else None
    print(f"LeNet-300-100 on {source}, {len(train_data[1])} examples, batch {batch}, {steps} steps per epoch "
          f"(incl. validation on {len(validation[1])}); {epochs} epochs in turns, levels of "
          f"{epochs_per_level}; first epoch left out")
    for name in VARIANTS:
        print(f"  {name:9s} {summary[f'{name}_ms_per_step']:.3f} ms/step  ratio to plain "
              f"{summary[f'{name}_ratio']:.3f} (inside levels {summary[f'{name}_inside_level_ratio']:.3f}; "
              f"a level end adds {summary[f'{name}_level_end_extra_seconds']} s)")
    if out:
        with open(out, "w") as handle:
            json.dump(summary, handle, indent=2)
    return summary


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=55000)
    parser.add_argument("--batch", type=int, default=60)
    parser.add_argument("--levels", type=int, default=2)
    parser.add_argument("--epochs_per_level", type=int, default=5)
    parser.add_argument("--out", default=None)
    arguments = parser.parse_args()
    main(arguments.train, arguments.batch, arguments.levels, arguments.epochs_per_level, arguments.out)
