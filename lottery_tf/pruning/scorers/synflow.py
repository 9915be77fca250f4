"""SynFlow (Tanaka et al., 2020): data-free synaptic flow, pruned in rounds that rescore.

SynFlow works on a float64 copy of the model, so the model itself is never changed.
"""
from collections import deque
from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import tensorflow as tf
import tf_keras as keras

from lottery_tf.pruning.masks import Masks, ones_like
from lottery_tf.pruning.scorers.gradients import check_connected, kernel_values, kernel_variables
from lottery_tf.pruning.scorers.inputs import Scores, ScoringInputs
from lottery_tf.pruning.scorers.to_masks import exponential_schedule, keep_in_group, scope_groups


def _float64_copy(model: keras.Model) -> keras.Model:
    """A float64 clone of a functional/Sequential model with the same layer names and weights.

    SynFlow multiplies |w| along every path, so R grows exponentially with
    depth: float32 overflows from about ResNet-56 on, while float64 (as in the
    SynFlow authors' code) reaches past ResNet-110.
    """
    def clone_layer(layer: keras.layers.Layer) -> keras.layers.Layer:
        config = layer.get_config()
        config["dtype"] = "float64"
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(model, clone_function=clone_layer)
    copy.set_weights(model.get_weights())
    return copy


def _synflow_on_copy(copy: keras.Model, abs_weights: list[np.ndarray], kernels: Sequence[str],
                     input_shape: Sequence[int], masks: Mapping[str, np.ndarray] | None) -> Scores:
    """SynFlow scores on the float64 `copy`, first loaded with `abs_weights` and masked."""
    copy.set_weights(abs_weights)
    variables = kernel_variables(copy, kernels)
    for name, variable in zip(kernels, variables, strict=True):
        if masks is not None and name in masks:
            variable.assign(variable * np.asarray(masks[name], dtype=np.float64))
    ones = tf.ones((1, *input_shape), dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(variables)
        total = tf.reduce_sum(copy(ones, training=False))
    grads = tape.gradient(total, variables)
    check_connected(grads, variables)
    scores = {name: np.abs(g.numpy() * v.numpy())
              for name, g, v in zip(kernels, grads, variables, strict=True)}
    if not all(np.isfinite(s).all() for s in scores.values()):
        raise ValueError("SynFlow scores overflowed float64; the network is too deep to score this way.")
    return scores


def synflow_scores(model: keras.Model, kernels: Sequence[str], input_shape: Sequence[int],
                   masks: Mapping[str, np.ndarray] | None = None) -> Scores:
    """SynFlow synaptic saliency |dR/dw * w| (Tanaka et al., 2020); uses no data.

    On a float64 copy of the model, every weight (kernels, biases, BatchNorm
    parameters and statistics) is replaced by its absolute value, pruned
    kernel entries (mask 0) are zeroed, an all-ones input of batch 1 is fed
    through, and R is the sum of the outputs. BatchNorm runs in inference mode
    (training=False): a batch of one constant input has no meaningful batch
    statistics, and the moving statistics keep the network linear in |w| as
    the method intends. `model` itself is never modified.

    Args:
      model: unwrapped functional or Sequential tf_keras model.
      kernels: names of the layers to score.
      input_shape: shape of one example, without the batch dimension.
      masks: optional current masks by layer name, applied before scoring.

    Returns:
      `{layer_name: float64 score}`, non-negative, shaped like the kernels (0
      where masked).

    Raises:
      ValueError: unknown layer, a kernel not connected to the output, or
        non-finite scores (overflow even in float64).
    """
    abs_weights = [np.abs(w) for w in model.get_weights()]
    return _synflow_on_copy(_float64_copy(model), abs_weights, kernels, input_shape, masks)


def synflow_rounds(model: keras.Model, kernels: Sequence[str], input_shape: Sequence[int],
                   target_fraction: float, iterations: int = 100,
                   scope: str = "global") -> Iterator[Masks]:
    """Yields the mask after each round of SynFlow's iterative pruning (see below).

    Round k of `iterations` rescores with the current masks applied and keeps
    `round(target ** (k / iterations) * n)` weights, where n is the number of
    weights of all layers (global) or of each layer (layerwise). Only survivors
    are ranked, so each round's mask lies inside the previous one.

    Args/Raises: as `iterative_synflow_masks`; the arguments are checked at the
    first `next()`.

    Yields:
      Float32 0/1 masks by layer name, one per round.
    """
    schedule = exponential_schedule(target_fraction, iterations)
    groups = scope_groups(list(kernels), scope)
    masks = ones_like(kernel_values(model, kernels))
    # One copy for all rounds: cloning costs more than scoring a small model.
    copy = _float64_copy(model)
    abs_weights = [np.abs(w) for w in model.get_weights()]
    for density in schedule:
        scores = _synflow_on_copy(copy, abs_weights, kernels, input_shape, masks)
        new: Masks = {}
        for group in groups:
            # Counts are of all weights, not survivors: the schedule is in
            # absolute density, so rounding errors cannot accumulate.
            count = int(round(density * sum(masks[n].size for n in group)))
            new.update(keep_in_group(scores, masks, group, count))
        masks = new
        yield masks


def iterative_synflow_masks(model: keras.Model, kernels: Sequence[str], input_shape: Sequence[int],
                            target_fraction: float, iterations: int = 100,
                            scope: str = "global") -> Masks:
    """SynFlow's iterative pruning to `target_fraction` of the weights, without data.

    Pruning a little at a time and rescoring lets the scores of a thinning
    layer rise before it empties; one-shot SynFlow (iterations=1) can remove
    whole layers (layer collapse, Tanaka et al. 2020). The final mask keeps
    exactly `round(target_fraction * n)` weights (n: all weights, or each
    layer's, by scope).

    Args:
      model: unwrapped functional or Sequential tf_keras model (not modified).
      kernels: names of the layers to prune.
      input_shape: shape of one example, without the batch dimension.
      target_fraction: final density, in (0, 1].
      iterations: pruning rounds (1 is one-shot SynFlow).
      scope: "global" or "layerwise".

    Returns:
      Float32 0/1 masks by layer name.

    Raises:
      ConfigError: bad target, iteration count or scope.
      ValueError: as `synflow_scores`.
    """
    # Keep only the newest round: a list of every round's masks would not fit for a large model.
    rounds = synflow_rounds(model, kernels, input_shape, target_fraction, iterations, scope)
    return deque(rounds, maxlen=1)[0]


def score(inputs: ScoringInputs) -> Scores:
    """The registry's entry point for one-shot scores: a single SynFlow round on the dense model."""
    return synflow_scores(inputs.model, inputs.kernels, inputs.input_shape)


def iterative_masks(inputs: ScoringInputs, fraction_to_keep: float, scope: str) -> Masks:
    """The registry's masks entry point: `inputs.iterations` rounds of iterative SynFlow."""
    return iterative_synflow_masks(inputs.model, inputs.kernels, inputs.input_shape, fraction_to_keep,
                                   iterations=inputs.iterations, scope=scope)
