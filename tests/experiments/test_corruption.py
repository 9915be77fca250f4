"""Damaged stored files are detected by their checksums, kept aside, and recomputed."""
import glob
import json
import os
import shutil

import numpy as np
import pytest

from lottery_tf.errors import CorruptFileError, StoreError
from lottery_tf.experiments.config import experiment_name
from lottery_tf.experiments.lottery import run_lottery
from lottery_tf.storage import store
from lottery_tf.storage.paths import ExperimentPaths
from lottery_tf.testing import assert_same_results, stored_results, tiny_config

SETTINGS = {"rewind": "20it", "levels": 2}


def _flip_byte(path, offset_fraction=0.6):
    data = bytearray(open(path, "rb").read())
    data[int(len(data) * offset_fraction)] ^= 0xFF
    open(path, "wb").write(bytes(data))


def test_json_checksum_catches_an_edit_that_keeps_valid_json(tmp_path):
    path = str(tmp_path / "metrics.json")
    store.write_json(path, {"test_accuracy": 0.9, "level": 3})
    assert store.read_json(path) == {"test_accuracy": 0.9, "level": 3}
    text = open(path).read().replace("0.9", "0.99")
    open(path, "w").write(text)
    with pytest.raises(CorruptFileError, match="checksum"):
        store.read_json(path)
    open(path, "w").write(text[: len(text) // 2])
    with pytest.raises(CorruptFileError, match="not valid JSON"):
        store.read_json(path)


def test_array_files_catch_flipped_bytes_and_truncation(tmp_path):
    path = str(tmp_path / "weights.npz")
    arrays = {"a": np.arange(2000, dtype=np.float32), "b": np.ones((30, 30), np.float32)}
    store.save_arrays(path, arrays)
    assert sorted(store.load_arrays(path)) == ["a", "b"]
    _flip_byte(path, 0.3)
    with pytest.raises(CorruptFileError):
        store.load_arrays(path)
    store.save_arrays(path, arrays)
    open(path, "r+b").truncate(os.path.getsize(path) // 2)
    with pytest.raises(CorruptFileError):
        store.load_arrays(path)
    with pytest.raises(StoreError, match="missing"):
        store.load_arrays(str(tmp_path / "nothing.npz"))


def test_files_without_a_checksum_still_read(tmp_path):
    path = tmp_path / "plain.json"
    path.write_text(json.dumps({"x": 1}))
    assert store.read_json(str(path)) == {"x": 1}
    np.savez(tmp_path / "plain.npz", a=np.zeros(3))
    np.testing.assert_array_equal(store.load_arrays(str(tmp_path / "plain.npz"))["a"], np.zeros(3))


@pytest.fixture(scope="module")
def finished(tiny_mnist_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("finished")
    config = tiny_config(tiny_mnist_dir, **SETTINGS)
    run_lottery(config, str(root), [0], quiet=True)
    return config, ExperimentPaths(str(root), experiment_name(config))


def test_corrupt_results_are_moved_aside_and_recomputed_identically(finished, tmp_path):
    config, reference = finished
    shutil.copytree(reference.root, tmp_path / "runs")
    paths = ExperimentPaths(str(tmp_path / "runs"), reference.name)
    _flip_byte(paths.weights_end(0, 1))          # a finished level's trained weights
    _flip_byte(paths.rewind_weights(0))          # the weights every later level starts from
    text = open(paths.metrics(0, 2)).read()
    open(paths.metrics(0, 2), "w").write(text.replace('"level": 2', '"level": 3'))
    os.remove(paths.mask(0, 2))                  # ...and one deleted by hand
    damaged = {paths.weights_end(0, 1), paths.rewind_weights(0), paths.metrics(0, 2)}

    run_lottery(config, paths.root, [0], quiet=True)

    assert_same_results(stored_results(paths), stored_results(reference))
    for path in damaged:  # kept beside the recomputed file, hidden from readers
        (kept,) = glob.glob(os.path.join(os.path.dirname(path), f".corrupt-*-{os.path.basename(path)}"))
        assert open(kept, "rb").read() != open(path, "rb").read()


def test_a_damaged_checkpoint_restarts_its_level(finished, tmp_path, monkeypatch):
    config, reference = finished
    from lottery_tf.training import checkpoints

    save = checkpoints.LevelCheckpoint.save

    def save_then_stop(self, step, tracker, early_stop=None, span=None):
        save(self, step, tracker, early_stop, span)
        if "level_1" in self.directory and step == 40:
            raise KeyboardInterrupt

    monkeypatch.setattr(checkpoints.LevelCheckpoint, "save", save_then_stop)
    with pytest.raises(KeyboardInterrupt):
        run_lottery(config, str(tmp_path), [0], quiet=True)
    monkeypatch.setattr(checkpoints.LevelCheckpoint, "save", save)
    paths = ExperimentPaths(str(tmp_path), reference.name)
    (data,) = glob.glob(os.path.join(paths.checkpoints(0, 1), "ckpt-40.data-*"))
    _flip_byte(data, 0.5)

    run_lottery(config, str(tmp_path), [0], quiet=True)

    assert_same_results(stored_results(paths), stored_results(reference))
    assert glob.glob(os.path.join(paths.level(0, 1), ".corrupt-*-checkpoints"))
