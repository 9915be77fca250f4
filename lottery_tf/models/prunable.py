"""Which layers of a model carry prunable weights, and parameter counts.

Only Dense and Conv2D kernels are prunable; biases and BatchNorm parameters
never are (as in Frankle & Carbin and OpenLTH).
"""
from __future__ import annotations

from collections.abc import Iterator

import tf_keras as keras

from lottery_tf.models.layers import OUTPUT_LAYER

KINDS = ("conv", "dense", "output")


def _unwrap(layer: keras.layers.Layer) -> keras.layers.Layer:
    """Return the layer inside keras Wrappers (e.g. tfmot's PruneLowMagnitude)."""
    while isinstance(layer, keras.layers.Wrapper):
        layer = layer.layer
    return layer


def _walk(model: keras.Model, prefix: str = "") -> Iterator[tuple[str, keras.layers.Layer]]:
    """Yield (qualified name, unwrapped Dense/Conv2D layer) in model order.

    Nested models contribute their layers as ``outer/inner``; wrapped layers
    are reported under the wrapped layer's own name, so a model wrapped by
    tfmot maps to the same names as the original.
    """
    for layer in model.layers:
        inner = _unwrap(layer)
        if isinstance(inner, keras.Model):
            yield from _walk(inner, f"{prefix}{inner.name}/")
        elif isinstance(inner, (keras.layers.Dense, keras.layers.Conv2D)):
            yield f"{prefix}{inner.name}", inner


def prunable_layers(model: keras.Model) -> dict[str, str]:
    """Map each prunable layer's name to its kind, in model order.

    Args:
        model: A tf_keras model, possibly nested or wrapped by tfmot.

    Returns:
        ``{layer_name: kind}`` with kind ``"conv"`` (Conv2D), ``"dense"``
        (hidden Dense) or ``"output"`` (the layer named ``output``).
    """
    result: dict[str, str] = {}
    for name, layer in _walk(model):
        if layer.name == OUTPUT_LAYER:
            result[name] = "output"
        elif isinstance(layer, keras.layers.Conv2D):
            result[name] = "conv"
        else:
            result[name] = "dense"
    return result


def count_params(model: keras.Model) -> int:
    """Count all parameters the way Keras does (trainable + non-trainable).

    BatchNorm moving statistics are included; tfmot wrappers' mask and
    threshold variables would be too, so count on the unwrapped model.

    Args:
        model: A built tf_keras model.

    Returns:
        ``model.count_params()``.
    """
    return int(model.count_params())


def prunable_param_count(model: keras.Model) -> int:
    """Count the weights in prunable kernels (no biases, no BatchNorm).

    Args:
        model: A built tf_keras model, possibly nested or wrapped by tfmot.

    Returns:
        Total number of kernel entries over :func:`prunable_layers`.
    """
    return sum(int(layer.kernel.shape.num_elements()) for _, layer in _walk(model))
