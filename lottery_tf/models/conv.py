"""Conv-2/4/6 of Frankle & Carbin (2019), scaled-down VGG-style CIFAR networks.

Each block is two 3x3 same-padded relu convolutions and a 2x2 max-pool, with
widths 64, 128, 256 for blocks 1..3; Conv-K uses the first K/2 blocks. Then
Dense 256, Dense 256 (relu) and the logits. Parameter counts on CIFAR-10:
Conv-2 4,301,642; Conv-4 2,425,930; Conv-6 2,262,602. The paper's Table 1
prints 1.7M for Conv-6, but the architecture it describes has ~2.26M.
"""
from __future__ import annotations

import tf_keras as keras

from lottery_tf.errors import ConfigError
from lottery_tf.models.initializers import LayerInitializers
from lottery_tf.models.layers import OUTPUT_LAYER, conv3x3, dense
from lottery_tf.models.validation import check_image_shape

BLOCK_WIDTHS = (64, 128, 256)
DENSE_WIDTHS = (256, 256)
DEPTHS = (2, 4, 6)


def build_conv(
    depth: int,
    input_shape: tuple[int, int, int],
    num_classes: int,
    initializer: str = "glorot_normal",
    seed: int = 0,
) -> keras.Model:
    """Build Conv-2, Conv-4 or Conv-6.

    Layers: ``conv_1`` .. ``conv_K``, ``pool_1`` .. ``pool_{K/2}``, ``flatten``,
    ``dense_1``, ``dense_2``, ``output``.

    Args:
        depth: Number of conv layers: 2, 4 or 6.
        input_shape: (height, width, channels).
        num_classes: Number of output logits.
        initializer: Kernel initializer name.
        seed: Model seed; layer i uses ``seed * 1000 + i``.

    Returns:
        A functional tf_keras model producing logits.

    Raises:
        ConfigError: Unsupported depth, bad input shape or initializer.
    """
    if depth not in DEPTHS:
        raise ConfigError(f"conv depth must be one of {DEPTHS}, got {depth!r}")
    blocks = depth // 2
    shape = check_image_shape(input_shape, f"conv{depth}", min_side=2**blocks)
    inits = LayerInitializers(initializer, seed)

    inputs = keras.Input(shape=shape, name="input")
    x = inputs
    conv_index = 0
    for block, width in enumerate(BLOCK_WIDTHS[:blocks], start=1):
        for _ in range(2):
            conv_index += 1
            x = conv3x3(width, f"conv_{conv_index}", inits, activation="relu")(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool_{block}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    for i, units in enumerate(DENSE_WIDTHS, start=1):
        x = dense(units, f"dense_{i}", inits, activation="relu")(x)
    outputs = dense(num_classes, OUTPUT_LAYER, inits)(x)
    return keras.Model(inputs, outputs, name=f"conv{depth}")
