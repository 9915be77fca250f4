"""LotteryTicket under MirroredStrategy and mixed precision, each in its own process."""
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from lottery_tf.storage import store
from lottery_tf.storage.catalog import find_experiment

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]
LEVELS = 2


def _run(root: pathlib.Path, variant: str) -> dict:
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO))
    process = subprocess.run([sys.executable, str(HERE / "lottery_ticket_variants.py"), str(root), variant],
                             cwd=REPO, env=environment, capture_output=True, text=True, timeout=600)
    assert process.returncode == 0, process.stderr[-3000:]
    result = json.loads(process.stdout.strip().splitlines()[-1])
    assert result["levels"] == list(range(LEVELS + 1))
    return result


def _stored(root: pathlib.Path) -> list[dict]:
    paths = find_experiment(str(root), None).paths
    return [{"masks": store.load_arrays(paths.mask(0, level)),
             "weights_end": store.load_arrays(paths.level_files(0, level).weights_end),
             "metrics": store.read_json(paths.metrics(0, level))} for level in range(LEVELS + 1)]


def _assert_masked_weights_are_zero(level: dict) -> None:
    for name, mask in level["masks"].items():
        kernel = level["weights_end"][f"{name}/kernel"]
        assert not np.any(kernel[mask == 0]), name


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("default")
    _run(root, "default")
    return _stored(root)


def test_mirrored_fit_stores_the_default_strategys_levels(tmp_path, default_run):
    _run(tmp_path, "mirrored")
    mirrored = _stored(tmp_path)
    for level, (ours, expected) in enumerate(zip(mirrored, default_run, strict=True)):
        assert sorted(ours["masks"]) == sorted(expected["masks"])
        for name, mask in expected["masks"].items():
            np.testing.assert_array_equal(ours["masks"][name], mask, err_msg=f"level {level} {name}")
        for name, value in expected["weights_end"].items():
            np.testing.assert_allclose(ours["weights_end"][name], value, atol=1e-4, err_msg=f"{level} {name}")
        assert ours["metrics"]["percent_remaining"] == expected["metrics"]["percent_remaining"]
        steps = [[p["step"] for p in run["metrics"]["curve"]] for run in (ours, expected)]
        assert steps[0] == steps[1]
        _assert_masked_weights_are_zero(ours)


# ~30 s each on 2 shared cores; tests/fit/test_fit_mixed_precision.py covers the pieces by default.
@pytest.mark.slow
@pytest.mark.parametrize("precision", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_fit_prunes_exactly_and_restarts_the_loss_scale_each_level(tmp_path, precision):
    result = _run(tmp_path, precision)
    levels = _stored(tmp_path)
    kept = [level["metrics"]["percent_remaining"] for level in levels]
    assert kept[0] == 100 and kept[0] > kept[1] > kept[2]
    for level in levels:
        _assert_masked_weights_are_zero(level)
        assert all(np.isfinite(value).all() for value in level["weights_end"].values())
        assert {value.dtype for value in level["weights_end"].values()} == {np.dtype(np.float32)}
        assert np.isfinite(level["metrics"]["early_stop_test_accuracy"])
    if precision == "mixed_float16":  # lowered to 4 at every epoch end, restarted by each rewind
        assert result["loss_scales"] == [2.0 ** 15] * (LEVELS + 1)
    else:
        assert result["loss_scales"] == []
