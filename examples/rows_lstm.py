"""An LSTM reading each image as a sequence of rows, then a Dense classifier.

A 28x28 image becomes 28 steps of 28 features. Both LSTM weights (the input
kernel and the recurrent kernel) are pruned, each ranked as its own weight, at
`pruning.dense_rate`. Not part of the zoo.

    --config.model.name=examples.rows_lstm:build
"""
import math

import tf_keras as keras


def build(input_shape, num_classes, seed, units: int = 128):
    """An LSTM of `units` over the image's rows (Keras' seed makes it reproducible)."""
    keras.utils.set_random_seed(seed)
    steps = input_shape[0]
    features = math.prod(input_shape[1:])
    return keras.Sequential([keras.Input(shape=tuple(input_shape)), keras.layers.Reshape((steps, features)),
                             keras.layers.LSTM(units, name="lstm"),
                             keras.layers.Dense(num_classes, name="output")], name="rows_lstm")
