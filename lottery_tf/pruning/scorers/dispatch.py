"""Pruning at initialization by method name: a registry lookup, then scoring and masking.

The method's record (`registry.get`) says whether it needs data and whether it
prunes by itself (SynFlow's rounds) or once by its scores (`to_masks.prune_by_scores`).
"""
from collections.abc import Sequence

import numpy as np
import tf_keras as keras

from lottery_tf.errors import ConfigError
from lottery_tf.pruning.masks import Masks, ones_like
from lottery_tf.pruning.scorers import registry
from lottery_tf.pruning.scorers.gradients import kernel_values
from lottery_tf.pruning.scorers.inputs import Scores, ScoringInputs
from lottery_tf.pruning.scorers.to_masks import prune_by_scores, scope_groups


def _check_data(record: registry.Scorer, images, labels) -> None:
    if record.needs_data and (images is None or labels is None):
        raise ConfigError(f"Pruning method {record.name!r} needs images and labels.")


def score_masks(method: str, model: keras.Model, kernels: Sequence[str], images, labels,
                input_shape: Sequence[int], fraction_to_keep: float, scope: str,
                rng: np.random.Generator, synflow_iterations: int = 100,
                batch_size: int | None = None) -> Masks:
    """One-shot pruning from dense at initialization by the named method.

    Args:
      method: a name in `registry.names()`.
      model: unwrapped tf_keras model holding the weights to score (unchanged
        afterwards).
      kernels: names of the layers to prune.
      images, labels: scoring examples for the data-driven methods (snip,
        grasp); ignored, and may be None, for the data-free ones.
      input_shape: shape of one example (used by "synflow").
      fraction_to_keep: density of the result, in [0, 1] ((0, 1] for synflow).
      scope: "global" or "layerwise".
      rng: randomness for "random".
      synflow_iterations: pruning rounds for a method that prunes in rounds ("synflow").
      batch_size: examples per forward pass for "snip" and "grasp" (None: all
        at once); bounds memory, since GraSP keeps a second-order graph.

    Returns:
      Float32 0/1 masks by layer name.

    Raises:
      ConfigError: unknown method or scope, bad fraction, or no data for a
        data-driven method.
      ValueError: as the scoring functions.
    """
    record = registry.get(method)
    scope_groups(list(kernels), scope)  # Fail on a bad scope before any expensive scoring.
    _check_data(record, images, labels)
    inputs = ScoringInputs(model, kernels, images, labels, input_shape, rng, batch_size,
                           iterations=synflow_iterations)
    prune = record.masks_function()
    if prune is not None:
        return prune(inputs, fraction_to_keep, scope)
    dense = ones_like(kernel_values(model, kernels))
    return prune_by_scores(record.score_function()(inputs), dense, fraction_to_keep, scope)


def method_scores(method: str, model: keras.Model, kernels: Sequence[str], images, labels,
                  input_shape: Sequence[int], rng: np.random.Generator,
                  batch_size: int | None = None) -> Scores:
    """The named method's one-shot scores of the dense model (SynFlow: a single round).

    Args: as `score_masks`.

    Returns:
      `{layer_name: scores}` shaped like the kernels; larger is better.

    Raises:
      ConfigError: unknown method, or no data for a data-driven method.
      ValueError: as the scoring functions.
    """
    record = registry.get(method)
    _check_data(record, images, labels)
    return record.score_function()(ScoringInputs(model, kernels, images, labels, input_shape, rng,
                                                 batch_size))
