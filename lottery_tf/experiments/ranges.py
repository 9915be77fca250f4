"""Lists of numbers written as ranges, e.g. '0-3,7', as levels and replicates are given."""


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
