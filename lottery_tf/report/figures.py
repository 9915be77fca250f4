"""Frankle & Carbin style figures, drawn from aggregated results.

Every function returns a `matplotlib.figure.Figure` on an Agg canvas (no pyplot,
so no global state and no display needed); `save` writes it as PNG and SVG.
Means are lines; with more than one replicate, min-max over replicates is a
shaded band, plus a vertical bar at each level in the sparsity figures (as
Frankle & Carbin draw it). The legend gives each line's number of replicates.
Accuracies are in percent. The ticket is the solid blue line, controls are dashed.
"""
import io
import os
import textwrap
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter, MaxNLocator, NullLocator

from lottery_tf.report import aggregate
from lottery_tf.report.aggregate import TICKET, Band, LevelStats, LmcStats, Spread, by_level, curve_band
from lottery_tf.storage import store

FORMATS = ("png", "svg")
PERCENT_LABEL = "Percent of weights remaining"
# Above this many level ticks, only every k-th tick is labelled so labels do not collide.
MAX_TICK_LABELS = 12
_CONTROL_COLORS = ["C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9"]
_MARKERS = ["s", "^", "v", "D", "P", "X", "<", ">", "*"]
# Titles are wrapped to the figure's width at this many characters per inch of a
# "medium" (10 pt) title: DejaVu Sans averages about 0.6 em a character, 72 / 6 = 12, less a margin.
TITLE_CHARS_PER_INCH = 11
TITLE_MAX_LINES = 3
CURVE_MARGIN = 0.05  # of the data's range, above and below the training curves


def new_figure(width: float = 6.4, height: float = 4.4) -> Figure:
    """An empty figure on an Agg canvas, laid out so labels and legends fit."""
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def title_width(width_inches: float) -> int:
    """How many characters of a medium title fit on one line of a figure this wide."""
    return max(int(TITLE_CHARS_PER_INCH * width_inches), 20)


def fit_title(title: str, width_inches: float) -> str:
    """`title` wrapped to the figure's width, at most `TITLE_MAX_LINES` lines, the last
    shortened with an ellipsis if the text goes on; long names break where they must."""
    width = title_width(width_inches)
    lines = textwrap.wrap(title, width=width, break_on_hyphens=False) or [""]
    if len(lines) > TITLE_MAX_LINES:
        lines = lines[:TITLE_MAX_LINES]
        lines[-1] = lines[-1][:width - 1].rstrip() + "\u2026"
    return "\n".join(lines)


def _suptitle(figure: Figure, title: str) -> None:
    figure.suptitle(fit_title(title, figure.get_figwidth()), fontsize="medium")


def kind_styles(kinds: Sequence[str]) -> dict[str, dict]:
    """Line style per run kind: the ticket solid blue, controls dashed, each its own color
    and marker. Taken from the full list of kinds, so a kind looks the same in every figure."""
    styles, index = {}, 0
    for kind in kinds:
        if kind == TICKET:
            styles[kind] = {"color": "C0", "linestyle": "-", "marker": "o"}
            continue
        styles[kind] = {"color": _CONTROL_COLORS[index % len(_CONTROL_COLORS)], "linestyle": "--",
                        "marker": _MARKERS[index % len(_MARKERS)]}
        index += 1
    return styles


def percent_axis(axes, percents: Sequence[float]) -> None:
    """A log x axis of percent remaining, 100% on the left, ticks at the levels' percents."""
    axes.set_xscale("log")
    ticks = sorted(set(percents), reverse=True)
    if not ticks:
        return
    axes.set_xticks(ticks)
    every = max(1, -(-len(ticks) // MAX_TICK_LABELS))
    axes.set_xticklabels([f"{p:.3g}" if i % every == 0 else "" for i, p in enumerate(ticks)],
                         rotation=45 if len(ticks) > 8 else 0)
    axes.xaxis.set_minor_locator(NullLocator())
    # Reversed limits invert the axis: sparser networks to the right, as in the paper.
    axes.set_xlim(ticks[0] * 1.1, ticks[-1] / 1.1)
    axes.set_xlabel(PERCENT_LABEL)


def _band(axes, x, low, high, color, count: int = 2) -> None:
    if count > 1:  # one replicate has no spread to show
        axes.fill_between(x, low, high, color=color, alpha=0.18, linewidth=0)


def with_count(label: str, count: int) -> str:
    """A legend label with its number of replicates, `ticket (n=2)`."""
    return f"{label} (n={count})"


def _whiskers(axes, x, low, high, color) -> None:
    # A LineCollection, so `axes.lines` holds only the mean lines.
    axes.vlines(x, low, high, color=color, alpha=0.6, linewidth=1.5)


def versus_sparsity(stats: Mapping[str, Sequence[LevelStats]], value: Callable[[LevelStats], Spread],
                    ylabel: str, title: str) -> Figure:
    """One quantity against percent remaining: per run kind a mean line and min-max bars.

    Args:
      stats: run kind -> per-level stats (ticket first).
      value: picks the plotted `Spread` from a `LevelStats`.
      ylabel: the y axis label.
      title: the figure title.

    Returns:
      The figure; each kind's mean is the `Line2D` labelled with the kind.
    """
    figure = new_figure()
    _draw_versus_sparsity(figure.add_subplot(), stats, value, ylabel, title)
    return figure


def _mean_and_spread(axes, x, spreads: Sequence[Spread], label: str, count: int, style: dict,
                     scale: float = 1.0) -> None:
    """One series of the sparsity figures: the mean line (legend `label (n=count)`),
    min-max bars at each point, and the min-max band when there is more than one replicate."""
    low, high = [scale * s.min for s in spreads], [scale * s.max for s in spreads]
    axes.plot(x, [scale * s.mean for s in spreads], label=with_count(label, count), **style)
    _whiskers(axes, x, low, high, style["color"])
    _band(axes, x, low, high, style["color"], count)


def _finish_sparsity_axes(axes, percents: Sequence[float], ylabel: str, title: str, ncols: int = 1) -> None:
    """The percent-remaining x axis, labels, grid and legend every sparsity figure shares."""
    percent_axis(axes, percents)
    axes.set_ylabel(ylabel)
    axes.set_title(fit_title(title, axes.figure.get_figwidth()), fontsize="medium")
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize="small", ncols=ncols)


def _draw_versus_sparsity(axes, stats, value, ylabel: str, title: str, scale: float = 1.0) -> None:
    percents = []
    styles = kind_styles(list(stats))
    for kind, levels in stats.items():
        if not levels:
            continue
        x = [s.percent_remaining.mean for s in levels]
        _mean_and_spread(axes, x, [value(s) for s in levels], kind, aggregate.most_replicates(levels),
                         styles[kind], scale)
        percents.extend(x)
    _finish_sparsity_axes(axes, percents, ylabel, title, ncols=2 if len(stats) > 5 else 1)


ACCURACY_LABEL = "Test accuracy at early stop (%)"
EARLY_STOP_LABEL = "Early-stop iteration"


def accuracy_vs_sparsity(stats: Mapping[str, Sequence[LevelStats]], title: str) -> Figure:
    """Test accuracy at the early-stop step (minimum validation loss), in percent, vs percent remaining."""
    figure = new_figure()
    _draw_versus_sparsity(figure.add_subplot(), stats, lambda s: s.accuracy_at_early_stop,
                          ACCURACY_LABEL, title, scale=100.0)
    return figure


def figure_1(stats: Mapping[str, Sequence[LevelStats]], title: str) -> Figure:
    """Frankle & Carbin's Figure 1 layout: early-stop iteration (left) and test accuracy at
    early stop (right) against percent remaining; tickets solid, controls dashed."""
    figure = new_figure(width=11.0, height=4.4)
    left, right = figure.subplots(1, 2)
    _draw_versus_sparsity(left, stats, lambda s: s.early_stop_step, EARLY_STOP_LABEL, "Early-stop iteration")
    _draw_versus_sparsity(right, stats, lambda s: s.accuracy_at_early_stop, ACCURACY_LABEL,
                          "Accuracy at early stop", scale=100.0)
    _suptitle(figure, title)
    return figure


def early_stop_vs_sparsity(stats: Mapping[str, Sequence[LevelStats]], title: str) -> Figure:
    """Early-stop iteration (minimum validation loss) vs percent remaining."""
    return versus_sparsity(stats, lambda s: s.early_stop_step, EARLY_STOP_LABEL, title)


def training_curves(kinds: Mapping[str, Mapping[int, Mapping[int, dict]]], levels: Sequence[int],
                    title: str, key: str = "test_accuracy") -> Figure:
    """Test accuracy during training at chosen levels: one panel per level, ticket vs controls.

    Args:
      kinds: run kind -> replicate -> level -> metrics with a "curve".
      levels: the trunk levels to show, one panel each.
      title: the figure title.
      key: the curve quantity.

    Returns:
      The figure; in each panel (titled with the level) every kind's mean is a
      `Line2D` labelled with the kind. Kinds without a curve at a level are left out.
      The y axis spans every plotted point (means and min-max bands, from the
      first evaluation on) plus a `CURVE_MARGIN` margin: whole curves, so an
      untrained start or a collapse is seen, not cut off. The title is wrapped
      to the figure's width (`fit_title`).
    """
    figure = new_figure(width=max(4.2 * len(levels), 6.4), height=4.2)
    panels = figure.subplots(1, max(len(levels), 1), squeeze=False, sharey=True)[0]
    styles = kind_styles(list(kinds))
    shown_range = []
    for axes, level in zip(panels, levels, strict=False):
        percent = None
        for kind, runs in kinds.items():
            at_level = list(by_level(runs).get(level, {}).values())
            band = curve_band(at_level, key)
            if band is None:
                continue
            if kind == TICKET:
                percent = at_level[0]["percent_remaining"]
            style = styles[kind]
            scale = 100.0 if "accuracy" in key else 1.0
            axes.plot(band.x, scale * band.mean, label=with_count(kind, band.count), color=style["color"],
                      linestyle=style["linestyle"])
            _band(axes, band.x, scale * band.min, scale * band.max, style["color"], band.count)
            shown_range += [scale * np.nanmin([band.min, band.mean]),
                            scale * np.nanmax([band.max, band.mean])]
        shown = f" ({percent:.3g}% remaining)" if percent is not None else ""
        axes.set_title(f"level {level}{shown}", fontsize="medium")
        axes.set_xlabel("Training iteration")
        axes.xaxis.set_major_locator(MaxNLocator(5))
        axes.xaxis.set_major_formatter(EngFormatter(sep=""))  # 20000 -> 20k
        axes.grid(True, alpha=0.3)
        if axes.lines:
            axes.legend(fontsize="small")
    shown_range = [value for value in shown_range if np.isfinite(value)]
    if shown_range:
        low, high = min(shown_range), max(shown_range)
        pad = CURVE_MARGIN * (high - low) or 1.0
        panels[0].set_ylim(low - pad, high + pad)  # panels share the y axis
    panels[0].set_ylabel("Test accuracy (%)" if key == "test_accuracy" else key)
    _suptitle(figure, title)
    return figure


def lmc_paths(lmc: Mapping[str, Sequence[LmcStats]], title: str) -> Figure:
    """Test error along the linear path between the two trained copies, one line per level.

    Returns:
      The figure; one panel per lmc label, each level's mean a `Line2D` labelled
      `level L (P%)`.
    """
    figure = new_figure(width=max(5.2 * len(lmc), 6.4))
    panels = figure.subplots(1, max(len(lmc), 1), squeeze=False, sharey=True)[0]
    for axes, (label, levels) in zip(panels, lmc.items(), strict=False):
        for index, stats in enumerate(levels):
            color = f"C{index % 10}"
            band: Band = stats.errors
            count = len(stats.replicates)
            axes.plot(band.x, band.mean, color=color, marker=".",
                      label=f"level {stats.level} ({stats.percent_remaining:.3g}%, n={count})")
            _band(axes, band.x, band.min, band.max, color, count)
        axes.set_xlabel("Interpolation α (0 = copy 1, 1 = copy 2)")
        axes.set_title(label, fontsize="medium")
        axes.grid(True, alpha=0.3)
        axes.legend(fontsize="small", ncols=2 if len(levels) > 6 else 1)
    panels[0].set_ylabel("Test error")
    _suptitle(figure, title)
    return figure


def lmc_instability(lmc: Mapping[str, Sequence[LmcStats]], title: str) -> Figure:
    """Instability (error barrier height) vs percent remaining, mean line and min-max bars per label."""
    figure = new_figure()
    axes = figure.add_subplot()
    percents = []
    for index, (label, levels) in enumerate(lmc.items()):
        x = [s.percent_remaining for s in levels]
        _mean_and_spread(axes, x, [s.instability for s in levels], label, aggregate.most_replicates(levels),
                         {"color": f"C{index % 10}", "marker": "o"})
        percents.extend(x)
    _finish_sparsity_axes(axes, percents, "Instability (error barrier height)", title)
    return figure


def instability_vs_rewind(series: Mapping[str, Sequence[tuple[int, Spread]]], title: str) -> Figure:
    """Instability vs the step the two copies started from, one line per sparsity.

    Args:
      series: line label (e.g. `64% remaining`) -> (rewind step, instability) pairs.
      title: the figure title.
    """
    figure = new_figure()
    axes = figure.add_subplot()
    steps = []
    for index, (label, points) in enumerate(series.items()):
        points = sorted(points)
        x = [step for step, _ in points]
        color = f"C{index % 10}"
        axes.plot(x, [s.mean for _, s in points], color=color, marker="o",
                  label=with_count(label, max(s.count for _, s in points)))
        _whiskers(axes, x, [s.min for _, s in points], [s.max for _, s in points], color)
        steps.extend(x)
    positive = [step for step in steps if step > 0]
    # symlog keeps rewind step 0 on the axis while spreading the later points out as a log axis would.
    axes.set_xscale("symlog", linthresh=min(positive) if positive else 1)
    axes.set_xticks(sorted(set(steps)))
    axes.set_xticklabels([str(step) for step in sorted(set(steps))])
    axes.xaxis.set_minor_locator(NullLocator())
    axes.set_xlabel("Rewind iteration (where both copies start)")
    axes.set_ylabel("Instability")
    axes.set_title(fit_title(title, axes.figure.get_figwidth()), fontsize="medium")
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize="small")
    return figure


def encode(figure: Figure, fmt: str) -> bytes:
    """The figure as PNG or SVG bytes (SVG without a date, so reruns give the same file)."""
    buffer = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else None
    figure.savefig(buffer, format=fmt, dpi=150, metadata=metadata)
    return buffer.getvalue()


def save(figure: Figure, directory: str, stem: str) -> list[str]:
    """Writes `<directory>/<stem>.png` and `.svg` atomically.

    Returns:
      The paths written.
    """
    written = []
    for fmt in FORMATS:
        path = os.path.join(directory, f"{stem}.{fmt}")
        store.atomic_write_bytes(path, encode(figure, fmt))
        written.append(path)
    return written


_CONTROL_LINESTYLES = ("--", ":", "-.")


def experiments_with_controls(stats: Mapping[str, Mapping[str, Sequence[LevelStats]]], title: str) -> Figure:
    """Test accuracy at early stop (%) vs percent remaining for several experiments and their controls.

    Args:
      stats: experiment label -> run kind -> per-level stats.
      title: the figure title.

    Returns:
      The figure: one color per experiment, its ticket solid and each control
      kind dashed/dotted; each mean is a `Line2D` labelled `<experiment>: <kind> (n=<replicates>)`.
    """
    figure = new_figure()
    axes = figure.add_subplot()
    percents = []
    controls = sorted({kind for kinds in stats.values() for kind in kinds if kind != TICKET})
    for index, (label, kinds) in enumerate(stats.items()):
        color = f"C{index % 10}"
        for kind, levels in kinds.items():
            if not levels:
                continue
            linestyle = ("-" if kind == TICKET
                         else _CONTROL_LINESTYLES[controls.index(kind) % len(_CONTROL_LINESTYLES)])
            x = [s.percent_remaining.mean for s in levels]
            style = {"color": color, "linestyle": linestyle, "marker": _MARKERS[index % len(_MARKERS)]}
            _mean_and_spread(axes, x, [s.accuracy_at_early_stop for s in levels], f"{label}: {kind}",
                             aggregate.most_replicates(levels), style, scale=100.0)
            percents.extend(x)
    _finish_sparsity_axes(axes, percents, ACCURACY_LABEL, title)
    return figure
