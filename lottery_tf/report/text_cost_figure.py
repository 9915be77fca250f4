"""The tickets-for-less figure (`cost_figure.py`) as plain text, for terminals, logs and READMEs.

One panel per sparsity, stacked: test accuracy at early stop (rows) against
cumulative dense-equivalent training FLOPs (columns, a log axis shared by the
panels). Each procedure is a letter at its mean, with `|` over its min-max
accuracy across replicates in its column; a procedure whose column is taken moves
to the nearest free one, so the text keeps every procedure visible and the
tables keep the digits.
"""
import math
import string
from collections.abc import Sequence

from lottery_tf.report.cost import CostPoint
from lottery_tf.report.tables import engineering
from lottery_tf.report.text_figures import LABEL_EVERY, LABEL_WIDTH, SPAN, row_step, step_decimals

COST_AXIS = "cumulative training FLOPs (dense-equivalent, log scale)"


def _ticks(low: float, high: float) -> list[float]:
    """1, 2 and 5 times powers of ten within [low, high]; the ends when none falls inside."""
    ticks = [multiple * 10.0 ** power
             for power in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
             for multiple in (1.0, 2.0, 5.0)]
    inside = [tick for tick in ticks if low * (1 - 1e-9) <= tick <= high * (1 + 1e-9)]
    return inside or [low, high]


def cost_vs_accuracy(points: Sequence[CostPoint], levels: Sequence[int], title: str,
                     height: int = 16, width: int = 60) -> str:
    """Accuracy at early stop (%) vs cumulative dense-equivalent FLOPs as text, a panel per level.

    Args:
      points: as `cost.cost_points` returns them.
      levels: the levels to show (`cost.figure_levels`).
      title: printed first.
      height: at most this many rows per panel (each a round accuracy step).
      width: columns of the cost axis.

    Returns:
      The panels, then one legend: each procedure's letter and largest number of replicates.
    """
    shown = [point for point in points if point.level in levels and point.flops_dense is not None]
    if not shown:
        return f"{title}\n(no procedure with a known cost)\n"
    procedures = list(dict.fromkeys(point.procedure for point in shown))
    letters = dict(zip(procedures, string.ascii_uppercase, strict=False))
    low = min(point.flops_dense.min for point in shown)
    high = max(point.flops_dense.max for point in shown)
    span = math.log(high / low) if high > low else 1.0

    def column(flops: float) -> int:
        return round((width - 1) * math.log(flops / low) / span)

    axis = ["-"] * width
    labels = [" "] * (width + 8)
    for tick in _ticks(low, high):
        at = column(tick)
        axis[at] = "+"
        text = engineering(tick)
        start = max(0, at - len(text) // 2)
        if all(cell == " " for cell in labels[max(0, start - 1):start + len(text) + 1]):
            labels[start:start + len(text)] = text
    x_axis = [" " * LABEL_WIDTH + " +" + "".join(axis),
              " " * (LABEL_WIDTH + 2) + "".join(labels).rstrip()]
    lines = [title]
    for level in levels:
        panel = [point for point in shown if point.level == level]
        if panel:
            lines += ["", f"level {level} ({panel[0].percent_remaining:.3g}% of weights): "
                          "test accuracy at early stop (%)",
                      *_panel(panel, letters, column, height, width), *x_axis]
    lines.append(" " * (LABEL_WIDTH + 2) + COST_AXIS)
    counts = {procedure: max(len(p.replicates) for p in shown if p.procedure == procedure)
              for procedure in procedures}
    lines += [" " * (LABEL_WIDTH + 2) + f"{letters[procedure]} {procedure} (n={counts[procedure]})"
              for procedure in procedures]
    lines.append(" " * (LABEL_WIDTH + 2) + f"({SPAN} min-max over replicates)")
    return "\n".join(lines) + "\n"


def _panel(panel: Sequence[CostPoint], letters: dict[str, str], column, height: int, width: int) -> list[str]:
    top = max(100 * point.accuracy.max for point in panel)
    bottom = min(100 * point.accuracy.min for point in panel)
    step = row_step(bottom, top, max(2, height))
    bottom, top = math.floor(bottom / step + 1e-9) * step, math.ceil(top / step - 1e-9) * step
    if math.isclose(bottom, top):
        top = bottom + step
    rows = round((top - bottom) / step) + 1
    grid = [[" "] * width for _ in range(rows)]

    def row(accuracy: float) -> int:
        return round((top - 100 * accuracy) / step)

    taken: set[int] = set()
    for point in sorted(panel, key=lambda p: p.flops_dense.mean):
        wanted = column(point.flops_dense.mean)
        free = [c for c in range(width) if c not in taken]
        at = min(free, key=lambda c: (abs(c - wanted), c < wanted)) if free else wanted
        taken.add(at)
        for r in range(row(point.accuracy.max), row(point.accuracy.min) + 1):
            grid[r][at] = SPAN
        grid[row(point.accuracy.mean)][at] = letters[point.procedure]
    lines = []
    for r, cells in enumerate(grid):
        label = f"{top - r * step:.{step_decimals(step)}f}" if r % LABEL_EVERY == 0 or r == rows - 1 else ""
        lines.append(f"{label:>{LABEL_WIDTH}} |" + "".join(cells).rstrip())
    return lines
