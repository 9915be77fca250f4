"""Refusing Keras 3 models with the one fix: tfmot's wrappers, and so lottery_tf, need `tf_keras`."""
from lottery_tf.errors import ConfigError

KERAS_3_MESSAGE = (
    "{what} was built with Keras 3 (`import keras`, TensorFlow's default Keras since 2.16). "
    "lottery_tf prunes through tfmot's prune_low_magnitude wrappers, which accept Keras 2 models "
    "only, as the tf_keras package. Build the model with `import tf_keras as keras` (the same "
    "API), or set the environment variable TF_USE_LEGACY_KERAS=1 before TensorFlow is imported "
    "and build it with `tf.keras`.")


def is_keras_3(value: object) -> bool:
    """Whether `value` is an object of Keras 3 (its classes live in the `keras` package)."""
    return type(value).__module__.split(".")[0] == "keras"


def require_tf_keras(model: object, what: str = "This model") -> None:
    """Raises ConfigError naming the fix when `model` is a Keras 3 model."""
    if is_keras_3(model):
        raise ConfigError(KERAS_3_MESSAGE.format(what=what))
