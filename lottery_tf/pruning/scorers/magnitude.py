"""Magnitude pruning at initialization: |w|."""
from collections.abc import Mapping

import numpy as np

from lottery_tf.pruning.scorers.gradients import kernel_values
from lottery_tf.pruning.scorers.inputs import Scores, ScoringInputs


def magnitude_scores(kernels_by_name: Mapping[str, np.ndarray]) -> Scores:
    """|w| for each kernel (magnitude pruning at initialization).

    Args:
      kernels_by_name: `{layer_name: kernel}`.

    Returns:
      `{layer_name: |kernel|}`.
    """
    return {name: np.abs(np.asarray(w)) for name, w in kernels_by_name.items()}


def score(inputs: ScoringInputs) -> Scores:
    """The registry's entry point: the magnitudes of the model's kernels."""
    return magnitude_scores(kernel_values(inputs.model, inputs.kernels))
