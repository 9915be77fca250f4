"""`python -m lottery_tf status`: what every experiment under a root is doing, from files only.

Per experiment: its sweep units finished / running (by whom, how far) / waiting /
failed, and every training run held by a live process (sweep or not) with a
progress bar from its last checkpoint. Reads small JSON files (through the storage
layer, so any `tf.io.gfile` root); loads no data.
"""
import json
import os

from lottery_tf.errors import CorruptFileError, StoreError
from lottery_tf.storage import files, holders, store
from lottery_tf.storage.lock import LOCK
from lottery_tf.sweeps import claims

BAR_WIDTH = 24


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


def _plans(experiment_dir: str) -> tuple[dict, int | None]:
    """Every unit named by any sweep plan of the experiment (by id), and the training length."""
    units, train_steps = {}, None
    for path in files.glob(files.join(claims.sweep_dir(experiment_dir), "plan_*.json")):
        plan = _read(path)
        if plan:
            train_steps = plan.get("train_steps", train_steps)
            units.update({unit["id"]: unit for unit in plan["units"]})
    return units, train_steps


def running_runs(experiment_dir: str) -> list[dict]:
    """Training runs whose lock (storage/lock.py) is held by a live process, with their
    last checkpointed step."""
    runs = []
    for replicate in files.glob(files.join(experiment_dir, "replicate_*")):
        for run_dir, _, names in files.walk(replicate):
            holder = holders.read_holder(files.join(run_dir, LOCK)) if LOCK in names else None
            if not holders.holder_alive(holder):
                continue
            latest = _read(files.join(run_dir, "checkpoints", "latest.json")) or {}
            runs.append({"run": run_dir[len(experiment_dir):].lstrip("/"), "host": holder.get("host"),
                         "pid": holder.get("pid"), "step": latest.get("step", 0)})
    return sorted(runs, key=lambda run: run["run"])


def _describe(unit: dict) -> str:
    if unit["branch"] is None:
        return f"replicate {unit['replicate']} trunk (levels 0-{unit['level']})"
    args = ",".join(f"{key}={value}" for key, value in sorted(unit["args"].items()))
    return (f"replicate {unit['replicate']} level {unit['level']} {unit['branch']}"
            + (f"[{args}]" if args else ""))


def experiment_status(experiment_dir: str) -> str:
    """The status lines of one experiment folder."""
    units, train_steps = _plans(experiment_dir)
    runs = running_runs(experiment_dir)
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
            trunk_done = unit["branch"] is None or files.exists(files.join(
                experiment_dir, f"replicate_{unit['replicate']}", f"level_{unit['level']}",
                "metrics.json"))
            details.append(f"  waiting  {_describe(unit)}"
                           + ("" if trunk_done else f" (for trunk level {unit['level']})"))
    if units:
        lines.append("  sweep units: " + "  ".join(f"{name} {count}" for name, count in counts.items()))
    lines.extend(details)
    for run in runs:
        bar = progress_bar(run["step"], train_steps) if train_steps else f"step {run['step']}"
        lines.append(f"  training {run['run']:<48} {bar}  by {run['host']}:{run['pid']}")
    if not units and not runs:
        finished = len(files.glob(files.join(experiment_dir, "replicate_*", "level_*", "metrics.json")))
        lines.append(f"  no sweep, nothing training; {finished} trunk levels finished")
    return "\n".join(lines)


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
