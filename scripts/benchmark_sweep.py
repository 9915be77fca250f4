"""Wall time of one sweep run by 1 process against N local worker processes.

The sweep is `--trainings` LeNet-300-100 trainings on MNIST (replicates 0..n-1 of
the dense level 0, `--steps` iterations each, with the config's usual validation
and test passes). Each variant runs the real command line in a fresh root:

  1 process    python -m lottery_tf sweep --sweep=FILE --root=...            (TensorFlow's default threads)
  N workers    python -m lottery_tf sweep --sweep=FILE --root=... --workers=N  (one intra-op and
                                                                                one inter-op thread each)
  N pinned     the same with --pin_cpus (worker i on core i)

Variants take turns round after round, so a slow spell of a shared machine hits
them alike; prints a table of median wall times and each variant's speed-up over
1 process, the load average before and after, and whether every variant stored
the same test accuracies; writes JSON.

  python scripts/benchmark_sweep.py --steps=3000 --trainings=4 --rounds=1 --out=benchmark_sweep.json
"""
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_integer("trainings", 4, "Trainings in the sweep (replicates of the dense level).")
flags.DEFINE_string("steps", "3000it", "Iterations of each training.")
flags.DEFINE_integer("workers", 2, "Worker processes of the parallel variants.")
flags.DEFINE_integer("rounds", 1, "Rounds (each runs every variant once).")
flags.DEFINE_bool("pinned", False, "Also time the workers pinned one per core.")
flags.DEFINE_string("out", "benchmark_sweep.json", "Where to write the JSON results.")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_sweep(folder: str) -> str:
    path = os.path.join(folder, "sweep_bench.py")
    sweep = {"config": os.path.join(REPO, "configs", "lenet_mnist.py"),
             "overrides": {"levels": 0, "training.train_steps": FLAGS.steps},
             "replicates": f"0-{FLAGS.trainings - 1}", "branches": []}
    with open(path, "w") as handle:
        handle.write(f"def get_sweep():\n    return {sweep!r}\n")
    return path


def run_variant(sweep_file: str, root: str, extra: list[str]) -> float:
    """Seconds for the command to finish the whole sweep in a fresh root."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=REPO)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "lottery_tf", "sweep", f"--sweep={sweep_file}",
                           f"--root={root}", "--quiet", "--poll_seconds=1", *extra],
                          cwd=REPO, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{extra or '1 process'} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return seconds


def test_accuracies(root: str) -> list[float]:
    paths = sorted(glob.glob(os.path.join(root, "*", "replicate_*", "level_0", "metrics.json")))
    return [json.load(open(path))["test_accuracy"] for path in paths]


def main(argv):
    del argv
    variants = {"1 process": [], f"{FLAGS.workers} workers": [f"--workers={FLAGS.workers}"]}
    if FLAGS.pinned:
        variants[f"{FLAGS.workers} pinned"] = [f"--workers={FLAGS.workers}", "--pin_cpus"]
    scratch = tempfile.mkdtemp(prefix="benchmark_sweep_")
    sweep_file = write_sweep(scratch)
    load_before = os.getloadavg()
    times = {name: [] for name in variants}
    accuracies = {}
    for round_index in range(FLAGS.rounds):
        for name, extra in variants.items():
            root = os.path.join(scratch, f"{name.replace(' ', '_')}_{round_index}")
            times[name].append(run_variant(sweep_file, root, extra))
            accuracies[name] = test_accuracies(root)
            print(f"round {round_index} {name}: {times[name][-1]:.1f} s", flush=True)
    load_after = os.getloadavg()
    base = statistics.median(times["1 process"])
    rows = {name: {"seconds": statistics.median(values), "all_seconds": values,
                   "speedup_ratio": base / statistics.median(values)} for name, values in times.items()}
    print(f"\n{FLAGS.trainings} x LeNet-300-100 on MNIST, {FLAGS.steps} each, "
          f"{os.cpu_count()} cores, load average {load_before[0]:.1f} before, {load_after[0]:.1f} after")
    print(f"{'variant':<12} {'wall s':>8} {'1 process / this':>17}")
    for name, row in rows.items():
        print(f"{name:<12} {row['seconds']:>8.1f} {row['speedup_ratio']:>17.2f}")
    same = len({tuple(values) for values in accuracies.values()}) == 1
    print(f"same test accuracies in every variant: {same}")
    with open(FLAGS.out, "w") as handle:
        json.dump({"trainings": FLAGS.trainings, "steps": FLAGS.steps, "cores": os.cpu_count(),
                   "load_before": load_before, "load_after": load_after, "variants": rows,
                   "test_accuracies": accuracies, "same_accuracies": same}, handle, indent=2)
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    app.run(main)
