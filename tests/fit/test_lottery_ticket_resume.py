"""A LotteryTicket fit killed with SIGKILL in level 2 and started again stores the uninterrupted levels."""
import os
import pathlib
import signal
import subprocess
import sys

import pytest

from lottery_tf.storage.catalog import find_experiment
from lottery_tf.testing import assert_same_results, stored_results

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]


def _run(root, backup, kill_at=None):
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO))
    arguments = [sys.executable, str(HERE / "lottery_ticket_run.py"), str(root), str(backup)]
    return subprocess.run(arguments + ([kill_at] if kill_at else []), cwd=REPO, env=environment,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    root = tmp_path_factory.mktemp("uninterrupted")
    process = _run(root / "runs", root / "backup")
    assert process.returncode == 0, process.stderr[-3000:]
    return stored_results(find_experiment(str(root / "runs"), None).paths)


# Level 2 is fit epochs 4 and 5 (2 epochs per level): killed in its first epoch (the backup
# holds the model just pruned and rewound) and in its second (the level's records come back).
# Three processes, ~60 s on 2 shared cores: the mid-level kill stays in the default run.
@pytest.mark.parametrize("kill_at", [pytest.param("4:1", marks=pytest.mark.slow), "5:2"])
def test_fit_killed_in_level_2_resumes_there_and_stores_the_uninterrupted_levels(tmp_path, uninterrupted,
                                                                                 kill_at):
    killed = _run(tmp_path / "runs", tmp_path / "backup", kill_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    paths = find_experiment(str(tmp_path / "runs"), None).paths
    assert sorted(level for level in range(4) if os.path.exists(paths.metrics(0, level))) == [0, 1]
    resumed = _run(tmp_path / "runs", tmp_path / "backup")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "finished levels [2, 3]" in resumed.stdout  # levels 0-1 were not trained again
    assert_same_results(stored_results(paths), uninterrupted)
