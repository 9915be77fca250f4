"""The one selection routine of every pruning method: scores in, the top k of each group out.

A *group* is a list of layers ranked together: each layer alone (layer-wise),
or the layers sharing a pruning rate (global). Within a group the layers'
scores are joined into one vector, the `k` best-scored entries that are still
alive are kept, and the result is split back into one 0/1 array per layer.
Magnitude pruning (scores |w|), the random control, and the pruning-at-init
scorers (SNIP, GraSP, SynFlow, magnitude, random) all come through here, at
every granularity: unit granularity passes one score per unit instead of one
per weight. Nothing here knows about TensorFlow.
"""
from collections.abc import Mapping, Sequence

import numpy as np

Arrays = dict[str, np.ndarray]

# Which of two equal scores is kept: the earlier position ("earlier"), or the
# later one ("later", i.e. the earlier one is dropped first). Magnitude pruning
# has always dropped the earlier of two equal magnitudes, the at-init scorers
# have always kept the earlier of two equal scores; both stay as they were so
# that stored masks are reproduced bit for bit.
TIES = ("earlier", "later")


def rank_groups(strategy: str, names: Sequence[str], rates: Mapping[str, float]) -> list[list[str]]:
    """Layers ranked together: each alone (layer-wise), or those sharing a rate (global).

    Args:
      strategy: "layerwise" or "global".
      names: layer names in model order.
      rates: the rate of each layer; global groups are formed by equal rates,
        in increasing rate order (layers in model order within a group).

    Returns:
      A list of groups, each a list of layer names.
    """
    if strategy == "layerwise":
        return [[name] for name in names]
    return [[name for name in names if rates[name] == rate]
            for rate in sorted(set(rates[name] for name in names))]


def keep_top_flat(scores: np.ndarray, alive: np.ndarray, count: int, ties: str = "earlier") -> np.ndarray:
    """Flat bool: the `count` alive entries with the largest scores (stable, deterministic).

    Args:
      scores: flat scores, larger is better.
      alive: flat bool, the entries that may be kept.
      count: how many to keep, clipped to [0, alive count].
      ties: which of two equal scores is kept (see `TIES`).

    Returns:
      A new flat bool array with exactly `count` (clipped) True entries, all alive.
    """
    if ties not in TIES:
        raise ValueError(f"ties must be one of {TIES}, got {ties!r}.")
    alive_index = np.flatnonzero(alive)
    count = min(max(int(count), 0), alive_index.size)
    kept = np.zeros(alive.shape, dtype=bool)
    if ties == "earlier":
        order = np.argsort(-scores[alive_index], kind="stable")
        kept[alive_index[order[:count]]] = True
    else:
        order = np.argsort(scores[alive_index], kind="stable")
        kept[alive_index[order[order.size - count:]]] = True
    return kept


def keep_top(scores: Mapping[str, np.ndarray], alive: Mapping[str, np.ndarray],
             groups: Sequence[Sequence[str]], counts: Sequence[int], ties: str = "earlier") -> Arrays:
    """Keeps, in each group of layers, its `count` best-scored alive entries.

    Args:
      scores: layer -> scores (any shape; larger is better).
      alive: layer -> array shaped like its scores, nonzero where still alive.
      groups: lists of layer names ranked together (see `rank_groups`).
      counts: entries to keep per group, in the order of `groups`.
      ties: which of two equal scores is kept (see `TIES`).

    Returns:
      layer -> float32 0/1 array shaped like its scores, for every grouped layer.
      Dead entries stay dead.
    """
    new: Arrays = {}
    for group, count in zip(groups, counts, strict=True):
        flat_scores = np.concatenate([np.asarray(scores[n]).reshape(-1) for n in group])
        flat_alive = np.concatenate([np.asarray(alive[n]).reshape(-1) > 0 for n in group])
        kept = keep_top_flat(flat_scores, flat_alive, count, ties)
        offset = 0
        for name in group:
            size = np.size(alive[name])
            new[name] = kept[offset:offset + size].reshape(np.shape(alive[name])).astype(np.float32)
            offset += size
    return new


def alive_counts(alive: Mapping[str, np.ndarray], groups: Sequence[Sequence[str]]) -> list[int]:
    """How many entries of each group are alive (nonzero)."""
    return [int(sum(int((np.asarray(alive[n]) > 0).sum()) for n in group)) for group in groups]


def indicator_scores(shape: Sequence[int], chosen: np.ndarray) -> np.ndarray:
    """Scores that are 1 at the flat positions `chosen` and 0 elsewhere.

    Keeping the top `len(chosen)` of them keeps exactly `chosen`: how a sample
    drawn by index (the random control) goes through `keep_top`.
    """
    scores = np.zeros(int(np.prod(shape)), dtype=np.float32)
    scores[chosen] = 1.0
    return scores.reshape(tuple(shape))
