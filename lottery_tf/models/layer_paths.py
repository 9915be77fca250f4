"""Where layers and weights sit in a model: paths at any depth, and the keys weights are stored under.

A layer's path is its name, prefixed by the names of the inner models that hold
it (``mobilenetv2_0.35_32/Conv1``); a weight's key is its layer's path and its
own name (``mobilenetv2_0.35_32/Conv1/kernel``). A weight whose own name is
shared by other weights of its layer (the forward and backward kernels of a
Bidirectional, MultiHeadAttention's query/key/value kernels) is keyed through
the sub-layers that hold it (``bidirectional/forward_gru/gru_cell/kernel``).

Layers Keras names itself (``dense``, ``dense_1``, ...) are numbered by a counter
that runs over the whole process, so the same builder names its layers
``dense_3``, ``dense_4`` when other models were built first. Import-path builders
are built with fresh counters (`registry`), and keys are matched with
:func:`match_keys`, which accepts names that differ only in that numbering.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping

import tf_keras as keras


def is_pruning_wrapper(layer) -> bool:
    """Whether `layer` is a tfmot pruning wrapper (the layers carrying `pruning_vars`)."""
    return hasattr(layer, "pruning_vars") and hasattr(layer, "layer")


def unwrap(layer: keras.layers.Layer) -> keras.layers.Layer:
    """The layer inside a tfmot pruning wrapper, else `layer` itself.

    Other Keras wrappers (Bidirectional, TimeDistributed) are layers of their own.
    """
    while is_pruning_wrapper(layer):
        layer = layer.layer
    return layer


def is_nested_model(layer: keras.layers.Layer) -> bool:
    """Whether `layer` is a model used as a layer (an applications base, a Sequential block)."""
    return isinstance(layer, keras.Model)


Placed = tuple[str, keras.layers.Layer, keras.layers.Layer]


def walk(model: keras.Model, prefix: str = "") -> Iterator[Placed]:
    """Yield (path, layer, as placed) for every layer that is not a model, at any depth, in model order.

    `layer` is unwrapped; `as placed` is what the model holds (the pruning wrapper, if any).
    """
    for placed in model.layers:
        layer = unwrap(placed)
        path = f"{prefix}{layer.name}"
        if is_nested_model(layer):
            yield from walk(layer, f"{path}/")
        else:
            yield path, layer, placed


def layer_paths(model: keras.Model, prefix: str = "") -> set[str]:
    """The path of every layer of the model, inner models' own paths included."""
    paths = set()
    for placed in model.layers:
        layer = unwrap(placed)
        path = f"{prefix}{layer.name}"
        paths.add(path)
        if is_nested_model(layer):
            paths |= layer_paths(layer, f"{path}/")
    return paths


def _short_name(variable) -> str:
    return variable.name.split("/")[-1].split(":")[0]


def _sublayers(layer: keras.layers.Layer) -> list:
    # Keras' own tracking of the layers a layer holds (a Bidirectional's two RNNs,
    # an RNN's cell, MultiHeadAttention's projections).
    return list(layer._flatten_layers(include_self=False, recursive=False))


def _qualified_weights(layer: keras.layers.Layer, prefix: str) -> Iterator[tuple[str, object]]:
    """(sub-layer path + short name, variable) for every weight of `layer`."""
    claimed = set()
    for sub in _sublayers(layer):
        for key, variable in _qualified_weights(sub, f"{prefix}{sub.name}/"):
            if id(variable) not in claimed:
                claimed.add(id(variable))
                yield key, variable
    for variable in layer.weights:
        if id(variable) not in claimed:
            claimed.add(id(variable))
            yield f"{prefix}{_short_name(variable)}", variable


def layer_weights(layer: keras.layers.Layer) -> dict[str, object]:
    """A layer's variables by their name within the layer, in the layer's weight order.

    The short name (``kernel``) when no other weight of the layer shares it (the
    keys every stored experiment uses), else the path through the sub-layers
    that hold it (``forward_gru/gru_cell/kernel``, ``query/kernel``).

    Raises:
        ValueError: two weights of the layer cannot be told apart by name.
    """
    layer = unwrap(layer)
    counts: dict[str, int] = {}
    for variable in layer.weights:
        counts[_short_name(variable)] = counts.get(_short_name(variable), 0) + 1
    qualified = {id(variable): key for key, variable in _qualified_weights(layer, "")}
    names: dict[str, object] = {}
    for variable in layer.weights:
        short = _short_name(variable)
        name = short if counts[short] == 1 else qualified[id(variable)]
        if name in names:
            raise ValueError(f"layer {layer.name!r} has two weights named {name!r}")
        names[name] = variable
    return names


def weight_variables(model: keras.Model) -> dict[str, object]:
    """Every variable of the model's own layers (not tfmot's masks), keyed ``<layer path>/<weight>``."""
    return {f"{path}/{name}": variable for path, layer, _ in walk(model)
            for name, variable in layer_weights(layer).items()}


_AUTO_NAME = re.compile(r"^(.*?)(?:_(\d+))?$")


def _renumbered(names: Iterable[str]) -> dict[str, str]:
    """Each layer name with Keras' counter suffix renumbered from zero, per prefix, in counter order.

    ``dense_7``, ``dense_8`` become ``dense``, ``dense_1``: what a process that
    built no model before would have named them. One-to-one on any set of names.
    """
    groups: dict[str, list[tuple[int, str]]] = {}
    for name in set(names):
        prefix, number = _AUTO_NAME.match(name).groups()
        groups.setdefault(prefix, []).append((int(number or 0), name))
    renamed = {}
    for prefix, numbered in groups.items():
        for index, (_, name) in enumerate(sorted(numbered)):
            renamed[name] = prefix if index == 0 else f"{prefix}_{index}"
    return renamed


def _normal_keys(keys: Iterable[str]) -> dict[str, str]:
    """key -> the key with every segment renumbered.

    Keras numbers layers across the whole process, nested models included, so
    the segments of all keys are renumbered together. Weight names (``kernel``)
    come out unchanged unless the keys hold numbered twins of them, and then
    alike on both sides of a match.
    """
    keys = list(keys)
    segments = [key.split("/") for key in keys]
    renamed = _renumbered(part for parts in segments for part in parts)
    return {key: "/".join(renamed[part] for part in parts)
            for key, parts in zip(keys, segments, strict=True)}


def match_keys(stored: Mapping[str, object], wanted: Iterable[str]) -> dict[str, object] | None:
    """`stored` re-keyed by `wanted`, or None when the two do not name the same weights.

    Keys match when equal, or else when they differ only in Keras' automatic
    layer numbering (a model built after others in its process).
    """
    wanted = list(wanted)
    if set(stored) == set(wanted):
        return {key: stored[key] for key in wanted}
    stored_normal = {normal: key for key, normal in _normal_keys(stored).items()}
    wanted_normal = _normal_keys(wanted)
    if set(stored_normal) != set(wanted_normal.values()) or len(stored_normal) != len(stored):
        return None
    return {key: stored[stored_normal[wanted_normal[key]]] for key in wanted}
