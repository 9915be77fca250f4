"""Step time of IMP in one `model.fit` (`LotteryTicket`) against the same model's plain `fit`.

Three variants of LeNet-300-100 on the same arrays (Fashion-MNIST from the
project's cache, else synthetic images of its shape), the same batch and the
same validation set, in one process:
  plain     the unwrapped tf_keras model, `fit` with no callback (no lottery_tf at all),
  wrapped   the model in tfmot's wrappers with `PruningStep` (the masks' own cost),
  callback  the wrapped model with `LotteryTicket` (levels of `--epochs_per_level`
            epochs: recording, storing, pruning and rewinding at level ends).

Each round builds and fits every variant once, in turn, so a slow spell of a
shared machine hits neighbouring runs alike. An epoch's time is from one epoch
end to the next (training plus validation; the first epoch, which traces, is
left out); a variant's step time is its mean epoch time (level ends included)
over the steps per epoch, and `steady` the same from the median epoch (a level's
inside). Ratios to `plain` are taken within each round; their medians are printed.

  nice -n 10 python scripts/bench_fit_callback.py --rounds=3 --out=/tmp/bench_fit_callback.json
"""
import argparse
import json
import statistics
import tempfile
import time

import numpy as np
import tf_keras as keras

from lottery_tf import api as lt
from lottery_tf.models.registry import build_model
from lottery_tf.testing import synthetic_images


class EpochClock(keras.callbacks.Callback):
    """Wall time between consecutive epoch ends."""

    def __init__(self):
        super().__init__()
        self.ends: list[float] = []

    def on_epoch_end(self, epoch, logs=None):
        self.ends.append(time.perf_counter())

    def epoch_seconds(self) -> list[float]:
        return [later - earlier for earlier, later in zip(self.ends, self.ends[1:], strict=False)]


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


def _fit(variant: str, train, validation, batch: int, levels: int, epochs_per_level: int,
         root: str) -> list[float]:
    clock = EpochClock()
    callbacks = {"plain": [], "wrapped": [lt.PruningStep()],
                 "callback": [lt.LotteryTicket(root, levels=levels, epochs_per_level=epochs_per_level,
                                               rate=0.2, output_rate=0.1, tensorboard=False)]}[variant]
    model = _model(variant != "plain")
    model.fit(*train, batch_size=batch, epochs=(levels + 1) * epochs_per_level, validation_data=validation,
              validation_batch_size=1000, callbacks=[*callbacks, clock], verbose=0)
    return clock.epoch_seconds()


def main(rounds: int, train: int, batch: int, levels: int, epochs_per_level: int, out: str | None) -> dict:
    train_data, validation, source = _data(train)
    steps = -(-len(train_data[1]) // batch)
    results = {variant: [] for variant in ("plain", "wrapped", "callback")}
    steady = {variant: [] for variant in results}
    for _ in range(rounds):
        for variant in results:
            with tempfile.TemporaryDirectory() as root:
                seconds = _fit(variant, train_data, validation, batch, levels, epochs_per_level, root)
            results[variant].append(1000 * statistics.mean(seconds) / steps)
            steady[variant].append(1000 * statistics.median(seconds) / steps)
    summary = {"data": source, "train_examples": len(train_data[1]), "batch": batch, "steps_per_epoch": steps,
               "epochs": (levels + 1) * epochs_per_level, "rounds": rounds,
               "ms_per_step": {variant: [round(v, 3) for v in values] for variant, values in results.items()},
               "steady_ms_per_step": {variant: [round(v, 3) for v in values]
                                      for variant, values in steady.items()}}
    for variant in ("wrapped", "callback"):
        for key, table in (("ratio", results), ("steady_ratio", steady)):
            summary[f"{variant}_{key}"] = round(statistics.median(
                mine / plain for mine, plain in zip(table[variant], table["plain"], strict=True)), 3)
    print(f"LeNet-300-100 on {source}, {len(train_data[1])} examples, batch {batch}, {steps} steps per "
          f"epoch (incl. validation on {len(validation[1])}), median epoch over {summary['epochs'] - 1}")
    for variant, values in summary["ms_per_step"].items():
        ratio = summary.get(f"{variant}_ratio", 1.0)
        steady_ratio = summary.get(f"{variant}_steady_ratio", 1.0)
        print(f"  {variant:9s} ms/step by round {values} (steady {summary['steady_ms_per_step'][variant]})"
              f"  ratio to plain {ratio:.3f} (steady {steady_ratio:.3f})")
    if out:
        with open(out, "w") as handle:
            json.dump(summary, handle, indent=2)
    return summary


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--train", type=int, default=15000)
    parser.add_argument("--batch", type=int, default=60)
    parser.add_argument("--levels", type=int, default=2)
    parser.add_argument("--epochs_per_level", type=int, default=2)
    parser.add_argument("--out", default=None)
    arguments = parser.parse_args()
    main(arguments.rounds, arguments.train, arguments.batch, arguments.levels, arguments.epochs_per_level,
         arguments.out)
