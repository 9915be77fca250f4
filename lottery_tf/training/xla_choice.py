"""Whether the train step is XLA-compiled: `runtime.jit_compile`, or when unset, a measured rule.

On CPU, XLA compiles depthwise convolutions badly: `scripts/benchmark_xla.py`
measured their models' steps several times slower with XLA (the figures are in
the README, "XLA on CPU"), while dense and plain convolutional models gain from
it. Unset, `runtime.jit_compile` therefore means: off on a CPU for a model with
depthwise kernels (DepthwiseConv1D/2D, SeparableConv1D/2D, also inside nested
models and tfmot wrappers), on otherwise. A value given in the config wins.
"""
from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

_DEPTHWISE = tuple(getattr(keras.layers, name) for name in (
    "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D")
    if hasattr(keras.layers, name))


def _layers_within(layer: keras.layers.Layer):
    """`layer` and every layer inside it (inner models, Wrappers such as tfmot's)."""
    yield layer
    if isinstance(layer, keras.layers.Wrapper):
        yield from _layers_within(layer.layer)
    for inner in getattr(layer, "layers", None) or []:
        yield from _layers_within(inner)


def has_depthwise_kernels(model: keras.Model) -> bool:
    """Whether any layer of `model`, nested or wrapped, is a depthwise or separable convolution."""
    return any(isinstance(layer, _DEPTHWISE) for layer in _layers_within(model))


def on_cpu(strategy: tf.distribute.Strategy) -> bool:
    """Whether `strategy`'s replicas run on CPUs."""
    try:
        device = tf.DeviceSpec.from_string(strategy.extended.worker_devices[0])
    except RuntimeError:  # the default strategy: TensorFlow's placement, on a GPU if there is one
        return not (tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("TPU"))
    return (device.device_type or "CPU").upper() == "CPU"


def choose_jit_compile(requested: bool | None, model: keras.Model,
                       strategy: tf.distribute.Strategy) -> tuple[bool, str]:
    """`(jit_compile, why)` for training `model` under `strategy`.

    Args:
        requested: the config's ``runtime.jit_compile``; None decides by the rule.
        model: the (wrapped) model to train.
        strategy: where it trains.
    """
    if requested is not None:
        return bool(requested), f"runtime.jit_compile={bool(requested)}"
    if on_cpu(strategy) and has_depthwise_kernels(model):
        return False, ("XLA off: depthwise convolutions on CPU train several times slower under "
                       "XLA (set runtime.jit_compile=True to force it)")
    return True, "XLA on (runtime.jit_compile unset)"
