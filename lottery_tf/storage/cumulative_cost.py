"""What a whole procedure cost to produce a run: its own training plus the training behind its mask.

A stored run records its own cost (`train_iterations`, `train_flops_dense`,
`train_flops_sparse`; `training.cost`). A ticket's price is more than that: IMP's
level L needed levels 0..L-1 to find its mask. The cumulative cost of a run off
trunk level L (the trunk level itself, or a branch off it) is

    cost of what produced its mask (its `mask_from`) + its own training,

where `mask_from` is one of

- ``trunk``: the trunk levels 0..L-1 that pruned down to level L's mask (trunk
  levels, and every branch that uses or permutes that mask: reinit, lmc, ...);
- ``dense``: trunk level 0, the dense training the mask was pruned from (one_shot);
- ``none``: no training chose the mask (random_prune, prune_at_init); what is
  charged is the dense training up to the run's start step, which produced its
  starting weights (nothing when it starts from the initialization, step 0).

Pure: metrics dicts in, `Cost` out, no TensorFlow, so the runs (which write the
cumulative fields) and the report (which computes them for runs stored before
they were recorded) add up the same way. An unknown part makes the sum unknown
(None), never silently smaller.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping

TRUNK = "trunk"
DENSE = "dense"
NONE = "none"
MASK_SOURCES = (TRUNK, DENSE, NONE)

# The built-in branches' mask sources, for branch runs stored before `mask_from` was
# recorded in metrics.json (a frozen record of history; new runs record their own).
_STORED_BEFORE_MASK_FROM = {
    "reinit": TRUNK, "reinit_sign": TRUNK, "shuffle_mask": TRUNK, "init_eval": TRUNK,
    "rewind_sweep": TRUNK, "lmc": TRUNK, "retrain": TRUNK,
    "one_shot": DENSE, "random_prune": NONE, "prune_at_init": NONE,
}

# metrics.json keys: a run's own cost, and the cumulative cost of the procedure behind it.
OWN_KEYS = ("train_iterations", "train_flops_dense", "train_flops_sparse")
CUMULATIVE_KEYS = ("cumulative_train_iterations", "cumulative_train_flops_dense",
                   "cumulative_train_flops_sparse")


def _add(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a + b


@dataclasses.dataclass(frozen=True)
class Cost:
    """Training iterations and estimated training FLOPs (dense-equivalent and sparse).

    A None field is unknown (a run stored before it was recorded).
    """

    iterations: float | None
    flops_dense: float | None
    flops_sparse: float | None

    def __add__(self, other: Cost) -> Cost:
        return Cost(_add(self.iterations, other.iterations), _add(self.flops_dense, other.flops_dense),
                    _add(self.flops_sparse, other.flops_sparse))

    def scaled(self, factor: float) -> Cost:
        """This cost times `factor` (unknown fields stay unknown)."""
        return Cost(*(None if value is None else value * factor for value in dataclasses.astuple(self)))

    def as_metrics(self) -> dict[str, float | None]:
        """The `CUMULATIVE_KEYS` entries of metrics.json."""
        return dict(zip(CUMULATIVE_KEYS, dataclasses.astuple(self), strict=True))


ZERO = Cost(0.0, 0.0, 0.0)
UNKNOWN = Cost(None, None, None)


def own_cost(run: Mapping | None) -> Cost:
    """A stored run's own training cost.

    Iterations missing from older runs are taken from their start and end (or last
    evaluated) steps; FLOPs missing cannot be recovered without the model: unknown.
    """
    if run is None:
        return UNKNOWN
    iterations = run.get("train_iterations")
    if iterations is None and run.get("start_step") is not None:
        end = run.get("end_step", run.get("final_step"))
        iterations = None if end is None else end - run["start_step"]
    return Cost(None if iterations is None else float(iterations),
                run.get("train_flops_dense"), run.get("train_flops_sparse"))


def stored_cumulative(run: Mapping) -> Cost | None:
    """The cumulative cost a run recorded, or None for a run stored before it was recorded."""
    if not all(key in run for key in CUMULATIVE_KEYS):
        return None
    return Cost(*(run[key] for key in CUMULATIVE_KEYS))


def mask_from(run: Mapping) -> str | None:
    """A stored run's mask source: its record, else trunk for trunk levels and the built-in
    branches' sources for older branch runs; None for an older run of an unknown branch."""
    if run.get("mask_from") is not None:
        return run["mask_from"]
    if run.get("branch") is None:
        return TRUNK
    return _STORED_BEFORE_MASK_FROM.get(run["branch"])


def trunk_cost_through(trunk: Mapping[int, Mapping], level: int) -> Cost:
    """The cumulative cost of trunk levels 0..`level` (ZERO below level 0).

    Args:
      trunk: level -> the replicate's trunk metrics (a missing level is unknown).
      level: the last level counted.
    """
    total = ZERO
    for current in range(level, -1, -1):  # from the top: a recorded cumulative ends the walk
        run = trunk.get(current)
        recorded = None if run is None else stored_cumulative(run)
        if recorded is not None:
            return total + recorded
        total = total + own_cost(run)
    return total


def prior_cost(source: str | None, level: int, start_step: int, trunk: Mapping[int, Mapping]) -> Cost:
    """What produced the mask (and, for `none`, the starting weights) of a run off trunk `level`.

    Args:
      source: the run's `mask_from` (None: unknown).
      level: the trunk level the run belongs to or branches off.
      start_step: the global step the run starts at.
      trunk: level -> the replicate's trunk metrics.

    Raises:
      ValueError: an unknown source name.
    """
    if source is None:
        return UNKNOWN
    if source == TRUNK:
        return trunk_cost_through(trunk, level - 1)
    if source == DENSE:
        return own_cost(trunk.get(0))
    if source != NONE:
        raise ValueError(f"mask_from must be one of {MASK_SOURCES}, got {source!r}.")
    if start_step <= 0:
        return ZERO
    dense = own_cost(trunk.get(0))  # its starting weights: level 0 at `start_step`
    if not dense.iterations:
        return UNKNOWN
    return dense.scaled(start_step / dense.iterations)


def cumulative_cost(run: Mapping, trunk: Mapping[int, Mapping]) -> Cost:
    """A stored run's cumulative cost: as recorded, else computed from the trunk's metrics.

    Args:
      run: the run's metrics (a trunk level's or a branch run's; `level` and
        `start_step` say where it sits).
      trunk: level -> the same replicate's trunk metrics.
    """
    recorded = stored_cumulative(run)
    if recorded is not None:
        return recorded
    return prior_cost(mask_from(run), int(run.get("level", 0)), int(run.get("start_step") or 0),
                      trunk) + own_cost(run)
