"""Everything an experiment has stored so far: trunk levels, branches, and gaps.

Reads files only (never trains, never needs the dataset), so it can report on
an experiment that is still running: a run counts once its metrics.json, which
is written last, exists.
"""
import dataclasses
import json

from lottery_tf.storage.catalog import StoredExperiment, level_folders, stored_replicates
from lottery_tf.storage.runs import branch_runs, trunk_runs

# replicate -> level -> metrics.json contents
RunsByReplicate = dict[int, dict[int, dict]]


@dataclasses.dataclass
class Missing:
    """What is absent relative to the most seen: the largest replicate number,
    the deepest level any replicate reached, and each branch's levels.

    Attributes:
      replicates: replicate numbers below the largest one that have no folder.
      levels: replicate -> trunk levels up to the deepest seen without metrics.
      training: replicate -> those of `levels` whose folder exists (still running
        or interrupted).
      branches: branch label -> (replicate, level) pairs that another replicate has.
    """

    replicates: list[int] = dataclasses.field(default_factory=list)
    levels: dict[int, list[int]] = dataclasses.field(default_factory=dict)
    training: dict[int, list[int]] = dataclasses.field(default_factory=dict)
    branches: dict[str, list[tuple[int, int]]] = dataclasses.field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.replicates or self.levels or self.branches)

    def lines(self) -> list[str]:
        """One readable line per gap (empty when nothing is missing)."""
        lines = [f"replicate {r}: missing (no folder)" for r in self.replicates]
        for replicate, levels in self.levels.items():
            running = self.training.get(replicate, [])
            detail = f" ({', '.join(map(str, running))} started, not finished)" if running else ""
            lines.append(f"replicate {replicate}: trunk level(s) {', '.join(map(str, levels))} "
                         f"missing{detail}")
        for label, pairs in self.branches.items():
            where = ", ".join(f"replicate {r} level {level}" for r, level in pairs)
            lines.append(f"branch {label}: missing at {where}")
        return lines


@dataclasses.dataclass
class Collected:
    """One experiment's finished runs.

    Attributes:
      experiment: where it is stored and its config.
      trunk: replicate -> level -> trunk metrics.
      branches: branch label -> replicate -> level -> branch metrics. The label
        is the branch name, plus its arguments when one name was run with several.
      missing: the gaps.
    """

    experiment: StoredExperiment
    trunk: RunsByReplicate
    branches: dict[str, RunsByReplicate]
    missing: Missing

    @property
    def replicates(self) -> list[int]:
        return sorted(self.trunk)


def _scan_branches(experiment: StoredExperiment, replicate: int, max_level: int) -> list[dict]:
    """Every finished branch run of one replicate, in `results.runs.branch_runs`'s order."""
    found = branch_runs(experiment.paths, replicate, max_level)
    return [run for runs in found.values() for run in runs]


def _args_key(run: dict) -> str:
    return json.dumps(run.get("branch_args", {}), sort_keys=True)


def branch_labels(runs: list[dict]) -> dict[tuple[str, str], str]:
    """A label per (branch name, arguments) that is the same in every replicate.

    Branch folders are named by a hash that covers the seed, which differs
    between replicates; labels from the name and the arguments that differ
    between a name's variants line up across replicates instead.

    Args:
      runs: branch metrics (each with "branch" and "branch_args").

    Returns:
      (name, canonical JSON of the arguments) -> label, e.g. `lmc` or `lmc[points=5]`.
    """
    variants: dict[str, dict[str, dict]] = {}
    for run in runs:
        variants.setdefault(run["branch"], {})[_args_key(run)] = run.get("branch_args", {})
    labels = {}
    for name, by_key in variants.items():
        keys = sorted({key for args in by_key.values() for key in args})
        differing = [key for key in keys if len({json.dumps(a.get(key)) for a in by_key.values()}) > 1]
        for args_key, args in by_key.items():
            if len(by_key) == 1:
                labels[(name, args_key)] = name
            else:
                shown = ",".join(f"{key}={args.get(key)}" for key in differing)
                labels[(name, args_key)] = f"{name}[{shown}]"
    return labels


def _missing(experiment: StoredExperiment, trunk: RunsByReplicate, replicates: list[int],
             max_level: int, branch_runs: dict[str, RunsByReplicate]) -> Missing:
    missing = Missing()
    if replicates:
        missing.replicates = sorted(set(range(max(replicates) + 1)) - set(replicates))
    for replicate in replicates:
        absent = [level for level in range(max_level + 1) if level not in trunk.get(replicate, {})]
        if absent:
            missing.levels[replicate] = absent
            started = set(level_folders(experiment.paths, replicate))
            running = [level for level in absent if level in started]
            if running:
                missing.training[replicate] = running
    for label, by_replicate in branch_runs.items():
        levels = sorted({level for runs in by_replicate.values() for level in runs})
        gaps = [(r, level) for r in replicates for level in levels if level not in by_replicate.get(r, {})]
        if gaps:
            missing.branches[label] = gaps
    return missing


def collect(experiment: StoredExperiment) -> Collected:
    """Reads every finished trunk level and branch of an experiment.

    Args:
      experiment: from `results.catalog.find_experiments`.

    Returns:
      The runs by replicate and level, and what is missing.

    Raises:
      StoreError: a metrics.json is corrupt.
    """
    paths = experiment.paths
    replicates = stored_replicates(paths)
    levels_seen = [level for r in replicates for level in level_folders(paths, r)]
    max_level = max(levels_seen, default=-1)
    trunk: RunsByReplicate = {}
    scanned: list[tuple[int, dict]] = []
    for replicate in replicates:
        finished = trunk_runs(paths, replicate)
        if finished:
            trunk[replicate] = finished
        scanned.extend((replicate, run) for run in _scan_branches(experiment, replicate, max_level))
    labels = branch_labels([run for _, run in scanned])
    branch_runs: dict[str, RunsByReplicate] = {}
    for replicate, run in scanned:
        label = labels[(run["branch"], _args_key(run))]
        branch_runs.setdefault(label, {}).setdefault(replicate, {})[int(run["level"])] = run
    return Collected(experiment, trunk, branch_runs,
                     _missing(experiment, trunk, replicates, max_level, branch_runs))


def has_stored_runs(collected: Collected) -> bool:
    """Whether any trunk level has finished (a report needs at least one)."""
    return any(collected.trunk.values())


def describe(collected: Collected) -> str:
    """A one-line inventory, e.g. `2 replicates, levels 0-2, branches: lmc, reinit`."""
    levels = sorted({level for runs in collected.trunk.values() for level in runs})
    span = f"levels {levels[0]}-{levels[-1]}" if levels else "no finished level"
    names = ", ".join(sorted(collected.branches)) or "none"
    return f"{len(collected.trunk)} replicate(s), {span}, branches: {names}"
