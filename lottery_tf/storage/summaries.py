"""Per-replicate results across levels: summary.csv, and what TensorBoard shows of them.

TensorBoard (logdir: the experiment's `tensorboard/` folder, see `paths.py`):

- one HParams session per replicate, level and run (the ticket or a control),
  in that run's own folder, with percent of weights remaining, level,
  replicate, run kind and its arguments as hyperparameters and the test
  accuracy at the early-stop step, the early-stop step and the final test
  accuracy as metrics, so the HParams dashboard's scatter and
  parallel-coordinates views plot accuracy and early stop against sparsity,
  ticket against controls;
- a summary run per replicate and run (`rep<r>/summary/ticket`, ...) with the
  same figures by level (step = level);
- the experiment's HParams config and a custom-scalars layout that keeps
  validation and test, and ticket and controls, in separate charts.

Accuracies are in percent, as in the README and the report.
"""
import csv
import io
import os

import tensorflow as tf
from tensorboard.plugins.custom_scalar import layout_pb2
from tensorboard.plugins.custom_scalar import summary as custom_scalar_summary
from tensorboard.plugins.hparams import api as hparams_api

from lottery_tf.storage import files as storage_files
from lottery_tf.storage import store
from lottery_tf.storage.paths import TICKET_RUN, ExperimentPaths, tensorboard_run_name

SUMMARY_COLUMNS = ("level", "percent_remaining", "test_accuracy", "test_loss", "early_stop_step",
                   "early_stop_test_accuracy", "early_stop_val_loss", "final_step", "start_step",
                   "seed", "wall_seconds")

# The HParams dashboard's metrics: tag -> display name. Written in each session's run.
SESSION_METRICS = {
    "hparams/test_accuracy_at_early_stop": "test accuracy at early stop (%)",
    "hparams/early_stop_step": "early-stop iteration",
    "hparams/final_test_accuracy": "final test accuracy (%)",
}
SESSION_HPARAMS = {
    "percent_remaining": "percent of weights remaining",
    "level": "pruning level",
    "replicate": "replicate",
    "run": "ticket or the control's name",
    "arguments": "the control's arguments",
    "experiment": "experiment folder",
}


def write_replicate_summary(paths: ExperimentPaths, replicate: int, results: list[dict],
                            run: str = "") -> None:
    """Rewrites `summary.csv` of a replicate (`summary_<run>.csv` for a branch) from its
    levels' metrics."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, SUMMARY_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for metrics in sorted(results, key=lambda m: m["level"]):
        writer.writerow(metrics)
    path = paths.summary_csv(replicate)
    if run:
        path = path.replace("summary.csv", f"summary_{run}.csv")
    store.atomic_write_bytes(path, buffer.getvalue().encode())


def curve_group(branch_folder: str | None) -> str:
    """The tag prefix of a run's curves: `ticket` or `control`, so charts keep them apart."""
    return "control" if branch_folder else "ticket"


def log_level_to_tensorboard(paths: ExperimentPaths, replicate: int, metrics: dict,
                             branch_folder: str = "", arguments: str = "") -> None:
    """Writes a finished level's HParams session and its point on the by-level summary.

    Args:
      paths: the experiment.
      replicate: the replicate.
      metrics: the run's metrics.json content.
      branch_folder: the branch's results folder; empty for the trunk's ticket.
      arguments: the branch's arguments as shown to users (e.g. `method=snip`).
    """
    write_experiment_layout(paths)
    run = tensorboard_run_name(branch_folder)
    level = metrics["level"]
    session_dir = paths.tensorboard_run(replicate, level, run)
    writer = tf.summary.create_file_writer(session_dir)
    with writer.as_default():
        hparams_api.hparams(session_hparams(paths, replicate, metrics, arguments),
                            trial_id=f"{paths.name}/rep{replicate}/level_{level:02d}/{run}")
        values = _headline_values(metrics)
        for tag, value in zip(SESSION_METRICS, values, strict=True):
            tf.summary.scalar(tag, value, step=metrics["final_step"])
    writer.close()
    writer = tf.summary.create_file_writer(paths.tensorboard_summary(replicate, run))
    group = curve_group(branch_folder)
    with writer.as_default():
        for name, value in zip(("test_accuracy_at_early_stop", "early_stop_step",
                                "final_test_accuracy"), values, strict=True):
            tf.summary.scalar(f"lottery/{group}/{name}", value, step=level)
        tf.summary.scalar(f"lottery/{group}/percent_remaining", metrics["percent_remaining"], step=level)
    writer.close()


def _headline_values(metrics: dict) -> tuple[float, int, float]:
    return (100.0 * metrics["early_stop_test_accuracy"], int(metrics["early_stop_step"]),
            100.0 * metrics["test_accuracy"])


def session_hparams(paths: ExperimentPaths, replicate: int, metrics: dict, arguments: str) -> dict:
    """The hyperparameters of one session (see SESSION_HPARAMS)."""
    return {"percent_remaining": float(metrics["percent_remaining"]), "level": int(metrics["level"]),
            "replicate": int(replicate), "run": metrics.get("branch", TICKET_RUN),
            "arguments": arguments, "experiment": paths.name}


def write_experiment_layout(paths: ExperimentPaths) -> None:
    """The HParams config and the custom-scalars layout, once, at the logdir's root."""
    root = paths.tensorboard_root
    if storage_files.glob(os.path.join(root, "events.out.tfevents.*")):
        return
    writer = tf.summary.create_file_writer(root)
    with writer.as_default():
        hparams_api.hparams_config(
            hparams=[hparams_api.HParam(name, display_name=text) for name, text in SESSION_HPARAMS.items()],
            metrics=[hparams_api.Metric(tag, display_name=text) for tag, text in SESSION_METRICS.items()])
        tf.summary.experimental.write_raw_pb(custom_scalar_summary.pb(LAYOUT).SerializeToString(), step=0)
    writer.close()


def _chart(title: str, regex: str) -> layout_pb2.Chart:
    return layout_pb2.Chart(title=title, multiline=layout_pb2.MultilineChartContent(tag=[regex]))


def _training_category(group: str) -> layout_pb2.Category:
    title = "ticket" if group == "ticket" else "controls"
    return layout_pb2.Category(title=f"{title}: training (step = iteration)", chart=[
        _chart(f"{title}: validation accuracy (%)", rf"{group}/validation/accuracy"),
        _chart(f"{title}: test accuracy (%)", rf"{group}/test/accuracy"),
        _chart(f"{title}: validation loss", rf"{group}/validation/loss"),
        _chart(f"{title}: test loss", rf"{group}/test/loss"),
        _chart(f"{title}: training loss", rf"{group}/train/loss"),
    ])


LAYOUT = layout_pb2.Layout(category=[
    layout_pb2.Category(title="lottery (step = level)", chart=[
        _chart("ticket: test accuracy at early stop and final (%)", r"lottery/ticket/.*test_accuracy.*"),
        _chart("controls: test accuracy at early stop and final (%)", r"lottery/control/.*test_accuracy.*"),
        _chart("early-stop iteration, ticket and controls", r"lottery/(ticket|control)/early_stop_step"),
        _chart("percent of weights remaining", r"lottery/ticket/percent_remaining"),
    ]),
    _training_category("ticket"),
    _training_category("control"),
    layout_pb2.Category(title="sparsity (step = iteration)", chart=[
        _chart("percent of weights remaining", r"percent_remaining/total"),
        _chart("percent remaining by layer", r"percent_remaining_by_layer/.*"),
        _chart("learning rate", r"(ticket|control)/train/learning_rate"),
    ]),
])
