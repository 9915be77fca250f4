"""The tickets-for-less figure: test accuracy at early stop against cumulative training cost.

One panel per sparsity (`cost.figure_levels`), one marker per procedure at its
mean (cumulative dense-equivalent training FLOPs, accuracy) with min-max bars
over replicates on both axes. The x axis is dense-equivalent FLOPs, what tfmot's
masked dense kernels pay (for one model and batch size it is iterations times a
constant); the cost table also has iterations and sparse FLOPs.
"""
from collections.abc import Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter, LogLocator, NullFormatter

from lottery_tf.report.cost import CostPoint
from lottery_tf.report.figures import ACCURACY_LABEL, fit_title, kind_styles, new_figure, with_count

COST_LABEL = "Cumulative training FLOPs (dense-equivalent)"


def cost_vs_accuracy(points: Sequence[CostPoint], levels: Sequence[int], title: str) -> Figure:
    """Accuracy at early stop (%) vs cumulative dense-equivalent FLOPs, one panel per level.

    Args:
      points: as `cost.cost_points` returns them.
      levels: the levels to show, one panel each (`cost.figure_levels`).
      title: the figure title.

    Returns:
      The figure; in each panel every procedure with a known cost is one `Line2D`
      marker labelled `<procedure> (n=<replicates>)`, in the same color and marker
      in every panel; one legend below the panels names each procedure once.
    """
    styles = kind_styles(list(dict.fromkeys(point.procedure for point in points)))
    figure = new_figure(width=max(5.6 * len(levels), 6.4), height=4.8)
    panels = figure.subplots(1, max(len(levels), 1), squeeze=False, sharey=True)[0]
    for axes, level in zip(panels, levels, strict=False):
        percent = None
        for point in points:
            if point.level != level or point.flops_dense is None:
                continue
            style = styles[point.procedure]
            flops, accuracy = point.flops_dense, point.accuracy
            percent = point.percent_remaining
            x, y = flops.mean, 100 * accuracy.mean
            axes.errorbar([x], [y], xerr=[[x - flops.min], [flops.max - x]],
                          yerr=[[y - 100 * accuracy.min], [100 * accuracy.max - y]],
                          fmt="none", ecolor=style["color"], alpha=0.6, capsize=3)
            axes.plot([x], [y], color=style["color"], marker=style["marker"], linestyle="none",
                      label=with_count(point.procedure, len(point.replicates)))
        axes.set_xscale("log")
        # Labels at 1, 2 and 5 of each decade, as 200M: costs often span less than a decade.
        axes.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        axes.xaxis.set_major_formatter(EngFormatter(sep=""))
        axes.xaxis.set_minor_formatter(NullFormatter())
        shown = f" ({percent:.3g}% of weights)" if percent is not None else ""
        axes.set_title(f"level {level}{shown}", fontsize="medium")
        axes.set_xlabel(COST_LABEL)
        axes.grid(True, alpha=0.3)
    panels[0].set_ylabel(ACCURACY_LABEL)
    legend = {}  # label -> handle, each procedure once (its n may differ between panels)
    for axes in panels:
        for line in axes.lines:
            if not line.get_label().startswith("_"):  # error bars' own lines
                legend.setdefault(line.get_label(), line)
    if legend:
        figure.legend(list(legend.values()), list(legend), loc="outside lower center", fontsize="small",
                      ncols=min(3, len(legend)))
    figure.suptitle(fit_title(title, figure.get_figwidth()), fontsize="medium")
    return figure
