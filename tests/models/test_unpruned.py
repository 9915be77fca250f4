"""Every weight no mask covers is listed with its reason; with the pruned ones they are the model."""
from __future__ import annotations

import lottery_tf  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TF loads)

# isort: split

import tensorflow_model_optimization as tfmot
import tf_keras as keras

from lottery_tf.models import prunable_param_count
from lottery_tf.models.unpruned import BIAS, NORMALIZATION, NOT_RETURNED, unpruned_weights

L = keras.layers


class Offset(L.Layer):
    """A custom layer with a weight tfmot cannot prune."""

    def build(self, input_shape):
        self.offset = self.add_weight(name="offset", shape=(input_shape[-1],), initializer="zeros")

    def call(self, inputs):
        return inputs + self.offset


class HalfPrunable(L.Dense, tfmot.sparsity.keras.PrunableLayer):
    """A Dense whose bias is its own business and whose extra gain is not pruned."""

    def build(self, input_shape):
        super().build(input_shape)
        self.gain = self.add_weight(name="gain", shape=(self.units,), initializer="ones")

    def get_prunable_weights(self):
        return [self.kernel]


def _model():
    inner = keras.Sequential([L.Dense(6, name="dense"), L.BatchNormalization(name="norm"),
                             Offset(name="offset")], name="inner")
    inputs = keras.Input((5,))
    x = HalfPrunable(4, name="half")(inner(inputs))
    return keras.Model(inputs, L.Dense(3, name="output")(x))


def test_biases_normalization_and_unprunable_layers_are_listed_with_reasons():
    model = _model()
    reasons = {weight.key: weight.reason for weight in unpruned_weights(model)}
    assert reasons["inner/dense/bias"] == BIAS == reasons["output/bias"] == reasons["half/bias"]
    assert reasons["inner/norm/gamma"] == NORMALIZATION
    assert reasons["inner/norm/moving_variance"] == NORMALIZATION  # not trainable
    assert "Offset is not prunable" in reasons["inner/offset/offset"]
    assert reasons["half/gain"] == NOT_RETURNED
    assert not {"inner/dense/kernel", "half/kernel", "output/kernel"} & set(reasons)


def test_pruned_and_unpruned_weights_add_up_to_the_model():
    model = _model()
    unpruned = sum(weight.count for weight in unpruned_weights(model))
    assert unpruned + prunable_param_count(model) == model.count_params()
