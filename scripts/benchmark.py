"""Training speed of lottery_tf against a bare training loop, measured in one run.

For each model it times, on the same in-memory data and batch size:
  bare          a tf.function loop around an XLA-compiled step of the plain Keras
                model, fed by the in-memory tf.data pipeline (the floor),
  bare_indexed  the same loop with each batch gathered inside the compiled step
                from the in-memory split, as lottery_tf's Trainer feeds itself
                (the floor without tf.data's per-step cost),
  imp           lottery_tf's Trainer on the tfmot-wrapped model at 50% sparsity (masks,
                callbacks), no evaluation,
  imp_eval      the same with validation on 5,000 examples every 100 iterations and
                the 10,000 test examples every 1,000.

All are built once and then take turns: each trains one segment of iterations
while the others wait, round after round. A slow spell of a shared machine
therefore hits neighbouring segments alike, and each round gives one ratio of
each variant to each floor; the table shows medians over rounds, the process's
peak memory, and a full level's projected wall time (build and compile time plus
the configs' iterations at the imp_eval rate). Prints a table, writes JSON
(every ratio's key contains "ratio").

  python scripts/benchmark.py --models=lenet_300_100,conv2,resnet20 --out=benchmark.json
"""
import json
import resource
import statistics
import sys

import numpy as np
import tensorflow as tf
import tf_keras as keras
from absl import app, flags
from timing_turns import SegmentClock, run_in_turns  # this folder (run as a script)

import lottery_tf  # noqa: F401  (sets the legacy-Keras switch before TensorFlow loads)
from lottery_tf.config import base_config
from lottery_tf.data.pipeline import BatchIndices, as_tensors, train_dataset
from lottery_tf.data.splits import Splits
from lottery_tf.models import build_model
from lottery_tf.testing import wrapped_and_pruned
from lottery_tf.training.loop import LoopSpec, Trainer
from lottery_tf.training.optimizers import make_optimizer

FLAGS = flags.FLAGS
flags.DEFINE_string("models", "lenet_300_100,conv2,resnet20", "Models to time.")
flags.DEFINE_integer("segment", None, "Iterations per timed segment, a multiple of 100; "
                     "default per model (500 LeNet, 100 Conv-2 and ResNet-20).")
flags.DEFINE_integer("rounds", None, "Timed rounds (one segment of each variant); "
                     "default per model (15 LeNet, 3 Conv-2 and ResNet-20).")
flags.DEFINE_string("out", "benchmark.json", "Where to write the JSON results.")

SETTINGS = {  # model: (input shape, batch size, segment, rounds, iterations per level in the configs)
    "lenet_300_100": ((28, 28, 1), 60, 500, 15, 50_000),
    "conv2": ((32, 32, 3), 60, 100, 3, 20_000),
    "resnet20": ((32, 32, 3), 128, 100, 3, 30_000),
}
TRAIN_EXAMPLES, VALIDATION_EXAMPLES, TEST_EXAMPLES = 55_000, 5_000, 10_000
WARM_UP_STEPS = 100  # compile and warm up; not timed
EVAL_EVERY = 100


def synthetic_splits(shape) -> Splits:
    """Random data of the right shapes: speed does not depend on the pixel values."""
    rng = np.random.default_rng(0)

    def split(count):
        return (rng.standard_normal((count, *shape), dtype=np.float32),
                rng.integers(0, 10, count).astype(np.int32))

    (train_x, train_y), (val_x, val_y), (test_x, test_y) = (
        split(TRAIN_EXAMPLES), split(VALIDATION_EXAMPLES), split(TEST_EXAMPLES))
    return Splits(train_x, train_y, val_x, val_y, test_x, test_y)


def bare_training(name, shape, batch, splits, boundaries, indexed=False):
    """The floor: a plain model, one XLA-compiled step, the loop inside tf.function.

    Batches come from the in-memory tf.data pipeline, or with `indexed` are
    gathered inside the step as lottery_tf's Trainer gathers them.
    """

    def train(variant):
        model = build_model(name, shape, 10)
        optimizer = keras.optimizers.Adam(1e-3)
        loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

        def step(images, labels):
            with tf.GradientTape() as tape:
                loss = loss_fn(labels, model(images, training=True))
            optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables),
                                          model.trainable_variables, strict=False))

        if indexed:
            images, labels = as_tensors(splits.train_x, splits.train_y)
            order = BatchIndices(len(splits.train_y), batch, 0)

            @tf.function(jit_compile=True)
            def gathered_step(all_images, all_labels, row):
                step(tf.gather(all_images, row), tf.gather(all_labels, row))

            @tf.function
            def loop_rows(rows):
                for i in tf.range(tf.shape(rows)[0]):
                    gathered_step(images, labels, rows[i])

            def loop(start, count):
                loop_rows(order.rows(start, count))
        else:
            compiled_step = tf.function(step, jit_compile=True)
            iterator = iter(train_dataset(splits.train_x, splits.train_y, batch, 0, 0, boundaries[-1]))

            @tf.function
            def loop_iterator(count):
                for _ in tf.range(count):
                    compiled_step(*next(iterator))

            def loop(start, count):
                loop_iterator(tf.constant(count, tf.int64))

        done = 0
        for boundary in boundaries:
            loop(done, boundary - done)
            optimizer.iterations.numpy()  # wait for the steps to finish
            done = boundary
            variant.boundary()

    return train


def imp_training(name, shape, batch, splits, boundaries, eval_every):
    """lottery_tf's Trainer on the wrapped model at 50% sparsity."""

    def train(variant):
        config = base_config()
        model = wrapped_and_pruned(build_model(name, shape, 10), 0.5)
        optimizer = make_optimizer(config.training, 1000, 0)
        # The level's final evaluation falls one step after the last boundary.
        spec = LoopSpec(batch_size=batch, start_step=0, end_step=boundaries[-1] + 1, data_seed=0,
                        eval_every=eval_every, test_every=1000,
                        eval_batch_size=VALIDATION_EXAMPLES)
        Trainer(model, optimizer, tf.distribute.get_strategy(), splits, spec).run(
            [SegmentClock(variant, boundaries)])

    return train


def measure(name, shape, batch, segment, rounds):
    """Runs the floors, imp and imp_eval in turns; returns each one's Variant."""
    keras.backend.clear_session()
    splits = synthetic_splits(shape)
    boundaries = [WARM_UP_STEPS + segment * r for r in range(rounds + 1)]
    trainings = {
        "bare": bare_training(name, shape, batch, splits, boundaries),
        "bare_indexed": bare_training(name, shape, batch, splits, boundaries, indexed=True),
        "imp": imp_training(name, shape, batch, splits, boundaries, 0),
        "imp_eval": imp_training(name, shape, batch, splits, boundaries, EVAL_EVERY),
    }
    return run_in_turns(trainings, rounds, name)


def main(argv):
    del argv
    results = {"models": {}}
    for name in FLAGS.models.split(","):
        if name not in SETTINGS:
            raise app.UsageError(f"Unknown model {name!r}; choose from {', '.join(SETTINGS)}.")
        shape, batch, default_segment, default_rounds, paper_steps = SETTINGS[name]
        segment = FLAGS.segment or default_segment
        rounds = FLAGS.rounds or default_rounds
        if segment <= 0 or segment % EVAL_EVERY:
            raise app.UsageError(f"--segment must be a positive multiple of {EVAL_EVERY}.")
        variants = measure(name, shape, batch, segment, rounds)
        seconds = {key: variant.segment_seconds for key, variant in variants.items()}
        rate = {key: segment / statistics.median(values) for key, values in seconds.items()}
        ratios = {}  # "<variant>_over_<floor>_ratio": the median over rounds
        for floor in ("bare", "bare_indexed"):
            for variant in ("imp", "imp_eval"):
                by_round = [f / v for f, v in zip(seconds[floor], seconds[variant], strict=True)]
                ratios[f"{variant}_over_{floor}_ratio"] = statistics.median(by_round)
                ratios[f"{variant}_over_{floor}_ratio_by_round"] = by_round
        # A full level: its build and compile time plus the configs' iterations at the
        # measured rate with validation.
        setup = variants["imp_eval"].setup_seconds - WARM_UP_STEPS / rate["imp_eval"]
        projected = max(setup, 0.0) + paper_steps / rate["imp_eval"]
        results["models"][name] = {
            "batch_size": batch, "segment_steps": segment, "rounds": rounds,
            "segment_seconds": seconds,
            **{f"{key}_steps_per_second": value for key, value in rate.items()},
            **ratios,
            "level_setup_seconds": setup,
            "paper_level_steps": paper_steps,
            "projected_level_seconds": projected,
        }
        print(f"{name:>14} batch {batch:>3} | bare {rate['bare']:7.1f} it/s, indexed "
              f"{rate['bare_indexed']:7.1f} | imp {rate['imp']:7.1f} it/s (ratio "
              f"{ratios['imp_over_bare_ratio']:.2f}, indexed {ratios['imp_over_bare_indexed_ratio']:.2f})"
              f" | imp+eval {rate['imp_eval']:7.1f} it/s (ratio {ratios['imp_eval_over_bare_ratio']:.2f}"
              f", indexed {ratios['imp_eval_over_bare_indexed_ratio']:.2f}) | {paper_steps} it level "
              f"~{projected / 60:.1f} min")
        sys.stdout.flush()
    results["peak_memory_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {results['peak_memory_mib']:.0f} MiB")
    with open(FLAGS.out, "w") as handle:
        json.dump(results, handle, indent=2)


if __name__ == "__main__":
    app.run(main)
