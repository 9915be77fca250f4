"""`export` names the weights it exported and warns when the early-stop weights may be untrained."""
import io
import json
import pathlib
import shutil

import pytest

from lottery_tf.export import export_command
from lottery_tf.export.untrained import untrained_reasons, untrained_warnings
from lottery_tf.storage import store
from lottery_tf.storage.catalog import find_experiment


def _curve(steps, losses):
    return [{"step": step, "val_loss": loss, "val_accuracy": 0.5, "test_loss": 1.0, "test_accuracy": 0.5}
            for step, loss in zip(steps, losses, strict=True)]


@pytest.fixture
def stored_root(export_root, tmp_path):
    """A private copy of the tiny experiment, so rewriting a level's metrics touches no other test."""
    root = tmp_path / "runs"
    shutil.copytree(export_root, root)
    return str(root)


def _store_level_1(root: str, early_stop_step: int, losses: list[float]) -> pathlib.Path:
    """Rewrites level 1's metrics.json with the given early stop and validation losses."""
    experiment = find_experiment(root, None)
    path = experiment.paths.level_files(0, 1).metrics
    metrics = store.read_json(path)
    steps = [point["step"] for point in metrics["curve"]]
    assert len(steps) == len(losses) == 3 and steps[0] == metrics["start_step"]
    metrics.update(early_stop_step=early_stop_step, curve=_curve(steps, losses))
    store.write_json(path, metrics)
    return pathlib.Path(path).parent / "export" / "export.json"


def test_early_stop_at_the_start_step_is_warned_and_recorded(stored_root):
    start = store.read_json(find_experiment(stored_root, None).paths.level_files(0, 1).metrics)["start_step"]
    record_path = _store_level_1(stored_root, early_stop_step=start, losses=[0.5, 0.9, 1.2])
    printed = io.StringIO()
    result = export_command(stored_root, None, level=1, replicate=0, tflite=False, stream=printed)
    lines = printed.getvalue().strip().splitlines()
    assert lines[0].split(": ", 1)[1].startswith(f"the early-stop weights (step {start} of {start}-")
    (warning,) = [line for line in lines if line.startswith("warning:")]
    assert warning == lines[-1] and result.warnings == [warning]
    assert f"early-stopped at step {start}" in warning and "validation loss rose" in warning
    assert "--weights=final" in warning and "validation split" in warning
    assert json.loads(record_path.read_text())["warnings"] == [warning]


def test_a_level_whose_validation_loss_fell_exports_without_warning(stored_root):
    metrics = store.read_json(find_experiment(stored_root, None).paths.level_files(0, 1).metrics)
    middle = metrics["curve"][1]["step"]
    record_path = _store_level_1(stored_root, early_stop_step=middle, losses=[0.9, 0.4, 0.6])
    printed = io.StringIO()
    result = export_command(stored_root, None, level=1, replicate=0, tflite=False, stream=printed)
    assert "warning" not in printed.getvalue()
    assert result.warnings == [] and json.loads(record_path.read_text())["warnings"] == []
    assert f"the early-stop weights (step {middle} of " in printed.getvalue().splitlines()[0]


def test_rising_validation_loss_alone_is_a_reason():
    # The fit API evaluates first after an epoch, so its early stop is never the start step.
    metrics = {"start_step": 0, "early_stop_step": 100, "curve": _curve([100, 200, 300], [0.3, 0.5, 0.4])}
    (reason,) = untrained_reasons(metrics)
    assert "rose from the first evaluation (step 100" in reason
    assert untrained_warnings(metrics, "final") == []  # the final weights are trained regardless
    assert untrained_reasons({**metrics, "curve": _curve([100, 200], [0.3, 0.3])}) == []
