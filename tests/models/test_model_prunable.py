"""Prunable layer discovery, prunable counts and tfmot wrapping of every family."""
from __future__ import annotations

import lottery_tf  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TF loads)

# isort: split

import numpy as np
import pytest
import tensorflow_model_optimization as tfmot
import tf_keras as keras

from lottery_tf.models import build_model, prunable_layers, prunable_param_count

MNIST = (28, 28, 1)
CIFAR = (32, 32, 3)


def test_lenet_layers():
    model = build_model("lenet_300_100", MNIST, 10)
    assert prunable_layers(model) == {"dense_1": "dense", "dense_2": "dense", "output": "output"}
    assert prunable_param_count(model) == 784 * 300 + 300 * 100 + 100 * 10


def test_conv6_layers():
    kinds = prunable_layers(build_model("conv6", CIFAR, 10))
    assert list(kinds) == [f"conv_{i}" for i in range(1, 7)] + ["dense_1", "dense_2", "output"]
    assert list(kinds.values()) == ["conv"] * 6 + ["dense", "dense", "output"]


def test_resnet20_layers(resnet20):
    kinds = prunable_layers(resnet20)
    names = list(kinds)
    # 19 3x3 convs + 2 projection shortcuts + classifier.
    assert len(names) == 22
    assert names[0] == "stem_conv" and names[-1] == "output"
    assert "stage2_block0_shortcut" in kinds and "stage3_block0_shortcut" in kinds
    assert "stage1_block0_shortcut" not in kinds
    assert set(kinds.values()) == {"conv", "output"}
    assert not any("bn" in n for n in names)
    assert list(kinds.values()).count("output") == 1


def test_vgg_layers_and_count(vgg19):
    kinds = prunable_layers(vgg19)
    assert list(kinds) == [f"conv_{i}" for i in range(1, 17)] + ["output"]
    kernels = sum(int(np.prod(vgg19.get_layer(n).kernel.shape)) for n in kinds)
    assert prunable_param_count(vgg19) == kernels == 20_024_000


def test_convs_before_bn_have_no_bias(resnet20, vgg19):
    for model in (resnet20, vgg19):
        for name, kind in prunable_layers(model).items():
            assert model.get_layer(name).use_bias == (kind == "output")


def test_nested_model_names_are_qualified():
    inner = build_model("lenet_20_10", MNIST, 10)
    inputs = keras.Input(MNIST)
    outer = keras.Model(inputs, inner(inputs), name="outer")
    assert prunable_layers(outer) == {
        "lenet_20_10/dense_1": "dense",
        "lenet_20_10/dense_2": "dense",
        "lenet_20_10/output": "output",
    }
    assert prunable_param_count(outer) == prunable_param_count(inner)


def _prune_clone(model: keras.Model) -> keras.Model:
    schedule = tfmot.sparsity.keras.ConstantSparsity(0.5, 0, frequency=1)

    def clone(layer):
        if isinstance(layer, (keras.layers.Dense, keras.layers.Conv2D)):
            return tfmot.sparsity.keras.prune_low_magnitude(layer, pruning_schedule=schedule)
        return layer.__class__.from_config(layer.get_config())

    return keras.models.clone_model(model, clone_function=clone)


@pytest.mark.parametrize(
    ("name", "shape"),
    [("lenet_300_100", MNIST), ("conv2", CIFAR), ("resnet20", CIFAR), ("vgg11", CIFAR)],
)
def test_tfmot_wraps_every_family(name, shape):
    model = build_model(name, shape, 10)
    pruned = _prune_clone(model)
    wrapped = [lay.name for lay in pruned.layers if lay.name.startswith("prune_low_magnitude_")]
    assert wrapped == [f"prune_low_magnitude_{n}" for n in prunable_layers(model)]
    # Wrapped models report the original names, so masks can be matched by name.
    assert prunable_layers(pruned) == prunable_layers(model)
    assert prunable_param_count(pruned) == prunable_param_count(model)

    x = np.random.default_rng(0).random((2, *shape), dtype=np.float32)
    pruned.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    pruned.fit(x, np.array([0, 1]), epochs=1, verbose=0, shuffle=False,
               callbacks=[tfmot.sparsity.keras.UpdatePruningStep()])
    assert pruned(x, training=False).shape == (2, 10)
    first = pruned.get_layer(wrapped[0]).layer.kernel.numpy()
    assert np.mean(first == 0) == pytest.approx(0.5, abs=0.01)
