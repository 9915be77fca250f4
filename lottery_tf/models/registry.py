"""Build any model of the zoo from its name."""
from __future__ import annotations

import re
from collections.abc import Callable

import tf_keras as keras

from lottery_tf.errors import ConfigError
from lottery_tf.models.conv import build_conv
from lottery_tf.models.initializers import check_initializer
from lottery_tf.models.lenet import build_lenet
from lottery_tf.models.resnet import DEFAULT_WIDTH, build_resnet
from lottery_tf.models.validation import check_num_classes
from lottery_tf.models.vgg import build_vgg

_PATTERNS = [
    "lenet_300_100",
    "lenet_<h1>_<h2>_... (hidden Dense widths)",
    "conv2",
    "conv4",
    "conv6",
    "resnet20",
    "resnet_<D> (D = 6n+2)",
    "resnet_<D>_<W> (W = first-stage width, default 16)",
    "vgg11",
    "vgg13",
    "vgg16",
    "vgg19",
]

# Builder signature after the name is parsed: (input_shape, num_classes, initializer, seed).
_Builder = Callable[[tuple, int, str, int], keras.Model]


def known_models() -> list[str]:
    """List the accepted model names; ``<...>`` marks a numeric pattern.

    Returns:
        Names and name patterns, in a stable order.
    """
    return list(_PATTERNS)


def is_known(name: str) -> bool:
    """Whether `name` is a model `build_model` can build."""
    try:
        _parse(name)
    except ConfigError:
        return False
    return True


def _parse(name: str) -> _Builder:
    """Map a model name to a builder, or raise ConfigError."""
    if m := re.fullmatch(r"lenet((?:_\d+)+)", name):
        hidden = [int(h) for h in m.group(1).split("_")[1:]]
        return lambda s, c, i, seed: build_lenet(hidden, s, c, i, seed, name=name)
    if m := re.fullmatch(r"conv(\d+)", name):
        depth = int(m.group(1))
        return lambda s, c, i, seed: build_conv(depth, s, c, i, seed)
    if name == "resnet20":
        return lambda s, c, i, seed: build_resnet(20, s, c, DEFAULT_WIDTH, i, seed)
    if m := re.fullmatch(r"resnet_(\d+)(?:_(\d+))?", name):
        depth = int(m.group(1))
        width = DEFAULT_WIDTH if m.group(2) is None else int(m.group(2))
        return lambda s, c, i, seed: build_resnet(depth, s, c, width, i, seed)
    if m := re.fullmatch(r"vgg(\d+)", name):
        depth = int(m.group(1))
        return lambda s, c, i, seed: build_vgg(depth, s, c, i, seed)
    raise ConfigError(f"unknown model {name!r}; valid names: {', '.join(_PATTERNS)}")


def build_model(
    name: str,
    input_shape: tuple,
    num_classes: int,
    initializer: str = "glorot_normal",
    seed: int = 0,
) -> keras.Model:
    """Build a freshly initialised model by name.

    The same (name, shapes, initializer, seed) always gives identical weights
    and identical layer/variable names. The classifier layer is named
    ``output`` and returns logits (no softmax).

    Args:
        name: One of :func:`known_models`, e.g. ``"lenet_300_100"``, ``"resnet_56"``.
        input_shape: Shape of one example without the batch dimension,
            channels last, e.g. ``(28, 28, 1)`` or ``(32, 32, 3)``.
        num_classes: Number of output logits (>= 2).
        initializer: ``glorot_normal`` (default, as in Frankle & Carbin),
            ``glorot_uniform``, ``kaiming_normal`` or ``kaiming_uniform``.
        seed: Non-negative model seed.

    Returns:
        An uncompiled functional tf_keras model.

    Raises:
        ConfigError: Unknown name, bad depth/width, bad input shape, bad
            ``num_classes``, unknown initializer or negative seed.
    """
    if not isinstance(name, str):
        raise ConfigError(f"model name must be a string, got {name!r}")
    builder = _parse(name)
    check_num_classes(num_classes)
    check_initializer(initializer)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    return builder(tuple(input_shape), num_classes, initializer, seed)
