"""The aggregated numbers as tables: one row per level, CSV (full precision) and Markdown.

Columns per run kind: test accuracy at early stop in percent (mean, min, max
over replicates), mean early-stop step, mean final test accuracy in percent, and
the number of replicates. A comparison table puts several experiments side by side by level.
The cost tables have one row per procedure and level: accuracy and cumulative cost (`cost.py`).
"""
import csv
import dataclasses
import io
import math
from collections.abc import Callable, Mapping, Sequence

from lottery_tf.report import cost
from lottery_tf.report.aggregate import LevelStats, Spread, most_replicates, percents_by_level
from lottery_tf.report.cost import CostPoint

# Per-kind columns: (header suffix, value picker, Markdown format).
KIND_COLUMNS = (
    # Accuracies in percent, the README's unit.
    ("acc@es % mean", lambda s: 100 * s.accuracy_at_early_stop.mean, "{:.2f}"),
    ("acc@es % min", lambda s: 100 * s.accuracy_at_early_stop.min, "{:.2f}"),
    ("acc@es % max", lambda s: 100 * s.accuracy_at_early_stop.max, "{:.2f}"),
    ("es step mean", lambda s: s.early_stop_step.mean, "{:.0f}"),
    ("final acc % mean", lambda s: 100 * s.final_accuracy.mean, "{:.2f}"),
    ("n", lambda s: len(s.replicates), "{}"),
)
COMPARISON_COLUMNS = (KIND_COLUMNS[0], KIND_COLUMNS[3])


@dataclasses.dataclass
class Table:
    """Rows of raw values (None = no run) and how Markdown shows each column; `csv` False
    for a table whose cells are already text (it is written as Markdown only)."""

    header: list[str]
    rows: list[list]
    formats: list[str]
    csv: bool = True

    def column(self, title: str) -> list:
        """The values of one column, by header."""
        index = self.header.index(title)
        return [row[index] for row in self.rows]


def level_table(stats: Mapping[str, Sequence[LevelStats]]) -> Table:
    """One row per level: level, percent remaining, then `KIND_COLUMNS` for every run kind.

    Args:
      stats: run kind -> per-level stats, as `aggregate.summarize` returns.

    Returns:
      The table; a kind with no run at a level has None in its cells.
    """
    header, formats = ["level", "percent_remaining"], ["{}", "{:.2f}"]
    for kind in stats:
        header += [f"{kind} {suffix}" for suffix, _, _ in KIND_COLUMNS]
        formats += [fmt for _, _, fmt in KIND_COLUMNS]
    rows = _level_rows(stats, lambda kind, found: [pick(found) if found else None
                                                  for _, pick, _ in KIND_COLUMNS])
    return Table(header, rows, formats)


def summary_table(stats: Mapping[str, Sequence[LevelStats]]) -> Table:
    """The level table for reading: per run kind, test accuracy at early stop in percent as
    `mean (min-max)` (just the value where one replicate has it) and the mean early-stop
    step; a level with fewer replicates than the kind's most says `n=k`.

    Args:
      stats: run kind -> per-level stats, as `aggregate.summarize` returns.

    Returns:
      A table of formatted strings (None where a kind has no run at a level).
    """
    header, formats = ["level", "% weights"], ["{}", "{:.3g}"]
    most = {kind: most_replicates(levels) for kind, levels in stats.items()}
    for kind in stats:
        header += [f"{kind} acc@es % (n={most[kind]})", f"{kind} es step"]
        formats += ["{}", "{:.0f}"]

    def cells(kind: str, found: LevelStats | None) -> list:
        if found is None:
            return [None, None]
        accuracy = found.accuracy_at_early_stop
        cell = f"{100 * accuracy.mean:.2f}"
        if accuracy.count > 1:  # one value has no range to show
            cell += f" ({100 * accuracy.min:.2f}-{100 * accuracy.max:.2f})"
        if len(found.replicates) < most[kind]:
            cell += f" n={len(found.replicates)}"
        return [cell, found.early_stop_step.mean]

    return Table(header, _level_rows(stats, cells), formats, csv=False)


def _level_rows(stats: Mapping[str, Sequence[LevelStats]],
                cells: Callable[[str, LevelStats | None], list]) -> list[list]:
    """One row per level, [level, percent remaining, *cells(kind, stats or None) per kind]."""
    at = {kind: {s.level: s for s in levels} for kind, levels in stats.items()}
    return [[level, percent, *(cell for kind in stats for cell in cells(kind, at[kind].get(level)))]
            for level, percent in percents_by_level(stats).items()]


def comparison_table(experiments: Mapping[str, Mapping[str, Sequence[LevelStats]]]) -> Table:
    """Several experiments side by side by level: each one's percent remaining, and for
    each of its run kinds the mean accuracy at early stop and mean early-stop step.

    Args:
      experiments: experiment name -> (run kind -> per-level stats).
    """
    header, formats = ["level"], ["{}"]
    percents, cells = {}, {}
    for name, stats in experiments.items():
        percents[name] = percents_by_level(stats)
        header.append(f"{name} percent_remaining")
        formats.append("{:.2f}")
        for kind, levels in stats.items():
            header += [f"{name}:{kind} {suffix}" for suffix, _, _ in COMPARISON_COLUMNS]
            formats += [fmt for _, _, fmt in COMPARISON_COLUMNS]
            cells[(name, kind)] = {s.level: s for s in levels}
    levels = sorted({level for by_level in percents.values() for level in by_level})
    rows = []
    for level in levels:
        row = [level]
        for name, stats in experiments.items():
            row.append(percents[name].get(level))
            for kind in stats:
                found = cells[(name, kind)].get(level)
                row += [pick(found) if found else None for _, pick, _ in COMPARISON_COLUMNS]
        rows.append(row)
    return Table(header, rows, formats)


def experiments_table(labels: Mapping[str, str]) -> Table:
    """Which stored experiment each label of a comparison stands for (text: Markdown only)."""
    return Table(["label", "experiment"], [[label, name] for name, label in labels.items()],
                 ["{}", "{}"], csv=False)


def to_csv(table: Table) -> str:
    """CSV with full-precision numbers (repr of floats) and empty cells for None."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.header)
    for row in table.rows:
        writer.writerow(["" if value is None else repr(value) if isinstance(value, float) else value
                         for value in row])
    return buffer.getvalue()


def _cell(value, fmt: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return fmt.format(value)


def to_markdown(table: Table) -> str:
    """A GitHub-flavoured Markdown table, numbers rounded for reading."""
    lines = ["| " + " | ".join(table.header) + " |",
             "|" + "|".join("---:" for _ in table.header) + "|"]
    for row in table.rows:
        lines.append("| " + " | ".join(_cell(v, f) for v, f in zip(row, table.formats, strict=True)) + " |")
    return "\n".join(lines) + "\n"


# The cumulative cost columns of the cost tables: (header, CostPoint attribute).
COST_COLUMNS = (("cumulative iterations", "iterations"),
                ("cumulative dense-equivalent FLOPs", "flops_dense"),
                ("cumulative sparse FLOPs", "flops_sparse"))


def cost_table(points: Sequence[CostPoint]) -> Table:
    """One row per procedure and level: accuracy at early stop in percent and the three
    cumulative costs, each mean, min and max over replicates (None: unknown).

    Args:
      points: as `cost.cost_points` returns them.
    """
    header = ["level", "percent_remaining", "procedure",
              "acc@es % mean", "acc@es % min", "acc@es % max"]
    formats = ["{}", "{:.2f}", "{}", "{:.2f}", "{:.2f}", "{:.2f}"]
    for title, _ in COST_COLUMNS:
        header += [f"{title} {stat}" for stat in ("mean", "min", "max")]
        formats += ["{:.4g}"] * 3
    header.append("n")
    formats.append("{}")
    rows = []
    for point in points:
        row = [point.level, point.percent_remaining, point.procedure,
               *(100 * value for value in (point.accuracy.mean, point.accuracy.min, point.accuracy.max))]
        for _, attribute in COST_COLUMNS:
            spread = getattr(point, attribute)
            row += [None] * 3 if spread is None else [spread.mean, spread.min, spread.max]
        rows.append([*row, len(point.replicates)])
    return Table(header, rows, formats)


def engineering(value: float) -> str:
    """A large count in 3 significant digits with an SI suffix: 1.23M, 45.6T."""
    for power, suffix in ((15, "P"), (12, "T"), (9, "G"), (6, "M"), (3, "k")):
        if abs(value) >= 10 ** power:
            return f"{value / 10 ** power:.3g}{suffix}"
    return f"{value:.3g}"


def cost_summary_table(points: Sequence[CostPoint]) -> Table:
    """The cost table for reading: `mean (min-max)` cells, counts with SI suffixes; a cost
    known for fewer replicates than the accuracy says `n=k`, an unknown one `unknown`.
    The last columns set each procedure against IMP with weight rewinding at the same
    level: accuracy difference in points, and cost as a fraction of IMP's."""

    def cell(spread: Spread | None, show, replicates: int) -> str:
        if spread is None:
            return "unknown"
        text = show(spread.mean)
        if spread.count > 1 and spread.min != spread.max:
            text += f" ({show(spread.min)}-{show(spread.max)})"
        return text + (f" n={spread.count}" if spread.count < replicates else "")

    versus = cost.versus_reference(points)
    header = ["level", "% weights", "procedure", "acc@es %",
              *(title for title, _ in COST_COLUMNS), "n",
              f"acc vs {cost.REFERENCE} (pp)", "cost / its cost"]
    rows = []
    for point in points:
        count = len(point.replicates)
        against = versus.get((point.procedure, point.level))
        rows.append([point.level, point.percent_remaining, point.procedure,
                     cell(point.accuracy, lambda v: f"{100 * v:.2f}", count),
                     *(cell(getattr(point, attribute), engineering, count) for _, attribute in COST_COLUMNS),
                     count,
                     "–" if against is None else f"{against.accuracy_points:+.2f}",
                     "–" if against is None or against.cost_ratio is None else f"{against.cost_ratio:.3g}"])
    return Table(header, rows, ["{}", "{:.3g}", "{}", "{}", "{}", "{}", "{}", "{}", "{}", "{}"], csv=False)
