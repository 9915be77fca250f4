"""What every scorer is given, as one record: all methods share one signature.

A scorer is `score(inputs: ScoringInputs) -> Scores`; each reads the fields it needs.
"""
import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # the registry's --help must not load TensorFlow
    import tf_keras as keras

# {layer_name: score array shaped like the kernel}; a LARGER score means a MORE important weight.
Scores = dict[str, np.ndarray]


@dataclasses.dataclass(frozen=True)
class ScoringInputs:
    """The model to score and everything a scorer may use.

    Attributes:
      model: unwrapped tf_keras model holding the weights to score; a scorer
        must leave it unchanged.
      kernels: names of the layers to score (`outer/inner` inside nested models).
      images: scoring examples, shape `(N, *input_shape)`; None for data-free use.
      labels: their integer class labels, shape `(N,)`; None for data-free use.
      input_shape: shape of one example, without the batch dimension.
      rng: randomness for stochastic scorers.
      batch_size: examples per forward pass (None: all at once).
      iterations: pruning rounds of a scorer with its own masks entry point (SynFlow).
    """

    model: "keras.Model"
    kernels: Sequence[str]
    images: Any = None
    labels: Any = None
    input_shape: Sequence[int] = ()
    rng: np.random.Generator | None = None
    batch_size: int | None = None
    iterations: int = 100
