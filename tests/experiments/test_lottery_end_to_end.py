"""A short IMP run on tiny data, checking every stored artifact."""
import csv
import glob
import os
import re

import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.custom_scalar import layout_pb2
from tensorboard.plugins.hparams import plugin_data_pb2

from lottery_tf.experiments import store
from lottery_tf.experiments.config import experiment_name
from lottery_tf.experiments.lottery import run_lottery
from lottery_tf.experiments.paths import ExperimentPaths
from lottery_tf.testing import tiny_config


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


def _scalars(logdir):
    accumulator = EventAccumulator(logdir, size_guidance={"tensors": 0})
    accumulator.Reload()
    scalars = {}
    for tag in accumulator.Tags()["tensors"]:
        values = [(e.step, tf.make_ndarray(e.tensor_proto)) for e in accumulator.Tensors(tag)]
        if all(value.ndim == 0 and value.dtype.kind == "f" for _, value in values):
            scalars[tag] = [(step, float(value)) for step, value in values]
    return scalars


def test_tensorboard_events_read_back(finished_run):
    _, paths, results = finished_run
    level = _scalars(paths.tensorboard(0, "level_1"))
    for tag in ("train/loss", "train/accuracy", "validation/loss", "validation/accuracy",
                "test/accuracy", "sparsity/total", "sparsity/dense_1"):
        assert tag in level, tag
    assert level["sparsity/total"][0][1] == pytest.approx(0.2, abs=0.002)
    test_accuracy = dict(level["test/accuracy"])
    assert test_accuracy[60] == pytest.approx(results[1]["test_accuracy"], abs=1e-6)
    summary = _scalars(paths.tensorboard(0, "summary"))
    assert [step for step, _ in summary["lottery/test_accuracy"]] == [0, 1, 2]
    assert [v for _, v in summary["lottery/percent_remaining"]] == pytest.approx(
        [m["percent_remaining"] for m in results], abs=1e-4)


def test_hparams_and_custom_scalars_dashboards_read_back(finished_run):
    config, paths, _ = finished_run
    accumulator = EventAccumulator(paths.tensorboard(0, "summary"), size_guidance={"tensors": 0})
    accumulator.Reload()
    content = accumulator.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    session = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info
    hparams = {key: value.string_value or value.number_value for key, value in session.hparams.items()}
    assert hparams["experiment"] == paths.name and hparams["run"] == "trunk"
    assert hparams["model.name"] == "lenet_40_20" and hparams["rewind"] == "20it"
    assert hparams["pruning.rate"] == pytest.approx(config.pruning.rate)
    (event,) = accumulator.Tensors("custom_scalars__config__")
    layout = layout_pb2.Layout.FromString(event.tensor_proto.string_val[0])
    charts = {chart.title: chart.multiline.tag[0] for c in layout.category for chart in c.chart}
    tags = set(accumulator.Tags()["tensors"]) | set(_scalars(paths.tensorboard(0, "level_1")))
    for title, regex in charts.items():  # every chart shows something that exists
        assert any(re.fullmatch(regex, tag) for tag in tags), title


def test_rerun_skips_finished_levels(finished_run, tiny_mnist_dir):
    config, paths, results = finished_run
    before = {p: os.path.getmtime(p) for p in glob.glob(os.path.join(paths.dir, "**", "*.npz"),
                                                        recursive=True)}
    again = run_lottery(config, paths.root, replicates=[0], quiet=True)[0]
    assert again == results
    assert before == {p: os.path.getmtime(p) for p in before}
