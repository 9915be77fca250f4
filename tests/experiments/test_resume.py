"""An interrupted run, rerun with the same command, equals an uninterrupted one."""
import os

import numpy as np
import pytest
import tensorflow as tf

from lottery_tf.experiments.config import experiment_name
from lottery_tf.experiments.lottery import run_lottery
from lottery_tf.storage import store
from lottery_tf.storage.paths import ExperimentPaths
from lottery_tf.testing import (
    assert_same_results,
    interrupt_then_resume,
    stored_results,
    tiny_config,
)


@pytest.fixture(scope="module")
def config(tiny_mnist_dir):
    return tiny_config(tiny_mnist_dir, rewind="20it", levels=2)


def test_resume_mid_level_equals_uninterrupted(config, tmp_path, monkeypatch):
    reference = ExperimentPaths(str(tmp_path / "straight"), experiment_name(config))
    run_lottery(config, reference.root, [0], quiet=True)

    interrupted = ExperimentPaths(str(tmp_path / "killed"), experiment_name(config))
    interrupt_then_resume(monkeypatch, config, interrupted, level=1, step=40,
                          while_stopped=lambda: _check_exact_zeros_in_checkpoint(interrupted))

    assert_same_results(stored_results(interrupted), stored_results(reference))
    # The early-stop weights survived the interruption (the checkpoint carried them).
    assert os.path.exists(interrupted.level_files(0, 1).weights_early_stop)


def _check_exact_zeros_in_checkpoint(interrupted):
    """The checkpoint a user could inspect holds exact zeros where pruned."""
    mask = store.load_arrays(interrupted.mask(0, 1))
    reader = tf.train.load_checkpoint(os.path.join(interrupted.checkpoints(0, 1), "ckpt-40"))
    shapes = reader.get_variable_to_shape_map()
    kernel_keys = [k for k in shapes if k.startswith("model/") and "/kernel/" in k]
    by_shape = {tuple(m.shape): m for m in mask.values()}  # the tiny LeNet's shapes are distinct
    assert len(kernel_keys) == len(mask)
    for key in kernel_keys:
        layer_mask = by_shape[tuple(shapes[key])]
        assert np.all(reader.get_tensor(key)[layer_mask == 0] == 0.0), key


def test_changed_hashed_field_is_a_different_experiment(config, tmp_path):
    other = tiny_config(config.dataset.data_dir, rewind="20it", levels=2)
    other.pruning.rate = 0.5
    assert experiment_name(other) != experiment_name(config)
