"""Early-bird tickets (You et al., ICLR 2020): when have the masks drawn during training settled?

During a level's training the mask the next pruning would draw is drawn from the
current weights every few iterations. Consecutive draws are compared by their
normalized Hamming distance; once the last `window` distances all fall under a
threshold, the ranking has settled and training can stop there (the paper: a FIFO
of 5 distances, threshold 0.1).

The distance is normalized by the weights the level's mask keeps, not by every
entry: entries pruned at earlier levels agree in every draw, and counting them
would let a deep level look settled however much its survivors' ranking moves.
At level 0 (dense) the two normalizations are the same, the paper's.
"""
from collections.abc import Mapping, Sequence

import numpy as np

DEFAULT_WINDOW = 5  # the paper's FIFO length
DEFAULT_CHECK_EVERY = "1ep"  # the paper draws once per epoch


def mask_distance(first: Mapping[str, np.ndarray], second: Mapping[str, np.ndarray],
                  alive: Mapping[str, np.ndarray]) -> float:
    """The fraction of the weights `alive` keeps on which masks `first` and `second` differ.

    Args:
      first, second: layer name -> 0/1 mask, two draws.
      alive: layer name -> the level's own mask (what either draw could keep).

    Returns:
      A number in [0, 1]; 0 when `alive` keeps nothing.
    """
    differing = sum(int(np.count_nonzero((first[name] != 0) != (second[name] != 0))) for name in alive)
    kept = sum(int(np.count_nonzero(mask)) for mask in alive.values())
    return differing / kept if kept else 0.0


def settled(distances: Sequence[float], window: int, threshold: float) -> bool:
    """Whether the last `window` distances are all under `threshold` (fewer never settle)."""
    return len(distances) >= window and max(distances[-window:]) < threshold
