"""mobilenet_<W> fits XNNPACK's sparse pattern; pruning.policy=xnnpack wraps and prunes only its 1x1 convs."""
import numpy as np
import pytest
import tensorflow_model_optimization as tfmot
import tf_keras as keras

from lottery_tf.errors import ConfigError
from lottery_tf.experiments.config import base_config, check_ranges, config_hash
from lottery_tf.models import build_model
from lottery_tf.models.prunable import prunable_layers
from lottery_tf.pruning import tfmot_adapter
from lottery_tf.pruning.policies import apply_policy
from lottery_tf.pruning.rates import layer_rates

POINTWISE = ["pw_1", "pw_2", "pw_3", "pw_4", "pw_5"]


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
def test_mobilenet_passes_tfmots_xnnpack_check_and_policy_keeps_only_1x1_convs(shape):
    model = build_model("mobilenet_4", shape, 10)
    tfmot.sparsity.keras.PruneForLatencyOnXNNPack().ensure_model_supports_pruning(model)
    every = prunable_layers(model)
    assert {"stem", "dw_1", "output"} <= set(every)  # prunable in general...
    kept = apply_policy(model, every, "xnnpack")
    assert list(kept) == POINTWISE  # ...but the policy keeps the 1x1 convolutions only
    assert all(model.get_layer(name).kernel_size == (1, 1) for name in kept)
    assert model.get_layer("pool").output_shape == (None, 1, 1, 32)  # 4-D: XNNPACK's chain ends there


def test_policy_wraps_and_prunes_only_the_pointwise_convs():
    model = build_model("mobilenet_4", (28, 28, 1), 10)
    kept = apply_policy(model, prunable_layers(model), "xnnpack")
    wrapped = tfmot_adapter.wrap(model, kept)
    assert sorted(tfmot_adapter.get_masks(wrapped)) == POINTWISE
    wrappers = [layer.layer.name for layer in wrapped.layers if hasattr(layer, "pruning_vars")]
    assert wrappers == POINTWISE
    # The wrapped model still fits tfmot's pattern (its check looks through the wrappers).
    tfmot.sparsity.keras.PruneForLatencyOnXNNPack().ensure_model_supports_pruning(wrapped)
    rates = layer_rates(kept, 0.5)
    masks = {name: (np.random.default_rng(0).random(mask.shape) > rates[name]).astype(np.float32)
             for name, mask in tfmot_adapter.get_masks(wrapped).items()}
    tfmot_adapter.set_masks(wrapped, masks)
    tfmot_adapter.apply_masks(wrapped)
    plain = tfmot_adapter.training_view(wrapped)
    for name in POINTWISE:
        kernel = plain.get_layer(name).kernel.numpy()
        assert np.all(kernel[masks[name] == 0] == 0) and np.count_nonzero(kernel) == masks[name].sum()
    for name in ("stem", "dw_1", "output"):  # dense, as XNNPACK's sparse path needs
        assert np.all(keras.backend.get_value(plain.get_layer(name).weights[0]) != 0)


def test_policy_refuses_models_that_do_not_fit_and_unknown_values():
    lenet = build_model("lenet_40_20", (28, 28, 1), 10)
    with pytest.raises(ConfigError, match="does not fit XNNPACK's sparse inference.*Conv2D 3x3"):
        apply_policy(lenet, prunable_layers(lenet), "xnnpack")
    assert apply_policy(lenet, prunable_layers(lenet), None) == prunable_layers(lenet)
    config = base_config()
    config.pruning.policy = "fast"
    with pytest.raises(ConfigError, match=r"pruning.policy must be unset .*\['xnnpack'\], got 'fast'"):
        check_ranges(config)


def test_unset_policy_keeps_the_hash_and_a_set_one_changes_it():
    config = base_config()
    unset = config_hash(config)
    config.pruning.policy = None
    assert config_hash(config) == unset
    config.pruning.policy = "xnnpack"
    assert config_hash(config) != unset


def test_mobilenet_refuses_inputs_xnnpack_cannot_start_from():
    with pytest.raises(ConfigError, match="1 or 3 input channels"):
        build_model("mobilenet_4", (28, 28, 2), 10)
    with pytest.raises(ConfigError, match="write mobilenet_<W>"):
        build_model("mobilenet_4_4", (28, 28, 1), 10)
