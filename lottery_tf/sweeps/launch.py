"""Where a worker's share of a sweep comes from, and starting several local workers.

Shard index and count, in order of precedence:
  --shard=i/n                                   (0 <= i < n)
  SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT   (a Slurm job array; ids may start at
                                                 SLURM_ARRAY_TASK_MIN, e.g. --array=1-4)
  JOB_COMPLETION_INDEX, LOTTERY_TF_SHARD_COUNT  (a Kubernetes indexed Job; set the count
                                                 from the Job's spec.completions)
  none of them: 0/1, every unit.
"""
import os
import signal
import subprocess
import sys

from lottery_tf.errors import ConfigError

CPU_ENV = "LOTTERY_TF_SWEEP_CPU"  # a local worker started by --workers pins itself to this core


def parse_shard(text: str) -> tuple[int, int]:
    """'1/4' -> (1, 4).

    Raises:
      ConfigError: not 'i/n' with 0 <= i < n.
    """
    index, _, count = text.partition("/")
    try:
        index, count = int(index), int(count)
    except ValueError:
        raise ConfigError(f"--shard={text!r} must be 'i/n', e.g. --shard=0/4.") from None
    if not 0 <= index < count:
        raise ConfigError(f"--shard={text!r}: the index must be in [0, {count}) and the count >= 1.")
    return index, count


def shard_from(flag: str | None, environ=os.environ) -> tuple[int, int]:
    """The (index, count) this worker takes, from the flag or the scheduler's environment.

    Raises:
      ConfigError: a malformed flag, or a scheduler index without its count.
    """
    if flag:
        return parse_shard(flag)
    if "SLURM_ARRAY_TASK_ID" in environ:
        if "SLURM_ARRAY_TASK_COUNT" not in environ:
            raise ConfigError("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not; "
                              "pass --shard=i/n instead.")
        first = int(environ.get("SLURM_ARRAY_TASK_MIN", 0))
        return parse_shard(f"{int(environ['SLURM_ARRAY_TASK_ID']) - first}/"
                           f"{environ['SLURM_ARRAY_TASK_COUNT']}")
    if "JOB_COMPLETION_INDEX" in environ:
        if "LOTTERY_TF_SHARD_COUNT" not in environ:
            raise ConfigError("JOB_COMPLETION_INDEX is set (a Kubernetes indexed Job) but "
                              "LOTTERY_TF_SHARD_COUNT is not: set it to the Job's completions, "
                              "or pass --shard=i/n.")
        return parse_shard(f"{environ['JOB_COMPLETION_INDEX']}/{environ['LOTTERY_TF_SHARD_COUNT']}")
    return 0, 1


def pin_to_assigned_cpu() -> None:
    """Pins this process to the core its launcher chose (call before TensorFlow starts threads)."""
    cpu = os.environ.get(CPU_ENV)
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(cpu)})


def worker_environments(count: int, environ, pin: bool, cores: list[int]) -> list[dict]:
    """The environment of each of `count` local workers.

    With GPUs listed in CUDA_VISIBLE_DEVICES, worker i sees only the i-th (round robin);
    with `pin`, worker i is pinned to core i of `cores` (round robin).
    """
    gpus = [gpu for gpu in environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if gpu.strip()]
    environments = []
    for index in range(count):
        env = dict(environ)
        if gpus:
            env["CUDA_VISIBLE_DEVICES"] = gpus[index % len(gpus)]
        if pin and cores:
            env[CPU_ENV] = str(cores[index % len(cores)])
        environments.append(env)
    return environments


def start_workers(count: int, worker_args: list[str], pin: bool) -> int:
    """Starts `count` local workers (`python -m lottery_tf sweep ...`), waits for all of them.

    On CPU each gets one intra-op and one inter-op thread (several small trainings
    use the cores better than one training's threads do); with GPUs in
    CUDA_VISIBLE_DEVICES each gets one GPU. With `pin` each gets its own core.
    Ctrl-C stops them all.

    Returns:
      0 if every worker succeeded, else the first non-zero exit code.
    """
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    children = []
    for env in worker_environments(count, os.environ, pin, cores):
        threads = [] if "CUDA_VISIBLE_DEVICES" in env else ["--threads=1"]
        children.append(subprocess.Popen(
            [sys.executable, "-m", "lottery_tf", "sweep", *worker_args, *threads], env=env))
    codes = {}
    try:
        while len(codes) < count:
            pid, status = os.wait()  # reap each as it ends, so siblings see it gone at once
            codes[pid] = os.waitstatus_to_exitcode(status)
    except KeyboardInterrupt:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in children:
            child.wait()
        raise
    for child in children:  # Popen must not reap the pids again
        child.returncode = codes.get(child.pid, child.returncode)
    failed = [code for code in codes.values() if code != 0]
    return failed[0] if failed else 0
