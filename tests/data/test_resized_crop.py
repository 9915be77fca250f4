"""Random-resized crop + flip: per-example, deterministic per (seed, step), resumable."""
from __future__ import annotations

import lottery_tf  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TF loads)

# isort: split

import numpy as np
import pytest
import tensorflow as tf

from lottery_tf.data.pipeline import augment_batch, train_dataset
from lottery_tf.errors import ConfigError

SIZE = 32


def column_ramps(count: int, height: int = SIZE, width: int = SIZE) -> np.ndarray:
    """Identical images whose pixel value is its column index (3 channels)."""
    ramp = np.broadcast_to(np.arange(width, dtype=np.float32), (count, height, width))
    return np.repeat(ramp[..., np.newaxis], 3, axis=-1).copy()


def test_each_example_gets_its_own_crop_and_the_draws_follow_seed_and_step():
    noise = np.random.default_rng(0).random((1, SIZE, SIZE, 3), np.float32)
    images = tf.constant(np.repeat(noise, 64, axis=0))
    out = augment_batch(images, seed=3, step=7, kind="resized_crop")
    assert out.shape == images.shape and out.dtype == images.dtype
    np.testing.assert_array_equal(out, augment_batch(images, seed=3, step=7, kind="resized_crop"))
    assert not np.array_equal(out, augment_batch(images, seed=3, step=8, kind="resized_crop"))
    assert not np.array_equal(out, augment_batch(images, seed=4, step=7, kind="resized_crop"))
    # Identical inputs, different crops: the draws are per example.
    assert len({example.tobytes() for example in out.numpy()}) == 64


def test_crops_are_zoomed_windows_of_the_image_flipped_about_half_the_time():
    out = augment_batch(tf.constant(column_ramps(400)), seed=0, step=0, kind="resized_crop").numpy()
    rows = out[:, 0, :, 0]  # every row of a ramp's crop is the same ramp segment
    np.testing.assert_allclose(out[..., 0], np.repeat(rows[:, np.newaxis], SIZE, axis=1), atol=1e-4)
    steps = np.diff(rows, axis=1)
    rising = np.all(steps >= -1e-4, axis=1)
    falling = np.all(steps <= 1e-4, axis=1)
    assert np.all(rising | falling)  # a crop, resized: monotonic; flipped: decreasing
    assert 0.4 < rising.mean() < 0.6
    # Inside the image, and zoomed in: a window narrower than the image is stretched.
    assert rows.min() >= -1e-4 and rows.max() <= SIZE - 1 + 1e-4
    spans = rows.max(axis=1) - rows.min(axis=1)
    # Width fraction >= sqrt(0.08 * 3/4) of the image; some crops span it all.
    assert spans.min() >= np.sqrt(0.08 * 0.75) * (SIZE - 1) - 1e-3
    assert spans.max() == pytest.approx(SIZE - 1, abs=1e-3)
    assert np.median(spans) < 0.9 * (SIZE - 1)


@pytest.mark.parametrize("start", [1, 6])
def test_resumed_dataset_crops_as_the_uninterrupted_one(start):
    x, y = column_ramps(23, 16, 16), np.arange(23) % 10
    full = list(train_dataset(x, y, 5, 11, 0, 9, augment=True,
                              augmentation="resized_crop").as_numpy_iterator())
    resumed = list(train_dataset(x, y, 5, 11, start, 9, augment=True,
                                 augmentation="resized_crop").as_numpy_iterator())
    for (want_x, want_y), (got_x, got_y) in zip(full[start:], resumed, strict=True):
        np.testing.assert_array_equal(got_x, want_x)
        np.testing.assert_array_equal(got_y, want_y)
    assert not np.array_equal(full[0][0], x[:5])


def test_unknown_kind_is_refused():
    with pytest.raises(ConfigError, match="resized_crop"):
        augment_batch(tf.zeros((2, 4, 4, 1)), 0, 0, kind="cutout")
