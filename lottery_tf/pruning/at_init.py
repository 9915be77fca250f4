"""Compatibility: pruning at initialization, re-exported from `lottery_tf.pruning.scorers`.

Users, the `prune_at_init` branch and older scripts import these names from
here; each method now lives in its own file under `scorers/`, named in
`scorers/registry.py` (the only list of method names).

Every scoring function returns `{layer_name: score array shaped like the kernel}`
where a LARGER score means a MORE important weight, so `prune_by_scores` always
keeps the largest scores.
"""
from lottery_tf.pruning.scorers import registry
from lottery_tf.pruning.scorers.dispatch import method_scores, score_masks
from lottery_tf.pruning.scorers.gradients import loss_gradients
from lottery_tf.pruning.scorers.grasp import GRASP_TEMPERATURE, grasp_scores, hessian_gradient_product
from lottery_tf.pruning.scorers.inputs import Scores
from lottery_tf.pruning.scorers.magnitude import magnitude_scores
from lottery_tf.pruning.scorers.random_scores import random_scores
from lottery_tf.pruning.scorers.snip import snip_scores
from lottery_tf.pruning.scorers.synflow import iterative_synflow_masks, synflow_rounds, synflow_scores
from lottery_tf.pruning.scorers.to_masks import SCOPES, exponential_schedule, prune_by_scores

# The built-in methods when this module is imported (scorers registered later are in `registry.names()`).
METHODS = tuple(registry.names())

__all__ = [
    "GRASP_TEMPERATURE", "METHODS", "SCOPES", "Scores", "exponential_schedule", "grasp_scores",
    "hessian_gradient_product", "iterative_synflow_masks", "loss_gradients", "magnitude_scores",
    "method_scores", "prune_by_scores", "random_scores", "score_masks", "snip_scores",
    "synflow_rounds", "synflow_scores",
]
