"""Levels whose training only ranks weights: short levels and early-bird stops.

With short levels (`intermediate_steps`) or early-bird (`early_bird.threshold`)
set, every trunk level before the last (`levels`) is trained only so that its
weights rank which ones the next level prunes. Short levels train that many
iterations from wherever the `retrain` mode starts them (never past their full
length); early-bird stops a level sooner still once the masks drawn from its
weights settle (`pruning/early_bird.py`, `training/early_bird.py`). The last
level trains fully, and its network is the ticket. A level cut short records
`short_level` in its metrics, so reports never show its accuracy as a ticket's.
"""
import dataclasses

from lottery_tf.errors import ConfigError
from lottery_tf.experiments import retraining
from lottery_tf.pruning import early_bird as early_bird_lib
from lottery_tf.training.steps import parse_steps


@dataclasses.dataclass(frozen=True)
class EarlyBird:
    """The config's early-bird settings, in iterations."""

    threshold: float
    check_every: int
    window: int


def early_bird(config, steps_per_epoch: int) -> EarlyBird | None:
    """The config's early-bird settings (unset fields at the paper's values), or None when off.

    Raises:
      ConfigError: a check interval that is not positive.
    """
    section = config.get("early_bird") or {}
    if section.get("threshold") is None:
        return None
    text = section.get("check_every") or early_bird_lib.DEFAULT_CHECK_EVERY
    every = parse_steps(text, steps_per_epoch)
    if every <= 0:
        raise ConfigError(f"early_bird.check_every={text!r} must be positive, e.g. 1ep or 200it.")
    return EarlyBird(float(section["threshold"]), every, int(section.get("window") or
                                                              early_bird_lib.DEFAULT_WINDOW))


def intermediate_iterations(config, steps_per_epoch: int) -> int | None:
    """`intermediate_steps` in iterations, or None when unset.

    Raises:
      ConfigError: not positive.
    """
    text = config.get("intermediate_steps")
    if not text:
        return None
    iterations = parse_steps(text, steps_per_epoch)
    if iterations <= 0:
        raise ConfigError(f"intermediate_steps={text!r} must be positive, e.g. 5000it.")
    return iterations


def check(config, steps_per_epoch: int, rewind_step: int) -> None:
    """Refuses short levels that would end before the rewind point (level 0 records the
    rewind weights on its way), and check intervals that are not positive.

    Raises:
      ConfigError: a bad `intermediate_steps` or `early_bird.check_every`.
    """
    early_bird(config, steps_per_epoch)
    iterations = intermediate_iterations(config, steps_per_epoch)
    if iterations is not None and iterations < rewind_step and config.levels > 0:
        raise ConfigError(f"intermediate_steps={config.intermediate_steps!r} ({iterations} iterations) "
                          f"ends level 0 before the rewind point (step {rewind_step}); train at "
                          "least that long.")


def ranks_only(config, level: int) -> bool:
    """Whether trunk `level` trains only to rank weights: a level before the last, with
    short levels or early-bird set (plain IMP trains every level fully, and its `levels`
    can grow)."""
    early = (config.get("early_bird") or {}).get("threshold") is not None
    return level < config.levels and (bool(config.get("intermediate_steps")) or early)


def level_end(setup, level: int, start_step: int, full_end: int) -> int:
    """Where trunk `level`, starting at `start_step`, stops: `full_end`, or sooner for a
    short level (`intermediate_steps` iterations after its start)."""
    iterations = intermediate_iterations(setup.config, setup.steps_per_epoch)
    if iterations is None or not ranks_only(setup.config, level):
        return full_end
    return min(full_end, start_step + iterations)


def trunk_level_iterations(setup, level: int) -> int:
    """The iterations trunk `level` trains: all of its span under `retrain`, or a short
    level's `intermediate_steps`; at most that for a level early-bird may stop sooner."""
    start, full_end = (0, setup.train_steps) if level == 0 else retraining.pruned_level_steps(setup)
    return level_end(setup, level, start, full_end) - start
