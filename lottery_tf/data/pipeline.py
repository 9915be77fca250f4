"""In-memory tf.data pipelines whose order is a pure function of (seed, step).

Training step ``s`` always sees batch ``s % spe`` of epoch ``s // spe`` (``spe``
= steps per epoch), where epoch ``e`` visits the examples in the order
``stateless_shuffle(range(n), seed=[seed, e])``. Augmentation draws are seeded
from ``(seed, s)`` too. A run resumed at any step therefore sees exactly the
batches an uninterrupted run would have seen from there on.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from lottery_tf.errors import ConfigError

ArrayLike = np.ndarray | tf.Tensor

CROP_PADDING = 4
# Inception-style crop ranges (Szegedy et al. 2015), as torchvision's RandomResizedCrop.
RESIZED_CROP_AREA = (0.08, 1.0)
RESIZED_CROP_RATIO = (3 / 4, 4 / 3)
# Separates the augmentation random stream from the shuffle stream, which is
# seeded with [seed, epoch]: the two must not draw from the same key.
_AUGMENT_STREAM = 0x617567  # "aug"


def steps_per_epoch(num_examples: int, batch_size: int) -> int:
    """Number of full batches in one epoch (the incomplete last one is dropped).

    Args:
        num_examples: examples in the training set.
        batch_size: examples per batch.

    Returns:
        ``num_examples // batch_size``.

    Raises:
        ConfigError: ``batch_size`` is not positive or exceeds ``num_examples``.
    """
    if batch_size <= 0:
        raise ConfigError(f"batch_size must be positive, got {batch_size}")
    steps = num_examples // batch_size
    if steps < 1:
        raise ConfigError(
            f"batch_size={batch_size} is larger than the {num_examples} training "
            "examples, so an epoch has no full batch; lower batch_size"
        )
    return steps


def as_tensors(x: ArrayLike, y: ArrayLike) -> tuple[tf.Tensor, tf.Tensor]:
    """Convert the arrays once to host tensors that datasets capture by reference.

    Inputs are (N, ...): NHWC images, or any other example shape (e.g. the
    (N, steps, features) arrays of an `npz:` source).
    """
    if len(x) != len(y):
        raise ConfigError(f"got {len(x)} images but {len(y)} labels; they must match")
    if len(x.shape) < 2:
        raise ConfigError(f"inputs need a batch and a feature axis, got shape {tuple(x.shape)}")
    # Eager tensors captured by a tf.data function are passed in as inputs, not
    # copied into the graph, so the data lives in memory once per dataset.
    with tf.device("/CPU:0"):
        return tf.convert_to_tensor(x), tf.cast(tf.convert_to_tensor(y), tf.int32)


def _options() -> tf.data.Options:
    options = tf.data.Options()
    options.deterministic = True
    return options


def train_dataset(
    x: ArrayLike,
    y: ArrayLike,
    batch_size: int,
    seed: int,
    start_step: int,
    end_step: int,
    augment: bool = False,
    augmentation: str = "crop_flip",
) -> tf.data.Dataset:
    """Batches for global training steps ``[start_step, end_step)``.

    Args:
        x: (N, H, W, C) images (numpy or tensor, kept in memory).
        y: (N,) labels.
        batch_size: examples per batch; the epoch's incomplete last batch is
            dropped.
        seed: data-order seed.
        start_step: first global step (0-based) to yield.
        end_step: one past the last global step to yield.
        augment: apply `augment_batch` of kind ``augmentation``.
        augmentation: ``"crop_flip"`` or ``"resized_crop"`` (see `augment_batch`).

    Returns:
        A dataset of ``(images, labels)`` with shapes ``(batch_size, H, W, C)``
        and ``(batch_size,)``; labels are int32.

    Raises:
        ConfigError: bad batch size, steps, or mismatched arrays.
    """
    if not 0 <= start_step <= end_step:
        raise ConfigError(
            f"need 0 <= start_step <= end_step, got start_step={start_step}, end_step={end_step}"
        )
    n = len(x)
    spe = steps_per_epoch(n, batch_size)
    images, labels = as_tensors(x, y)
    seed_t = tf.constant(seed, tf.int64)
    start_epoch = start_step // spe
    end_epoch = -(-end_step // spe)  # ceil: the epoch holding step end_step-1, plus one

    def epoch_batches(epoch: tf.Tensor) -> tf.Tensor:
        return _epoch_batches(n, batch_size, seed_t, epoch)

    def load(step: tf.Tensor, index: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        batch = tf.gather(images, index)
        if augment:
            batch = augment_batch(batch, seed_t, step, kind=augmentation)
        return batch, tf.gather(labels, index)

    index_batches = (
        tf.data.Dataset.range(start_epoch, end_epoch)
        .map(epoch_batches)
        .unbatch()
        .skip(start_step - start_epoch * spe)
        .take(end_step - start_step)
    )
    steps = tf.data.Dataset.range(start_step, end_step)
    return (
        tf.data.Dataset.zip((steps, index_batches))
        .map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
        .with_options(_options())
    )


def _epoch_batches(n: int, batch_size: int, seed: tf.Tensor, epoch: tf.Tensor) -> tf.Tensor:
    """Example indices of each batch of one epoch, shape (steps per epoch, batch)."""
    spe = n // batch_size
    order = tf.random.experimental.stateless_shuffle(
        tf.range(n, dtype=tf.int64), seed=tf.stack([tf.cast(seed, tf.int64), epoch])
    )
    return tf.reshape(order[: spe * batch_size], [spe, batch_size])


class BatchIndices:
    """The example indices of `train_dataset`'s batches, without tf.data.

    `rows(start_step, count)` gives the indices of the batches of global steps
    ``[start_step, start_step + count)``, exactly the examples `train_dataset`
    yields for them. A single-device trainer gathers its batches with these
    inside the compiled step: feeding through a tf.data iterator cost
    LeNet-300-100 about a sixth of its training time.
    """

    def __init__(self, num_examples: int, batch_size: int, seed: int):
        self.steps_per_epoch = steps_per_epoch(num_examples, batch_size)
        self._n, self._batch_size, self._seed = num_examples, batch_size, seed
        self._epochs: dict[int, np.ndarray] = {}

    def _epoch(self, epoch: int) -> np.ndarray:
        if epoch not in self._epochs:
            if len(self._epochs) >= 2:  # consecutive chunks need at most two epochs
                self._epochs.pop(min(self._epochs))
            self._epochs[epoch] = _epoch_batches(
                self._n, self._batch_size, tf.constant(self._seed, tf.int64),
                tf.constant(epoch, tf.int64)).numpy().astype(np.int32)
        return self._epochs[epoch]

    def rows(self, start_step: int, count: int) -> tf.Tensor:
        """(count, batch_size) int32 indices, row i for global step start_step + i."""
        if start_step < 0 or count < 0:
            raise ConfigError(f"need start_step >= 0 and count >= 0, got {start_step}, {count}")
        spe, parts, step = self.steps_per_epoch, [], start_step
        while step < start_step + count:
            epoch, offset = divmod(step, spe)
            take = min(spe - offset, start_step + count - step)
            parts.append(self._epoch(epoch)[offset:offset + take])
            step += take
        if not parts:
            return tf.zeros((0, self._batch_size), tf.int32)
        return tf.constant(np.concatenate(parts))


def step_key(seed: int | tf.Tensor, step: int | tf.Tensor, stream: int) -> tf.Tensor:
    """The stateless key of one step's draws of one random stream (augmentation, random layers).

    Args:
        seed: the run's data seed.
        step: the global step.
        stream: keeps the streams' draws apart for the same (seed, step).
    """
    return tf.random.experimental.stateless_fold_in(
        tf.stack([tf.cast(seed, tf.int64), tf.constant(stream, tf.int64)]),
        tf.cast(step, tf.int64),
    )


def _augment_key(seed: int | tf.Tensor, step: int | tf.Tensor) -> tf.Tensor:
    """The stateless key of one step's augmentation draws."""
    return step_key(seed, step, _AUGMENT_STREAM)


def augment_batch(
    images: tf.Tensor,
    seed: int | tf.Tensor,
    step: int | tf.Tensor,
    padding: int = CROP_PADDING,
    kind: str = "crop_flip",
) -> tf.Tensor:
    """Augment each image of a training batch with its own random draws.

    ``kind="crop_flip"``: zero-pad by ``padding``, randomly crop back to size,
    and randomly flip horizontally (the CIFAR recipe). ``kind="resized_crop"``:
    `resized_crop_batch`. The draws depend only on ``(seed, step)`` and the
    example's position in the batch, so a resumed run augments exactly as an
    uninterrupted one. Padding is zeros of the input: on normalized images
    that is the dataset's mean color.

    Args:
        images: (B, H, W, C) batch.
        seed: the data-order seed.
        step: the global step this batch belongs to.
        padding: pixels of zero padding on each side before cropping (crop_flip).
        kind: ``"crop_flip"`` or ``"resized_crop"``.

    Returns:
        A batch of the same shape and dtype.

    Raises:
        ConfigError: an unknown ``kind``.
    """
    if kind == "resized_crop":
        return resized_crop_batch(images, seed, step)
    if kind != "crop_flip":
        raise ConfigError(f"unknown augmentation {kind!r}; use crop_flip or resized_crop")
    height, width, channels = images.shape[1], images.shape[2], images.shape[3]
    crop_key, flip_key = tf.unstack(tf.random.experimental.stateless_split(_augment_key(seed, step), 2))
    batch = tf.shape(images)[0]
    offsets = tf.random.stateless_uniform(
        [batch, 2], seed=crop_key, minval=0, maxval=2 * padding + 1, dtype=tf.int32
    )
    flips = tf.random.stateless_uniform([batch], seed=flip_key) < 0.5
    padded = tf.pad(images, [[0, 0], [padding, padding], [padding, padding], [0, 0]])
    padded_height, padded_width = height + 2 * padding, width + 2 * padding
    # Crop and flip of the whole batch as ONE gather of pixels from the
    # flattened padded batch: far cheaper than per-example ops in a map.
    rows = offsets[:, 0, tf.newaxis] + tf.range(height)[tf.newaxis]  # (B, H)
    cols = tf.range(width)[tf.newaxis]
    cols = tf.where(flips[:, tf.newaxis], width - 1 - cols, cols)  # mirrored read
    cols = cols + offsets[:, 1, tf.newaxis]  # (B, W)
    pixel = (
        tf.range(batch)[:, tf.newaxis, tf.newaxis] * (padded_height * padded_width)
        + rows[:, :, tf.newaxis] * padded_width
        + cols[:, tf.newaxis, :]
    )  # (B, H, W) index of each output pixel in the flattened padded batch
    out = tf.gather(tf.reshape(padded, [-1, channels]), pixel)
    return tf.ensure_shape(out, images.shape)  # keep the static batch size


def resized_crop_batch(images: tf.Tensor, seed: int | tf.Tensor, step: int | tf.Tensor) -> tf.Tensor:
    """Random-resized crop plus horizontal flip of each image, resized back to (H, W).

    Each crop covers a fraction of the image's area drawn from
    `RESIZED_CROP_AREA` with a width/height ratio whose log is uniform in
    `RESIZED_CROP_RATIO`, at a uniform position; a side longer than the image
    is cut to the image (where Inception's sampler would retry). Bilinear
    resizing; the whole batch is one `crop_and_resize`, and a flip is a box
    with its left and right edges swapped. Draws depend only on (seed, step)
    and the position in the batch.

    Args:
        images: (B, H, W, C) batch.
        seed: the data-order seed.
        step: the global step this batch belongs to.

    Returns:
        A batch of the same shape and dtype.
    """
    height, width = images.shape[1], images.shape[2]
    keys = tf.unstack(tf.random.experimental.stateless_split(_augment_key(seed, step), 4))
    batch = tf.shape(images)[0]
    area = tf.random.stateless_uniform([batch], keys[0], *RESIZED_CROP_AREA)
    log_ratio = tf.random.stateless_uniform([batch], keys[1], *np.log(RESIZED_CROP_RATIO))
    # Side lengths as fractions of the image's: area = h * w, pixel ratio = (w W) / (h H).
    ratio = tf.exp(log_ratio) * (height / width)
    crop_height = tf.minimum(1.0, tf.sqrt(area / ratio))
    crop_width = tf.minimum(1.0, tf.sqrt(area * ratio))
    corner = tf.random.stateless_uniform([batch, 2], keys[2]) * tf.stack(
        [1.0 - crop_height, 1.0 - crop_width], axis=1)
    top, left = corner[:, 0], corner[:, 1]
    flips = tf.random.stateless_uniform([batch], keys[3]) < 0.5
    right = left + crop_width
    x1, x2 = tf.where(flips, right, left), tf.where(flips, left, right)
    boxes = tf.stack([top, x1, top + crop_height, x2], axis=1)
    out = tf.image.crop_and_resize(tf.cast(images, tf.float32), boxes, tf.range(batch),
                                   (height, width))
    return tf.ensure_shape(tf.cast(out, images.dtype), images.shape)


def eval_dataset(x: ArrayLike, y: ArrayLike, batch_size: int) -> tf.data.Dataset:
    """Batches of the whole set in order, the last one possibly smaller.

    Args:
        x: (N, H, W, C) images.
        y: (N,) labels.
        batch_size: examples per batch.

    Returns:
        A dataset of ``(images, labels)``; labels are int32. Empty when N is 0.

    Raises:
        ConfigError: ``batch_size`` is not positive or the arrays mismatch.
    """
    if batch_size <= 0:
        raise ConfigError(f"batch_size must be positive, got {batch_size}")
    images, labels = as_tensors(x, y)
    n = len(x)

    def load(start: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        stop = tf.minimum(start + batch_size, n)
        return images[start:stop], labels[start:stop]

    return (
        tf.data.Dataset.range(0, n, batch_size)
        .map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
        .with_options(_options())
    )
