# TEMPORARY SHIM (issue 24): re-exports lottery_tf.data.sources; removed once imports are updated.
"""Dataset specs by name now come from lottery_tf.data.sources (the source registry); DatasetSpec from
lottery_tf.data.spec."""

from lottery_tf.data.sources.registry import get_spec, known_datasets, spec_of
from lottery_tf.data.spec import DatasetSpec

__all__ = ["DatasetSpec", "get_spec", "known_datasets", "spec_of"]
