"""tf_keras.applications networks: lottery_tf's training step against the same model in plain
`model.fit`, and start-up time, measured in one run.

For MobileNetV2 (alpha 0.35) and ResNet50V2 at 32x32x3, batch 60, on Fashion-MNIST
resized to 32x32 and repeated over 3 channels (the project's cache; synthetic
images of that shape without it):
  plain      the model as built, compiled and trained by `model.fit` (no lottery_tf),
  lottery_tf the model in tfmot's wrappers at 50% sparsity, trained by lottery_tf's
             loop with `runtime.jit_compile` decided by the project's rule.
Both take turns, one segment each per round (scripts/timing_turns.py), so a slow
spell of a shared machine hits both alike. Start-up is build (+ wrap) + compile +
the first step (tracing), timed apart; steady steps follow a warm-up segment.

  nice -n 5 python scripts/benchmark_applications.py --out=/tmp/benchmark_applications.json
"""
import json
import statistics
import time

import numpy as np
import tensorflow as tf
import tf_keras as keras
from absl import app, flags
from timing_turns import run_in_turns  # this folder (run as a script)

import lottery_tf  # noqa: F401  (sets the legacy-Keras switch before TensorFlow loads)
from lottery_tf.config import base_config
from lottery_tf.data.splits import Splits
from lottery_tf.testing import wrapped_and_pruned
from lottery_tf.training.loop import LoopSpec, PausingCallback, Trainer
from lottery_tf.training.optimizers import make_optimizer
from lottery_tf.training.xla_choice import choose_jit_compile

FLAGS = flags.FLAGS
flags.DEFINE_string("models", "mobilenet_v2,resnet50_v2", "Models to time.")
flags.DEFINE_integer("rounds", 3, "Timed rounds (one segment per variant each).")
flags.DEFINE_integer("segment", 30, "Steps per timed segment.")
flags.DEFINE_integer("examples", 6000, "Training examples (resized once, before timing).")
flags.DEFINE_string("out", "benchmark_applications.json", "Where to write the JSON results.")

SHAPE, BATCH, WARM_UP = (32, 32, 3), 60, 10
BUILDERS = {
    "mobilenet_v2": lambda: keras.applications.MobileNetV2(input_shape=SHAPE, alpha=0.35, weights=None,
                                                           classes=10, classifier_activation=None),
    "resnet50_v2": lambda: keras.applications.ResNet50V2(input_shape=SHAPE, weights=None, classes=10,
                                                         classifier_activation=None),
}


def fashion_32(count: int) -> tuple[np.ndarray, np.ndarray, str]:
    """Fashion-MNIST training images at 32x32x3 in [0, 1] (synthetic without the cache)."""
    try:
        from lottery_tf.data.splits import load_splits
        data = load_splits("fashion_mnist", validation_size=5000, normalization="unit_range")
        images, labels, source = data.train_x[:count], data.train_y[:count], "fashion_mnist"
    except Exception:
        rng = np.random.default_rng(0)
        images, labels, source = rng.random((count, 28, 28, 1), np.float32), rng.integers(0, 10, count), \
            "synthetic"
    resized = tf.image.resize(images, SHAPE[:2]).numpy()
    return np.repeat(resized, 3, axis=-1).astype(np.float32), np.asarray(labels, np.int32), source


class StepTurns(keras.callbacks.Callback):
    """Plain fit: hands the turn on at the boundaries (counted in steps from the first)."""

    def __init__(self, variant, boundaries, startup):
        super().__init__()
        self.variant, self.boundaries, self.startup, self.step = variant, boundaries, startup, 0

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.step == 1:
            self.startup["first_step"] = time.perf_counter() - self.startup["t0"] - self.startup["build"]
        if self.step in self.boundaries:
            self.variant.boundary()


class LoopTurns(PausingCallback):
    """lottery_tf's loop: the same, through its pause points."""

    def __init__(self, variant, boundaries, startup):
        super().__init__()
        self.variant, self.boundaries, self.startup = variant, boundaries, startup

    def pause_steps(self, start, end):
        return [1, *self.boundaries]

    def on_train_batch_end(self, step, logs=None):
        if step == 1:
            self.startup["first_step"] = time.perf_counter() - self.startup["t0"] - self.startup["build"]
        if step in self.boundaries:
            self.variant.boundary()


def plain(name, images, labels, boundaries, startup):
    def train(variant):
        startup["t0"] = time.perf_counter()
        model = BUILDERS[name]()
        model.compile(keras.optimizers.Adam(1e-3),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        startup["build"] = time.perf_counter() - startup["t0"]
        dataset = tf.data.Dataset.from_tensor_slices((images, labels)).repeat().batch(BATCH).prefetch(2)
        model.fit(dataset, steps_per_epoch=boundaries[-1], epochs=1, verbose=0,
                  callbacks=[StepTurns(variant, boundaries, startup)])
    return train


def ours(name, images, labels, boundaries, startup, jit):
    def train(variant):
        startup["t0"] = time.perf_counter()
        model = wrapped_and_pruned(BUILDERS[name](), 0.5)
        jit["jit_compile"], jit["why"] = choose_jit_compile(None, model, tf.distribute.get_strategy())
        optimizer = make_optimizer(base_config().training, 1000, 0)
        startup["build"] = time.perf_counter() - startup["t0"]
        splits = Splits(images, labels, images[:BATCH], labels[:BATCH], images[:BATCH], labels[:BATCH])
        spec = LoopSpec(batch_size=BATCH, start_step=0, end_step=boundaries[-1], data_seed=0, eval_every=0,
                        test_every=0, eval_batch_size=BATCH, jit_compile=jit["jit_compile"])
        Trainer(model, optimizer, tf.distribute.get_strategy(), splits, spec).run(
            [LoopTurns(variant, boundaries, startup)])
    return train


def measure(name, images, labels):
    # The first boundary ends the warm-up (the variant's set-up time), then one per round.
    boundaries = [WARM_UP + FLAGS.segment * r for r in range(FLAGS.rounds + 1)]
    startup = {"plain": {}, "lottery_tf": {}}
    jit = {}
    trainings = {"plain": plain(name, images, labels, boundaries, startup["plain"]),
                 "lottery_tf": ours(name, images, labels, boundaries, startup["lottery_tf"], jit)}
    variants = run_in_turns(trainings, FLAGS.rounds, name)
    ms = {key: [1000 * s / FLAGS.segment for s in variant.segment_seconds]
          for key, variant in variants.items()}
    ratios = [mine / theirs for mine, theirs in zip(ms["lottery_tf"], ms["plain"], strict=True)]
    return {"ms_per_step": {key: [round(v, 1) for v in values] for key, values in ms.items()},
            "ratio_to_plain": round(statistics.median(ratios), 3),
            "startup_seconds": {key: {part: round(value, 2) for part, value in parts.items() if part != "t0"}
                                for key, parts in startup.items()},
            "jit_compile": jit["jit_compile"], "why": jit["why"]}


def main(argv):
    del argv
    tf.config.experimental.enable_op_determinism()  # as the command line runs
    images, labels, source = fashion_32(FLAGS.examples)
    results = {"data": source, "batch": BATCH, "shape": SHAPE, "models": {}}
    print(f"{source} at 32x32x3, batch {BATCH}, {FLAGS.rounds} rounds of {FLAGS.segment} steps in turns")
    for name in FLAGS.models.split(","):
        if name not in BUILDERS:
            raise app.UsageError(f"Unknown model {name!r}; choose from {', '.join(BUILDERS)}.")
        keras.backend.clear_session()
        row = results["models"][name] = measure(name, images, labels)
        starts = {key: sum(parts.values()) for key, parts in row["startup_seconds"].items()}
        medians = {key: statistics.median(values) for key, values in row["ms_per_step"].items()}
        print(f"{name:14s} ms/step plain {medians['plain']:.1f} lottery_tf "
              f"{medians['lottery_tf']:.1f}  ratio {row['ratio_to_plain']:.3f}  "
              f"start-up (build+compile+first step) plain {starts['plain']:.1f} s, lottery_tf "
              f"{starts['lottery_tf']:.1f} s  [jit_compile={row['jit_compile']}]", flush=True)
    with open(FLAGS.out, "w") as handle:
        json.dump(results, handle, indent=2)


if __name__ == "__main__":
    app.run(main)
