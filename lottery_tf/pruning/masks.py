"""Pure mask math: trained weights and the current mask in, the next mask out.

Masks are dicts from layer name to a float32 array of 0s and 1s shaped like the
layer's kernel. Nothing here knows about TensorFlow or tfmot.
"""
from collections.abc import Mapping

import numpy as np

from lottery_tf.errors import ConfigError

Masks = dict[str, np.ndarray]


def ones_like(weights: Mapping[str, np.ndarray]) -> Masks:
    """The dense mask: every weight kept."""
    return {name: np.ones_like(w, dtype=np.float32) for name, w in weights.items()}


def count_to_prune(remaining: int, rate: float) -> int:
    """How many of `remaining` surviving weights a level removes at `rate`."""
    return int(round(rate * remaining))


def _check_rates(rates: Mapping[str, float], masks: Masks) -> None:
    for name in masks:
        if name not in rates:
            raise ConfigError(f"No pruning rate for layer {name!r}.")
        if not 0.0 <= rates[name] < 1.0:
            raise ConfigError(f"Pruning rate for {name!r} must be in [0, 1), got {rates[name]}.")


def _drop_smallest(magnitudes: np.ndarray, alive: np.ndarray, count: int) -> np.ndarray:
    """Returns a copy of `alive` (flat bool) with the `count` smallest alive entries off.

    Ties are broken by position (stable sort), so the result is deterministic.
    """
    alive = alive.copy()
    if count <= 0:
        return alive
    alive_index = np.flatnonzero(alive)
    order = np.argsort(magnitudes[alive_index], kind="stable")
    alive[alive_index[order[:count]]] = False
    return alive


def _rank_groups(strategy: str, masks: Masks, rates: Mapping[str, float]) -> list[list[str]]:
    """Layers ranked together: each alone (layer-wise), or those sharing a rate (global)."""
    if strategy == "layerwise":
        return [[name] for name in masks]
    return [[name for name in masks if rates[name] == rate]
            for rate in sorted(set(rates[name] for name in masks))]


def _prune_groups(strategy: str, weights: Mapping[str, np.ndarray], masks: Masks,
                  rates: Mapping[str, float], start_dense: bool, count_for) -> Masks:
    """Per rank group, drops `count_for(group, alive_count)` of the smallest alive weights."""
    if strategy not in STRATEGIES:
        raise ConfigError(f"Unknown pruning strategy {strategy!r}; choose one of {sorted(STRATEGIES)}.")
    _check_rates(rates, masks)
    new_masks = {}
    for group in _rank_groups(strategy, masks, rates):
        magnitudes = np.concatenate([np.abs(weights[n]).reshape(-1) for n in group])
        alive = (np.ones(magnitudes.size, bool) if start_dense
                 else np.concatenate([masks[n].reshape(-1) > 0 for n in group]))
        kept = _drop_smallest(magnitudes, alive, count_for(group, int(alive.sum())))
        offset = 0
        for name in group:
            size = masks[name].size
            new_masks[name] = kept[offset:offset + size].reshape(masks[name].shape).astype(np.float32)
            offset += size
    return new_masks


def prune_layerwise(weights: Mapping[str, np.ndarray], masks: Masks,
                    rates: Mapping[str, float]) -> Masks:
    """Removes, in each layer, `rates[layer]` of its surviving weights by magnitude.

    Args:
      weights: trained kernels by layer name.
      masks: current masks by layer name (the layers to consider).
      rates: fraction of each layer's surviving weights to remove, in [0, 1).

    Returns:
      New masks; pruned weights stay pruned.

    Raises:
      ConfigError: a rate is missing or outside [0, 1).
    """
    return _prune_groups("layerwise", weights, masks, rates, False,
                         lambda group, alive: count_to_prune(alive, rates[group[0]]))


def prune_global(weights: Mapping[str, np.ndarray], masks: Masks,
                 rates: Mapping[str, float]) -> Masks:
    """Removes the smallest surviving weights across layers with one threshold.

    Layers that share a rate are ranked together: with one rate for every layer
    this is classic global pruning; a layer with rate 0 is left alone, and a
    different rate for (say) the output layer gives it its own pool.

    Args/Returns/Raises: as `prune_layerwise`.
    """
    return _prune_groups("global", weights, masks, rates, False,
                         lambda group, alive: count_to_prune(alive, rates[group[0]]))


def prune_to_match(strategy: str, weights: Mapping[str, np.ndarray], target: Masks,
                   rates: Mapping[str, float]) -> Masks:
    """Prunes the dense network by magnitude in one shot to `target`'s sparsity.

    Layer-wise: each layer keeps as many weights as it does in `target`. Global:
    each group of layers sharing a rate (as in `prune_global`) keeps as many
    weights in total as it does in `target`, wherever the magnitudes put them.

    Raises:
      ConfigError: unknown strategy or a missing rate.
    """
    return _prune_groups(strategy, weights, target, rates, True,
                         lambda group, alive: alive - int(sum(target[n].sum() for n in group)))


STRATEGIES = {"layerwise": prune_layerwise, "global": prune_global}


def prune(strategy: str, weights: Mapping[str, np.ndarray], masks: Masks,
          rates: Mapping[str, float]) -> Masks:
    """Dispatches to the named magnitude-pruning strategy.

    Raises:
      ConfigError: unknown strategy.
    """
    if strategy not in STRATEGIES:
        raise ConfigError(
            f"Unknown pruning strategy {strategy!r}; choose one of {sorted(STRATEGIES)}.")
    return STRATEGIES[strategy](weights, masks, rates)


def percent_remaining(masks: Masks) -> float:
    """Percent of the prunable weights still present."""
    total = sum(m.size for m in masks.values())
    kept = sum(float(m.sum()) for m in masks.values())
    return 100.0 * kept / total if total else 100.0


def percent_remaining_by_layer(masks: Masks) -> dict[str, float]:
    """Percent of each layer's weights still present."""
    return {name: 100.0 * float(m.sum()) / m.size for name, m in masks.items()}
