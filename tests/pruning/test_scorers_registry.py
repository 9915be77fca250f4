"""The scorer registry: one record adds a pruning-at-init method; names come from it."""
import subprocess
import sys

import numpy as np
import pytest
import tf_keras as keras

from lottery_tf.errors import ConfigError
from lottery_tf.pruning import at_init
from lottery_tf.pruning.scorers import registry
from lottery_tf.pruning.scorers.gradients import kernel_values
from lottery_tf.pruning.scorers.inputs import ScoringInputs


def negative_magnitude(inputs: ScoringInputs) -> dict[str, np.ndarray]:
    """Keeps the SMALLEST weights: the opposite of magnitude pruning."""
    return {name: -np.abs(w) for name, w in kernel_values(inputs.model, inputs.kernels).items()}


def needs_data_scores(inputs: ScoringInputs) -> dict[str, np.ndarray]:
    raise AssertionError("must be refused before scoring")


@pytest.fixture
def test_scorers():
    registry.register(registry.Scorer("negative_magnitude", negative_magnitude, needs_data=False,
                                      help="keeps the smallest |w| (test only)."))
    registry.register(registry.Scorer("needs_data", f"{__name__}:needs_data_scores", needs_data=True,
                                      help="a data-driven scorer (test only)."))
    yield
    registry.SCORERS.pop("negative_magnitude")
    registry.SCORERS.pop("needs_data")


def tiny_dense() -> keras.Model:
    inputs = keras.Input((3,))
    outputs = keras.layers.Dense(4, name="output")(inputs)
    model = keras.Model(inputs, outputs)
    # Distinct magnitudes, mixed signs: the smallest |w| are 0.1, -0.2 and 0.3.
    model.get_layer("output").kernel.assign(np.array([[0.9, -0.2, 1.1, -0.7], [0.3, -1.2, 0.5, 0.8],
                                                      [-0.4, 0.1, -1.0, 0.6]], dtype=np.float32))
    return model


def test_a_registered_scorer_is_used_by_score_masks(test_scorers):
    model = tiny_dense()
    kernel = model.get_layer("output").kernel.numpy()
    masks = at_init.score_masks("negative_magnitude", model, ["output"], None, None, (3,), 0.25, "global",
                                np.random.default_rng(0))
    np.testing.assert_array_equal(masks["output"], (np.abs(kernel) < 0.35).astype(np.float32))
    assert masks["output"].sum() == 3
    assert "negative_magnitude" in registry.names()


def test_unknown_method_is_a_config_error_listing_the_names():
    with pytest.raises(ConfigError) as error:
        registry.get("obd")
    for name in ("grasp", "magnitude", "random", "snip", "synflow"):
        assert name in str(error.value)


def test_a_data_driven_scorer_without_data_is_refused(test_scorers):
    for function in (lambda: at_init.score_masks("needs_data", tiny_dense(), ["output"], None, None, (3,),
                                                 0.5, "global", np.random.default_rng(0)),
                     lambda: at_init.method_scores("needs_data", tiny_dense(), ["output"], None, None, (3,),
                                                   np.random.default_rng(0))):
        with pytest.raises(ConfigError, match="needs images and labels"):
            function()


def test_the_built_in_set_and_its_data_needs():
    assert registry.names() == ["grasp", "magnitude", "random", "snip", "synflow"]
    assert registry.data_driven() == ("grasp", "snip")
    assert at_init.METHODS == tuple(registry.names())


def test_reading_the_registry_loads_no_tensorflow():
    code = ("import sys, lottery_tf.pruning.scorers.registry, lottery_tf.pruning.masks; "
            "print('tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
