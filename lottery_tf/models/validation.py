"""Argument checks shared by the model builders, raising ConfigError."""
from __future__ import annotations

from collections.abc import Sequence

from lottery_tf.errors import ConfigError


def check_num_classes(num_classes: int) -> None:
    """Raise unless ``num_classes`` is an integer >= 2.

    Args:
        num_classes: Number of output logits.

    Raises:
        ConfigError: Not an int, or fewer than 2 classes.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ConfigError(f"num_classes must be an integer >= 2, got {num_classes!r}")


def check_input_shape(input_shape: Sequence[int]) -> tuple[int, ...]:
    """Raise unless ``input_shape`` is a non-empty sequence of positive ints.

    Args:
        input_shape: Shape of one example, without the batch dimension.

    Returns:
        The shape as a tuple.

    Raises:
        ConfigError: Empty, or containing a non-positive / non-integer entry.
    """
    shape = tuple(input_shape)
    if not shape or any(
        isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in shape
    ):
        raise ConfigError(
            "input_shape must be positive integers without the batch dimension, "
            f"got {input_shape!r}"
        )
    return shape


def check_image_shape(
    input_shape: Sequence[int], family: str, min_side: int = 1
) -> tuple[int, int, int]:
    """Raise unless ``input_shape`` is (height, width, channels) big enough for ``family``.

    Args:
        input_shape: Shape of one example, channels last.
        family: Model name, for the message.
        min_side: Smallest height/width the model's pooling allows.

    Returns:
        The shape as a 3-tuple.

    Raises:
        ConfigError: Not rank 3, or spatially smaller than ``min_side``.
    """
    shape = check_input_shape(input_shape)
    if len(shape) != 3:
        raise ConfigError(
            f"{family} needs input_shape (height, width, channels), got {input_shape!r}"
        )
    if min(shape[:2]) < min_side:
        raise ConfigError(
            f"{family} needs height and width >= {min_side}, got {input_shape!r}"
        )
    return shape  # type: ignore[return-value]
