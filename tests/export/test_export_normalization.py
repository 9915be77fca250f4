"""An experiment trained on unit-L2 examples exports a SavedModel that prepares raw pixels the same way."""
import numpy as np
import tensorflow as tf

from lottery_tf import export
from lottery_tf.data import normalization
from lottery_tf.storage.catalog import find_experiment
from lottery_tf.testing import tiny_config


def test_saved_model_applies_the_experiments_normalization(tiny_mnist_dir, tmp_path):
    from lottery_tf.experiments.lottery import run_lottery

    config = tiny_config(tiny_mnist_dir, levels=0, **{
        "dataset.normalization": "example_l2", "training.train_steps": "10it",
        "training.eval_every": "10it", "runtime.jit_compile": False})
    root = str(tmp_path)
    run_lottery(config, root, [0], quiet=True)
    experiment = find_experiment(root, None)
    assert experiment.spec().normalization == "example_l2"
    result = export.export_level(root, experiment.hash, level=0)
    assert result.max_abs_diff <= 1e-5
    images, _ = export.check_images(experiment.config_dict(), 16)
    loaded = tf.saved_model.load(result.saved_model)
    served = loaded.signatures["serving_default"](images=tf.constant(images))["logits"].numpy()
    model = export.rebuild(experiment.config_dict(), experiment.paths.level_files(0, 0), "early_stop")
    by_hand = model(normalization.normalize_array(images, experiment.spec()), training=False).numpy()
    np.testing.assert_allclose(served, by_hand, atol=1e-5)
    # Standardized inputs are not what this model takes: the 'normalized' signature refuses them.
    standardized = normalization.normalize_array(
        images, normalization.with_normalization(experiment.spec(), "standardize"))
    try:
        loaded.signatures["normalized"](images=tf.constant(standardized))
    except tf.errors.InvalidArgumentError as error:
        assert "pixel / ||pixels of the example||_2" in str(error)
    else:
        raise AssertionError("the 'normalized' signature took standardized inputs")
