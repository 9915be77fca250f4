"""Pruning-at-initialization scorers: one file per method, one record per method in `registry`.

Layout:
  registry.py      the `Scorer` records by name (the only list of method names; no TensorFlow)
  inputs.py        `ScoringInputs`, what every scorer is given
  gradients.py     model access and loss gradients shared by the data-driven scorers
  to_masks.py      scores to masks: `prune_by_scores`, scope groups, SynFlow's schedule
  dispatch.py      `score_masks` and `method_scores`, which look the method up in the registry
  snip.py, grasp.py, synflow.py, magnitude.py, random_scores.py: the methods

This package file imports nothing, so reading the registry (for --help) loads no TensorFlow.
"""
