"""A small MobileNet-style network that fits XNNPACK's sparse inference path.

TFLite's XNNPACK delegate runs a chain of layers in NCHW layout with sparse
1x1 convolutions (SpMM) when the chain starts with a 3x3 stride-2 convolution
on 3 channels padded by 1 on every side, holds only 3x3/5x5 depthwise
convolutions (explicitly padded), 1x1 convolutions, BatchNorm (folded into the
convolutions on conversion) and ReLU, and ends in a global average pooling, and
when more than 2/3 of the chain's 1x1 weights are zero. tfmot's
`PruneForLatencyOnXNNPack` policy checks the same rules on a Keras model
(`pruning.policy=xnnpack` applies it, see pruning/policies.py).

Layout for ``mobilenet_<W>`` (W = stem width; 28x28 or 32x32 inputs):

- ``to_rgb``: grayscale inputs repeated to 3 channels (the sparse chain's first
  convolution must see 3 channels); 3-channel inputs go straight on.
- ``stem_pad`` + ``stem``: 3x3 stride-2 convolution, W filters, ``stem_bn``, ``stem_relu``.
- five depthwise-separable blocks ``i`` = 1..5: ``dw_<i>_pad`` + ``dw_<i>``
  (3x3 depthwise, stride 1, 2, 1, 2, 1), ``dw_<i>_bn``, ``dw_<i>_relu``, then
  ``pw_<i>`` (1x1 convolution, widths 2W, 4W, 4W, 8W, 8W), ``pw_<i>_bn``, ``pw_<i>_relu``.
- ``pool`` (global average, kept 4-D as XNNPACK's chain ends there), ``flatten``, ``output``.

Convolutions feed BatchNorm and so have no bias. Padding is an explicit
ZeroPadding2D before each valid convolution: TensorFlow's 'same' padding of a
stride-2 convolution on an even side pads one pixel at the bottom/right only,
which XNNPACK's NCHW kernels do not take.
"""
from __future__ import annotations

import tf_keras as keras

from lottery_tf.errors import ConfigError
from lottery_tf.models.initializers import LayerInitializers
from lottery_tf.models.layers import OUTPUT_LAYER, batch_norm, dense
from lottery_tf.models.validation import check_image_shape

# (pointwise width as a multiple of W, depthwise stride) of blocks 1..5.
BLOCKS = ((2, 1), (4, 2), (4, 1), (8, 2), (8, 1))
RGB = 3


def _bn_relu(x, name: str):
    x = batch_norm(f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def build_mobilenet(
    width: int,
    input_shape: tuple[int, int, int],
    num_classes: int,
    initializer: str = "glorot_normal",
    seed: int = 0,
) -> keras.Model:
    """Build ``mobilenet_<width>``.

    Args:
        width: Stem filters W (>= 1); the pointwise widths are 2W .. 8W.
        input_shape: (height, width, channels) with 1 or 3 channels, sides >= 8.
        num_classes: Number of output logits.
        initializer: Kernel initializer name (every conv, depthwise and the output).
        seed: Model seed; layer i uses ``seed * 1000 + i``.

    Returns:
        A functional tf_keras model producing logits.

    Raises:
        ConfigError: Bad width, input shape (not 1 or 3 channels) or initializer.
    """
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ConfigError(f"mobilenet width must be a positive integer, got {width!r}")
    shape = check_image_shape(input_shape, f"mobilenet_{width}", min_side=8)
    if shape[-1] not in (1, RGB):
        raise ConfigError(f"mobilenet_{width} takes 1 or 3 input channels (XNNPACK's sparse path "
                          f"starts with a 3-channel convolution), got shape {shape}")
    inits = LayerInitializers(initializer, seed)

    inputs = keras.Input(shape=shape, name="input")
    x = inputs if shape[-1] == RGB else keras.layers.Concatenate(name="to_rgb")([inputs] * RGB)
    x = keras.layers.ZeroPadding2D(1, name="stem_pad")(x)
    x = keras.layers.Conv2D(width, 3, strides=2, padding="valid", use_bias=False,
                            kernel_initializer=inits.next(), name="stem")(x)
    x = _bn_relu(x, "stem")
    for block, (multiple, stride) in enumerate(BLOCKS, start=1):
        x = keras.layers.ZeroPadding2D(1, name=f"dw_{block}_pad")(x)
        x = keras.layers.DepthwiseConv2D(3, strides=stride, padding="valid", use_bias=False,
                                         depthwise_initializer=inits.next(), name=f"dw_{block}")(x)
        x = _bn_relu(x, f"dw_{block}")
        x = keras.layers.Conv2D(multiple * width, 1, use_bias=False, kernel_initializer=inits.next(),
                                name=f"pw_{block}")(x)
        x = _bn_relu(x, f"pw_{block}")
    x = keras.layers.GlobalAveragePooling2D(keepdims=True, name="pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    outputs = dense(num_classes, OUTPUT_LAYER, inits)(x)
    return keras.Model(inputs, outputs, name=f"mobilenet_{width}")
