"""`python -m lottery_tf status`: what every experiment under a root is doing, from files only.

Per experiment: its sweep units finished / running (by whom, how far) / waiting /
failed, its trainings and iterations done with the time left, and every training
run held by a live process (sweep or not) with a progress bar from its last
checkpoint; with neither, how many trunk levels and branch runs finished. Reads
small JSON files (through the storage layer, so any `tf.io.gfile` root); loads no data.
"""
import dataclasses
import json
import os

from lottery_tf.errors import CorruptFileError, StoreError
from lottery_tf.storage import files, holders, store
from lottery_tf.storage.catalog import stored_replicates
from lottery_tf.storage.lock import LOCK
from lottery_tf.storage.paths import ExperimentPaths
from lottery_tf.storage.runs import branch_runs, trunk_runs
from lottery_tf.sweeps import claims

BAR_WIDTH = 24
# The time left is read at the mean speed of this many most recently finished trainings, so
# a machine that got busier or quieter (or a pause) shows within a few trainings.
RECENT_TRAININGS = 10


def progress_bar(done: int, total: int) -> str:
    """`[#########---------------]  30/80` (done clipped to [0, total])."""
    total = max(total, 1)
    done = min(max(done, 0), total)
    filled = round(BAR_WIDTH * done / total)
    return f"[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {done:>{len(str(total))}}/{total}"


def _read(path: str) -> dict | None:
    try:
        return store.read_json(path)
    except (OSError, StoreError, CorruptFileError, json.JSONDecodeError):
        return None  # being replaced, or damaged: status only reports, the runs repair


@dataclasses.dataclass(frozen=True)
class Budget:
    """How many iterations a sweep's trainings run.

    `train_steps` is a level's length; `trunk_iterations[L]` what trunk level L trains
    (less for a level rewound to step k, a short level or one early-bird may stop;
    plans written before it was recorded count `train_steps` for every training).
    """

    train_steps: int
    trunk_iterations: tuple[int, ...] = ()

    def trunk_level(self, level: int) -> int:
        if level < len(self.trunk_iterations):
            return self.trunk_iterations[level]
        return self.train_steps


def _plans(experiment_dir: str) -> tuple[dict, Budget | None]:
    """Every unit named by any sweep plan of the experiment (by id), and the trainings' lengths."""
    units, budget = {}, None
    for path in files.glob(files.join(claims.sweep_dir(experiment_dir), "plan_*.json")):
        plan = _read(path)
        if plan:
            if plan.get("train_steps"):
                budget = Budget(plan["train_steps"], tuple(plan.get("trunk_iterations") or ()))
            units.update({unit["id"]: unit for unit in plan["units"]})
    return units, budget


def running_runs(experiment_dir: str) -> list[dict]:
    """Training runs whose lock (storage/lock.py) is held by a live process, with their
    last checkpointed step and (from checkpoints that record it) their start and end steps."""
    runs = []
    for replicate in files.glob(files.join(experiment_dir, "replicate_*")):
        for run_dir, _, names in files.walk(replicate):
            holder = holders.read_holder(files.join(run_dir, LOCK)) if LOCK in names else None
            if not holders.holder_alive(holder):
                continue
            latest = _read(files.join(run_dir, "checkpoints", "latest.json")) or {}
            runs.append({"run": run_dir[len(experiment_dir):].lstrip("/"), "host": holder.get("host"),
                         "pid": holder.get("pid"), "step": latest.get("step", 0),
                         "start_step": latest.get("start_step"), "end_step": latest.get("end_step")})
    return sorted(runs, key=lambda run: run["run"])


def _count(number: int) -> str:
    return f"{number:,}" if number < 100_000 else f"{number / 1e6:.2f} M"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def run_progress(run: dict, budget: Budget | None) -> tuple[int, int] | None:
    """(iterations done, iterations in all) of a running training: from its checkpoint's
    span, else its step against a level's length; None with neither."""
    if run.get("start_step") is not None and run.get("end_step") is not None:
        total = run["end_step"] - run["start_step"]
        return min(max(run["step"] - run["start_step"], 0), total), total
    if budget is None:
        return None
    return min(run["step"], budget.train_steps), budget.train_steps


def training_progress(experiment_dir: str, units: dict, budget: Budget | None,
                      runs: list[dict]) -> str | None:
    """One line on the sweep's trainings (a trunk unit holds one per level, a branch unit one):
    how many finished, the iterations done, the mean speed of the `RECENT_TRAININGS` latest
    finished trainings, and the time left at that speed with as many trainings at once as
    are running now.

    A trunk level counts the iterations the plan gives it (`Budget`), a branch run a
    level's length.
    """
    if not units or budget is None:
        return None
    paths = ExperimentPaths.of(experiment_dir)
    total = done = finished = trainings = 0
    for unit_id, unit in units.items():
        if unit["branch"] is None:
            for level in range(unit["level"] + 1):
                trainings += 1
                total += budget.trunk_level(level)
                if files.exists(paths.metrics(unit["replicate"], level)):
                    finished += 1
                    done += budget.trunk_level(level)
        else:
            trainings += 1
            total += budget.train_steps
            if claims.outcome(claims.unit_dir(experiment_dir, unit_id)) == "done":
                finished += 1
                done += budget.train_steps
    done += sum(progress[0] for run in runs if (progress := run_progress(run, budget)))
    line = (f"  trainings: {finished} of {trainings} finished, {len(runs)} running; "
            f"{_count(done)} of {_count(total)} iterations")
    if recent := recent_speed(_finished_runs(paths)):
        speed, count = recent
        line += f"; {speed:,.0f} it/s per training (last {count} finished)"
        left = total - done
        if runs and left > 0:
            line += f", ~{_duration(left / (speed * len(runs)))} left at {len(runs)} at once"
    return line


def recent_speed(finished: list[dict]) -> tuple[float, int] | None:
    """The mean iterations per second of the `RECENT_TRAININGS` latest finished trainings
    (by `finished_at`) and how many that is, or None if no run has a speed. Runs stored
    before `finished_at` existed are older than any that has it; with none that has it,
    all of them count."""
    timed, untimed = [], []
    for metrics in finished:
        steps = (metrics.get("final_step") or 0) - (metrics.get("start_step") or 0)
        if steps > 0 and (metrics.get("wall_seconds") or 0) > 0:
            speed = steps / metrics["wall_seconds"]
            if metrics.get("finished_at"):
                timed.append((metrics["finished_at"], speed))
            else:
                untimed.append(speed)
    recent = [speed for _, speed in sorted(timed)[-RECENT_TRAININGS:]] or untimed
    return (sum(recent) / len(recent), len(recent)) if recent else None


def _finished_runs(paths: ExperimentPaths) -> list[dict]:
    """The metrics of every finished trunk level and branch run (none if one is damaged:
    status only reports, the runs repair)."""
    try:
        return [metrics for replicate in stored_replicates(paths)
                for metrics in [*trunk_runs(paths, replicate).values(),
                                *(run for runs in branch_runs(paths, replicate).values() for run in runs)]]
    except (OSError, StoreError, CorruptFileError, json.JSONDecodeError):
        return []


def _describe(unit: dict) -> str:
    if unit["branch"] is None:
        return f"replicate {unit['replicate']} trunk (levels 0-{unit['level']})"
    args = ",".join(f"{key}={value}" for key, value in sorted(unit["args"].items()))
    return (f"replicate {unit['replicate']} level {unit['level']} {unit['branch']}"
            + (f"[{args}]" if args else ""))


def experiment_status(experiment_dir: str) -> str:
    """The status lines of one experiment folder."""
    units, budget = _plans(experiment_dir)
    runs = running_runs(experiment_dir)
    paths = ExperimentPaths.of(experiment_dir)
    lines = [os.path.basename(experiment_dir)]
    counts = {"finished": 0, "running": 0, "waiting": 0, "failed": 0}
    details = []
    for unit_id, unit in units.items():
        directory = claims.unit_dir(experiment_dir, unit_id)
        outcome = claims.outcome(directory)
        holder = claims.read_holder(directory)
        if outcome == "done":
            counts["finished"] += 1
        elif outcome == "failed":
            counts["failed"] += 1
            error = (_read(files.join(directory, claims.FAILED)) or {}).get("error", "?")
            details.append(f"  failed   {_describe(unit)}: {error.splitlines()[-1] if error else '?'}")
        elif claims.holder_alive(holder):
            counts["running"] += 1
            details.append(f"  running  {_describe(unit)}  by {holder['host']}:{holder['pid']}")
        else:
            counts["waiting"] += 1
            trunk_done = unit["branch"] is None or files.exists(
                paths.metrics(unit["replicate"], unit["level"]))
            details.append(f"  waiting  {_describe(unit)}"
                           + ("" if trunk_done else f" (for trunk level {unit['level']})"))
    if units:
        lines.append("  sweep units: " + "  ".join(f"{name} {count}" for name, count in counts.items()))
        progress = training_progress(experiment_dir, units, budget, runs)
        if progress:
            lines.append(progress)
    lines.extend(details)
    for run in runs:
        progress = run_progress(run, budget)
        bar = progress_bar(*progress) if progress else f"step {run['step']}"
        lines.append(f"  training {run['run']:<48} {bar}  by {run['host']}:{run['pid']}")
    if not units and not runs:
        trunk, branches = finished_counts(experiment_dir)
        lines.append(f"  no sweep, nothing training; {trunk} trunk levels finished, "
                     f"{branches} branch runs finished")
    return "\n".join(lines)


def finished_counts(experiment_dir: str) -> tuple[int, int]:
    """How many trunk levels and branch runs of the experiment finished.

    A run is finished once its metrics.json exists (`storage.runs`); the files are
    counted, not read, so a large experiment on a remote root is counted quickly.
    A branch of several runs (a rewind sweep, lmc) counts once per level, as
    `runs.branch_runs` lists it.

    Args:
      experiment_dir: the experiment's folder.

    Returns:
      (trunk levels, branch runs) over every replicate.
    """
    level = files.join(experiment_dir, "replicate_*", "level_*")
    return (len(files.glob(files.join(level, "metrics.json"))),
            len(files.glob(files.join(level, "branch_*", "metrics.json"))))


def root_status(root: str) -> str:
    """Status of every experiment under `root`.

    Raises:
      StoreError: `root` is not a folder.
    """
    if not files.isdir(root):
        raise StoreError(f"--root={root} is not a folder; name the folder that holds the experiments.")
    experiments = [path for path in files.glob(files.join(root, "*"))
                   if files.isfile(files.join(path, "config.json"))]
    if not experiments:
        return f"No experiments under {root}."
    return "\n\n".join(experiment_status(path) for path in experiments)
