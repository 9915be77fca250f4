"""`reinit`: the level's mask on a fresh random initialization (a new recorded seed)."""
from lottery_tf.experiments.branches.context import BranchContext
from lottery_tf.experiments.masked_run import fresh_weights


def reinit(ctx: BranchContext) -> dict:
    """Trains the trunk mask from the branch seed's initialization (Frankle & Carbin's control).

    Returns:
      The run's metrics.
    """
    return ctx.run(ctx.trunk_mask, fresh_weights(ctx.setup, ctx.seed))
