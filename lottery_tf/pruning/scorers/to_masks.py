"""From scores to masks: keep the best-scored weights, globally or layer by layer.

Pure NumPy; every ranking goes through `selection.keep_top`. The scope names
are the pruning strategies' (`masks.STRATEGIES`).
"""
from collections.abc import Mapping, Sequence

import numpy as np

from lottery_tf.errors import ConfigError
from lottery_tf.pruning import selection
from lottery_tf.pruning.masks import STRATEGIES, Masks

# The ways to group layers for ranking, sorted: "global" and "layerwise".
SCOPES = tuple(sorted(STRATEGIES))


def scope_groups(names: Sequence[str], scope: str) -> list[list[str]]:
    """Layers ranked together: all of them (global) or each alone (layerwise).

    Raises:
      ConfigError: unknown scope.
    """
    if scope not in SCOPES:
        raise ConfigError(f"Unknown pruning scope {scope!r}; choose one of {list(SCOPES)}.")
    return [list(names)] if scope == "global" else [[name] for name in names]


def _check_scores(scores: Mapping[str, np.ndarray], masks: Masks) -> None:
    for name, mask in masks.items():
        if name not in scores:
            raise ValueError(f"No scores for layer {name!r}.")
        if np.shape(scores[name]) != mask.shape:
            raise ValueError(f"Scores for {name!r} have shape {np.shape(scores[name])}, "
                             f"the mask has {mask.shape}.")
        if not np.isfinite(scores[name]).all():
            raise ValueError(f"Scores for {name!r} are not all finite.")


def keep_in_group(scores: Mapping[str, np.ndarray], masks: Masks, group: list[str], count: int) -> Masks:
    """New masks for `group`: its `count` best-scored alive weights, ranked together.

    Equal scores go to the earlier position (as the at-init scorers always did,
    so stored masks are reproduced).

    Returns:
      Float32 0/1 masks for the layers of `group`.
    """
    return selection.keep_top({n: np.asarray(scores[n], dtype=np.float64) for n in group}, masks,
                              [group], [count], ties="earlier")


def prune_by_scores(scores: Mapping[str, np.ndarray], masks: Masks, fraction_to_keep: float,
                    scope: str = "global") -> Masks:
    """Keeps the best-scored `fraction_to_keep` of the surviving weights.

    Exactly `round(fraction_to_keep * alive)` weights are kept, where `alive`
    counts the survivors of all layers (global: one threshold across layers) or
    of each layer (layerwise). Pruned weights are never revived; ties go to the
    earlier position.

    Args:
      scores: `{layer_name: scores}` shaped like the masks; larger is better.
      masks: current masks (the layers to prune).
      fraction_to_keep: in [0, 1].
      scope: "global" or "layerwise".

    Returns:
      New float32 0/1 masks with the same keys and shapes.

    Raises:
      ConfigError: fraction outside [0, 1] or unknown scope.
      ValueError: scores missing, misshapen or not finite.
    """
    if not 0.0 <= fraction_to_keep <= 1.0:
        raise ConfigError(f"fraction_to_keep must be in [0, 1], got {fraction_to_keep}.")
    groups = scope_groups(list(masks), scope)
    _check_scores(scores, masks)
    new: Masks = {}
    for group in groups:
        alive = int(sum(int((masks[n] > 0).sum()) for n in group))
        new.update(keep_in_group(scores, masks, group, int(round(fraction_to_keep * alive))))
    return new


def exponential_schedule(target_fraction: float, iterations: int) -> list[float]:
    """Densities target ** (k / iterations) for k = 1..iterations (SynFlow's schedule).

    Args:
      target_fraction: the final density, in (0, 1].
      iterations: the number of rounds, at least 1.

    Returns:
      One density per round, the last equal to `target_fraction`.

    Raises:
      ConfigError: target outside (0, 1] or iterations < 1.
    """
    if not 0.0 < target_fraction <= 1.0:
        raise ConfigError(f"target_fraction must be in (0, 1], got {target_fraction}.")
    if iterations < 1:
        raise ConfigError(f"iterations must be at least 1, got {iterations}.")
    return [target_fraction ** (k / iterations) for k in range(1, iterations + 1)]
