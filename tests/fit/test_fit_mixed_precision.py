"""lottery_tf.api under a mixed-precision policy, and its label-smoothed loss."""
import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from lottery_tf import api as lt
from lottery_tf.errors import ConfigError
from lottery_tf.pruning import tfmot_adapter
from lottery_tf.training.precision import precision_policy


def _data(count=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(count, 8)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0)


def _mixed_model(precision):
    """Keras' mixed-precision recipe: the policy for every layer but a float32 output layer."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    with precision_policy(precision):
        inputs = keras.Input((8,))
        hidden = keras.layers.Dense(32, activation="relu", name="hidden")(inputs)
        outputs = keras.layers.Dense(3, name="logits", dtype="float32")(hidden)
        model = lt.wrap(keras.Model(inputs, outputs))
        model.compile(keras.optimizers.Adam(1e-2), loss=lt.SparseCrossEntropy(label_smoothing=0.1))
    return model


@pytest.mark.parametrize("precision", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_fit_keeps_masks_exact_and_rewinds_a_fresh_optimizer(precision):
    model = _mixed_model(precision)
    compute = {layer.name: layer.layer.compute_dtype for layer in model.layers if hasattr(layer, "layer")}
    assert compute == {"prune_low_magnitude_hidden": precision.split("_")[1],
                       "prune_low_magnitude_logits": "float32"}
    assert {v.dtype for v in tfmot_adapter.weight_variables(model).values()} == {tf.float32}
    x, y = _data()
    rewind = lt.RewindCallback(step=0)
    model.fit(x, y, batch_size=32, epochs=2, callbacks=[lt.PruningStep(), rewind], verbose=0)
    masks = lt.prune(model, rate=0.6)
    scaled = isinstance(model.optimizer, keras.mixed_precision.LossScaleOptimizer)
    assert scaled == (precision == "mixed_float16")
    if scaled:  # as if overflows had lowered the scale: rewinding restarts it
        model.optimizer._loss_scale.current_loss_scale.assign(4.0)
        assert int(model.optimizer.dynamic_counter.numpy()) > 0
    assert lt.rewind(model, rewind) == 0

    weights = tfmot_adapter.get_weights(model)
    for name, mask in masks.items():
        np.testing.assert_array_equal(weights[f"{name}/kernel"], rewind.weights[f"{name}/kernel"] * mask)
    np.testing.assert_array_equal(weights["hidden/bias"], rewind.weights["hidden/bias"])
    assert int(model.optimizer.iterations.numpy()) == 0
    assert all(not np.any(v.numpy()) for v in model.optimizer.variables)
    if scaled:
        assert float(model.optimizer.loss_scale) == model.optimizer.initial_scale == 2.0**15
        assert int(model.optimizer.dynamic_counter.numpy()) == 0

    history = model.fit(x, y, batch_size=32, epochs=3, callbacks=[lt.PruningStep()], verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]  # it trains in low precision
    kernels = tfmot_adapter.prunable_kernels(model)
    for name, mask in masks.items():
        assert np.all(kernels[name][mask == 0] == 0.0)
        assert np.all(kernels[name][mask == 1] != 0.0)
    assert all(np.array_equal(lt.get_masks(model)[name], mask) for name, mask in masks.items())


def test_sparse_cross_entropy_is_one_hot_label_smoothing_in_float32():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(16, 5)).astype(np.float32) * 3
    labels = rng.integers(0, 5, 16)
    for smoothing in (0.0, 0.1, 0.3):
        ours = lt.SparseCrossEntropy(label_smoothing=smoothing)(labels, logits)
        keras_one_hot = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=smoothing)(
            tf.one_hot(labels, 5), logits)
        np.testing.assert_allclose(ours.numpy(), keras_one_hot.numpy(), rtol=1e-6)
    half = lt.SparseCrossEntropy(0.1)(labels[:, None], tf.cast(logits, tf.float16))
    assert half.dtype == tf.float32
    with pytest.raises(ConfigError, match="label_smoothing must be in"):
        lt.SparseCrossEntropy(label_smoothing=1.0)
