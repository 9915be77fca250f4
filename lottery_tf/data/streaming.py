"""Streamed splits of a ``shards:<dir>`` dataset: tf.data reads a few shards at a time.

The order is a pure function of ``(seed, step)``, as in pipeline.py, so a run
resumed at any step (or replayed from a rewind step) sees exactly the batches
an uninterrupted one would:

- the training examples are the split's shards in manifest order minus the last
  ``validation_size`` examples (the validation split); a shard cut by that
  boundary counts as the block of its examples before it;
- epoch ``e`` visits the blocks in the order ``stateless_shuffle(blocks,
  seed=[seed, e])``, grouped into windows of `WINDOW_SHARDS` blocks; a window's
  examples are concatenated and shuffled by a seed folded from
  ``(seed, e, window)``;
- batches are consecutive examples of the epoch (across windows), the
  incomplete last one dropped, so an epoch has ``num_train // batch_size``
  steps as in memory.

Seeking to step ``s`` computes its epoch and window and skips only the examples
of that window before it: resuming never reads the data before it. Memory holds
a few windows (`WINDOW_SHARDS` shards each) and the prefetched batches,
whatever the dataset's size.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from lottery_tf.data import pipeline
from lottery_tf.data.normalization import DEFAULT as DEFAULT_NORMALIZATION
from lottery_tf.data.normalization import normalize_tensor, with_normalization
from lottery_tf.data.shard_classes import check_streamed_classes
from lottery_tf.data.shard_manifest import (
    directory_of,
    fingerprint,
    read_manifest,
    spec_of_manifest,
)
from lottery_tf.data.spec import DatasetSpec
from lottery_tf.errors import ConfigError

WINDOW_SHARDS = 8
# Separates the window shuffle's random stream from the block order's ([seed, epoch]).
_WINDOW_STREAM = 0x77696E  # "win"
# Windows read ahead of the one being batched.
_WINDOWS_AHEAD = 2


class ShardSplits:
    """Train, validation and test splits streamed from a shards folder.

    Plays the role of `splits.Splits` for the trainer and evaluator, which
    check `streamed` and then ask for datasets instead of arrays.
    """

    streamed = True
    # How batches are normalized (`lottery_tf.data.normalization`); `load_splits` sets it.
    normalization = DEFAULT_NORMALIZATION

    def __init__(self, name: str, validation_size: int):
        """Opens the folder of ``shards:<dir>`` `name` (manifest and file sizes checked).

        With a validation split, the labels of validation (the last shards) and
        of training are read to check that each holds every class
        (`shard_classes.check_streamed_classes`).

        Raises:
            ConfigError: ``validation_size`` outside [0, training examples).
            DataError: no finished shards folder, a shard of the wrong size, or
                validation or training missing a class (shards in class order).
        """
        self.directory = directory_of(name)
        self.manifest = read_manifest(self.directory)
        self.name = name
        train = self.manifest["splits"]["train"]
        if isinstance(validation_size, bool) or not isinstance(validation_size, (int, np.integer)):
            raise ConfigError(f"validation_size must be an integer, got {validation_size!r}")
        if not 0 <= validation_size < train["count"]:
            raise ConfigError(
                f"validation_size={validation_size} is out of range for {name}: it must be at "
                f"least 0 and less than the {train['count']} training examples")
        cut = train["count"] - int(validation_size)
        self._blocks = {"train": self._block_table("train", 0, cut),
                        "val": self._block_table("train", cut, train["count"]),
                        "test": self._block_table("test", 0, self.manifest["splits"]["test"]["count"])}
        self.example_shape = tuple(self.manifest["example_shape"])
        self._dtype = tf.as_dtype(self.manifest["dtype"])
        if validation_size:  # without one, nothing was taken from training
            check_streamed_classes(name, self._blocks["train"], self._blocks["val"],
                                   self._blocks["test"], int(self.manifest["num_classes"]))

    # --- facts --------------------------------------------------------------
    def size(self, split: str) -> int:
        """Examples in ``train``, ``val`` or ``test``."""
        return int(np.sum(self._blocks[split][2] - self._blocks[split][1]))

    @property
    def num_train(self) -> int:
        """Examples in the training split."""
        return self.size("train")

    def spec(self) -> DatasetSpec:
        """The dataset's spec (shapes, classes, the recorded training statistics, `normalization`)."""
        return with_normalization(spec_of_manifest(self.name, self.manifest), self.normalization)

    def fingerprint(self) -> str:
        """Identifies the written shards (their digests) and where validation is cut."""
        return f"{fingerprint(self.manifest)}-v{self.size('val')}"

    def _block_table(self, split: str, start: int, stop: int):
        """(files, first row, end row) of the blocks covering examples [start, stop) of `split`."""
        files, lows, highs, offset = [], [], [], 0
        for shard in self.manifest["splits"][split]["shards"]:
            low, high = max(start - offset, 0), min(stop - offset, shard["count"])
            if low < high:
                files.append((str(self.directory / shard["x"]), str(self.directory / shard["y"])))
                lows.append(low)
                highs.append(high)
            offset += shard["count"]
        return (np.asarray(files, dtype=object).reshape(-1, 2), np.asarray(lows, np.int64),
                np.asarray(highs, np.int64))

    # --- reading --------------------------------------------------------------
    def _reader(self, split: str):
        files, lows, highs = self._blocks[split]
        x_files = tf.constant(list(files[:, 0]), tf.string)
        y_files = tf.constant(list(files[:, 1]), tf.string)
        lows, highs = tf.constant(lows), tf.constant(highs)
        shape, dtype = list(self.example_shape), self._dtype

        def read_block(block: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            x = tf.reshape(tf.io.decode_raw(tf.io.read_file(x_files[block]), dtype), [-1, *shape])
            y = tf.io.decode_raw(tf.io.read_file(y_files[block]), tf.int32)
            return x[lows[block]:highs[block]], y[lows[block]:highs[block]]

        return read_block

    def _normalize(self, x: tf.Tensor) -> tf.Tensor:
        """`splits.normalize_images` on a batch: the same float32 operations in the same order."""
        return normalize_tensor(x, self.spec())

    def eval_dataset(self, split: str, batch_size: int) -> tf.data.Dataset:
        """``val`` or ``test`` in file order, batches of `batch_size` (the last possibly smaller).

        Raises:
            ConfigError: ``batch_size`` is not positive.
        """
        if batch_size <= 0:
            raise ConfigError(f"batch_size must be positive, got {batch_size}")
        count = len(self._blocks[split][1])
        return (tf.data.Dataset.range(count)
                .map(self._reader(split), num_parallel_calls=2, deterministic=True)
                .unbatch()
                .batch(batch_size)
                .map(lambda x, y: (self._normalize(x), y))
                .prefetch(2)
                .with_options(_options()))

    def raw_examples(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """A whole split as stored (not normalized), read into memory: for test splits that fit."""
        files, lows, highs = self._blocks[split]
        xs, ys = [], []
        for (x_file, y_file), low, high in zip(files, lows, highs, strict=True):
            xs.append(np.fromfile(x_file, self.manifest["dtype"]).reshape(-1, *self.example_shape)[low:high])
            ys.append(np.fromfile(y_file, "<i4")[low:high])
        return np.concatenate(xs), np.concatenate(ys).astype(np.int32)

    def first_train_examples(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """The first `count` training examples in file order, normalized (for scoring at init)."""
        x, y = next(iter(self.eval_dataset("train", max(1, count)).take(1)))
        return x.numpy()[:count], y.numpy()[:count]

    def _block_order(self, seed: int | tf.Tensor, epoch: tf.Tensor) -> tf.Tensor:
        count = len(self._blocks["train"][1])
        return tf.random.experimental.stateless_shuffle(
            tf.range(count, dtype=tf.int64), seed=tf.stack([tf.cast(seed, tf.int64),
                                                            tf.cast(epoch, tf.int64)]))

    def _seek(self, seed: int, batch_size: int, step: int) -> tuple[int, int, int]:
        """(epoch, window, examples of that window to skip) where global step `step` starts."""
        per_epoch = pipeline.steps_per_epoch(self.num_train, batch_size)
        epoch, offset = divmod(step, per_epoch)
        _, lows, highs = self._blocks["train"]
        order = self._block_order(seed, tf.constant(epoch)).numpy()
        sizes = (highs - lows)[order]
        window_sizes = np.add.reduceat(sizes, np.arange(0, len(sizes), WINDOW_SHARDS))
        starts = np.concatenate([[0], np.cumsum(window_sizes)])
        window = int(np.searchsorted(starts, offset * batch_size, side="right") - 1)
        return epoch, window, offset * batch_size - int(starts[window])

    def train_dataset(self, batch_size: int, seed: int, start_step: int, end_step: int,
                      augment: bool = False, augmentation: str = "crop_flip") -> tf.data.Dataset:
        """Batches of global training steps ``[start_step, end_step)`` (see the module's order).

        Args:
            batch_size: examples per batch.
            seed: data-order seed (also seeds the augmentation, as in memory).
            start_step: first global step (0-based) to yield.
            end_step: one past the last.
            augment: apply `pipeline.augment_batch`.
            augmentation: its kind, ``"crop_flip"`` or ``"resized_crop"``.

        Returns:
            A dataset of normalized ``(images, labels)`` batches.

        Raises:
            ConfigError: bad batch size or steps.
        """
        if not 0 <= start_step <= end_step:
            raise ConfigError(f"need 0 <= start_step <= end_step, got start_step={start_step}, "
                              f"end_step={end_step}")
        per_epoch = pipeline.steps_per_epoch(self.num_train, batch_size)
        num_blocks = len(self._blocks["train"][1])
        num_windows = -(-num_blocks // WINDOW_SHARDS)
        read_block = self._reader("train")
        shape, dtype = list(self.example_shape), self._dtype
        seed_t = tf.constant(seed, tf.int64)

        def read_window(epoch: tf.Tensor, window: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            order = self._block_order(seed_t, epoch)
            blocks = order[window * WINDOW_SHARDS:tf.minimum((window + 1) * WINDOW_SHARDS, num_blocks)]
            count = tf.size(blocks)
            xs = tf.TensorArray(dtype, size=count, infer_shape=False, element_shape=[None, *shape])
            ys = tf.TensorArray(tf.int32, size=count, infer_shape=False, element_shape=[None])

            def read_into(i, xs, ys):
                x, y = read_block(blocks[i])
                return i + 1, xs.write(i, x), ys.write(i, y)

            _, xs, ys = tf.while_loop(lambda i, xs, ys: i < count, read_into, (0, xs, ys))
            x, y = xs.concat(), ys.concat()
            key = tf.random.experimental.stateless_fold_in(
                tf.random.experimental.stateless_fold_in(
                    tf.stack([seed_t, tf.constant(_WINDOW_STREAM, tf.int64)]), epoch), window)
            shuffle = tf.random.experimental.stateless_shuffle(tf.range(tf.size(y)), seed=key)
            return tf.gather(x, shuffle), tf.gather(y, shuffle)

        def epoch_batches(epoch: tf.Tensor, first_window: tf.Tensor, skip: tf.Tensor) -> tf.data.Dataset:
            return (tf.data.Dataset.range(first_window, num_windows)
                    .map(lambda window: read_window(epoch, window),
                         num_parallel_calls=_WINDOWS_AHEAD, deterministic=True)
                    .unbatch()
                    .skip(skip)
                    .batch(batch_size, drop_remainder=True))

        start_epoch, first_window, skip = self._seek(seed, batch_size, start_step)
        end_epoch = -(-end_step // per_epoch)
        epochs = np.arange(start_epoch, max(end_epoch, start_epoch + 1), dtype=np.int64)
        windows = np.zeros_like(epochs)
        skips = np.zeros_like(epochs)
        windows[0], skips[0] = first_window, skip
        batches = (tf.data.Dataset.from_tensor_slices((epochs, windows, skips))
                   .flat_map(epoch_batches)
                   .take(end_step - start_step))
        steps = tf.data.Dataset.range(start_step, end_step)

        def load(step: tf.Tensor, batch: tuple[tf.Tensor, tf.Tensor]) -> tuple[tf.Tensor, tf.Tensor]:
            images = self._normalize(batch[0])
            if augment:
                images = pipeline.augment_batch(images, seed_t, step, kind=augmentation)
            return images, batch[1]

        return (tf.data.Dataset.zip((steps, batches))
                .map(load, num_parallel_calls=2, deterministic=True)
                .prefetch(2)
                .with_options(_options()))


def _options() -> tf.data.Options:
    options = tf.data.Options()
    options.deterministic = True
    return options
