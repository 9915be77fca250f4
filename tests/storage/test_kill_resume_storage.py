"""A run killed while the storage layer writes, then rerun, ends as if never killed.

On the local disk the kill is a real SIGKILL of a `python -m lottery_tf lottery`
process, halfway through writing `metrics.json` (the file that makes a run count
as finished). `ram://` lives in one process, so there the run is stopped by an
exception at a crash point and rerun in the same process, resuming from its
checkpoint on `ram://`, and reported and exported from there.
"""
import os
import pathlib
import signal
import uuid

import pytest

from lottery_tf.experiments.config import experiment_name
from lottery_tf.experiments.lottery import run_lottery
from lottery_tf.export import export_level
from lottery_tf.report.build import build_report
from lottery_tf.storage import crash_points, files
from lottery_tf.storage.paths import ExperimentPaths
from lottery_tf.testing import (
    assert_same_results,
    lottery_process,
    stored_results,
    tiny_config,
    write_config_file,
)

REPO = pathlib.Path(__file__).resolve().parents[2]
SETTINGS = {"levels": 0, "training.train_steps": "40it"}  # one checkpoint, at step 20


@pytest.fixture(scope="module")
def reference(tiny_mnist_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("uninterrupted")
    config = tiny_config(tiny_mnist_dir, **SETTINGS)
    run_lottery(config, str(root), [0], quiet=True)
    return ExperimentPaths(str(root), experiment_name(config))


def _hidden_files(directory):
    return sorted(name for name in files.listdir(directory) if name.startswith("."))


@pytest.mark.slow
def test_killed_writing_metrics_on_local_disk_is_rerun_to_the_same_results(
        reference, tiny_mnist_dir, tmp_path):
    config_file = write_config_file(tmp_path / "tiny.py", tiny_mnist_dir, **SETTINGS)
    root = tmp_path / "runs"
    # Writes: config, replicate, mask, start and rewind weights, the step-20 checkpoint's
    # two files, end and early-stop weights, then metrics.json: the 10th.
    killed = lottery_process(config_file, root, "mid_write:10")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    paths = ExperimentPaths(str(root), os.path.basename(reference.dir))
    level = paths.level(0, 0)
    [temporary] = [name for name in _hidden_files(level) if name.endswith(".tmp")]
    assert temporary.startswith(".metrics.json.")  # died halfway through it
    assert not files.exists(paths.metrics(0, 0))  # so the run does not count as finished

    rerun = lottery_process(config_file, root)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert_same_results(stored_results(paths), stored_results(reference))
    assert _hidden_files(level) == []  # the dead writer's temporary is gone, no lock left


class _Stopped(BaseException):
    """The process 'dies' here; BaseException, so no handler on the way catches it."""


def test_stopped_after_a_checkpoint_on_ram_resumes_to_the_same_results(
        reference, tiny_mnist_dir, monkeypatch):
    config = tiny_config(tiny_mnist_dir, **SETTINGS)
    root = f"ram://{uuid.uuid4().hex}/runs"

    def stop(point):
        if point == "pause":  # first pause: right after the step-20 checkpoint
            raise _Stopped(point)

    with monkeypatch.context() as patch:
        patch.setattr(crash_points, "reach", stop)
        with pytest.raises(_Stopped):
            run_lottery(config, root, [0], quiet=True)
    paths = ExperimentPaths(root, experiment_name(config))
    assert files.exists(files.join(paths.checkpoints(0, 0), "latest.json"))
    assert not files.exists(paths.metrics(0, 0))

    run_lottery(config, root, [0], quiet=True)
    assert_same_results(stored_results(paths), stored_results(reference))
    assert not files.exists(paths.checkpoints(0, 0))  # deleted once the run finished

    # The report and the export read the results where they are and write beside them.
    build_report(root, None, None, quiet=True)
    assert "| 0 | 100 |" in files.read_bytes(files.join(paths.dir, "report", "report.md")).decode()
    assert "| 0 | 100.00 |" in files.read_bytes(files.join(paths.dir, "report", "levels.md")).decode()
    exported = export_level(root, None, 0)
    assert exported.saved_model.startswith("ram://") and exported.max_abs_diff < 1e-4
    assert files.exists(files.join(exported.saved_model, "saved_model.pb"))
    assert files.exists(files.join(paths.level(0, 0), "export", "export.json"))
