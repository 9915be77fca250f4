"""Which weights of a model are pruned, their kinds, and parameter counts.

A layer is prunable when its class is one tfmot prunes or when it implements
tfmot's ``PrunableLayer``; layers inside inner models (an applications base
called as a layer, a Sequential block) count at any depth. Each prunable layer
has one or several pruned weights:

- Dense, Conv1D/2D/3D, Conv2D/3DTranspose: ``kernel``; DepthwiseConv2D:
  ``depthwise_kernel``; Embedding: ``embeddings``;
- SeparableConv1D/2D: ``depthwise_kernel`` and ``pointwise_kernel``;
- LSTM, GRU, SimpleRNN (also inside Bidirectional): each cell's ``kernel`` and
  ``recurrent_kernel``;
- MultiHeadAttention: the query, key, value and output projections' kernels;
- a ``PrunableLayer``: every weight its ``get_prunable_weights`` returns.

Biases, BatchNorm and other normalization parameters are never pruned (as in
Frankle & Carbin and OpenLTH).

Each pruned weight is an *entry*, the key of its mask: the layer's path
(``dense_1``, ``base/Conv1``, see `layer_paths`) when the layer has one pruned
weight, as every stored experiment keys its masks, else the weight's stored key
(``lstm/kernel``, ``lstm/recurrent_kernel``). Weights are stored under
``<layer path>/<weight>``.

The output layer is the layer named ``output`` if there is one, else the last
prunable layer in model order; all its pruned weights take the output rate.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator

import tensorflow_model_optimization as tfmot
import tf_keras as keras

from lottery_tf.errors import ConfigError
from lottery_tf.models import layer_paths
from lottery_tf.models.layers import OUTPUT_LAYER

KINDS = ("conv", "dense", "embedding", "output", "custom")

_layers = keras.layers
# Exact class -> (kind, pruned weight attributes). Exact classes, as tfmot's own
# registry matches them: a subclass of Dense is a custom layer.
_BUILT_IN: dict[type, tuple[str, tuple[str, ...]]] = {
    _layers.Dense: ("dense", ("kernel",)),
    _layers.Conv1D: ("conv", ("kernel",)),
    _layers.Conv2D: ("conv", ("kernel",)),
    _layers.Conv3D: ("conv", ("kernel",)),
    _layers.Conv2DTranspose: ("conv", ("kernel",)),
    _layers.Conv3DTranspose: ("conv", ("kernel",)),
    # tfmot prunes only the pointwise kernel; the adapter's twin masks both.
    _layers.SeparableConv1D: ("conv", ("depthwise_kernel", "pointwise_kernel")),
    _layers.SeparableConv2D: ("conv", ("depthwise_kernel", "pointwise_kernel")),
    # tfmot 0.8 does not prune depthwise kernels itself; the adapter makes them prunable.
    _layers.DepthwiseConv2D: ("conv", ("depthwise_kernel",)),
    _layers.Embedding: ("embedding", ("embeddings",)),
    # Input and recurrent kernels are dense matrices: they take the dense rate.
    _layers.LSTM: ("dense", ("cell.kernel", "cell.recurrent_kernel")),
    _layers.GRU: ("dense", ("cell.kernel", "cell.recurrent_kernel")),
    _layers.SimpleRNN: ("dense", ("cell.kernel", "cell.recurrent_kernel")),
    _layers.MultiHeadAttention: ("dense", ("_query_dense.kernel", "_key_dense.kernel",
                                           "_value_dense.kernel", "_output_dense.kernel")),
}

# Layers with weights that are never pruned.
NEVER_PRUNED = (
    _layers.BatchNormalization,
    _layers.LayerNormalization,
    _layers.GroupNormalization,
    _layers.UnitNormalization,
    _layers.Normalization,
)


@dataclasses.dataclass(frozen=True)
class PrunedWeight:
    """One pruned weight: its mask's key, its layer, its stored key and variable, its kind."""

    entry: str
    layer_path: str
    key: str
    variable: object
    kind: str


def _attribute(layer, dotted: str):
    for part in dotted.split("."):
        layer = getattr(layer, part)
    return layer


def _is_bidirectional_rnn(layer) -> bool:
    # isinstance: the adapter's prunable twin of Bidirectional is one too.
    return (isinstance(layer, _layers.Bidirectional) and type(layer.forward_layer) in _BUILT_IN
            and type(layer.forward_layer) is type(layer.backward_layer))


def is_prunable(layer: keras.layers.Layer) -> bool:
    """Whether some weight of `layer` (unwrapped) is pruned: a built-in tfmot prunes, a
    Bidirectional RNN, or a `PrunableLayer`."""
    return (type(layer) in _BUILT_IN or _is_bidirectional_rnn(layer)
            or isinstance(layer, tfmot.sparsity.keras.PrunableLayer))


def pruned_variables(layer: keras.layers.Layer) -> list:
    """The variables of a prunable layer that are masked, in a fixed order.

    Args:
        layer: a built prunable layer (a pruning wrapper is looked through).

    Returns:
        The tf.Variables pruning masks (kernel, embeddings, both kernels of a
        separable convolution or recurrent cell, ...).

    Raises:
        ConfigError: the layer is not prunable, or is a PrunableLayer returning no weight.
    """
    layer = layer_paths.unwrap(layer)
    if isinstance(layer, tfmot.sparsity.keras.PrunableLayer):
        weights = list(layer.get_prunable_weights())
        if not weights:
            raise ConfigError(f"layer {layer.name!r} ({type(layer).__name__}) returns no prunable "
                              "weight; return at least one from get_prunable_weights, or list the "
                              "layer in pruning.layers_to_ignore")
        return weights
    if _is_bidirectional_rnn(layer):
        return pruned_variables(layer.forward_layer) + pruned_variables(layer.backward_layer)
    if type(layer) in _BUILT_IN:
        return [_attribute(layer, name) for name in _BUILT_IN[type(layer)][1]]
    raise ConfigError(f"layer {layer.name!r} ({type(layer).__name__}) is not prunable")


def _kind(layer: keras.layers.Layer) -> str:
    """A built-in's kind; a PrunableLayer takes the kind of its first built-in base, else custom."""
    if _is_bidirectional_rnn(layer):
        return _BUILT_IN[type(layer.forward_layer)][0]
    if isinstance(layer, tfmot.sparsity.keras.PrunableLayer):
        bases = [base for base in type(layer).__mro__ if base in _BUILT_IN]
        return _BUILT_IN[bases[0]][0] if bases else "custom"
    return _BUILT_IN[type(layer)][0]


def _ignored(path: str, ignore: set[str]) -> bool:
    # A listed inner model leaves every layer in it alone.
    return any(path == name or path.startswith(f"{name}/") for name in ignore)


def holds_pruned_weight(name: str, entries: Iterable[str]) -> bool:
    """Whether `name` is an entry, or the path of a layer or inner model holding one."""
    return any(_ignored(entry, {name}) for entry in entries)


def _check_nested(model: keras.Model, prefix: str = "") -> None:
    """ConfigError naming an inner model that cannot be cloned for pruning (a subclassed one)."""
    for placed in model.layers:
        layer = layer_paths.unwrap(placed)
        if layer_paths.is_nested_model(layer):
            path = f"{prefix}{layer.name}"
            if not getattr(layer, "_is_graph_network", False):
                raise ConfigError(
                    f"inner model {path!r} is a subclassed keras.Model ({type(layer).__name__}), "
                    "which cannot be cloned and wrapped for pruning; build it with the functional "
                    "API or as a Sequential")
            _check_nested(layer, f"{path}/")


def _prunable_layers(model: keras.Model, ignore: Iterable[str] = (),
                     strict: bool = True) -> Iterator[tuple[str, keras.layers.Layer]]:
    """Yield (path, unwrapped prunable layer) at any depth, in model order.

    Raises:
        ConfigError: (if `strict`) a subclassed inner model, or a layer with weights
            that is neither prunable, nor a normalization layer, nor listed in `ignore`.
    """
    ignored = set(ignore)
    if strict:
        _check_nested(model)
    for path, layer, _ in layer_paths.walk(model):
        if is_prunable(layer):
            yield path, layer
        elif (strict and layer.weights and not isinstance(layer, NEVER_PRUNED)
              and not _ignored(path, ignored)):
            raise ConfigError(
                f"layer {path!r} ({type(layer).__name__}) has weights but tfmot cannot prune it; "
                "make it implement tfmot.sparsity.keras.PrunableLayer (get_prunable_weights "
                "returning its prunable weights), or list it in pruning.layers_to_ignore")


def pruned_weights(model: keras.Model, ignore: Iterable[str] = (),
                   strict: bool = True) -> list[PrunedWeight]:
    """Every pruned weight of the model, in model order (see the module docstring).

    Args:
        model: A built tf_keras model, possibly nested or wrapped by tfmot.
        ignore: paths of non-prunable layers (or inner models) the user accepts as dense.
        strict: refuse layers with weights tfmot cannot prune.

    Raises:
        ConfigError: (if `strict`) a layer tfmot cannot prune that is not in
            `ignore`, a subclassed inner model, or a PrunableLayer with no weight.
    """
    layers = list(_prunable_layers(model, ignore, strict))
    output_paths = [path for path, _ in layers if path.split("/")[-1] == OUTPUT_LAYER]
    output = output_paths[0] if output_paths else (layers[-1][0] if layers else None)
    return [dataclasses.replace(weight, kind="output") if path == output else weight
            for path, layer in layers for weight in layer_pruned_weights(path, layer)]


def layer_pruned_weights(path: str, layer: keras.layers.Layer) -> list[PrunedWeight]:
    """The pruned weights of one prunable layer at `path`, with its own kind (never `output`).

    Raises:
        ConfigError: the layer is not prunable.
    """
    layer = layer_paths.unwrap(layer)
    variables = pruned_variables(layer)
    names = {id(variable): name for name, variable in layer_paths.layer_weights(layer).items()}
    kind = _kind(layer)
    weights = []
    for variable in variables:
        key = f"{path}/{names[id(variable)]}"
        weights.append(PrunedWeight(path if len(variables) == 1 else key, path, key, variable, kind))
    return weights


def prunable_layers(model: keras.Model, ignore: Iterable[str] = ()) -> dict[str, str]:
    """Map each pruned weight's entry (its mask's key) to its kind, in model order.

    Args:
        model: A tf_keras model, possibly nested or wrapped by tfmot.
        ignore: paths of non-prunable custom layers the user accepts as dense.

    Returns:
        ``{entry: kind}``, kind one of :data:`KINDS`: ``conv`` (every
        convolution, depthwise and separable included), ``dense`` (recurrent and
        attention kernels included), ``embedding``, ``custom`` (a PrunableLayer)
        or ``output``. The entry is the layer's path, or ``<path>/<weight>`` for
        a layer with several pruned weights.

    Raises:
        ConfigError: a layer tfmot cannot prune that is not in `ignore`, or a
            subclassed inner model.
    """
    return {weight.entry: weight.kind for weight in pruned_weights(model, ignore)}


def pruned_weight_keys(model: keras.Model) -> dict[str, str]:
    """Where each entry's pruned weight is stored: ``{entry: "layer/weight"}``.

    Dense and convolution layers give ``<layer>/kernel`` (the keys of every
    stored weights file), DepthwiseConv2D ``<layer>/depthwise_kernel``,
    Embedding ``<layer>/embeddings``; several pruned weights of one layer are
    their own entries (``lstm/recurrent_kernel`` -> ``lstm/recurrent_kernel``).

    Args:
        model: A built tf_keras model, possibly nested or wrapped by tfmot.

    Returns:
        Entry -> stored weight key, in model order.
    """
    return {weight.entry: weight.key for weight in pruned_weights(model, strict=False)}


def entry_variables(model: keras.Model) -> dict[str, object]:
    """Each entry's pruned variable: ``{entry: tf.Variable}``, in model order."""
    return {weight.entry: weight.variable for weight in pruned_weights(model, strict=False)}


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
    return sum(int(weight.variable.shape.num_elements())
               for weight in pruned_weights(model, strict=False))
