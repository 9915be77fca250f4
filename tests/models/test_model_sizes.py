"""Parameter counts against the papers, and forward output shapes."""
from __future__ import annotations

import lottery_tf  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TF loads)

# isort: split

import numpy as np
import pytest

from lottery_tf.models import build_model, count_params

MNIST = (28, 28, 1)
CIFAR = (32, 32, 3)

# Reference sizes: Frankle & Carbin (2019) Table 1 / He et al. (2016); Conv-6 is
# the count of the described architecture (the paper's 1.7M is a misprint).
PAPER = {
    "lenet_300_100": 266_000,
    "conv2": 4_300_000,
    "conv4": 2_400_000,
    "conv6": 2_260_000,
    "resnet20": 272_000,
}
# Exact counts as Keras reports them (BN moving statistics included), so that a
# silent architecture change shows up.
EXACT = {
    "lenet_300_100": 266_610,
    "conv2": 4_301_642,
    "conv4": 2_425_930,
    "conv6": 2_262_602,
    "resnet20": 274_042,
    "vgg19": 20_046_026,
}


@pytest.mark.parametrize("name", sorted(PAPER))
def test_param_count_matches_paper(name):
    shape = MNIST if name.startswith("lenet") else CIFAR
    n = count_params(build_model(name, shape, 10))
    assert abs(n - PAPER[name]) / PAPER[name] < 0.02
    assert n == EXACT[name]


def test_vgg19_param_count(vgg19):
    n = count_params(vgg19)
    assert abs(n - 20_000_000) / 20_000_000 < 0.02
    assert n == EXACT["vgg19"]


def test_resnet20_trainable_count_matches_openlth(resnet20):
    trainable = sum(int(np.prod(w.shape)) for w in resnet20.trainable_weights)
    assert trainable == 272_474


@pytest.mark.parametrize(
    "name", ["lenet_300_100", "conv2", "conv4", "conv6", "resnet20", "resnet_14_8", "vgg11"]
)
@pytest.mark.parametrize(("shape", "classes"), [(MNIST, 10), (CIFAR, 100)])
def test_forward_output_shape(name, shape, classes):
    model = build_model(name, shape, classes)
    x = np.random.default_rng(0).random((2, *shape), dtype=np.float32)
    logits = model(x, training=False).numpy()
    assert logits.shape == (2, classes)
    # Logits, not probabilities: no softmax on the output layer.
    assert model.get_layer("output").activation.__name__ == "linear"
    assert np.all(np.isfinite(logits))


def test_vgg19_forward(vgg19):
    assert vgg19(np.zeros((1, *CIFAR), np.float32), training=False).shape == (1, 10)
