"""A short IMP run on tiny data, checking every stored artifact."""
import csv
import glob
import os
import re

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.custom_scalar import layout_pb2
from tensorboard.plugins.hparams import plugin_data_pb2

from lottery_tf.experiments.config import experiment_name
from lottery_tf.experiments.lottery import run_lottery
from lottery_tf.storage import store
from lottery_tf.storage.paths import ExperimentPaths
from lottery_tf.storage.summaries import EXPERIMENT_RUN
from lottery_tf.testing import hparams_sessions, tensorboard_scalars, tiny_config


@pytest.fixture(scope="module")
def finished_run(tiny_mnist_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    config = tiny_config(tiny_mnist_dir, rewind="20it")
    results = run_lottery(config, str(root), replicates=[0], quiet=True)
    return config, ExperimentPaths(str(root), experiment_name(config)), results[0]


def test_every_level_stores_mask_weights_and_metrics(finished_run):
    config, paths, results = finished_run
    assert [m["level"] for m in results] == [0, 1, 2]
    for level in range(3):
        for path in (paths.mask(0, level) if level else None, paths.weights_start(0, level),
                     paths.weights_end(0, level), paths.metrics(0, level)):
            assert path is None or os.path.exists(path)
        assert not os.path.exists(paths.checkpoints(0, level))
    assert os.path.exists(paths.config) and os.path.exists(paths.rewind_weights(0))


def test_metrics_hold_the_promised_fields(finished_run):
    _, paths, _ = finished_run
    metrics = store.read_json(paths.metrics(0, 1))
    assert metrics["percent_remaining"] == pytest.approx(80.0, abs=0.2)
    assert set(metrics["percent_remaining_by_layer"]) == {"dense_1", "dense_2", "output"}
    assert metrics["start_step"] == 20 and metrics["final_step"] == 60
    assert [p["step"] for p in metrics["curve"]] == [20, 40, 60]
    best = min(metrics["curve"], key=lambda p: p["val_loss"])
    assert metrics["early_stop_step"] == best["step"]
    assert metrics["early_stop_test_accuracy"] == best["test_accuracy"]
    assert 0.0 <= metrics["test_accuracy"] <= 1.0


def test_dense_level_learns_the_tiny_task(finished_run):
    _, _, results = finished_run
    assert results[0]["test_accuracy"] > 0.6


def test_stored_weights_are_zero_wherever_masked(finished_run):
    _, paths, _ = finished_run
    for level in (1, 2):
        mask = store.load_arrays(paths.mask(0, level))
        for name in ("weights_start", "weights_end"):
            weights = store.load_arrays(getattr(paths, name)(0, level))
            for layer, layer_mask in mask.items():
                kernel = weights[f"{layer}/kernel"]
                assert np.all(kernel[layer_mask == 0] == 0.0), (name, layer)
                if name == "weights_end":
                    assert np.count_nonzero(kernel[layer_mask == 1]) > 0.99 * layer_mask.sum()


def test_rewinding_restores_step_k_weights_times_mask(finished_run):
    _, paths, _ = finished_run
    rewind = store.load_arrays(paths.rewind_weights(0))
    init = store.load_arrays(paths.weights_start(0, 0))
    assert not np.array_equal(rewind["dense_1/kernel"], init["dense_1/kernel"])
    for level in (1, 2):
        mask = store.load_arrays(paths.mask(0, level))
        start = store.load_arrays(paths.weights_start(0, level))
        for name, value in start.items():
            layer = name.split("/")[0]
            expected = rewind[name] * mask[layer] if name.endswith("/kernel") else rewind[name]
            np.testing.assert_array_equal(value, expected)


def test_masks_shrink_monotonically(finished_run):
    _, paths, _ = finished_run
    level1, level2 = (store.load_arrays(paths.mask(0, level)) for level in (1, 2))
    for layer in level1:
        assert np.all(level2[layer] <= level1[layer])
    assert np.mean(level2["dense_1"]) == pytest.approx(0.64, abs=0.01)


def test_summary_csv_has_one_row_per_level(finished_run):
    _, paths, results = finished_run
    with open(paths.summary_csv(0)) as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["level"]) for r in rows] == [0, 1, 2]
    assert [float(r["test_accuracy"]) for r in rows] == [m["test_accuracy"] for m in results]


def test_tensorboard_curves_and_sparsity_read_back(finished_run):
    _, paths, results = finished_run
    level = tensorboard_scalars(paths.tensorboard_run(0, 1, "ticket"))
    assert os.path.relpath(paths.tensorboard_run(0, 1, "ticket"), paths.tensorboard_root) == \
        os.path.join("rep0", "level_01", "ticket")
    for tag in ("ticket/train/loss", "ticket/train/accuracy", "ticket/validation/loss",
                "ticket/validation/accuracy", "ticket/test/accuracy", "percent_remaining/total",
                "percent_remaining_by_layer/dense_1"):
        assert tag in level, tag
    # Percent remaining, written at the start and the end so it draws as a line.
    assert [step for step, _ in level["percent_remaining/total"]] == [20, 60]
    assert [value for _, value in level["percent_remaining/total"]] == pytest.approx(
        [results[1]["percent_remaining"]] * 2, abs=1e-4)
    test_accuracy = dict(level["ticket/test/accuracy"])
    assert test_accuracy[60] == pytest.approx(100 * results[1]["test_accuracy"], abs=1e-4)
    summary = tensorboard_scalars(paths.tensorboard_summary(0, "ticket"))
    assert [step for step, _ in summary["lottery/ticket/test_accuracy_at_early_stop"]] == [0, 1, 2]
    assert [v for _, v in summary["lottery/ticket/percent_remaining"]] == pytest.approx(
        [m["percent_remaining"] for m in results], abs=1e-4)


def test_one_hparams_session_per_level_with_percent_remaining(finished_run):
    _, paths, results = finished_run
    sessions = hparams_sessions(paths.tensorboard_root)
    assert sorted(sessions) == [os.path.join("rep0", f"level_0{level}", "ticket") for level in range(3)]
    for metrics in results:
        hparams, values = sessions[os.path.join("rep0", f"level_0{metrics['level']}", "ticket")]
        assert hparams["percent_remaining"] == pytest.approx(metrics["percent_remaining"], abs=1e-4)
        assert hparams["level"] == metrics["level"] and hparams["replicate"] == 0
        assert hparams["run"] == "ticket" and hparams["experiment"] == paths.name
        assert values["hparams/test_accuracy_at_early_stop"] == pytest.approx(
            100 * metrics["early_stop_test_accuracy"], abs=1e-4)
        assert values["hparams/early_stop_step"] == metrics["early_stop_step"]
        assert values["hparams/final_test_accuracy"] == pytest.approx(
            100 * metrics["test_accuracy"], abs=1e-4)


def test_hparams_config_and_custom_scalars_layout_read_back(finished_run):
    _, paths, _ = finished_run
    accumulator = EventAccumulator(os.path.join(paths.tensorboard_root, EXPERIMENT_RUN),
                                   size_guidance={"tensors": 0})
    accumulator.Reload()
    content = accumulator.PluginTagToContent("hparams")["_hparams_/experiment"]
    experiment = plugin_data_pb2.HParamsPluginData.FromString(content).experiment
    assert {h.name for h in experiment.hparam_infos} >= {"percent_remaining", "level", "replicate", "run"}
    assert [m.name.tag for m in experiment.metric_infos] == [
        "hparams/test_accuracy_at_early_stop", "hparams/early_stop_step", "hparams/final_test_accuracy"]
    (event,) = accumulator.Tensors("custom_scalars__config__")
    layout = layout_pb2.Layout.FromString(event.tensor_proto.string_val[0])
    charts = {chart.title: chart.multiline.tag[0] for c in layout.category for chart in c.chart}
    tags = set(tensorboard_scalars(paths.tensorboard_run(0, 1, "ticket"))) | set(
        tensorboard_scalars(paths.tensorboard_summary(0, "ticket")))
    for title, regex in charts.items():  # every ticket chart shows something that exists
        if "control" not in regex:
            assert any(re.fullmatch(regex, tag) for tag in tags), title
    assert not any(re.fullmatch(regex, "ticket/test/accuracy") for regex in charts.values()
                   if "validation" in regex or "control" in regex)


def test_rerun_skips_finished_levels(finished_run, tiny_mnist_dir):
    config, paths, results = finished_run
    before = {p: os.path.getmtime(p) for p in glob.glob(os.path.join(paths.dir, "**", "*.npz"),
                                                        recursive=True)}
    again = run_lottery(config, paths.root, replicates=[0], quiet=True)[0]
    assert again == results
    assert before == {p: os.path.getmtime(p) for p in before}
