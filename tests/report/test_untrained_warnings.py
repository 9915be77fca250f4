"""Levels whose every run reports untrained weights at early stop are named under the console
tables and in the report; single-replicate tables print no min-max range.

The experiments are metrics.json files written through the store, as training writes them:
one that early-stopped at its start step at every level (validation loss rising from the
first evaluation), and one that trained.
"""
import io

import pytest

from lottery_tf.report.build import build_report
from lottery_tf.report.console import combined_table, sweep_table, trunk_table
from lottery_tf.report.degenerate import level_ranges, untrained_levels, untrained_warnings
from lottery_tf.storage import store
from lottery_tf.storage.paths import ExperimentPaths, branch_folder
from lottery_tf.storage.runs import branch_runs, trunk_runs
from lottery_tf.storage.untrained_signs import untrained_reasons

LEVELS = 3
REWIND = 20
END = 100


def _metrics(level: int, untrained: bool, start: int, accuracy: float, **extra) -> dict:
    """A run's metrics.json: evaluations every 20 steps; the validation loss rises from the
    first one (untrained) or falls to the last one."""
    steps = list(range(start, END + 1, 20))
    losses = [2.3 + 0.1 * i if untrained else 2.3 - 0.3 * i for i in range(len(steps))]
    curve = [{"step": step, "val_loss": loss, "val_accuracy": 0.1, "test_accuracy": accuracy}
             for step, loss in zip(steps, losses, strict=True)]
    best = min(curve, key=lambda point: point["val_loss"])
    return {"level": level, "replicate": 0, "start_step": start, "seed": 0,
            "percent_remaining": 100 * 0.8 ** level, "test_accuracy": accuracy,
            "early_stop_step": best["step"], "early_stop_test_accuracy": accuracy,
            "final_step": END, "curve": curve, **extra}


def _write_experiment(root: str, untrained: bool) -> ExperimentPaths:
    """One replicate, trunk levels 0-2 and a reinit control at levels 1-2."""
    paths = ExperimentPaths(root, "lenet_tiny_0123456789")
    store.write_json(paths.config, {"hash": "0123456789", "config": {
        "model": {"name": "lenet"}, "dataset": {"name": "npz:x.npz"}, "rewind": f"{REWIND}it",
        "pruning": {"strategy": "magnitude", "rate": 0.2},
        "training": {"train_steps": f"{END}it", "learning_rate": 0.1}}})
    for level in range(LEVELS):
        start = 0 if level == 0 else REWIND
        store.write_json(paths.metrics(0, level), _metrics(level, untrained, start, 0.876))
        if level:
            folder = branch_folder("reinit", {"seed": 1})
            store.write_json(paths.branch_files(0, level, folder).metrics, _metrics(
                level, untrained, start, 0.5, branch="reinit", branch_folder=folder, branch_args={}))
    return paths


@pytest.fixture(params=[True, False], ids=["untrained", "trained"])
def stored(request, tmp_path):
    return request.param, _write_experiment(str(tmp_path / "runs"), request.param)


def test_console_tables_warn_when_every_run_of_a_level_is_untrained(stored):
    untrained, paths = stored
    trunk = list(trunk_runs(paths, 0).values())
    branches = {"reinit": next(iter(branch_runs(paths, 0).values()))}
    for table in (trunk_table(trunk), combined_table(trunk, branches)):
        warned = "warning:" in table
        assert warned == untrained, table
    if untrained:
        lines = combined_table(trunk, branches).splitlines()
        warning = next(line for line in lines if line.startswith("warning:"))
        assert warning.startswith("warning: ticket levels 0-2 and reinit levels 1-2: every run "
                                  "early-stopped at its start step and saw its validation loss "
                                  "rise from the first evaluation, so its accuracy at early stop "
                                  "is that of its untrained starting weights")
        assert any("likely cause: a validation split that does not represent" in line for line in lines)
        assert any("validation_split=stratified" in line and "learning_rate" in line for line in lines)
        assert trunk_table(trunk).splitlines()[LEVELS + 1].startswith(
            "warning: ticket levels 0-2: every run ")


def test_report_warns_under_its_table_in_report_md_and_the_printed_summary(stored, tmp_path):
    untrained, paths = stored
    printed = io.StringIO()
    result = build_report(paths.root, out=str(tmp_path / "out"), stream=printed)
    markdown = (tmp_path / "out" / "report.md").read_text()
    for text in (markdown, printed.getvalue()):
        assert ("warning: ticket levels 0-2 and reinit levels 1-2: every run early-stopped" in text) \
            == untrained
        assert ("likely cause:" in text) == untrained
    assert bool(result.experiments[0].warnings) == untrained
    if untrained:  # under the level table, before the figures
        assert markdown.index("| level |") < markdown.index("warning:") < markdown.index("## Figures")


def test_single_replicate_cells_print_the_value_without_a_range(stored, tmp_path):
    _, paths = stored
    printed = io.StringIO()
    build_report(paths.root, out=str(tmp_path / "out"), stream=printed)
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "87.60 (" not in summary and "(87.60-87.60)" not in printed.getvalue()
    row = summary.splitlines()[2].split(" | ")
    assert row[2] == "87.60"


def test_a_level_with_one_trained_run_is_not_flagged():
    trained, untrained = _metrics(1, False, REWIND, 0.9), _metrics(1, True, REWIND, 0.1)
    assert untrained_levels({"ticket": [trained, untrained]}) == {}
    assert untrained_warnings({"ticket": [untrained, {**untrained, "replicate": 1}]})
    # Runs with neither an early-stop step nor a curve (an interpolation path) are not judged.
    path = {"level": 1, "alphas": [0, 1], "start_step": REWIND}
    assert untrained_levels({"lmc": [path], "ticket": [trained]}) == {}


def test_rewind_sweep_table_warns_per_rewind_step():
    summary = {"level": 1, "percent_remaining": 80.0, "by_rewind_step": {
        "0": {"start_step": 0, "early_stop_step": 0, "test_accuracy": 0.1,
              "early_stop_test_accuracy": 0.1},
        "20": {"start_step": 20, "early_stop_step": 80, "test_accuracy": 0.9,
               "early_stop_test_accuracy": 0.9}}}
    lines = sweep_table([summary]).splitlines()
    assert lines[3].startswith("warning: rewind 0 level 1: every run early-stopped at its start step,")


def test_signs_and_level_ranges():
    assert level_ranges([7, 0, 1, 2, 3, 9, 10]) == "0-3, 7, 9-10"
    reasons = untrained_reasons(_metrics(0, True, 0, 0.1))
    assert reasons[0] == "the run early-stopped at step 0, the step it started at"
    assert reasons[1].startswith("its validation loss rose from the first evaluation (step 0: 2.3)")
    assert untrained_reasons(_metrics(0, False, 0, 0.9)) == []


def test_a_run_that_trains_no_step_is_not_called_untrained():
    """init_eval only evaluates its start: it did not early-stop, it never trained by design."""
    evaluated_only = {"start_step": 20, "early_stop_step": 20, "final_step": 20,
                      "curve": [{"step": 20, "val_loss": 2.3}]}
    assert untrained_reasons(evaluated_only) == []
    assert untrained_reasons({**evaluated_only, "final_step": 100}) != []
