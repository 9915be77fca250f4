"""Where a pruned trunk level starts: the `retrain` field.

- ``weight_rewind`` (unset; Frankle & Carbin): the survivors take their values at
  the rewind step, and training replays the schedule and data order from there.
- ``lr_rewind`` (Renda, Frankle & Carbin, 2020): the previous level's trained
  weights keep their values; the learning-rate schedule and the data order are
  replayed from the rewind step, for as many iterations as weight rewinding trains.
- ``finetune``: the previous level's trained weights go on training at the
  schedule's final rate, from the end of the schedule for ``finetune_steps``.

Every mode prunes the previous level's final weights (`lottery.level_masks`).
"""
import dataclasses

from lottery_tf.errors import StoreError
from lottery_tf.storage import files as storage_files
from lottery_tf.storage import store
from lottery_tf.training.steps import parse_steps


@dataclasses.dataclass(frozen=True)
class LevelStart:
    """A pruned level's starting weights and its global start and end steps."""

    weights: dict
    start_step: int
    end_step: int


def retrain_mode(config) -> str:
    """The config's `retrain`, with unset meaning weight_rewind."""
    return config.get("retrain") or "weight_rewind"


def finetune_steps(setup) -> int:
    """Iterations of a finetuned level: `finetune_steps`, else as many as a rewound level trains."""
    text = setup.config.get("finetune_steps")  # checked positive by `setup.prepare`
    return parse_steps(text, setup.steps_per_epoch) if text else setup.train_steps - setup.rewind_step


def trained_weights(setup, replicate: int, level: int) -> dict:
    """The final weights of trunk `level` (what the next level prunes, and may start from).

    Raises:
      StoreError: they are not stored (the level has not finished).
    """
    path = setup.paths.weights_end(replicate, level)
    if not storage_files.exists(path):
        raise StoreError(f"Level {level} of replicate {replicate} has no trained weights "
                         f"({path}); rerun the lottery command to finish it first.")
    return store.load_arrays(path)


def pruned_level_steps(setup) -> tuple[int, int]:
    """The global (start, end) steps every pruned trunk level trains under the config's `retrain`."""
    if retrain_mode(setup.config) == "finetune":
        # Past the schedule's end its rate is the final one; the data order goes on.
        return setup.train_steps, setup.train_steps + finetune_steps(setup)
    return setup.rewind_step, setup.train_steps


def pruned_level_start(setup, replicate: int, level: int, rewind_weights) -> LevelStart:
    """How level `level` >= 1 of `replicate` starts under the config's `retrain`.

    Args:
      setup: the experiment's `Setup`.
      replicate: the replicate.
      level: a pruned level (>= 1).
      rewind_weights: a function returning the weights at the rewind step.

    Raises:
      StoreError: the previous level's trained weights are missing.
    """
    start, end = pruned_level_steps(setup)
    if retrain_mode(setup.config) == "weight_rewind":
        return LevelStart(rewind_weights(), start, end)
    return LevelStart(trained_weights(setup, replicate, level - 1), start, end)
