"""Whether a level's early-stop weights may be untrained, read from its stored metrics.json.

The early-stop weights are those of the lowest validation loss. When that is
the run's very first evaluation (the run early-stopped at its start step, or
every later validation loss lies above the first), the exported network holds
its starting weights, untrained by this level: the usual cause is a validation
split unlike the training data (e.g. a few hundred images of some classes only),
whose loss rises while the network learns the training data.
"""
from collections.abc import Mapping

from lottery_tf.storage.untrained_signs import untrained_reasons

FINAL_HINT = "export the trained weights with --weights=final"


def untrained_warnings(metrics: Mapping, weights: str) -> list[str]:
    """The one-line warning `export` prints (and records) for degenerate early-stop weights.

    Only the early-stop weights are judged: the final weights are trained whatever
    the validation loss did.

    Args:
      metrics: the level's metrics.json content.
      weights: `early_stop` or `final`, the weights exported.

    Returns:
      An empty list, or one line starting with "warning:".
    """
    reasons = untrained_reasons(metrics) if weights == "early_stop" else []
    if not reasons:
        return []
    return [f"warning: the exported early-stop weights may be untrained: {' and '.join(reasons)}; "
            f"the validation split may not represent the training data; {FINAL_HINT}."]
