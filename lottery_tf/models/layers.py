"""Small layer factories shared by the model families (consistent naming/settings)."""
from __future__ import annotations

import tf_keras as keras

from lottery_tf.models.initializers import LayerInitializers

OUTPUT_LAYER = "output"


def conv3x3(
    filters: int,
    name: str,
    inits: LayerInitializers,
    *,
    strides: int = 1,
    use_bias: bool = True,
    activation: str | None = None,
) -> keras.layers.Conv2D:
    """3x3 same-padded convolution with a seeded kernel and zero bias.

    Args:
        filters: Output channels.
        name: Layer name.
        inits: Per-layer initializer source.
        strides: Spatial stride.
        use_bias: False when a BatchNorm follows (its beta makes a bias redundant).
        activation: Optional fused activation.

    Returns:
        An unbuilt Conv2D layer.
    """
    return keras.layers.Conv2D(
        filters,
        3,
        strides=strides,
        padding="same",
        use_bias=use_bias,
        activation=activation,
        kernel_initializer=inits.next(),
        bias_initializer="zeros",
        name=name,
    )


def conv1x1(
    filters: int, name: str, inits: LayerInitializers, *, strides: int = 1
) -> keras.layers.Conv2D:
    """Bias-free 1x1 convolution (projection shortcut, always followed by BN); see `conv2d`."""
    return conv2d(filters, 1, name, inits, strides=strides)


def conv2d(
    filters: int, kernel_size: int, name: str, inits: LayerInitializers, *, strides: int = 1
) -> keras.layers.Conv2D:
    """Bias-free same-padded k x k convolution (always followed by BN), e.g. a 7x7 stem.

    Args:
        filters: Output channels.
        kernel_size: Side of the square kernel.
        name: Layer name.
        inits: Per-layer initializer source.
        strides: Spatial stride.

    Returns:
        An unbuilt Conv2D layer.
    """
    return keras.layers.Conv2D(
        filters,
        kernel_size,
        strides=strides,
        padding="same",
        use_bias=False,
        kernel_initializer=inits.next(),
        name=name,
    )


def dense(
    units: int, name: str, inits: LayerInitializers, *, activation: str | None = None
) -> keras.layers.Dense:
    """Dense layer with a seeded kernel and zero bias.

    Args:
        units: Output units.
        name: Layer name (use ``OUTPUT_LAYER`` for the classifier).
        inits: Per-layer initializer source.
        activation: Optional activation; None for logits.

    Returns:
        An unbuilt Dense layer.
    """
    return keras.layers.Dense(
        units,
        activation=activation,
        kernel_initializer=inits.next(),
        bias_initializer="zeros",
        name=name,
    )


def batch_norm(name: str) -> keras.layers.BatchNormalization:
    """BatchNorm with PyTorch's defaults.

    Keras' default momentum (0.99) makes the running statistics lag badly over
    the short CIFAR schedules of the lottery-ticket papers; PyTorch/OpenLTH use
    momentum 0.1 (keras 0.9) and epsilon 1e-5.

    Args:
        name: Layer name.

    Returns:
        An unbuilt BatchNormalization layer (gamma=1, beta=0).
    """
    return keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=name)
