"""`rewind_sweep`: the ticket retrained from several rewind points of the dense run."""
import os

from lottery_tf.experiments.branches.context import BranchContext, dense_weights_at, headline
from lottery_tf.storage.paths import RunFiles


def rewind_sweep(ctx: BranchContext) -> dict:
    """Retrains this level's mask from the dense run's weights at each of `points`.

    Returns:
      The summary: what names the branch, and `by_rewind_step` (step -> headline numbers).

    Raises:
      ConfigError: a point is not a duration, or at or past the end of training.
    """
    results = {}
    for text in ctx.args["points"].split(","):
        point, rewound = dense_weights_at(ctx, text)
        results[str(point)] = ctx.run(ctx.trunk_mask, rewound, start_step=point,
                                      files=RunFiles(os.path.join(ctx.files.dir, f"rewind_{point}")),
                                      label=f"rewind_{point}", extra={"rewind_step": point})
    return ctx.summary(ctx.trunk_mask,
                       by_rewind_step={step: headline(m) for step, m in results.items()})
