"""A diverging run stops with a clear message and keeps its last good state."""
import os

import pytest

from lottery_tf.errors import TrainingError
from lottery_tf.experiments.config import experiment_name
from lottery_tf.experiments.lottery import run_lottery
from lottery_tf.storage import store
from lottery_tf.storage.paths import ExperimentPaths
from lottery_tf.testing import tiny_config


def test_nan_loss_stops_the_level_and_keeps_the_checkpoint(tiny_mnist_dir, tmp_path):
    config = tiny_config(tiny_mnist_dir, levels=0)
    config.training.optimizer = "sgd"
    config.training.learning_rate = 1e-2   # healthy until the checkpoint at step 40,
    config.training.lr_boundaries = "40it"
    config.training.lr_gamma = 1e30        # then the rate explodes
    with pytest.raises(TrainingError, match="Lower the learning rate"):
        run_lottery(config, str(tmp_path), [0], quiet=True)
    paths = ExperimentPaths(str(tmp_path), experiment_name(config))
    assert not os.path.exists(paths.metrics(0, 0))
    # The last checkpoint before the blow-up stays the one a rerun resumes from.
    assert store.read_json(os.path.join(paths.checkpoints(0, 0), "latest.json"))["step"] == 40
