"""Wrapping a user's Keras model for pruning, and naming the kinds of its layers."""
import tf_keras as keras

from lottery_tf.errors import ConfigError
from lottery_tf.fit.keras_flavour import require_tf_keras
from lottery_tf.models.prunable import holds_pruned_weight, prunable_layers
from lottery_tf.pruning import tfmot_adapter
from lottery_tf.pruning.policies import apply_policy


def layer_kinds(model: keras.Model, output_layer: str | None = None) -> dict[str, str]:
    """Each prunable layer's kind, one of `models.prunable.KINDS` ("conv", "dense", "output", ...).

    Args:
      model: a tf_keras model, wrapped or not.
      output_layer: the layer pruned at the output rate. None: the layer named
        `output` (the zoo's models) if there is one, else the last prunable layer.

    Returns:
      layer name -> kind, in model order.

    Raises:
      ConfigError: the model has no prunable layer, or `output_layer` is not one of them.
    """
    kinds = prunable_layers(model)
    if not kinds:
        raise ConfigError(f"Model {model.name!r} has no layer tfmot can prune (Dense, Conv, "
                          "DepthwiseConv2D, SeparableConv, Embedding or a PrunableLayer).")
    if output_layer is None:
        if "output" in kinds.values():
            return kinds
        output_layer = list(kinds)[-1]
    if not holds_pruned_weight(output_layer, kinds):
        raise ConfigError(f"output_layer={output_layer!r} is not a prunable layer of {model.name!r}; "
                          f"prunable layers are {list(kinds)}.")
    return {name: "output" if holds_pruned_weight(output_layer, [name])
            else ("dense" if kind == "output" else kind) for name, kind in kinds.items()}


def wrap(model: keras.Model, policy: str | None = None) -> keras.Model:
    """Every prunable layer of `model`, at any depth, wrapped with a schedule that never prunes.

    Masks change only when `lottery_tf.api.prune` (or `set_masks`) writes them.

    Args:
      model: a built Sequential or functional tf_keras model (build it inside
        the distribution strategy's scope and call `wrap` there too).
      policy: which prunable layers are wrapped, as the command line's
        `pruning.policy`: None for all, "xnnpack" for only the 1x1 Conv2D
        layers of a model that fits XNNPACK's sparse inference
        (`lottery_tf.pruning.policies`); the others stay dense and `prune`
        leaves them alone.

    Returns:
      A new model with the same weights and all-ones masks; compile and fit it.

    Raises:
      ConfigError: the model is a Keras 3 model, is already wrapped, has nothing to prune, is
        subclassed (or holds a subclassed inner model), or does not fit the policy.
    """
    require_tf_keras(model, f"Model {getattr(model, 'name', '')!r}")
    if is_wrapped(model):
        raise ConfigError(f"Model {model.name!r} is already wrapped; prune it with lottery_tf.api.prune.")
    kinds = apply_policy(model, layer_kinds(model), policy)
    try:
        return tfmot_adapter.wrap(model, kinds)
    except ValueError as error:  # clone_model refuses subclassed models
        raise ConfigError(f"Cannot wrap model {model.name!r} ({error}); wrap needs a Sequential or "
                          "functional model.") from None


def is_wrapped(model: keras.Model) -> bool:
    """Whether `model` carries tfmot pruning wrappers."""
    return bool(tfmot_adapter.get_masks(model))


def require_wrapped(model: keras.Model, action: str) -> None:
    """Raises ConfigError naming the fix if `model` has no pruning wrappers."""
    if not is_wrapped(model):
        raise ConfigError(f"Cannot {action} model {model.name!r}: it has no pruning wrappers. "
                          "Wrap it first: model = lottery_tf.api.wrap(model), then compile and fit that.")
