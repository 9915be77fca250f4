"""`reinit_sign`: the mask, fresh magnitudes, the ticket's signs (Zhou et al. 2019)."""
import numpy as np

from lottery_tf.experiments.branches.context import BranchContext
from lottery_tf.experiments.masked_run import fresh_weights


def reinit_sign(ctx: BranchContext) -> dict:
    """Trains the trunk mask from fresh magnitudes carrying the ticket's signs.

    Returns:
      The run's metrics.
    """
    ticket = ctx.unmasked_start_weights()
    fresh = fresh_weights(ctx.setup, ctx.seed)
    weights = dict(ticket)
    for layer in ctx.trunk_mask:
        name = ctx.setup.weight_keys[layer]
        # Zero-valued ticket weights (none in practice) would lose their sign; keep them positive.
        weights[name] = np.abs(fresh[name]) * np.where(ticket[name] < 0, -1.0, 1.0).astype(np.float32)
    return ctx.run(ctx.trunk_mask, weights)
