"""SNIP: connection sensitivity |dL/dw * w| (Lee et al., 2019)."""
from collections.abc import Sequence

import numpy as np
import tf_keras as keras

from lottery_tf.pruning.scorers.gradients import kernel_values, loss_gradients
from lottery_tf.pruning.scorers.inputs import Scores, ScoringInputs


def snip_scores(model: keras.Model, images, labels, kernels: Sequence[str], *,
                batch_size: int | None = None, training: bool = True) -> Scores:
    """SNIP connection sensitivity |dL/dw * w| (Lee et al., 2019).

    The loss is the mean sparse softmax cross-entropy from the logits over all
    given examples. BatchNorm runs in training mode by default (batch
    statistics, as the paper's networks did when scored); its moving statistics
    are restored afterwards.

    Args:
      model, images, labels, kernels, batch_size, training: as
        `gradients.loss_gradients`.

    Returns:
      `{layer_name: score}`, non-negative, shaped like the kernels.

    Raises:
      ValueError: as `gradients.loss_gradients`.
    """
    grads = loss_gradients(model, images, labels, kernels, batch_size=batch_size, training=training)
    weights = kernel_values(model, kernels)
    return {name: np.abs(grads[name] * weights[name]) for name in kernels}


def score(inputs: ScoringInputs) -> Scores:
    """The registry's entry point: SNIP scores on the inputs' examples."""
    return snip_scores(inputs.model, inputs.images, inputs.labels, inputs.kernels,
                       batch_size=inputs.batch_size)
