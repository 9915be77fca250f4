"""training_curves.png shows whole curves, and long experiment names stay inside the figure."""
import numpy as np

from lottery_tf.report import figures
from lottery_tf.report.aggregate import TICKET


def _run(accuracies: list[float], percent: float = 51.2) -> dict:
    return {"percent_remaining": percent,
            "curve": [{"step": 100 * i, "test_accuracy": a} for i, a in enumerate(accuracies)]}


# Early values far outside the final ones: a start at chance, a dip, then a plateau near 97%.
TICKET_CURVES = [[0.10, 0.60, 0.96, 0.97, 0.97], [0.12, 0.20, 0.95, 0.97, 0.98]]
CONTROL_CURVE = [0.09, 0.99, 0.93, 0.94, 0.94]


def test_y_limits_hold_every_plotted_point_with_a_small_margin():
    kinds = {TICKET: {r: {1: _run(c)} for r, c in enumerate(TICKET_CURVES)},
             "reinit": {0: {1: _run(CONTROL_CURVE)}}}
    figure = figures.training_curves(kinds, [1], "exp: test accuracy during training")
    (axes,) = figure.axes
    low, high = axes.get_ylim()
    points = 100 * np.array(TICKET_CURVES + [CONTROL_CURVE])
    assert low <= points.min() and high >= points.max()  # the starts near 10% and the 99% peak
    span = points.max() - points.min()
    assert points.min() - low <= 0.1 * span and high - points.max() <= 0.1 * span  # a margin, not a void
    for line in axes.lines:  # every drawn point, means included, lies inside
        y = np.asarray(line.get_ydata(), float)
        assert ((y >= low) & (y <= high)).all()


def test_a_120_character_experiment_name_is_wrapped_to_the_figure_width():
    name = "fit_" + "_".join(["lenet_300_100_mnist_validation_5000_global_rate_0.2"] * 3)[:110] + "_abcdef01"
    assert len(name) >= 120
    kinds = {TICKET: {0: {0: _run(TICKET_CURVES[0])}}}
    figure = figures.training_curves(kinds, [0], f"{name}: test accuracy during training")
    title = figure._suptitle  # noqa: SLF001 - matplotlib keeps the suptitle Text only here
    lines = title.get_text().split("\n")
    assert len(lines) > 1 and "".join(lines).replace(" ", "").startswith(name[:60].replace(" ", ""))
    assert all(len(line) <= figures.title_width(figure.get_figwidth()) for line in lines)
    figure.canvas.draw()
    box, frame = title.get_window_extent(), figure.bbox
    assert frame.x0 <= box.x0 and box.x1 <= frame.x1  # the rendered title fits the figure's width


def test_titles_longer_than_the_lines_allowed_end_with_an_ellipsis():
    text = figures.fit_title("x" * 1000, 6.4)
    lines = text.split("\n")
    assert len(lines) == figures.TITLE_MAX_LINES and lines[-1].endswith("\u2026")
    assert all(len(line) <= figures.title_width(6.4) for line in lines)
