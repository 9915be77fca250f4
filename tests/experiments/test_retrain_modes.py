"""`retrain`: weight rewinding (unset), learning-rate rewinding and fine-tuning of each pruned level."""
import numpy as np
import pytest

from lottery_tf.config import hashing
from lottery_tf.config.checks import check_ranges
from lottery_tf.errors import ConfigError
from lottery_tf.storage import store
from lottery_tf.storage.catalog import find_experiment
from lottery_tf.testing import tiny_config

STEPS = {"training.train_steps": "40it", "training.eval_every": "20it", "rewind": "20it",
         "runtime.jit_compile": False, "training.lr_boundaries": "30it", "training.lr_gamma": 0.1}


def _run(tiny_mnist_dir, root, **overrides):
    from lottery_tf.experiments.lottery import run_lottery

    config = tiny_config(tiny_mnist_dir, levels=1, **STEPS, **overrides)
    run_lottery(config, str(root), [0], quiet=True)
    return find_experiment(str(root), None).paths


def _masked(weights, masks, keys):
    return {key: weights[key] * masks[key.split("/")[0]] if key in keys else weights[key]
            for key in weights}


@pytest.mark.parametrize("mode", ["lr_rewind", "finetune"])
def test_pruned_level_starts_from_the_trained_weights(tiny_mnist_dir, tmp_path, mode):
    paths = _run(tiny_mnist_dir, tmp_path, retrain=mode)
    trained = store.load_arrays(paths.weights_end(0, 0))
    start = store.load_arrays(paths.level_files(0, 1).weights_start)
    masks = store.load_arrays(paths.mask(0, 1))
    kernels = {f"{name}/kernel" for name in masks}
    for key, value in _masked(trained, masks, kernels).items():
        np.testing.assert_array_equal(start[key], value, err_msg=key)
    metrics = store.read_json(paths.metrics(0, 1))
    assert metrics["retrain"] == mode
    if mode == "lr_rewind":  # the schedule and data order from the rewind step, as rewinding
        assert (metrics["start_step"], metrics["end_step"]) == (20, 40)
    else:  # from the schedule's end (its final rate), as many iterations by default
        assert (metrics["start_step"], metrics["end_step"]) == (40, 60)
    assert metrics["train_iterations"] == 20


def test_weight_rewinding_starts_from_the_rewind_weights(tiny_mnist_dir, tmp_path):
    paths = _run(tiny_mnist_dir, tmp_path)
    rewound = store.load_arrays(paths.rewind_weights(0))
    start = store.load_arrays(paths.level_files(0, 1).weights_start)
    masks = store.load_arrays(paths.mask(0, 1))
    for key, value in _masked(rewound, masks, {f"{n}/kernel" for n in masks}).items():
        np.testing.assert_array_equal(start[key], value, err_msg=key)
    assert store.read_json(paths.metrics(0, 1))["retrain"] == "weight_rewind"


def test_finetune_steps_and_the_final_rate(tiny_mnist_dir, tmp_path):
    from lottery_tf.training.optimizers import make_optimizer

    paths = _run(tiny_mnist_dir, tmp_path, retrain="finetune", finetune_steps="10it")
    metrics = store.read_json(paths.metrics(0, 1))
    assert (metrics["start_step"], metrics["end_step"], metrics["train_iterations"]) == (40, 50, 10)
    config = tiny_config(tiny_mnist_dir, **STEPS)
    # The optimizer a finetuned level gets starts at the schedule's last rate (after 30it: x0.1).
    rate = make_optimizer(config.training, 100, metrics["start_step"]).learning_rate
    assert float(rate.numpy()) == pytest.approx(config.training.learning_rate * 0.1)


def test_unset_keeps_hashes_and_bad_combinations_are_refused(tiny_mnist_dir):
    config = tiny_config(tiny_mnist_dir)
    unset = hashing.config_hash(config)
    config.retrain = "weight_rewind"
    assert hashing.config_hash(config) == unset
    config.retrain = "lr_rewind"
    assert hashing.config_hash(config) != unset
    config.retrain = "rewind_lr"
    with pytest.raises(ConfigError, match="retrain must be one of weight_rewind, lr_rewind, finetune"):
        check_ranges(config)
    config.retrain, config.finetune_steps = "lr_rewind", "10it"
    with pytest.raises(ConfigError, match="finetune_steps applies to retrain=finetune only"):
        check_ranges(config)
    config.retrain, config.training.lr_schedule = "finetune", "cosine"
    with pytest.raises(ConfigError, match="set --config.training.lr_final"):
        check_ranges(config)


def test_a_zero_finetune_length_is_refused_before_training(tiny_mnist_dir, tmp_path):
    import tensorflow as tf

    from lottery_tf.experiments.setup import prepare

    config = tiny_config(tiny_mnist_dir, levels=1, retrain="finetune", finetune_steps="0it", **STEPS)
    with pytest.raises(ConfigError, match="finetune_steps='0it' must be positive"):
        prepare(config, str(tmp_path), tf.distribute.get_strategy(), quiet=True)
    assert not list(tmp_path.iterdir())  # nothing claimed
