"""Refusing builders whose two calls with the same seed give different weights.

Stored weights are read back into a model built again (resume, branches,
export, sweep workers), and a reinit control draws fresh weights from another
seed: both are only sound when the builder is a function of its seed.
"""
from collections.abc import Callable

import numpy as np
import tf_keras as keras

from lottery_tf.errors import ConfigError
from lottery_tf.models import layer_paths


def check_same_weights_per_seed(name: str, first: keras.Model, build: Callable[[], keras.Model]) -> None:
    """Builds the model a second time and compares every weight with `first`'s.

    Args:
      name: the model's name (for the message).
      first: a model the builder returned for the seed.
      build: builds the model again with the same arguments.

    Raises:
      ConfigError: the second build's weights differ; names the first layer that differs and the fix.
    """
    again = layer_paths.weight_variables(build())
    weights = layer_paths.weight_variables(first)
    matched = layer_paths.match_keys({key: variable for key, variable in again.items()}, weights)
    differing = ([] if matched is None else
                 [key for key, variable in weights.items()
                  if not np.array_equal(variable.numpy(), matched[key].numpy())])
    if matched is None or differing:
        where = (f"weight {differing[0]!r} differs" if differing
                 else "the two models have different layers")
        raise ConfigError(f"model {name!r}: two builds with the same seed give different weights "
                          f"({where}). Stored weights could not be read back into a model built "
                          "again; draw every random number from the builder's `seed` (e.g. "
                          "kernel_initializer=keras.initializers.GlorotNormal(seed)), or leave "
                          "initializers unseeded (they then draw from the model seed).")
