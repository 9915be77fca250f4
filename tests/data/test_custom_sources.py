"""Your own data: npz arrays, an image folder and a prepared tfds dataset, read and checked."""
import numpy as np
import pytest
import tensorflow as tf

from lottery_tf.data import source
from lottery_tf.data.sources import get_spec, load_raw
from lottery_tf.data.splits import load_splits, normalize_images
from lottery_tf.errors import ConfigError, DataError
from lottery_tf.experiments.setup import prepare
from lottery_tf.testing import (
    synthetic_images,
    tiny_config,
    write_image_folder,
    write_npz,
    write_tiny_tfds,
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Sources are cached per process by name; tests rewrite files under one name.
    source.clear_cache()
    yield
    source.clear_cache()


def _real(name, train=600, test=200):
    try:
        raw = load_raw(name, download=False)
    except DataError:
        pytest.skip(f"the real {name} is not installed")
    return raw.train_x[:train], raw.train_y[:train], raw.test_x[:test], raw.test_y[:test]


def test_npz_of_real_mnist_rows_loads_with_statistics_of_its_training_split(tmp_path):
    train_x, train_y, test_x, test_y = _real("mnist")
    rows = write_npz(tmp_path / "rows.npz", train_x[..., 0], train_y, test_x[..., 0], test_y)
    spec = get_spec(f"npz:{rows}")
    # (N, 28, 28) arrays are grayscale images: read with a channel axis, one channel's statistics.
    assert spec.image_shape == (28, 28, 1) and spec.num_classes == 10 and spec.pixel_scale == 255
    expected_mean = (train_x / 255.0).mean(axis=(0, 1, 2))
    np.testing.assert_allclose(spec.mean, expected_mean, atol=1e-6)
    splits = load_splits(f"npz:{rows}", validation_size=100)
    assert splits.train_x.shape == (500, 28, 28, 1) and splits.test_x.shape == (200, 28, 28, 1)
    whole = np.concatenate([splits.train_x, splits.val_x])
    np.testing.assert_allclose(whole.mean(axis=(0, 1, 2)), 0.0, atol=1e-4)  # standardized per channel
    np.testing.assert_array_equal(splits.test_y, test_y)


def test_float_npz_is_standardized_without_pixel_scaling(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(5.0, 2.0, size=(400, 12, 4, 3)).astype(np.float32)
    path = write_npz(tmp_path / "f.npz", x[:300], np.arange(300) % 3, x[300:], np.arange(100) % 3)
    spec = get_spec(f"npz:{path}")
    assert spec.pixel_scale == 1 and spec.num_classes == 3
    np.testing.assert_allclose(spec.mean, x[:300].mean(axis=(0, 1, 2)), rtol=1e-5)
    np.testing.assert_allclose(spec.std, x[:300].std(axis=(0, 1, 2)), rtol=1e-4)


@pytest.mark.parametrize(("arrays", "message"), [
    ({"x_train": np.zeros((4, 3), np.uint8), "y_train": np.zeros(4, int)}, "lacks the arrays"),
    ({"x_train": np.zeros((4, 3), np.uint8), "y_train": np.zeros(5, int),
      "x_test": np.zeros((2, 3), np.uint8), "y_test": np.ones(2, int)}, "4 inputs but 5 labels"),
    ({"x_train": np.zeros((4, 3), np.uint8), "y_train": np.arange(4),
      "x_test": np.zeros((2, 5), np.uint8), "y_test": np.ones(2, int)}, "one example shape"),
    ({"x_train": np.zeros((4, 3), np.uint8), "y_train": np.full(4, 0.5),
      "x_test": np.zeros((2, 3), np.uint8), "y_test": np.ones(2, int)}, "non-negative integer"),
])
def test_bad_npz_gets_one_message_naming_the_fix(arrays, message, tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError, match=message):
        get_spec(f"npz:{path}")


def test_missing_npz_file_says_how_to_write_it(tmp_path):
    with pytest.raises(DataError, match="does not exist.*np.savez"):
        load_raw(f"npz:{tmp_path / 'nope.npz'}")


def test_image_folder_of_real_fashion_mnist_pngs_reads_back_the_pixels(tmp_path):
    train_x, train_y, test_x, test_y = _real("fashion_mnist", train=200, test=50)
    names = ["tshirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag",
             "boot"]
    folder = write_image_folder(tmp_path / "fashion", train_x, train_y, test_x, test_y, names)
    loaded = load_raw(f"folder:{folder}")
    assert loaded.train_x.shape == (200, 28, 28, 1) and loaded.train_x.dtype == np.uint8
    # Read in sorted class-folder order: labels follow the sorted class names.
    order = sorted(range(10), key=lambda label: names[label])
    remap = {old: new for new, old in enumerate(order)}
    expected = sorted(zip([remap[int(y)] for y in train_y], range(200), strict=True))
    np.testing.assert_array_equal(loaded.train_y, [label for label, _ in expected])
    np.testing.assert_array_equal(loaded.train_x, train_x[[index for _, index in expected]])
    assert get_spec(f"folder:{folder}").num_classes == 10


def test_image_folder_without_class_folders_or_with_a_broken_image_is_refused(tmp_path):
    (tmp_path / "empty" / "train").mkdir(parents=True)
    with pytest.raises(DataError, match="no class folders"):
        load_raw(f"folder:{tmp_path / 'empty'}")
    images, labels = synthetic_images(6, 0)
    folder = write_image_folder(tmp_path / "broken", images, labels % 2, images[:2], labels[:2] % 2)
    bad = next((folder / "train" / "class_0").iterdir())
    bad.write_bytes(b"not a png")
    source.clear_cache()
    with pytest.raises(DataError, match=f"{bad.name} is not a readable image"):
        load_raw(f"folder:{folder}")


def test_tfds_dataset_prepared_locally_loads_by_name(tmp_path):
    name = write_tiny_tfds(tmp_path / "tfds", train=60, test=20)
    spec = get_spec(f"tfds:{name}", str(tmp_path / "tfds"))
    assert spec.image_shape == (28, 28, 1) and spec.train_size == 60 and spec.test_size == 20
    raw = load_raw(f"tfds:{name}", tmp_path / "tfds")
    images, labels = synthetic_images(60, 0)
    # tfds stores records in its own order; the same examples come back.
    assert sorted(map(bytes, raw.train_x)) == sorted(map(bytes, images))
    assert np.bincount(raw.train_y, minlength=10).tolist() == np.bincount(labels, minlength=10).tolist()
    with pytest.raises(DataError, match="not available in.*tfds build other"):
        get_spec("tfds:other", str(tmp_path / "tfds"))
    with pytest.raises(DataError, match="no split 'validation'"):
        get_spec(f"tfds:{name}", str(tmp_path / "tfds"), split_test="validation")


def test_every_source_has_a_fingerprint_and_refuses_drifted_data(tmp_path, tiny_mnist_dir):
    images, labels = synthetic_images(300, 0)
    test_images, test_labels = synthetic_images(100, 1)
    sources = {
        "npz": f"npz:{write_npz(tmp_path / 'd.npz', images, labels, test_images, test_labels)}",
        "folder": f"folder:{write_image_folder(tmp_path / 'f', images, labels, test_images, test_labels)}",
    }
    root = str(tmp_path / "runs")
    for kind, name in sources.items():
        config = tiny_config(tiny_mnist_dir, **{"dataset.name": name, "dataset.data_dir": None})
        setup = prepare(config, root, tf.distribute.get_strategy(), quiet=True)
        assert setup.splits.train_x.shape[1:] == (28, 28, 1)
        # The same name now holds other data: the stored experiment refuses it.
        flipped = images.copy()
        flipped[0] = 255 - flipped[0]
        if kind == "npz":
            write_npz(tmp_path / "d.npz", flipped, labels, test_images, test_labels)
        else:
            first = sorted((tmp_path / "f" / "train" / f"class_{labels[0]}").iterdir())[0]
            first.write_bytes(tf.io.encode_png(flipped[0]).numpy())
        source.clear_cache()
        with pytest.raises(ConfigError, match="data: stored fingerprint"):
            prepare(config, root, tf.distribute.get_strategy(), quiet=True)


def test_tfds_validation_split_validates_and_all_of_train_trains(tmp_path):
    name = write_tiny_tfds(tmp_path / "tfds", train=60, test=20)
    data_dir = str(tmp_path / "tfds")
    splits = load_splits(f"tfds:{name}", data_dir, 0, split_train="train[:45]",
                         split_validation="train[45:]")
    whole = load_raw(f"tfds:{name}", data_dir)
    assert (len(splits.train_y), len(splits.val_y), len(splits.test_y)) == (45, 15, 20)
    spec = get_spec(f"tfds:{name}", data_dir, split_train="train[:45]")
    np.testing.assert_array_equal(splits.val_x, normalize_images(whole.train_x[45:], spec))
    with pytest.raises(ConfigError, match="set --config.dataset.validation_size=0"):
        load_splits(f"tfds:{name}", data_dir, 10, split_validation="train[45:]")
    with pytest.raises(ConfigError, match="'mnist' is no tfds:<name> source"):
        load_splits("mnist", None, 0, split_validation="validation")
    with pytest.raises(DataError, match="no split 'validation'.*dataset.split_validation"):
        load_splits(f"tfds:{name}", data_dir, 0, split_validation="validation")
