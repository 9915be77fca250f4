"""Where a whole IMP experiment's time goes, and its projected wall time, in one run.

Three measurements on LeNet-300-100 / MNIST (the installed data), all in this run:

  floor     scripts/benchmark.py's bare XLA loop and lottery_tf's stripped trainer
            (no checkpoints, summaries or evaluation), taking turns.
  levels    real trunk levels (`lottery`'s own code: checkpoints every epoch,
            TensorBoard, validation every 100 iterations, stored files), first with
            every run building and compiling its own trainer (as before the trainer
            pool), then with the pool. Each run's wall time is split into build,
            first chunk (XLA compile), training, evaluation, checkpoints, summaries
            and the rest (stored files, masks); the run's first evaluation (at its
            start step, compiling the evaluation when the run built its trainer)
            counts as a fixed cost.
  parallel  `--workers` processes (one thread each, pinned one per core) running
            the same pooled levels at once: the network-iterations per second a
            sweep gets from the machine.

The measured levels run the config of `--sweep` (the paper-scale LeNet sweep by
default, with its overrides) shortened to `--steps` iterations. From these it
projects the wall time of that whole sweep run by `--workers` sweep workers, and
reports it against the bare loop. The projection assumes dense-speed levels (a sparse
level costs what a dense one does here).

  python scripts/benchmark_experiment.py --steps=5000 --levels=3 --json_out=benchmark_experiment.json
"""
import collections
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
flags.DEFINE_integer("steps", 2000, "Iterations of each measured level (a multiple of 100).")
flags.DEFINE_integer("levels", 3, "Trunk levels after level 0 in each measured sequence.")
flags.DEFINE_integer("workers", 2, "Worker processes of the parallel measurement.")
flags.DEFINE_string("sweep", "configs/sweep_lenet_paper.py", "The projected experiment: its "
                    "config (with the sweep's overrides) is what the measured levels run, shortened "
                    "to --steps, and its trainings and their length are projected.")
flags.DEFINE_integer("floor_rounds", 6, "Rounds of the floor measurement.")
flags.DEFINE_string("json_out", "benchmark_experiment.json", "Where to write the JSON results.")
flags.DEFINE_string("role", "main", "main | worker (internal: one process of the parallel run).")
flags.DEFINE_string("worker_root", None, "worker: its results folder.")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PARTS = ("build", "first_chunk", "train", "first_evaluation", "evaluation", "checkpoints",
         "summaries", "rest")


class _Clock:
    """Seconds spent in instrumented functions, by part, for the current run."""

    def __init__(self):
        self.seconds = collections.Counter()
        self.chunks = 0

    def wrap(self, owner, attribute, part):
        original = getattr(owner, attribute)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[part] += time.perf_counter() - started

        setattr(owner, attribute, timed)


def _instrument(clock: _Clock) -> None:
    """Times the parts of a masked run by wrapping the functions that do them."""
    from lottery_tf.experiments import trainer_pool
    from lottery_tf.training import callbacks, checkpoints
    from lottery_tf.training.loop import Trainer

    clock.wrap(trainer_pool, "trainer_for", "build")
    evaluate_all = Trainer.evaluate_all

    def timed_evaluation(trainer):
        # The run's first evaluation (at its start step) compiles the evaluation.
        part = "evaluation" if clock.seconds["evaluations"] else "first_evaluation"
        started = time.perf_counter()
        logs = evaluate_all(trainer)
        clock.seconds[part] += time.perf_counter() - started
        clock.seconds["evaluations"] += 1
        return logs

    Trainer.evaluate_all = timed_evaluation
    clock.wrap(Trainer, "settle_deferred_test", "evaluation")
    clock.wrap(checkpoints.LevelCheckpoint, "save", "checkpoints")
    for hook in ("on_train_begin", "on_train_batch_end", "on_test_end", "on_train_end"):
        clock.wrap(callbacks.TensorBoardLogger, hook, "summaries")
    make_chunk = Trainer._make_train_chunk

    def timed_chunks(trainer):
        chunk = make_chunk(trainer)

        def timed(first_step, count):
            started = time.perf_counter()
            chunk(first_step, count)
            trainer.optimizer.iterations.numpy()  # wait for the steps
            part = "first_chunk" if clock.chunks == 0 else "train"
            clock.chunks += 1
            clock.seconds[part] += time.perf_counter() - started
            clock.seconds[part + "_steps"] += count

        return timed

    Trainer._make_train_chunk = timed_chunks


def _run_levels(root: str, pooled: bool) -> list[dict]:
    """Trains trunk levels 0..--levels in `root`; returns each run's timed parts."""
    import tensorflow as tf

    from lottery_tf.experiments import lottery, trainer_pool
    from lottery_tf.experiments import setup as experiment_setup
    from lottery_tf.sweeps.spec import load_sweep

    config = load_sweep(os.path.join(REPO, FLAGS.sweep)).config
    config.levels = FLAGS.levels
    config.training.train_steps = f"{FLAGS.steps}it"
    setup = experiment_setup.prepare(config, root, tf.distribute.get_strategy(), quiet=True)
    trainer_pool.forget()
    original_reusable = trainer_pool._reusable
    if not pooled:
        trainer_pool._reusable = lambda model: False
    clock = _Clock()
    _instrument(clock)
    runs = []
    try:
        seed = lottery.replicate_seed(config, 0)
        for level in range(config.levels + 1):
            clock.seconds.clear()
            clock.chunks = 0
            started = time.perf_counter()
            metrics = lottery.run_level(setup, 0, level, seed)
            wall = time.perf_counter() - started
            parts = {part: clock.seconds[part] for part in PARTS if part != "rest"}
            parts["rest"] = wall - sum(parts.values())
            runs.append({"level": level, "wall": wall, "parts": parts,
                         "train_steps": clock.seconds["train_steps"],
                         "first_chunk_steps": clock.seconds["first_chunk_steps"],
                         "test_accuracy": metrics["test_accuracy"]})
    finally:
        trainer_pool._reusable = original_reusable
    return runs


def _steady(runs: list[dict]) -> dict:
    """Per-iteration costs of a level once running, and the fixed cost per run (medians over
    levels 1.., whose runs start from the rewind step like every later training)."""
    later = runs[1:]
    per_step = {part: statistics.median(r["parts"][part] / r["train_steps"] for r in later)
                for part in ("train", "evaluation", "checkpoints", "summaries")}
    rate = 1 / per_step["train"]
    # The first chunk beyond its own steps at the steady rate is compilation.
    fixed = statistics.median(
        r["parts"]["build"] + r["parts"]["rest"] + r["parts"]["first_evaluation"]
        + r["parts"]["first_chunk"] - r["first_chunk_steps"] / rate for r in later)
    return {"train_rate": rate, "level_rate": 1 / sum(per_step.values()),
            "seconds_per_step": per_step, "fixed_seconds": fixed}


def _worker_main() -> None:
    """One process of the parallel measurement: pooled levels, then its figures as JSON."""
    started = time.perf_counter()
    runs = _run_levels(FLAGS.worker_root, pooled=True)
    steps = sum(r["train_steps"] + r["first_chunk_steps"] for r in runs)
    print(json.dumps({"runs": runs, "seconds": time.perf_counter() - started, "steps": steps,
                      "steady": _steady(runs)}))


def _parallel(folder: str) -> dict:
    """Runs --workers copies of the pooled levels at once, one thread each, pinned."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=REPO)
    cores = sorted(os.sched_getaffinity(0))
    processes = []
    started = time.perf_counter()
    for index in range(FLAGS.workers):
        command = [sys.executable, os.path.abspath(__file__), "--role=worker",
                   f"--worker_root={os.path.join(folder, f'worker_{index}')}",
                   f"--steps={FLAGS.steps}", f"--levels={FLAGS.levels}"]
        core = cores[index % len(cores)]
        processes.append(subprocess.Popen(
            ["taskset", "-c", str(core), *command] if shutil.which("taskset") else command,
            env={**env, "LOTTERY_TF_THREADS": "1"}, stdout=subprocess.PIPE, text=True, cwd=REPO))
    outputs = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in processes]
    wall = time.perf_counter() - started
    if any(p.returncode for p in processes):
        raise RuntimeError("a worker of the parallel measurement failed")
    steady = [output["steady"] for output in outputs]
    return {"wall": wall, "workers": outputs,
            "level_rate_each": statistics.median(s["level_rate"] for s in steady),
            "fixed_seconds_each": statistics.median(s["fixed_seconds"] for s in steady)}


def _floor() -> dict:
    sys.path.insert(0, os.path.join(REPO, "scripts"))
    import benchmark  # scripts/benchmark.py

    segment = 500
    variants = benchmark.measure("lenet_300_100", (28, 28, 1), 60, segment, FLAGS.floor_rounds)
    return {name: segment / statistics.median(v.segment_seconds) for name, v in variants.items()}


def _projected_sweep() -> tuple[int, int]:
    """(trainings, iterations per training) of the --sweep file."""
    from lottery_tf.data.pipeline import steps_per_epoch
    from lottery_tf.data.sources import spec_of
    from lottery_tf.sweeps.spec import load_sweep
    from lottery_tf.sweeps.units import expand
    from lottery_tf.training.steps import parse_steps

    sweep = load_sweep(os.path.join(REPO, FLAGS.sweep))
    config = sweep.config
    train_examples = spec_of(config.dataset).train_size - config.dataset.validation_size
    steps = parse_steps(config.training.train_steps,
                        steps_per_epoch(train_examples, config.training.batch_size))
    return sum(unit.cost for unit in expand(sweep)), steps


def _project(level_rate: float, fixed: float, workers: int) -> dict:
    trainings, steps = _projected_sweep()
    per_training = fixed + steps / level_rate
    wall = trainings * per_training / workers
    return {"trainings": trainings, "steps": steps, "seconds_per_training": per_training,
            "wall_hours": wall / 3600, "network_iterations_per_second": trainings * steps / wall}


def main(argv):
    del argv
    if FLAGS.steps <= 0 or FLAGS.steps % 100:
        raise app.UsageError("--steps must be a positive multiple of 100.")
    threads = os.environ.get("LOTTERY_TF_THREADS")
    import lottery_tf  # noqa: F401, I001  (sets the legacy-Keras switch before TensorFlow loads)
    import tensorflow as tf

    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(int(threads))
        tf.config.threading.set_inter_op_parallelism_threads(int(threads))
    if FLAGS.role == "worker":
        _worker_main()
        return
    load_before = os.getloadavg()[0]
    folder = tempfile.mkdtemp(prefix="benchmark_experiment_")
    try:
        floor = _floor()
        cold = _run_levels(os.path.join(folder, "cold"), pooled=False)
        warm = _run_levels(os.path.join(folder, "warm"), pooled=True)
        parallel = _parallel(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    cold_steady, warm_steady = _steady(cold), _steady(warm)
    results = {
        "floor_it_per_s": floor, "cold_runs": cold, "warm_runs": warm,
        "cold": cold_steady, "warm": warm_steady, "parallel": parallel,
        "load_average": [load_before, os.getloadavg()[0]],
        "projection": {
            "one_process_cold": _project(cold_steady["level_rate"], cold_steady["fixed_seconds"], 1),
            "one_process_pooled": _project(warm_steady["level_rate"], warm_steady["fixed_seconds"], 1),
            f"{FLAGS.workers}_workers_pooled": _project(
                parallel["level_rate_each"], parallel["fixed_seconds_each"], FLAGS.workers)},
    }
    bare = floor["bare_indexed"]
    for projection in results["projection"].values():
        projection["ratio_to_bare_loop"] = projection["network_iterations_per_second"] / bare
    print(f"floor: bare {floor['bare']:.0f} it/s, bare indexed {bare:.0f}, trainer without "
          f"evaluation {floor['imp']:.0f}, with {floor['imp_eval']:.0f}")
    print(f"{'run':<14}{'level':>6}{'wall s':>8}" + "".join(f"{p:>12}" for p in PARTS))
    for name, runs in (("cold (build)", cold), ("pooled", warm)):
        for run in runs:
            print(f"{name:<14}{run['level']:>6}{run['wall']:>8.1f}"
                  + "".join(f"{run['parts'][p]:>12.2f}" for p in PARTS))
    for name, steady in (("cold", cold_steady), ("pooled", warm_steady)):
        per_step = steady["seconds_per_step"]
        print(f"{name}: fixed {steady['fixed_seconds']:.2f} s per run; level {steady['level_rate']:.0f} it/s "
              f"(training {steady['train_rate']:.0f}; per 1,000 steps: "
              + ", ".join(f"{part} {seconds * 1000:.2f} s" for part, seconds in per_step.items()) + ")")
    print(f"parallel: {FLAGS.workers} workers, {parallel['level_rate_each']:.0f} it/s each at level speed, "
          f"fixed {parallel['fixed_seconds_each']:.2f} s per run")
    trainings, steps = _projected_sweep()
    print(f"projected: {FLAGS.sweep}, {trainings} trainings x {steps:,} iterations")
    for name, projection in results["projection"].items():
        print(f"  {name:<20} {projection['wall_hours']:.2f} h, "
              f"{projection['network_iterations_per_second']:.0f} net-it/s "
              f"({projection['ratio_to_bare_loop']:.2f}x the bare single-process loop)")
    print(f"load average before/after: {load_before:.2f} / {os.getloadavg()[0]:.2f}")
    with open(FLAGS.json_out, "w") as handle:
        json.dump(results, handle, indent=1)


if __name__ == "__main__":
    app.run(main)
