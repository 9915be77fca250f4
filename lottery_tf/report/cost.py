"""Tickets for less: test accuracy at early stop against what the procedure that found the
ticket cost, per procedure and sparsity, over replicates. Pure: no files, no plotting.

A *procedure* is how a sparse network was found and trained: the trunk of an
experiment (IMP with its `retrain` mode, short levels, early-bird) or a branch
that trains one network per level (one_shot, random_prune, reinit, ...). Its cost
to reach a sparsity is the cumulative cost of its run at that level
(`training.cumulative_cost`): every training behind the mask, plus the run's own.

Experiments that differ only in procedure fields (`PROCEDURE_FIELDS`) are one
setting, compared line by line; runs of one procedure stored in several
experiments (short levels or early-bird with `levels` 10 and 15) are one line.
Experiments that differ in other hashed fields get those fields in their labels.
Short levels (training cut short to rank weights, `short_level` in metrics.json)
are not tickets and are left out.
"""
import dataclasses
from collections.abc import Mapping, Sequence

from lottery_tf.report import labels
from lottery_tf.report.aggregate import (
    HEADLINE,
    ONE_TRAINING,
    TRUNK_TICKET,
    Spread,
    by_level,
    shown_as,
    trunk_tickets,
)
from lottery_tf.report.collect import Collected
from lottery_tf.storage.cumulative_cost import Cost, cumulative_cost

# Hashed fields that choose the procedure rather than the setting it runs in.
PROCEDURE_FIELDS = ("levels", "retrain", "finetune_steps", "intermediate_steps")
PROCEDURE_SECTIONS = ("early_bird",)
REFERENCE = "IMP weight rewinding"  # what every other procedure is measured against
_RETRAIN_NAMES = {"weight_rewind": REFERENCE, "lr_rewind": "IMP lr rewinding",
                  "finetune": "IMP fine-tuning"}


@dataclasses.dataclass(frozen=True)
class CostPoint:
    """One procedure at one level, over the replicates that reached it with a full training.

    Attributes:
      procedure: its label.
      level: the trunk level (the sparsity reached).
      percent_remaining: mean percent of weights remaining.
      replicates: the replicates counted.
      accuracy: test accuracy at early stop (a fraction).
      iterations, flops_dense, flops_sparse: the cumulative cost; None where no
        replicate's is known.
    """

    procedure: str
    level: int
    percent_remaining: float
    replicates: tuple[int, ...]
    accuracy: Spread
    iterations: Spread | None
    flops_dense: Spread | None
    flops_sparse: Spread | None


def trunk_procedure(config: Mapping) -> str:
    """The procedure an experiment's trunk runs, from its stored config, e.g.
    `IMP weight rewinding + short levels 5000it + early-bird 0.1`."""
    retrain = config.get("retrain") or "weight_rewind"
    name = _RETRAIN_NAMES.get(retrain, f"IMP {retrain}")
    if retrain == "finetune" and config.get("finetune_steps"):
        name += f" {config['finetune_steps']}"
    if config.get("intermediate_steps"):
        name += f" + short levels {config['intermediate_steps']}"
    early_bird = config.get("early_bird") or {}
    if early_bird.get("threshold") is not None:
        name += f" + early-bird {early_bird['threshold']}"
    return name


def _is_setting(key: str) -> bool:
    """Whether a hashed field is part of the setting rather than of the procedure."""
    return key not in PROCEDURE_FIELDS and key.split(".")[0] not in PROCEDURE_SECTIONS


def setting_labels(configs: Mapping[str, Mapping]) -> dict[str, str]:
    """Experiment name -> the settings that tell it from the others (`key=value, ...`;
    empty when every experiment runs in the same setting)."""
    return labels.differing_settings(configs, _is_setting)


@dataclasses.dataclass(frozen=True)
class _Found:
    trunk_procedure: str
    setting: str
    kind: str  # "ticket" or the branch label
    runs: Mapping[int, Mapping[int, dict]]  # replicate -> level -> run
    trunk: Mapping[int, Mapping[int, dict]]  # replicate -> level -> trunk run


def _found(collected: Collected, setting: str) -> list[_Found]:
    procedure = trunk_procedure(collected.experiment.config)
    tickets = trunk_tickets(collected.trunk, collected.branches)
    found = [_Found(procedure, setting, "ticket", tickets, collected.trunk)]
    for label, runs in sorted(collected.branches.items()):
        one_training = {r: {level: run for level, run in levels.items()
                            if shown_as(run) == ONE_TRAINING and all(key in run for key in HEADLINE)
                            and not run.get(TRUNK_TICKET)}
                        for r, levels in runs.items()}
        if any(one_training.values()):
            found.append(_Found(procedure, setting, label, one_training, collected.trunk))
    return found


def _label(item: _Found, trunks_per_branch: Mapping[tuple[str, str], int]) -> str:
    if item.kind == "ticket":
        label = item.trunk_procedure
    elif trunks_per_branch[(item.kind, item.setting)] > 1:  # the same control off several trunks
        label = f"{item.kind} off {item.trunk_procedure}"
    else:
        label = item.kind
    return f"{label} [{item.setting}]" if item.setting else label


def procedure_runs(collected: Sequence[Collected]) -> dict[str, dict[int, dict[int, tuple[dict, Cost]]]]:
    """Every fully trained run of every procedure, with its cumulative cost.

    Args:
      collected: the experiments to compare (one, or several).

    Returns:
      procedure label -> replicate -> level -> (metrics, cumulative cost); trunk
      procedures first, then controls, each in name order. Where two experiments
      hold the same procedure's run (the same training), the first is kept.
    """
    settings = setting_labels({c.experiment.name: c.experiment.config for c in collected})
    items = [item for c in collected for item in _found(c, settings[c.experiment.name])]
    trunks_per_branch: dict[tuple[str, str], set] = {}
    for item in items:
        if item.kind != "ticket":
            trunks_per_branch.setdefault((item.kind, item.setting), set()).add(item.trunk_procedure)
    counts = {key: len(trunks) for key, trunks in trunks_per_branch.items()}
    items.sort(key=lambda item: (item.kind != "ticket", _label(item, counts)))
    result: dict[str, dict[int, dict[int, tuple[dict, Cost]]]] = {}
    for item in items:
        by_replicate = result.setdefault(_label(item, counts), {})
        for replicate, levels in item.runs.items():
            for level, run in levels.items():  # short levels are no tickets: `trunk_tickets` left them out
                cost = cumulative_cost({"level": level, **run}, item.trunk.get(replicate, {}))
                by_replicate.setdefault(replicate, {}).setdefault(int(level), (run, cost))
    return {label: runs for label, runs in result.items() if any(runs.values())}


def _spread(values) -> Spread | None:
    try:
        return Spread.of(values)
    except ValueError:  # no replicate's cost is known
        return None


def cost_points(procedures: Mapping[str, Mapping[int, Mapping[int, tuple[dict, Cost]]]]) -> list[CostPoint]:
    """Mean and min-max over replicates per procedure and level (levels in order, then
    procedures in the given order)."""
    points = []
    for order, (label, runs) in enumerate(procedures.items()):
        for level, replicates in by_level(runs).items():
            pairs = list(replicates.values())
            points.append((level, order, CostPoint(
                procedure=label, level=level,
                percent_remaining=Spread.of(run["percent_remaining"] for run, _ in pairs).mean,
                replicates=tuple(replicates),
                accuracy=Spread.of(run["early_stop_test_accuracy"] for run, _ in pairs),
                iterations=_spread(cost.iterations for _, cost in pairs),
                flops_dense=_spread(cost.flops_dense for _, cost in pairs),
                flops_sparse=_spread(cost.flops_sparse for _, cost in pairs))))
    return [point for _, _, point in sorted(points, key=lambda item: item[:2])]


def figure_levels(points: Sequence[CostPoint], most: int = 4) -> list[int]:
    """The levels a cost figure shows: those reached by the most procedures of known FLOPs
    (at least two), the sparsest `most` of them, in order; empty when no level has two."""
    counts: dict[int, int] = {}
    for point in points:
        if point.flops_dense is not None:
            counts[point.level] = counts.get(point.level, 0) + 1
    top = max(counts.values(), default=0)
    if top < 2:
        return []
    return sorted(level for level, count in counts.items() if count == top)[-most:]


def _setting_suffix(label: str) -> str:
    """` [key=value, ...]` of a label in a comparison across settings, else empty."""
    return label[label.index(" ["):] if label.endswith("]") and " [" in label else ""


@dataclasses.dataclass(frozen=True)
class VersusReference:
    """A procedure at one level against IMP with weight rewinding at that level (same setting).

    Attributes:
      accuracy_points: mean test accuracy at early stop minus IMP's, in percentage points.
      cost_ratio: mean cumulative dense-equivalent FLOPs over IMP's (iterations where a
        FLOPs figure is unknown; the two agree for one model and batch size).
    """

    accuracy_points: float
    cost_ratio: float | None


def versus_reference(points: Sequence[CostPoint]) -> dict[tuple[str, int], VersusReference]:
    """(procedure, level) -> how it compares with `REFERENCE` of its setting at its level;
    procedures at a level IMP did not reach are absent."""
    by_key = {(point.procedure, point.level): point for point in points}
    result = {}
    for point in points:
        reference = by_key.get((REFERENCE + _setting_suffix(point.procedure), point.level))
        if reference is None:
            continue
        ratio = None
        for attribute in ("flops_dense", "iterations"):
            mine, theirs = getattr(point, attribute), getattr(reference, attribute)
            if mine is not None and theirs is not None and theirs.mean:
                ratio = mine.mean / theirs.mean
                break
        result[(point.procedure, point.level)] = VersusReference(
            100 * (point.accuracy.mean - reference.accuracy.mean), ratio)
    return result
