"""What a training run costs: iterations, and an estimate of its training FLOPs.

The estimate counts the multiply-adds of the prunable kernels only (biases,
normalization and activations are a small share of any model pruned here):
a kernel weight is used once per example for each output position of its layer
(1 for a Dense layer on flat inputs, H x W for a Conv2D, T for a Conv1D, a
Dense or attention projection over a sequence, or a recurrent kernel; 0 for an
Embedding, a lookup). A training step
costs about three forward passes (forward, and the gradients for inputs and
for weights), and a multiply-add is 2 FLOPs, so

    training FLOPs = 6 x iterations x batch x sum over kernels (weights x uses).

`dense` counts every weight; `sparse` counts the mask's survivors, the cost a
sparse kernel would pay (tfmot's masked dense kernels pay the dense cost).
"""
from __future__ import annotations

import math

import numpy as np
import tf_keras as keras

from lottery_tf.models import layer_paths
from lottery_tf.models.prunable import pruned_weights

FLOPS_PER_WEIGHT_USE = 6  # 2 FLOPs per multiply-add, x 3 for forward and backward


def _uses_per_example(layer: keras.layers.Layer) -> int:
    """How often each kernel weight of `layer` is used per example."""
    if isinstance(layer, keras.layers.Embedding):
        return 0  # a lookup, no multiply-adds
    inner = getattr(layer, "layer", None)  # Bidirectional: its RNN
    if isinstance(layer, keras.layers.RNN) or isinstance(inner, keras.layers.RNN):
        shape = layer.input_shape  # an RNN's kernels run once per time step
        return int(shape[1]) if isinstance(shape, tuple) and shape[1] is not None else 1
    try:
        shape = layer.output_shape
    except AttributeError:  # a layer called more than once has no single output shape
        return 1
    positions = shape[1:-1] if isinstance(shape, tuple) else ()
    return int(math.prod(int(d) for d in positions if d is not None))


def weight_uses(model: keras.Model, entries) -> dict[str, int]:
    """Mask entry -> uses of each of its weights per example (see the module docstring).

    Entries are `prunable.prunable_layers` keys, nested and multi-weight layers included.
    """
    wanted = set(entries)
    layers = {path: layer for path, layer, _ in layer_paths.walk(model)}
    return {weight.entry: _uses_per_example(layers[weight.layer_path])
            for weight in pruned_weights(model, strict=False) if weight.entry in wanted}


def training_flops(masks: dict[str, np.ndarray], uses: dict[str, int], batch_size: int,
                   iterations: int) -> dict[str, float]:
    """``{"sparse": ..., "dense": ...}`` estimated training FLOPs of `iterations` steps."""
    per_example_sparse = sum(float(np.count_nonzero(mask)) * uses.get(name, 1)
                             for name, mask in masks.items())
    per_example_dense = sum(float(mask.size) * uses.get(name, 1) for name, mask in masks.items())
    scale = FLOPS_PER_WEIGHT_USE * batch_size * iterations
    return {"sparse": scale * per_example_sparse, "dense": scale * per_example_dense}
