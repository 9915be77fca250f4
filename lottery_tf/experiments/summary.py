"""Per-replicate results across levels: summary.csv and TensorBoard scalars by level.

Each replicate's `summary` run (and each branch's `summary_<run>`) also carries
the experiment's hashed config as HParams, so TensorBoard's HParams dashboard
over a results root lists every experiment, replicate and control with its
settings and latest headline metrics; and a custom-scalars layout that groups
the lottery, accuracy and sparsity charts.
"""
import csv
import io
import os

import tensorflow as tf
from tensorboard.plugins.custom_scalar import layout_pb2
from tensorboard.plugins.custom_scalar import summary as custom_scalar_summary
from tensorboard.plugins.hparams import api as hparams_api

from lottery_tf.experiments import store
from lottery_tf.experiments.paths import ExperimentPaths

SUMMARY_COLUMNS = ("level", "percent_remaining", "test_accuracy", "test_loss", "early_stop_step",
                   "early_stop_test_accuracy", "early_stop_val_loss", "final_step", "start_step",
                   "seed", "wall_seconds")


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


def log_level_to_tensorboard(paths: ExperimentPaths, replicate: int, metrics: dict,
                             run: str = "") -> None:
    """Adds one level's headline figures to the replicate's `summary` run (step = level);
    a branch writes to `summary_<run>`, so TensorBoard overlays ticket and controls."""
    name = f"summary_{run}" if run else "summary"
    logdir = paths.tensorboard(replicate, name)
    first = not os.path.isdir(logdir) or not os.listdir(logdir)
    writer = tf.summary.create_file_writer(logdir)
    level = metrics["level"]
    with writer.as_default():
        if first:  # the run's settings and chart layout, once
            hparams_api.hparams(run_hparams(paths, replicate, run or "trunk"),
                                trial_id=f"{paths.name}/replicate_{replicate}/{run or 'trunk'}")
            tf.summary.experimental.write_raw_pb(
                custom_scalar_summary.pb(LAYOUT).SerializeToString(), step=0)
        tf.summary.scalar("lottery/percent_remaining", metrics["percent_remaining"], step=level)
        tf.summary.scalar("lottery/test_accuracy", metrics["test_accuracy"], step=level)
        tf.summary.scalar("lottery/early_stop_step", metrics["early_stop_step"], step=level)
        tf.summary.scalar("lottery/early_stop_test_accuracy", metrics["early_stop_test_accuracy"],
                          step=level)
    writer.close()


def run_hparams(paths: ExperimentPaths, replicate: int, run: str) -> dict:
    """The HParams of one summary run: the stored hashed config plus what tells runs apart."""
    values = {"experiment": paths.name, "replicate": replicate, "run": run}
    for key, value in store.read_json(paths.config)["hashed"].items():
        values[key] = value if isinstance(value, bool | int | float | str) else str(value)
    return values


def _chart(title: str, regex: str) -> layout_pb2.Chart:
    return layout_pb2.Chart(title=title, multiline=layout_pb2.MultilineChartContent(tag=[regex]))


LAYOUT = layout_pb2.Layout(category=[
    layout_pb2.Category(title="lottery (step = level)", chart=[
        _chart("test accuracy, final and at early stop", r"lottery/.*test_accuracy"),
        _chart("early-stop step", r"lottery/early_stop_step"),
        _chart("percent of weights remaining", r"lottery/percent_remaining"),
    ]),
    layout_pb2.Category(title="training (step = iteration)", chart=[
        _chart("accuracy", r"(train|validation|test)/accuracy"),
        _chart("loss", r"(train|validation|test)/loss"),
        _chart("learning rate", r"train/learning_rate"),
    ]),
    layout_pb2.Category(title="sparsity", chart=[_chart("fraction of weights pruned", r"sparsity/.*")]),
])
