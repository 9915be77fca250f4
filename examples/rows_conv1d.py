"""A 1-D convolutional network reading each image as a sequence of rows.

A 28x28 image becomes 28 steps of 28 features; two Conv1D layers slide along
the rows, then global max pooling and two Dense layers. Inputs of rank 2
(``(steps, features)``) are taken as they are; images ``(rows, width, channels)``
(an .npz of ``(N, 28, 28)`` arrays is read with a channel axis) are reshaped to rows.
Not part of the zoo; every Conv1D and Dense kernel is pruned.
"""
import math

import tf_keras as keras


def build(input_shape, num_classes, seed):
    """Build the row-sequence Conv1D model.

    Args:
        input_shape: ``(steps, features)`` or ``(steps, width, channels)``.
        num_classes: number of logits.
        seed: model seed; layer i's kernel uses seed * 100 + i.

    Returns:
        A functional tf_keras model producing logits (last layer ``output``).
    """
    shape = tuple(input_shape)
    inputs = keras.Input(shape=shape, name="sequence")
    x = inputs
    if len(shape) != 2:
        x = keras.layers.Reshape((shape[0], math.prod(shape[1:])), name="rows")(x)
    for index, (filters, dilation) in enumerate(((32, 1), (32, 2))):
        x = keras.layers.Conv1D(filters, 3, dilation_rate=dilation, padding="same", activation="relu",
                                kernel_initializer=keras.initializers.GlorotNormal(seed * 100 + index),
                                name=f"conv1d_{index + 1}")(x)
    x = keras.layers.GlobalMaxPooling1D(name="pool")(x)
    x = keras.layers.Dense(64, activation="relu", name="dense_1",
                           kernel_initializer=keras.initializers.GlorotNormal(seed * 100 + 2))(x)
    outputs = keras.layers.Dense(num_classes, name="output",
                                 kernel_initializer=keras.initializers.GlorotNormal(seed * 100 + 3))(x)
    return keras.Model(inputs, outputs, name="rows_conv1d")
