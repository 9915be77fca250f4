"""Runs killed with SIGKILL at awkward moments, rerun with the same command, end as if never killed.

Each kill is a real `python -m lottery_tf lottery` process killing itself at a
named moment (lottery_tf/storage/crash_points.py); the next run resumes
from whatever the killed one left on disk.
"""
import glob
import os
import pathlib
import signal

import pytest

from lottery_tf.experiments.config import experiment_name
from lottery_tf.experiments.lottery import run_lottery
from lottery_tf.storage.paths import ExperimentPaths
from lottery_tf.testing import (
    assert_same_results,
    lottery_process,
    stored_results,
    tiny_config,
    write_config_file,
)

REPO = pathlib.Path(__file__).resolve().parents[2]
SETTINGS = {"rewind": "20it", "levels": 2}

# In order, each run resuming what the previous one left:
KILLS = [
    "pause:2",               # level 0 mid-training, right after the step-40 checkpoint
    "checkpoint_written:1",  # level 1: checkpoint files written, not yet marked complete
    "mid_write:3",           # half of some file written
    "pruned:1",              # level 2's mask stored, training not started
]


@pytest.fixture(scope="module")
def reference(tiny_mnist_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("uninterrupted")
    config = tiny_config(tiny_mnist_dir, **SETTINGS)
    run_lottery(config, str(root), [0], quiet=True)
    return ExperimentPaths(str(root), experiment_name(config))


@pytest.mark.slow  # a SIGKILL and resume stays in tests/storage/test_kill_resume_storage.py
def test_killed_again_and_again_ends_like_an_uninterrupted_run(reference, tiny_mnist_dir, tmp_path):
    config_file = write_config_file(tmp_path / "tiny.py", tiny_mnist_dir, **SETTINGS)
    root = tmp_path / "runs"
    for crash_at in KILLS:
        run = lottery_process(config_file, root, crash_at)
        assert run.returncode == -signal.SIGKILL, f"{crash_at} was never reached: {run.stderr[-2000:]}"
    final = lottery_process(config_file, root)
    assert final.returncode == 0, final.stderr[-3000:]

    paths = ExperimentPaths(str(root), os.path.basename(reference.dir))
    assert_same_results(stored_results(paths), stored_results(reference))
    assert not glob.glob(os.path.join(paths.dir, "**", ".*.tmp"), recursive=True)
    assert not glob.glob(os.path.join(paths.dir, "**", "checkpoints"), recursive=True)


def test_an_unknown_crash_point_is_refused(monkeypatch):
    from lottery_tf.storage import crash_points

    monkeypatch.setenv("LOTTERY_TF_CRASH_AT", "mid_wirte:2")
    with pytest.raises(ValueError, match="names no crash point"):
        crash_points.reach("mid_write")
