"""Conv models (MaxPool, BatchNorm) train under op determinism, on CIFAR-format files."""
import numpy as np
import pytest

from lottery_tf.experiments.config import experiment_name
from lottery_tf.experiments.lottery import run_lottery
from lottery_tf.storage import store
from lottery_tf.storage.paths import ExperimentPaths
from lottery_tf.testing import tiny_config, write_tiny_cifar10


@pytest.mark.parametrize("model", ["conv2", pytest.param("resnet_8", marks=pytest.mark.slow)])
def test_cifar_model_prunes_and_keeps_zeros(model, tmp_path):
    data = write_tiny_cifar10(tmp_path / "cifar")
    config = tiny_config(data, levels=1)
    config.dataset.name = "cifar10"
    config.dataset.augment = True
    config.dataset.validation_size = 50
    config.model.name = model
    config.training.train_steps = "20it"
    config.training.eval_every = "10it"
    config.runtime.checkpoint_every = "10it"
    results = run_lottery(config, str(tmp_path / "runs"), [0], quiet=True)[0]
    assert results[1]["percent_remaining"] == pytest.approx(80.0, abs=0.1)
    paths = ExperimentPaths(str(tmp_path / "runs"), experiment_name(config))
    mask = store.load_arrays(paths.mask(0, 1))
    weights = store.load_arrays(paths.weights_end(0, 1))
    for layer, layer_mask in mask.items():
        assert np.all(weights[f"{layer}/kernel"][layer_mask == 0] == 0)
