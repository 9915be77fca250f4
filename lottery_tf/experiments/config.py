"""Compatibility: the config's names where config files and user code import them
(`from lottery_tf.experiments.config import base_config`). They live in `lottery_tf.config`."""
from lottery_tf.config.checks import check_ranges  # noqa: F401
from lottery_tf.config.fields import (  # noqa: F401
    AUGMENTATIONS,
    FIELDS,
    LR_SCHEDULES,
    PRECISIONS,
    base_config,
    describe_fields,
)
from lottery_tf.config.hashing import (  # noqa: F401
    UNHASHED,
    config_hash,
    differing_fields,
    experiment_name,
    hashed_fields,
)
