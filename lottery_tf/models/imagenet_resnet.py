"""ImageNet ResNets of He et al. (2016), Table 1: bottleneck ResNet-50/101/152.

A 7x7 stride-2 stem convolution (W filters, 64 in the paper), BN, ReLU and a
3x3 stride-2 max pool; four stages of bottleneck blocks (3, 4, 6, 3 for
ResNet-50) with widths W, 2W, 4W, 8W, each block 1x1 -> 3x3 -> 1x1 (4x width)
convolutions with BN, the stride on the 3x3 convolution of a stage's first
block (the "v1.5" placement of torchvision and OpenLTH); a 1x1 strided conv +
BN projects the shortcut where the shape changes. Then global average pooling
and a Dense classifier. Convolutions feeding a BatchNorm have no bias.

ResNet-50 at 224x224x3 with 1000 classes has 25,557,032 trainable parameters,
as torchvision's.
"""
from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from lottery_tf.errors import ConfigError
from lottery_tf.models.initializers import LayerInitializers
from lottery_tf.models.layers import OUTPUT_LAYER, batch_norm, conv1x1, conv2d, conv3x3, dense
from lottery_tf.models.validation import check_image_shape

DEFAULT_WIDTH = 64
EXPANSION = 4  # a bottleneck's output has 4x its inner width
BLOCKS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}


def _bottleneck(x: tf.Tensor, filters: int, strides: int, prefix: str,
                inits: LayerInitializers) -> tf.Tensor:
    """One bottleneck block; layers are named ``{prefix}_conv1`` etc."""
    y = conv1x1(filters, f"{prefix}_conv1", inits)(x)
    y = keras.layers.ReLU(name=f"{prefix}_relu1")(batch_norm(f"{prefix}_bn1")(y))
    y = conv3x3(filters, f"{prefix}_conv2", inits, strides=strides, use_bias=False)(y)
    y = keras.layers.ReLU(name=f"{prefix}_relu2")(batch_norm(f"{prefix}_bn2")(y))
    y = conv1x1(filters * EXPANSION, f"{prefix}_conv3", inits)(y)
    y = batch_norm(f"{prefix}_bn3")(y)

    shortcut = x
    if strides != 1 or x.shape[-1] != filters * EXPANSION:
        shortcut = conv1x1(filters * EXPANSION, f"{prefix}_shortcut", inits, strides=strides)(x)
        shortcut = batch_norm(f"{prefix}_shortcut_bn")(shortcut)
    y = keras.layers.Add(name=f"{prefix}_add")([y, shortcut])
    return keras.layers.ReLU(name=f"{prefix}_relu3")(y)


def build_imagenet_resnet(
    depth: int,
    input_shape: tuple[int, int, int],
    num_classes: int,
    width: int = DEFAULT_WIDTH,
    initializer: str = "kaiming_normal",
    seed: int = 0,
) -> keras.Model:
    """Build an ImageNet ResNet-D (D = 50, 101 or 152) with stem width W.

    Layers: ``stem_conv``, ``stem_bn``, ``stem_relu``, ``stem_pool``, then per
    block ``stage{s}_block{b}_conv1|bn1|relu1|conv2|bn2|relu2|conv3|bn3|add|relu3``
    (s = 1..4) plus ``..._shortcut`` and ``..._shortcut_bn`` at each stage's
    first block; finally ``global_pool`` and ``output``.

    Args:
        depth: 50, 101 or 152.
        input_shape: (height, width, channels), e.g. (224, 224, 3).
        num_classes: Number of output logits.
        width: Filters of the stem and the first stage's inner convolutions.
        initializer: Kernel initializer name.
        seed: Model seed; layer i uses ``seed * 1000 + i``.

    Returns:
        A functional tf_keras model producing logits.

    Raises:
        ConfigError: Bad depth, width, input shape or initializer.
    """
    if depth not in BLOCKS:
        raise ConfigError(f"imagenet_resnet depth must be one of {sorted(BLOCKS)}, got {depth!r}")
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ConfigError(f"imagenet_resnet width must be a positive integer, got {width!r}")
    shape = check_image_shape(input_shape, f"imagenet_resnet_{depth}")
    inits = LayerInitializers(initializer, seed)

    inputs = keras.Input(shape=shape, name="input")
    x = conv2d(width, 7, "stem_conv", inits, strides=2)(inputs)
    x = keras.layers.ReLU(name="stem_relu")(batch_norm("stem_bn")(x))
    x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name="stem_pool")(x)
    for stage, blocks in enumerate(BLOCKS[depth], start=1):
        for block in range(blocks):
            strides = 2 if stage > 1 and block == 0 else 1
            x = _bottleneck(x, width * 2 ** (stage - 1), strides, f"stage{stage}_block{block}", inits)
    x = keras.layers.GlobalAveragePooling2D(name="global_pool")(x)
    outputs = dense(num_classes, OUTPUT_LAYER, inits)(x)
    return keras.Model(inputs, outputs, name=f"imagenet_resnet_{depth}_{width}")
