"""Name parsing and argument errors of build_model."""
from __future__ import annotations

import lottery_tf  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TF loads)

# isort: split

import numpy as np
import pytest

from lottery_tf.errors import ConfigError
from lottery_tf.models import build_model, known_models

MNIST = (28, 28, 1)
CIFAR = (32, 32, 3)


def test_known_models_lists_every_family():
    names = known_models()
    for expected in ("lenet_300_100", "conv2", "conv4", "conv6", "resnet20",
                     "vgg11", "vgg13", "vgg16", "vgg19"):
        assert expected in names
    assert any(n.startswith("resnet_<D>_<W>") for n in names)
    assert any(n.startswith("lenet_<h1>") for n in names)


def test_unknown_model_lists_valid_names():
    with pytest.raises(ConfigError, match="unknown model 'alexnet'.*lenet_300_100.*vgg19"):
        build_model("alexnet", CIFAR, 10)


@pytest.mark.parametrize("name", ["resnet_21", "resnet_2", "resnet_0_16", "resnet_21_16"])
def test_bad_resnet_depth_explains_6n_plus_2(name):
    with pytest.raises(ConfigError, match=r"6n \+ 2"):
        build_model(name, CIFAR, 10)


@pytest.mark.parametrize(
    ("name", "match"),
    [("conv3", "conv depth"), ("vgg12", "vgg depth"), ("lenet_300_0", "positive hidden"),
     ("resnet_20_0", "width"), ("lenet", "unknown model"), ("resnet", "unknown model")],
)
def test_bad_names(name, match):
    with pytest.raises(ConfigError, match=match):
        build_model(name, CIFAR, 10)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"initializer": "orthogonal"}, "unknown initializer 'orthogonal'.*glorot_normal"),
        ({"num_classes": 1}, "num_classes"),
        ({"seed": -1}, "seed"),
        ({"input_shape": (32, 32)}, r"\(height, width, channels\)"),
        ({"input_shape": (8, 8, 3)}, ">= 16"),
        ({"input_shape": (0, 32, 3)}, "positive integers"),
    ],
)
def test_bad_arguments(kwargs, match):
    args = {"name": "vgg11", "input_shape": CIFAR, "num_classes": 10, **kwargs}
    with pytest.raises(ConfigError, match=match):
        build_model(**args)


def test_resnet_aliases_build_the_same_model():
    a = build_model("resnet20", CIFAR, 10, seed=3)
    b = build_model("resnet_20_16", CIFAR, 10, seed=3)
    assert [w.name for w in a.weights] == [w.name for w in b.weights]
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)


def test_resnet_width_scales_stages():
    model = build_model("resnet_8_4", MNIST, 10)
    assert model.get_layer("stem_conv").filters == 4
    assert model.get_layer("stage1_block0_conv1").filters == 4
    assert model.get_layer("stage2_block0_conv1").filters == 8
    assert model.get_layer("stage3_block0_conv2").filters == 16


def test_custom_lenet_widths():
    model = build_model("lenet_50_40_30", MNIST, 10)
    assert [model.get_layer(f"dense_{i}").units for i in (1, 2, 3)] == [50, 40, 30]
    assert model.get_layer("output").units == 10
    assert model.name == "lenet_50_40_30"
