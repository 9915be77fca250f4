"""CIFAR VGG with BatchNorm, as used by Frankle & Carbin (2019) and OpenLTH.

Configurations follow Simonyan & Zisserman (A, B, D, E = VGG-11/13/16/19)
without their last max-pool and without the three big fully connected layers:
after the 3x3 conv-BN-relu stack the 512 channels are globally average-pooled
(on 32x32 inputs this is the same 2x2 average as OpenLTH) and one Dense layer
produces the logits. Convolutions have no bias because BN follows (OpenLTH keeps
one; the 5,504 extra parameters change nothing but the count).

VGG-19 on CIFAR-10: 20,035,018 trainable parameters, 20,046,026 as Keras counts
them (BN moving statistics included) -- the paper's 20.0M.
"""
from __future__ import annotations

import tf_keras as keras

from lottery_tf.errors import ConfigError
from lottery_tf.models.initializers import LayerInitializers
from lottery_tf.models.layers import OUTPUT_LAYER, batch_norm, conv3x3, dense
from lottery_tf.models.validation import check_image_shape

POOL = "M"
CONFIGS: dict[int, list[int | str]] = {
    11: [64, POOL, 128, POOL, 256, 256, POOL, 512, 512, POOL, 512, 512],
    13: [64, 64, POOL, 128, 128, POOL, 256, 256, POOL, 512, 512, POOL, 512, 512],
    16: [64, 64, POOL, 128, 128, POOL, 256, 256, 256, POOL, 512, 512, 512, POOL,
         512, 512, 512],
    19: [64, 64, POOL, 128, 128, POOL, 256, 256, 256, 256, POOL, 512, 512, 512, 512,
         POOL, 512, 512, 512, 512],
}


def build_vgg(
    depth: int,
    input_shape: tuple[int, int, int],
    num_classes: int,
    initializer: str = "glorot_normal",
    seed: int = 0,
) -> keras.Model:
    """Build CIFAR VGG-11/13/16/19 with BatchNorm.

    Layers: ``conv_i``, ``bn_i``, ``relu_i`` for each conv (i from 1),
    ``pool_j`` for each max-pool, then ``global_pool`` and ``output``.

    Args:
        depth: 11, 13, 16 or 19.
        input_shape: (height, width, channels); height and width >= 16.
        num_classes: Number of output logits.
        initializer: Kernel initializer name.
        seed: Model seed; layer i uses ``seed * 1000 + i``.

    Returns:
        A functional tf_keras model producing logits.

    Raises:
        ConfigError: Unsupported depth, bad input shape or initializer.
    """
    if depth not in CONFIGS:
        raise ConfigError(f"vgg depth must be one of {sorted(CONFIGS)}, got {depth!r}")
    cfg = CONFIGS[depth]
    shape = check_image_shape(input_shape, f"vgg{depth}", min_side=2 ** cfg.count(POOL))
    inits = LayerInitializers(initializer, seed)

    inputs = keras.Input(shape=shape, name="input")
    x = inputs
    conv_index = pool_index = 0
    for item in cfg:
        if item == POOL:
            pool_index += 1
            x = keras.layers.MaxPooling2D(2, name=f"pool_{pool_index}")(x)
            continue
        conv_index += 1
        x = conv3x3(int(item), f"conv_{conv_index}", inits, use_bias=False)(x)
        x = batch_norm(f"bn_{conv_index}")(x)
        x = keras.layers.ReLU(name=f"relu_{conv_index}")(x)
    x = keras.layers.GlobalAveragePooling2D(name="global_pool")(x)
    outputs = dense(num_classes, OUTPUT_LAYER, inits)(x)
    return keras.Model(inputs, outputs, name=f"vgg{depth}")
