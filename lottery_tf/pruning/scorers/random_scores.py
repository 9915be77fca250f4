"""The random control: independent uniform scores, so keeping the largest is a random mask.

(Named `random_scores` rather than `random`, which would read as the standard library's module.)
"""
from collections.abc import Mapping, Sequence

import numpy as np

from lottery_tf.pruning.scorers.gradients import kernel_values
from lottery_tf.pruning.scorers.inputs import Scores, ScoringInputs


def random_scores(shapes: Mapping[str, Sequence[int]], rng: np.random.Generator) -> Scores:
    """Independent uniform [0, 1) scores: keeping the largest is a uniformly random mask.

    Args:
      shapes: `{layer_name: kernel shape}`; drawn in this order.
      rng: the randomness.

    Returns:
      `{layer_name: scores of that shape}`.
    """
    return {name: rng.uniform(size=tuple(shape)) for name, shape in shapes.items()}


def score(inputs: ScoringInputs) -> Scores:
    """The registry's entry point: random scores shaped like the model's kernels."""
    return random_scores({name: w.shape for name, w in kernel_values(inputs.model, inputs.kernels).items()},
                         inputs.rng)
