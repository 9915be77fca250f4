"""The `sweep` and `status` commands (their flags are defined here, on import).

  python -m lottery_tf sweep --sweep=configs/sweep_lenet_mnist.py --root=runs [--workers=2]
      [--shard=i/n]    (or from SLURM_ARRAY_TASK_ID/COUNT, JOB_COMPLETION_INDEX + LOTTERY_TF_SHARD_COUNT)
  python -m lottery_tf status --root=runs
"""
import os
import sys

from absl import flags

from lottery_tf.errors import ConfigError, LotteryError

COMMANDS = ("sweep", "status")

flags.DEFINE_string("sweep", None, "sweep: the sweep file (a Python file with get_sweep()).")
flags.DEFINE_list("sweep_args", [], "sweep: key=value arguments for the sweep file's get_sweep(), "
                  "e.g. normalization=unit_range (each variant is its own sweep).")
flags.DEFINE_string("shard", None, "sweep: take shard i of n of the units, e.g. '0/4' (default: "
                    "from Slurm or Kubernetes indexed-Job variables, else all).")
flags.DEFINE_integer("workers", 1, "sweep: start this many local worker processes (one thread each).")
flags.DEFINE_integer("threads", None, "sweep: TensorFlow intra-op and inter-op threads of this worker.")
flags.DEFINE_bool("pin_cpus", False, "sweep --workers=N: pin worker i to core i (mod the cores).")
flags.DEFINE_float("poll_seconds", 5.0, "sweep: wait between looks when every open unit is busy or waits.")
flags.DEFINE_float("steal_after", 300.0, "sweep: after this long idle, also run an unclaimed trunk of "
                   "another shard that this shard's branches wait for.")
flags.DEFINE_bool("retry_failed", False, "sweep: run units recorded as failed once more.")


def run(command: str, flag_values) -> None:
    """Runs `sweep` or `status` with the parsed flags.

    Raises:
      LotteryError: bad flags, a bad sweep file, or failed units (named in the message).
    """
    if command == "status":
        from lottery_tf.sweeps.status import root_status

        print(root_status(flag_values.root))
        return
    if not flag_values.sweep:
        raise ConfigError("sweep needs --sweep=FILE, e.g. --sweep=configs/sweep_lenet_mnist.py.")
    sweep_arguments(flag_values.sweep_args)  # a malformed item fails before workers start
    if flag_values.workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {flag_values.workers}.")
    from lottery_tf.sweeps import launch

    shard = launch.shard_from(flag_values.shard)
    if flag_values.workers > 1:
        args = [f"--sweep={flag_values.sweep}", f"--root={flag_values.root}",
                f"--sweep_args={','.join(flag_values.sweep_args)}",
                f"--shard={shard[0]}/{shard[1]}",
                f"--poll_seconds={flag_values.poll_seconds}", f"--steal_after={flag_values.steal_after}",
                f"--quiet={flag_values.quiet}", f"--retry_failed={flag_values.retry_failed}"]
        code = launch.start_workers(flag_values.workers, args, flag_values.pin_cpus)
        if code:
            raise LotteryError(f"A sweep worker exited with code {code} (its output above says why); "
                               "rerun the command: finished units are kept.")
        return
    _work(flag_values, shard)


def sweep_arguments(items: list[str]) -> dict[str, str]:
    """--sweep_args' `key=value` items as a dict.

    Raises:
      ConfigError: an item without `=`.
    """
    arguments = {}
    for item in items:
        key, equals, value = item.partition("=")
        if not equals or not key:
            raise ConfigError(f"--sweep_args takes key=value items, got {item!r}.")
        arguments[key.strip()] = value.strip()
    return arguments


def _work(flag_values, shard: tuple[int, int]) -> None:
    from lottery_tf.sweeps import launch

    launch.pin_to_assigned_cpu()
    import tensorflow as tf

    if flag_values.threads:  # before TensorFlow creates its thread pools
        tf.config.threading.set_intra_op_parallelism_threads(flag_values.threads)
        tf.config.threading.set_inter_op_parallelism_threads(flag_values.threads)
    tf.config.experimental.enable_op_determinism()
    from lottery_tf.sweeps.spec import load_sweep
    from lottery_tf.sweeps.worker import WorkerOptions, run_worker

    sweep = load_sweep(flag_values.sweep, sweep_arguments(flag_values.sweep_args))
    options = WorkerOptions(shard=shard, poll_seconds=flag_values.poll_seconds,
                            steal_after=flag_values.steal_after,
                            retry_failed=flag_values.retry_failed, quiet=flag_values.quiet)
    states = run_worker(sweep, flag_values.root, options)
    failed = sorted(unit for unit, state in states.items() if state in ("failed", "blocked"))
    print(f"[pid {os.getpid()}] shard {shard[0]}/{shard[1]}: {len(states) - len(failed)} units done, "
          f"{len(failed)} failed or blocked", file=sys.stdout)
    if failed:
        raise LotteryError(f"{len(failed)} units failed or wait on a failed trunk: {', '.join(failed)}. "
                           "`python -m lottery_tf status` shows the errors; fix them and rerun with "
                           "--retry_failed.")

