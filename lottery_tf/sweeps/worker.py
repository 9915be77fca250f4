"""A sweep worker: takes ready, unfinished, unclaimed units and runs them until none is left.

A unit runs exactly what the command line runs (`lottery.run_replicate` for a
trunk, `run_branch` for a branch), so its results land in the same
folders and a rerun of either reads them back. Many workers, on one host or many,
share a root: each unit is claimed (sweep/claims.py) before it runs.
"""
import dataclasses
import os
import sys
import time
import traceback
from typing import TYPE_CHECKING

from lottery_tf.errors import LotteryError
from lottery_tf.storage import files, store
from lottery_tf.sweeps import claims
from lottery_tf.sweeps.spec import Sweep
from lottery_tf.sweeps.units import Unit, expand, shard

if TYPE_CHECKING:  # the training modules load TensorFlow; the worker imports them when it runs
    from lottery_tf.experiments.setup import Setup


@dataclasses.dataclass
class WorkerOptions:
    """How a worker schedules itself.

    Attributes:
      shard: (index, count) of the units this worker takes; (0, 1) = all.
      poll_seconds: wait between looks while every open unit is held or not ready.
      steal_after: seconds a worker waits on a trunk of another shard that nobody
        has claimed before running it itself (shards run one after another).
      retry_failed: run units recorded as failed again.
      quiet: no training progress on the console.
    """

    shard: tuple[int, int] = (0, 1)
    poll_seconds: float = 5.0
    steal_after: float = 300.0
    retry_failed: bool = False
    quiet: bool = True


def plan_path(experiment_dir: str, sweep: Sweep) -> str:
    return files.join(claims.sweep_dir(experiment_dir), f"plan_{sweep.digest}.json")


def run_unit(setup: "Setup", unit: Unit) -> dict:
    """Runs one unit as the command line would; returns what done.json records."""
    from lottery_tf.experiments.branches.runner import run_branch
    from lottery_tf.experiments.lottery import run_replicate

    if unit.is_trunk:
        results = run_replicate(setup, unit.replicate)
        return {"levels": [m["level"] for m in results]}
    metrics = run_branch(setup, unit.branch, unit.replicate, unit.level, dict(unit.args))
    return {"branch_folder": metrics.get("branch_folder")}


def _trunk_level_ready(setup: "Setup", unit: Unit) -> bool:
    return files.exists(setup.paths.metrics(unit.replicate, unit.level))


def run_worker(sweep: Sweep, root: str, options: WorkerOptions, stream=sys.stdout) -> dict:
    """Works on the sweep's units (this worker's shard) until each is done or failed.

    Returns:
      unit id -> 'done' | 'failed' | 'blocked' (a branch whose trunk failed).

    Raises:
      ConfigError, DataError: the experiment cannot be prepared (nothing runs then).
    """
    import tensorflow as tf

    from lottery_tf.experiments import ranking_levels
    from lottery_tf.experiments.setup import prepare

    setup = prepare(sweep.config, root, tf.distribute.get_strategy(), options.quiet)
    experiment = setup.paths.dir
    everything = expand(sweep)
    mine = shard(everything, *options.shard)
    trunk_of = {unit.replicate: unit for unit in everything if unit.is_trunk}
    store.write_json(plan_path(experiment, sweep), {
        "sweep": sweep.path, "train_steps": setup.train_steps, "levels": sweep.config.levels,
        "trunk_iterations": [ranking_levels.trunk_level_iterations(setup, level)
                             for level in range(max((unit.level for unit in everything), default=0) + 1)],
        "units": [unit.to_json() for unit in everything]})
    retried = set()
    idle_since = None
    while True:
        states = {unit: _state(experiment, unit, options, retried) for unit in mine}
        for unit in mine:
            if not unit.is_trunk and states[unit] is None and _state(
                    experiment, trunk_of[unit.replicate], options, retried) == "failed":
                states[unit] = "blocked"
        open_units = [unit for unit in mine if states[unit] is None]
        if not open_units:
            break
        ran = False
        for unit in _candidates(open_units, setup, trunk_of, experiment, idle_since, options):
            if _run_claimed(setup, experiment, unit, options, stream):
                retried.add(unit)
                ran = True
                break
        idle_since = None if ran else (idle_since or time.monotonic())
        if not ran:
            time.sleep(options.poll_seconds)
    _refresh_branch_summaries(setup, sweep)
    return {unit.id: states[unit] for unit in mine}


def _state(experiment: str, unit: Unit, options: WorkerOptions, retried: set) -> str | None:
    outcome = claims.outcome(claims.unit_dir(experiment, unit.id))
    if outcome == "failed" and options.retry_failed and unit not in retried:
        return None
    return outcome


def _candidates(open_units, setup, trunk_of, experiment, idle_since, options):
    """Open units that can start now, trunks first; after `steal_after` seconds idle, also
    the unclaimed trunks (of any shard) that this worker's branches wait for."""
    ready = [unit for unit in open_units if unit.is_trunk or _trunk_level_ready(setup, unit)]
    if idle_since is not None and time.monotonic() - idle_since >= options.steal_after:
        for unit in open_units:
            trunk = trunk_of[unit.replicate]
            outcome = claims.outcome(claims.unit_dir(experiment, trunk.id))
            settled = outcome == "done" or (outcome == "failed" and not options.retry_failed)
            if not unit.is_trunk and trunk not in ready and not settled:
                ready.insert(0, trunk)
    return ready


def _run_claimed(setup: "Setup", experiment: str, unit: Unit, options: WorkerOptions, stream) -> bool:
    """Claims and runs `unit`; False if another live worker holds it."""
    directory = claims.unit_dir(experiment, unit.id)
    if not claims.try_claim(directory, {"unit": unit.to_json(), "train_steps": setup.train_steps}):
        return False
    with claims.heartbeat(directory):
        outcome = claims.outcome(directory)  # settled by the worker whose claim we followed?
        if outcome == "done" or (outcome == "failed" and not options.retry_failed):
            return True
        stream.write(f"[pid {os.getpid()}] {unit.describe()}: started\n")
        stream.flush()
        started = time.time()
        try:
            result = run_unit(setup, unit)
        except Exception as error:  # recorded for `status`; the other units go on
            detail = "".join(traceback.format_exception_only(type(error), error)).strip()
            claims.record(directory, claims.FAILED, {
                "unit": unit.to_json(), "error": detail,
                "traceback": None if isinstance(error, LotteryError) else traceback.format_exc()})
            stream.write(f"[pid {os.getpid()}] {unit.describe()}: FAILED: {detail}\n")
            return True
        claims.clear(directory, claims.FAILED)  # an earlier failure, now retried
        claims.record(directory, claims.DONE, {"unit": unit.to_json(), **result,
                                               "seconds": time.time() - started})
        stream.write(f"[pid {os.getpid()}] {unit.describe()}: done in {time.time() - started:.0f}s\n")
        stream.flush()
    return True


def _refresh_branch_summaries(setup: "Setup", sweep: Sweep) -> None:
    """Rewrites each branch's summary CSV from all its finished levels: workers that finished
    levels of one branch at the same time may each have written it without the other's."""
    from lottery_tf.storage.runs import branch_runs
    from lottery_tf.storage.summaries import write_replicate_summary

    for replicate in sweep.replicates:
        for runs in branch_runs(setup.paths, replicate, setup.config.levels).values():
            singles = [run for run in runs if "early_stop_test_accuracy" in run]
            if singles:
                write_replicate_summary(setup.paths, replicate, singles,
                                        branch_folder=singles[0]["branch_folder"])
