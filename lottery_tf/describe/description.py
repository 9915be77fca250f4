"""`describe`: what an experiment will prune and how long it will take, before it runs.

The experiment is resolved as the run resolves it (`experiments.setup.prepare`,
the same checks and the same data), but its folder is not claimed: nothing is
written under the root. The result is plain data (`Description`); `text`
prints it.
"""
from __future__ import annotations

import dataclasses

import ml_collections
import numpy as np
import tensorflow as tf

from lottery_tf.describe.levels import LevelCounts, first_levels
from lottery_tf.describe.timing import LevelCost, StepTiming, jit_choice, level_costs, time_step
from lottery_tf.describe.weights import DenseRow, PrunedRow, weight_rows
from lottery_tf.experiments.model import build_experiment_model
from lottery_tf.experiments.setup import prepare
from lottery_tf.models.prunable import entry_variables
from lottery_tf.storage import files as storage_files

# The first levels shown: enough to see the rates at work, cheap for any model.
SHOWN_LEVELS = 3


@dataclasses.dataclass(frozen=True)
class Description:
    """An experiment described before it runs.

    Attributes:
      model, dataset: the config's names.
      experiment_dir: the experiment's folder under the root (not created).
      experiment_exists: whether that folder exists already (results stored before).
      strategy, granularity: how levels prune (`pruning.strategy`, `pruning.granularity`).
      levels: the config's pruned levels.
      jit_compile, jit_reason: whether the training step is XLA-compiled, and why.
      total_params: every parameter of the model (Keras' count).
      pruned, dense: every weight, pruned or left dense (with the reason).
      levels_shown: the counts after the first levels (mask entries, rate 0 included).
      notes: what the numbers cannot say.
      timing: the measured step (None: not timed).
      costs: the estimated time of level 0 and of each pruned level.
    """

    model: str
    dataset: str
    experiment_dir: str
    experiment_exists: bool
    strategy: str
    granularity: str
    levels: int
    jit_compile: bool
    jit_reason: str
    total_params: int
    pruned: list[PrunedRow]
    dense: list[DenseRow]
    levels_shown: list[LevelCounts]
    notes: list[str]
    timing: StepTiming | None = None
    costs: list[LevelCost] = dataclasses.field(default_factory=list)

    @property
    def pruned_params(self) -> int:
        """Parameters in pruned weights."""
        return sum(row.count for row in self.pruned)

    @property
    def dense_params(self) -> int:
        """Parameters never pruned."""
        return sum(row.count for row in self.dense)

    def percent_of_pruned(self) -> list[float]:
        """Percent of the pruned weights left after each shown level."""
        return [level.percent_of(row.entry for row in self.pruned) for level in self.levels_shown]

    def percent_as_reported(self) -> list[float]:
        """Percent left after each shown level as runs report it (of every masked weight)."""
        return [level.percent_of(level.sizes) for level in self.levels_shown]

    def percent_of_all(self) -> list[float]:
        """Percent of all parameters left after each shown level."""
        return [100.0 * (self.total_params - sum(level.sizes.values()) + sum(level.kept.values()))
                / self.total_params for level in self.levels_shown]

    def experiment_seconds(self) -> float | None:
        """Estimated seconds of every level of one replicate (None: not timed)."""
        if not self.costs:
            return None
        return self.costs[0].seconds + sum(cost.seconds for cost in self.costs[1:]) * self.levels


def _notes(config: ml_collections.ConfigDict, granularity: str, timed: bool) -> list[str]:
    notes = []
    if config.pruning.strategy == "global":
        exact = "approximate: units differ in size" if granularity == "unit" else "exact"
        notes.append("global pruning ranks the weights sharing a rate together: how much each "
                     "weight keeps depends on the trained magnitudes, unknown before training; "
                     f"the totals are the pool's ({exact}).")
    if not timed:
        notes.append("the training step was not timed (--timed_steps=0, or a multi_worker "
                     "strategy, whose step needs every worker).")
    return notes


def describe(config: ml_collections.ConfigDict, root: str, strategy: tf.distribute.Strategy,
             timed_steps: int = 10, shown_levels: int = SHOWN_LEVELS) -> Description:
    """Describes the experiment `config` makes under `root`, writing nothing.

    Args:
      config: the experiment config (checked here as the run checks it).
      root: the folder that holds all experiments (only read).
      strategy: the distribution strategy the run would use.
      timed_steps: training steps to time after the warm-up; 0 skips the timing.
      shown_levels: the most pruned levels to show (fewer if the config has fewer).

    Returns:
      The `Description`.

    Raises:
      ConfigError: a bad config value (the run's own message).
      DataError: the dataset is missing or corrupt.
    """
    setup = prepare(config, root, strategy, quiet=True, claim=False)
    model = build_experiment_model(config, spec=setup.spec)
    kernels = {entry: np.asarray(variable.numpy()) for entry, variable in entry_variables(model).items()
               if entry in setup.layer_kinds}
    levels = first_levels(kernels, setup.layer_rates, config.pruning.strategy,
                          min(config.levels, shown_levels), setup.granularity, setup.chain)
    pruned, dense = weight_rows(model, setup, levels)
    timed = timed_steps > 0 and not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
    timing = time_step(setup, timed_steps) if timed else None
    jit_compile, jit_reason = jit_choice(setup)
    return Description(
        model=config.model.name, dataset=config.dataset.name, experiment_dir=setup.paths.dir,
        experiment_exists=storage_files.exists(setup.paths.dir), strategy=config.pruning.strategy,
        granularity=setup.granularity, levels=config.levels,
        jit_compile=jit_compile, jit_reason=jit_reason, total_params=int(model.count_params()),
        pruned=pruned, dense=dense, levels_shown=levels,
        notes=_notes(config, setup.granularity, timed), timing=timing,
        costs=level_costs(setup, timing) if timing else [])
