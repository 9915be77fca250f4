"""Kernel initializers by name, with one deterministic seed per layer.

The normal variants draw from an *untruncated* Gaussian: the lottery-ticket
papers (and OpenLTH, via PyTorch) use plain Gaussians, whereas tf_keras'
``GlorotNormal``/``HeNormal`` truncate at two standard deviations.
"""
from __future__ import annotations

import tf_keras as keras

from lottery_tf.errors import ConfigError

# name -> (scale, fan mode, distribution) for keras VarianceScaling.
# Glorot: Var = 1 / fan_avg = 2 / (fan_in + fan_out); He/Kaiming: Var = 2 / fan_in.
_SCHEMES: dict[str, tuple[float, str, str]] = {
    "glorot_normal": (1.0, "fan_avg", "untruncated_normal"),
    "glorot_uniform": (1.0, "fan_avg", "uniform"),
    "kaiming_normal": (2.0, "fan_in", "untruncated_normal"),
    "kaiming_uniform": (2.0, "fan_in", "uniform"),
}

# Room for this many initialised layers per model seed before two seeds' layer
# seeds could collide.
SEED_STRIDE = 1000


def known_initializers() -> list[str]:
    """Return the initializer names accepted by :func:`get_initializer`."""
    return sorted(_SCHEMES)


def check_initializer(name: str) -> None:
    """Raise if ``name`` is not a known initializer.

    Args:
        name: Initializer name.

    Raises:
        ConfigError: ``name`` is unknown.
    """
    if name not in _SCHEMES:
        raise ConfigError(
            f"unknown initializer {name!r}; valid choices: {', '.join(known_initializers())}"
        )


def layer_seed(seed: int, layer_index: int) -> int:
    """Derive the seed for one layer from the model seed.

    Args:
        seed: Model seed (non-negative).
        layer_index: 0-based position of the layer among initialised layers.

    Returns:
        ``seed * SEED_STRIDE + layer_index``.

    Raises:
        ConfigError: ``seed`` is negative or the model has too many layers.
    """
    if seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed}")
    if not 0 <= layer_index < SEED_STRIDE:
        raise ConfigError(f"layer index {layer_index} outside 0..{SEED_STRIDE - 1}")
    return seed * SEED_STRIDE + layer_index


def get_initializer(name: str, seed: int) -> keras.initializers.Initializer:
    """Build a fresh, seeded kernel initializer.

    A new instance is needed per layer: a seeded keras initializer returns the
    same values every call, so sharing one would make layers identical.

    Args:
        name: One of :func:`known_initializers`.
        seed: Seed for this layer (see :func:`layer_seed`).

    Returns:
        A ``keras.initializers.VarianceScaling`` instance.

    Raises:
        ConfigError: ``name`` is unknown.
    """
    check_initializer(name)
    scale, mode, distribution = _SCHEMES[name]
    return keras.initializers.VarianceScaling(
        scale=scale, mode=mode, distribution=distribution, seed=seed
    )


class LayerInitializers:
    """Hands out one seeded initializer per layer, in build order.

    Builders call :meth:`next` once for each Dense/Conv2D layer they create, so
    layer ``i`` always gets seed ``layer_seed(seed, i)``.
    """

    def __init__(self, name: str, seed: int) -> None:
        """Validate the scheme and seed up front.

        Args:
            name: Initializer name.
            seed: Model seed.

        Raises:
            ConfigError: Unknown name or negative seed.
        """
        check_initializer(name)
        layer_seed(seed, 0)
        self._name = name
        self._seed = seed
        self._index = 0

    def next(self) -> keras.initializers.Initializer:
        """Return the initializer for the next layer.

        Returns:
            A fresh seeded initializer.
        """
        init = get_initializer(self._name, layer_seed(self._seed, self._index))
        self._index += 1
        return init
