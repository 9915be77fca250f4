"""Which layers of a model carry prunable weights, their kinds, and parameter counts.

A layer is prunable when its class is one tfmot prunes (Dense, Conv1D/2D/3D,
Conv2D/3DTranspose, SeparableConv1D/2D, DepthwiseConv2D, Embedding) or when it
implements tfmot's ``PrunableLayer`` with exactly one prunable weight. Each
prunable layer has ONE pruned weight; biases, BatchNorm and other
normalization parameters are never pruned (as in Frankle & Carbin and
OpenLTH). Masks are keyed by layer name; the pruned weight is stored under
``<layer>/<weight>`` (``dense_1/kernel``, ``dw_1/depthwise_kernel``, ...).

The output layer is the layer named ``output`` if there is one, else the last
prunable layer in model order.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

import tensorflow_model_optimization as tfmot
import tf_keras as keras

from lottery_tf.errors import ConfigError
from lottery_tf.models.layers import OUTPUT_LAYER

KINDS = ("conv", "dense", "embedding", "output", "custom")

_layers = keras.layers
# Exact class -> (kind, pruned weight attribute). Exact classes, as tfmot's own
# registry matches them: a subclass of Dense is a custom layer.
_BUILT_IN: dict[type, tuple[str, str]] = {
    _layers.Dense: ("dense", "kernel"),
    _layers.Conv1D: ("conv", "kernel"),
    _layers.Conv2D: ("conv", "kernel"),
    _layers.Conv3D: ("conv", "kernel"),
    _layers.Conv2DTranspose: ("conv", "kernel"),
    _layers.Conv3DTranspose: ("conv", "kernel"),
    # tfmot prunes a separable convolution's pointwise (1x1) kernel only.
    _layers.SeparableConv1D: ("conv", "pointwise_kernel"),
    _layers.SeparableConv2D: ("conv", "pointwise_kernel"),
    # tfmot 0.8 does not prune depthwise kernels itself; the adapter makes them prunable.
    _layers.DepthwiseConv2D: ("conv", "depthwise_kernel"),
    _layers.Embedding: ("embedding", "embeddings"),
}

# Layers with weights that are never pruned.
_NEVER_PRUNED = (
    _layers.BatchNormalization,
    _layers.LayerNormalization,
    _layers.GroupNormalization,
    _layers.UnitNormalization,
    _layers.Normalization,
)


def _unwrap(layer: keras.layers.Layer) -> keras.layers.Layer:
    """Return the layer inside keras Wrappers (e.g. tfmot's PruneLowMagnitude)."""
    while isinstance(layer, keras.layers.Wrapper):
        layer = layer.layer
    return layer


def _custom_weights(layer: keras.layers.Layer) -> list:
    weights = list(layer.get_prunable_weights())
    if len(weights) != 1:
        raise ConfigError(f"layer {layer.name!r} ({type(layer).__name__}) returns {len(weights)} "
                          "prunable weights; lottery_tf prunes exactly one weight per layer, so "
                          "make get_prunable_weights return one, or list the layer in "
                          "pruning.layers_to_ignore")
    return weights


def pruned_weight(layer: keras.layers.Layer):
    """The one variable of a prunable layer that is masked (its kernel, embeddings, ...).

    Args:
        layer: a built prunable layer (unwrapped).

    Returns:
        The tf.Variable that pruning masks.

    Raises:
        ConfigError: the layer is not prunable, or is a PrunableLayer with other
            than one prunable weight.
    """
    if isinstance(layer, tfmot.sparsity.keras.PrunableLayer):
        return _custom_weights(layer)[0]
    if type(layer) in _BUILT_IN:
        return getattr(layer, _BUILT_IN[type(layer)][1])
    raise ConfigError(f"layer {layer.name!r} ({type(layer).__name__}) is not prunable")


def _kind(layer: keras.layers.Layer) -> str:
    """A built-in's kind; a PrunableLayer takes the kind of its first built-in base, else custom."""
    if isinstance(layer, tfmot.sparsity.keras.PrunableLayer):
        _custom_weights(layer)
        bases = [base for base in type(layer).__mro__ if base in _BUILT_IN]
        return _BUILT_IN[bases[0]][0] if bases else "custom"
    return _BUILT_IN[type(layer)][0]


def _is_prunable(layer: keras.layers.Layer) -> bool:
    return type(layer) in _BUILT_IN or isinstance(layer, tfmot.sparsity.keras.PrunableLayer)


def _walk(model: keras.Model, prefix: str = "", ignore: Iterable[str] = (),
          strict: bool = True) -> Iterator[tuple[str, keras.layers.Layer]]:
    """Yield (qualified name, unwrapped prunable layer) in model order.

    Nested models contribute their layers as ``outer/inner``; wrapped layers
    are reported under the wrapped layer's own name, so a model wrapped by
    tfmot maps to the same names as the original.

    Raises:
        ConfigError: (if `strict`) a layer with weights that is neither
            prunable, nor a normalization layer, nor listed in `ignore`.
    """
    ignored = set(ignore)
    for layer in model.layers:
        inner = _unwrap(layer)
        name = f"{prefix}{inner.name}"
        if isinstance(inner, keras.Model):
            yield from _walk(inner, f"{name}/", ignored, strict)
        elif _is_prunable(inner):
            yield name, inner
        elif (strict and inner.weights and not isinstance(inner, _NEVER_PRUNED)
              and name not in ignored):
            raise ConfigError(
                f"layer {name!r} ({type(inner).__name__}) has weights but tfmot cannot prune it; "
                "make it implement tfmot.sparsity.keras.PrunableLayer (get_prunable_weights "
                "returning its one prunable weight), or list it in pruning.layers_to_ignore")


def prunable_layers(model: keras.Model, ignore: Iterable[str] = ()) -> dict[str, str]:
    """Map each prunable layer's name to its kind, in model order.

    Args:
        model: A tf_keras model, possibly nested or wrapped by tfmot.
        ignore: names of non-prunable custom layers the user accepts as dense.

    Returns:
        ``{layer_name: kind}``, kind one of :data:`KINDS`: ``conv`` (every
        convolution, depthwise and separable included), ``dense``,
        ``embedding``, ``custom`` (a PrunableLayer) or ``output``.

    Raises:
        ConfigError: a layer tfmot cannot prune that is not in `ignore`, or a
            PrunableLayer with other than one prunable weight.
    """
    result: dict[str, str] = {}
    for name, layer in _walk(model, ignore=ignore):
        result[name] = _kind(layer)
    outputs = [name for name in result if name.split("/")[-1] == OUTPUT_LAYER]
    if result:
        result[outputs[0] if outputs else list(result)[-1]] = "output"
    return result


def pruned_weight_keys(model: keras.Model) -> dict[str, str]:
    """Where each prunable layer's pruned weight is stored: ``{layer: "layer/weight"}``.

    Dense and convolution layers give ``<layer>/kernel`` (the keys of every
    stored weights file), DepthwiseConv2D ``<layer>/depthwise_kernel``,
    Embedding ``<layer>/embeddings``, separable convolutions
    ``<layer>/pointwise_kernel``.

    Args:
        model: A built tf_keras model, possibly wrapped by tfmot.

    Returns:
        Layer name -> stored weight key, in model order.
    """
    return {name: f"{name}/{pruned_weight(layer).name.split('/')[-1].split(':')[0]}"
            for name, layer in _walk(model, strict=False)}


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
    """Count the weights in pruned weights (no biases, no BatchNorm).

    Args:
        model: A built tf_keras model, possibly nested or wrapped by tfmot.

    Returns:
        Total number of entries over the pruned weights of :func:`prunable_layers`.
    """
    return sum(int(pruned_weight(layer).shape.num_elements())
               for _, layer in _walk(model, strict=False))
