"""XLA on or off for a recurrent model on CPU: the LSTM of examples/rows_lstm.py, measured in one run.

The training step of lottery_tf's loop (the model in tfmot's wrappers at 50%
sparsity, batch 60, no evaluation) is timed with `Trainer.timed_steps`, first
without XLA, then with it, in this process's main thread (XLA's LSTM step does
not trace in scripts/benchmark_xla.py's worker threads). The gap is two orders
of magnitude, so the two sides are timed one after the other rather than in turns.

  python scripts/benchmark_xla_recurrent.py --out=/tmp/xla_recurrent.json
"""
import json
import os
import statistics
import sys

import numpy as np
import tensorflow as tf
from absl import app, flags

import lottery_tf  # noqa: F401  (sets the legacy-Keras switch before TensorFlow loads)
from lottery_tf.config import base_config
from lottery_tf.data.splits import Splits
from lottery_tf.models import build_model
from lottery_tf.testing import wrapped_and_pruned
from lottery_tf.training.loop import LoopSpec, Trainer
from lottery_tf.training.optimizers import make_optimizer

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # examples/
FLAGS = flags.FLAGS
flags.DEFINE_integer("rounds", 3, "Timed rounds per setting.")
flags.DEFINE_string("out", "benchmark_xla_recurrent.json", "Where to write the JSON results.")

SHAPE, BATCH = (28, 28, 1), 60
STEPS_PER_ROUND = {False: 20, True: 2}  # XLA's steps take seconds each


def synthetic_splits() -> Splits:
    """Random images of MNIST's shape (speed does not depend on the values); no evaluation runs."""
    rng = np.random.default_rng(0)
    images = rng.standard_normal((6000, *SHAPE), dtype=np.float32)
    labels = rng.integers(0, 10, 6000).astype(np.int32)
    return Splits(images, labels, images[:BATCH], labels[:BATCH], images[:BATCH], labels[:BATCH])


def measure(jit_compile: bool, splits) -> dict:
    model = wrapped_and_pruned(build_model("examples.rows_lstm:build", SHAPE, 10), 0.5)
    optimizer = make_optimizer(base_config().training, 1000, 0)
    spec = LoopSpec(batch_size=BATCH, start_step=0, end_step=1000, data_seed=0, eval_every=0, test_every=0,
                    eval_batch_size=BATCH, jit_compile=jit_compile)
    trainer = Trainer(model, optimizer, tf.distribute.get_strategy(), splits, spec)
    first = trainer.timed_steps(1)  # traces (and compiles)
    steps = STEPS_PER_ROUND[jit_compile]
    seconds = [trainer.timed_steps(steps) / steps for _ in range(FLAGS.rounds)]
    return {"first_step_seconds": round(first, 2), "seconds_per_step": [round(s, 4) for s in seconds],
            "steps_per_second": round(1 / statistics.median(seconds), 3)}


def main(argv):
    del argv
    tf.config.experimental.enable_op_determinism()  # as the command line runs
    splits = synthetic_splits()
    results = {"no_xla": measure(False, splits), "xla": measure(True, splits)}
    results["xla_speedup_ratio"] = round(results["xla"]["steps_per_second"]
                                         / results["no_xla"]["steps_per_second"], 4)
    for key in ("no_xla", "xla"):
        print(f"{key:7s} {results[key]['steps_per_second']:.2f} steps/s, first step (tracing) "
              f"{results[key]['first_step_seconds']} s")
    print(f"XLA speed-up {results['xla_speedup_ratio']}x")
    with open(FLAGS.out, "w") as handle:
        json.dump(results, handle, indent=2)


if __name__ == "__main__":
    app.run(main)
