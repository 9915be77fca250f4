"""tf_keras.applications networks as `package.module:function` builders (random initialization).

    --config.model.name=examples.applications:mobilenet_v2        # the whole network
    --config.model.name=examples.applications:mobilenet_v2_base   # nested base + new head

`mobilenet_v2` is MobileNetV2 at width 0.35 (depthwise convolutions, BatchNorm),
the whole network with its own classifier producing logits. `mobilenet_v2_base`
is the transfer-learning shape: the same network without its top, called as a
layer inside a functional model (its layers are pruned where they sit, nested
one model deep), on images resized up to MobileNetV2's smallest size (32x32),
with a new Dense head, and BatchNorm momentum 0.9 instead of MobileNetV2's 0.999:
evaluation runs in inference mode, on the moving statistics, and over a short
training 0.999 leaves them far from the weights' (measured on Fashion-MNIST:
after 1,000 steps, 81.5% accuracy in training mode and 11% in inference mode; at
0.99, 46% in inference mode after 600 steps).
"""
import tf_keras as keras

SMALLEST_SIDE = 32  # MobileNetV2 refuses smaller inputs


def mobilenet_v2(input_shape, num_classes, seed):
    """MobileNetV2 alpha 0.35, `weights=None`, logits out; Keras' seed makes it reproducible."""
    keras.utils.set_random_seed(seed)
    return keras.applications.MobileNetV2(input_shape=tuple(input_shape), alpha=0.35, weights=None,
                                          classes=num_classes, classifier_activation=None)


def mobilenet_v2_base(input_shape, num_classes, seed, batchnorm_momentum: float = 0.9):
    """MobileNetV2 alpha 0.35 without its top, as an inner model, then a Dense head (logits)."""
    keras.utils.set_random_seed(seed)
    height, width, channels = input_shape
    side = max(height, width, SMALLEST_SIDE)
    base = keras.applications.MobileNetV2(input_shape=(side, side, channels), alpha=0.35,
                                          include_top=False, weights=None, pooling="avg")
    for layer in base.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = batchnorm_momentum
    inputs = keras.Input(shape=tuple(input_shape))
    resized = keras.layers.Resizing(side, side)(inputs) if (height, width) != (side, side) else inputs
    return keras.Model(inputs, keras.layers.Dense(num_classes, name="head")(base(resized)))
