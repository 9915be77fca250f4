"""Exported models reproduce the trained level: same zeros, same predictions, in SavedModel and TFLite."""
import json
import os
import pathlib

import numpy as np
import pytest
import tensorflow as tf

from lottery_tf import export
from lottery_tf.errors import ConfigError, LotteryError, StoreError
from lottery_tf.storage import store
from lottery_tf.storage.catalog import find_experiment


@pytest.fixture(scope="module")
def exported(export_root):
    experiment = find_experiment(export_root, None)
    return experiment, export.export_level(export_root, experiment.hash, level=1, tflite=True)


def _wrapped_logits(experiment, level, images, weights="early_stop"):
    """The trained level's predictions computed independently of the export code path."""
    import tf_keras as keras

    from lottery_tf.data.sources import get_spec
    from lottery_tf.data.splits import normalize_images

    keras.backend.clear_session()
    config = experiment.config_dict()
    model = export.rebuild(config, experiment.paths.level_files(0, level), weights)
    return model(normalize_images(images, get_spec(config.dataset.name)), training=False).numpy()


def test_saved_variables_have_exactly_the_masks_zeros(exported):
    experiment, result = exported
    masks = store.load_arrays(experiment.paths.mask(0, 1))
    loaded = tf.saved_model.load(result.saved_model)
    assert sorted(loaded.kernels) == sorted(masks) == ["dense_1", "dense_2", "output"]
    zeros = total = 0
    for name, mask in masks.items():
        kernel = loaded.kernels[name].numpy()
        np.testing.assert_array_equal(kernel == 0, mask == 0)
        trained = store.load_arrays(experiment.paths.level_files(0, 1).weights_early_stop)[
            f"{name}/kernel"]
        np.testing.assert_array_equal(kernel, trained)
        zeros, total = zeros + int((mask == 0).sum()), total + mask.size
    assert result.percent_zero == pytest.approx(100 * zeros / total, abs=1e-9)
    assert result.percent_zero == pytest.approx(result.mask_percent_zero, abs=1e-9)
    assert 85 < result.percent_zero < 95  # pruning rate 0.9, output layer included


def test_loaded_saved_model_predicts_what_the_trained_level_does(exported, tiny_mnist_dir):
    experiment, result = exported
    images, described = export.check_images(experiment.config_dict(), 64)
    assert "test images" in described  # the real (tiny) test split, not noise
    serve = tf.saved_model.load(result.saved_model).signatures["serving_default"]
    assert serve.structured_input_signature[1]["images"].shape.as_list() == [None, 28, 28, 1]
    assert serve.structured_input_signature[1]["images"].dtype == tf.uint8
    outputs = serve(images=tf.constant(images))
    expected = _wrapped_logits(experiment, 1, images)
    np.testing.assert_allclose(outputs["logits"].numpy(), expected, rtol=0, atol=1e-5)
    np.testing.assert_allclose(outputs["probabilities"].numpy().sum(axis=1), 1.0, atol=1e-6)
    assert result.max_abs_diff <= 1e-5


def test_tflite_models_run_and_match(exported):
    experiment, result = exported
    images, _ = export.check_images(experiment.config_dict(), 16)
    expected = _wrapped_logits(experiment, 1, images)
    by_name = {model.name: model for model in result.tflite}
    assert sorted(by_name) == ["dense level 0", "plain format", "sparse format"]
    for name in ("plain format", "sparse format"):
        content = pathlib.Path(by_name[name].path).read_bytes()
        np.testing.assert_allclose(export.tflite_logits(content, images), expected, rtol=0, atol=1e-4)
        assert by_name[name].median_ms > 0 and by_name[name].median_ms_builtin > 0
        assert by_name[name].bytes == len(content)
    dense = pathlib.Path(by_name["dense level 0"].path).read_bytes()
    np.testing.assert_allclose(export.tflite_logits(dense, images), _wrapped_logits(experiment, 0, images),
                               rtol=0, atol=1e-4)
    # 90% zeros: the sparse encoding is smaller than the plain one.
    assert by_name["sparse format"].bytes < by_name["plain format"].bytes


def test_sizes_and_the_export_record(exported):
    experiment, result = exported
    assert result.dense_saved_model == os.path.join(experiment.paths.level(0, 0), "export", "saved_model")
    assert 0 < result.zip_bytes < result.dense_zip_bytes  # deflate squeezes the zeros
    assert result.zip_bytes == export.zipped_size(result.saved_model)
    record = json.loads(pathlib.Path(result.saved_model).parent.joinpath("export.json").read_text())
    assert record["zip_bytes"] == result.zip_bytes and record["normalization"]["std"] == [0.3081]
    assert [model["max_abs_diff"] is None for model in record["tflite"]] == [False, False, True]
    # LeNet has no 1x1 convolution chain: the XNNPACK comparison says why no sparse path ran.
    assert "Conv2D 3x3" in record["xnnpack"]["model_problem"] and not record["xnnpack"]["sparse_path"]
    assert record["xnnpack"]["pointwise_percent_zero"] is None
    assert "does not fit" in record["xnnpack"]["reason"]
    leftovers = os.listdir(pathlib.Path(result.saved_model).parent)
    assert not [name for name in leftovers if name.endswith((".partial", ".old"))]


def test_bad_level_replicate_or_experiment_name_what_exists(export_root):
    experiment = find_experiment(export_root, None)
    with pytest.raises(LotteryError, match="early_stop, final"):
        export.export_level(export_root, experiment.name, level=1, weights="best")
    experiment = find_experiment(export_root, None)
    with pytest.raises(StoreError, match="finished levels: 0, 1"):
        export.export_level(export_root, experiment.name, level=4)
    with pytest.raises(StoreError, match="stored replicates: 0"):
        export.export_level(export_root, experiment.name, level=1, replicate=3)
    with pytest.raises(ConfigError, match=experiment.name):
        export.export_level(export_root, "resnet20_cifar10_0000000000", level=1)


def test_signatures_normalize_inside_and_refuse_misfed_input(exported):
    from lottery_tf.data.sources import get_spec
    from lottery_tf.data.splits import normalize_images

    experiment, result = exported
    images, _ = export.check_images(experiment.config_dict(), 8)
    loaded = tf.saved_model.load(result.saved_model)
    stored = loaded.signatures["serving_default"](images=tf.constant(images))["logits"].numpy()
    pixels = loaded.signatures["pixels"](images=tf.constant(images, tf.float32))["logits"].numpy()
    normalized = normalize_images(images, get_spec("mnist"))
    by_hand = loaded.signatures["normalized"](images=tf.constant(normalized))["logits"].numpy()
    np.testing.assert_allclose(pixels, stored, atol=1e-5)
    np.testing.assert_allclose(by_hand, stored, atol=1e-5)
    with pytest.raises(tf.errors.InvalidArgumentError, match="raw 0-255 pixels go to"):
        loaded.signatures["normalized"](images=tf.constant(images, tf.float32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="got negative values"):
        loaded.signatures["pixels"](images=tf.constant(normalized))
    with pytest.raises((TypeError, ValueError, tf.errors.InvalidArgumentError)):
        loaded.signatures["serving_default"](images=tf.constant(normalized))  # float into uint8
    with pytest.raises((TypeError, ValueError, tf.errors.InvalidArgumentError)):
        loaded.signatures["serving_default"](images=tf.constant(images[:, :27]))  # wrong size


def test_variables_carry_the_layers_own_names(exported):
    _, result = exported
    names = export.saved_variable_names(result.saved_model)
    assert names and not [name for name in names if "prune_low_magnitude" in name]
    assert "dense_1/kernel:0" in names


def test_early_stop_or_final_weights_with_their_accuracy(exported, export_root):
    experiment, result = exported
    metrics = store.read_json(experiment.paths.metrics(0, 1))
    assert result.weights == "early_stop" and result.step == metrics["early_stop_step"]
    assert result.stored_test_accuracy == metrics["early_stop_test_accuracy"]
    assert result.test_accuracy == pytest.approx(metrics["early_stop_test_accuracy"], abs=1 / 200)
    final = export.export_level(export_root, experiment.hash, level=1, weights="final")
    record = json.loads(pathlib.Path(final.saved_model).parent.joinpath("export.json").read_text())
    assert record["weights"] == "final" and record["step"] == metrics["final_step"]
    assert record["stored_test_accuracy"] == metrics["test_accuracy"]
    kernel = tf.saved_model.load(final.saved_model).kernels["dense_1"].numpy()
    np.testing.assert_array_equal(
        kernel, store.load_arrays(experiment.paths.weights_end(0, 1))["dense_1/kernel"])
    # Rerun without --tflite: the TFLite files of the first export are gone, as export.json says.
    assert record["tflite"] == []
    assert not [name for name in os.listdir(pathlib.Path(final.saved_model).parent)
                if name.endswith(".tflite")]
