"""How many weights the first levels keep, computed by the pruning code itself.

Each level is pruned by `pruning.masks.prune`, as the trunk prunes it
(`experiments.lottery.level_masks`), but from the model's initial weights, since
the trained ones do not exist yet. Layer-wise, how many weights a level removes
from each layer does not depend on their values (only which ones go does), so
every weight's counts are the run's. Global pruning ranks the weights that share
a rate together: how the pool's loss splits between them depends on the trained
magnitudes, so only the pool's total is the run's (exactly so at weight and n:m
granularity; at unit granularity units of different sizes make it approximate).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from lottery_tf.pruning import masks as mask_lib


@dataclasses.dataclass(frozen=True)
class LevelCounts:
    """The surviving weights of each mask entry after one level."""

    level: int
    kept: dict[str, int]
    sizes: dict[str, int]

    def percent_of(self, entries) -> float:
        """Percent of the weights of `entries` still present (100 when they hold none)."""
        entries = list(entries)
        total = sum(self.sizes[entry] for entry in entries)
        return 100.0 * sum(self.kept[entry] for entry in entries) / total if total else 100.0


def first_levels(kernels: Mapping[str, np.ndarray], rates: Mapping[str, float], strategy: str,
                 count: int, granularity: str | None = None, chain=None) -> list[LevelCounts]:
    """The counts after levels 1..`count`, each level pruned from the previous level's mask.

    Args:
      kernels: mask entry -> initial weights (every entry the run masks, rate 0 included).
      rates: mask entry -> pruning rate (`Setup.layer_rates`).
      strategy: `pruning.strategy`, "layerwise" or "global".
      count: how many levels.
      granularity: `pruning.granularity` as text (None: weight).
      chain: the model's (source, reader) layer pairs, for unit granularity.

    Returns:
      One `LevelCounts` per level, in order.

    Raises:
      ConfigError: as `pruning.masks.prune`.
    """
    sizes = {entry: int(np.size(kernel)) for entry, kernel in kernels.items()}
    masks = mask_lib.ones_like(kernels)
    levels = []
    for level in range(1, count + 1):
        masks = mask_lib.prune(strategy, kernels, masks, rates, granularity=granularity, chain=chain)
        kept = {entry: int(np.count_nonzero(mask)) for entry, mask in masks.items()}
        levels.append(LevelCounts(level, kept, sizes))
    return levels
