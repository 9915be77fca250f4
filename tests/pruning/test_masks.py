"""Pure mask math: layer-wise and global magnitude pruning."""
import numpy as np
import pytest

from lottery_tf.errors import ConfigError
from lottery_tf.pruning import masks as mask_lib
from lottery_tf.pruning.rates import layer_rates

PAPER_LENET_LABELS = [100, 80.0, 64.1, 51.3, 41.1, 32.9, 26.3, 21.1, 16.9, 13.5, 10.8, 8.7, 7.0,
                      5.6, 4.5, 3.6, 2.9, 2.3, 1.9]


def lenet_kernels(seed=0):
    rng = np.random.default_rng(seed)
    return {"dense_1": rng.normal(size=(784, 300)), "dense_2": rng.normal(size=(300, 100)),
            "output": rng.normal(size=(100, 10))}


def test_layerwise_removes_smallest_surviving_weights_per_layer():
    weights = {"a": np.array([[0.1, -5.0], [3.0, -0.2]]), "b": np.array([1.0, 2.0, -3.0, 4.0])}
    masks = mask_lib.ones_like(weights)
    masks["b"][3] = 0  # already pruned: must stay pruned and not be ranked
    new = mask_lib.prune_layerwise(weights, masks, {"a": 0.5, "b": 0.34})
    np.testing.assert_array_equal(new["a"], [[0, 1], [1, 0]])
    np.testing.assert_array_equal(new["b"], [0, 1, 1, 0])


def test_global_ranks_all_layers_together():
    weights = {"a": np.array([0.1, 0.2, 0.3, 0.4]), "b": np.array([5.0, 6.0, 0.05, 7.0])}
    new = mask_lib.prune_global(weights, mask_lib.ones_like(weights), {"a": 0.5, "b": 0.5})
    # The 4 smallest of the 8 magnitudes: 0.05, 0.1, 0.2, 0.3.
    np.testing.assert_array_equal(new["a"], [0, 0, 0, 1])
    np.testing.assert_array_equal(new["b"], [1, 1, 0, 1])


def test_global_and_layerwise_differ_on_unequal_layers():
    weights = {"a": np.linspace(0.01, 0.1, 10), "b": np.linspace(1, 2, 10)}
    masks = mask_lib.ones_like(weights)
    rates = {"a": 0.5, "b": 0.5}
    layerwise = mask_lib.prune_layerwise(weights, masks, rates)
    global_ = mask_lib.prune_global(weights, masks, rates)
    assert layerwise["a"].sum() == 5 and layerwise["b"].sum() == 5
    assert global_["a"].sum() == 0 and global_["b"].sum() == 10


def test_global_keeps_zero_rate_layers_out_of_the_pool():
    weights = {"a": np.array([0.1, 0.2]), "b": np.array([0.01, 0.02, 3.0, 4.0])}
    new = mask_lib.prune_global(weights, mask_lib.ones_like(weights), {"a": 0.0, "b": 0.5})
    np.testing.assert_array_equal(new["a"], [1, 1])
    np.testing.assert_array_equal(new["b"], [0, 0, 1, 1])


def test_pruned_weights_never_come_back():
    weights = lenet_kernels()
    masks = mask_lib.ones_like(weights)
    rates = {"dense_1": 0.2, "dense_2": 0.2, "output": 0.1}
    for level in range(5):
        # Retrained weights could be anything, including large values where pruned.
        trained = lenet_kernels(seed=level + 1)
        new = mask_lib.prune_global(trained, masks, rates)
        assert np.all(new["dense_1"] <= masks["dense_1"])
        masks = new


def test_lenet_layerwise_percent_remaining_follows_paper_labels():
    weights = lenet_kernels()
    masks = mask_lib.ones_like(weights)
    rates = layer_rates({"dense_1": "dense", "dense_2": "dense", "output": "output"},
                        0.2, output_rate=0.1)
    percents = []
    for _ in PAPER_LENET_LABELS:
        percents.append(round(mask_lib.percent_remaining(masks), 1))
        masks = mask_lib.prune_layerwise(weights, masks, rates)
    assert percents == PAPER_LENET_LABELS


def test_rates_per_kind_and_ignored_layers():
    kinds = {"conv_1": "conv", "dense_1": "dense", "output": "output"}
    rates = layer_rates(kinds, 0.2, conv_rate=0.1, output_rate=0.05, layers_to_ignore=["dense_1"])
    assert rates == {"conv_1": 0.1, "dense_1": 0.0, "output": 0.05}


@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5])
def test_rate_outside_unit_interval_is_refused(bad):
    with pytest.raises(ConfigError, match="must be in"):
        layer_rates({"dense_1": "dense"}, bad)


def test_unknown_ignored_layer_is_refused():
    with pytest.raises(ConfigError, match="unknown layers"):
        layer_rates({"dense_1": "dense"}, 0.2, layers_to_ignore=["nope"])


def test_unknown_strategy_is_refused():
    with pytest.raises(ConfigError, match="Unknown pruning strategy"):
        mask_lib.prune("bogus", {}, {}, {})
