"""Random masks with the same sparsity as a given mask (the random-pruning control)."""
from collections.abc import Mapping

import numpy as np

from lottery_tf.pruning import granularity as granularity_lib
from lottery_tf.pruning import selection
from lottery_tf.pruning.masks import Masks, match_by_scores


def _sampled(masks: Masks, groups: list[list[str]], rng: np.random.Generator) -> Masks:
    """Per group, a uniformly random set of as many positions as the group keeps now."""
    scores = {}
    for group in groups:
        sizes = [masks[n].size for n in group]
        chosen = rng.choice(sum(sizes), size=int(sum(masks[n].sum() for n in group)), replace=False)
        joined = selection.indicator_scores((sum(sizes),), chosen)
        offset = 0
        for name, size in zip(group, sizes, strict=True):
            scores[name] = joined[offset:offset + size].reshape(masks[name].shape)
            offset += size
    dense = {name: np.ones(mask.shape, dtype=bool) for name, mask in masks.items()}
    return selection.keep_top(scores, dense, groups, selection.alive_counts(masks, groups))


def random_like_layerwise(masks: Masks, rng: np.random.Generator) -> Masks:
    """A random mask keeping exactly as many weights in each layer as `masks` does."""
    return _sampled(masks, [[name] for name in masks], rng)


def random_like_global(masks: Masks, rng: np.random.Generator) -> Masks:
    """A random mask keeping as many weights in total as `masks`, placed anywhere."""
    return _sampled(masks, [list(masks)], rng)


def random_like(masks: Masks, strategy: str, rng: np.random.Generator, *,
                granularity: str | None = None, rates: Mapping[str, float] | None = None,
                chain=None) -> Masks:
    """The random control of a trunk mask at its granularity.

    - weight: `random_like_global` for a global trunk, else `random_like_layerwise`.
    - unit: in every layer that loses units, as many units as `masks` keeps
      there, chosen uniformly at random; their outputs are cut along `chain`.
      Per layer for both strategies: in a plain chain equal unit counts give
      equal weight counts, which a global draw of units would not.
    - n:m: uniformly random weights of the n:m pattern, with `masks`' counts per
      layer (layer-wise) or per group of layers sharing a rate (global).

    Args:
      masks: the trunk's masks.
      strategy: the trunk's "layerwise" or "global".
      rng: the randomness.
      granularity: None/"weight", "unit" or "n:m".
      rates: per-layer rates (needed for unit and n:m).
      chain: the model's (source, reader) pairs (needed for unit).

    Returns:
      Float32 0/1 masks with `masks`' keys and shapes.
    """
    gran = granularity_lib.parse(granularity)
    if gran.kind == "weight":
        return (random_like_global if strategy == "global" else random_like_layerwise)(masks, rng)
    scores = {name: rng.uniform(size=mask.shape) for name, mask in masks.items()}
    return match_by_scores("layerwise" if gran.kind == "unit" else strategy, scores, masks, rates,
                           granularity=str(gran), chain=chain, ties="earlier")
