"""IMP on a streamed `shards:` dataset: an interrupted run resumed equals an uninterrupted one,
and a mirrored run on two CPU devices equals the default strategy's."""
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from lottery_tf.data import shards
from lottery_tf.experiments.config import experiment_name
from lottery_tf.experiments.lottery import run_lottery
from lottery_tf.export import export_level
from lottery_tf.storage import store
from lottery_tf.storage.paths import ExperimentPaths
from lottery_tf.testing import (
    assert_same_results,
    interrupt_then_resume,
    stored_results,
    synthetic_images,
    tiny_config,
    write_config_file,
)

REPO = pathlib.Path(__file__).resolve().parents[2]
OVERRIDES = {"training.train_steps": "40it", "training.eval_every": "10it",
             "runtime.checkpoint_every": "10it"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    train_x, train_y = synthetic_images(700, 0)
    test_x, test_y = synthetic_images(200, 1)
    return shards.write_shards(tmp_path_factory.mktemp("shards"), [(train_x, train_y)], 700,
                               [(test_x, test_y)], 200, shard_bytes=40 * 28 * 28)


@pytest.fixture(scope="module")
def config(folder):
    return tiny_config(None, rewind="20it", levels=1,
                       **{**OVERRIDES, "dataset.name": f"shards:{folder}"})


@pytest.fixture(scope="module")
def reference(config, tmp_path_factory):
    paths = ExperimentPaths(str(tmp_path_factory.mktemp("straight")), experiment_name(config))
    run_lottery(config, paths.root, [0], quiet=True)
    return paths


@pytest.mark.slow
def test_streamed_run_interrupted_mid_level_equals_uninterrupted(config, reference, tmp_path,
                                                                 monkeypatch):
    stored = json.loads(open(reference.config).read())
    # The statistics recorded are the training split's, from the manifest.
    assert stored["data_spec"]["mean"] == shards.read_manifest(
        config.dataset.name.partition(":")[2])["mean"]
    metrics = json.loads(open(reference.metrics(0, 1)).read())
    assert metrics["curve"][-1]["val_accuracy"] > 0.5  # it learned from the streamed batches

    interrupted = ExperimentPaths(str(tmp_path / "killed"), experiment_name(config))
    # Level 1 replays from the rewind step 20.
    interrupt_then_resume(monkeypatch, config, interrupted, level=1, step=30)

    assert_same_results(stored_results(interrupted), stored_results(reference))


def test_streamed_experiment_exports_and_checks_on_its_test_shards(reference):
    result = export_level(reference.root, None, level=1)
    # The check images are the stored test examples and the SavedModel reproduces the level.
    assert "the first 200" in result.check_inputs
    assert result.test_accuracy == pytest.approx(result.stored_test_accuracy, abs=1e-6)
    assert result.percent_zero == pytest.approx(result.mask_percent_zero)


@pytest.mark.slow
def test_export_needs_no_data_once_its_spec_is_recorded(config, reference):
    folder = config.dataset.name.partition(":")[2]
    away = f"{folder}_moved"
    os.rename(folder, away)
    try:
        result = export_level(reference.root, None, level=1, weights="final")
    finally:
        os.rename(away, folder)
    assert "random images (the shards:" in result.check_inputs
    recorded = json.loads(open(reference.config).read())["data_spec"]
    exported = json.loads(open(os.path.join(os.path.dirname(result.saved_model), "export.json")).read())
    assert exported["normalization"]["mean"] == recorded["mean"]
    assert exported["normalization"]["std"] == recorded["std"]


# Slow: mirrored training is covered fast by tests/training/test_strategies.py; this adds streaming.
@pytest.mark.slow
def test_streamed_mirrored_run_on_two_cpus_equals_the_default_strategy(folder, reference, tmp_path):
    """Each replica reads its half of every streamed batch through the distributed dataset."""
    config_file = write_config_file(tmp_path / "streamed.py", None, rewind="20it", levels=1,
                                    **{**OVERRIDES, "dataset.name": f"shards:{folder}"})
    root = tmp_path / "mirrored"
    process = subprocess.run(
        [sys.executable, "-m", "lottery_tf", "lottery", f"--config={config_file}", f"--root={root}",
         "--quiet", "--config.runtime.strategy=mirrored", "--config.runtime.cpu_devices=2"],
        cwd=REPO, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), capture_output=True, text=True,
        timeout=300)
    assert process.returncode == 0, process.stderr[-3000:]
    mirrored = ExperimentPaths(str(root), os.path.basename(reference.dir))  # strategy is not hashed
    for name, want in store.load_arrays(reference.mask(0, 1)).items():
        np.testing.assert_array_equal(store.load_arrays(mirrored.mask(0, 1))[name], want)
    for level in (0, 1):
        got = store.load_arrays(mirrored.weights_end(0, level))
        for name, want in store.load_arrays(reference.weights_end(0, level)).items():
            np.testing.assert_allclose(got[name], want, atol=1e-4)
        curves = [store.read_json(paths.metrics(0, level))["curve"] for paths in (mirrored, reference)]
        assert [point["step"] for point in curves[0]] == [point["step"] for point in curves[1]]
        for got_point, want_point in zip(*curves, strict=True):
            assert got_point["val_loss"] == pytest.approx(want_point["val_loss"], abs=1e-4)
