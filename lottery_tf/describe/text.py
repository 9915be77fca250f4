"""The `describe` command's printout: a `Description` as text tables (`report.console`)."""
from __future__ import annotations

from collections.abc import Callable, Sequence

from lottery_tf.describe.description import Description
from lottery_tf.report.console import Column, cell, text_table

STRATEGY_NAMES = {"layerwise": "layer-wise", "global": "global"}


def duration(seconds: float) -> str:
    """`seconds` in the unit a person reads best: `42.0 s`, `12.5 min`, `3.2 h`."""
    if seconds < 90:
        return f"{seconds:.1f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _shape(shape: Sequence[int]) -> str:
    return "x".join(str(size) for size in shape) or "scalar"


def _fitted(columns: Sequence[tuple[str, str, Callable]], rows: Sequence) -> list[Column]:
    """Columns as wide as their title and widest cell."""
    return [(title, max([len(title)] + [len(cell(value(row), 0, spec)) for row in rows]), spec, value)
            for title, spec, value in columns]


def _level_columns(count: int, percents: Callable) -> list[tuple[str, str, Callable]]:
    return [(f"L{level} %", ".1f", lambda row, i=level - 1: None if percents(row) is None
             else percents(row)[i]) for level in range(1, count + 1)]


def _header(description: Description) -> str:
    d = description
    folder = ("exists: results are stored there" if d.experiment_exists
              else "not created: describe writes nothing")
    # The rule's reasons say "XLA on/off" themselves; a config's value is just named.
    xla = (d.jit_reason if d.jit_reason.startswith("XLA")
           else f"XLA {'on' if d.jit_compile else 'off'} ({d.jit_reason})")
    return "\n".join([
        f"{d.model} on {d.dataset}: {d.levels} pruned level{'' if d.levels == 1 else 's'}, "
        f"{STRATEGY_NAMES.get(d.strategy, d.strategy)} pruning at {d.granularity} granularity",
        f"experiment folder: {d.experiment_dir} ({folder})",
        f"parameters: {d.total_params:,} = {d.pruned_params:,} pruned + {d.dense_params:,} dense",
        f"training step: {xla}"])


def _pruned_table(description: Description) -> str:
    shown = len(description.levels_shown)
    columns = [("pruned weight", "<", lambda row: row.key), ("layer", "<", lambda row: row.layer_type),
               ("kind", "<", lambda row: row.kind), ("shape", "<", lambda row: _shape(row.shape)),
               ("count", ",d", lambda row: row.count), ("rate", "g", lambda row: row.rate),
               ("rate from", "<", lambda row: row.rate_field),
               *_level_columns(shown, lambda row: row.percent_left)]
    title = "pruned weights (rate: the fraction of the survivors each level removes"
    title += f"; % left after levels 1-{shown})" if shown else ")"
    return title + "\n" + text_table(_fitted(columns, description.pruned), description.pruned)


def _dense_table(description: Description) -> str:
    if not description.dense:
        return "dense weights: none"
    columns = [("dense weight", "<", lambda row: row.key), ("layer", "<", lambda row: row.layer_type),
               ("shape", "<", lambda row: _shape(row.shape)), ("count", ",d", lambda row: row.count),
               ("why", "<", lambda row: row.reason)]
    return ("dense weights (never pruned)\n"
            + text_table(_fitted(columns, description.dense), description.dense))


def _totals_table(description: Description) -> str:
    d = description
    if not d.levels_shown:
        return ""
    rows = [(f"pruned weights ({d.pruned_params:,})", d.percent_of_pruned()),
            (f"all parameters ({d.total_params:,})", d.percent_of_all())]
    if d.percent_as_reported() != d.percent_of_pruned():
        masked = sum(d.levels_shown[0].sizes.values())
        rows.insert(1, (f"masked weights ({masked:,}; the runs' % left)", d.percent_as_reported()))
    columns = [("% left after level", "<", lambda row: row[0]),
               *[(str(level.level), ".1f", lambda row, i=index: row[1][i])
                 for index, level in enumerate(d.levels_shown)]]
    return text_table(_fitted(columns, rows), rows)


def _timing(description: Description) -> str:
    timing = description.timing
    if timing is None:
        return ""
    how = "measured" if timing.evaluation_measured else "estimated (a forward pass per example)"
    lines = [f"step time: {timing.seconds_per_step * 1e3:.2f} ms (mean of {timing.timed_steps} steps "
             f"after {timing.warmup_steps} warm-up steps)",
             f"evaluation: {timing.val_seconds:.3f} s per validation pass ({timing.val_examples:,} "
             f"examples), {timing.test_seconds:.3f} s per test pass ({timing.test_examples:,}), {how}"]
    columns = [("run", "<", lambda cost: cost.label), ("steps", ",d", lambda cost: cost.train_steps),
               ("training", "", lambda cost: duration(cost.train_seconds)),
               ("val passes", ",d", lambda cost: cost.val_passes),
               ("test passes", ",d", lambda cost: cost.test_passes),
               ("evaluation", "", lambda cost: duration(cost.eval_seconds)),
               ("total", "", lambda cost: duration(cost.seconds))]
    lines.append(text_table(_fitted(columns, description.costs), description.costs))
    lines.append(f"one replicate, levels 0-{description.levels}: about "
                 f"{duration(description.experiment_seconds())} (not counted: checkpoints, pruning "
                 "between levels, deferred test passes)")
    return "\n".join(lines)


def format_description(description: Description) -> str:
    """The printout of `describe`: header, pruned and dense weights, totals, time estimate, notes."""
    sections = [_header(description), _pruned_table(description), _dense_table(description),
                _totals_table(description), _timing(description),
                "\n".join(f"note: {note}" for note in description.notes)]
    return "\n\n".join(section for section in sections if section)
