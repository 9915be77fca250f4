"""The batches of every level of one long `fit`, each level replaying the data from its start step.

Given `make_epoch(epoch)` (one pass over the training data, shuffled by the
epoch number), level 0 sees the batches of steps 0, 1, 2, ... and every
rewound level sees again those of steps k, k+1, ... (as `batches_from_step`
gives a hand-written loop). The stream begins at the `fit` epoch held in a
variable that `LotteryTicket` sets when `fit` starts, so a `fit` resumed by
`BackupAndRestore` in the middle of a level continues with the batches the
uninterrupted run saw there. The variable is read when the first batch is
drawn, after the callbacks' `on_epoch_begin` (so under the default strategy;
a distribution strategy whose input pipeline prefetches as soon as `fit`
creates its iterator may read it before a resumed `fit` sets it).
"""
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from lottery_tf.errors import ConfigError
from lottery_tf.fit.level_plan import LevelPlan

_ENDLESS = np.iinfo(np.int64).max


def _batches_from(make_epoch: Callable[[tf.Tensor], tf.data.Dataset], start: tf.Tensor,
                  batches_per_epoch: int) -> tf.data.Dataset:
    """Batches from global step `start` (a tensor) on; `batches_from_step` for a traced start."""
    first_epoch = start // batches_per_epoch
    return (tf.data.Dataset.range(first_epoch, _ENDLESS).flat_map(make_epoch)
            .skip(start - first_epoch * batches_per_epoch))


def epoch_length(make_epoch: Callable[[tf.Tensor], tf.data.Dataset]) -> int:
    """The number of batches `make_epoch` yields per pass (read from its cardinality).

    Raises:
      ConfigError: the cardinality is unknown or infinite.
    """
    count = int(make_epoch(tf.constant(0, tf.int64)).cardinality())
    if count <= 0:
        raise ConfigError("Cannot tell how many batches make_epoch(epoch) yields (its tf.data "
                          "cardinality is unknown or infinite); pass batches_per_epoch= (batches in one "
                          "pass over the training data).")
    return count


def level_batches(make_epoch: Callable[[tf.Tensor], tf.data.Dataset], plan: LevelPlan,
                  steps_per_epoch: int, batches_per_epoch: int,
                  first_fit_epoch: tf.Variable) -> tf.data.Dataset:
    """Every level's batches in `fit` order, from `fit` epoch `first_fit_epoch` on.

    Args:
      make_epoch: one pass over the training data as batches, given the pass number.
      plan: the levels the `fit` trains.
      steps_per_epoch: the `steps_per_epoch=` given to `fit`.
      batches_per_epoch: batches per `make_epoch` pass.
      first_fit_epoch: int64 variable, the `fit` epoch the stream begins at.

    Returns:
      A dataset of exactly the batches the remaining epochs draw.
    """
    steps_per_level = plan.epochs_per_level * steps_per_epoch

    def from_epoch(first: tf.Tensor) -> tf.data.Dataset:
        def one_level(index: tf.Tensor) -> tf.data.Dataset:
            done = tf.maximum(first - index * plan.epochs_per_level, 0) * steps_per_epoch
            start = tf.where(index > 0, tf.constant(plan.rewind_step, tf.int64), 0) + done
            return _batches_from(make_epoch, start, batches_per_epoch).take(steps_per_level - done)

        return tf.data.Dataset.range(first // plan.epochs_per_level, plan.level_count).flat_map(one_level)

    return tf.data.Dataset.range(1).flat_map(lambda _: from_epoch(first_fit_epoch.read_value()))
