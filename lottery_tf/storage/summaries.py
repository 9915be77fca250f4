"""Per-replicate results across levels: summary.csv, and what TensorBoard shows of them.

TensorBoard (logdir: the experiment's `tensorboard/` folder, see `paths.py`):

- one HParams session per replicate, level and run (the ticket or a control),
  in that run's own folder, with percent of weights remaining, level,
  replicate, run kind (`ticket`, a control's name, or `ranking` for a
  trunk level cut short to rank weights) and its arguments as hyperparameters and the test
  accuracy at the early-stop step, the early-stop step and the final test
  accuracy as metrics, so the HParams dashboard's scatter and
  parallel-coordinates views plot accuracy and early stop against sparsity,
  ticket against controls;
- a summary run per replicate and run (`rep<r>/summary/ticket`, ...) with the
  same figures by level (step = level);
- the experiment's HParams config and custom-scalars layout, in their own run
  `experiment` (never at the logdir's root, which TensorBoard lists as a run
  named `.`). The config declares each hyperparameter's domain: percent
  remaining a real interval (a numeric column, sortable and an x-axis of the
  scatter plots), level and replicate integer intervals, and the run kind
  (`ticket` or a control's name) a discrete set of strings to colour and filter
  by, grown as new controls store sessions. The layout keeps validation and
  test, and ticket and controls, in separate training charts.

Custom scalars plot a tag against the step, never against another tag, so the
charts of results across levels use the summary runs, whose step is the level:
one chart per headline figure (test accuracy at early stop, final test accuracy,
early-stop iteration) holds the ticket's and every control's line together, and
the percent-remaining chart gives each level's sparsity. Accuracy against
percent remaining itself is the HParams dashboard's scatter plot.

Accuracies are in percent, as in the README and the report.
"""
import csv
import io
import os
from collections.abc import Sequence

import tensorflow as tf
from tensorboard.plugins.custom_scalar import layout_pb2
from tensorboard.plugins.custom_scalar import summary as custom_scalar_summary
from tensorboard.plugins.hparams import api as hparams_api

from lottery_tf.storage import files as storage_files
from lottery_tf.storage import store
from lottery_tf.storage.cumulative_cost import CUMULATIVE_KEYS, OWN_KEYS
from lottery_tf.storage.paths import TICKET_RUN, ExperimentPaths, tensorboard_run_name

SUMMARY_COLUMNS = ("level", "percent_remaining", "test_accuracy", "test_loss", "early_stop_step",
                   "early_stop_test_accuracy", "early_stop_val_loss", "final_step", "start_step",
                   "seed", "wall_seconds", "short_level", *OWN_KEYS, *CUMULATIVE_KEYS)
# A trunk level cut short to rank weights (`short_level`): its sessions and by-level
# points are kept apart from the ticket's, under this run kind and curve group.
RANKING_RUN = "ranking"

# The HParams dashboard's metrics: tag -> display name. Written in each session's run.
SESSION_METRICS = {
    "hparams/test_accuracy_at_early_stop": "test accuracy at early stop (%)",
    "hparams/early_stop_step": "early-stop iteration",
    "hparams/final_test_accuracy": "final test accuracy (%)",
}
EXPERIMENT_RUN = "experiment"  # the run holding the HParams config and custom-scalars layout
_DECLARED_RUNS = "declared_runs.json"  # the run kinds the written config's domain lists
MAX_LEVEL, MAX_REPLICATE = 1000, 100_000  # integer domains' bounds, far beyond any experiment
SESSION_HPARAMS = {
    "percent_remaining": "percent of weights remaining",
    "level": "pruning level",
    "replicate": "replicate",
    "run": "ticket, ranking (a level cut short) or the control's name",
    "arguments": "the control's arguments",
    "experiment": "experiment folder",
}


def write_replicate_summary(paths: ExperimentPaths, replicate: int, results: list[dict],
                            branch_folder: str = "") -> None:
    """Rewrites a replicate's `summary.csv` and its trunk's by-level TensorBoard run (for
    the branch in `branch_folder`: `summary_<branch_folder>.csv` and the branch's run) from
    its levels' metrics."""
    ordered = sorted(results, key=lambda m: m["level"])
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, SUMMARY_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for metrics in ordered:
        writer.writerow(metrics)
    path = paths.summary_csv(replicate)
    if branch_folder:
        path = path.replace("summary.csv", f"summary_{branch_folder}.csv")
    store.atomic_write_bytes(path, buffer.getvalue().encode())
    if ordered:
        write_by_level_run(paths, replicate, ordered, branch_folder)


def write_by_level_run(paths: ExperimentPaths, replicate: int, results: list[dict],
                       branch_folder: str = "") -> None:
    """Rewrites the by-level summary run of the trunk (or of the branch in `branch_folder`)
    as one event file holding every level of `results`, in level order.

    One file per finished level would not do: TensorBoard reads a run's event files in
    name order, and files written within one second sort by the writer's counter as
    text (".11" before ".9"), so levels would read back out of order.
    """
    directory = paths.tensorboard_summary(replicate, tensorboard_run_name(branch_folder))
    earlier = storage_files.glob(os.path.join(directory, "events.out.tfevents.*"))
    group = curve_group(branch_folder)
    writer = tf.summary.create_file_writer(directory)
    with tf.summary.record_if(True), writer.as_default():
        for metrics in sorted(results, key=lambda m: m["level"]):
            level = metrics["level"]
            # A short level's accuracy is not a ticket's: its points go on a line of their own.
            results_group = RANKING_RUN if run_kind(metrics) == RANKING_RUN else group
            for name, value in zip(("test_accuracy_at_early_stop", "early_stop_step",
                                    "final_test_accuracy"), _headline_values(metrics), strict=True):
                tf.summary.scalar(f"lottery/{results_group}/{name}", value, step=level)
            tf.summary.scalar(f"lottery/{group}/percent_remaining", metrics["percent_remaining"],
                              step=level)
    writer.close()
    for stale in earlier:  # after the new file is whole, so a reader never finds the run empty
        storage_files.remove(stale)


def curve_group(branch_folder: str | None) -> str:
    """The tag prefix of a run's curves: `ticket` or `control`, so charts keep them apart."""
    return "control" if branch_folder else "ticket"


def run_kind(metrics: dict) -> str:
    """A stored run's kind: its branch's name, `ranking` for a trunk level cut short, or `ticket`."""
    if metrics.get("branch"):
        return metrics["branch"]
    return RANKING_RUN if metrics.get("short_level") else TICKET_RUN


def log_level_to_tensorboard(paths: ExperimentPaths, replicate: int, metrics: dict,
                             branch_folder: str = "", arguments: str = "") -> None:
    """Writes a finished level's HParams session (its point on the by-level summary run is
    written by `write_replicate_summary`).

    Args:
      paths: the experiment.
      replicate: the replicate.
      metrics: the run's metrics.json content.
      branch_folder: the branch's results folder; empty for the trunk's ticket.
      arguments: the branch's arguments as shown to users (e.g. `method=snip`).
    """
    kind = run_kind(metrics)
    write_experiment_layout(paths, [kind])
    run = tensorboard_run_name(branch_folder)
    level = metrics["level"]
    session_dir = paths.tensorboard_run(replicate, level, run)
    writer = tf.summary.create_file_writer(session_dir)
    with tf.summary.record_if(True), writer.as_default():
        hparams_api.hparams(session_hparams(paths, replicate, metrics, arguments),
                            trial_id=f"{paths.name}/rep{replicate}/level_{level:02d}/{run}")
        for tag, value in zip(SESSION_METRICS, _headline_values(metrics), strict=True):
            tf.summary.scalar(tag, value, step=metrics["final_step"])
    writer.close()


def _percent(accuracy: float | None) -> float:
    """Accuracy in percent; NaN when not recorded (a fit-based level without test data)."""
    return float("nan") if accuracy is None else 100.0 * accuracy


def _headline_values(metrics: dict) -> tuple[float, int, float]:
    return (_percent(metrics["early_stop_test_accuracy"]), int(metrics["early_stop_step"]),
            _percent(metrics["test_accuracy"]))


def session_hparams(paths: ExperimentPaths, replicate: int, metrics: dict, arguments: str) -> dict:
    """The hyperparameters of one session (see SESSION_HPARAMS)."""
    return {"percent_remaining": float(metrics["percent_remaining"]), "level": int(metrics["level"]),
            "replicate": int(replicate), "run": run_kind(metrics),
            "arguments": arguments, "experiment": paths.name}


def session_hparam_infos(runs: Sequence[str]) -> list[hparams_api.HParam]:
    """The declared hyperparameters, with domains (see the module docstring).

    Args:
      runs: the run kinds sessions use (`ticket` and the controls' names).
    """
    domains = {"percent_remaining": hparams_api.RealInterval(0.0, 100.0),
               "level": hparams_api.IntInterval(0, MAX_LEVEL),
               "replicate": hparams_api.IntInterval(0, MAX_REPLICATE),
               "run": hparams_api.Discrete(sorted(set(runs)))}
    return [hparams_api.HParam(name, domains.get(name), display_name=text)
            for name, text in SESSION_HPARAMS.items()]


def write_experiment_layout(paths: ExperimentPaths, runs: Sequence[str] = (TICKET_RUN,)) -> None:
    """Writes the HParams config and custom-scalars layout in the run `experiment`.

    Written once, and again when a session's run kind is not yet in the `run`
    domain (a control stored later). A config an older version wrote at the
    logdir's root (TensorBoard's run `.`) is removed.

    Args:
      paths: the experiment.
      runs: run kinds about to be stored (`ticket`, a control's name).
    """
    root = paths.tensorboard_root
    directory = os.path.join(root, EXPERIMENT_RUN)
    declared_path = os.path.join(directory, _DECLARED_RUNS)
    written = storage_files.glob(os.path.join(directory, "events.out.tfevents.*"))
    known = written and storage_files.exists(declared_path)
    declared = set(store.read_json(declared_path)) if known else set()
    wanted = declared | {TICKET_RUN, *runs}
    if written and wanted == declared:
        return
    for stale in [*written, *storage_files.glob(os.path.join(root, "events.out.tfevents.*"))]:
        storage_files.remove(stale)
    writer = tf.summary.create_file_writer(directory)
    with tf.summary.record_if(True), writer.as_default():
        hparams_api.hparams_config(
            hparams=session_hparam_infos(sorted(wanted)),
            metrics=[hparams_api.Metric(tag, display_name=text) for tag, text in SESSION_METRICS.items()])
        tf.summary.experimental.write_raw_pb(custom_scalar_summary.pb(LAYOUT).SerializeToString(), step=0)
    writer.close()
    store.write_json(declared_path, sorted(wanted))


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
        _chart("test accuracy at early stop (%), ticket and controls",
               r"lottery/(ticket|control)/test_accuracy_at_early_stop"),
        _chart("final test accuracy (%), ticket and controls",
               r"lottery/(ticket|control)/final_test_accuracy"),
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
