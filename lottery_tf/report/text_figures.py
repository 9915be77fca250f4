"""The sparsity figures as plain text, for terminals, logs and READMEs.

A range plot: one column group per level (levels equally spaced, which for
geometric pruning is a log axis of percent remaining, 100% on the left as in the
figures), one column per run kind inside each group. A kind's column shows its
min-max over replicates as `|` and its mean as the kind's letter (`T` ticket,
`R` reinit, `P` random_prune; see `kind_letters`). Values off by less than one row share a row, so
the text figure shows the shape; the table has the digits.
"""
import math
from collections.abc import Callable, Mapping, Sequence

from lottery_tf.report.aggregate import TICKET, LevelStats, Spread, most_replicates, percents_by_level

SPAN = "|"
LABEL_WIDTH = 8
# Every this many rows the y axis is labelled.
LABEL_EVERY = 3


def kind_letters(kinds: Sequence[str]) -> dict[str, str]:
    """One distinct capital letter per run kind: `T` for the ticket; for a control, the
    initial of the last word of its name (`reinit` R, `random_prune` P, `prune_at_init` I),
    else its other letters in order, else any free letter."""
    letters: dict[str, str] = {}
    for kind in kinds:
        taken = set(letters.values())
        base = kind.split("@")[0].split("[")[0]
        words = [word for word in base.split("_") if word[:1].isalpha()]
        candidates = ["T"] if kind == TICKET else [words[-1][0].upper()] if words else []
        candidates += [c.upper() for c in base if c.isalpha() and c.upper() != "T"]
        candidates += [chr(c) for c in range(ord("A"), ord("Z") + 1)]
        letters[kind] = next(c for c in candidates if c not in taken)
    return letters


def percent_label(percent: float) -> str:
    """Percent remaining in at most 3 characters: `100`, `21`, `8.6`."""
    return f"{percent:.0f}" if percent >= 9.95 else f"{percent:.1f}"


def row_step(low: float, high: float, rows: int) -> float:
    """The smallest round value per row (1, 2, 2.5 or 5 times a power of ten) that fits
    [low, high] into at most `rows` rows."""
    raw = (high - low) / max(1, rows - 1)
    power = 10.0 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    for multiple in (1.0, 2.0, 2.5, 5.0, 10.0):
        step = multiple * power
        if math.ceil(high / step - 1e-9) - math.floor(low / step + 1e-9) + 1 <= rows:
            return step
    return 20.0 * power


def step_decimals(step: float) -> int:
    """Decimals that print every multiple of `step` exactly (0.25 -> 2, 2.5 -> 1, 1000 -> 0)."""
    return next((d for d in range(7) if abs(round(step, d) - step) <= 1e-9 * step), 6)


def range_plot(stats: Mapping[str, Sequence[LevelStats]], value: Callable[[LevelStats], Spread],
               ylabel: str, scale: float = 1.0, height: int = 16) -> str:
    """One quantity against percent remaining, as text.

    Args:
      stats: run kind -> per-level stats (ticket first), as `aggregate.summarize` returns.
      value: picks the plotted `Spread` from a `LevelStats`.
      ylabel: printed above the plot.
      scale: multiplies every value (100 for accuracies in percent).
      height: at most this many rows in the plot area (at least 2); each row spans a
        round step (`row_step`).

    Returns:
      The plot, lines joined by newlines, ending with the x axis labels and a legend
      (each kind's letter and number of replicates).
    """
    kinds = [kind for kind, levels in stats.items() if levels]
    if not kinds:
        return f"{ylabel}\n(no runs)\n"
    letters = kind_letters(kinds)
    at = {kind: {s.level: s for s in stats[kind]} for kind in kinds}
    percents = percents_by_level({kind: stats[kind] for kind in kinds})
    levels = list(percents)
    spreads = [value(s) for kind in kinds for s in stats[kind]]
    low = min(scale * s.min for s in spreads)
    high = max(scale * s.max for s in spreads)
    step = row_step(low, high, max(2, height))
    low, high = math.floor(low / step + 1e-9) * step, math.ceil(high / step - 1e-9) * step
    if math.isclose(low, high):
        high = low + step
    height = round((high - low) / step) + 1

    def row(v: float) -> int:
        return round((high - scale * v) / step)

    group = max(len(kinds) + 1, 4)  # room for a 3-character percent label and a space
    grid = [[" "] * (group * len(levels)) for _ in range(height)]
    for i, level in enumerate(levels):
        for k, kind in enumerate(kinds):
            found = at[kind].get(level)
            if found is None:
                continue
            spread, column = value(found), i * group + k
            for r in range(row(spread.max), row(spread.min) + 1):
                grid[r][column] = SPAN
            grid[row(spread.mean)][column] = letters[kind]
    lines = [ylabel]
    for r, cells in enumerate(grid):
        label = ""
        if r % LABEL_EVERY == 0 or r == height - 1:
            label = f"{high - r * step:.{step_decimals(step)}f}"
        lines.append(f"{label:>{LABEL_WIDTH}} |" + "".join(cells).rstrip())
    lines.append(" " * LABEL_WIDTH + " +" + "-" * (group * len(levels)))
    lines.append(" " * (LABEL_WIDTH + 2) + "".join(f"{percent_label(percents[level]):<{group}}"
                                                   for level in levels).rstrip())
    lines.append(" " * (LABEL_WIDTH + 2) + "percent of weights remaining")
    legend = [f"{letters[kind]} {kind} (n={most_replicates(stats[kind])})" for kind in kinds]
    lines.append(" " * (LABEL_WIDTH + 2) + "   ".join(legend) + f"   ({SPAN} min-max)")
    return "\n".join(lines) + "\n"


def figure_1(stats: Mapping[str, Sequence[LevelStats]], title: str, height: int = 22) -> str:
    """Frankle & Carbin's Figure 1 quantities as text: early-stop iteration, then test
    accuracy at early stop (percent), each against percent remaining, each at most
    `height` rows tall."""
    early_stop = range_plot(stats, lambda s: s.early_stop_step, "Early-stop iteration", height=height)
    accuracy = range_plot(stats, lambda s: s.accuracy_at_early_stop, "Test accuracy at early stop (%)",
                          scale=100.0, height=height)
    return f"{title}\n\n{early_stop}\n{accuracy}"
