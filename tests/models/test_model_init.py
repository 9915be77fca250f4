"""Seeded initialisation: determinism, seed sensitivity, variances, names."""
from __future__ import annotations

import lottery_tf  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TF loads)

# isort: split

import numpy as np
import pytest

from lottery_tf.errors import ConfigError
from lottery_tf.models import build_model, get_initializer, known_initializers, prunable_layers

MNIST = (28, 28, 1)
CIFAR = (32, 32, 3)


def _weights(model):
    return model.get_weights()


@pytest.mark.parametrize(("name", "shape"), [("lenet_300_100", MNIST), ("resnet_8", CIFAR)])
def test_same_seed_same_weights_and_names(name, shape):
    a = build_model(name, shape, 10, seed=7)
    b = build_model(name, shape, 10, seed=7)
    assert [w.name for w in a.weights] == [w.name for w in b.weights]
    for wa, wb in zip(_weights(a), _weights(b), strict=True):
        np.testing.assert_array_equal(wa, wb)


def test_variable_names_are_readable():
    names = [w.name for w in build_model("lenet_300_100", MNIST, 10).weights]
    assert names == ["dense_1/kernel:0", "dense_1/bias:0", "dense_2/kernel:0",
                     "dense_2/bias:0", "output/kernel:0", "output/bias:0"]


def test_different_seeds_differ():
    a = build_model("conv2", CIFAR, 10, seed=0)
    b = build_model("conv2", CIFAR, 10, seed=1)
    for name in prunable_layers(a):
        assert not np.array_equal(a.get_layer(name).kernel.numpy(),
                                  b.get_layer(name).kernel.numpy())


def test_layers_get_distinct_seeds():
    model = build_model("resnet_8", CIFAR, 10)
    k1 = model.get_layer("stage1_block0_conv1").kernel.numpy()
    k2 = model.get_layer("stage1_block0_conv2").kernel.numpy()
    assert k1.shape == k2.shape and not np.array_equal(k1, k2)


def test_layer_seed_is_model_seed_times_1000_plus_index():
    model = build_model("lenet_300_100", MNIST, 10, initializer="kaiming_normal", seed=4)
    expected = get_initializer("kaiming_normal", 4 * 1000 + 1)((300, 100)).numpy()
    np.testing.assert_array_equal(model.get_layer("dense_2").kernel.numpy(), expected)


def test_biases_and_bn_start_at_identity(resnet20):
    lenet = build_model("lenet_300_100", MNIST, 10)
    for layer in ("dense_1", "dense_2", "output"):
        assert not lenet.get_layer(layer).bias.numpy().any()
    bn = resnet20.get_layer("stem_bn")
    np.testing.assert_array_equal(bn.gamma.numpy(), 1.0)
    np.testing.assert_array_equal(bn.beta.numpy(), 0.0)


@pytest.mark.parametrize(
    ("initializer", "expected_std"),
    [
        ("glorot_normal", np.sqrt(2 / (784 + 300))),
        ("glorot_uniform", np.sqrt(2 / (784 + 300))),
        ("kaiming_normal", np.sqrt(2 / 784)),
        ("kaiming_uniform", np.sqrt(2 / 784)),
    ],
)
def test_initializer_std_matches_theory(initializer, expected_std):
    model = build_model("lenet_300_100", MNIST, 10, initializer=initializer)
    kernel = model.get_layer("dense_1").kernel.numpy()
    assert kernel.std() == pytest.approx(expected_std, rel=0.03)
    assert abs(kernel.mean()) < 0.05 * expected_std


def test_conv_fan_in_uses_receptive_field():
    model = build_model("conv2", CIFAR, 10, initializer="kaiming_normal")
    kernel = model.get_layer("conv_2").kernel.numpy()  # 3x3x64 -> 64
    assert kernel.std() == pytest.approx(np.sqrt(2 / (9 * 64)), rel=0.03)


def test_unknown_initializer():
    assert known_initializers() == [
        "glorot_normal", "glorot_uniform", "kaiming_normal", "kaiming_uniform"
    ]
    with pytest.raises(ConfigError, match="valid choices: glorot_normal"):
        get_initializer("he", 0)
