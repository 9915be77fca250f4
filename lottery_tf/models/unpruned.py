"""The weights a model never prunes, each with the reason (the complement of `prunable`).

Reasons come from the model alone: a bias, a normalization layer's parameters,
a weight a `PrunableLayer` does not return, or a layer tfmot cannot prune (the
run accepts such a layer only when `pruning.layers_to_ignore` lists it). What a
config leaves dense on top (a rate of 0, an ignored or policy-skipped layer) is
the experiment's business (`lottery_tf.describe`).
"""
from __future__ import annotations

import dataclasses

import tensorflow_model_optimization as tfmot
import tf_keras as keras

from lottery_tf.models import layer_paths
from lottery_tf.models.prunable import NEVER_PRUNED, is_prunable, pruned_weights

BIAS = "bias: never pruned"
NORMALIZATION = "normalization: never pruned"
NOT_RETURNED = "not returned by get_prunable_weights"


@dataclasses.dataclass(frozen=True)
class UnprunedWeight:
    """One weight no mask covers: its stored key, its layer's class, shape and reason."""

    key: str
    layer_type: str
    shape: tuple[int, ...]
    reason: str

    @property
    def count(self) -> int:
        """How many numbers the weight holds."""
        count = 1
        for size in self.shape:
            count *= size
        return count


def _reason(layer: keras.layers.Layer, name: str) -> str:
    """Why weight `name` of `layer` (not one of its pruned weights) is not pruned."""
    if isinstance(layer, NEVER_PRUNED):
        return NORMALIZATION
    if not is_prunable(layer):
        return (f"{type(layer).__name__} is not prunable (neither a layer tfmot prunes nor a "
                "PrunableLayer)")
    if name.split("/")[-1].startswith("bias"):
        return BIAS
    if isinstance(layer, tfmot.sparsity.keras.PrunableLayer):
        return NOT_RETURNED
    return f"not a pruned weight of {type(layer).__name__}"


def unpruned_weights(model: keras.Model) -> list[UnprunedWeight]:
    """Every weight of `model` that no pruning mask covers, in model order, with its reason.

    Args:
        model: a built tf_keras model, possibly nested (tfmot wrappers are looked through;
            their own mask and threshold variables are not weights of the model).

    Returns:
        One `UnprunedWeight` per weight, keyed as stored (``dense_1/bias``,
        ``block/scale/scale``).
    """
    pruned = {weight.key for weight in pruned_weights(model, strict=False)}
    unpruned = []
    for path, layer, _ in layer_paths.walk(model):
        for name, variable in layer_paths.layer_weights(layer).items():
            key = f"{path}/{name}"
            if key not in pruned:
                unpruned.append(UnprunedWeight(key, type(layer).__name__,
                                               tuple(int(size) for size in variable.shape),
                                               _reason(layer, name)))
    return unpruned
