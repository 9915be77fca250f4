"""XLA on or off: lottery_tf's training step with and without `jit_compile`, measured in one run.

For each model, two Trainers (the tfmot-wrapped model at 50% sparsity, no
evaluation) take turns on the same synthetic data and batch size, one segment
each per round (as in `scripts/benchmark.py`, so a slow spell of a shared
machine hits both alike). Prints steps/s with and without XLA, their median
ratio over rounds, and each one's set-up time (build and compile, to the
first boundary); writes JSON. The measurement behind `runtime.jit_compile`'s
unset rule (`lottery_tf/training/xla_choice.py`).

  python scripts/benchmark_xla.py --models=lenet_300_100,conv2,mobilenet_16,dwcnn --out=xla.json
"""
import json
import os
import statistics
import sys

import numpy as np
import tensorflow as tf
from absl import app, flags
from timing_turns import SegmentClock, run_in_turns  # this folder (run as a script)

import lottery_tf  # noqa: F401  (sets the legacy-Keras switch before TensorFlow loads)
from lottery_tf.config import base_config
from lottery_tf.data.splits import Splits
from lottery_tf.models import build_model
from lottery_tf.testing import wrapped_and_pruned
from lottery_tf.training.loop import LoopSpec, Trainer
from lottery_tf.training.optimizers import make_optimizer
from lottery_tf.training.xla_choice import has_convolutions

# The project's examples/ builders import from the project root.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FLAGS = flags.FLAGS
flags.DEFINE_string("models", "lenet_300_100,conv2,resnet20,mobilenet_16,dwcnn,mobilenetv2",
                    "Models to time (zoo names, dwcnn = examples/fashion_dwcnn.py, "
                    "mobilenetv2 = tf_keras.applications.MobileNetV2 alpha 0.35).")
flags.DEFINE_integer("rounds", 3, "Timed rounds (one segment with and one without XLA).")
flags.DEFINE_bool("determinism", True, "Enable op determinism, as the command line does (XLA is "
                  "then refused for models whose gradients have no deterministic XLA kernel).")
flags.DEFINE_string("out", "benchmark_xla.json", "Where to write the JSON results.")

WARM_UP_STEPS = 20
# model: (builder name, input shape, batch, segment)
MODELS = {
    "lenet_300_100": ("lenet_300_100", (28, 28, 1), 60, 500),
    "conv2": ("conv2", (32, 32, 3), 60, 50),
    "resnet20": ("resnet20", (32, 32, 3), 60, 20),
    "mobilenet_16": ("mobilenet_16", (28, 28, 1), 60, 20),
    "dwcnn": ("examples.fashion_dwcnn:build", (28, 28, 1), 60, 20),
    "mobilenetv2": ("examples.applications:mobilenet_v2", (32, 32, 3), 60, 10),
}


def synthetic_splits(shape) -> Splits:
    """Random data of the right shape (speed does not depend on the values); no evaluation runs."""
    rng = np.random.default_rng(0)
    images = rng.standard_normal((6000, *shape), dtype=np.float32)
    labels = rng.integers(0, 10, 6000).astype(np.int32)
    return Splits(images, labels, images[:60], labels[:60], images[:60], labels[:60])


def trainer(builder, shape, batch, splits, boundaries, jit_compile):
    def train(variant):
        model = wrapped_and_pruned(build_model(builder, shape, 10), 0.5)
        optimizer = make_optimizer(base_config().training, 1000, 0)
        spec = LoopSpec(batch_size=batch, start_step=0, end_step=boundaries[-1] + 1, data_seed=0,
                        eval_every=0, test_every=0, eval_batch_size=batch, jit_compile=jit_compile)
        Trainer(model, optimizer, tf.distribute.get_strategy(), splits, spec).run(
            [SegmentClock(variant, boundaries)])

    return train


def measure(name):
    builder, shape, batch, segment = MODELS[name]
    splits = synthetic_splits(shape)
    boundaries = [WARM_UP_STEPS + segment * r for r in range(FLAGS.rounds + 1)]
    variants = run_in_turns({key: trainer(builder, shape, batch, splits, boundaries, key == "xla")
                             for key in ("xla", "no_xla")}, FLAGS.rounds, name)
    ratios = [off / on for on, off in zip(variants["xla"].segment_seconds,
                                          variants["no_xla"].segment_seconds, strict=True)]
    return {
        "convolutions": has_convolutions(build_model(builder, shape, 10)),
        **{f"{key}_steps_per_second": segment / statistics.median(variant.segment_seconds)
           for key, variant in variants.items()},
        **{f"{key}_setup_seconds": variant.setup_seconds for key, variant in variants.items()},
        "xla_speedup_ratio": statistics.median(ratios),
    }


def main(argv):
    del argv
    if FLAGS.determinism:
        tf.config.experimental.enable_op_determinism()
    results = {}
    print(f"{'model':<15}{'convs':>10}{'XLA it/s':>10}{'no-XLA it/s':>13}{'XLA speed-up':>14}"
          f"{'XLA setup s':>13}{'no-XLA setup s':>16}")
    for name in FLAGS.models.split(","):
        if name not in MODELS:
            raise app.UsageError(f"Unknown model {name!r}; choose from {', '.join(MODELS)}.")
        tf.keras.backend.clear_session()
        row = results[name] = measure(name)
        print(f"{name:<15}{str(row['convolutions']):>10}{row['xla_steps_per_second']:>10.1f}"
              f"{row['no_xla_steps_per_second']:>13.1f}{row['xla_speedup_ratio']:>13.2f}x"
              f"{row['xla_setup_seconds']:>13.1f}{row['no_xla_setup_seconds']:>16.1f}", flush=True)
    with open(FLAGS.out, "w") as handle:
        json.dump({"device": "CPU" if not tf.config.list_physical_devices("GPU") else "GPU",
                   "models": results}, handle, indent=2)


if __name__ == "__main__":
    app.run(main)
