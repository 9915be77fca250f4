"""Shared fixtures for the model-zoo tests (builds the big models once)."""
from __future__ import annotations

import lottery_tf  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TF loads)

# isort: split

import pytest

from lottery_tf.models import build_model

MNIST = (28, 28, 1)
CIFAR = (32, 32, 3)


@pytest.fixture(scope="session")
def vgg19():
    """VGG-19 for CIFAR-10, built once: it is the slowest model to build."""
    return build_model("vgg19", CIFAR, 10)


@pytest.fixture(scope="session")
def resnet20():
    """ResNet-20 for CIFAR-10 with the default seed."""
    return build_model("resnet20", CIFAR, 10)
