"""`shuffle_mask`: each layer's mask permuted in place, trained from the rewind point."""
import numpy as np

from lottery_tf.experiments.branches.context import BranchContext
from lottery_tf.pruning import granularity as granularity_lib


def shuffle_mask(ctx: BranchContext) -> dict:
    """Trains each layer's mask permuted in place (unit: its units; n:m: inside each group of m).

    Returns:
      The run's metrics.
    """
    rng = np.random.default_rng(ctx.seed + ctx.level)
    masks = granularity_lib.shuffle(ctx.trunk_mask, ctx.setup.granularity, rng, ctx.setup.chain)
    return ctx.run(masks, ctx.unmasked_start_weights())
