"""Real worker processes sharing one root: a killed worker's unit is taken over, the results
equal one process's, Slurm-style shards split the units, and failures are recorded."""
import glob
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest
import tensorflow as tf

from lottery_tf.experiments import branches
from lottery_tf.experiments.config import experiment_name
from lottery_tf.experiments.lottery import run_replicate
from lottery_tf.experiments.setup import prepare
from lottery_tf.storage import store
from lottery_tf.storage.paths import ExperimentPaths
from lottery_tf.sweeps import claims
from lottery_tf.sweeps.spec import load_sweep
from lottery_tf.sweeps.status import root_status
from lottery_tf.sweeps.units import expand, shard
from lottery_tf.sweeps.worker import WorkerOptions, run_worker
from lottery_tf.testing import assert_same_results, stored_results, write_config_file

REPO = pathlib.Path(__file__).resolve().parents[2]
SETTINGS = {"rewind": "20it", "levels": 1}
# Tiny runs spend most of their time compiling; XLA adds nothing to what is tested here.
OVERRIDES = {"runtime.jit_compile": False}
BRANCHES = [{"name": "reinit", "levels": "1"}, {"name": "random_prune", "levels": "1"}]


def _write_sweep(tmp_path, data_dir, branch_list, replicates="0", **settings):
    config_file = write_config_file(tmp_path / "tiny.py", data_dir, **settings)
    path = tmp_path / "sweep.py"
    sweep = {"config": str(config_file), "overrides": OVERRIDES, "replicates": replicates,
             "branches": branch_list}
    path.write_text(f"def get_sweep():\n    return {sweep!r}\n")
    return path


def _worker(sweep_file, root, *flags, crash_at=None, env=None):
    environ = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **(env or {}))
    environ.pop("LOTTERY_TF_CRASH_AT", None)
    if crash_at:
        environ["LOTTERY_TF_CRASH_AT"] = crash_at
    return subprocess.Popen(
        [sys.executable, "-m", "lottery_tf", "sweep", f"--sweep={sweep_file}", f"--root={root}",
         "--quiet", "--poll_seconds=0.3", *flags],
        cwd=REPO, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_for(pattern, timeout=120):
    deadline = time.monotonic() + timeout
    while not glob.glob(pattern):
        assert time.monotonic() < deadline, f"nothing matched {pattern}"
        time.sleep(0.2)


def _finish(process, timeout=300):
    output, _ = process.communicate(timeout=timeout)
    return process.returncode, output


@pytest.fixture(scope="module")
def reference(tiny_mnist_dir, tmp_path_factory):
    """The sweep's results from one process calling what the command line calls."""
    root = tmp_path_factory.mktemp("one_process")
    sweep = load_sweep(_write_sweep(tmp_path_factory.mktemp("sweep"), tiny_mnist_dir, BRANCHES,
                                    **SETTINGS))
    setup = prepare(sweep.config, str(root), tf.distribute.get_strategy(), quiet=True)
    run_replicate(setup, 0)
    for unit in expand(sweep)[1:]:
        branches.run_branch(setup, unit.branch, 0, unit.level, dict(unit.args))
    return ExperimentPaths(str(root), experiment_name(sweep.config))


def test_three_workers_with_one_killed_midway_equal_one_process(reference, tiny_mnist_dir, tmp_path):
    sweep_file = _write_sweep(tmp_path, tiny_mnist_dir, BRANCHES, **SETTINGS)
    root = tmp_path / "runs"
    experiment = root / os.path.basename(reference.dir)
    # The doomed worker starts alone, so it surely holds a unit (the trunk) when it dies
    # at its second pause (level 0, step 40, after the step-20 checkpoint).
    doomed = _worker(sweep_file, root, crash_at="pause:2")
    _wait_for(str(experiment / "sweep" / "*" / claims.CLAIM))
    others = [_worker(sweep_file, root) for _ in range(2)]
    code, output = _finish(doomed)
    assert code == -signal.SIGKILL, output[-2000:]
    for process in others:
        code, output = _finish(process)
        assert code == 0, output[-3000:]

    paths = ExperimentPaths(str(root), os.path.basename(reference.dir))
    assert_same_results(stored_results(paths), stored_results(reference))
    done = [store.read_json(path) for path in glob.glob(str(experiment / "sweep" / "*" / claims.DONE))]
    assert sorted(record["unit"]["id"] for record in done) == sorted(
        unit.id for unit in expand(load_sweep(str(sweep_file))))
    assert doomed.pid not in {record["pid"] for record in done}
    assert not glob.glob(str(experiment / "sweep" / "*" / claims.CLAIM))  # every claim released
    assert not glob.glob(str(experiment / "**" / ".lock"), recursive=True)
    assert "finished 3  running 0  waiting 0  failed 0" in root_status(str(root))


# Slow: the unit split itself is unit-tested in test_sweep_units.py; this runs two real tasks.
@pytest.mark.slow
def test_two_slurm_array_tasks_split_the_units_without_overlap(tiny_mnist_dir, tmp_path):
    """Shard 1's branches wait for the trunk that shard 0 runs; shard 1 runs as two local workers."""
    sweep_file = _write_sweep(tmp_path, tiny_mnist_dir, [{"name": "reinit", "levels": "1"}], **SETTINGS)
    root = tmp_path / "runs"
    slurm = {"SLURM_ARRAY_TASK_COUNT": "2", "SLURM_ARRAY_JOB_ID": "77"}
    tasks = [_worker(sweep_file, root, env={**slurm, "SLURM_ARRAY_TASK_ID": "0"}),
             _worker(sweep_file, root, "--workers=2", env={**slurm, "SLURM_ARRAY_TASK_ID": "1"})]
    outputs = [_finish(task) for task in tasks]
    for code, output in outputs:
        assert code == 0, output[-3000:]

    sweep = load_sweep(str(sweep_file))
    units = expand(sweep)
    experiment = root / experiment_name(sweep.config)
    ran_by = {}
    for path in glob.glob(str(experiment / "sweep" / "*" / claims.DONE)):
        record = store.read_json(path)
        ran_by[record["unit"]["id"]] = record["pid"]
    assert sorted(ran_by) == sorted(unit.id for unit in units)
    assert ran_by["trunk_r0"] == tasks[0].pid
    shard_1 = [unit.id for unit in shard(units, 1, 2)]
    assert shard_1 and "trunk_r0" not in shard_1
    assert not {ran_by[unit] for unit in shard_1} & {tasks[0].pid, tasks[1].pid}  # its two children
    for unit in units[1:]:  # each branch's results are where the branch command puts them
        folder = store.read_json(str(experiment / "sweep" / unit.id / claims.DONE))["branch_folder"]
        assert os.path.exists(experiment / "replicate_0" / f"level_{unit.level}" / folder / "metrics.json")


def test_a_failing_unit_is_recorded_not_retried_and_shown(tiny_mnist_dir, tmp_path):
    sweep = load_sweep(_write_sweep(tmp_path, tiny_mnist_dir, [
        {"name": "retrain", "levels": "0", "args": {"config": str(tmp_path / "no_such_config.py")}}],
        levels=0))
    root = str(tmp_path / "runs")
    options = WorkerOptions(poll_seconds=0.1)
    states = run_worker(sweep, root, options)
    failed_id = expand(sweep)[1].id
    assert states == {"trunk_r0": "done", failed_id: "failed"}
    experiment = os.path.join(root, experiment_name(sweep.config))
    record = store.read_json(os.path.join(claims.unit_dir(experiment, failed_id), claims.FAILED))
    assert "no_such_config.py does not exist" in record["error"]

    started = time.monotonic()
    assert run_worker(sweep, root, options) == states  # nothing is retried
    assert time.monotonic() - started < 30
    text = root_status(root)
    assert "finished 1  running 0  waiting 0  failed 1" in text
    assert "no_such_config.py does not exist" in text


def test_status_shows_who_runs_what_and_how_far(tiny_mnist_dir, tmp_path):
    """A claim and a run lock held by this (live) process, with a checkpoint at step 40 of 60."""
    sweep = load_sweep(_write_sweep(tmp_path, tiny_mnist_dir, [{"name": "reinit", "levels": "1"}],
                                    **SETTINGS))
    root = tmp_path / "runs"
    experiment = root / experiment_name(sweep.config)
    store.write_json(str(experiment / "config.json"), {})
    trunk, branch = expand(sweep)
    store.write_json(str(experiment / "sweep" / "plan_x.json"), {
        "train_steps": 60, "units": [trunk.to_json(), branch.to_json()]})
    assert claims.try_claim(claims.unit_dir(str(experiment), trunk.id), {})
    assert not claims.try_claim(claims.unit_dir(str(experiment), trunk.id), {})  # held by a live worker
    level = experiment / "replicate_0" / "level_1"
    store.write_json(str(level / "checkpoints" / "latest.json"), {"step": 40})
    (level / ".lock").write_text(json.dumps(claims.me()))

    # Level 0 trained its 60 steps in 3 s: 20 it/s; 60 + 40 of 3 x 60 steps are done.
    store.write_json(str(experiment / "replicate_0" / "level_0" / "metrics.json"),
                     {"start_step": 0, "final_step": 60, "wall_seconds": 3.0})
    text = root_status(str(root))
    assert "finished 0  running 1  waiting 1  failed 0" in text
    assert ("trainings: 1 of 3 finished, 1 running; 100 of 180 iterations; 20 it/s per "
            "training (last 1 finished), ~4 s left at 1 at once") in text
    assert f"running  replicate 0 trunk (levels 0-1)  by {claims.me()['host']}:{os.getpid()}" in text
    assert "waiting  replicate 0 level 1 reinit (for trunk level 1)" in text
    assert "replicate_0/level_1" in text and "[################--------] 40/60" in text

    # The same claim left by a dead process is taken over.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    claim_file = pathlib.Path(claims.unit_dir(str(experiment), trunk.id)) / claims.CLAIM
    claim_file.write_text(json.dumps({**claims.me(), "pid": int(dead)}))
    assert "waiting  replicate 0 trunk" in root_status(str(root))
    assert claims.try_claim(claims.unit_dir(str(experiment), trunk.id), {})


def test_an_idle_shard_runs_the_trunk_it_waits_for_when_nobody_has_claimed_it(tiny_mnist_dir, tmp_path):
    """Shards run one after another (a throttled job array): shard 1 alone must still finish."""
    sweep = load_sweep(_write_sweep(tmp_path, tiny_mnist_dir, [{"name": "reinit", "levels": "0"}],
                                    levels=0))
    trunk, branch = expand(sweep)
    assert shard(expand(sweep), 1, 2) == [branch]
    root = str(tmp_path / "runs")
    states = run_worker(sweep, root, WorkerOptions(shard=(1, 2), poll_seconds=0.1, steal_after=0.2))
    assert states == {branch.id: "done"}
    experiment = os.path.join(root, experiment_name(sweep.config))
    trunk_record = store.read_json(os.path.join(claims.unit_dir(experiment, trunk.id), claims.DONE))
    assert trunk_record["pid"] == os.getpid()


def test_status_speed_is_that_of_the_latest_finished_trainings():
    """A slow start (or a pause) stops counting once RECENT_TRAININGS newer runs finished."""
    from lottery_tf.sweeps.status import RECENT_TRAININGS, recent_speed

    old = [{"start_step": 0, "final_step": 100, "wall_seconds": 10.0}] * 3  # no finished_at: oldest
    new = [{"start_step": 0, "final_step": 100, "wall_seconds": 1.0, "finished_at": 1000.0 + i}
           for i in range(RECENT_TRAININGS)]
    slow_start = [{"start_step": 0, "final_step": 100, "wall_seconds": 10.0, "finished_at": 900.0 + i}
                  for i in range(2)]
    assert recent_speed(old + new[::-1] + slow_start) == (pytest.approx(100.0), RECENT_TRAININGS)
    assert recent_speed(new[:2] + old) == (pytest.approx(100.0), 2)
    assert recent_speed(old) == (pytest.approx(10.0), 3)
    assert recent_speed([{"start_step": 5, "final_step": 5, "wall_seconds": 1.0}]) is None
