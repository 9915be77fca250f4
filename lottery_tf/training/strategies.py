"""tf.distribute strategies by name."""
import tensorflow as tf

from lottery_tf.errors import ConfigError

STRATEGIES = ("default", "one_device", "mirrored")


def make_strategy(name: str) -> tf.distribute.Strategy:
    """Builds the named strategy.

    `default` is TensorFlow's no-op strategy; `one_device` pins the first GPU if
    any, else the CPU; `mirrored` replicates over all local GPUs (or the logical
    CPU devices configured before TensorFlow starts).

    Raises:
      ConfigError: unknown name.
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "one_device":
        gpus = tf.config.list_logical_devices("GPU")
        return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    raise ConfigError(f"Unknown runtime.strategy {name!r}; choose one of {list(STRATEGIES)}.")
