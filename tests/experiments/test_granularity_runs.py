"""Unit and n:m tickets through the real trainer, tfmot wrappers and branches."""
import numpy as np
import pytest

from lottery_tf.errors import ConfigError
from lottery_tf.experiments import branches
from lottery_tf.experiments import config as config_lib
from lottery_tf.experiments.lottery import run_lottery
from lottery_tf.experiments.setup import prepare
from lottery_tf.pruning import granularity as granularity_lib
from lottery_tf.storage import store
from lottery_tf.testing import tiny_config


def _setup(data_dir, root, granularity, levels):
    import tensorflow as tf

    # No XLA: compiling costs more than these few steps take.
    config = tiny_config(data_dir, levels=levels, rewind="20it", **{
        "pruning.rate": 0.5, "pruning.granularity": granularity, "training.train_steps": "40it",
        "runtime.jit_compile": False})
    run_lottery(config, root, [0], quiet=True)
    return prepare(config, root, tf.distribute.get_strategy(), quiet=True)


@pytest.fixture(scope="module")
def unit_setup(tiny_mnist_dir, tmp_path_factory):
    return _setup(tiny_mnist_dir, str(tmp_path_factory.mktemp("unit_runs")), "unit", 1)


@pytest.fixture(scope="module")
def nm_setup(tiny_mnist_dir, tmp_path_factory):
    return _setup(tiny_mnist_dir, str(tmp_path_factory.mktemp("nm_runs")), "2:4", 2)


def _dead_units_stay_dead(masks, weights):
    for layer, mask in masks.items():
        alive = granularity_lib.unit_alive(mask)
        assert not weights[f"{layer}/kernel"][:, ~alive].any()
        assert not weights[f"{layer}/bias"][~alive].any()  # the bias went with the unit


def test_unit_trunk_removes_units_and_keeps_their_biases_at_zero(unit_setup):
    paths = unit_setup.paths
    assert unit_setup.chain == [("dense_1", "dense_2"), ("dense_2", "output")]
    for level, expected in ((1, {"dense_1": 20, "dense_2": 10}),):
        masks = store.load_arrays(paths.mask(0, level))
        assert {n: int(granularity_lib.unit_alive(masks[n]).sum()) for n in expected} == expected
        for name in ("weights_start", "weights_end"):
            _dead_units_stay_dead(masks, store.load_arrays(getattr(paths, name)(0, level)))
        # The rows reading dead units are gone from the next layer.
        assert not masks["dense_2"][~granularity_lib.unit_alive(masks["dense_1"])].any()
        assert not masks["output"][~granularity_lib.unit_alive(masks["dense_2"])].any()


@pytest.mark.parametrize("name", ["random_prune", "reinit",
                                  pytest.param("shuffle_mask", marks=pytest.mark.slow),
                                  pytest.param("one_shot", marks=pytest.mark.slow)])
def test_unit_branches_keep_units_and_counts(unit_setup, name):
    metrics = branches.run_branch(unit_setup, name, 0, 1)
    files = unit_setup.paths.branch_files(0, 1, metrics["branch_folder"])
    trunk, mask = store.load_arrays(unit_setup.paths.mask(0, 1)), store.load_arrays(files.mask)
    for layer in trunk:
        assert mask[layer].sum() == trunk[layer].sum()
        assert granularity_lib.unit_alive(mask[layer]).sum() == granularity_lib.unit_alive(trunk[layer]).sum()
    _dead_units_stay_dead(mask, store.load_arrays(files.weights_end))
    if name in ("random_prune", "shuffle_mask"):
        assert not np.array_equal(mask["dense_1"], trunk["dense_1"])


@pytest.mark.parametrize("name", ["trunk", "random_prune", pytest.param("one_shot", marks=pytest.mark.slow),
                                  pytest.param("prune_at_init", marks=pytest.mark.slow)])
def test_nm_runs_hold_the_pattern(nm_setup, name):
    trunk = store.load_arrays(nm_setup.paths.mask(0, 2))
    if name == "trunk":
        masks, weights = trunk, store.load_arrays(nm_setup.paths.weights_end(0, 2))
    else:
        metrics = branches.run_branch(nm_setup, name, 0, 2)
        files = nm_setup.paths.branch_files(0, 2, metrics["branch_folder"])
        masks, weights = store.load_arrays(files.mask), store.load_arrays(files.weights_end)
        assert sum(m.sum() for m in masks.values()) == sum(m.sum() for m in trunk.values())
    for layer, mask in masks.items():
        assert granularity_lib.holds_nm(mask, 2, 4)
        assert granularity_lib.holds_nm(weights[f"{layer}/kernel"] != 0, 2, 4)
    level_1 = store.load_arrays(nm_setup.paths.mask(0, 1))
    assert sum(m.sum() for m in level_1.values()) == sum(m.size for m in level_1.values()) / 2


def test_granularity_is_hashed_when_set_and_checked(tiny_mnist_dir):
    plain = tiny_config(tiny_mnist_dir)
    named = {g: config_lib.config_hash(tiny_config(tiny_mnist_dir, **{"pruning.granularity": g}))
             for g in ("weight", "unit", "2:4")}
    assert named["weight"] == config_lib.config_hash(plain)
    assert len({named["weight"], named["unit"], named["2:4"]}) == 3
    with pytest.raises(ConfigError, match="granularity"):
        config_lib.check_ranges(tiny_config(tiny_mnist_dir, **{"pruning.granularity": "rows"}))


def test_unit_granularity_refuses_models_that_are_not_plain_chains(tiny_mnist_dir, tmp_path):
    import tensorflow as tf

    config = tiny_config(tiny_mnist_dir, **{"pruning.granularity": "unit", "model.name": "resnet_8",
                                            "dataset.name": "mnist"})
    with pytest.raises(ConfigError, match="plain chain"):
        prepare(config, str(tmp_path), tf.distribute.get_strategy(), quiet=True)
