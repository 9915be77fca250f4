"""`full_ticket`: the full training a level cut short to rank weights skipped.

With short levels or early-bird (`intermediate_steps`, `early_bird.threshold`)
only the last level trains fully. This branch trains the mask of any earlier,
cut-short level exactly as that last level would have been trained (from the
rewind point, in the replicate's data order, for the whole schedule), so one
experiment run to its sparsest target gives a ticket at every sparsity it passes:
with the same seed it reproduces, bit for bit, the last level of an experiment
that stopped at this level. Its cost is the trunk's levels below plus its own
training, the same as that experiment's.
"""
from lottery_tf.errors import ConfigError
from lottery_tf.experiments.branches.context import BranchContext
from lottery_tf.experiments.retraining import retrain_mode
from lottery_tf.report.aggregate import TRUNK_TICKET
from lottery_tf.storage import store


def full_ticket(ctx: BranchContext) -> dict:
    """Trains this cut-short level's mask from the rewind point for the full schedule.

    Returns:
      The run's metrics.

    Raises:
      ConfigError: the trunk does not rewind weights, or this level trained fully
        already (its ticket is the trunk level itself).
    """
    mode = retrain_mode(ctx.setup.config)
    if mode != "weight_rewind":
        raise ConfigError(f"full_ticket trains a level's mask from the rewind point, as a weight-"
                          f"rewinding trunk does; this experiment retrains by {mode}.")
    trunk = store.read_json(ctx.setup.paths.metrics(ctx.replicate, ctx.level))
    if not trunk.get("short_level"):
        raise ConfigError(f"Level {ctx.level} of replicate {ctx.replicate} trained fully: its ticket is "
                          "the trunk level itself. full_ticket is for levels cut short to rank weights "
                          "(intermediate_steps or early_bird).")
    return ctx.run(ctx.trunk_mask, ctx.unmasked_start_weights(), extra={TRUNK_TICKET: True})
