"""Pruning at initialization: SNIP, GraSP, SynFlow scores and score-based masks."""
import numpy as np
import pytest
import tf_keras as keras

from lottery_tf.errors import ConfigError
from lottery_tf.models import build_model, prunable_layers
from lottery_tf.pruning import at_init
from lottery_tf.pruning.masks import ones_like

# --- Tiny models and hand-computed references ------------------------------------------


def linear_model(kernel: np.ndarray) -> keras.Model:
    """One bias-free Dense layer (logits = x @ kernel) with the given kernel."""
    inputs = keras.Input((kernel.shape[0],))
    outputs = keras.layers.Dense(kernel.shape[1], use_bias=False, name="output")(inputs)
    model = keras.Model(inputs, outputs)
    model.get_layer("output").kernel.assign(kernel)
    return model


def mlp(widths, inputs_dim, outputs_dim, seed=0, use_bias=True) -> keras.Model:
    """relu Dense layers `dense_1..` then a Dense `output`, seeded Glorot-normal kernels."""
    inputs = keras.Input((inputs_dim,))
    x = inputs
    for i, width in enumerate(widths, start=1):
        x = keras.layers.Dense(width, activation="relu", use_bias=use_bias, name=f"dense_{i}",
                               kernel_initializer=keras.initializers.GlorotNormal(seed * 100 + i))(x)
    outputs = keras.layers.Dense(outputs_dim, use_bias=use_bias, name="output",
                                 kernel_initializer=keras.initializers.GlorotNormal(seed * 100))(x)
    return keras.Model(inputs, outputs)


def conv_bn_model() -> keras.Model:
    """Conv-BatchNorm-relu-Dense: scoring must leave BatchNorm's statistics alone."""
    inputs = keras.Input((6, 6, 1))
    x = keras.layers.Conv2D(3, 3, use_bias=False, name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.Flatten()(x)
    return keras.Model(inputs, keras.layers.Dense(4, name="output")(x))


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def linear_ce_gradient(kernel, x, y, temperature=1.0) -> np.ndarray:
    """d/dW of mean_n CE(softmax(x_n W / T), y_n), by hand: x^T (p - onehot) / (T N)."""
    p = softmax(x @ kernel / temperature)
    p[np.arange(len(y)), y] -= 1.0
    return x.T @ p / (temperature * len(y))


def weights_of(model):
    return [w.copy() for w in model.get_weights()]


def assert_same_weights(before, model):
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


@pytest.fixture
def toy_data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(6, 5)).astype(np.float32), rng.integers(0, 3, size=6)


# --- SNIP ---------------------------------------------------------------------


def test_snip_is_abs_gradient_times_weight_by_hand():
    kernel = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=np.float32)
    x, y = np.array([[2.0, -1.0]], dtype=np.float32), np.array([1])
    # One example: logits z = x W, dL/dW = x^T (softmax(z) - onehot(y)).
    z = x @ kernel
    p = np.exp(z) / np.exp(z).sum()
    grad = x.T @ (p - np.eye(3)[y])
    scores = at_init.snip_scores(linear_model(kernel), x, y, ["output"])
    np.testing.assert_allclose(scores["output"], np.abs(grad * kernel), rtol=1e-5)


def test_snip_loss_is_the_mean_over_all_examples_whatever_the_batch_size(toy_data):
    x, y = toy_data
    kernel = np.random.default_rng(1).normal(size=(5, 3)).astype(np.float32)
    model = linear_model(kernel)
    expected = np.abs(linear_ce_gradient(kernel.astype(np.float64), x, y) * kernel)
    for batch_size in (None, 4, 1):
        scores = at_init.snip_scores(model, x, y, ["output"], batch_size=batch_size)
        np.testing.assert_allclose(scores["output"], expected, rtol=1e-4, atol=1e-7)


def test_snip_and_grasp_restore_batchnorm_statistics():
    model = conv_bn_model()
    rng = np.random.default_rng(0)
    x, y = rng.normal(3.0, 2.0, size=(8, 6, 6, 1)).astype(np.float32), rng.integers(0, 4, size=8)
    before = weights_of(model)
    at_init.snip_scores(model, x, y, ["conv", "output"])
    at_init.grasp_scores(model, x, y, ["conv", "output"])
    assert_same_weights(before, model)


# --- GraSP ----------------------------------------------------------------------


@pytest.mark.parametrize("temperature", [1.0, 200.0])
def test_hessian_gradient_product_matches_finite_differences_by_hand(toy_data, temperature):
    x, y = toy_data
    kernel = np.random.default_rng(2).normal(size=(5, 3))
    g, hg = at_init.hessian_gradient_product(linear_model(kernel.astype(np.float32)), x, y, ["output"],
                                             temperature=temperature)
    x64 = x.astype(np.float64)
    g_np = linear_ce_gradient(kernel, x64, y, temperature)
    np.testing.assert_allclose(g["output"], g_np, rtol=1e-4, atol=1e-6 * np.abs(g_np).max())
    # H g ~ (g(w + eps g) - g(w - eps g)) / (2 eps), in float64, with a step 1e-3 the size of w.
    eps = 1e-3 * np.linalg.norm(kernel) / np.linalg.norm(g_np)
    fd = (linear_ce_gradient(kernel + eps * g_np, x64, y, temperature)
          - linear_ce_gradient(kernel - eps * g_np, x64, y, temperature)) / (2 * eps)
    assert np.abs(fd).max() > 0
    np.testing.assert_allclose(hg["output"], fd, rtol=1e-3, atol=1e-3 * np.abs(fd).max())
    # The returned score is the NEGATED GraSP score -(-w * Hg): larger means keep.
    scores = at_init.grasp_scores(linear_model(kernel.astype(np.float32)), x, y, ["output"],
                                  temperature=temperature)
    np.testing.assert_allclose(scores["output"], kernel * fd, rtol=1e-3,
                               atol=1e-3 * np.abs(kernel * fd).max())


def test_hessian_gradient_product_spans_all_kernels_of_a_deep_model(toy_data):
    # Finite differences through the module's own gradient, moving every kernel at once:
    # the cross-layer blocks of H must be included.
    x, y = toy_data
    model = mlp([4], 5, 3, seed=3)
    kernels = ["dense_1", "output"]
    g, hg = at_init.hessian_gradient_product(model, x, y, kernels, temperature=1.0)
    variables = [model.get_layer(n).kernel for n in kernels]
    start = [v.numpy() for v in variables]
    eps = 1e-2 * np.sqrt(sum((w ** 2).sum() for w in start) / sum((g[n] ** 2).sum() for n in kernels))

    def gradient_at(sign):
        for v, w, n in zip(variables, start, kernels, strict=True):
            v.assign(w + sign * eps * g[n])
        return at_init.loss_gradients(model, x, y, kernels)

    plus, minus = gradient_at(1), gradient_at(-1)
    for n in kernels:
        fd = (plus[n] - minus[n]) / (2 * eps)
        assert np.abs(fd).max() > 0
        np.testing.assert_allclose(hg[n], fd, rtol=2e-2, atol=2e-2 * np.abs(fd).max())


# --- SynFlow ----------------------------------------------------------------------


def test_synflow_matches_path_sums_by_hand_with_no_data():
    model = mlp([4], 3, 2, seed=1, use_bias=False)
    w1 = np.abs(model.get_layer("dense_1").kernel.numpy())
    w2 = np.abs(model.get_layer("output").kernel.numpy())
    # R = 1^T |W1| |W2| 1: a weight's score is |w| times the path sums through it.
    scores = at_init.synflow_scores(model, ["dense_1", "output"], (3,))
    np.testing.assert_allclose(scores["dense_1"], w1 * w2.sum(axis=1)[None, :], rtol=1e-6)
    np.testing.assert_allclose(scores["output"], w2 * w1.sum(axis=0)[:, None], rtol=1e-6)


def test_synflow_ignores_weight_signs_and_leaves_the_model_unchanged():
    model = mlp([6, 5], 4, 3, seed=2)
    kernels = ["dense_1", "dense_2", "output"]
    rng = np.random.default_rng(0)
    model.set_weights([w + rng.uniform(0.1, 1.0, size=w.shape) * (w == 0) for w in model.get_weights()])
    before = weights_of(model)
    scores = at_init.synflow_scores(model, kernels, (4,))
    assert_same_weights(before, model)
    model.set_weights([w * rng.choice([-1.0, 1.0], size=w.shape) for w in before])
    flipped = at_init.synflow_scores(model, kernels, (4,))
    for n in kernels:
        np.testing.assert_allclose(flipped[n], scores[n], rtol=1e-12)


def test_synflow_scores_masked_weights_zero():
    model = mlp([6], 4, 3, use_bias=False)
    masks = ones_like({"dense_1": np.zeros((4, 6)), "output": np.zeros((6, 3))})
    masks["dense_1"][:, 0] = 0  # hidden unit 0 gets no input: its outgoing weights carry no flow
    scores = at_init.synflow_scores(model, ["dense_1", "output"], (4,), masks)
    assert (scores["dense_1"][:, 0] == 0).all() and (scores["output"][0] == 0).all()
    assert (scores["dense_1"][:, 1:] > 0).all() and (scores["output"][1:] > 0).all()


@pytest.mark.parametrize("scope", ["global", "layerwise"])
def test_iterative_synflow_follows_the_schedule_with_nested_masks(scope):
    model = mlp([16, 8], 10, 4, seed=4)
    kernels = ["dense_1", "dense_2", "output"]
    before = weights_of(model)
    rounds = list(at_init.synflow_rounds(model, kernels, (10,), 0.05, iterations=6, scope=scope))
    assert len(rounds) == 6
    sizes = {"dense_1": 160, "dense_2": 128, "output": 32}
    for k, masks in enumerate(rounds, start=1):
        density = 0.05 ** (k / 6)
        if scope == "global":
            assert sum(m.sum() for m in masks.values()) == round(density * 320)
        else:
            assert all(masks[n].sum() == round(density * sizes[n]) for n in kernels)
    for earlier, later in zip(rounds, rounds[1:], strict=False):
        assert all((later[n] <= earlier[n]).all() for n in kernels)
    final = at_init.iterative_synflow_masks(model, kernels, (10,), 0.05, iterations=6, scope=scope)
    for n in kernels:
        np.testing.assert_array_equal(final[n], rounds[-1][n])
    assert_same_weights(before, model)


@pytest.mark.parametrize("seed", [0, 1])
def test_iterative_synflow_avoids_layer_collapse(seed):
    # Unbalanced layers (16k, 65k, 1k weights) at 1% density: one-shot SynFlow spends the whole
    # budget on the small output layer and empties the others; rescoring 100 times keeps all alive.
    model = mlp([256, 256], 64, 4, seed=seed)
    kernels = ["dense_1", "dense_2", "output"]
    one_shot = at_init.iterative_synflow_masks(model, kernels, (64,), 0.01, iterations=1)
    iterative = at_init.iterative_synflow_masks(model, kernels, (64,), 0.01, iterations=100)
    assert min(m.sum() for m in one_shot.values()) == 0
    assert min(m.sum() for m in iterative.values()) > 0
    assert sum(m.sum() for m in iterative.values()) == round(0.01 * (16384 + 65536 + 1024))


# --- Magnitude and random --------------------------------------------------------------


def test_magnitude_and_random_scores():
    kernels = {"a": np.array([[-3.0, 0.5]]), "b": np.array([-0.1])}
    scores = at_init.magnitude_scores(kernels)
    np.testing.assert_array_equal(scores["a"], [[3.0, 0.5]])
    np.testing.assert_array_equal(scores["b"], [0.1])
    shapes = {"a": (2, 3), "b": (4,)}
    first = at_init.random_scores(shapes, np.random.default_rng(5))
    again = at_init.random_scores(shapes, np.random.default_rng(5))
    assert first["a"].shape == (2, 3) and first["b"].shape == (4,)
    np.testing.assert_array_equal(first["a"], again["a"])
    assert ((first["a"] >= 0) & (first["a"] < 1)).all() and len(np.unique(first["a"])) == 6


# --- prune_by_scores ----------------------------------------------------------------------


def random_problem(seed=0):
    rng = np.random.default_rng(seed)
    scores = {"a": rng.normal(size=(20, 10)), "b": rng.normal(size=(50,)) * 3, "c": rng.normal(size=(7, 3))}
    masks = {n: (rng.uniform(size=s.shape) < 0.6).astype(np.float32) for n, s in scores.items()}
    return scores, masks


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.37, 0.5, 1.0])
def test_prune_by_scores_global_keeps_exact_count_of_the_largest(fraction):
    scores, masks = random_problem()
    new = at_init.prune_by_scores(scores, masks, fraction, "global")
    alive = sum(int(m.sum()) for m in masks.values())
    assert sum(int(m.sum()) for m in new.values()) == round(fraction * alive)
    for n in masks:
        assert new[n].dtype == np.float32 and new[n].shape == masks[n].shape
        assert (new[n] <= masks[n]).all()  # never revives
    kept = np.concatenate([scores[n][new[n] > 0] for n in masks])
    dropped = np.concatenate([scores[n][(masks[n] > 0) & (new[n] == 0)] for n in masks])
    if kept.size and dropped.size:
        assert kept.min() > dropped.max()  # one threshold across layers


@pytest.mark.parametrize("fraction", [0.1, 0.37, 0.5])
def test_prune_by_scores_layerwise_keeps_exact_count_per_layer(fraction):
    scores, masks = random_problem(1)
    new = at_init.prune_by_scores(scores, masks, fraction, "layerwise")
    for n in masks:
        assert new[n].sum() == round(fraction * masks[n].sum())
        assert (new[n] <= masks[n]).all()
        kept, dropped = scores[n][new[n] > 0], scores[n][(masks[n] > 0) & (new[n] == 0)]
        assert kept.min() > dropped.max()


def test_prune_by_scores_never_revives_even_the_best_scored_pruned_weights():
    scores = {"a": np.array([100.0, 1.0, 2.0, 3.0]), "b": np.array([50.0, 0.5])}
    masks = {"a": np.array([0, 1, 1, 1], np.float32), "b": np.array([0, 1], np.float32)}
    new = at_init.prune_by_scores(scores, masks, 0.5, "global")
    np.testing.assert_array_equal(new["a"], [0, 0, 1, 1])
    np.testing.assert_array_equal(new["b"], [0, 0])


def test_prune_by_scores_breaks_ties_by_position_and_scopes_differ():
    scores = {"a": np.ones(4), "b": np.full(4, 2.0)}
    masks = ones_like(scores)
    layerwise = at_init.prune_by_scores(scores, masks, 0.5, "layerwise")
    np.testing.assert_array_equal(layerwise["a"], [1, 1, 0, 0])
    np.testing.assert_array_equal(layerwise["b"], [1, 1, 0, 0])
    global_ = at_init.prune_by_scores(scores, masks, 0.5, "global")
    np.testing.assert_array_equal(global_["a"], [0, 0, 0, 0])
    np.testing.assert_array_equal(global_["b"], [1, 1, 1, 1])


def test_prune_by_scores_rejects_bad_arguments():
    scores, masks = random_problem()
    with pytest.raises(ConfigError, match="scope"):
        at_init.prune_by_scores(scores, masks, 0.5, "per_neuron")
    with pytest.raises(ConfigError, match="fraction"):
        at_init.prune_by_scores(scores, masks, 1.5, "global")
    with pytest.raises(ValueError, match="finite"):
        at_init.prune_by_scores({**scores, "a": scores["a"] * np.nan}, masks, 0.5, "global")


# --- Dispatcher ------------------------------------------------------------------------------


def test_unknown_method_lists_the_valid_ones():
    model = build_model("lenet_20_10", (28, 28, 1), 10)
    with pytest.raises(ConfigError) as error:
        at_init.score_masks("obd", model, list(prunable_layers(model)), None, None, (28, 28, 1), 0.5,
                            "global", np.random.default_rng(0))
    for method in ("snip", "grasp", "synflow", "magnitude", "random"):
        assert method in str(error.value)


@pytest.mark.parametrize("method", ["snip", "grasp", "synflow", "magnitude", "random"])
@pytest.mark.parametrize("scope", ["global", "layerwise"])
def test_score_masks_prunes_a_lenet_to_the_requested_density(method, scope):
    model = build_model("lenet_20_10", (28, 28, 1), 10)
    kernels = list(prunable_layers(model))
    rng = np.random.default_rng(0)
    images, labels = rng.uniform(size=(16, 28, 28, 1)), rng.integers(0, 10, size=16)
    before = weights_of(model)
    masks = at_init.score_masks(method, model, kernels, images, labels, (28, 28, 1), 0.2, scope, rng,
                                synflow_iterations=3)
    assert_same_weights(before, model)
    sizes = {n: model.get_layer(n).kernel.shape.num_elements() for n in kernels}
    assert set(masks) == set(kernels)
    if scope == "global":
        assert sum(m.sum() for m in masks.values()) == round(0.2 * sum(sizes.values()))
    else:
        assert all(masks[n].sum() == round(0.2 * sizes[n]) for n in kernels)


def test_data_driven_methods_need_data():
    model = build_model("lenet_20_10", (28, 28, 1), 10)
    with pytest.raises(ConfigError, match="images"):
        at_init.score_masks("snip", model, list(prunable_layers(model)), None, None, (28, 28, 1), 0.5,
                            "global", np.random.default_rng(0))


def test_synflow_runs_batchnorm_in_inference_mode():
    # With batch statistics, one constant input would make every BatchNorm output its beta (0 at
    # init, |beta| = 0) and cut all flow through the convolution: its scores would be all zero.
    model = conv_bn_model()
    scores = at_init.synflow_scores(model, ["conv", "output"], (6, 6, 1))
    assert (scores["conv"] > 0).all() and (scores["output"] > 0).all()
