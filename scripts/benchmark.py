"""Training speed of lottery_tf against a bare training loop, measured in one run.

For each model it times, on the same in-memory data and batch size:
  bare        a tf.function(jit_compile=True) loop of the plain Keras model (the floor),
  imp         lottery_tf's Trainer on the tfmot-wrapped model (masks, callbacks), no evaluation,
  imp_eval    the same with validation on 5,000 examples every 100 iterations (and the
              10,000 test examples every 1,000 and wherever validation loss improves),
each in `--rounds` interleaved rounds. Ratios are imp / bare and imp_eval / bare
steps per second within a round; the table shows the median over rounds, the
peak memory of the process, and a full level's projected wall time (the measured
fixed cost of a level plus the configs' iterations at the imp_eval rate).
Prints a table, writes JSON.

  python scripts/benchmark.py --models=lenet_300_100,conv2,resnet20 --out=benchmark.json
"""
import json
import resource
import statistics
import sys
import time

import numpy as np
import tensorflow as tf
import tf_keras as keras
from absl import app, flags

import lottery_tf  # noqa: F401  (sets the legacy-Keras switch before TensorFlow loads)
from lottery_tf.data.pipeline import train_dataset
from lottery_tf.data.splits import Splits
from lottery_tf.experiments.config import base_config
from lottery_tf.models import build_model, prunable_layers
from lottery_tf.pruning import masks as mask_lib
from lottery_tf.pruning import tfmot_adapter
from lottery_tf.training.loop import LoopSpec, PausingCallback, Trainer
from lottery_tf.training.optimizers import make_optimizer

FLAGS = flags.FLAGS
flags.DEFINE_string("models", "lenet_300_100,conv2,resnet20", "Models to time.")
flags.DEFINE_integer("steps", None, "Timed iterations per measurement (after warm-up); "
                     "default per model (2000 LeNet, 100 Conv-2 and ResNet-20), a multiple of 100.")
flags.DEFINE_integer("rounds", 3, "Interleaved repetitions; the table shows medians.")
flags.DEFINE_string("out", "benchmark.json", "Where to write the JSON results.")

SETTINGS = {  # model: (input shape, batch size, timed steps, iterations per level in the configs)
    "lenet_300_100": ((28, 28, 1), 60, 2000, 50_000),
    "conv2": ((32, 32, 3), 60, 100, 20_000),
    "resnet20": ((32, 32, 3), 128, 100, 30_000),
}
TRAIN_EXAMPLES, VALIDATION_EXAMPLES, TEST_EXAMPLES = 55_000, 5_000, 10_000


def synthetic_splits(shape) -> Splits:
    """Random data of the right shapes: speed does not depend on the pixel values."""
    rng = np.random.default_rng(0)

    def split(count):
        return (rng.standard_normal((count, *shape), dtype=np.float32),
                rng.integers(0, 10, count).astype(np.int32))

    (train_x, train_y), (val_x, val_y), (test_x, test_y) = (
        split(TRAIN_EXAMPLES), split(VALIDATION_EXAMPLES), split(TEST_EXAMPLES))
    return Splits(train_x, train_y, val_x, val_y, test_x, test_y)


def bare_steps_per_second(name, shape, batch, splits, steps) -> float:
    """The floor: a plain model, one XLA-compiled step, the loop inside tf.function."""
    keras.backend.clear_session()
    model = build_model(name, shape, 10)
    optimizer = keras.optimizers.Adam(1e-3)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function(jit_compile=True)
    def step(images, labels):
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(images, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables),
                                      model.trainable_variables, strict=False))

    @tf.function
    def loop(iterator, count):
        for _ in tf.range(count):
            step(*next(iterator))

    dataset = train_dataset(splits.train_x, splits.train_y, batch, 0, 0, steps + 100)
    iterator = iter(dataset)
    loop(iterator, tf.constant(100, tf.int64))  # compile and warm up
    started = time.perf_counter()
    loop(iterator, tf.constant(steps, tf.int64))
    return steps / (time.perf_counter() - started)


class _Stopwatch(PausingCallback):
    """Times the iterations between two pauses (evaluations in between count)."""

    def __init__(self, first: int, last: int):
        super().__init__()
        self.first, self.last, self.times = first, last, {}

    def pause_steps(self, start, end):
        return [self.first, self.last]

    def on_train_batch_end(self, batch, logs=None):
        if batch in (self.first, self.last):
            self.times[batch] = time.perf_counter()


def imp_steps_per_second(name, shape, batch, splits, steps, eval_every) -> float:
    """lottery_tf's Trainer on the wrapped model at 50% sparsity.

    The first 100 iterations compile and warm up; the timed window runs from
    step 100 to 100 + steps, and ends one step before the level's final evaluation.
    """
    keras.backend.clear_session()
    config = base_config()
    model = build_model(name, shape, 10)
    model = tfmot_adapter.wrap(model, prunable_layers(model))
    kernels = tfmot_adapter.prunable_kernels(model)
    rates = {layer: 0.5 for layer in kernels}
    tfmot_adapter.set_masks(model, mask_lib.prune_layerwise(kernels, mask_lib.ones_like(kernels), rates))
    optimizer = make_optimizer(config.training, 1000, 0)
    spec = LoopSpec(batch_size=batch, start_step=0, end_step=100 + steps + 1, data_seed=0,
                    eval_every=eval_every, test_every=1000, eval_batch_size=VALIDATION_EXAMPLES)
    stopwatch = _Stopwatch(100, 100 + steps)
    Trainer(model, optimizer, tf.distribute.get_strategy(), splits, spec).run([stopwatch])
    return steps / (stopwatch.times[100 + steps] - stopwatch.times[100])


def main(argv):
    del argv
    results = {"rounds": FLAGS.rounds, "models": {}}
    for name in FLAGS.models.split(","):
        shape, batch, default_steps, paper_steps = SETTINGS[name]
        steps = FLAGS.steps or default_steps
        splits = synthetic_splits(shape)
        rounds = []
        for _ in range(FLAGS.rounds):  # interleaved, so a slow spell of the machine hits all three
            started = time.perf_counter()
            rates = {"bare": bare_steps_per_second(name, shape, batch, splits, steps),
                     "imp": imp_steps_per_second(name, shape, batch, splits, steps, 0)}
            level_started = time.perf_counter()
            rates["imp_eval"] = imp_steps_per_second(name, shape, batch, splits, steps, 100)
            rates["level_seconds"] = time.perf_counter() - level_started
            rates["round_seconds"] = time.perf_counter() - started
            rounds.append(rates)
        median = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
        imp_ratio = statistics.median(r["imp"] / r["bare"] for r in rounds)
        eval_ratio = statistics.median(r["imp_eval"] / r["bare"] for r in rounds)
        # A full level: the measured fixed cost (build, wrap, compile) plus the paper's
        # iterations at the measured rate with validation.
        fixed = median["level_seconds"] - (steps + 101) / median["imp_eval"]
        projected = fixed + paper_steps / median["imp_eval"]
        results["models"][name] = {
            "batch_size": batch, "timed_steps": steps, "rounds": rounds,
            "bare_steps_per_second": median["bare"], "imp_steps_per_second": median["imp"],
            "imp_eval_steps_per_second": median["imp_eval"],
            "imp_over_bare_ratio": imp_ratio, "imp_eval_over_bare_ratio": eval_ratio,
            "paper_level_steps": paper_steps,
            "projected_level_seconds": projected,
        }
        print(f"{name:>14} batch {batch:>3} | bare {median['bare']:7.1f} it/s | imp {median['imp']:7.1f} "
              f"it/s (ratio {imp_ratio:.2f}) | imp+eval {median['imp_eval']:7.1f} it/s (ratio "
              f"{eval_ratio:.2f}) | {paper_steps} it level ~{projected / 60:.1f} min")
        sys.stdout.flush()
    results["peak_memory_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {results['peak_memory_mib']:.0f} MiB")
    with open(FLAGS.out, "w") as handle:
        json.dump(results, handle, indent=2)


if __name__ == "__main__":
    app.run(main)
