"""The text tables printed on the console (stdout), level by level.

- `trunk_table`: a replicate's trunk levels, when `lottery` finishes it.
- `sweep_table`: a rewind sweep, one row per level and rewind step.
- `combined_table`: the ticket and every single-run control side by side.

Accuracies are in percent with two decimals, as the report gives them. The
report's own tables (files: Markdown, CSV) are `report/tables.py`. Under a table
go the warnings of `report/degenerate.py` when a level's runs all look untrained.
"""
from collections.abc import Callable, Iterable, Mapping, Sequence

from lottery_tf.report.aggregate import PER_REWIND_STEP, TICKET
from lottery_tf.report.degenerate import untrained_warnings

# (title, width, format spec, value of a row); a row is one run's metrics.
Column = tuple[str, int, str, Callable[[Mapping], object]]

LEVEL: Column = ("level", 5, "", lambda m: m["level"])
PERCENT_LEFT: Column = ("% left", 7, ".1f", lambda m: m["percent_remaining"])
# Shown when a trunk has short levels: which levels were cut short to rank weights (no tickets).
TRAINING: Column = ("training", 16, "", lambda m: "short (ranking)" if m.get("short_level") else "full")


def _has_short_levels(trunk: Iterable[Mapping]) -> bool:
    return any("short_level" in m for m in trunk)


def cell(value: object, width: int, spec: str = "") -> str:
    """`value` formatted by `spec`, right-aligned in `width` characters; None is `-`.

    A `spec` starting with `<` left-aligns (names in a column of text).
    """
    align = "<" if spec.startswith("<") else ">"
    spec = spec.removeprefix("<")
    return format("-", f"{align}{width}") if value is None else format(value, f"{align}{width}{spec}")


def text_table(columns: Sequence[Column], rows: Iterable[Mapping]) -> str:
    """A header line of the columns' titles, then one line per row, cells one space apart.

    Args:
      columns: (title, width, format spec, value of a row) per column.
      rows: the rows (mappings the columns' value functions read).

    Returns:
      The table, lines joined by newlines (no trailing newline).
    """
    lines = [" ".join(cell(title, width, "<" if spec.startswith("<") else "")
                      for title, width, spec, _ in columns)]
    lines += [" ".join(cell(value(row), width, spec) for _, width, spec, value in columns)
              for row in rows]
    return "\n".join(line.rstrip() for line in lines)  # a left-aligned last column pads


def with_warnings(table: str, kinds: Mapping[str, Iterable[Mapping]]) -> str:
    """`table`, then the `degenerate.untrained_warnings` lines of the runs it shows, if any.

    Args:
      table: a text table.
      kinds: run kind -> the runs the table shows (metrics with `level`).
    """
    return "\n".join([table, *untrained_warnings(kinds)])


def _percent(key: str) -> Callable[[Mapping], float]:
    return lambda m: 100 * m[key]


def trunk_table(results: Sequence[Mapping]) -> str:
    """The per-level table printed when a replicate finishes: test accuracy at the end,
    the early-stop step and test accuracy there, and with short levels which levels were
    cut short to rank weights (no tickets); then `with_warnings`' lines."""
    columns = [LEVEL, PERCENT_LEFT, ("test acc %", 10, ".2f", _percent("test_accuracy")),
               ("early stop", 10, "", lambda m: m["early_stop_step"]),
               ("acc@es %", 8, ".2f", _percent("early_stop_test_accuracy"))]
    if _has_short_levels(results):
        columns.append(TRAINING)
    table = text_table(columns, results)
    return with_warnings(table, {TICKET: results})


def sweep_table(runs: Sequence[Mapping]) -> str:
    """rewind_sweep results: one row per level and rewind step (accuracies in percent),
    then `with_warnings`' lines (each rewind step a run kind).

    Args:
      runs: the summaries of a `PER_REWIND_STEP` branch, one per level.
    """
    rows = [{**headline, "level": run["level"], "percent_remaining": run["percent_remaining"],
             "rewind": step}
            for run in runs
            for step, headline in sorted(run["by_rewind_step"].items(), key=lambda item: int(item[0]))]
    table = text_table((LEVEL, PERCENT_LEFT, ("rewind", 7, "", lambda m: m["rewind"]),
                        ("acc@es %", 8, ".2f", _percent("early_stop_test_accuracy")),
                        ("es step", 8, "", lambda m: m["early_stop_step"]),
                        ("final acc %", 11, ".2f", _percent("test_accuracy"))), rows)
    by_rewind: dict[str, list[Mapping]] = {}
    for row in rows:
        by_rewind.setdefault(f"rewind {row['rewind']}", []).append(row)
    return with_warnings(table, by_rewind)


# The table of a branch's own runs, by its record's `shown_as` (none for the others).
BRANCH_TABLES: dict[str, Callable[[Sequence[Mapping]], str]] = {PER_REWIND_STEP: sweep_table}


def branch_table(shown_as: str, runs: Sequence[Mapping]) -> str | None:
    """The table of one branch's runs over levels, or None for a branch shown only in
    `combined_table` (one training per level) or in the report (an interpolation path)."""
    table = BRANCH_TABLES.get(shown_as)
    return table(runs) if table else None


def combined_table(trunk: Sequence[Mapping], branches: Mapping[str, Sequence[Mapping]]) -> str:
    """Trunk and single-run branches side by side by level.

    For each run: test accuracy at the early-stop step (minimum validation
    loss) in percent, as the report gives it, and that step, as Frankle & Carbin plot them;
    then `with_warnings`' lines.

    Args:
      trunk: the trunk's metrics, level by level.
      branches: label -> that branch's runs (those without a single training are left out).
    """
    names = sorted(name for name, runs in branches.items()
                   if any("early_stop_test_accuracy" in run for run in runs))
    by_level = {name: {m["level"]: m for m in runs} for name, runs in branches.items()}
    rows = []
    for metrics in trunk:
        found = {name: by_level[name].get(metrics["level"]) for name in names}
        rows.append({"ticket": metrics, "controls": {
            name: run if run and "early_stop_test_accuracy" in run else None for name, run in found.items()}})
    columns = [_of_ticket(column) for column in (LEVEL, PERCENT_LEFT)]
    columns += _run_columns("ticket", 12, 9, lambda row: row["ticket"])
    if _has_short_levels(trunk):
        columns.append(_of_ticket(TRAINING))
    for name in names:
        columns += _run_columns(name, 18, 16, lambda row, name=name: row["controls"][name])
    return with_warnings(text_table(columns, rows), {TICKET: trunk, **branches})


def _of_ticket(column: Column) -> Column:
    title, width, spec, value = column
    return title, width, spec, lambda row: value(row["ticket"])


def _run_columns(name: str, accuracy_width: int, step_width: int,
                 run_of: Callable[[Mapping], Mapping | None]) -> list[Column]:
    """Accuracy at early stop (percent) and the early-stop step of the run `run_of` picks
    from a row (`-` where it has none)."""
    def pick(key: str, scale: float = 1) -> Callable[[Mapping], object]:
        def value(row: Mapping) -> object:
            run = run_of(row)
            return None if run is None else scale * run[key]
        return value

    return [(f"{name} acc %", accuracy_width, ".2f", pick("early_stop_test_accuracy", 100)),
            (f"{name} es", step_width, "", pick("early_stop_step"))]
