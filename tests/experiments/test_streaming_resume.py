"""IMP on a streamed `shards:` dataset: an interrupted run resumed equals an uninterrupted one."""
import json
import os

import pytest

from lottery_tf.data import shards
from lottery_tf.experiments.config import experiment_name
from lottery_tf.experiments.lottery import run_lottery
from lottery_tf.export import export_level
from lottery_tf.storage.paths import ExperimentPaths
from lottery_tf.testing import assert_same_results, stored_results, synthetic_images, tiny_config
from lottery_tf.training import checkpoints


class Interrupted(Exception):
    pass


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    train_x, train_y = synthetic_images(700, 0)
    test_x, test_y = synthetic_images(200, 1)
    folder = shards.write_shards(tmp_path_factory.mktemp("shards"), [(train_x, train_y)], 700,
                                 [(test_x, test_y)], 200, shard_bytes=40 * 28 * 28)
    config = tiny_config(None, rewind="20it", levels=1, **{"training.train_steps": "40it",
                                                            "training.eval_every": "10it",
                                                            "runtime.checkpoint_every": "10it"})
    config.dataset.name = f"shards:{folder}"
    return config


@pytest.fixture(scope="module")
def reference(config, tmp_path_factory):
    paths = ExperimentPaths(str(tmp_path_factory.mktemp("straight")), experiment_name(config))
    run_lottery(config, paths.root, [0], quiet=True)
    return paths


def test_streamed_run_interrupted_mid_level_equals_uninterrupted(config, reference, tmp_path,
                                                                 monkeypatch):
    stored = json.loads(open(reference.config).read())
    # The statistics recorded are the training split's, from the manifest.
    assert stored["data_spec"]["mean"] == shards.read_manifest(
        config.dataset.name.partition(":")[2])["mean"]
    metrics = json.loads(open(reference.metrics(0, 1)).read())
    assert metrics["curve"][-1]["val_accuracy"] > 0.5  # it learned from the streamed batches

    interrupted = ExperimentPaths(str(tmp_path / "killed"), experiment_name(config))
    save = checkpoints.LevelCheckpoint.save

    def save_then_die(self, step, tracker, early_stop=None):
        save(self, step, tracker, early_stop)
        if "level_1" in self.directory and step == 30:  # level 1 replays from the rewind step 20
            raise Interrupted()

    monkeypatch.setattr(checkpoints.LevelCheckpoint, "save", save_then_die)
    with pytest.raises(Interrupted):
        run_lottery(config, interrupted.root, [0], quiet=True)
    assert not os.path.exists(interrupted.metrics(0, 1))
    monkeypatch.setattr(checkpoints.LevelCheckpoint, "save", save)
    run_lottery(config, interrupted.root, [0], quiet=True)

    assert_same_results(stored_results(interrupted), stored_results(reference))


def test_streamed_experiment_exports_and_checks_on_its_test_shards(reference):
    result = export_level(reference.root, None, level=1)
    # The check images are the stored test examples and the SavedModel reproduces the level.
    assert "the first 200" in result.check_inputs
    assert result.test_accuracy == pytest.approx(result.stored_test_accuracy, abs=1e-6)
    assert result.percent_zero == pytest.approx(result.mask_percent_zero)


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
