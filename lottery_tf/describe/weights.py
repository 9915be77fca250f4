"""One row per weight of the model: what an experiment prunes, at which rate, and what it leaves dense.

A weight is *pruned* when the run masks it at a rate above 0. Everything else
with weights is *dense*, with the reason: the model's own (a bias, a
normalization layer, a layer tfmot cannot prune: `models.unpruned`) or the
config's (`pruning.layers_to_ignore`, a rate of 0, `pruning.policy`).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import tf_keras as keras

from lottery_tf.describe.levels import LevelCounts
from lottery_tf.experiments.setup import Setup
from lottery_tf.models import layer_paths
from lottery_tf.models.prunable import PrunedWeight, pruned_weights
from lottery_tf.models.unpruned import UnprunedWeight, unpruned_weights
from lottery_tf.pruning.rates import ignored_names, is_ignored, rate_field

IGNORED = "listed in pruning.layers_to_ignore"


@dataclasses.dataclass(frozen=True)
class PrunedRow:
    """A pruned weight.

    Attributes:
      key: where it is stored (``<layer path>/<weight>``).
      entry: its mask's key (the layer's path, or `key` for a layer with several).
      layer_type: its layer's class (``Dense``, ``LSTM``).
      kind: its kind (`models.prunable.KINDS`), which decides its rate.
      shape: its shape.
      count: how many numbers it holds.
      rate: the fraction of its survivors a level removes (global: of its pool's).
      rate_field: the config field the rate comes from.
      percent_left: percent of it kept after levels 1, 2, ...; None under global
        pruning, where it depends on the trained magnitudes.
    """

    key: str
    entry: str
    layer_type: str
    kind: str
    shape: tuple[int, ...]
    count: int
    rate: float
    rate_field: str
    percent_left: tuple[float, ...] | None


# A weight the experiment never prunes, and why.
DenseRow = UnprunedWeight


def _config_reason(weight: PrunedWeight, setup: Setup) -> str | None:
    """Why the config leaves a prunable weight dense, or None when it is pruned."""
    pruning = setup.config.pruning
    if weight.entry not in setup.layer_kinds:
        return f"pruning.policy={pruning.get('policy')} leaves it dense"
    if setup.layer_rates[weight.entry] > 0:
        return None
    if is_ignored(weight.entry, ignored_names(pruning.layers_to_ignore)):
        return IGNORED
    return f"{rate_field(weight.kind, pruning)} is 0"


def weight_rows(model: keras.Model, setup: Setup,
                levels: Sequence[LevelCounts]) -> tuple[list[PrunedRow], list[DenseRow]]:
    """The pruned and the dense weights of the experiment's `model`, each in model order.

    Args:
      model: the experiment's model, built as the run builds it (unwrapped).
      setup: the experiment (`prepare`d without claiming its folder).
      levels: the first levels' counts (`levels.first_levels`).

    Returns:
      (pruned rows, dense rows); together they hold every weight of the model once.
    """
    types = {path: type(layer).__name__ for path, layer, _ in layer_paths.walk(model)}
    per_weight = setup.config.pruning.strategy == "layerwise"
    pruned, dense = [], []
    for weight in pruned_weights(model, strict=False):
        shape = tuple(int(size) for size in weight.variable.shape)
        count = int(weight.variable.shape.num_elements())
        reason = _config_reason(weight, setup)
        if reason is not None:
            dense.append(DenseRow(weight.key, types[weight.layer_path], shape, reason))
            continue
        kind = setup.layer_kinds[weight.entry]
        percents = (tuple(level.percent_of([weight.entry]) for level in levels)
                    if per_weight else None)
        pruned.append(PrunedRow(weight.key, weight.entry, types[weight.layer_path], kind, shape,
                                count, setup.layer_rates[weight.entry],
                                rate_field(kind, setup.config.pruning), percents))
    dense += unpruned_weights(model)
    order = {key: index for index, key in enumerate(layer_paths.weight_variables(model))}
    dense.sort(key=lambda row: order[row.key])
    return pruned, dense
