"""Models outside the zoo: the registry, import-path builders, every prunable layer kind."""
from __future__ import annotations

import lottery_tf  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TF loads)

# isort: split

import numpy as np
import pytest
import tf_keras as keras

from lottery_tf.errors import ConfigError
from lottery_tf.experiments import config as config_lib
from lottery_tf.models import build_model, known_models, prunable_layers
from lottery_tf.models.prunable import pruned_weight_keys
from lottery_tf.models.registry import register_model
from lottery_tf.pruning import masks as mask_lib
from lottery_tf.pruning import tfmot_adapter
from lottery_tf.pruning.rates import layer_rates

MNIST = (28, 28, 1)


def test_a_registered_family_builds_by_name_and_is_listed():
    calls = []

    def tiny(shape, classes, seed, *, initializer, sizes):
        calls.append((shape, classes, seed, initializer, sizes))
        inputs = keras.Input(shape=shape)
        x = keras.layers.Flatten()(inputs)
        for width in sizes:
            x = keras.layers.Dense(width)(x)
        return keras.Model(inputs, keras.layers.Dense(classes, name="output")(x))

    register_model("tinymlp", tiny, form="underscored", usage=("tinymlp_<w>...",), replace=True)
    model = build_model("tinymlp_7_5", MNIST, 4, seed=3)
    assert calls == [(MNIST, 4, 3, "glorot_normal", (7, 5))]
    assert [layer.units for layer in model.layers[2:]] == [7, 5, 4]
    assert "tinymlp_<w>..." in known_models()
    with pytest.raises(ConfigError, match="already registered"):
        register_model("tinymlp", tiny)


def test_import_path_builder_gets_shape_classes_seed_and_optional_initializer():
    model = build_model("custom_builders:small_dense", MNIST, 3, seed=5)
    again = build_model("custom_builders:small_dense", MNIST, 3, seed=5)
    np.testing.assert_array_equal(model.get_layer("hidden").kernel.numpy(),
                                  again.get_layer("hidden").kernel.numpy())
    assert model.output_shape == (None, 3)
    chosen = build_model("custom_builders:with_initializer", MNIST, 3, "kaiming_normal")
    assert chosen.received_initializer == "kaiming_normal"


def test_unbuilt_sequential_is_built_and_its_output_found():
    model = build_model("custom_builders:sequential", MNIST, 10)
    assert model.built and prunable_layers(model) == {"output": "output"}


@pytest.mark.parametrize(("name", "message"), [
    ("no_such_module:build", "does not import.*PYTHONPATH"),
    ("custom_builders:missing", "has no function 'missing'"),
    ("custom_builders:not_a_model", "returned str, not a tf_keras Model"),
    ("custom_builders:raises", "raised RuntimeError: broken on purpose"),
    ("custom_builders:subclassed", "subclassed keras.Model.*functional API"),
    ("custom_builders:", "package.module:function"),
])
def test_bad_builders_get_one_message_naming_the_fix(name, message):
    with pytest.raises(ConfigError, match=message):
        build_model(name, MNIST, 10)


def _one_layer_model(layer, input_shape, dtype="float32"):
    inputs = keras.Input(shape=input_shape, dtype=dtype)
    # MultiHeadAttention attends the sequence to itself.
    x = layer(inputs, inputs) if isinstance(layer, keras.layers.MultiHeadAttention) else layer(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.Flatten()(x)
    return keras.Model(inputs, keras.layers.Dense(3, name="output")(x))


_RNN_KERNELS = ("kernel", "recurrent_kernel")
KINDS = [
    (lambda: keras.layers.Conv1D(4, 3, name="layer"), (10, 2), "float32", "conv", ("kernel",)),
    (lambda: keras.layers.Conv2D(4, 3, name="layer"), (6, 6, 2), "float32", "conv", ("kernel",)),
    (lambda: keras.layers.Conv3D(4, 2, name="layer"), (4, 4, 4, 2), "float32", "conv", ("kernel",)),
    (lambda: keras.layers.Conv2DTranspose(4, 3, name="layer"), (5, 5, 2), "float32", "conv",
     ("kernel",)),
    (lambda: keras.layers.SeparableConv1D(4, 3, name="layer"), (10, 2), "float32", "conv",
     ("depthwise_kernel", "pointwise_kernel")),
    (lambda: keras.layers.SeparableConv2D(4, 3, name="layer"), (6, 6, 2), "float32", "conv",
     ("depthwise_kernel", "pointwise_kernel")),
    (lambda: keras.layers.DepthwiseConv2D(3, depth_multiplier=2, name="layer"), (6, 6, 3), "float32",
     "conv", ("depthwise_kernel",)),
    (lambda: keras.layers.Embedding(50, 6, name="layer"), (7,), "int32", "embedding", ("embeddings",)),
    (lambda: keras.layers.Dense(5, name="layer"), (4,), "float32", "dense", ("kernel",)),
    (lambda: keras.layers.LSTM(5, return_sequences=True, name="layer"), (6, 3), "float32", "dense",
     _RNN_KERNELS),
    (lambda: keras.layers.GRU(5, name="layer"), (6, 3), "float32", "dense", _RNN_KERNELS),
    (lambda: keras.layers.SimpleRNN(5, name="layer"), (6, 3), "float32", "dense", _RNN_KERNELS),
    (lambda: keras.layers.Bidirectional(keras.layers.LSTM(5), name="layer"), (6, 3), "float32",
     "dense", tuple(f"{direction}_lstm/lstm_cell/{kernel}" for direction in ("forward", "backward")
                    for kernel in _RNN_KERNELS)),
    (lambda: keras.layers.MultiHeadAttention(2, 4, name="layer"), (6, 3), "float32", "dense",
     ("query/kernel", "key/kernel", "value/kernel", "attention_output/kernel")),
]


@pytest.mark.parametrize(("make", "shape", "dtype", "kind", "weights"), KINDS)
def test_every_tfmot_kind_is_pruned_through_its_own_weights(make, shape, dtype, kind, weights):
    model = _one_layer_model(make(), shape, dtype)
    # One pruned weight keeps the layer's name as its entry; several are entries of their own.
    entries = ["layer"] if len(weights) == 1 else [f"layer/{weight}" for weight in weights]
    assert prunable_layers(model) == {**dict.fromkeys(entries, kind), "output": "output"}  # no BN
    keys = pruned_weight_keys(model)
    assert [keys[entry] for entry in entries] == [f"layer/{weight}" for weight in weights]
    wrapped = tfmot_adapter.wrap(model, prunable_layers(model))
    kernels = tfmot_adapter.prunable_kernels(wrapped)
    stored = tfmot_adapter.get_weights(model)
    assert {entry: kernels[entry].shape for entry in entries} == {
        entry: stored[keys[entry]].shape for entry in entries}
    rates = {**dict.fromkeys(entries, 0.5), "output": 0.0}
    masks = mask_lib.prune_layerwise(kernels, mask_lib.ones_like(kernels), rates)
    tfmot_adapter.set_masks(wrapped, masks)
    stored = tfmot_adapter.get_weights(wrapped)
    for entry in entries:  # each weight ranked on its own, layer-wise
        mask, weight = masks[entry], stored[keys[entry]]
        assert mask.mean() == pytest.approx(0.5, abs=0.05)
        assert np.all(weight[mask == 0] == 0) and np.all(weight[mask == 1] != 0)
    # The forward pass the trainer runs sees the same zeros.
    batch = (np.arange(2 * np.prod(shape)) % 50).reshape(2, *shape).astype(dtype)
    stripped = tfmot_adapter.strip(wrapped)
    tfmot_adapter.set_weights(model, tfmot_adapter.get_weights(wrapped))
    np.testing.assert_allclose(stripped(batch), model(batch), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(wrapped(batch), model(batch), rtol=1e-5, atol=1e-5)


def test_custom_layer_tfmot_cannot_prune_is_named_with_the_fix():
    model = build_model("custom_builders:with_custom_layer", MNIST, 10)
    with pytest.raises(ConfigError, match="'scale' \\(Scale\\).*PrunableLayer.*layers_to_ignore"):
        prunable_layers(model)
    kinds = prunable_layers(model, ignore=["scale"])
    assert kinds == {"output": "output"}
    wrapped = tfmot_adapter.wrap(model, kinds)  # the ignored layer stays a plain dense copy
    assert set(tfmot_adapter.get_masks(wrapped)) == {"output"}


def test_prunable_custom_layer_is_pruned_with_the_default_rate():
    model = build_model("custom_builders:with_prunable_custom_layer", MNIST, 10)
    kinds = prunable_layers(model)
    assert kinds == {"scale": "custom", "output": "output"}
    assert pruned_weight_keys(model)["scale"] == "scale/scale"
    assert layer_rates(kinds, 0.3, output_rate=0.1) == {"scale": 0.3, "output": 0.1}


def test_last_prunable_layer_is_the_output_when_none_is_named_output():
    kinds = prunable_layers(build_model("custom_builders:small_dense", MNIST, 3))
    assert kinds == {"hidden": "dense", "logits": "output"}


def test_embedding_rate_applies_to_embeddings_only():
    kinds = {"embed": "embedding", "conv": "conv", "output": "output"}
    assert layer_rates(kinds, 0.2, embedding_rate=0.5) == {"embed": 0.5, "conv": 0.2, "output": 0.2}


def test_model_version_is_hashed_only_when_set():
    config = config_lib.base_config()
    unset = config_lib.config_hash(config)
    config.model.version = "2"
    assert config_lib.config_hash(config) != unset
    assert config_lib.hashed_fields(config)["model.version"] == "2"
