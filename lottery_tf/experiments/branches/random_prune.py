"""`random_prune`: a random mask of the level's sparsity, trained from the rewind point."""
import numpy as np

from lottery_tf.experiments.branches.context import BranchContext
from lottery_tf.pruning import random_masks


def random_prune(ctx: BranchContext) -> dict:
    """Trains a random mask with the level's per-layer counts (layer-wise trunk) or total
    count (global trunk), from the trunk's rewind point.

    Returns:
      The run's metrics.
    """
    setup = ctx.setup
    rng = np.random.default_rng(ctx.seed + ctx.level)
    masks = random_masks.random_like(ctx.trunk_mask, setup.config.pruning.strategy, rng,
                                     granularity=setup.granularity, rates=setup.layer_rates,
                                     chain=setup.chain)
    return ctx.run(masks, ctx.unmasked_start_weights())
