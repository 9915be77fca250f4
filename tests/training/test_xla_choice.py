"""runtime.jit_compile: an explicit value wins; unset, XLA is off on CPU for convolutional and
recurrent models only."""
import tensorflow as tf
import tf_keras as keras

from lottery_tf.models import build_model
from lottery_tf.testing import wrapped_and_pruned
from lottery_tf.training.xla_choice import choose_jit_compile, has_convolutions, has_recurrent_layers

CPU = tf.distribute.get_strategy()


def _nested_separable():
    block = keras.Sequential([keras.layers.SeparableConv2D(4, 3), keras.layers.ReLU()])
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(4, 3)(inputs)
    x = block(x)
    outputs = keras.layers.Dense(3)(keras.layers.GlobalAveragePooling2D()(x))
    return keras.Model(inputs, outputs)


def _recurrent():
    inputs = keras.Input((28, 28))
    return keras.Model(inputs, keras.layers.Dense(10)(keras.layers.LSTM(8)(inputs)))


def test_convolutions_are_found_inside_wrappers_and_nested_models():
    assert not has_convolutions(build_model("lenet_300_100", (28, 28, 1), 10))
    assert not has_convolutions(_recurrent())
    assert has_convolutions(build_model("conv2", (32, 32, 3), 10))
    mobilenet = build_model("mobilenet_16", (28, 28, 1), 10)
    assert has_convolutions(mobilenet)
    assert has_convolutions(wrapped_and_pruned(mobilenet, 0.5))
    assert has_convolutions(_nested_separable())


def test_recurrent_layers_are_found_inside_bidirectional_and_nested_models():
    assert has_recurrent_layers(_recurrent())
    assert not has_recurrent_layers(build_model("lenet_300_100", (28, 28, 1), 10))
    inner = keras.Sequential([keras.layers.Bidirectional(keras.layers.GRU(4))])
    inputs = keras.Input((28, 28))
    nested = keras.Model(inputs, keras.layers.Dense(10)(inner(inputs)))
    assert has_recurrent_layers(nested)
    off, why = choose_jit_compile(None, nested, CPU)
    assert off is False and "recurrent layers on CPU" in why


def test_unset_decides_by_model_on_cpu_and_a_given_value_wins():
    depthwise = build_model("mobilenet_16", (28, 28, 1), 10)
    dense = build_model("lenet_300_100", (28, 28, 1), 10)
    off, why = choose_jit_compile(None, depthwise, CPU)
    assert off is False and "convolutions on CPU" in why and "jit_compile=True" in why
    assert choose_jit_compile(None, build_model("resnet20", (32, 32, 3), 10), CPU)[0] is False
    assert choose_jit_compile(None, dense, CPU)[0] is True
    assert choose_jit_compile(True, depthwise, CPU) == (True, "runtime.jit_compile=True")
    assert choose_jit_compile(False, dense, CPU)[0] is False


def test_an_experiment_with_convolutions_trains_without_xla_on_cpu_and_says_why(
        tiny_mnist_dir, tmp_path, capsys):
    from lottery_tf.experiments.setup import prepare
    from lottery_tf.testing import tiny_config

    config = tiny_config(tiny_mnist_dir, levels=0, **{"model.name": "mobilenet_16"})
    config.runtime.jit_compile = None
    setup = prepare(config, str(tmp_path), CPU, quiet=True)
    assert setup.jit_compile is False
    assert "XLA off: convolutions on CPU" in capsys.readouterr().out
    config.runtime.jit_compile = True
    assert prepare(config, str(tmp_path), CPU, quiet=True).jit_compile is True
