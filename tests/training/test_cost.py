"""Training cost estimates: weight uses per example, and FLOPs from masks and iterations."""
import numpy as np
import pytest
import tf_keras as keras

from lottery_tf.models import build_model
from lottery_tf.models.prunable import prunable_layers
from lottery_tf.training.cost import training_flops, weight_uses


def test_dense_weights_are_used_once_and_conv_weights_once_per_output_position():
    lenet = build_model("lenet_300_100", (28, 28, 1), 10)
    assert set(weight_uses(lenet, prunable_layers(lenet)).values()) == {1}
    inputs = keras.Input((16, 12, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", name="same")(inputs)
    x = keras.layers.Conv2D(4, 3, strides=2, name="strided")(x)  # 7 x 5 outputs
    sequence = keras.layers.Reshape((35, 4))(x)
    x = keras.layers.Dense(6, name="per_step")(sequence)
    outputs = keras.layers.Dense(2, name="head")(keras.layers.Flatten()(x))
    tokens = keras.Input((9,))
    embedded = keras.layers.Embedding(50, 4, name="embed")(tokens)
    model = keras.Model([inputs, tokens], [outputs, embedded])
    assert weight_uses(model, ["same", "strided", "per_step", "head", "embed"]) == {
        "same": 16 * 12, "strided": 7 * 5, "per_step": 35, "head": 1, "embed": 0}


def test_flops_count_survivors_and_scale_with_iterations_and_batch():
    masks = {"a": np.ones((784, 300)), "b": np.zeros((300, 10))}
    masks["b"][:150] = 1
    flops = training_flops(masks, {"a": 1, "b": 4}, batch_size=60, iterations=100)
    assert flops["dense"] == pytest.approx(6 * 60 * 100 * (784 * 300 + 300 * 10 * 4))
    assert flops["sparse"] == pytest.approx(6 * 60 * 100 * (784 * 300 + 150 * 10 * 4))


def test_each_stored_run_records_its_cost(tiny_mnist_dir, tmp_path):
    from lottery_tf.experiments.lottery import run_lottery
    from lottery_tf.storage import store
    from lottery_tf.storage.catalog import find_experiment
    from lottery_tf.testing import tiny_config

    config = tiny_config(tiny_mnist_dir, levels=1, **{"training.train_steps": "20it",
                                                      "runtime.jit_compile": False})
    run_lottery(config, str(tmp_path), [0], quiet=True)
    paths = find_experiment(str(tmp_path), None).paths
    kernels = 784 * 40 + 40 * 20 + 20 * 10  # lenet_40_20
    dense = 6 * 20 * 20 * kernels  # batch 20, 20 iterations
    level0, level1 = (store.read_json(paths.metrics(0, level)) for level in (0, 1))
    assert level0["train_iterations"] == level1["train_iterations"] == 20
    assert level0["train_flops_dense"] == level0["train_flops_sparse"] == pytest.approx(dense)
    survivors = sum(int(m.sum()) for m in store.load_arrays(paths.mask(0, 1)).values())
    assert level1["train_flops_sparse"] == pytest.approx(6 * 20 * 20 * survivors)
    assert level1["train_flops_sparse"] < 0.85 * dense


def test_recurrent_kernels_are_used_once_per_time_step_also_when_nested():
    inputs = keras.Input((28, 12))
    block = keras.Sequential([keras.Input((28, 12)), keras.layers.LSTM(8, name="lstm")], name="block")
    outputs = keras.layers.Dense(10, name="head")(block(inputs))
    model = keras.Model(inputs, outputs)
    entries = prunable_layers(model)
    assert weight_uses(model, entries) == {"block/lstm/kernel": 28, "block/lstm/recurrent_kernel": 28,
                                           "head": 1}


def test_stored_runs_record_the_cumulative_cost_of_their_procedure(tiny_mnist_dir, tmp_path):
    import tensorflow as tf

    from lottery_tf.experiments import branches
    from lottery_tf.experiments.lottery import run_lottery
    from lottery_tf.experiments.setup import prepare
    from lottery_tf.storage import store
    from lottery_tf.storage.catalog import find_experiment
    from lottery_tf.storage.cumulative_cost import own_cost, stored_cumulative
    from lottery_tf.testing import tiny_config

    config = tiny_config(tiny_mnist_dir, levels=2, **{"training.train_steps": "20it",
                                                      "rewind": "10it", "runtime.jit_compile": False})
    run_lottery(config, str(tmp_path), [0], quiet=True)
    setup = prepare(config, str(tmp_path), tf.distribute.get_strategy(), quiet=True)
    paths = find_experiment(str(tmp_path), None).paths
    trunk = [store.read_json(paths.metrics(0, level)) for level in range(3)]
    own = [own_cost(run) for run in trunk]
    assert stored_cumulative(trunk[2]) == own[0] + own[1] + own[2]
    assert stored_cumulative(trunk[2]).iterations == 20 + 10 + 10
    runs = {name: branches.run_branch(setup, name, 0, 2) for name in ("reinit", "one_shot", "random_prune")}
    assert stored_cumulative(runs["reinit"]) == own[0] + own[1] + own_cost(runs["reinit"])
    assert stored_cumulative(runs["one_shot"]) == own[0] + own_cost(runs["one_shot"])
    assert runs["random_prune"]["mask_from"] == "none"
    # Its start, the dense run at the rewind step: 10 of level 0's 20 iterations.
    assert stored_cumulative(runs["random_prune"]) == own[0].scaled(0.5) + own_cost(runs["random_prune"])
