"""Linear mode connectivity math, with a real tiny tf_keras model for the error curve."""
import json

import numpy as np
import pytest
import tf_keras as keras

from lottery_tf.analysis import lmc
from lottery_tf.pruning.tfmot_adapter import get_weights, set_weights, weight_variables


def random_weights(seed):
    rng = np.random.default_rng(seed)
    return {"dense_1/kernel": rng.normal(size=(4, 3)).astype(np.float32),
            "dense_1/bias": rng.normal(size=(3,)).astype(np.float32)}


# ---------------------------------------------------------------- interpolate

def test_interpolate_endpoints_are_exactly_the_two_networks():
    a, b = random_weights(0), random_weights(1)
    at_0, at_1 = lmc.interpolate(a, b, 0.0), lmc.interpolate(a, b, 1.0)
    for name in a:
        np.testing.assert_array_equal(at_0[name], a[name])
        np.testing.assert_array_equal(at_1[name], b[name])
        assert at_0[name].dtype == np.float32 and at_1[name].dtype == np.float32


def test_interpolate_midpoint_is_the_mean_and_quarter_is_weighted():
    a, b = random_weights(0), random_weights(1)
    middle, quarter = lmc.interpolate(a, b, 0.5), lmc.interpolate(a, b, 0.25)
    for name in a:
        np.testing.assert_allclose(middle[name], (a[name] + b[name]) / 2, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(quarter[name], 0.75 * a[name] + 0.25 * b[name], rtol=1e-6, atol=1e-6)


def test_interpolate_returns_copies_not_views():
    a, b = random_weights(0), random_weights(1)
    for alpha in (0.0, 0.3, 1.0):
        result = lmc.interpolate(a, b, alpha)
        result["dense_1/bias"][:] = 123.0
    assert not np.any(a["dense_1/bias"] == 123.0) and not np.any(b["dense_1/bias"] == 123.0)


def test_interpolate_keeps_shared_masked_zeros_exactly_zero():
    a, b = random_weights(0), random_weights(1)
    mask = np.array([[1, 0, 1], [0, 0, 1], [1, 1, 0], [0, 1, 1]], dtype=np.float32)
    a["dense_1/kernel"] *= mask
    b["dense_1/kernel"] *= mask
    for alpha in lmc.interpolation_alphas(7):
        kernel = lmc.interpolate(a, b, alpha)["dense_1/kernel"]
        assert np.all(kernel[mask == 0] == 0.0)
    # Unmasked weights really do move, so the check above is not vacuous.
    assert np.all(lmc.interpolate(a, b, 0.5)["dense_1/kernel"][mask == 1] != a["dense_1/kernel"][mask == 1])


def test_interpolate_copies_integer_entries_from_the_first_network():
    a, b = random_weights(0), random_weights(1)
    a["wrapper/step"], b["wrapper/step"] = np.array(3, np.int64), np.array(9, np.int64)
    assert lmc.interpolate(a, b, 0.5)["wrapper/step"] == 3


def test_interpolate_rejects_mismatched_keys_naming_them():
    a, b = random_weights(0), random_weights(1)
    b["dense_2/kernel"] = b.pop("dense_1/kernel")
    with pytest.raises(ValueError, match="dense_1/kernel.*dense_2/kernel"):
        lmc.interpolate(a, b, 0.5)


def test_interpolate_rejects_mismatched_shapes_naming_the_key():
    a, b = random_weights(0), random_weights(1)
    b["dense_1/bias"] = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match="dense_1/bias"):
        lmc.interpolate(a, b, 0.5)


@pytest.mark.parametrize("alpha", [-0.1, 1.5, float("nan")])
def test_interpolate_rejects_alpha_outside_unit_interval(alpha):
    with pytest.raises(ValueError, match="alpha"):
        lmc.interpolate(random_weights(0), random_weights(1), alpha)


# ---------------------------------------------------------------- alphas

def test_interpolation_alphas_default_thirty_from_zero_to_one():
    alphas = lmc.interpolation_alphas(30)
    assert len(alphas) == 30 and alphas[0] == 0.0 and alphas[-1] == 1.0
    np.testing.assert_allclose(np.diff(alphas), 1 / 29)
    assert len(lmc.interpolation_alphas()) == 30


@pytest.mark.parametrize("points", [0, 1, 2.5])
def test_interpolation_alphas_rejects_too_few_points(points):
    with pytest.raises(ValueError):
        lmc.interpolation_alphas(points)


# ---------------------------------------------------------------- curves on a real model

def tiny_model(seed):
    """Dense 8 -> 8 -> BatchNorm -> 3, with non-default BatchNorm statistics."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(8,))
    hidden = keras.layers.Dense(8, activation="relu", name="dense_1")(inputs)
    hidden = keras.layers.BatchNormalization(name="bn_1")(hidden)
    outputs = keras.layers.Dense(3, name="output")(hidden)
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(seed)
    variables = weight_variables(model)
    # Different moving statistics per network, so BN buffers take part in the path.
    variables["bn_1/moving_mean"].assign(rng.normal(size=8).astype(np.float32))
    variables["bn_1/moving_variance"].assign(rng.uniform(0.5, 2.0, size=8).astype(np.float32))
    return model


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(42)
    x = rng.normal(size=(200, 8)).astype(np.float32)
    y = np.argmax(x @ rng.normal(size=(8, 3)), axis=1)
    return x, y


def model_error(model, x, y) -> float:
    predictions = np.argmax(model(x, training=False).numpy(), axis=1)
    return float(np.mean(predictions != y))


@pytest.fixture(scope="module")
def networks(data):
    x, y = data
    model_a, model_b = tiny_model(1), tiny_model(2)
    scratch = tiny_model(3)

    def evaluate(weights):
        set_weights(scratch, weights)
        return model_error(scratch, x, y)

    return model_a, model_b, evaluate


def test_curve_endpoints_equal_the_networks_measured_directly(networks, data):
    model_a, model_b, evaluate = networks
    error_a, error_b = model_error(model_a, *data), model_error(model_b, *data)
    assert error_a != error_b  # otherwise swapped endpoints would pass too
    curve = lmc.error_curve(get_weights(model_a), get_weights(model_b), evaluate, points=5)
    assert [point["alpha"] for point in curve] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert lmc.endpoint_errors(curve) == (error_a, error_b)
    assert curve[0]["error"] == error_a and curve[-1]["error"] == error_b


def test_curve_midpoint_is_the_averaged_network(networks, data):
    model_a, model_b, evaluate = networks
    weights_a, weights_b = get_weights(model_a), get_weights(model_b)
    averaged = tiny_model(4)
    set_weights(averaged, {name: (weights_a[name] + weights_b[name]) / 2 for name in weights_a})
    curve = lmc.error_curve(weights_a, weights_b, evaluate, points=3)
    assert curve[1]["error"] == model_error(averaged, *data)


def test_identical_endpoints_have_zero_instability(networks):
    model_a, _, evaluate = networks
    weights = get_weights(model_a)
    curve = lmc.error_curve(weights, weights, evaluate, points=6)
    assert len({point["error"] for point in curve}) == 1
    assert lmc.instability(curve) == 0.0


def test_error_curve_checks_networks_before_evaluating():
    calls = []
    a, b = random_weights(0), random_weights(1)
    del b["dense_1/bias"]
    with pytest.raises(ValueError, match="dense_1/bias"):
        lmc.error_curve(a, b, lambda weights: calls.append(weights) or 0.0)
    assert calls == []


def test_error_curve_rejects_non_finite_errors():
    with pytest.raises(ValueError, match="nan"):
        lmc.error_curve(random_weights(0), random_weights(1), lambda weights: float("nan"), points=2)


# ---------------------------------------------------------------- instability and summary

def hand_curve(errors):
    alphas = lmc.interpolation_alphas(len(errors))
    return [{"alpha": float(alpha), "error": error} for alpha, error in zip(alphas, errors, strict=True)]


def test_instability_is_max_minus_mean_of_endpoints():
    curve = hand_curve([0.10, 0.30, 0.45, 0.20])
    assert lmc.instability(curve) == pytest.approx(0.45 - (0.10 + 0.20) / 2)
    assert lmc.endpoint_errors(curve) == (0.10, 0.20)


def test_instability_of_a_monotone_path_is_half_the_endpoint_gap():
    # The maximum is an endpoint here, so the barrier is the gap to the mean.
    assert lmc.instability(hand_curve([0.1, 0.2, 0.3])) == pytest.approx(0.1)


@pytest.mark.parametrize("curve", [
    [{"alpha": 0.0, "error": 0.1}],
    [{"alpha": 0.0, "error": 0.1}, {"alpha": 0.7, "error": 0.2}, {"alpha": 0.5, "error": 0.1},
     {"alpha": 1.0, "error": 0.1}],
    [{"alpha": 0.1, "error": 0.1}, {"alpha": 1.0, "error": 0.2}],
    [{"alpha": 0.0, "error": 0.1}, {"alpha": 0.9, "error": 0.2}],
])
def test_instability_rejects_curves_not_spanning_zero_to_one_in_order(curve):
    with pytest.raises(ValueError):
        lmc.instability(curve)


def test_summary_is_json_serializable_and_consistent():
    curve = hand_curve([np.float32(0.1), np.float64(0.4), 0.2])
    summary = lmc.lmc_summary(curve)
    assert json.loads(json.dumps(summary)) == summary
    assert set(summary) == {"instability", "error_a", "error_b", "max_error", "alphas", "errors"}
    assert summary["instability"] == pytest.approx(0.4 - 0.15)
    assert summary["max_error"] == pytest.approx(0.4)
    assert summary["error_a"] == pytest.approx(0.1) and summary["error_b"] == pytest.approx(0.2)
    assert summary["alphas"] == [0.0, 0.5, 1.0]
    assert all(type(value) is float for value in summary["errors"])
