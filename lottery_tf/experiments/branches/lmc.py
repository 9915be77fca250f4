"""`lmc`: linear mode connectivity (instability, Frankle et al. 2020).

Two copies of the ticket are trained on different data orders, and the test
error is measured along the straight line between the trained copies.
"""
import os

import tf_keras as keras

from lottery_tf.analysis import lmc as lmc_lib
from lottery_tf.experiments.branches.context import BranchContext, dense_weights_at, headline
from lottery_tf.experiments.masked_run import build_wrapped
from lottery_tf.pruning import tfmot_adapter
from lottery_tf.storage import store
from lottery_tf.storage.paths import RunFiles
from lottery_tf.training.evaluation import Evaluator


def lmc(ctx: BranchContext) -> dict:
    """Instability: two copies from the ticket's start, different data orders, then the
    test error at `points` evenly spaced points on the line between the trained copies.

    With a `start` argument (`500it`), both copies start from the dense run's
    weights at that step instead (this level's mask applied), so lmc runs with
    several starts give instability against the rewind point.

    Returns:
      The summary: what names the branch, `start_step`, both copies' headline
      numbers and the path (`analysis.lmc.lmc_summary`).

    Raises:
      ConfigError: `start` is not a duration, or at or past the end of training.
    """
    setup = ctx.setup
    masks = ctx.trunk_mask
    if "start" in ctx.args:
        start_step, start = dense_weights_at(ctx, ctx.args["start"])
    else:
        start_step, start = ctx.start_step, ctx.unmasked_start_weights()
    copies, trained = [], []
    for index in (1, 2):
        files = RunFiles(os.path.join(ctx.files.dir, f"copy_{index}"))
        copies.append(ctx.run(masks, start, start_step=start_step, seed=ctx.seed + index, files=files,
                              label=f"copy_{index}"))
        trained.append(store.load_arrays(files.weights_end))
    keras.backend.clear_session()
    with setup.strategy.scope():
        model = build_wrapped(setup, ctx.seed)
        tfmot_adapter.set_masks(model, masks)
    evaluator = Evaluator(model, setup.strategy, setup.splits, setup.config.runtime.eval_batch_size)

    def test_error(weights):
        tfmot_adapter.set_weights(model, weights)
        return 1.0 - evaluator.evaluate("test")[1]

    curve = lmc_lib.error_curve(trained[0], trained[1], test_error, int(ctx.args["points"]))
    return ctx.summary(masks, start_step=start_step, copies=[headline(m) for m in copies],
                       **lmc_lib.lmc_summary(curve))
