"""The aggregated numbers as tables: one row per level, CSV (full precision) and Markdown.

Columns per run kind: test accuracy at early stop in percent (mean, min, max
over replicates), mean early-stop step, mean final test accuracy in percent, and
the number of replicates. A comparison table puts several experiments side by side by level.
"""
import csv
import dataclasses
import io
import math
from collections.abc import Callable, Mapping, Sequence

from lottery_tf.report.aggregate import LevelStats, most_replicates, percents_by_level

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
