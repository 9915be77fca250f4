"""Training durations written as `500it`, `2ep` or `2ep100it`.

This is the one place where epochs become iterations, so "rewind to 2ep" means
the same step everywhere.
"""
import re

from lottery_tf.errors import ConfigError

_STEPS_PATTERN = re.compile(r"^\s*(?:(\d+)ep)?\s*(?:(\d+)it)?\s*$")


def parse_steps(text: str | int, steps_per_epoch: int) -> int:
    """Converts a duration to a number of iterations.

    Args:
      text: `"500it"`, `"2ep"`, `"2ep100it"`, or a plain int (iterations).
      steps_per_epoch: iterations in one epoch of the training set.

    Returns:
      The number of iterations, >= 0.

    Raises:
      ConfigError: the text is not a duration.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        if text < 0:
            raise ConfigError(f"A step count must be >= 0, got {text}.")
        return text
    match = _STEPS_PATTERN.match(str(text))
    if not match or not any(match.groups()):
        raise ConfigError(
            f"Cannot read the duration {text!r}: write it as iterations or epochs, "
            "e.g. '500it', '2ep' or '2ep100it'."
        )
    epochs, iterations = (int(g) if g else 0 for g in match.groups())
    return epochs * steps_per_epoch + iterations
