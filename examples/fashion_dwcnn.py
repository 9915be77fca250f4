"""A small MobileNet-style CNN (BatchNorm + DepthwiseConv2D) for 28x28 grey images.

Not part of the zoo: it shows the builder contract of `package.module:function`
models. Every Conv2D, DepthwiseConv2D and Dense layer is pruned (depthwise
kernels included); BatchNorm and biases stay dense. 3,776 prunable weights
on Fashion-MNIST (4,426 parameters in all).
"""
import tf_keras as keras


def build(input_shape, num_classes, seed):
    """Stem conv, two depthwise-separable blocks, global pooling, logits.

    Args:
        input_shape: one example's shape, channels last, e.g. (28, 28, 1).
        num_classes: number of logits.
        seed: model seed; layer i's kernel uses seed * 100 + i.

    Returns:
        A functional tf_keras model producing logits; its classifier is named
        ``output``.
    """
    counter = iter(range(100))

    def init():
        return keras.initializers.GlorotNormal(seed=seed * 100 + next(counter))

    def conv_bn_relu(x, layer, name):
        x = layer(x)
        x = keras.layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
        return keras.layers.ReLU(name=f"{name}_relu")(x)

    inputs = keras.Input(shape=tuple(input_shape), name="images")
    x = conv_bn_relu(inputs, keras.layers.Conv2D(16, 3, padding="same", use_bias=False,
                                                 kernel_initializer=init(), name="stem"), "stem")
    for block, (width, stride) in enumerate(((32, 2), (64, 2)), start=1):
        x = conv_bn_relu(x, keras.layers.DepthwiseConv2D(
            3, strides=stride, padding="same", use_bias=False, depthwise_initializer=init(),
            name=f"dw_{block}"), f"dw_{block}")
        x = conv_bn_relu(x, keras.layers.Conv2D(width, 1, use_bias=False, kernel_initializer=init(),
                                                name=f"pw_{block}"), f"pw_{block}")
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(num_classes, kernel_initializer=init(), name="output")(x)
    return keras.Model(inputs, outputs, name="fashion_dwcnn")
