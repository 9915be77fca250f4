"""The pure parts of the report on hand-made metrics: spreads, kinds, labels, curves, tables."""
import math

import numpy as np
import pytest

from lottery_tf.report import aggregate, figures, tables
from lottery_tf.report.collect import branch_labels


def _run(level, accuracy, step=100, percent=100.0, **extra):
    return {"level": level, "percent_remaining": percent, "early_stop_test_accuracy": accuracy,
            "test_accuracy": accuracy - 0.01, "early_stop_step": step, **extra}


def test_spread_ignores_missing_values():
    spread = aggregate.Spread.of([0.5, None, float("nan"), 0.7])
    assert (spread.mean, spread.min, spread.max, spread.count) == (pytest.approx(0.6), 0.5, 0.7, 2)
    with pytest.raises(ValueError):
        aggregate.Spread.of([None])


def test_rewind_sweeps_become_one_kind_per_step_and_lmc_is_left_out():
    trunk = {0: {0: _run(0, 0.9), 1: _run(1, 0.92, percent=80.0)}}
    sweep = {"branch": "rewind_sweep", "level": 1, "percent_remaining": 80.0, "by_rewind_step": {
        "500": {"early_stop_test_accuracy": 0.95, "test_accuracy": 0.94, "early_stop_step": 300,
                "start_step": 500},
        "20": {"early_stop_test_accuracy": 0.93, "test_accuracy": 0.92, "early_stop_step": 200,
               "start_step": 20}}}
    lmc = {"branch": "lmc", "level": 1, "percent_remaining": 80.0, "alphas": [0, 1], "errors": [0.1, 0.1],
           "instability": 0.0}
    kinds = aggregate.run_kinds(trunk, {"rewind_sweep": {0: {1: sweep}}, "lmc": {0: {1: lmc}}})
    assert list(kinds) == ["ticket", "rewind_sweep@20", "rewind_sweep@500"]
    assert kinds["rewind_sweep@500"][0][1]["percent_remaining"] == 80.0
    (stats,) = aggregate.level_stats("rewind_sweep@500", kinds["rewind_sweep@500"])
    assert stats.accuracy_at_early_stop.mean == 0.95 and stats.early_stop_step.mean == 300


def test_level_stats_over_replicates():
    runs = {0: {0: _run(0, 0.90, step=100)}, 3: {0: _run(0, 0.96, step=300)}}
    (stats,) = aggregate.level_stats("ticket", runs)
    assert stats.replicates == (0, 3)
    assert stats.accuracy_at_early_stop.mean == pytest.approx(0.93)
    assert (stats.accuracy_at_early_stop.min, stats.accuracy_at_early_stop.max) == (0.90, 0.96)
    assert stats.early_stop_step.mean == 200


def test_curve_band_uses_the_steps_every_run_evaluated():
    first = {"curve": [{"step": 0, "test_accuracy": 0.1}, {"step": 10, "test_accuracy": None},
                       {"step": 20, "test_accuracy": 0.5}]}
    second = {"curve": [{"step": 0, "test_accuracy": 0.3}, {"step": 10, "test_accuracy": 0.4},
                        {"step": 20, "test_accuracy": 0.7}]}
    band = aggregate.curve_band([first, second])
    np.testing.assert_array_equal(band.x, [0, 20])
    np.testing.assert_allclose(band.mean, [0.2, 0.6])
    np.testing.assert_allclose(band.min, [0.1, 0.5])
    np.testing.assert_allclose(band.max, [0.3, 0.7])
    assert aggregate.curve_band([{"curve": []}]) is None


def test_default_curve_levels_are_first_near_twenty_percent_and_last():
    percents = {level: 100 * 0.8 ** level for level in range(12)}
    assert aggregate.curve_levels(percents) == [0, 7, 11]  # 0.8^7 = 21.0%
    assert aggregate.curve_levels({0: 100.0, 1: 80.0}) == [0, 1]


def test_branch_labels_match_across_replicates_and_show_differing_arguments():
    runs = [{"branch": "lmc", "branch_args": {"points": 3}}, {"branch": "lmc", "branch_args": {"points": 5}},
            {"branch": "lmc", "branch_args": {"points": 3}}, {"branch": "reinit", "branch_args": {}}]
    labels = branch_labels(runs)
    assert sorted(labels.values()) == ["lmc[points=3]", "lmc[points=5]", "reinit"]


def test_lmc_levels_average_paths():
    runs = {0: {1: {"level": 1, "percent_remaining": 80.0, "alphas": [0, 0.5, 1], "errors": [0.1, 0.3, 0.1],
                    "instability": 0.2, "start_step": 0}},
            1: {1: {"level": 1, "percent_remaining": 80.0, "alphas": [0, 0.5, 1], "errors": [0.2, 0.2, 0.2],
                    "instability": 0.0, "start_step": 0}}}
    (stats,) = aggregate.lmc_levels(runs)
    np.testing.assert_allclose(stats.errors.mean, [0.15, 0.25, 0.15])
    assert stats.instability.mean == pytest.approx(0.1) and stats.start_steps == (0,)


def test_tables_in_csv_keep_full_precision_and_markdown_rounds():
    stats = aggregate.summarize({0: {0: _run(0, 1 / 3)}}, {})
    table = tables.level_table(stats)
    csv_text = tables.to_csv(table)
    assert repr(100 * (1 / 3)) in csv_text  # accuracies in percent, at full precision
    markdown = tables.to_markdown(table)
    assert "| 33.33 |" in markdown and markdown.count("\n") == 3


def test_percent_axis_puts_a_tick_on_every_level_and_labels_some():
    figure = figures.new_figure()
    axes = figure.add_subplot()
    percents = [100 * 0.8 ** level for level in range(25)]
    axes.plot(percents, percents)
    figures.percent_axis(axes, percents)
    assert len(axes.get_xticks()) == 25
    labels = [label.get_text() for label in axes.get_xticklabels()]
    assert labels[0] == "100" and 0 < sum(bool(text) for text in labels) <= figures.MAX_TICK_LABELS
    left, right = axes.get_xlim()
    assert left > 100 > percents[-1] > right and not math.isnan(left)
