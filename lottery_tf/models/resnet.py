"""CIFAR ResNets of He et al. (2016), section 4.2: depth D = 6n + 2.

A 3x3 stem convolution, then three stages of n basic blocks with widths
W, 2W, 4W (the stem also has W filters, 16 in the paper), stride 2 at the first
block of stages 2 and 3, global average pooling and a Dense classifier. Each
basic block is conv-BN-relu-conv-BN plus a shortcut, then relu. Shortcuts are
identities unless the shape changes, where a 1x1 strided conv + BN projects
(the "option B" shortcut, as in OpenLTH). Convolutions feeding a BatchNorm have
no bias: BN's beta already provides one.

ResNet-20 (n=3, W=16) has 272,474 trainable parameters; Keras also counts the
BN moving mean/variance (1,568 more), 274,042 in total.
"""
from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from lottery_tf.errors import ConfigError
from lottery_tf.models.initializers import LayerInitializers
from lottery_tf.models.layers import OUTPUT_LAYER, batch_norm, conv1x1, conv3x3, dense
from lottery_tf.models.validation import check_image_shape

DEFAULT_WIDTH = 16
STAGES = 3


def blocks_per_stage(depth: int) -> int:
    """Return n for a CIFAR ResNet of depth ``depth = 6n + 2``.

    Args:
        depth: Total number of weighted layers (convs + classifier, no shortcuts).

    Returns:
        Basic blocks per stage, n >= 1.

    Raises:
        ConfigError: ``depth`` is not 6n+2 with n >= 1.
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
        raise ConfigError(
            "resnet depth must be D = 6n + 2 with n >= 1 (8, 14, 20, 32, 44, 56, 110, ...), "
            f"got {depth!r}"
        )
    return (depth - 2) // 6


def _basic_block(
    x: tf.Tensor,
    filters: int,
    strides: int,
    prefix: str,
    inits: LayerInitializers,
) -> tf.Tensor:
    """Apply one basic block; layers are named ``{prefix}_conv1`` etc."""
    y = conv3x3(filters, f"{prefix}_conv1", inits, strides=strides, use_bias=False)(x)
    y = batch_norm(f"{prefix}_bn1")(y)
    y = keras.layers.ReLU(name=f"{prefix}_relu1")(y)
    y = conv3x3(filters, f"{prefix}_conv2", inits, use_bias=False)(y)
    y = batch_norm(f"{prefix}_bn2")(y)

    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = conv1x1(filters, f"{prefix}_shortcut", inits, strides=strides)(x)
        shortcut = batch_norm(f"{prefix}_shortcut_bn")(shortcut)

    y = keras.layers.Add(name=f"{prefix}_add")([y, shortcut])
    return keras.layers.ReLU(name=f"{prefix}_relu2")(y)


def build_resnet(
    depth: int,
    input_shape: tuple[int, int, int],
    num_classes: int,
    width: int = DEFAULT_WIDTH,
    initializer: str = "glorot_normal",
    seed: int = 0,
) -> keras.Model:
    """Build a CIFAR ResNet-D with first-stage width W.

    Layers: ``stem_conv``, ``stem_bn``, ``stem_relu``, then per block
    ``stage{s}_block{b}_conv1|bn1|relu1|conv2|bn2|add|relu2`` (s = 1..3,
    b = 0..n-1) and, where the shape changes, ``..._shortcut`` and
    ``..._shortcut_bn``; finally ``global_pool`` and ``output``.

    Args:
        depth: D = 6n + 2.
        input_shape: (height, width, channels).
        num_classes: Number of output logits.
        width: Filters in the stem and first stage (stages use W, 2W, 4W).
        initializer: Kernel initializer name.
        seed: Model seed; layer i uses ``seed * 1000 + i``.

    Returns:
        A functional tf_keras model producing logits.

    Raises:
        ConfigError: Bad depth, width, input shape or initializer.
    """
    n = blocks_per_stage(depth)
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ConfigError(f"resnet width must be a positive integer, got {width!r}")
    shape = check_image_shape(input_shape, f"resnet_{depth}_{width}")
    inits = LayerInitializers(initializer, seed)

    inputs = keras.Input(shape=shape, name="input")
    x = conv3x3(width, "stem_conv", inits, use_bias=False)(inputs)
    x = batch_norm("stem_bn")(x)
    x = keras.layers.ReLU(name="stem_relu")(x)
    for stage in range(1, STAGES + 1):
        filters = width * 2 ** (stage - 1)
        for block in range(n):
            strides = 2 if stage > 1 and block == 0 else 1
            x = _basic_block(x, filters, strides, f"stage{stage}_block{block}", inits)
    x = keras.layers.GlobalAveragePooling2D(name="global_pool")(x)
    outputs = dense(num_classes, OUTPUT_LAYER, inits)(x)
    return keras.Model(inputs, outputs, name=f"resnet_{depth}_{width}")
