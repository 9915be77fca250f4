"""lottery_tf.api inside model.fit: Sequential, functional and zoo models, default and mirrored."""
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from fit_cycle import MODELS, OUTPUT_RATE, RATE, REWIND_STEP, cycle

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]


def _expected_kept(result: dict) -> int:
    """Survivors after one global step: each rate's pool loses round(rate * its size)."""
    pools = {}
    for name, kind in result["kinds"].items():
        rate = OUTPUT_RATE if kind == "output" else RATE
        pools[rate] = pools.get(rate, 0) + result["sizes"][name]
    return sum(size - int(round(rate * size)) for rate, size in pools.items())


@pytest.fixture(scope="module")
def default_results():
    return {kind: cycle(kind, tf.distribute.get_strategy()) for kind in MODELS}


@pytest.fixture(scope="module")
def mirrored_results():
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO))
    process = subprocess.run([sys.executable, str(HERE / "fit_cycle.py")], cwd=REPO, env=environment,
                             capture_output=True, text=True, timeout=600)
    assert process.returncode == 0, process.stderr[-3000:]
    return json.loads(process.stdout)


@pytest.mark.parametrize("kind", MODELS)
def test_fit_cycle_under_default_strategy(default_results, kind):
    result = default_results[kind]
    assert result["start"] == REWIND_STEP
    steps_per_epoch = 96 // 16  # fit_cycle.data() in batches of 16
    assert result["curve_steps"] == [REWIND_STEP + steps_per_epoch, REWIND_STEP + 2 * steps_per_epoch]
    assert result["survivors_equal"] and result["others_equal"]
    assert result["pruned_nonzero"] == 0
    assert sum(result["kept"].values()) == _expected_kept(result)
    assert list(result["kinds"].values()).count("output") == 1


@pytest.mark.slow
@pytest.mark.parametrize("kind", MODELS)
def test_fit_cycle_under_mirrored_strategy_matches_default(default_results, mirrored_results, kind):
    mirrored, default = mirrored_results[kind], default_results[kind]
    assert mirrored["start"] == REWIND_STEP
    assert mirrored["survivors_equal"] and mirrored["others_equal"]
    assert mirrored["pruned_nonzero"] == 0
    assert mirrored["masks"] == default["masks"]
    assert mirrored["curve_steps"] == default["curve_steps"]
    for name, kernel in default["weights_end"].items():
        np.testing.assert_allclose(mirrored["weights_end"][name], kernel, atol=1e-4)
