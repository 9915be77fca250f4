"""Stored runs read back from files alone: no Setup, no dataset, no training code."""
import os
import pathlib
import subprocess
import sys

from lottery_tf.storage import store
from lottery_tf.storage.paths import ExperimentPaths
from lottery_tf.storage.runs import branch_runs, trunk_runs

REPO = pathlib.Path(__file__).resolve().parents[2]


def _finish(path: str, **metrics) -> dict:
    store.write_json(path, metrics)
    return metrics


def test_finished_trunk_levels_and_branch_runs_are_read_without_a_setup(tmp_path):
    paths = ExperimentPaths(str(tmp_path), "exp_0123456789")
    levels = {level: _finish(paths.metrics(0, level), level=level, early_stop_test_accuracy=0.9 - level / 10)
              for level in (0, 1, 2)}
    os.makedirs(paths.level(0, 3))  # started, not finished: no metrics.json yet
    reinit = [_finish(paths.branch_files(0, level, "branch_reinit_aaaaaaaaaa").metrics,
                      branch="reinit", level=level) for level in (1, 2)]
    lmc = _finish(paths.branch_files(0, 2, "branch_lmc_bbbbbbbbbb").metrics, branch="lmc", level=2)
    os.makedirs(paths.branch_files(0, 1, "branch_one_shot_cccccccccc").dir)  # unfinished branch
    os.makedirs(os.path.join(paths.level(0, 1), "checkpoints"))  # not a branch

    assert trunk_runs(paths, 0) == levels
    assert trunk_runs(paths, 0, max_level=1) == {0: levels[0], 1: levels[1]}
    found = branch_runs(paths, 0)
    assert list(found) == ["branch_reinit_aaaaaaaaaa", "branch_lmc_bbbbbbbbbb"]  # first level seen, then name
    assert found["branch_reinit_aaaaaaaaaa"] == reinit and found["branch_lmc_bbbbbbbbbb"] == [lmc]
    assert branch_runs(paths, 0, max_level=1) == {"branch_reinit_aaaaaaaaaa": reinit[:1]}
    assert trunk_runs(paths, 1) == {} and branch_runs(paths, 1) == {}  # no such replicate


def test_report_and_export_import_no_training_code():
    code = ("import sys\n"
            "import lottery_tf.report.build, lottery_tf.export, lottery_tf.export.compact\n"
            "print(sorted(m for m in sys.modules if m.startswith(('lottery_tf.training', "
            "'lottery_tf.experiments.lottery', 'lottery_tf.experiments.branches', "
            "'lottery_tf.experiments.masked_run', 'lottery_tf.experiments.setup'))))\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
