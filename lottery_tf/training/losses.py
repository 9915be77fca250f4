"""The classification loss of training and evaluation (one implementation for both)."""
import tensorflow as tf
import tf_keras as keras


def cross_entropy(labels: tf.Tensor, logits: tf.Tensor, label_smoothing: float = 0.0) -> tf.Tensor:
    """Per-example softmax cross-entropy against integer labels, in float32.

    Logits are cast to float32 first: under a mixed-precision policy the model
    computes them in float16/bfloat16, whose softmax loses the small
    probabilities. With `label_smoothing` e the target is (1 - e) on the label
    plus e spread evenly over all K classes (Szegedy et al. 2016), so the loss
    is (1 - e) * CE(label) + e * mean over classes of -log softmax.

    Args:
      labels: (B,) integer classes.
      logits: (B, K) unnormalized scores.
      label_smoothing: e in [0, 1); 0 is plain cross-entropy.

    Returns:
      (B,) float32 losses.
    """
    logits = tf.cast(logits, tf.float32)
    plain = keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
    if not label_smoothing:
        return plain
    uniform = -tf.reduce_mean(tf.nn.log_softmax(logits), axis=-1)
    return (1.0 - label_smoothing) * plain + label_smoothing * uniform
