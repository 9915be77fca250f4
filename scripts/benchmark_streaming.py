"""Peak memory of training streamed from a shards folder, against the dataset's size.

For each size (`--gigabytes`, then that divided by `--ratio`) the script

1. writes a shards folder of SYNTHETIC images (uint8 noise plus a bright square
   whose place gives the class, `lottery_tf.testing.synthetic_images`) in a
   child process that generates and writes one chunk at a time;
2. trains LeNet-300-100 on it for `--steps` iterations with the real command
   line (`python -m lottery_tf train`), streaming the training batches and the
   validation and test passes from the files;

and reports each child's peak resident memory (``ru_maxrss`` from ``wait4``)
next to the dataset's size on disk, so one sees whether memory grows with the
data. Prints a Markdown table and writes JSON.

  nice -n 10 python scripts/benchmark_streaming.py --gigabytes=3 --steps=300 \\
      --work=/tmp/bench_streaming --out=benchmark_streaming.json
"""
import json
import os
import shutil
import subprocess
import sys
import time

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_float("gigabytes", 3.0, "Size of the large dataset's training split on disk (GB).")
flags.DEFINE_integer("ratio", 4, "The small dataset is this many times smaller.")
flags.DEFINE_integer("side", 64, "Image side in pixels (images are side x side x 3 uint8).")
flags.DEFINE_integer("steps", 300, "Training iterations on each dataset.")
flags.DEFINE_integer("batch_size", 128, "Training batch size.")
flags.DEFINE_string("work", "/tmp/lottery_tf_benchmark_streaming", "Folder for the datasets and runs.")
flags.DEFINE_bool("keep", False, "Keep the written datasets afterwards.")
flags.DEFINE_string("out", "benchmark_streaming.json", "Where to write the JSON results.")
# Internal: run one dataset write in this (child) process.
flags.DEFINE_string("write_to", None, "Internal: write one dataset there and exit.")
flags.DEFINE_integer("train_examples", 0, "Internal: training examples to write.")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEST_EXAMPLES = 10000
VALIDATION = 5000
CHUNK = 2048


def _write_dataset(directory: str, train_examples: int, side: int) -> None:
    """Writes synthetic images chunk by chunk (this process never holds the dataset)."""
    from lottery_tf.data import shards
    from lottery_tf.testing import synthetic_images

    def chunks(count, seed):
        for index, start in enumerate(range(0, count, CHUNK)):
            yield synthetic_images(min(CHUNK, count - start), seed * 100000 + index, side, side, 3)

    shards.write_shards(directory, chunks(train_examples, 1), train_examples,
                        chunks(TEST_EXAMPLES, 2), TEST_EXAMPLES)


def _child(command: list[str], log: str) -> tuple[float, float]:
    """Runs `command`; returns (its peak resident memory in MB, wall seconds)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=REPO)
    started = time.perf_counter()
    with open(log, "w") as output:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        with open(log) as output:
            raise SystemExit(f"{' '.join(command)} failed:\n{output.read()[-3000:]}")
    return usage.ru_maxrss / 1024, time.perf_counter() - started  # Linux reports KB


def _config_file(path: str, dataset: str) -> str:
    with open(path, "w") as file:
        file.write(
            "from lottery_tf.config import base_config\n\n\n"
            "def get_config():\n"
            "    config = base_config()\n"
            f"    config.dataset.name = {dataset!r}\n"
            f"    config.dataset.validation_size = {VALIDATION}\n"
            "    config.model.name = 'lenet_300_100'\n"
            f"    config.training.batch_size = {FLAGS.batch_size}\n"
            f"    config.training.train_steps = '{FLAGS.steps}it'\n"
            f"    config.training.eval_every = '{FLAGS.steps // 3}it'\n"
            f"    config.runtime.checkpoint_every = '{FLAGS.steps // 3}it'\n"
            f"    config.runtime.test_every = '{FLAGS.steps}it'\n"
            "    return config\n")
    return path


def _measure(name: str, gigabytes: float) -> dict:
    example_bytes = FLAGS.side * FLAGS.side * 3
    train_examples = int(gigabytes * 1e9 // example_bytes)
    directory = os.path.join(FLAGS.work, name)
    shutil.rmtree(directory, ignore_errors=True)
    write_mb, write_seconds = _child(
        [sys.executable, os.path.abspath(__file__), f"--write_to={directory}",
         f"--train_examples={train_examples}", f"--side={FLAGS.side}"],
        os.path.join(FLAGS.work, f"{name}_write.log"))
    disk = sum(os.path.getsize(os.path.join(directory, f)) for f in os.listdir(directory))
    root = os.path.join(FLAGS.work, f"{name}_runs")
    shutil.rmtree(root, ignore_errors=True)
    config = _config_file(os.path.join(FLAGS.work, f"{name}_config.py"), f"shards:{directory}")
    train_mb, train_seconds = _child(
        [sys.executable, "-m", "lottery_tf", "train", f"--config={config}", f"--root={root}",
         "--quiet"], os.path.join(FLAGS.work, f"{name}_train.log"))
    metrics = [os.path.join(dirpath, "metrics.json") for dirpath, _, files in os.walk(root)
               if "metrics.json" in files]
    with open(metrics[0]) as file:
        final = json.load(file)["curve"][-1]
    if not FLAGS.keep:
        shutil.rmtree(directory)
    return {"dataset": name, "train_examples": train_examples, "disk_gb": disk / 1e9,
            "in_memory_float32_gb": train_examples * example_bytes * 4 / 1e9,
            "write_peak_mb": write_mb, "write_seconds": write_seconds,
            "train_peak_mb": train_mb, "train_seconds": train_seconds, "steps": FLAGS.steps,
            "final_test_accuracy": final.get("test_accuracy")}


def main(argv):
    del argv
    if FLAGS.write_to:
        _write_dataset(FLAGS.write_to, FLAGS.train_examples, FLAGS.side)
        return
    os.makedirs(FLAGS.work, exist_ok=True)
    load_before = os.getloadavg()[0]
    rows = [_measure("small", FLAGS.gigabytes / FLAGS.ratio), _measure("large", FLAGS.gigabytes)]
    print("| dataset | train examples | on disk (GB) | held in memory as float32 (GB) | "
          "peak RSS writing (MB) | peak RSS training (MB) | training wall (s) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['dataset']} | {row['train_examples']:,} | {row['disk_gb']:.2f} | "
              f"{row['in_memory_float32_gb']:.1f} | {row['write_peak_mb']:.0f} | "
              f"{row['train_peak_mb']:.0f} | {row['train_seconds']:.0f} |")
    result = {"rows": rows, "side": FLAGS.side, "batch_size": FLAGS.batch_size,
              "load_before": load_before, "load_after": os.getloadavg()[0]}
    print(f"load average before {load_before:.1f}, after {result['load_after']:.1f}")
    with open(FLAGS.out, "w") as file:
        json.dump(result, file, indent=1)


if __name__ == "__main__":
    app.run(main)
