"""Same config and seed: bit-identical masks, weights and metrics. Another replicate: different."""
import numpy as np

from lottery_tf.experiments.config import experiment_name
from lottery_tf.experiments.lottery import run_lottery
from lottery_tf.storage import store
from lottery_tf.storage.paths import ExperimentPaths
from lottery_tf.testing import assert_same_results, stored_results, tiny_config


def test_reruns_are_bit_identical_and_replicates_differ(tiny_mnist_dir, tmp_path):
    config = tiny_config(tiny_mnist_dir, levels=1)
    first, second = (ExperimentPaths(str(tmp_path / name), experiment_name(config))
                     for name in ("first", "second"))
    run_lottery(config, first.root, [0, 1], quiet=True)
    run_lottery(config, second.root, [0], quiet=True)
    assert_same_results(stored_results(second, 0), stored_results(first, 0))

    masks = [store.load_arrays(first.mask(replicate, 1)) for replicate in (0, 1)]
    assert any(not np.array_equal(masks[0][layer], masks[1][layer]) for layer in masks[0])
    seeds = [store.read_json(first.metrics(replicate, 1))["seed"] for replicate in (0, 1)]
    assert seeds[0] != seeds[1]
    curves = [store.read_json(first.metrics(replicate, 0))["curve"] for replicate in (0, 1)]
    assert curves[0] != curves[1]
