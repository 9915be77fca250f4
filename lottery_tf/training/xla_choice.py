"""Whether the train step is XLA-compiled: `runtime.jit_compile`, or when unset, a measured rule.

On CPU, XLA compiles convolutions and recurrent layers badly: `scripts/benchmark_xla.py`
measured convolutional models' steps 1.3-1.6x slower with XLA, depthwise ones
10-14x slower and an LSTM's orders of magnitude slower, while LeNet's dense step
ran 2.0-2.3x faster with it (the figures are in the README, "XLA on CPU").
Unset, `runtime.jit_compile` therefore means: off on a CPU for a model with any
convolution or recurrent layer (also inside nested models, tfmot wrappers and
Bidirectional), on otherwise (dense and attention models; every model on GPU
and TPU). A value given in the config wins.
"""
from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from lottery_tf.models import layer_paths

_CONVOLUTION = tuple(getattr(keras.layers, name) for name in (
    "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
    "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D"))


# LSTM, GRU, SimpleRNN and ConvLSTM are all keras.layers.RNN.
_RECURRENT = (keras.layers.RNN,)


def _contains(model: keras.Model, kinds: tuple[type, ...]) -> bool:
    # walk() goes into inner models and tfmot wrappers; `.layer` looks inside Keras'
    # own wrappers (TimeDistributed, Bidirectional).
    return any(isinstance(layer, kinds) or isinstance(getattr(layer, "layer", None), kinds)
               for _, layer, _ in layer_paths.walk(model))


def has_convolutions(model: keras.Model) -> bool:
    """Whether any layer of `model`, nested or wrapped, is a convolution of any kind."""
    return _contains(model, _CONVOLUTION)


def has_recurrent_layers(model: keras.Model) -> bool:
    """Whether any layer of `model`, nested or wrapped, is recurrent (LSTM, GRU, SimpleRNN, ...)."""
    return _contains(model, _RECURRENT)


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
    if on_cpu(strategy):
        slow = [kind for kind, found in (("convolutions", has_convolutions), ("recurrent layers",
                                                                             has_recurrent_layers))
                if found(model)]
        if slow:
            return False, (f"XLA off: {' and '.join(slow)} on CPU train slower under XLA (set "
                           "runtime.jit_compile=True to force it)")
    return True, "XLA on (runtime.jit_compile unset)"
