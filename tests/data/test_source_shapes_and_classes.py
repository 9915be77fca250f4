"""Rough edges of user data: grayscale `.npz` arrays without a channel axis, one-class folders."""
import numpy as np
import pytest
import tensorflow as tf

from lottery_tf.data import source
from lottery_tf.data.pipeline import augment_batch
from lottery_tf.data.sources import get_spec, load_raw
from lottery_tf.data.splits import load_splits
from lottery_tf.errors import DataError
from lottery_tf.experiments.setup import prepare
from lottery_tf.testing import synthetic_images, tiny_config, write_image_folder, write_npz


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Sources are cached per process by name; tests rewrite files under one name.
    source.clear_cache()
    yield
    source.clear_cache()


def test_grayscale_npz_without_channel_axis_is_read_as_nhwc(tmp_path, tiny_mnist_dir):
    train_x, train_y = synthetic_images(300, 0)
    test_x, test_y = synthetic_images(100, 1)
    # As keras.datasets.fashion_mnist returns them: (N, 28, 28) uint8.
    path = write_npz(tmp_path / "gray.npz", train_x[..., 0], train_y, test_x[..., 0], test_y)
    name = f"npz:{path}"
    spec = get_spec(name)
    assert spec.image_shape == (28, 28, 1)
    assert spec.mean == pytest.approx([train_x.mean() / 255]) and len(spec.std) == 1  # one channel
    splits = load_splits(name, validation_size=50)
    assert splits.train_x.shape == (250, 28, 28, 1) and splits.val_x.shape == (50, 28, 28, 1)
    assert splits.test_x.shape == (100, 28, 28, 1)
    # The same pixels: the axis is added, nothing moves.
    np.testing.assert_array_equal(load_raw(name).train_x, train_x)
    # Augmentation (crops and flips NHWC images) and a convolutional model take them.
    augmented = augment_batch(tf.constant(splits.train_x[:8]), seed=0, step=0)
    assert augmented.shape == (8, 28, 28, 1)
    config = tiny_config(tiny_mnist_dir, **{"dataset.name": name, "dataset.data_dir": None,
                                            "dataset.validation_size": 50, "dataset.augment": True,
                                            "model.name": "conv2"})
    setup = prepare(config, str(tmp_path / "runs"), tf.distribute.get_strategy(), quiet=True, claim=False)
    assert setup.spec.image_shape == (28, 28, 1)


def test_float_grayscale_npz_gets_a_channel_axis_too_and_other_ranks_are_kept(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(40, 8, 8)).astype(np.float32)
    labels = np.arange(40) % 2
    path = write_npz(tmp_path / "float.npz", images[:30], labels[:30], images[30:], labels[30:])
    assert get_spec(f"npz:{path}").image_shape == (8, 8, 1)
    flat = write_npz(tmp_path / "flat.npz", images[:30].reshape(30, -1), labels[:30],
                     images[30:].reshape(10, -1), labels[30:])
    assert get_spec(f"npz:{flat}").image_shape == (64,)
    color = write_npz(tmp_path / "color.npz", np.repeat(images[:30, ..., None], 3, -1), labels[:30],
                      np.repeat(images[30:, ..., None], 3, -1), labels[30:])
    assert get_spec(f"npz:{color}").image_shape == (8, 8, 3)


def test_a_folder_with_one_class_folder_says_to_add_class_folders(tmp_path):
    images, labels = synthetic_images(6, 0)
    folder = write_image_folder(tmp_path / "pets", images, np.zeros(6, int), images[:2], np.zeros(2, int),
                                class_names=["cats"])
    expected = (f"{folder / 'train'} holds one class folder ('cats'); a classifier needs at least "
                "two: add a sub-folder per class")
    with pytest.raises(DataError) as raised:
        load_raw(f"folder:{folder}")
    assert str(raised.value) == expected
    assert "array" not in str(raised.value) and "labels" not in str(raised.value)
    # Writing the folder as shards reads its files the same way.
    with pytest.raises(DataError, match="holds one class folder"):
        source.clear_cache()
        from lottery_tf.data.shards import source_chunks

        source_chunks(f"folder:{folder}")
    # Two class folders read as before.
    two = write_image_folder(tmp_path / "two", images, labels % 2, images[:2], labels[:2] % 2)
    assert get_spec(f"folder:{two}").num_classes == 2
