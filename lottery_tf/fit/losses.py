"""The command line's training loss as a Keras loss, for `model.compile`."""
import tf_keras as keras

from lottery_tf.errors import ConfigError
from lottery_tf.training.losses import cross_entropy


class SparseCrossEntropy(keras.losses.Loss):
    """Softmax cross-entropy from logits against integer labels, with label smoothing.

    tf_keras' `SparseCategoricalCrossentropy` has no label smoothing (only the
    one-hot `CategoricalCrossentropy` does); this is the loss `training.label_smoothing`
    trains with on the command line (`lottery_tf.training.losses.cross_entropy`),
    computed in float32 from float16/bfloat16 logits under a mixed policy.

    Args:
      label_smoothing: e in [0, 1): the target is 1 - e on the label plus e
        spread evenly over the classes.
    """

    def __init__(self, label_smoothing: float = 0.0, name: str = "sparse_cross_entropy", **kwargs):
        if isinstance(label_smoothing, bool) or not 0.0 <= float(label_smoothing) < 1.0:
            raise ConfigError(f"label_smoothing must be in [0, 1), got {label_smoothing!r}.")
        super().__init__(name=name, **kwargs)
        self.label_smoothing = float(label_smoothing)

    def call(self, y_true, y_pred):
        return cross_entropy(y_true, y_pred, self.label_smoothing)

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}
