"""Shards folders: written once from any source, streamed in an order set by (seed, step)."""
import subprocess
import sys

import numpy as np
import pytest

from lottery_tf.data import shards
from lottery_tf.data.sources import get_spec
from lottery_tf.data.spec import statistics
from lottery_tf.data.splits import load_splits, normalize_images
from lottery_tf.data.streaming import ShardSplits
from lottery_tf.errors import ConfigError, DataError
from lottery_tf.testing import synthetic_images, write_image_folder, write_npz

BATCH = 20
SHARD_BYTES = 40 * 28 * 28  # 40 examples a shard: 18 shards, 3 windows an epoch


@pytest.fixture(scope="module")
def arrays():
    train_x, train_y = synthetic_images(700, 0)
    test_x, test_y = synthetic_images(200, 1)
    return train_x, train_y, test_x, test_y


@pytest.fixture(scope="module")
def folder(arrays, tmp_path_factory):
    train_x, train_y, test_x, test_y = arrays
    directory = tmp_path_factory.mktemp("shards")
    # Uneven chunks: the writer must not depend on where they are cut.
    shards.write_shards(directory, [(train_x[:333], train_y[:333]), (train_x[333:], train_y[333:])],
                        700, [(test_x, test_y)], 200, shard_bytes=SHARD_BYTES)
    return directory


def _rows(images):
    """Each example's bytes, to compare sets of examples."""
    return [row.tobytes() for row in np.asarray(images)]


def _stored_train_order(folder):
    """The training inputs in the shards' file order (what the splits cut)."""
    manifest = shards.read_manifest(folder)
    return np.concatenate([np.fromfile(folder / shard["x"], np.uint8).reshape(-1, 28, 28, 1)
                           for shard in manifest["splits"]["train"]["shards"]])


def _batches(splits, seed, start, end):
    return [(x.numpy(), y.numpy()) for x, y in splits.train_dataset(BATCH, seed, start, end)]


def test_epoch_visits_every_training_example_once_and_no_validation_example(folder, arrays):
    splits = ShardSplits(f"shards:{folder}", validation_size=100)
    assert (splits.num_train, splits.size("val"), splits.size("test")) == (600, 100, 200)
    stored = _stored_train_order(folder)
    spec = splits.spec()
    epoch = _batches(splits, seed=3, start=0, end=splits.num_train // BATCH)
    seen = np.concatenate([x for x, _ in epoch])
    assert sorted(_rows(seen)) == sorted(_rows(normalize_images(stored[:600], spec)))
    # Shuffled, not the file order; and the stored shards hold a sample of every class.
    assert not np.array_equal(seen, normalize_images(stored[:600], spec))
    first_shard = np.fromfile(folder / "train-00000.y", np.int32)
    assert len(set(first_shard.tolist())) >= 5
    # Every input of the source's training split is stored once.
    assert sorted(_rows(stored)) == sorted(_rows(arrays[0]))


def test_seeking_to_a_step_gives_the_uninterrupted_batches(folder):
    splits = ShardSplits(f"shards:{folder}", validation_size=100)
    straight = _batches(splits, seed=5, start=0, end=65)  # 30 steps an epoch: crosses two epochs
    for start in (13, 30, 47):  # mid-window, an epoch's first step, the next epoch's middle
        resumed = _batches(splits, seed=5, start=start, end=65)
        assert len(resumed) == 65 - start
        for (x, y), (x0, y0) in zip(resumed, straight[start:], strict=True):
            np.testing.assert_array_equal(x, x0)
            np.testing.assert_array_equal(y, y0)
    other_seed = _batches(splits, seed=6, start=0, end=5)
    assert not np.array_equal(other_seed[0][0], straight[0][0])
    # Epochs differ in order.
    assert not np.array_equal(straight[30][0], straight[0][0])


def test_validation_and_test_stream_exactly_the_in_memory_values(folder, arrays):
    splits = ShardSplits(f"shards:{folder}", validation_size=100)
    spec = splits.spec()
    scale, mean, std = statistics(arrays[0])
    assert spec.pixel_scale == scale and spec.image_shape == (28, 28, 1) and spec.num_classes == 10
    np.testing.assert_allclose(spec.mean, mean, rtol=1e-9)
    np.testing.assert_allclose(spec.std, std, rtol=1e-9)
    val = np.concatenate([x.numpy() for x, _ in splits.eval_dataset("val", 33)])
    np.testing.assert_array_equal(val, normalize_images(_stored_train_order(folder)[600:], spec))
    test_batches = [(x.numpy(), y.numpy()) for x, y in splits.eval_dataset("test", 64)]
    assert [len(y) for _, y in test_batches] == [64, 64, 64, 8]
    test_y = np.concatenate([y for _, y in test_batches])
    assert sorted(test_y.tolist()) == sorted(arrays[3].tolist())
    # The registry and load_splits read the same folder without loading it.
    assert get_spec(f"shards:{folder}") == spec
    loaded = load_splits(f"shards:{folder}", validation_size=100)
    assert loaded.streamed and loaded.fingerprint() == splits.fingerprint()
    assert ShardSplits(f"shards:{folder}", 50).fingerprint() != splits.fingerprint()


def test_any_source_is_written_chunk_by_chunk(arrays, tmp_path):
    train_x, train_y, test_x, test_y = arrays
    images = write_image_folder(tmp_path / "images", train_x[:120], train_y[:120], test_x[:40],
                                test_y[:40])
    npz = write_npz(tmp_path / "data.npz", train_x[:120], train_y[:120], test_x[:40], test_y[:40])
    stats = []
    for source in (f"folder:{images}", f"npz:{npz}"):
        out = shards.write_source(source, tmp_path / source[:3], shard_bytes=SHARD_BYTES)
        manifest = shards.read_manifest(out)
        assert manifest["splits"]["train"]["count"] == 120
        assert manifest["splits"]["test"]["count"] == 40
        stats.append((manifest["mean"], manifest["std"]))
        test = np.concatenate([np.fromfile(out / s["x"], np.uint8).reshape(-1, 28, 28, 1)
                               for s in manifest["splits"]["test"]["shards"]])
        assert sorted(_rows(test)) == sorted(_rows(test_x[:40]))
    np.testing.assert_allclose(stats[0], stats[1])


def test_bad_folders_get_one_message_naming_the_fix(folder, tmp_path):
    with pytest.raises(DataError, match="python -m lottery_tf.data.shards"):
        ShardSplits(f"shards:{tmp_path}", 10)
    with pytest.raises(ConfigError, match="validation_size=700 is out of range"):
        ShardSplits(f"shards:{folder}", 700)
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    for file in folder.iterdir():
        (damaged / file.name).write_bytes(file.read_bytes())
    (damaged / "train-00003.x").write_bytes(b"short")
    with pytest.raises(DataError, match="train-00003.x holds 5 bytes.*rewrite the shards folder"):
        ShardSplits(f"shards:{damaged}", 10)
    with pytest.raises(DataError, match="yielded 5 examples but announced 9"):
        x, y = synthetic_images(5, 0)
        shards.write_shards(tmp_path / "short", [(x, y)], 9, [(x, y)], 5)


def test_cli_writes_a_folder_and_refuses_bad_sources_with_exit_1(arrays, tmp_path):
    npz = write_npz(tmp_path / "data.npz", *arrays)
    done = subprocess.run([sys.executable, "-m", "lottery_tf.data.shards", f"npz:{npz}",
                           str(tmp_path / "out"), "--shard_mb=0.1"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"shards:{tmp_path / 'out'}" in done.stdout
    assert ShardSplits(f"shards:{tmp_path / 'out'}", 100).num_train == 600
    bad = subprocess.run([sys.executable, "-m", "lottery_tf.data.shards", f"npz:{tmp_path}/no.npz",
                          str(tmp_path / "out2")], capture_output=True, text=True)
    assert bad.returncode == 1 and "does not exist" in bad.stderr and "Traceback" not in bad.stderr


def test_small_write_buffers_give_the_same_shards(arrays, folder, tmp_path, monkeypatch):
    train_x, train_y, test_x, test_y = arrays
    # Flushing after every chunk (as with tens of thousands of shards) stores the same bytes.
    monkeypatch.setattr(shards, "_BUFFER_BYTES", 1)
    again = shards.write_shards(tmp_path / "again", [(train_x[i:i + 50], train_y[i:i + 50])
                                                     for i in range(0, 700, 50)],
                                700, [(test_x, test_y)], 200, shard_bytes=SHARD_BYTES)
    assert shards.read_manifest(again) == shards.read_manifest(folder)


@pytest.mark.parametrize("normalization", ["unit_range", "example_l2"])
def test_streamed_batches_follow_dataset_normalization(folder, normalization):
    splits = load_splits(f"shards:{folder}", validation_size=100, normalization=normalization)
    spec = splits.spec()
    assert spec.normalization == normalization
    val = np.concatenate([x.numpy() for x, _ in splits.eval_dataset("val", 33)])
    np.testing.assert_allclose(val, normalize_images(_stored_train_order(folder)[600:], spec),
                               rtol=1e-6, atol=1e-7)
    assert val.min() >= 0 and val.max() <= 1
