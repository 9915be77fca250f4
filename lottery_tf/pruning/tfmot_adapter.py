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
from lottery_tf.models import layer_paths, prunable


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


class PrunableSeparableConv1D(keras.layers.SeparableConv1D, tfmot.sparsity.keras.PrunableLayer):
    """SeparableConv1D with both kernels masked (tfmot masks only the pointwise one)."""

    def get_prunable_weights(self):
        return [self.depthwise_kernel, self.pointwise_kernel]


class PrunableSeparableConv2D(keras.layers.SeparableConv2D, tfmot.sparsity.keras.PrunableLayer):
    """SeparableConv2D with both kernels masked (tfmot masks only the pointwise one)."""

    def get_prunable_weights(self):
        return [self.depthwise_kernel, self.pointwise_kernel]


class PrunableBidirectional(keras.layers.Bidirectional, tfmot.sparsity.keras.PrunableLayer):
    """Bidirectional whose two RNNs' input and recurrent kernels are masked (tfmot refuses it)."""

    def get_prunable_weights(self):
        return [weight for rnn in (self.forward_layer, self.backward_layer)
                for weight in (rnn.cell.kernel, rnn.cell.recurrent_kernel)]


class PrunableMultiHeadAttention(keras.layers.MultiHeadAttention, tfmot.sparsity.keras.PrunableLayer):
    """MultiHeadAttention whose query, key, value and output kernels are masked.

    Keras builds the four projections on the layer's first call, after tfmot's
    wrapper asks for the weights it masks; they are built here from the shapes
    the layer's config records.
    """

    def get_prunable_weights(self):
        if not self._query_dense.built:
            self._query_dense.build(self._query_shape)
            self._key_dense.build(self._key_shape)
            self._value_dense.build(self._value_shape)
            heads = self._query_dense.compute_output_shape(self._query_shape)[:-1]
            self._output_dense.build(heads.concatenate([self._value_dim]))
        return [self._query_dense.kernel, self._key_dense.kernel, self._value_dense.kernel,
                self._output_dense.kernel]


# Built-in classes tfmot wraps without pruning all that lottery_tf prunes -> a prunable twin
# with the same variables.
_PRUNABLE_TWIN = {keras.layers.DepthwiseConv2D: PrunableDepthwiseConv2D,
                  keras.layers.SeparableConv1D: PrunableSeparableConv1D,
                  keras.layers.SeparableConv2D: PrunableSeparableConv2D,
                  keras.layers.Bidirectional: PrunableBidirectional,
                  keras.layers.MultiHeadAttention: PrunableMultiHeadAttention}


def _copy_layer(layer):
    """A fresh layer from `layer`'s config, or ConfigError naming the layer."""
    try:
        return _PRUNABLE_TWIN.get(type(layer), type(layer)).from_config(layer.get_config())
    except Exception as error:  # a custom layer without a usable get_config
        raise ConfigError(f"layer {layer.name!r} ({type(layer).__name__}) cannot be copied for "
                          f"pruning ({type(error).__name__}: {error}); give it a get_config() "
                          "that returns its constructor arguments") from None


def _layers_to_wrap(model: keras.Model, entries: Iterable[str]) -> set[str]:
    """Paths of the layers holding the named entries (see models/prunable.py)."""
    wanted = set(entries)
    return {weight.layer_path for weight in prunable.pruned_weights(model, strict=False)
            if weight.entry in wanted}


def wrap(model: keras.Model, prunable_entries: Iterable[str]) -> keras.Model:
    """Wraps the layers holding the named pruned weights (see models/prunable.py) for pruning.

    Layers inside inner models are wrapped in place: each inner model is cloned
    with its own layers wrapped, at any depth. The wrapped model starts with
    exactly the original model's weights and all-ones masks.

    Args:
      model: a built functional or Sequential tf_keras model.
      prunable_entries: entries (mask keys) whose weights are masked.

    Returns:
      A new model in which those layers are `PruneLowMagnitude` wrappers.

    Raises:
      ConfigError: a layer cannot be copied or wrapped (named in the message).
    """
    paths = _layers_to_wrap(model, prunable_entries)

    def clone_function(prefix: str):
        def clone_layer(layer):
            path = f"{prefix}{layer.name}"
            if layer_paths.is_nested_model(layer):
                return _clone(layer, clone_function(f"{path}/"))
            # A fresh copy of every layer: the wrapped model must not share
            # variables with `model`.
            if path not in paths:
                return _copy_layer(layer)
            try:
                # The wrapper computes in its layer's dtype policy, not the global one: under a
                # mixed policy a float32 layer (Keras' advice for the output layer) would
                # otherwise get a float16 autocast mask beside its float32 kernel.
                return tfmot.sparsity.keras.prune_low_magnitude(_copy_layer(layer),
                                                                pruning_schedule=NeverPrune(),
                                                                dtype=layer.dtype_policy)
            except ValueError as error:
                raise ConfigError(f"tfmot cannot wrap layer {path!r} ({type(layer).__name__}): "
                                  f"{error}. Implement tfmot.sparsity.keras.PrunableLayer, or list "
                                  "it in pruning.layers_to_ignore.") from None
        return clone_layer

    wrapped = _clone(model, clone_function(""))
    set_weights(wrapped, get_weights(model))
    return wrapped


def _clone(model: keras.Model, clone_layer) -> keras.Model:
    """`model` cloned layer by layer through `clone_layer`, or ConfigError naming the model."""
    try:
        return keras.models.clone_model(model, clone_function=clone_layer)
    except ValueError as error:  # clone_model refuses subclassed models
        raise ConfigError(f"model {model.name!r} cannot be cloned for pruning ({error}); build it "
                          "as a Sequential or functional model") from None


def weight_variables(model: keras.Model) -> dict[str, tf.Variable]:
    """The model's own variables (not tfmot's), keyed `<layer path>/<weight>`, e.g. `dense_1/kernel`."""
    return layer_paths.weight_variables(model)


def get_weights(model: keras.Model) -> dict[str, np.ndarray]:
    """Every weight of the model (kernels, biases, BatchNorm statistics) as NumPy."""
    return {name: v.numpy() for name, v in weight_variables(model).items()}


def set_weights(model: keras.Model, weights: Mapping[str, np.ndarray]) -> None:
    """Assigns stored weights by name; the key sets must match.

    Keys that differ only in Keras' automatic layer numbering match
    (`layer_paths.match_keys`).

    Raises:
      ValueError: a weight is missing, unexpected, or of the wrong shape.
    """
    variables = weight_variables(model)
    matched = layer_paths.match_keys(weights, variables)
    if matched is None:
        missing = sorted(set(variables) - set(weights))
        extra = sorted(set(weights) - set(variables))
        raise ValueError(f"Stored weights do not fit the model: missing {missing}, unexpected {extra}.")
    weights = matched
    for name, variable in variables.items():
        if tuple(variable.shape) != tuple(np.shape(weights[name])):
            raise ValueError(f"Stored weight {name} has shape {np.shape(weights[name])}, "
                             f"the model wants {tuple(variable.shape)}.")
        variable.assign(weights[name])


def _mask_pairs(model: keras.Model):
    """(entry, pruned variable, mask variable) for every weight a wrapper masks, in model order."""
    pairs = []
    for path, layer, placed in layer_paths.walk(model):
        if layer_paths.is_pruning_wrapper(placed):
            entry_of = {id(weight.variable): weight.entry
                        for weight in prunable.layer_pruned_weights(path, layer)}
            for kernel, mask, _threshold in placed.pruning_vars:
                pairs.append((entry_of[id(kernel)], kernel, mask))
    return pairs


def _wrappers(model: keras.Model):
    return [placed for _, _, placed in layer_paths.walk(model)
            if layer_paths.is_pruning_wrapper(placed)]


def get_masks(model: keras.Model) -> dict[str, np.ndarray]:
    """The current masks, by entry (the layer's path; `<path>/<weight>` for several per layer)."""
    return {name: mask.numpy() for name, _, mask in _mask_pairs(model)}


def set_masks(model: keras.Model, masks: Mapping[str, np.ndarray]) -> None:
    """Writes masks into the wrappers and zeroes the pruned weights at once.

    Call inside the distribution strategy's scope.

    Raises:
      ValueError: the masks do not name exactly the wrapped weights (up to
        Keras' automatic layer numbering, see `layer_paths.match_keys`).
    """
    pairs = _mask_pairs(model)
    matched = layer_paths.match_keys(masks, [name for name, _, _ in pairs])
    if matched is None:
        raise ValueError(f"Masks for {sorted(masks)} do not match the pruned layers "
                         f"{sorted(name for name, _, _ in pairs)}.")
    masks = matched
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
    """The pruned weights by entry (the magnitudes ranked when pruning)."""
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
