"""`init_eval`: the masked network evaluated before any training."""
from lottery_tf.experiments.branches.context import BranchContext


def init_eval(ctx: BranchContext) -> dict:
    """Evaluates the ticket at its starting weights (a run that ends where it starts).

    Returns:
      The run's metrics.
    """
    return ctx.run(ctx.trunk_mask, ctx.unmasked_start_weights(), end_step=ctx.start_step)
