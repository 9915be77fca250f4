"""Whether a level's early-stop weights may be untrained, read from its stored metrics.json.

The early-stop weights are those of the lowest validation loss. When that is
the run's very first evaluation (the run early-stopped at its start step, or
every later validation loss lies above the first), the exported network holds
its starting weights, untrained by this level: the usual cause is a validation
split unlike the training data (e.g. a few hundred images of some classes only),
whose loss rises while the network learns the training data.
"""
import math
from collections.abc import Mapping

FINAL_HINT = "export the trained weights with --weights=final"


def _finite_losses(metrics: Mapping) -> list[tuple[int, float]]:
    """(step, validation loss) of each stored evaluation with a finite loss, in step order."""
    points = [(int(point["step"]), float(point["val_loss"])) for point in metrics.get("curve") or ()
              if point.get("val_loss") is not None and math.isfinite(float(point["val_loss"]))]
    return sorted(points)


def untrained_reasons(metrics: Mapping) -> list[str]:
    """Why the level's early-stop weights may be untrained; empty when they look trained.

    Args:
      metrics: the level's metrics.json content (`early_stop_step`, `start_step`, `curve`).

    Returns:
      Zero, one or two reasons, each a clause for a sentence.
    """
    reasons = []
    start = metrics.get("start_step")
    early_stop = metrics.get("early_stop_step")
    if start is not None and early_stop is not None and int(early_stop) == int(start):
        reasons.append(f"the run early-stopped at step {int(early_stop)}, the step it started at")
    losses = _finite_losses(metrics)
    if len(losses) >= 2 and all(loss > losses[0][1] for _, loss in losses[1:]):
        reasons.append(f"its validation loss rose from the first evaluation (step {losses[0][0]}: "
                       f"{losses[0][1]:.4g}) and stayed above it at all {len(losses) - 1} later ones")
    return reasons


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
