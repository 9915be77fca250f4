"""How long a level will take: the run's own training step timed, then multiplied out.

The trainer is built as every run builds it (`masked_run.build_trainer`: the
wrapped model, the optimizer, the XLA choice, the in-memory or streamed input),
trained a few steps to trace and compile the step, then timed over a few more.
A level's estimate is its steps times that step time, plus its evaluation
passes (validation at every evaluation, test where one is due) at their
measured time, or, when measuring them would itself take long, at an estimate:
a forward pass costs about a third of a training step per example
(`training.cost`). Not counted: checkpoints, pruning between levels, and
deferred test passes (one per new best validation loss between test steps).
"""
from __future__ import annotations

import dataclasses
import time

from lottery_tf.experiments.masked_run import build_trainer, run_loop_spec
from lottery_tf.experiments.retraining import pruned_level_steps
from lottery_tf.experiments.setup import Setup
from lottery_tf.training.cost import FLOPS_PER_WEIGHT_USE
from lottery_tf.training.strategies import xla_supported

WARMUP_STEPS = 3
# Evaluation passes are timed (twice each: the first traces them) only when the
# estimate says they take less than this; otherwise the estimate is shown.
EVALUATION_BUDGET_SECONDS = 30.0
# A forward pass is one of a training step's three passes (forward, two backward).
FORWARD_SHARE = 2 / FLOPS_PER_WEIGHT_USE


@dataclasses.dataclass(frozen=True)
class StepTiming:
    """The measured training step and evaluation passes.

    Attributes:
      warmup_steps: steps trained before timing (tracing and compiling the step).
      timed_steps: steps timed.
      seconds_per_step: their mean time.
      val_examples, test_examples: the evaluation splits' sizes.
      val_seconds, test_seconds: one pass over each.
      evaluation_measured: whether those passes were timed (else estimated).
    """

    warmup_steps: int
    timed_steps: int
    seconds_per_step: float
    val_examples: int
    test_examples: int
    val_seconds: float
    test_seconds: float
    evaluation_measured: bool


@dataclasses.dataclass(frozen=True)
class LevelCost:
    """The estimated time of one trunk level."""

    label: str
    train_steps: int
    val_passes: int
    test_passes: int
    train_seconds: float
    eval_seconds: float

    @property
    def seconds(self) -> float:
        """Training and evaluation together."""
        return self.train_seconds + self.eval_seconds


def split_size(splits, split: str) -> int:
    """Examples in the `val` or `test` split, in memory or streamed."""
    return splits.size(split) if getattr(splits, "streamed", False) else len(getattr(splits, f"{split}_y"))


def jit_choice(setup: Setup) -> tuple[bool, str]:
    """(whether the step is XLA-compiled, why), as `Trainer` decides it for the setup."""
    if setup.jit_compile and not xla_supported(setup.strategy):
        return False, "XLA off: replicas on several CPU devices train without it"
    return setup.jit_compile, setup.jit_reason


def _evaluation_seconds(evaluator, split: str) -> float:
    evaluator.evaluate(split)  # traces (and compiles) the pass
    started = time.perf_counter()
    evaluator.evaluate(split)
    return time.perf_counter() - started


def time_step(setup: Setup, timed_steps: int, warmup_steps: int = WARMUP_STEPS) -> StepTiming:
    """Times the experiment's training step (and its evaluation passes) on its real data.

    Args:
      setup: the experiment (`prepare`d; nothing is written).
      timed_steps: steps to time after the warm-up, >= 1.
      warmup_steps: steps to train first (tracing and compiling), >= 1.

    Returns:
      The `StepTiming`.
    """
    seed = int(setup.config.seed)
    spec = run_loop_spec(setup, 0, warmup_steps + timed_steps, seed)
    _, _, trainer = build_trainer(setup, seed, spec)
    trainer.timed_steps(warmup_steps)
    per_step = trainer.timed_steps(timed_steps) / timed_steps
    sizes = {split: split_size(setup.splits, split) for split in ("val", "test")}
    per_example = per_step * FORWARD_SHARE / setup.config.training.batch_size
    estimated = {split: size * per_example for split, size in sizes.items()}
    measured = 2 * sum(estimated.values()) <= EVALUATION_BUDGET_SECONDS
    if measured:
        seconds = {split: _evaluation_seconds(trainer.evaluator, split) for split in sizes}
    else:
        seconds = estimated
    return StepTiming(warmup_steps, timed_steps, per_step, sizes["val"],
                      sizes["test"], seconds["val"], seconds["test"], measured)


def level_costs(setup: Setup, timing: StepTiming) -> list[LevelCost]:
    """The estimated time of level 0 and (with `levels` > 0) of each pruned level."""
    runs = [("level 0", 0, setup.train_steps)]
    if setup.config.levels > 0:
        runs.append(("each pruned level", *pruned_level_steps(setup)))
    costs = []
    for label, start, end in runs:
        spec = run_loop_spec(setup, start, end, int(setup.config.seed))
        evaluations = spec.evaluation_steps()
        tests = sum(spec.test_due(step) for step in evaluations)
        costs.append(LevelCost(label, end - start, len(evaluations), tests,
                               (end - start) * timing.seconds_per_step,
                               len(evaluations) * timing.val_seconds + tests * timing.test_seconds))
    return costs
