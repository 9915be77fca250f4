"""export --tflite times a mobilenet ticket's sparse TFLite model against the dense one under XNNPACK."""
import json
import os

import numpy as np
import pytest

from lottery_tf import export
from lottery_tf.export import xnnpack
from lottery_tf.storage import store
from lottery_tf.storage.catalog import find_experiment
from lottery_tf.testing import tiny_config

POINTWISE = ("pw_1", "pw_2", "pw_3", "pw_4", "pw_5")


@pytest.fixture(scope="module")
def mobilenet_export(tiny_mnist_dir, tmp_path_factory):
    """mobilenet_4 with its 1x1 convs 80% pruned at level 1, exported with --tflite."""
    from lottery_tf.experiments.lottery import run_lottery

    config = tiny_config(tiny_mnist_dir, levels=1, **{
        "model.name": "mobilenet_4", "pruning.policy": "xnnpack", "pruning.rate": 0.8,
        "training.train_steps": "10it", "training.eval_every": "10it", "runtime.jit_compile": False})
    root = str(tmp_path_factory.mktemp("xnnpack_runs"))
    run_lottery(config, root, [0], quiet=True)
    experiment = find_experiment(root, None)
    return experiment, export.export_level(root, None, level=1, tflite=True)


@pytest.mark.slow  # a mobilenet IMP and export (~35 s); the verdict logic stays in the default suite
def test_xnnpack_figures_and_evidence_in_export_json(mobilenet_export):
    experiment, result = mobilenet_export
    masks = store.load_arrays(experiment.paths.level_files(0, 1).mask)
    assert sorted(masks) == list(POINTWISE)  # only the 1x1 convolutions are pruned
    mask_zero = 100.0 * sum(int((m == 0).sum()) for m in masks.values()) / sum(m.size for m in masks.values())
    assert mask_zero > 100 * xnnpack.SPARSE_ZERO_FRACTION
    xnn = result.xnnpack
    # The 1x1 filters read from the TFLite file (BatchNorm folded in) have the mask's zeros.
    assert xnn.pointwise_percent_zero == pytest.approx(mask_zero, abs=0.01)
    assert xnn.model_problem is None and xnn.densify_ops == len(POINTWISE)
    assert xnn.dense_ms > 0 and xnn.sparse_ms > 0
    assert xnn.speedup == pytest.approx(xnn.dense_ms / xnn.sparse_ms)
    sparse = next(model for model in result.tflite if model.name == "sparse format")
    dense = next(model for model in result.tflite if model.name == "dense level 0")
    assert (xnn.sparse_ms, xnn.dense_ms) == (sparse.median_ms, dense.median_ms)
    # The verdict follows the evidence; with AVX, XNNPACK's x86 build keeps its dense kernels.
    assert xnn.sparse_path == (not xnn.same_logits_as_dense_kernels)
    if xnnpack.cpu_has_avx():
        assert not xnn.sparse_path and "AVX" in xnn.reason
    record = json.load(open(os.path.join(os.path.dirname(result.saved_model), "export.json")))
    assert record["xnnpack"]["speedup"] == pytest.approx(xnn.speedup)
    assert record["xnnpack"]["sparse_path"] == xnn.sparse_path and record["xnnpack"]["reason"] == xnn.reason
    assert "XNNPACK batch 1: dense level 0" in export.format_result(result)


@pytest.mark.slow  # shares the mobilenet export above
def test_sparse_tflite_model_predicts_what_the_keras_model_does(mobilenet_export, tiny_mnist_dir):
    import tf_keras as keras

    from lottery_tf.data.sources import get_spec
    from lottery_tf.data.splits import normalize_images
    from lottery_tf.testing import synthetic_images

    experiment, result = mobilenet_export
    images, _ = synthetic_images(32, seed=3)
    keras.backend.clear_session()
    config = experiment.config_dict()
    model = export.rebuild(config, experiment.paths.level_files(0, 1), "early_stop")
    expected = model(normalize_images(images, get_spec(config.dataset.name)), training=False).numpy()
    sparse = next(model for model in result.tflite if model.name == "sparse format")
    with open(sparse.path, "rb") as file:
        np.testing.assert_allclose(export.tflite_logits(file.read(), images), expected, rtol=0, atol=1e-4)


def test_verdict_names_the_missing_condition():
    taken, reason = xnnpack._verdict(0, 90.0, None, True, same=True)
    assert not taken and "no DENSIFY op" in reason
    taken, reason = xnnpack._verdict(5, 50.0, None, False, same=True)
    assert not taken and "more than 2/3 zeros" in reason and "50.0%" in reason
    taken, reason = xnnpack._verdict(5, 90.0, "Could not find ...", False, same=True)
    assert not taken and "does not fit" in reason
    taken, reason = xnnpack._verdict(5, 90.0, None, False, same=False)
    assert taken and reason.startswith("taken")
