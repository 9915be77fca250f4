"""The experiment config: its fields (`fields`), the hash that names results (`hashing`),
value checks (`checks`), config files (`files`) and level/replicate ranges (`ranges`).

Config files start from `base_config()`: `from lottery_tf.config import base_config`.
Nothing here loads TensorFlow, so a typo in a config is found before it loads.
"""
from lottery_tf.config.fields import base_config

__all__ = ["base_config"]
