"""`dataset.normalization`: the three input preparations, the same in NumPy, TensorFlow and export."""
import dataclasses
import os

import numpy as np
import pytest
import tensorflow as tf

from lottery_tf.config import hashing
from lottery_tf.config.checks import check_ranges
from lottery_tf.data import normalization
from lottery_tf.data.spec import DatasetSpec
from lottery_tf.data.splits import load_splits
from lottery_tf.errors import ConfigError
from lottery_tf.testing import tiny_config

SPEC = DatasetSpec(name="test", image_shape=(5, 4, 3), num_classes=3, train_size=10, test_size=4,
                   mean=(0.2, 0.5, 0.7), std=(0.1, 0.3, 0.25))


def _images(count=6, seed=0):
    images = np.random.default_rng(seed).integers(0, 256, (count, 5, 4, 3), dtype=np.uint8)
    images[1] = 0  # an all-black example
    return images


@pytest.mark.parametrize("name", normalization.NAMES)
def test_numpy_and_tensorflow_agree(name):
    spec = dataclasses.replace(SPEC, normalization=name)
    images = _images()
    in_memory = normalization.normalize_array(images, spec)
    streamed = normalization.normalize_tensor(tf.constant(images), spec).numpy()
    assert in_memory.dtype == np.float32 and in_memory.shape == images.shape
    np.testing.assert_allclose(streamed, in_memory, rtol=1e-6, atol=1e-6)
    low, high = normalization.value_range(spec)
    assert (in_memory >= low - 1e-6).all() and (in_memory <= high + 1e-6).all()


def test_each_choice_computes_its_formula():
    images = _images()
    x = images.astype(np.float64) / 255
    standardized = normalization.normalize_array(images, SPEC)
    np.testing.assert_allclose(standardized, (x - SPEC.mean) / SPEC.std, rtol=1e-5, atol=1e-5)
    unit = normalization.normalize_array(images, dataclasses.replace(SPEC, normalization="unit_range"))
    np.testing.assert_allclose(unit, x, rtol=1e-6)
    l2 = normalization.normalize_array(images, dataclasses.replace(SPEC, normalization="example_l2"))
    # The original code's keras.utils.normalize on each flattened example (raw pixels: it is
    # scale-free), and an all-zero example stays zero.
    import tf_keras as keras

    original = keras.utils.normalize(images.reshape(len(images), -1).astype(np.float64))
    np.testing.assert_allclose(l2.reshape(len(images), -1), original, rtol=1e-5, atol=1e-7)
    norms = np.linalg.norm(l2.reshape(len(images), -1), axis=1)
    np.testing.assert_allclose(np.delete(norms, 1), 1.0, rtol=1e-5)
    assert norms[1] == 0


def test_default_keeps_old_hashes_and_other_choices_name_new_experiments():
    config = tiny_config("/nowhere")
    unset = hashing.config_hash(config)
    config.dataset.normalization = "standardize"
    assert hashing.config_hash(config) == unset
    config.dataset.normalization = "unit_range"
    assert hashing.config_hash(config) != unset
    config.dataset.normalization = "l2"
    with pytest.raises(ConfigError, match="dataset.normalization must be one of standardize, "
                                          "unit_range, example_l2"):
        check_ranges(config)


def test_unknown_name_in_the_spec_names_the_choices():
    with pytest.raises(ConfigError, match="unit_range, example_l2"):
        normalization.with_normalization(SPEC, "minmax")


@pytest.mark.parametrize("name", normalization.NAMES)
def test_loaded_splits_follow_the_choice(tmp_path, name):
    rng = np.random.default_rng(1)
    train_x = rng.integers(0, 256, (40, 6, 6, 1), dtype=np.uint8)
    test_x = rng.integers(0, 256, (10, 6, 6, 1), dtype=np.uint8)
    path = os.path.join(tmp_path, "data.npz")
    np.savez(path, x_train=train_x, y_train=np.arange(40) % 2, x_test=test_x, y_test=np.arange(10) % 2)
    splits = load_splits(f"npz:{path}", validation_size=10, normalization=name)
    everything = np.concatenate([splits.train_x, splits.val_x])
    if name == "standardize":  # the training set's statistics: mean 0, std 1 over all 40
        assert abs(everything.mean()) < 1e-5 and everything.std() == pytest.approx(1.0, abs=1e-4)
    elif name == "unit_range":
        assert everything.min() >= 0 and everything.max() <= 1
        assert everything.max() == pytest.approx(train_x.max() / 255)
    else:
        np.testing.assert_allclose(np.linalg.norm(everything.reshape(40, -1), axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(np.sort(splits.test_x.ravel()), np.sort(normalization.normalize_array(
        test_x, normalization.with_normalization(splits_spec(path), name)).ravel()), rtol=1e-6)


def splits_spec(path):
    from lottery_tf.data.sources import get_spec

    return get_spec(f"npz:{path}")
