"""Lists of numbers written as ranges, e.g. '0-3,7', as levels and replicates are given."""
from lottery_tf.errors import ConfigError


def expand_ranges(text: str) -> list[int]:
    """'0-3,7' -> [0, 1, 2, 3, 7] (sorted, without repeats; possibly empty).

    Callers word their own error, since they know what the numbers are.

    Raises:
      ValueError: a part is not a number or a range `low-high`.
    """
    numbers = []
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        numbers.extend(range(int(low), int(high or low) + 1))
    return sorted(set(numbers))


def parse_levels(text: str, max_level: int | None = None) -> list[int]:
    """'0-3,7' -> [0, 1, 2, 3, 7].

    Raises:
      ConfigError: not a list of levels, or a level past `max_level`.
    """
    try:
        levels = expand_ranges(text)
    except ValueError:
        raise ConfigError(f"--levels={text!r} is not a list of levels like '0-3,7'.") from None
    if not levels or min(levels) < 0:
        raise ConfigError(f"--levels={text!r} must name levels >= 0.")
    if max_level is not None and max(levels) > max_level:
        raise ConfigError(f"--levels={text!r} goes past the config's last level {max_level}.")
    return levels
