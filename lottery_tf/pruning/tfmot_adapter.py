"""The one place that touches tfmot: wrapping models and reading/writing masks.

Every prunable layer is wrapped with `prune_low_magnitude` and a schedule that
never prunes, so masks change only when `set_masks` is called (at level
boundaries). Mask and weight variables are reached through the wrappers' named
`pruning_vars`, never by position in `layer.weights`.
"""
from collections.abc import Iterable, Mapping

import numpy as np
import tensorflow as tf
import tensorflow_model_optimization as tfmot
import tf_keras as keras

from lottery_tf.errors import ConfigError


def _is_wrapper(layer) -> bool:
    # tfmot's public API does not export the wrapper class; its wrappers are the
    # layers that carry `pruning_vars`.
    return hasattr(layer, "pruning_vars") and hasattr(layer, "layer")


class NeverPrune(tfmot.sparsity.keras.PruningSchedule):
    """A pruning schedule that never updates masks by itself."""

    def __call__(self, step):
        return tf.constant(False), tf.constant(0.0, tf.float32)

    def get_config(self):
        return {"class_name": type(self).__name__, "config": {}}


class PrunableDepthwiseConv2D(keras.layers.DepthwiseConv2D, tfmot.sparsity.keras.PrunableLayer):
    """DepthwiseConv2D whose depthwise kernel tfmot masks (tfmot 0.8 leaves it dense).

    Same variables and names as DepthwiseConv2D, so stored weights fit both.
    """

    def get_prunable_weights(self):
        return [self.depthwise_kernel]


# Built-in classes tfmot wraps without pruning anything -> a prunable twin.
_PRUNABLE_TWIN = {keras.layers.DepthwiseConv2D: PrunableDepthwiseConv2D}


def _copy_layer(layer):
    """A fresh layer from `layer`'s config, or ConfigError naming the layer."""
    try:
        return _PRUNABLE_TWIN.get(type(layer), type(layer)).from_config(layer.get_config())
    except Exception as error:  # a custom layer without a usable get_config
        raise ConfigError(f"layer {layer.name!r} ({type(layer).__name__}) cannot be copied for "
                          f"pruning ({type(error).__name__}: {error}); give it a get_config() "
                          "that returns its constructor arguments") from None


def wrap(model: keras.Model, prunable: Iterable[str]) -> keras.Model:
    """Wraps the named prunable layers of `model` (see models/prunable.py) for pruning.

    The wrapped model starts with exactly the original model's weights and
    all-ones masks.

    Args:
      model: a built functional or Sequential tf_keras model.
      prunable: names of the layers whose pruned weight is masked.

    Returns:
      A new model in which those layers are `PruneLowMagnitude` wrappers.

    Raises:
      ConfigError: a layer cannot be copied or wrapped (named in the message).
    """
    names = set(prunable)

    def clone_layer(layer):
        # A fresh copy of every layer: the wrapped model must not share
        # variables with `model`.
        if layer.name not in names:
            return _copy_layer(layer)
        try:
            # The wrapper computes in its layer's dtype policy, not the global one: under a
            # mixed policy a float32 layer (Keras' advice for the output layer) would
            # otherwise get a float16 autocast mask beside its float32 kernel.
            return tfmot.sparsity.keras.prune_low_magnitude(_copy_layer(layer),
                                                            pruning_schedule=NeverPrune(),
                                                            dtype=layer.dtype_policy)
        except ValueError as error:
            raise ConfigError(f"tfmot cannot wrap layer {layer.name!r} ({type(layer).__name__}): "
                              f"{error}. Implement tfmot.sparsity.keras.PrunableLayer, or list it "
                              "in pruning.layers_to_ignore.") from None

    wrapped = keras.models.clone_model(model, clone_function=clone_layer)
    set_weights(wrapped, get_weights(model))
    return wrapped


def _inner_layers(model: keras.Model):
    for layer in model.layers:
        yield layer.layer if _is_wrapper(layer) else layer


def _wrappers(model: keras.Model):
    return [layer for layer in model.layers if _is_wrapper(layer)]


def _short_name(variable) -> str:
    return variable.name.split("/")[-1].split(":")[0]


def weight_variables(model: keras.Model) -> dict[str, tf.Variable]:
    """The model's own variables (not tfmot's) keyed `layer/weight`, e.g. `dense_1/kernel`."""
    variables = {}
    for layer in _inner_layers(model):
        for variable in layer.weights:
            variables[f"{layer.name}/{_short_name(variable)}"] = variable
    return variables


def get_weights(model: keras.Model) -> dict[str, np.ndarray]:
    """Every weight of the model (kernels, biases, BatchNorm statistics) as NumPy."""
    return {name: v.numpy() for name, v in weight_variables(model).items()}


def set_weights(model: keras.Model, weights: Mapping[str, np.ndarray]) -> None:
    """Assigns stored weights by name; the key sets must match exactly.

    Raises:
      ValueError: a weight is missing, unexpected, or of the wrong shape.
    """
    variables = weight_variables(model)
    if set(variables) != set(weights):
        missing = sorted(set(variables) - set(weights))
        extra = sorted(set(weights) - set(variables))
        raise ValueError(f"Stored weights do not fit the model: missing {missing}, unexpected {extra}.")
    for name, variable in variables.items():
        if tuple(variable.shape) != tuple(np.shape(weights[name])):
            raise ValueError(f"Stored weight {name} has shape {np.shape(weights[name])}, "
                             f"the model wants {tuple(variable.shape)}.")
        variable.assign(weights[name])


def _mask_pairs(model: keras.Model):
    """(layer name, kernel variable, mask variable) for every wrapped layer."""
    pairs = []
    for wrapper in _wrappers(model):
        (kernel, mask, _threshold), = wrapper.pruning_vars
        pairs.append((wrapper.layer.name, kernel, mask))
    return pairs


def get_masks(model: keras.Model) -> dict[str, np.ndarray]:
    """The current masks, by layer name."""
    return {name: mask.numpy() for name, _, mask in _mask_pairs(model)}


def set_masks(model: keras.Model, masks: Mapping[str, np.ndarray]) -> None:
    """Writes masks into the wrappers and zeroes the pruned weights at once.

    Call inside the distribution strategy's scope.

    Raises:
      ValueError: the masks do not name exactly the wrapped layers.
    """
    pairs = _mask_pairs(model)
    if set(masks) != {name for name, _, _ in pairs}:
        raise ValueError(f"Masks for {sorted(masks)} do not match the pruned layers "
                         f"{sorted(name for name, _, _ in pairs)}.")
    for name, kernel, mask in pairs:
        mask.assign(np.asarray(masks[name], dtype=mask.dtype.as_numpy_dtype))
        kernel.assign(kernel * mask)


def apply_masks(model: keras.Model) -> None:
    """Zeroes every pruned weight (weights *= mask)."""
    for _, kernel, mask in _mask_pairs(model):
        kernel.assign(kernel * mask)


def mask_by_variable(model: keras.Model) -> dict[int, tf.Variable]:
    """Maps id(kernel variable) -> its mask variable, for masking gradients."""
    return {id(kernel): mask for _, kernel, mask in _mask_pairs(model)}


def set_pruning_step(model: keras.Model, step: int) -> None:
    """Sets the wrappers' step counters to `step`.

    tfmot asserts they are >= 1 whenever a wrapper runs in training mode. The
    trainer's step runs `training_view` instead, so the counters hold the step a
    run started or resumed at; nothing here reads them.
    """
    for wrapper in _wrappers(model):
        wrapper.pruning_step.assign(max(int(step), 0))


def prunable_kernels(model: keras.Model) -> dict[str, np.ndarray]:
    """The pruned layers' kernels by layer name (the magnitudes ranked when pruning)."""
    return {name: kernel.numpy() for name, kernel, _ in _mask_pairs(model)}


def training_view(model: keras.Model) -> keras.Model:
    """The model without its wrappers, sharing every variable with `model`.

    The training step runs this view: a wrapper's forward pass rewrites its
    whole kernel (kernel *= mask) on every call, which cost LeNet-300-100 about
    a tenth of its training speed, while masked gradients already keep pruned
    weights at exactly zero. Evaluation, export and pruning use the wrapped
    model, whose forward pass still applies the masks.
    """
    return tfmot.sparsity.keras.strip_pruning(model)


def strip(model: keras.Model) -> keras.Model:
    """The plain Keras model with wrappers removed and masked (exactly zero) kernels."""
    apply_masks(model)
    return tfmot.sparsity.keras.strip_pruning(model)


def zero_biases_of_dead_units(model: keras.Model, masks: Mapping[str, np.ndarray]) -> None:
    """Zeroes the bias of every output unit whose incoming weights are all masked.

    Args:
      model: the wrapped model.
      masks: kernel masks by layer name (the unit axis is the kernel's last).
    """
    variables = weight_variables(model)
    for name, mask in masks.items():
        bias = variables.get(f"{name}/bias")
        if bias is not None:
            alive = np.asarray(mask).reshape(-1, np.shape(mask)[-1]).any(axis=0)
            bias.assign(bias * alive.astype(bias.dtype.as_numpy_dtype))
