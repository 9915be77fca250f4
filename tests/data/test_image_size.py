"""dataset.image_size: images of many sizes (ImageNet) read at one square size."""
import numpy as np
import pytest

from lottery_tf.data import images as image_lib
from lottery_tf.data import shards, sources
from lottery_tf.data.sources import get_spec
from lottery_tf.data.splits import load_splits
from lottery_tf.errors import ConfigError, DataError
from lottery_tf.experiments import config as config_lib
from lottery_tf.testing import imagenet_stand_in_images, write_imagenet_stand_in


def test_square_image_keeps_the_aspect_ratio_and_crops_the_centre():
    image = np.zeros((40, 80, 3), np.uint8)
    image[:, :20] = 255  # the left quarter: outside the central 40 x 40
    image[:, 20:60, 1] = 100
    square = image_lib.square_image(image, 20).numpy()
    assert square.shape == (20, 20, 3) and square.dtype == np.uint8
    inner = square[:, 2:-2]  # the antialiasing filter blends the outermost columns
    assert np.all(inner[..., 0] == 0) and np.all(inner[..., 1] == 100)
    assert square[:, 0, 0].max() < 128  # mostly the centre, not the cut-off red border


def test_tfds_images_of_many_sizes_need_and_get_one_size(tmp_path):
    data_dir = str(tmp_path / "tfds")
    name = f"tfds:{write_imagenet_stand_in(tmp_path / 'tfds', train=12, validation=4)}"
    with pytest.raises(DataError, match="many sizes.*dataset.image_size"):
        get_spec(name, data_dir, split_test="validation")
    spec = get_spec(name, data_dir, split_test="validation", image_size=24)
    assert spec.image_shape == (24, 24, 3) and spec.train_size == 12 and spec.test_size == 4
    splits = load_splits(name, data_dir, 2, split_test="validation", image_size=24)
    assert splits.train_x.shape == (10, 24, 24, 3) and splits.test_x.shape == (4, 24, 24, 3)
    # The same images squared one by one (tfds keeps its own record order).
    images, _ = imagenet_stand_in_images(4, 1)
    expected = sorted(image_lib.square_image(image, 24).numpy().tobytes() for image in images)
    raw = sources.load_raw(name, data_dir, split_test="validation", image_size=24)
    assert sorted(x.tobytes() for x in raw[2]) == expected


def test_folder_images_of_many_sizes_load_at_image_size(tmp_path):
    import tensorflow as tf

    root = tmp_path / "folder"
    train, train_y = imagenet_stand_in_images(6, 0)
    test, test_y = imagenet_stand_in_images(3, 1)
    for split, images, labels in (("train", train, train_y), ("test", test, test_y)):
        for index, (image, label) in enumerate(zip(images, labels, strict=True)):
            folder = root / split / f"class_{label}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{index:03d}.png").write_bytes(tf.io.encode_png(image).numpy())
    for label in range(4):  # every class folder in both splits
        (root / "train" / f"class_{label}").mkdir(parents=True, exist_ok=True)
    name = f"folder:{root}"
    with pytest.raises(DataError, match="resize"):
        sources.load_raw(name)
    train_x, train_labels, test_x, _ = sources.load_raw(name, image_size=16)
    assert train_x.shape == (6, 16, 16, 3) and test_x.shape == (3, 16, 16, 3)
    assert sorted(train_labels.tolist()) == sorted(train_y.tolist())


def test_image_size_is_refused_for_sources_it_cannot_resize():
    config = config_lib.base_config()
    config.dataset.image_size = 32
    with pytest.raises(ConfigError, match="dataset.image_size"):
        config_lib.check_ranges(config)
    config.dataset.name = "tfds:imagenet2012"
    config_lib.check_ranges(config)
    config.dataset.name = "shards:/data/imagenet_shards"
    config_lib.check_ranges(config)


def _stored_split(folder, split, shape):
    manifest = shards.read_manifest(folder)
    return np.concatenate([np.fromfile(folder / shard["x"], np.uint8).reshape(-1, *shape)
                           for shard in manifest["splits"][split]["shards"]])


def test_tfds_images_of_many_sizes_are_written_as_shards_at_image_size(tmp_path, capsys):
    data_dir = str(tmp_path / "tfds")
    name = f"tfds:{write_imagenet_stand_in(tmp_path / 'tfds', train=12, validation=4)}"
    out = tmp_path / "shards"
    command = [name, str(out), f"--data_dir={data_dir}", "--split_test=validation"]
    assert shards.main(command) == 1
    assert "many sizes" in capsys.readouterr().err and not out.exists()
    assert shards.main([*command, "--image_size=24"]) == 0
    manifest = shards.read_manifest(out)
    assert manifest["example_shape"] == [24, 24, 3]
    assert (manifest["splits"]["train"]["count"], manifest["splits"]["test"]["count"]) == (12, 4)
    images, _ = imagenet_stand_in_images(4, 1)
    expected = sorted(image_lib.square_image(image, 24).numpy().tobytes() for image in images)
    assert sorted(row.tobytes() for row in _stored_split(out, "test", (24, 24, 3))) == expected
    # The streamed dataset then trains at that size like any other; a config made for the
    # source (dataset.image_size=24) runs on it unchanged, and a wrong size is refused.
    assert get_spec(f"shards:{out}", image_size=24).image_shape == (24, 24, 3)
    assert load_splits(f"shards:{out}", validation_size=2, image_size=24).num_train == 10
    with pytest.raises(DataError, match="write the shards with --image_size=32"):
        load_splits(f"shards:{out}", validation_size=2, image_size=32)


def test_image_folders_of_many_sizes_are_written_as_shards_at_image_size(tmp_path):
    import tensorflow as tf

    root = tmp_path / "folder"
    train, train_y = imagenet_stand_in_images(6, 0)
    for index, (image, label) in enumerate(zip(train, train_y, strict=True)):
        for split in ("train", "test"):
            folder = root / split / f"class_{label}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{index:03d}.png").write_bytes(tf.io.encode_png(image).numpy())
    with pytest.raises(DataError, match="--image_size=N"):
        shards.write_source(f"folder:{root}", tmp_path / "refused")
    out = shards.write_source(f"folder:{root}", tmp_path / "shards", image_size=16)
    stored = _stored_split(out, "train", (16, 16, 3))
    expected = sorted(image_lib.square_image(image, 16).numpy().tobytes() for image in train)
    assert sorted(row.tobytes() for row in stored) == expected
    with pytest.raises(ConfigError, match="drop --image_size"):
        shards.write_source("mnist", tmp_path / "mnist", image_size=16)
