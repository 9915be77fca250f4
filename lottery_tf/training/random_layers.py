"""Layers that draw random numbers (Dropout, GaussianNoise, RandomFlip, ...) draw them from (seed, step).

Keras' random layers (`Dropout`, `SpatialDropout1D/2D/3D`, `GaussianNoise`,
`GaussianDropout`, `AlphaDropout`, the random augmentation layers) get their
numbers from the layer's `keras.backend.RandomGenerator`. By default that calls
TensorFlow's unseeded stateful ops, which op determinism refuses ("Random ops
require a seed"). The training step therefore traces the model with each such
layer's generator replaced by one whose every draw is stateless, keyed by

    fold_in(fold_in(fold_in((seed, stream), step), layer index), draw within the step)

(the replica is folded in too when several train in sync). The draws are a pure
function of the run's seed and the global step, as the data order and the
augmentation are (`data.pipeline`): a resumed run draws what an uninterrupted one
does, and replaying to a rewind step replays the same dropout masks.

Why this and not the alternatives:
- `tf.random.set_seed` / `keras.utils.set_random_seed` give the stateful ops seeds,
  so determinism accepts them, but their position in the sequence lives in the
  kernels of the traced function: a resumed process (a new function) starts the
  sequence again, and the draws depend on how often the step was traced.
- `keras.backend.experimental.enable_tf_random_generator()` gives each layer a
  `tf.random.Generator` whose state is a variable. It must be switched on before
  the user's builder creates the layers, that state is kept out of `model.weights`
  and checkpoints by Keras, and it would have to be saved with every checkpoint and
  rewind point (and zeroed when a trainer is reused) to make a resume exact.
- Stateless draws keyed by (seed, step) have no state: nothing to checkpoint, no
  order to keep, and the user's model is unchanged outside the training step
  (inference, evaluation and export use its own generators, which do not draw
  outside training). Builders need no seed on their layers.

The layer index is the layer's position among the model's random layers, not its
name: automatic names (`dropout_3`) depend on what the process built before.
"""
import contextlib
from collections.abc import Iterator, Sequence

import tensorflow as tf
import tf_keras as keras
from tf_keras.src import backend

from lottery_tf.data import pipeline

# Distinguishes these draws from the augmentation's (`pipeline._AUGMENT_STREAM`) for one seed.
_RANDOM_LAYER_STREAM = 0x52414E44  # "RAND"


def random_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The layers of `model` (at any depth) that draw random numbers, in a fixed order."""
    return [layer for layer in model.submodules
            if isinstance(getattr(layer, "_random_generator", None), backend.RandomGenerator)]


class _StepGenerator(backend.RandomGenerator):
    """Stateless draws keyed by one layer's key and the number of draws made before."""

    def __init__(self, key: tf.Tensor):
        super().__init__(seed=0, rng_type=self.RNG_STATELESS)
        self._built = True  # nothing to create lazily
        self._key = key
        self._draws = 0  # a layer may draw several times in one call (RandomTranslation)

    def make_seed_for_stateless_op(self) -> tf.Tensor:
        seed = tf.random.experimental.stateless_fold_in(self._key, self._draws)
        self._draws += 1
        return seed


def step_key(seed: int | tf.Tensor, step: int | tf.Tensor) -> tf.Tensor:
    """The stateless key of one step's random-layer draws (this replica's, if several)."""
    key = pipeline.step_key(seed, step, _RANDOM_LAYER_STREAM)
    replica = tf.distribute.get_replica_context()
    if replica is not None and replica.num_replicas_in_sync > 1:
        key = tf.random.experimental.stateless_fold_in(key, replica.replica_id_in_sync_group)
    return key


@contextlib.contextmanager
def drawing_from(layers: Sequence[keras.layers.Layer], seed: int | tf.Tensor,
                 step: int | tf.Tensor) -> Iterator[None]:
    """Within the block, `layers` draw from (seed, step); wrap the model's call in a traced step.

    Args:
      layers: `random_layers(model)` of the model the block calls.
      seed: the run's seed.
      step: the global step being trained (a tensor inside a traced loop).
    """
    if not layers:
        yield
        return
    key = step_key(seed, step)
    originals = [layer._random_generator for layer in layers]
    try:
        for index, layer in enumerate(layers):
            # Set past Keras' attribute tracking, as `BaseRandomLayer` sets its own:
            # a generator is no weight and must not enter checkpoints.
            object.__setattr__(layer, "_random_generator",
                               _StepGenerator(tf.random.experimental.stateless_fold_in(key, index)))
        yield
    finally:
        for layer, original in zip(layers, originals, strict=True):
            object.__setattr__(layer, "_random_generator", original)
