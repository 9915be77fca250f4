"""Which prunable layer reads which layer's units: the chain unit pruning follows.

Unit pruning removes a unit together with the weights that read it, so it must
know, for each prunable layer, the one layer consuming its outputs. That is
certain only for plain chains: every layer has one input, and between two
prunable layers sit only layers that keep units apart (activations, pooling,
dropout, flatten), as in LeNet and Conv-2/4/6. Residual adds, BatchNorm (its
shift turns a removed unit into a constant, not a zero), concatenations and
nested models break that, and `unit_chain` says so.
"""
import tf_keras as keras

from lottery_tf.errors import ConfigError
from lottery_tf.models.prunable import prunable_layers

# Layers that carry each unit (channel) through on its own.
PASS_THROUGH = (keras.layers.InputLayer, keras.layers.Flatten, keras.layers.MaxPooling2D,
                keras.layers.AveragePooling2D, keras.layers.Dropout, keras.layers.Activation,
                keras.layers.ReLU)


def _unwrap(layer):
    while isinstance(layer, keras.layers.Wrapper):
        layer = layer.layer
    return layer


def unit_chain(model: keras.Model) -> list[tuple[str, str]]:
    """(source, reader) pairs of consecutive prunable layers of a plain chain model.

    Args:
      model: a tf_keras model (possibly tfmot-wrapped) whose layers run in sequence.

    Returns:
      Pairs in model order; the last prunable layer (the output) reads nothing
      onward and is never a source.

    Raises:
      ConfigError: the model is not a plain chain of Dense/Conv2D layers.
    """
    prunable = set(prunable_layers(model))
    chain, previous = [], None
    for layer in model.layers:
        inner = _unwrap(layer)
        if inner.name in prunable:
            if type(inner) not in (keras.layers.Dense, keras.layers.Conv2D):
                raise ConfigError(f"Unit granularity supports Dense and Conv2D layers only; "
                                  f"{inner.name!r} is a {type(inner).__name__}.")
            if previous is not None:
                chain.append((previous, inner.name))
            previous = inner.name
        elif not isinstance(inner, PASS_THROUGH):
            raise ConfigError(f"Unit granularity needs a plain chain model (LeNet, Conv-2/4/6); "
                              f"{model.name!r} has a {type(inner).__name__} layer {inner.name!r}. "
                              "Use pruning.granularity='weight' or an n:m pattern.")
    return chain
