"""GraSP (Wang et al., 2020): keeps the weights whose removal would most reduce gradient flow."""
from collections.abc import Sequence

import tensorflow as tf
import tf_keras as keras

from lottery_tf.pruning.scorers import gradients
from lottery_tf.pruning.scorers.inputs import Scores, ScoringInputs

GRASP_TEMPERATURE = 200.0


def hessian_gradient_product(model: keras.Model, images, labels, kernels: Sequence[str], *,
                             temperature: float = GRASP_TEMPERATURE, batch_size: int | None = None,
                             training: bool = True) -> tuple[Scores, Scores]:
    """The loss gradient g and the Hessian-gradient product H g over the named kernels.

    H is the Hessian of the (temperature-scaled) mean loss restricted to the
    named kernels. H g is the gradient of g_const . g(w), where g_const is g
    held fixed: two nested tapes, never the full Hessian.

    Args:
      model, images, labels, kernels, temperature, batch_size, training: as
        `gradients.loss_gradients`.

    Returns:
      `(g, Hg)`, each `{layer_name: array shaped like the kernel}`.

    Raises:
      ValueError: as `gradients.loss_gradients`.
    """
    variables = gradients.kernel_variables(model, kernels)
    with gradients.restoring_weights(model):
        examples = gradients.batches(images, labels, batch_size)
        # g must be the full-data gradient before any H g term is formed.
        grads = [tf.stop_gradient(g)
                 for g in gradients.mean_gradients(model, variables, examples, temperature, training)]
        hg = [tf.zeros_like(v) for v in variables]
        for batch_images, batch_labels, share in examples:
            with tf.GradientTape() as outer:
                outer.watch(variables)
                with tf.GradientTape() as inner:
                    inner.watch(variables)
                    loss = gradients.mean_loss(model, batch_images, batch_labels, temperature, training)
                batch_grads = inner.gradient(loss, variables)
                gradients.check_connected(batch_grads, variables)
                dot = tf.add_n([tf.reduce_sum(g * bg) for g, bg in zip(grads, batch_grads, strict=True)])
            batch_hg = outer.gradient(dot, variables)
            # TF returns None where g does not depend on a kernel (the loss is
            # linear in it); that block of H g is zero, not missing.
            hg = [h + share * (tf.zeros_like(v) if bh is None else bh)
                  for h, bh, v in zip(hg, batch_hg, variables, strict=True)]
    return ({name: g.numpy() for name, g in zip(kernels, grads, strict=True)},
            {name: h.numpy() for name, h in zip(kernels, hg, strict=True)})


def grasp_scores(model: keras.Model, images, labels, kernels: Sequence[str], *,
                 temperature: float = GRASP_TEMPERATURE, batch_size: int | None = None,
                 training: bool = True) -> Scores:
    """GraSP scores (Wang et al., 2020), NEGATED so that larger means keep.

    The paper scores S(-w) = -w * (H g) and removes the weights with the
    HIGHEST S (their removal preserves gradient flow best). This returns
    -S = w * (H g) so that, like every score here, the largest are kept;
    `prune_by_scores` then removes exactly the weights GraSP would remove.
    Scores can be negative. As in the paper, the logits are divided by a
    temperature (200) for both g and H g.

    Args:
      model, images, labels, kernels, temperature, batch_size, training: as
        `hessian_gradient_product`.

    Returns:
      `{layer_name: w * Hg}` shaped like the kernels.

    Raises:
      ValueError: as `gradients.loss_gradients`.
    """
    _, hg = hessian_gradient_product(model, images, labels, kernels, temperature=temperature,
                                     batch_size=batch_size, training=training)
    weights = gradients.kernel_values(model, kernels)
    return {name: weights[name] * hg[name] for name in kernels}


def score(inputs: ScoringInputs) -> Scores:
    """The registry's entry point: GraSP scores on the inputs' examples."""
    return grasp_scores(inputs.model, inputs.images, inputs.labels, inputs.kernels,
                        batch_size=inputs.batch_size)
