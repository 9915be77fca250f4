"""Signs, in one stored run's metrics.json, that its early-stop weights are untrained.

The early-stop weights are those of the lowest validation loss. When that is the
run's very first evaluation, the network it reports at early stop holds its
starting weights: the run early-stopped at its start step, or every later
validation loss lies above the first. The usual cause is a validation split unlike
the training data (a few classes only), whose loss rises while the network learns
the training data, or a learning rate so high that training diverges at once.

One test for every reader of stored runs: `export` (warns before exporting such
weights) and the console and report tables (`report/degenerate.py`, whole levels).
Pure: reads the metrics given, no files.
"""
import math
from collections.abc import Mapping

# The signs, as keys of `untrained_signs`.
EARLY_STOP_AT_START = "early_stop_at_start"
VALIDATION_LOSS_ROSE = "validation_loss_rose"


def _finite_losses(metrics: Mapping) -> list[tuple[int, float]]:
    """(step, validation loss) of each stored evaluation with a finite loss, in step order."""
    points = [(int(point["step"]), float(point["val_loss"])) for point in metrics.get("curve") or ()
              if point.get("val_loss") is not None and math.isfinite(float(point["val_loss"]))]
    return sorted(points)


def untrained_signs(metrics: Mapping) -> dict[str, str]:
    """The signs that the run's early-stop weights are its untrained starting weights.

    Args:
      metrics: one run's metrics.json content (`early_stop_step`, `start_step`, `curve`);
        a run that lacks them (an interpolation path) shows no sign.

    Returns:
      Sign (`EARLY_STOP_AT_START`, `VALIDATION_LOSS_ROSE`) -> a clause for a sentence
      with the run's numbers; empty when the weights look trained.
    """
    signs = {}
    start = metrics.get("start_step")
    early_stop = metrics.get("early_stop_step")
    # A run that trains no step (init_eval) did not early-stop: it only evaluated its start.
    trained = int(metrics.get("final_step", (start or 0) + 1)) > int(start or 0)
    if start is not None and early_stop is not None and int(early_stop) == int(start) and trained:
        signs[EARLY_STOP_AT_START] = (f"the run early-stopped at step {int(early_stop)}, "
                                      "the step it started at")
    losses = _finite_losses(metrics)
    if len(losses) >= 2 and all(loss > losses[0][1] for _, loss in losses[1:]):
        signs[VALIDATION_LOSS_ROSE] = (
            f"its validation loss rose from the first evaluation (step {losses[0][0]}: "
            f"{losses[0][1]:.4g}) and stayed above it at all {len(losses) - 1} later ones")
    return signs


def untrained_reasons(metrics: Mapping) -> list[str]:
    """Why the run's early-stop weights may be untrained (`untrained_signs`' clauses).

    Args:
      metrics: one run's metrics.json content.

    Returns:
      Zero, one or two clauses; empty when the weights look trained.
    """
    return list(untrained_signs(metrics).values())
