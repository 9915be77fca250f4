"""tf.data pipelines: order is a pure function of (seed, step)."""

from __future__ import annotations

import lottery_tf  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TF loads)

# isort: split

import numpy as np
import pytest
import tensorflow as tf

from lottery_tf.data.pipeline import (
    BatchIndices,
    augment_batch,
    eval_dataset,
    steps_per_epoch,
    train_dataset,
)
from lottery_tf.errors import ConfigError

N, BATCH = 23, 5  # 4 full batches per epoch, 3 examples dropped each epoch
SPE = N // BATCH


def make_data(n: int = N, size: int = 8, channels: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Image i is filled with the value i, so batches reveal example ids."""
    x = np.repeat(np.arange(n, dtype=np.float32), size * size * channels)
    return x.reshape(n, size, size, channels), np.arange(n, dtype=np.int64) % 10


def ids(dataset: tf.data.Dataset) -> list[list[int]]:
    """Example ids of each batch, read from the image pixels."""
    return [batch[:, 0, 0, 0].astype(int).tolist() for batch, _ in dataset.as_numpy_iterator()]


def flat(batches: list[list[int]]) -> list[int]:
    return [i for batch in batches for i in batch]


def test_steps_per_epoch() -> None:
    assert steps_per_epoch(23, 5) == 4
    assert steps_per_epoch(5, 5) == 1
    with pytest.raises(ConfigError, match="larger than the 4 training examples"):
        steps_per_epoch(4, 5)
    with pytest.raises(ConfigError, match="batch_size must be positive"):
        steps_per_epoch(4, 0)


def test_shapes_and_dtypes() -> None:
    x, y = make_data()
    dataset = train_dataset(x, y, BATCH, seed=0, start_step=0, end_step=3)
    images_spec, labels_spec = dataset.element_spec
    assert images_spec.shape == (BATCH, 8, 8, 1) and labels_spec.dtype == tf.int32
    batches = list(dataset.as_numpy_iterator())
    assert len(batches) == 3
    for images, labels in batches:
        np.testing.assert_array_equal(labels, images[:, 0, 0, 0].astype(int) % 10)


def test_deterministic_for_seed_and_seeds_differ() -> None:
    x, y = make_data()
    first = ids(train_dataset(x, y, BATCH, seed=3, start_step=0, end_step=12))
    again = ids(train_dataset(x, y, BATCH, seed=3, start_step=0, end_step=12))
    other = ids(train_dataset(x, y, BATCH, seed=4, start_step=0, end_step=12))
    assert first == again
    assert first != other


def test_each_example_at_most_once_per_epoch_and_epochs_differ() -> None:
    x, y = make_data()
    steps = ids(train_dataset(x, y, BATCH, seed=1, start_step=0, end_step=3 * SPE))
    epochs = [flat(steps[e * SPE : (e + 1) * SPE]) for e in range(3)]
    for epoch in epochs:
        assert len(epoch) == SPE * BATCH and len(set(epoch)) == len(epoch)
        assert set(epoch) <= set(range(N))
    assert epochs[0] != epochs[1]


def test_whole_set_covered_when_batch_divides() -> None:
    x, y = make_data(n=20)
    steps = ids(train_dataset(x, y, 5, seed=2, start_step=0, end_step=8))
    for epoch in (steps[:4], steps[4:]):
        assert sorted(flat(epoch)) == list(range(20))


def test_epoch_order_is_stateless_shuffle() -> None:
    x, y = make_data()
    epoch = 2
    expected = tf.random.experimental.stateless_shuffle(
        tf.range(N, dtype=tf.int64), seed=tf.constant([7, epoch], tf.int64)
    ).numpy()[: SPE * BATCH]
    got = ids(train_dataset(x, y, BATCH, seed=7, start_step=epoch * SPE, end_step=(epoch + 1) * SPE))
    assert flat(got) == expected.tolist()


@pytest.mark.parametrize("start", [1, SPE, SPE + 2, 2 * SPE + 3])
@pytest.mark.parametrize("augment", [False, True])
def test_resume_matches_uninterrupted(start: int, augment: bool) -> None:
    x, y = make_data(channels=3)
    end = 3 * SPE + 1
    full = list(train_dataset(x, y, BATCH, 11, 0, end, augment=augment).as_numpy_iterator())
    resumed = list(train_dataset(x, y, BATCH, 11, start, end, augment=augment).as_numpy_iterator())
    assert len(resumed) == end - start
    for (want_x, want_y), (got_x, got_y) in zip(full[start:], resumed, strict=False):
        np.testing.assert_array_equal(got_x, want_x)
        np.testing.assert_array_equal(got_y, want_y)


@pytest.mark.parametrize(("start", "count"), [(0, 3), (2, SPE), (SPE - 1, 2 * SPE + 2), (5 * SPE, 1)])
def test_batch_indices_are_the_datasets_batches(start: int, count: int) -> None:
    x, y = make_data(channels=3)
    order = BatchIndices(N, BATCH, seed=11)
    rows = order.rows(start, count)
    assert rows.shape == (count, BATCH) and rows.dtype == tf.int32
    dataset = list(train_dataset(x, y, BATCH, 11, start, start + count, augment=True).as_numpy_iterator())
    for offset, (row, (images, labels)) in enumerate(zip(rows, dataset, strict=True)):
        np.testing.assert_array_equal(labels, y[row.numpy()])
        # Augmenting the gathered rows with the step's seed gives the dataset's batch.
        augmented = augment_batch(tf.gather(tf.constant(x), row), 11, start + offset)
        np.testing.assert_array_equal(augmented.numpy(), images)
    # Rows keep epoch boundaries wherever a chunk starts.
    pieces = tf.concat([order.rows(start, 1), order.rows(start + 1, count - 1)], axis=0)
    np.testing.assert_array_equal(pieces.numpy(), rows.numpy())


def test_batch_indices_refuse_bad_input() -> None:
    assert BatchIndices(N, BATCH, 0).rows(3, 0).shape == (0, BATCH)
    with pytest.raises(ConfigError, match="count >= 0"):
        BatchIndices(N, BATCH, 0).rows(-1, 2)
    with pytest.raises(ConfigError, match="larger than the 23 training examples"):
        BatchIndices(N, 24, 0)


def test_empty_and_bad_ranges() -> None:
    x, y = make_data()
    assert ids(train_dataset(x, y, BATCH, 0, 5, 5)) == []
    with pytest.raises(ConfigError, match="start_step <= end_step"):
        train_dataset(x, y, BATCH, 0, 5, 4)
    with pytest.raises(ConfigError, match="23 images but 22 labels"):
        train_dataset(x, y[:-1], BATCH, 0, 0, 1)


def test_augmentation_deterministic_and_shape_preserving() -> None:
    rng = np.random.default_rng(0)
    images = tf.constant(rng.normal(size=(16, 32, 32, 3)).astype(np.float32))
    out = augment_batch(images, seed=5, step=9)
    assert out.shape == images.shape and out.dtype == images.dtype
    np.testing.assert_array_equal(out.numpy(), augment_batch(images, seed=5, step=9).numpy())
    assert not np.array_equal(out.numpy(), augment_batch(images, seed=5, step=10).numpy())
    assert not np.array_equal(out.numpy(), augment_batch(images, seed=6, step=9).numpy())


def test_augmentation_is_a_padded_crop_maybe_flipped() -> None:
    rng = np.random.default_rng(1)
    images = rng.normal(size=(32, 32, 32, 3)).astype(np.float32)
    out = augment_batch(tf.constant(images), seed=0, step=0).numpy()
    padded = np.pad(images, [(0, 0), (4, 4), (4, 4), (0, 0)])
    flipped = 0
    for image, result in zip(padded, out, strict=False):
        crops = [
            image[dy : dy + 32, dx : dx + 32] for dy in range(9) for dx in range(9)
        ]
        if any(np.array_equal(result, crop) for crop in crops):
            continue
        assert any(np.array_equal(result[:, ::-1], crop) for crop in crops)
        flipped += 1
    assert 0 < flipped < 32  # per-example draws, not one flip for the batch


def test_training_augments_only_when_asked() -> None:
    x, y = make_data(size=32, channels=3)
    x = x + np.random.default_rng(0).normal(size=x.shape).astype(np.float32)
    plain_ds = train_dataset(x, y, BATCH, 0, 0, 2)
    augmented_ds = train_dataset(x, y, BATCH, 0, 0, 2, augment=True)
    assert augmented_ds.element_spec == plain_ds.element_spec  # static batch size kept
    plain = list(plain_ds.as_numpy_iterator())
    augmented = list(augmented_ds.as_numpy_iterator())
    for (px, py), (ax, ay) in zip(plain, augmented, strict=False):
        np.testing.assert_array_equal(py, ay)  # same examples, same order
        assert ax.shape == px.shape and not np.array_equal(ax, px)


def test_eval_dataset_in_order_with_partial_batch() -> None:
    x, y = make_data()
    batches = list(eval_dataset(x, y, 10).as_numpy_iterator())
    assert [len(labels) for _, labels in batches] == [10, 10, 3]
    assert flat(ids(eval_dataset(x, y, 10))) == list(range(N))
    assert all(labels.dtype == np.int32 for _, labels in batches)
    assert ids(eval_dataset(x[:0], y[:0], 4)) == []
    with pytest.raises(ConfigError, match="batch_size must be positive"):
        eval_dataset(x, y, 0)
