"""Streamed splits refuse a shards folder whose held-out last examples miss classes."""
import numpy as np
import pytest

from lottery_tf.data import shards, validation
from lottery_tf.data.shard_classes import SHARDS_FIX
from lottery_tf.data.splits import load_splits
from lottery_tf.data.streaming import ShardSplits
from lottery_tf.errors import ConfigError, DataError
from lottery_tf.testing import synthetic_images

PER_CLASS = 100
CLASSES = 3


def _class_ordered(directory, shard_bytes=shards.DEFAULT_SHARD_BYTES, shuffle=False):
    """A shards folder written from chunks in class order (one chunk per class), as a source
    read class by class gives them; `shuffle` writes the same examples in random order."""
    images, _ = synthetic_images(PER_CLASS * CLASSES, 0)
    labels = np.repeat(np.arange(CLASSES), PER_CLASS)
    if shuffle:
        order = np.random.default_rng(0).permutation(len(labels))
        images, labels = images[order], labels[order]
    chunks = [(images[i:i + PER_CLASS], labels[i:i + PER_CLASS])
              for i in range(0, len(labels), PER_CLASS)]
    test_x, test_y = synthetic_images(30, 1)
    return shards.write_shards(directory, chunks, len(labels), [(test_x, test_y % CLASSES)], 30,
                               shard_bytes=shard_bytes)


def _expected_message(train_y, val_y):
    with pytest.raises(DataError) as raised:
        validation.check_classes("shards:x", train_y, val_y, np.arange(CLASSES), "last", fix=SHARDS_FIX)
    return str(raised.value).removeprefix("shards:x")


def test_class_ordered_shards_whose_validation_misses_classes_are_refused(tmp_path):
    folder = _class_ordered(tmp_path / "ordered")  # one shard: its last examples are class 2
    name = f"shards:{folder}"
    with pytest.raises(DataError) as raised:
        ShardSplits(name, validation_size=50)
    message = str(raised.value)
    assert message == name + _expected_message(np.arange(CLASSES), np.full(50, 2))
    assert "validation split holds no example of class(es) [0, 1]" in message
    assert "class order" in message and "python -m lottery_tf.data.shards" in message
    # The command line's path (the shards source's streamed splits) stops the same way.
    with pytest.raises(DataError, match=r"holds no example of class\(es\) \[0, 1\]"):
        load_splits(name, validation_size=50)


def test_class_ordered_shards_whose_training_loses_a_class_are_refused(tmp_path):
    name = f"shards:{_class_ordered(tmp_path / 'ordered')}"
    with pytest.raises(DataError, match=r"training holds no example of class\(es\) \[2\] "
                                        r"\(validation_split='last' took them all\); the shards may"):
        ShardSplits(name, validation_size=PER_CLASS + 20)


def test_shuffled_shards_and_no_validation_pass(tmp_path):
    shuffled = ShardSplits(f"shards:{_class_ordered(tmp_path / 'shuffled', shuffle=True)}", 50)
    assert shuffled.size("val") == 50
    # Many small shards, each in class order inside: validation spans whole shards of all classes.
    small = _class_ordered(tmp_path / "small", shard_bytes=10 * 28 * 28)
    assert ShardSplits(f"shards:{small}", 50).num_train == 250
    # No validation split: nothing taken from training, nothing to check.
    assert ShardSplits(f"shards:{_class_ordered(tmp_path / 'none')}", 0).num_train == 300


def test_stratified_validation_of_streamed_shards_is_refused_before_reading(tmp_path, monkeypatch):
    folder = _class_ordered(tmp_path / "ordered")

    def no_reading(*args, **kwargs):
        raise AssertionError("the shards were opened before the refusal")

    monkeypatch.setattr(ShardSplits, "__init__", no_reading)
    with pytest.raises(ConfigError, match="is streamed, so validation holds its last 50"):
        load_splits(f"shards:{folder}", validation_size=50, validation_split="stratified")
