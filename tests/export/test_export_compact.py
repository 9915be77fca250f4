"""export --compact: the smaller dense model predicts what the masked ticket predicts."""
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from lottery_tf import export
from lottery_tf.data.sources import get_spec, load_raw
from lottery_tf.data.splits import normalize_images
from lottery_tf.errors import ConfigError
from lottery_tf.export import compact as export_compact
from lottery_tf.models.registry import build_model
from lottery_tf.pruning import granularity as granularity_lib
from lottery_tf.pruning import masks as mask_lib
from lottery_tf.pruning import tfmot_adapter
from lottery_tf.testing import tiny_config


def _images(data_dir, count=64, side=None):
    """Test images of the tiny MNIST files, normalized as in training (cropped for small models)."""
    raw = load_raw("mnist", str(data_dir), download=False, verify=False)
    images = normalize_images(raw.test_x[:count], get_spec("mnist"))
    return images if side is None else images[:, :side, :side, :]


def _masked_logits(model, weights, masks, images):
    wrapped = tfmot_adapter.wrap(model, list(masks))
    tfmot_adapter.set_weights(wrapped, weights)
    tfmot_adapter.set_masks(wrapped, masks)
    return wrapped(images, training=False).numpy()


def _random_weights(model, seed):
    rng = np.random.default_rng(seed)
    return {name: (rng.normal(size=value.shape) * 0.3 + (0.5 if name.endswith("bias") else 0))
            .astype(np.float32) for name, value in tfmot_adapter.get_weights(model).items()}


def _check(model, weights, masks, images):
    expected = _masked_logits(model, weights, masks, images)
    compact, units = export_compact.compact_model(model, weights, masks)
    # export's rule: within 1e-5 of the largest logit (at least 1); sums run in another order.
    tolerance = 1e-5 * max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(compact(images, training=False).numpy(), expected, atol=tolerance, rtol=0)
    return compact, units


def test_lenet_compact_drops_unit_pruned_and_dead_units_and_folds_constants(tiny_mnist_dir):
    model = build_model("lenet_40_20", (28, 28, 1), 10, seed=0)
    weights = _random_weights(model, 0)
    chain = [("dense_1", "dense_2"), ("dense_2", "output")]
    kernels = {n: weights[f"{n}/kernel"] for n in ("dense_1", "dense_2", "output")}
    masks = mask_lib.prune("layerwise", kernels, mask_lib.ones_like(kernels),
                           {"dense_1": 0.5, "dense_2": 0.5, "output": 0.0}, granularity="unit", chain=chain)
    alive_1 = np.flatnonzero(granularity_lib.unit_alive(masks["dense_1"]))
    alive_2 = np.flatnonzero(granularity_lib.unit_alive(masks["dense_2"]))
    assert alive_1.size == 20 and alive_2.size == 10
    masks["dense_1"][:, alive_1[0]] = 0  # no inputs, relu(bias) > 0: a constant folded into dense_2
    weights["dense_1/bias"][alive_1[0]] = 1.0
    masks["dense_2"][:, alive_2[0]] = 0  # likewise, folded into the output layer
    weights["dense_2/bias"][alive_2[0]] = 0.7
    masks["output"][alive_2[1], :] = 0  # read by nothing
    images = _images(tiny_mnist_dir)
    compact, units = _check(model, weights, masks, images)
    assert units == {"dense_1": [40, 19], "dense_2": [20, 8], "output": [10, 10]}
    assert compact.get_layer("dense_1").kernel.shape == (784, units["dense_1"][1])


def test_conv_compact_keeps_constant_filters_a_conv_reads(tiny_mnist_dir):
    model = build_model("conv2", (8, 8, 1), 10, seed=0)
    weights = _random_weights(model, 1)
    kernels = {n: weights[f"{n}/kernel"] for n in ("conv_1", "conv_2", "dense_1", "dense_2", "output")}
    chain = [("conv_1", "conv_2"), ("conv_2", "dense_1"), ("dense_1", "dense_2"), ("dense_2", "output")]
    rates = {"conv_1": 0.5, "conv_2": 0.5, "dense_1": 0.5, "dense_2": 0.5, "output": 0.0}
    masks = mask_lib.prune("layerwise", kernels, mask_lib.ones_like(kernels), rates, granularity="unit",
                           chain=chain)
    alive_1 = np.flatnonzero(granularity_lib.unit_alive(masks["conv_1"]))
    masks["conv_1"][..., alive_1[0]] = 0  # no inputs, relu(bias) > 0, read by a conv: kept
    weights["conv_1/bias"][alive_1[0]] = 0.8
    alive_2 = np.flatnonzero(granularity_lib.unit_alive(masks["conv_2"]))
    masks["conv_2"][..., alive_2[0]] = 0  # no inputs, read through pool+flatten by dense: folded
    weights["conv_2/bias"][alive_2[0]] = 0.6
    images = _images(tiny_mnist_dir, side=8)
    _, units = _check(model, weights, masks, images)
    assert units["conv_1"] == [64, alive_1.size]
    assert units["conv_2"] == [64, alive_2.size - 1]
    assert units["dense_1"] == [256, 128] and units["dense_2"] == [256, 128]


def test_compact_export_writes_checks_and_times(tiny_mnist_dir, tmp_path):
    from lottery_tf.experiments.lottery import run_lottery
    from lottery_tf.storage.catalog import find_experiment

    config = tiny_config(tiny_mnist_dir, levels=1, **{
        "pruning.rate": 0.5, "pruning.granularity": "unit", "training.train_steps": "20it",
        "training.eval_every": "10it", "runtime.jit_compile": False})
    run_lottery(config, str(tmp_path), [0], quiet=True)
    experiment = find_experiment(str(tmp_path), None)
    export.export_level(str(tmp_path), None, level=1, tflite=True)
    result = export_compact.export_compact(str(tmp_path), None, level=1, rounds={1: 5, 256: 2}, tflite=True)
    assert result.units == {"dense_1": [40, 20], "dense_2": [20, 10], "output": [10, 10]}
    assert result.params_compact == result.params_masked == 784 * 20 + 20 + 20 * 10 + 10 + 10 * 10 + 10
    # The loaded compact SavedModel against the stored level, independently of the export code.
    images = _images(tiny_mnist_dir, count=200)
    expected = export.rebuild(experiment.config_dict(), experiment.paths.level_files(0, 1),
                              "early_stop")(images).numpy()  # the weights export uses by default
    served = tf.saved_model.load(result.saved_model).signatures["normalized"]  # images normalized here
    np.testing.assert_allclose(served(images=tf.constant(images))["logits"].numpy(), expected, atol=1e-5)
    # The compact TFLite model (XNNPACK) predicts the stored level too, and is timed against dense and masked.
    with open(result.tflite["path"], "rb") as file:
        raw = load_raw("mnist", str(tiny_mnist_dir), download=False, verify=False).test_x[:200]
        np.testing.assert_allclose(export.tflite_logits(file.read(), raw), expected, rtol=0, atol=1e-4)
    assert result.tflite["median_ms_xnnpack"].keys() == {"dense", "masked", "compact"}
    assert result.tflite["bytes"] == os.path.getsize(result.tflite["path"])
    written = json.load(open(os.path.join(os.path.dirname(result.saved_model), "export.json")))
    assert written["compact"]["latency_ms"]["compact"].keys() == {"1", "256"}
    assert written["compact"]["tflite"]["path"].endswith("compact.tflite") and written["xnnpack"] is not None
    assert written["level"] == 1 and written["max_abs_diff"] is not None  # the masked export kept


def test_compact_export_refuses_models_that_are_not_chains():
    model = build_model("resnet_8", (28, 28, 1), 10, seed=0)
    with pytest.raises(ConfigError, match="plain chain"):
        export_compact.compact_model(model, tfmot_adapter.get_weights(model), {})
