"""Which prunable layers a run prunes: all of them, or those a runtime can exploit.

`pruning.policy`:

- unset: every prunable layer (models/prunable.py).
- `xnnpack`: only 1x1 Conv2D layers, the ones TFLite's XNNPACK delegate can run
  as sparse matrix products; the model must pass tfmot's
  `PruneForLatencyOnXNNPack.ensure_model_supports_pruning` (a 3x3 stride-2
  convolution on 3 channels after a ZeroPadding2D of 1 starts the chain, only
  depthwise/1x1 convolutions, BatchNorm, ReLU and the like in between, a global
  average pooling ends it). Every other layer (that first convolution, the
  depthwise convolutions, the classifier) is not wrapped and stays dense, as
  XNNPACK's sparse path needs.
"""
from collections.abc import Mapping
from typing import TYPE_CHECKING

from lottery_tf.errors import ConfigError

if TYPE_CHECKING:  # the config module imports this one: no TensorFlow at start-up
    import tf_keras as keras

POLICIES = ("xnnpack",)


def check_policy(policy: str | None) -> None:
    """Raises ConfigError unless `policy` is unset or one of `POLICIES`."""
    if policy is not None and policy not in POLICIES:
        raise ConfigError(f"pruning.policy must be unset (prune every prunable layer) or one of "
                          f"{list(POLICIES)}, got {policy!r}.")


def xnnpack_problem(model: "keras.Model") -> str | None:
    """Why `model` does not fit XNNPACK's sparse inference (tfmot's check), or None if it does."""
    import tensorflow_model_optimization as tfmot

    try:
        tfmot.sparsity.keras.PruneForLatencyOnXNNPack().ensure_model_supports_pruning(model)
    except ValueError as error:
        return str(error)
    return None


def apply_policy(model: "keras.Model", kinds: Mapping[str, str], policy: str | None) -> dict[str, str]:
    """The prunable layers (name -> kind, as `prunable_layers` gives them) the policy prunes.

    Args:
      model: the built, unwrapped model.
      kinds: every prunable layer of `model`.
      policy: `pruning.policy` (None: all of `kinds`).

    Returns:
      The kept subset of `kinds`, in model order.

    Raises:
      ConfigError: an unknown policy, a model the policy does not fit, or no layer left.
    """
    check_policy(policy)
    if policy is None:
        return dict(kinds)
    problem = xnnpack_problem(model)
    if problem is not None:
        raise ConfigError(f"pruning.policy=xnnpack: model {model.name!r} does not fit XNNPACK's sparse "
                          f"inference: {problem}. Use a model built for it (e.g. mobilenet_16) or "
                          "leave pruning.policy unset.")
    import tensorflow_model_optimization as tfmot

    allow = tfmot.sparsity.keras.PruneForLatencyOnXNNPack().allow_pruning
    # XNNPACK's sparse inference takes flat models only: nested layers stay dense.
    kept = {name: kind for name, kind in kinds.items()
            if "/" not in name and allow(model.get_layer(name))}
    if not kept:
        raise ConfigError(f"pruning.policy=xnnpack: model {model.name!r} has no 1x1 Conv2D layer to prune.")
    return kept
