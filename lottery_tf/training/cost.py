"""What a training run costs: iterations, and an estimate of its training FLOPs.

The estimate counts the multiply-adds of the prunable kernels only (biases,
normalization and activations are a small share of any model pruned here):
a kernel weight is used once per example for each output position of its layer
(1 for a Dense layer on flat inputs, H x W for a Conv2D, T for a Conv1D or a
Dense layer over a sequence; 0 for an Embedding, a lookup). A training step
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

FLOPS_PER_WEIGHT_USE = 6  # 2 FLOPs per multiply-add, x 3 for forward and backward


def weight_uses(model: keras.Model, layer_names) -> dict[str, int]:
    """layer name (``outer/inner`` in nested models) -> uses of each of its kernel weights per example."""
    uses = {}
    for name in layer_names:
        layer = model
        for part in name.split("/"):
            layer = layer.get_layer(part)
        if isinstance(layer, keras.layers.Embedding):
            uses[name] = 0
            continue
        try:
            shape = layer.output_shape
        except AttributeError:  # a layer called more than once has no single output shape
            shape = None
        positions = shape[1:-1] if isinstance(shape, tuple) else ()
        uses[name] = int(math.prod(int(d) for d in positions if d is not None))
    return uses


def training_flops(masks: dict[str, np.ndarray], uses: dict[str, int], batch_size: int,
                   iterations: int) -> dict[str, float]:
    """``{"sparse": ..., "dense": ...}`` estimated training FLOPs of `iterations` steps."""
    per_example_sparse = sum(float(np.count_nonzero(mask)) * uses.get(name, 1)
                             for name, mask in masks.items())
    per_example_dense = sum(float(mask.size) * uses.get(name, 1) for name, mask in masks.items())
    scale = FLOPS_PER_WEIGHT_USE * batch_size * iterations
    return {"sparse": scale * per_example_sparse, "dense": scale * per_example_dense}
