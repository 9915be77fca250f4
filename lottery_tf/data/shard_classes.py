"""Whether a shards folder's streamed validation and training splits each see every class.

Streamed splits hold out the last ``validation_size`` examples of the training
shards. The shards writer scatters examples over shards at random and shuffles
sources not stored shuffled, but a folder written before it did, or from a tfds
split stored class by class, may keep its examples in class order within a
shard: its last examples are then the last classes only. Only labels are read
(4 bytes an example): all of validation's, which are the last shards, and
training's until every class has been seen (one or a few shards when shuffled).
The check and its message are `validation.check_classes`'.
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from lottery_tf.data import validation

# Blocks as `ShardSplits` keeps them: ((x file, y file) per block, first row, end row).
Blocks = tuple[np.ndarray, np.ndarray, np.ndarray]

SHARDS_FIX = ("the shards may hold their training examples in class order (written before the "
              "shards writer shuffled them, or from a tfds split stored class by class): write "
              "the folder again with `python -m lottery_tf.data.shards <source> <dir>` from a "
              "source in random order")


def block_labels(blocks: Blocks) -> Iterator[np.ndarray]:
    """The labels of each block, one block's label file read at a time.

    Args:
      blocks: a split's block table.

    Yields:
      One (rows,) int32 array per block, in block order.
    """
    files, lows, highs = blocks
    for (_, y_file), low, high in zip(files, lows, highs, strict=True):
        yield np.fromfile(y_file, "<i4")[low:high]


def check_streamed_classes(name: str, train: Blocks, val: Blocks, test: Blocks,
                           num_classes: int) -> None:
    """Refuses streamed splits in which training or validation misses a class.

    Args:
      name: the dataset's name, for the message.
      train, val, test: each split's block table.
      num_classes: the classes the manifest records (its largest label + 1).

    Raises:
      DataError: as `validation.check_classes`, with the shards' fix.
    """
    val_y = np.concatenate([np.zeros(0, np.int32), *block_labels(val)])
    train_classes: set[int] = set()
    for labels in block_labels(train):
        train_classes.update(np.unique(labels).tolist())
        if len(train_classes) == num_classes:
            break  # every class there can be: no need to read further
    if len(train_classes) == num_classes:
        source_classes = np.arange(num_classes)
    else:  # the classes the data holds at all (labels may skip numbers)
        source_classes = np.unique(np.concatenate(
            [np.asarray(sorted(train_classes), np.int32), val_y, *block_labels(test)]))
    validation.check_classes(name, np.asarray(sorted(train_classes), np.int32), val_y,
                             source_classes, "last", fix=SHARDS_FIX)
