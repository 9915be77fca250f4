"""TensorBoard's HParams config declares typed domains, and every run has a name (no run `.`)."""
import os
import re

import tensorflow as tf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.custom_scalar import layout_pb2
from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2

from lottery_tf.storage.paths import ExperimentPaths, branch_folder
from lottery_tf.storage.summaries import EXPERIMENT_RUN, log_level_to_tensorboard, write_replicate_summary
from lottery_tf.testing import tensorboard_scalars


def _metrics(level: int, **extra) -> dict:
    return {"level": level, "percent_remaining": 100 * 0.8 ** level, "early_stop_test_accuracy": 0.9,
            "early_stop_step": 40, "test_accuracy": 0.88, "final_step": 100, **extra}


def _experiment_config(logdir: str):
    accumulator = EventAccumulator(logdir, size_guidance={"tensors": 0})
    accumulator.Reload()
    content = accumulator.PluginTagToContent("hparams")["_hparams_/experiment"]
    return plugin_data_pb2.HParamsPluginData.FromString(content).experiment, accumulator


def _event_folders(root: str) -> set[str]:
    return {os.path.relpath(folder, root) for folder, _, names in os.walk(root)
            if any(name.startswith("events.out.tfevents") for name in names)}


def test_hparams_domains_are_typed_and_no_run_is_named_dot(tmp_path):
    paths = ExperimentPaths(str(tmp_path), "exp_0123456789")
    # A config an older version wrote at the logdir's root: TensorBoard's run ".".
    with tf.summary.create_file_writer(paths.tensorboard_root).as_default():
        tf.summary.scalar("stale", 1.0, step=0)
    for level in range(2):
        log_level_to_tensorboard(paths, 0, _metrics(level))
    write_replicate_summary(paths, 0, [_metrics(level) for level in range(2)])
    folder = branch_folder("reinit", {"seed": 1})
    control = _metrics(1, branch="reinit", branch_folder=folder)
    log_level_to_tensorboard(paths, 0, control, branch_folder=folder)
    write_replicate_summary(paths, 0, [control], branch_folder=folder)

    runs = _event_folders(paths.tensorboard_root)
    assert "." not in runs and EXPERIMENT_RUN in runs
    experiment, accumulator = _experiment_config(os.path.join(paths.tensorboard_root, EXPERIMENT_RUN))
    infos = {info.name: info for info in experiment.hparam_infos}
    percent = infos["percent_remaining"]
    assert percent.type == api_pb2.DATA_TYPE_FLOAT64 and percent.HasField("domain_interval")
    assert (percent.domain_interval.min_value, percent.domain_interval.max_value) == (0.0, 100.0)
    for name in ("level", "replicate"):
        assert infos[name].type == api_pb2.DATA_TYPE_FLOAT64 and infos[name].HasField("domain_interval")
        assert infos[name].domain_interval.min_value == 0
    run = infos["run"]
    assert run.type == api_pb2.DATA_TYPE_STRING  # the control stored later joined the domain
    assert [value.string_value for value in run.domain_discrete.values] == ["reinit", "ticket"]

    (event,) = accumulator.Tensors("custom_scalars__config__")
    layout = layout_pb2.Layout.FromString(event.tensor_proto.string_val[0])
    charts = {chart.title: chart.multiline.tag[0] for category in layout.category for chart in category.chart}
    combined = charts["test accuracy at early stop (%), ticket and controls"]
    summary_runs = [run for run in runs if run.startswith(os.path.join("rep0", "summary"))]
    matched = [run for run in summary_runs
               if any(re.fullmatch(combined, tag)
                      for tag in tensorboard_scalars(os.path.join(paths.tensorboard_root, run)))]
    assert sorted(matched) == sorted(summary_runs) and len(matched) == 2  # ticket and reinit, one chart


def test_by_level_run_reads_back_in_level_order_however_fast_levels_end(tmp_path):
    """Levels stored within one second (as tiny runs store them) still read back 0, 1, ..., 11:
    each store rewrites the run as one file, so the event files' name order cannot reorder them."""
    paths = ExperimentPaths(str(tmp_path), "exp_0123456789")
    stored = []
    for level in range(12):
        stored.append(_metrics(level, early_stop_step=10 * level))
        write_replicate_summary(paths, 0, list(reversed(stored)))  # any order in, level order out
    run = paths.tensorboard_summary(0, "ticket")
    assert len([name for name in os.listdir(run) if name.startswith("events.out.tfevents")]) == 1
    scalars = tensorboard_scalars(run)
    assert scalars["lottery/ticket/early_stop_step"] == [(level, 10.0 * level) for level in range(12)]
    assert [step for step, _ in scalars["lottery/ticket/percent_remaining"]] == list(range(12))
    # A level cut short to rank weights goes on the ranking line, not the ticket's.
    write_replicate_summary(paths, 0, [*stored, _metrics(12, short_level=True)])
    scalars = tensorboard_scalars(run)
    assert [step for step, _ in scalars["lottery/ranking/test_accuracy_at_early_stop"]] == [12]
    assert [step for step, _ in scalars["lottery/ticket/percent_remaining"]] == list(range(13))
