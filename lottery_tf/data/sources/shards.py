"""``shards:<dir>``: a folder written by ``python -m lottery_tf.data.shards``, streamed, never loaded whole.

Its spec is the one its manifest records; its splits are
`lottery_tf.data.streaming.ShardSplits`, which read a few shards at a time.
"""

from __future__ import annotations

import numpy as np

from lottery_tf.data.shard_manifest import directory_of, read_manifest, spec_of_manifest
from lottery_tf.data.source import DataSource, RawData
from lottery_tf.data.spec import DatasetSpec
from lottery_tf.errors import DataError


class ShardsSource(DataSource):
    """A shards folder: spec from its manifest, splits streamed."""

    usage = "shards:<dir>"
    # dataset.image_size names the size the folder must hold (a config made for the
    # source the shards came from asks for the size they were written at).
    image_size_applies = True
    streamed = True
    # Streamed splits hold out the last examples; the writer shuffles them first
    # (`shards.write_source`), and `ShardSplits` checks validation's classes.
    stored_in_random_order = True

    def spec(self) -> DatasetSpec:
        """The spec the manifest records.

        Raises:
            DataError: no finished shards folder, or ``image_size`` is given and
                the stored examples are not that size square.
        """
        spec = spec_of_manifest(self.name, read_manifest(directory_of(self.name)))
        size = self.options.image_size
        if size is not None and tuple(spec.image_shape[:2]) != (size, size):
            raise DataError(f"{self.name} holds examples of shape {spec.image_shape}, not {size} x "
                            f"{size} images as dataset.image_size={size} asks; write the "
                            f"shards with --image_size={size} or unset dataset.image_size")
        return spec

    def arrays(self) -> RawData:
        """Never: a shards folder is streamed.

        Raises:
            DataError: always, naming `ShardSplits`.
        """
        raise DataError(f"{self.name} is streamed from its shards, never loaded whole; read a split "
                        "with lottery_tf.data.streaming.ShardSplits")

    def test_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The whole test split as stored (not normalized), read from its shards."""
        from lottery_tf.data.streaming import ShardSplits

        return ShardSplits(self.name, 0).raw_examples("test")

    def streamed_splits(self, validation_size: int):
        """The folder's `ShardSplits`, after checking ``image_size`` against it (see `spec`)."""
        from lottery_tf.data.streaming import ShardSplits  # lazy: TensorFlow

        self.spec()
        return ShardSplits(self.name, validation_size)
