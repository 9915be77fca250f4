"""The report draws and tabulates exactly the stored numbers, and says what is missing."""
import csv
import glob
import io
import json
import os
import shutil

import numpy as np
import pytest
from matplotlib.collections import LineCollection

from lottery_tf.errors import ConfigError
from lottery_tf.report.build import build_report
from lottery_tf.report.collect import collect
from lottery_tf.storage import store
from lottery_tf.storage.catalog import find_experiments

FIGURES = ("figure_1", "accuracy_vs_sparsity", "early_stop_vs_sparsity", "training_curves", "lmc_paths",
           "lmc_instability", "cost_vs_accuracy")


def _stored(root: str) -> dict:
    """Every metrics.json, read straight from disk: (kind, replicate, level) -> metrics."""
    runs = {}
    for path in glob.glob(os.path.join(root, "*", "replicate_*", "level_*", "metrics.json")):
        parts = path.split(os.sep)
        runs[("ticket", int(parts[-3].split("_")[1]), int(parts[-2].split("_")[1]))] = json.load(open(path))
    for path in glob.glob(os.path.join(root, "*", "replicate_*", "level_*", "branch_*", "metrics.json")):
        metrics = json.load(open(path))
        runs[(metrics["branch"], metrics["replicate"], metrics["level"])] = metrics
    return runs


def _values(runs: dict, kind: str, level: int, key: str) -> list:
    return [m[key] for (k, _, lvl), m in sorted(runs.items()) if k == kind and lvl == level]


def _line(axes, label):
    (line,) = [line for line in axes.lines if line.get_label() == label]
    return line


@pytest.fixture(scope="module")
def report(report_root, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("report_out"))
    return build_report(report_root, out=out, quiet=True), out


def test_every_figure_and_table_is_written(report):
    result, out = report
    (experiment,) = result.experiments
    assert sorted(experiment.figures) == sorted(FIGURES)
    for stem in FIGURES:
        with open(os.path.join(out, f"{stem}.png"), "rb") as handle:
            assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
        with open(os.path.join(out, f"{stem}.svg")) as handle:
            assert "<svg" in handle.read()
    for name in ("levels.csv", "levels.md", "summary.md", "report.md", "cost.csv", "cost.md",
                 "cost_summary.md"):
        assert os.path.getsize(os.path.join(out, name)) > 0
    assert not os.path.exists(os.path.join(out, "summary.csv"))  # text cells: Markdown only
    with open(os.path.join(out, "figure_1.txt")) as handle:
        text = handle.read()
    assert text == experiment.texts["figure_1"]
    assert "Early-stop iteration" in text and "T ticket" in text
    with open(os.path.join(out, "report.md")) as handle:
        markdown = handle.read()
    assert text.rstrip("\n") in markdown
    with open(os.path.join(out, "cost_vs_accuracy.txt")) as handle:
        cost_text = handle.read()
    assert cost_text == experiment.texts["cost_vs_accuracy"] and cost_text.rstrip("\n") in markdown
    assert "A IMP weight rewinding" in cost_text and "B reinit" in cost_text
    assert sorted(result.files) == sorted(glob.glob(os.path.join(out, "*")))
    assert not glob.glob(os.path.join(out, ".*"))  # no temporary files left behind


def test_sparsity_figures_plot_the_stored_means_and_ranges(report, report_root):
    (experiment,) = report[0].experiments
    runs = _stored(report_root)
    figure_1 = experiment.figures["figure_1"].axes
    accuracy, early_stop = "early_stop_test_accuracy", "early_stop_step"
    for axes, key, scale in ((experiment.figures["accuracy_vs_sparsity"].axes[0], accuracy, 100),
                             (experiment.figures["early_stop_vs_sparsity"].axes[0], early_stop, 1),
                             (figure_1[0], early_stop, 1), (figure_1[1], accuracy, 100)):
        ticket = _line(axes, "ticket (n=2)")  # the legend gives the number of replicates
        assert ticket.get_linestyle() == "-"
        np.testing.assert_allclose(ticket.get_xdata(), [100.0, 80.0], atol=0.2)
        np.testing.assert_allclose(ticket.get_ydata(),
                                   [scale * np.mean(_values(runs, "ticket", level, key)) for level in (0, 1)])
        reinit = _line(axes, "reinit (n=2)")
        assert reinit.get_linestyle() == "--"
        np.testing.assert_allclose(reinit.get_ydata(), [scale * np.mean(_values(runs, "reinit", 1, key))])
        # The ticket's min-max bars span exactly the replicates' values, and so does its band (n=2).
        bars = [c for c in axes.collections if isinstance(c, LineCollection)][0]
        for segment, level in zip(bars.get_segments(), (0, 1), strict=True):
            values = _values(runs, "ticket", level, key)
            np.testing.assert_allclose(segment[:, 1], [scale * min(values), scale * max(values)])
        bands = [c for c in axes.collections if not isinstance(c, LineCollection)]
        assert len(bands) == 2  # ticket and reinit, two replicates each
        if scale == 100:
            assert "%" in axes.get_ylabel()
        assert axes.get_xscale() == "log"
        left, right = axes.get_xlim()
        assert left > right  # 100% on the left
        np.testing.assert_allclose(sorted(axes.get_xticks()), [80.0, 100.0], atol=0.2)
        assert axes.get_xlabel() and axes.get_ylabel()


def test_training_curves_plot_the_mean_test_accuracy_per_step(report, report_root):
    (experiment,) = report[0].experiments
    runs = _stored(report_root)
    assert experiment.curve_levels == [0, 1]
    figure = experiment.figures["training_curves"]
    for axes, level in zip(figure.axes, (0, 1), strict=True):
        assert axes.get_title().startswith(f"level {level}")
        curves = [m["curve"] for (k, _, lvl), m in runs.items() if k == "ticket" and lvl == level]
        steps = sorted(set.intersection(*({p["step"] for p in c if p["test_accuracy"] is not None}
                                          for c in curves)))
        expected = [100 * np.mean([next(p["test_accuracy"] for p in c if p["step"] == step) for c in curves])
                    for step in steps]
        line = _line(axes, "ticket (n=2)")
        np.testing.assert_array_equal(line.get_xdata(), steps)
        np.testing.assert_allclose(line.get_ydata(), expected)
    assert {line.get_label() for line in figure.axes[1].lines} == {"ticket (n=2)", "reinit (n=2)"}


def test_lmc_figures_plot_the_stored_paths_and_instability(report, report_root):
    (experiment,) = report[0].experiments
    runs = _stored(report_root)
    paths = experiment.figures["lmc_paths"].axes[0]
    line = _line(paths, "level 1 (80%, n=1)")
    np.testing.assert_allclose(line.get_xdata(), [0.0, 0.5, 1.0])
    np.testing.assert_allclose(line.get_ydata(), np.mean(_values(runs, "lmc", 1, "errors"), axis=0))
    instability = _line(experiment.figures["lmc_instability"].axes[0], "lmc (n=1)")
    np.testing.assert_allclose(instability.get_ydata(), [np.mean(_values(runs, "lmc", 1, "instability"))])


def test_csv_holds_the_stored_numbers(report, report_root):
    _, out = report
    runs = _stored(report_root)
    with open(os.path.join(out, "levels.csv")) as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["level"]) for row in rows] == [0, 1]
    for row, level in zip(rows, (0, 1), strict=True):
        accuracies = _values(runs, "ticket", level, "early_stop_test_accuracy")
        assert float(row["ticket acc@es % mean"]) == pytest.approx(100 * np.mean(accuracies), abs=1e-10)
        assert float(row["ticket acc@es % min"]) == pytest.approx(100 * min(accuracies), abs=1e-10)
        assert float(row["ticket acc@es % max"]) == pytest.approx(100 * max(accuracies), abs=1e-10)
        assert float(row["ticket es step mean"]) == np.mean(_values(runs, "ticket", level, "early_stop_step"))
        assert float(row["ticket final acc % mean"]) == pytest.approx(
            100 * np.mean(_values(runs, "ticket", level, "test_accuracy")), abs=1e-10)
        assert int(row["ticket n"]) == 2
    assert rows[0]["reinit acc@es % mean"] == ""  # no reinit run at level 0
    assert float(rows[1]["reinit acc@es % mean"]) == pytest.approx(
        100 * np.mean(_values(runs, "reinit", 1, "early_stop_test_accuracy")), abs=1e-10)


def test_summary_gives_mean_and_range_per_kind(report, report_root):
    _, out = report
    runs = _stored(report_root)
    with open(os.path.join(out, "summary.md")) as handle:
        lines = handle.read().splitlines()
    assert lines[0].startswith(
        "| level | % weights | ticket acc@es % (n=2) | ticket es step | reinit acc@es %")
    level_1 = lines[3].split(" | ")
    accuracies = 100 * np.array(_values(runs, "ticket", 1, "early_stop_test_accuracy"))
    assert level_1[2] == f"{accuracies.mean():.2f} ({accuracies.min():.2f}-{accuracies.max():.2f})"
    assert level_1[3] == f"{np.mean(_values(runs, 'ticket', 1, 'early_stop_step')):.0f}"
    assert lines[2].split(" | ")[4] == "–"  # no reinit run at level 0
    with open(os.path.join(out, "report.md")) as handle:
        assert "\n".join(lines) in handle.read()


def test_collect_finds_every_run_and_no_gap(report_root):
    (experiment,) = find_experiments(report_root, None)
    collected = collect(experiment)
    assert {r: sorted(levels) for r, levels in collected.trunk.items()} == {0: [0, 1], 1: [0, 1]}
    assert sorted(collected.branches) == ["lmc", "reinit"]
    assert collected.missing.replicates == [] and collected.missing.levels == {}
    assert collected.missing.branches == {"lmc": [(1, 1)]}
    assert collected.missing.lines() == ["branch lmc: missing at replicate 1 level 1"]


def _damaged_copy(report_root, tmp_path):
    """The experiment with replicate 1 renamed to 2 (so 1 is missing) and its level 1 unfinished."""
    shutil.copytree(report_root, tmp_path / "runs")
    (experiment,) = (tmp_path / "runs").iterdir()
    os.rename(experiment / "replicate_1", experiment / "replicate_2")
    os.remove(experiment / "replicate_2" / "level_1" / "metrics.json")
    shutil.rmtree(next((experiment / "replicate_2" / "level_1").glob("branch_reinit_*")))
    return tmp_path / "runs"


def test_missing_replicates_levels_and_branches_are_reported(report_root, tmp_path, capsys):
    root = _damaged_copy(report_root, tmp_path)
    result = build_report(str(root), out=str(tmp_path / "out"))
    missing = result.experiments[0].collected.missing
    assert missing.replicates == [1]
    assert missing.levels == {2: [1]} and missing.training == {2: [1]}
    assert missing.branches == {"reinit": [(2, 1)], "lmc": [(2, 1)]}
    printed = capsys.readouterr().out
    text = (tmp_path / "out" / "report.md").read_text()
    for expected in ("replicate 1: missing", "replicate 2: trunk level(s) 1 missing",
                     "branch reinit: missing at replicate 2 level 1"):
        assert expected in printed and expected in text
    # Level 1's mean now covers replicate 0 only.
    with open(tmp_path / "out" / "levels.csv") as handle:
        assert [row["ticket n"] for row in csv.DictReader(handle)] == ["2", "1"]


def test_unknown_experiment_and_empty_root_are_clear_errors(report_root, tmp_path):
    (experiment,) = find_experiments(report_root, None)
    with pytest.raises(ConfigError, match=f"available: {experiment.name}"):
        build_report(report_root, "lenet_nope_0000000000", quiet=True)
    with pytest.raises(ConfigError, match="No experiments under"):
        build_report(str(tmp_path), quiet=True)
    with pytest.raises(ConfigError, match="does not exist"):
        build_report(str(tmp_path / "nowhere"), quiet=True)
    assert [e.name for e in find_experiments(report_root, experiment.hash[:6])] == [experiment.name]
    assert [e.name for e in find_experiments(report_root, experiment.name)] == [experiment.name]


def test_several_experiments_get_a_comparison(report_root, tmp_path):
    """A copy of the experiment posing as one rewound to step 10 gives instability vs rewind."""
    root = tmp_path / "runs"
    shutil.copytree(report_root, root)
    (original,) = root.iterdir()
    copy = root / (original.name.rsplit("_", 1)[0] + "_0123456789")
    shutil.copytree(original, copy)
    stored = store.read_json(str(copy / "config.json"))
    store.write_json(str(copy / "config.json"), {**stored, "hash": "0123456789"})
    for path in copy.glob("replicate_*/level_1/branch_lmc_*/metrics.json"):
        store.write_json(str(path), {**store.read_json(str(path)), "start_step": 10})
    out = tmp_path / "out"
    printed = io.StringIO()
    result = build_report(str(root), f"{original.name},0123", out=str(out), stream=printed)
    assert [e.name for e in result.experiments] == [original.name, copy.name]
    # The cost verdict is printed too: each procedure against IMP at the same level.
    assert "Every procedure's cost to reach each sparsity:" in printed.getvalue()
    assert "| acc vs IMP weight rewinding (pp) | cost / its cost |" in printed.getvalue()
    for name in ("comparison.csv", "comparison.md", "comparison_accuracy.png", "instability_vs_rewind.svg",
                 "comparison_cost_vs_accuracy.png", "comparison_cost_summary.md", f"{copy.name}/report.md"):
        assert (out / name).exists(), name
    assert (out / "comparison_cost_vs_accuracy.txt").read_text() == \
        result.comparison_texts["comparison_cost_vs_accuracy"]
    assert str(out / "comparison_cost_vs_accuracy.txt") in result.files
    (line,) = [line for line in result.comparison_figures["instability_vs_rewind"].axes[0].lines
               if line.get_label().startswith("80% remaining (n=")]
    np.testing.assert_array_equal(line.get_xdata(), [0, 10])
    assert line.get_ydata()[0] == line.get_ydata()[1]  # the copy holds the same numbers
    # Tickets and controls of every experiment: replicate counts in the legend, accuracy in percent.
    axes = result.comparison_figures["comparison_with_controls"].axes[0]
    # Their settings are the same, so their names label them.
    ticket = _line(axes, f"{original.name}: ticket (n=2)")
    assert "(%)" in axes.get_ylabel() and 1 < max(ticket.get_ydata()) <= 100
    assert any(line.get_label() == f"{copy.name}: reinit (n=2)" for line in axes.lines)
    with open(out / "comparison.csv") as handle:
        header = next(csv.reader(handle))
    assert f"{original.name}:ticket acc@es % mean" in header and f"{copy.name}:reinit es step mean" in header


def test_figures_go_to_tensorboard_as_images(report, report_root):
    import tensorflow as tf
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    result, _ = report
    (experiment,) = result.experiments
    logdir = os.path.join(experiment.collected.experiment.paths.tensorboard_root, "report")
    accumulator = EventAccumulator(logdir, size_guidance={"tensors": 0})
    accumulator.Reload()
    for stem in FIGURES:
        (event,) = accumulator.Tensors(stem)[-1:]
        width, height, png = event.tensor_proto.string_val[:3]
        image = tf.io.decode_png(png).numpy()
        assert image.shape[:2] == (int(height), int(width)) and image.shape[0] > 100
        assert event.step == 1  # the last level reported
    # The figure as drawn: the PNG the report wrote decodes to the same pixels.
    written = tf.io.decode_png(open(os.path.join(report[1], "figure_1.png"), "rb").read(), channels=4)
    stored = tf.io.decode_png(accumulator.Tensors("figure_1")[-1].tensor_proto.string_val[2], channels=4)
    assert written.shape == stored.shape
