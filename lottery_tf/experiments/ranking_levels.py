"""Levels whose training only ranks weights: short levels (`intermediate_steps`).

Every trunk level before the last (`levels`) is trained only so that its
weights rank which ones the next level prunes. With `intermediate_steps` set,
such a level trains that many iterations from wherever its `retrain` mode
starts it (never past its full length); the last level trains fully, and its
network is the ticket. A level cut short records `short_level` in its metrics,
so reports never show its accuracy as a ticket's.
"""
from lottery_tf.errors import ConfigError
from lottery_tf.training.steps import parse_steps


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
    rewind weights on its way).

    Raises:
      ConfigError: a bad `intermediate_steps`.
    """
    iterations = intermediate_iterations(config, steps_per_epoch)
    if iterations is not None and iterations < rewind_step and config.levels > 0:
        raise ConfigError(f"intermediate_steps={config.intermediate_steps!r} ({iterations} iterations) "
                          f"ends level 0 before the rewind point (step {rewind_step}); train at "
                          "least that long.")


def ranks_only(config, level: int) -> bool:
    """Whether trunk `level` trains only to rank weights: a level before the last, with
    short levels set (plain IMP trains every level fully, and its `levels` can grow)."""
    return level < config.levels and bool(config.get("intermediate_steps"))


def level_end(setup, level: int, start_step: int, full_end: int) -> int:
    """Where trunk `level`, starting at `start_step`, stops: `full_end`, or sooner for a
    short level (`intermediate_steps` iterations after its start)."""
    iterations = intermediate_iterations(setup.config, setup.steps_per_epoch)
    if iterations is None or not ranks_only(setup.config, level):
        return full_end
    return min(full_end, start_step + iterations)
