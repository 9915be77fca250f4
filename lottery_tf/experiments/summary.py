"""Per-replicate results across levels: summary.csv and TensorBoard scalars by level."""
import csv
import io

import tensorflow as tf

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
    writer = tf.summary.create_file_writer(paths.tensorboard(replicate, name))
    level = metrics["level"]
    with writer.as_default():
        tf.summary.scalar("lottery/percent_remaining", metrics["percent_remaining"], step=level)
        tf.summary.scalar("lottery/test_accuracy", metrics["test_accuracy"], step=level)
        tf.summary.scalar("lottery/early_stop_step", metrics["early_stop_step"], step=level)
        tf.summary.scalar("lottery/early_stop_test_accuracy", metrics["early_stop_test_accuracy"],
                          step=level)
    writer.close()
