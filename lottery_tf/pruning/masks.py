"""Pure mask math: trained weights and the current mask in, the next mask out.

Masks are dicts from layer name to a float32 array of 0s and 1s shaped like the
layer's kernel, at every granularity (see `granularity`). Ranking goes through
`selection.keep_top`. Nothing here knows about TensorFlow or tfmot.
"""
from collections.abc import Mapping

import numpy as np

from lottery_tf.errors import ConfigError
from lottery_tf.pruning import granularity as granularity_lib
from lottery_tf.pruning import selection

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


def _check_strategy(strategy: str) -> None:
    if strategy not in STRATEGIES:
        raise ConfigError(f"Unknown pruning strategy {strategy!r}; choose one of {sorted(STRATEGIES)}.")


def _magnitudes(weights: Mapping[str, np.ndarray], names) -> dict[str, np.ndarray]:
    return {name: np.abs(weights[name]) for name in names}


def _drop_per_level(strategy: str, scores: Mapping[str, np.ndarray], masks: Masks,
                    rates: Mapping[str, float], names) -> Masks:
    """Weight-level: removes `rate` of the survivors of each group of `names` (smallest first)."""
    groups = selection.rank_groups(strategy, list(names), rates)
    counts = [alive - count_to_prune(alive, rates[group[0]])
              for group, alive in zip(groups, selection.alive_counts(masks, groups), strict=True)]
    return selection.keep_top(scores, masks, groups, counts, ties="later")


def _unit_layers(masks: Masks, rates: Mapping[str, float], chain) -> list[str]:
    """Layers that lose units: those with a known reader (so their outputs can go) and a rate > 0."""
    if chain is None:
        raise ConfigError("Unit granularity needs the model's layer chain "
                          "(lottery_tf.models.unit_chain.unit_chain(model)).")
    return [source for source, _ in chain if source in masks and rates[source] > 0]


def _prune_units(strategy: str, scores: Mapping[str, np.ndarray], masks: Masks,
                 rates: Mapping[str, float], chain, counts_for) -> Masks:
    """Unit level: keeps `counts_for(groups, alive units)` units per group, then cuts their outputs."""
    layers = _unit_layers(masks, rates, chain)
    unit_scores = {n: granularity_lib.unit_scores(scores[n], masks[n]) for n in layers}
    alive = {n: granularity_lib.unit_alive(masks[n]) for n in layers}
    for name in layers:
        # Every layer keeps its best unit: an empty layer cuts the network in two
        # (and would take every later unit with it), whatever the ranking says.
        if alive[name].any():
            unit_scores[name][np.flatnonzero(alive[name])[np.argmax(unit_scores[name][alive[name]])]] = np.inf
    groups = selection.rank_groups(strategy, layers, rates)
    counts = [max(count, sum(bool(alive[n].any()) for n in group))  # room for each best unit
              for group, count in zip(groups, counts_for(groups, selection.alive_counts(alive, groups)),
                                      strict=True)]
    kept = selection.keep_top(unit_scores, alive, groups, counts, ties="later")
    new = {n: (granularity_lib.expand_units(masks[n], kept[n]) if n in kept
               else np.asarray(masks[n], dtype=np.float32).copy()) for n in masks}
    return granularity_lib.cut_dead_inputs(new, chain)


def _prune_nm(strategy: str, scores: Mapping[str, np.ndarray], masks: Masks,
              rates: Mapping[str, float], gran: granularity_lib.Granularity) -> Masks:
    """n:m level: dense pruned layers take the pattern; the others lose `rate` inside it."""
    pruned = [n for n in masks if rates[n] > 0]
    dense = [n for n in pruned if masks[n].all()]
    sparse = [n for n in pruned if n not in dense]
    new = {n: np.asarray(m, dtype=np.float32).copy() for n, m in masks.items()}
    for name in dense:
        new[name] = granularity_lib.nm_pattern(scores[name], masks[name], gran.n, gran.m)
    new.update(_drop_per_level(strategy, scores, masks, rates, sparse))
    return new


def prune_layerwise(weights: Mapping[str, np.ndarray], masks: Masks,
                    rates: Mapping[str, float]) -> Masks:
    """Removes, in each layer, `rates[layer]` of its surviving weights by magnitude.

    Ties go to the earlier position (it is removed first).

    Args:
      weights: trained kernels by layer name.
      masks: current masks by layer name (the layers to consider).
      rates: fraction of each layer's surviving weights to remove, in [0, 1).

    Returns:
      New masks; pruned weights stay pruned.

    Raises:
      ConfigError: a rate is missing or outside [0, 1).
    """
    _check_rates(rates, masks)
    return _drop_per_level("layerwise", _magnitudes(weights, masks), masks, rates, masks)


def prune_global(weights: Mapping[str, np.ndarray], masks: Masks,
                 rates: Mapping[str, float]) -> Masks:
    """Removes the smallest surviving weights across layers with one threshold.

    Layers that share a rate are ranked together: with one rate for every layer
    this is classic global pruning; a layer with rate 0 is left alone, and a
    different rate for (say) the output layer gives it its own pool.

    Args/Returns/Raises: as `prune_layerwise`.
    """
    _check_rates(rates, masks)
    return _drop_per_level("global", _magnitudes(weights, masks), masks, rates, masks)


def match_by_scores(strategy: str, scores: Mapping[str, np.ndarray], target: Masks,
                    rates: Mapping[str, float], *, granularity: str | None = None,
                    chain=None, ties: str = "later") -> Masks:
    """Prunes the dense network in one shot by `scores` to `target`'s sparsity, at a granularity.

    Weight: each group of layers (as in `prune`) keeps as many weights as it
    does in `target`. Unit: each group keeps as many units as in `target`,
    then their outputs are cut. n:m: the pattern first, then as for weight.

    Args:
      strategy: "layerwise" or "global" (how layers are grouped).
      scores: per-weight scores shaped like the kernels, larger is better.
      target: the masks whose counts are matched.
      rates: per-layer rates (they form the groups; rate 0 layers stay dense
        under unit and n:m).
      granularity: None/"weight", "unit" or "n:m".
      chain: the model's (source, reader) layer pairs, needed for "unit".
      ties: which of equal scores is kept (see `selection.TIES`).

    Returns:
      New float32 0/1 masks with `target`'s keys and shapes.

    Raises:
      ConfigError: unknown strategy or granularity, a missing rate, no chain for "unit".
    """
    _check_strategy(strategy)
    _check_rates(rates, target)
    gran = granularity_lib.parse(granularity)
    dense = ones_like(target)
    if gran.kind == "unit":
        targets = {n: granularity_lib.unit_alive(target[n]) for n in target}

        def counts(groups, _alive):
            return selection.alive_counts(targets, groups)
        return _prune_units(strategy, scores, dense, rates, chain, counts)
    if gran.kind == "nm":
        dense = {n: (granularity_lib.nm_pattern(scores[n], dense[n], gran.n, gran.m)
                     if rates[n] > 0 else dense[n]) for n in dense}
    groups = selection.rank_groups(strategy, list(target), rates)
    return selection.keep_top(scores, dense, groups, selection.alive_counts(target, groups), ties)


def prune_to_match(strategy: str, weights: Mapping[str, np.ndarray], target: Masks,
                   rates: Mapping[str, float], *, granularity: str | None = None,
                   chain=None) -> Masks:
    """Prunes the dense network by magnitude in one shot to `target`'s sparsity.

    Layer-wise: each layer keeps as many weights as it does in `target`. Global:
    each group of layers sharing a rate (as in `prune_global`) keeps as many
    weights in total as it does in `target`, wherever the magnitudes put them.
    Other granularities: see `match_by_scores`.

    Raises:
      ConfigError: unknown strategy or a missing rate.
    """
    return match_by_scores(strategy, _magnitudes(weights, target), target, rates,
                           granularity=granularity, chain=chain)


# The only list of pruning strategy names: config checks, the at-init scopes
# (`scorers.to_masks.SCOPES`) and branch arguments read it.
STRATEGIES = {"layerwise": prune_layerwise, "global": prune_global}


def prune(strategy: str, weights: Mapping[str, np.ndarray], masks: Masks,
          rates: Mapping[str, float], *, granularity: str | None = None, chain=None) -> Masks:
    """One level of magnitude pruning by the named strategy, at a granularity.

    Args:
      strategy: "layerwise" or "global".
      weights: trained kernels by layer name.
      masks: current masks by layer name.
      rates: fraction of the survivors (weights, or units for "unit") removed per level.
      granularity: None or "weight" (unstructured), "unit", or "n:m" such as
        "2:4" (see `lottery_tf.pruning.granularity`).
      chain: (source, reader) layer pairs of the model; required for "unit"
        (`lottery_tf.models.unit_chain.unit_chain`).

    Returns:
      New masks; pruned weights stay pruned.

    Raises:
      ConfigError: unknown strategy or granularity, a bad rate, no chain for "unit".
    """
    _check_strategy(strategy)
    gran = granularity_lib.parse(granularity)
    if gran.kind == "weight":
        return STRATEGIES[strategy](weights, masks, rates)
    _check_rates(rates, masks)
    magnitudes = _magnitudes(weights, masks)
    if gran.kind == "unit":
        def counts(groups, alive):
            return [a - count_to_prune(a, rates[g[0]]) for g, a in zip(groups, alive, strict=True)]
        return _prune_units(strategy, magnitudes, masks, rates, chain, counts)
    return _prune_nm(strategy, magnitudes, masks, rates, gran)


def percent_remaining(masks: Masks) -> float:
    """Percent of the prunable weights still present."""
    total = sum(m.size for m in masks.values())
    kept = sum(float(m.sum()) for m in masks.values())
    return 100.0 * kept / total if total else 100.0


def percent_remaining_by_layer(masks: Masks) -> dict[str, float]:
    """Percent of each layer's weights still present."""
    return {name: 100.0 * float(m.sum()) / m.size for name, m in masks.items()}
