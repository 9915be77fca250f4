"""Mean, min and max over replicates, per run kind and level. Pure: no files, no plotting.

A *run kind* is the ticket (the trunk) or one control/analysis branch label.
How a branch's runs count is its record's `shown_as` (experiments/branches/registry.py),
one of the shapes below. The report reads stored files only, so it tells the
shapes apart by the key each keeps in metrics.json (`SHOWN_AS_KEYS`):
a branch of one training per level is a run kind like the ticket; one training
per rewind step (`rewind_sweep`) becomes one kind per step (`rewind_sweep@500`);
an interpolation path (`lmc`) is summarized separately (`lmc_levels`).
"""
import dataclasses
import math
from collections.abc import Iterable, Mapping

import numpy as np

TICKET = "ticket"
# Trunk levels cut short to rank weights (`short_level` in metrics.json): not tickets.
SHORT_LEVEL = "short_level"
# metrics.json mark of a branch run that is its trunk procedure's own ticket at a level the
# trunk cut short (`full_ticket`): reports put it on the trunk's line, not a control's.
TRUNK_TICKET = "trunk_ticket"
# What a run needs to appear in the accuracy tables and figures.
HEADLINE = ("early_stop_test_accuracy", "test_accuracy", "early_stop_step", "percent_remaining")

RunsByReplicate = Mapping[int, Mapping[int, dict]]

# The shapes of a branch's stored runs (a branch record's `shown_as`).
ONE_TRAINING = "one_training"  # one training per level, summarized like a trunk level
PER_REWIND_STEP = "per_rewind_step"  # one training per rewind point, headlines in `by_rewind_step`
TRAINING_PATH = "training_path"  # two trainings and the test error on the line between them
# The key a stored run of each shape other than ONE_TRAINING holds.
SHOWN_AS_KEYS = {PER_REWIND_STEP: "by_rewind_step", TRAINING_PATH: "alphas"}


def shown_as(run: Mapping) -> str:
    """The shape of one stored branch run (`ONE_TRAINING`, `PER_REWIND_STEP` or
    `TRAINING_PATH`), read from the keys of its metrics."""
    return next((shape for shape, key in SHOWN_AS_KEYS.items() if key in run), ONE_TRAINING)


@dataclasses.dataclass(frozen=True)
class Spread:
    """Mean, min and max of one quantity over replicates."""

    mean: float
    min: float
    max: float
    count: int

    @classmethod
    def of(cls, values: Iterable[float]) -> "Spread":
        """The spread of `values` (NaN entries, e.g. an empty validation split, are kept out).

        Raises:
          ValueError: no finite value.
        """
        finite = [float(v) for v in values if v is not None and not math.isnan(float(v))]
        if not finite:
            raise ValueError("No finite value to summarize.")
        return cls(float(np.mean(finite)), min(finite), max(finite), len(finite))


@dataclasses.dataclass(frozen=True)
class LevelStats:
    """One run kind at one level, over the replicates that have it."""

    kind: str
    level: int
    replicates: tuple[int, ...]
    percent_remaining: Spread
    accuracy_at_early_stop: Spread
    final_accuracy: Spread
    early_stop_step: Spread


@dataclasses.dataclass(frozen=True)
class Band:
    """A quantity along some x axis: mean, min and max over replicates."""

    x: np.ndarray
    mean: np.ndarray
    min: np.ndarray
    max: np.ndarray
    count: int


@dataclasses.dataclass(frozen=True)
class LmcStats:
    """One lmc branch label at one level, over replicates."""

    level: int
    replicates: tuple[int, ...]
    percent_remaining: float
    start_steps: tuple[int, ...]
    errors: Band
    instability: Spread


def trunk_tickets(trunk: RunsByReplicate, branches: Mapping[str, RunsByReplicate]) -> RunsByReplicate:
    """replicate -> level -> the trunk procedure's ticket: the trunk level, or where the trunk
    cut the level short and `full_ticket` trained it fully, that branch run."""
    tickets = {r: {level: run for level, run in levels.items() if not run.get("short_level")}
               for r, levels in trunk.items()}
    for runs in branches.values():
        for replicate, levels in runs.items():
            for level, run in levels.items():
                if run.get(TRUNK_TICKET):
                    tickets.setdefault(replicate, {})[level] = run
    return tickets


def run_kinds(trunk: RunsByReplicate, branches: Mapping[str, RunsByReplicate]) -> dict[str, dict]:
    """The ticket and every branch that is one training per level, as run kinds.

    Args:
      trunk: replicate -> level -> trunk metrics.
      branches: label -> replicate -> level -> branch metrics.

    Returns:
      kind -> replicate -> level -> metrics holding at least `HEADLINE`, the
      ticket first (with the `full_ticket` runs of levels the trunk cut short), then
      the trunk's short levels (`SHORT_LEVEL`, when any: their training only ranked
      weights, so they are no tickets), then branch labels sorted, rewind steps in
      step order.
    """
    kinds: dict[str, dict] = {TICKET: trunk_tickets(trunk, branches)}
    short = {r: {level: run for level, run in levels.items() if run.get("short_level")}
             for r, levels in trunk.items()}
    if any(short.values()):
        kinds[SHORT_LEVEL] = {r: levels for r, levels in short.items() if levels}
    for label in sorted(branches):
        found: dict[str, dict] = {}
        for replicate, by_level in branches[label].items():
            for level, run in by_level.items():
                shape = shown_as(run)
                if run.get(TRUNK_TICKET):  # in the ticket's kind already
                    continue
                if shape == PER_REWIND_STEP:
                    for step, headline in run[SHOWN_AS_KEYS[PER_REWIND_STEP]].items():
                        # The sweep's summary keeps the level's sparsity once, not per step.
                        found.setdefault(f"{label}@{step}", {}).setdefault(replicate, {})[level] = {
                            **headline, "level": level, "percent_remaining": run["percent_remaining"]}
                elif shape == ONE_TRAINING and all(key in run for key in HEADLINE):
                    found.setdefault(label, {}).setdefault(replicate, {})[level] = run
        for kind in sorted(found, key=_kind_order):
            kinds[kind] = found[kind]
    return kinds


def _kind_order(kind: str) -> tuple[str, int]:
    name, _, step = kind.rpartition("@")
    return (name, int(step)) if step.isdigit() and name else (kind, -1)


def by_level(runs: RunsByReplicate) -> dict[int, dict[int, dict]]:
    """replicate -> level -> run turned into level -> replicate -> run, levels sorted."""
    levels: dict[int, dict[int, dict]] = {}
    for replicate in sorted(runs):
        for level, run in runs[replicate].items():
            levels.setdefault(int(level), {})[replicate] = run
    return dict(sorted(levels.items()))


def level_stats(kind: str, runs: RunsByReplicate) -> list[LevelStats]:
    """Spread over replicates of each headline number, per level (levels in order).

    Args:
      kind: the run kind's name, kept in the result.
      runs: replicate -> level -> metrics holding `HEADLINE`.

    Returns:
      One `LevelStats` per level that at least one replicate finished.
    """
    stats = []
    for level, replicates in by_level(runs).items():
        metrics = list(replicates.values())
        stats.append(LevelStats(
            kind=kind, level=level, replicates=tuple(replicates),
            percent_remaining=Spread.of(m["percent_remaining"] for m in metrics),
            accuracy_at_early_stop=Spread.of(m["early_stop_test_accuracy"] for m in metrics),
            final_accuracy=Spread.of(m["test_accuracy"] for m in metrics),
            early_stop_step=Spread.of(m["early_stop_step"] for m in metrics)))
    return stats


def summarize(trunk: RunsByReplicate, branches: Mapping[str, RunsByReplicate]) -> dict[str, list[LevelStats]]:
    """`level_stats` of every run kind (see `run_kinds`), in the same order."""
    return {kind: level_stats(kind, runs) for kind, runs in run_kinds(trunk, branches).items()}


def curve_band(runs: Iterable[dict], key: str = "test_accuracy") -> Band | None:
    """A training curve's mean, min and max over runs at the steps all of them evaluated.

    Args:
      runs: metrics with a "curve" (list of {"step", key, ...}; a None or NaN
        value means not evaluated at that step).
      key: the curve quantity, e.g. "test_accuracy".

    Returns:
      The band, or None when the runs share no evaluated step.
    """
    # Runs evaluate the test set only every `runtime.test_every` steps and where the
    # validation loss improves (None elsewhere), so steps differ between replicates;
    # the band uses the steps every run evaluated.
    curves = [{int(point["step"]): float(point[key]) for point in run["curve"]
               if point.get(key) is not None and math.isfinite(point[key])}
              for run in runs if run.get("curve")]
    if not curves:
        return None
    steps = sorted(set.intersection(*(set(curve) for curve in curves)))
    if not steps:
        return None
    values = np.array([[curve[step] for step in steps] for curve in curves])
    return Band(np.array(steps, dtype=float), values.mean(axis=0), values.min(axis=0),
                values.max(axis=0), len(curves))


def lmc_kinds(branches: Mapping[str, RunsByReplicate]) -> dict[str, RunsByReplicate]:
    """The branch labels whose runs hold an interpolation path (`TRAINING_PATH`, e.g. `lmc`)."""
    return {label: runs for label, runs in sorted(branches.items())
            if any(shown_as(run) == TRAINING_PATH for levels in runs.values() for run in levels.values())}


def lmc_levels(runs: RunsByReplicate) -> list[LmcStats]:
    """Error along the path and instability of one lmc label, per level, over replicates.

    Raises:
      ValueError: replicates of one level evaluated different alphas (cannot be
        averaged point by point).
    """
    stats = []
    for level, replicates in by_level(runs).items():
        metrics = [m for m in replicates.values() if "alphas" in m]
        if not metrics:
            continue
        alphas = np.array(metrics[0]["alphas"], dtype=float)
        if any(len(m["alphas"]) != len(alphas) or not np.allclose(m["alphas"], alphas) for m in metrics):
            raise ValueError(f"lmc runs of level {level} used different interpolation points.")
        errors = np.array([m["errors"] for m in metrics], dtype=float)
        stats.append(LmcStats(
            level=level, replicates=tuple(r for r, m in replicates.items() if "alphas" in m),
            percent_remaining=float(np.mean([m["percent_remaining"] for m in metrics])),
            start_steps=tuple(sorted({int(m.get("start_step", -1)) for m in metrics})),
            errors=Band(alphas, errors.mean(axis=0), errors.min(axis=0), errors.max(axis=0), len(metrics)),
            instability=Spread.of(m["instability"] for m in metrics)))
    return stats


def most_replicates(levels: Iterable[LevelStats | LmcStats]) -> int:
    """The largest number of replicates at any one level (what a legend's n says)."""
    return max((len(s.replicates) for s in levels), default=0)


def percents_by_level(stats: Mapping[str, Iterable[LevelStats]]) -> dict[int, float]:
    """level -> percent remaining over every run kind, the ticket's value where it has the
    level (controls may miss levels, or differ by rounding); levels sorted."""
    percents: dict[int, float] = {}
    for kind in sorted(stats, key=lambda k: k == TICKET):  # ticket last: its values win
        percents.update(level_percents(stats[kind]))
    return dict(sorted(percents.items()))


def level_percents(stats: Iterable[LevelStats]) -> dict[int, float]:
    """level -> mean percent remaining (the x positions of the level ticks)."""
    return {s.level: s.percent_remaining.mean for s in stats}


def curve_levels(percents: Mapping[int, float], target_percent: float = 20.0) -> list[int]:
    """Default levels for the training-curve figure: 0, the one nearest `target_percent`, the last.

    Args:
      percents: level -> percent remaining.
      target_percent: the middle level's target sparsity (Frankle & Carbin show ~20%).

    Returns:
      Sorted distinct levels (fewer than three when they coincide).
    """
    if not percents:
        return []
    levels = sorted(percents)
    near = min(levels, key=lambda level: (abs(percents[level] - target_percent), level))
    return sorted({levels[0], near, levels[-1]})
