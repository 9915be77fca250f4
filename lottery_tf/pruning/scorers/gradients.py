"""Model access and loss gradients shared by the data-driven scorers.

Works on a plain, unwrapped tf_keras model; tfmot never appears here. No
function leaves the model changed: gradients are taken inside
`restoring_weights` (training-mode BatchNorm updates its moving statistics).

Kernels are named by layer, as in `lottery_tf.models.prunable_layers`: a plain
name such as `dense_1`, or `outer/inner` for a layer inside a nested model.
"""
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import tensorflow as tf
import tf_keras as keras

from lottery_tf.models.prunable import entry_variables
from lottery_tf.pruning.scorers.inputs import Scores

Batch = tuple[tf.Tensor, tf.Tensor, float]


def kernel_variables(model: keras.Model, kernels: Sequence[str]) -> list[tf.Variable]:
    """The pruned variable of each named entry, in the order given.

    Args:
      model: the model holding the layers.
      kernels: entries as `prunable_layers` names them (`outer/inner` inside nested
        models, `<layer>/<weight>` for layers with several pruned weights).

    Returns:
      One variable per name (kernel, depthwise_kernel, embeddings, ...).

    Raises:
      ValueError: no such entry.
    """
    variables = entry_variables(model)
    missing = [name for name in kernels if name not in variables]
    if missing:
        raise ValueError(f"Model {model.name!r} has no pruned weight {missing[0]!r}.")
    return [variables[name] for name in kernels]


def kernel_values(model: keras.Model, kernels: Sequence[str]) -> dict[str, np.ndarray]:
    """`{layer_name: kernel as a NumPy array}` for the named layers, in the order given.

    Raises:
      ValueError: as `kernel_variables`.
    """
    variables = kernel_variables(model, kernels)
    return {name: v.numpy() for name, v in zip(kernels, variables, strict=True)}


@contextmanager
def restoring_weights(model: keras.Model) -> Iterator[None]:
    """Restores every model weight (including BatchNorm statistics) on exit."""
    saved = model.get_weights()
    try:
        yield
    finally:
        model.set_weights(saved)


def batches(images, labels, batch_size: int | None) -> list[Batch]:
    """Splits the examples into (images, labels, share of all examples) batches.

    Weighting each batch's mean loss by its share makes the sum over batches the
    mean loss over all examples, whatever the batch size.

    Raises:
      ValueError: no examples, images and labels differ in count, or a batch
        size below 1.
    """
    images = np.asarray(images, dtype=np.float32)
    labels = np.asarray(labels).reshape(-1).astype(np.int64)
    total = len(images)
    if total == 0 or total != len(labels):
        raise ValueError(f"Need as many labels as images (and at least one), got {total} images "
                         f"and {len(labels)} labels.")
    size = total if batch_size is None else int(batch_size)
    if size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}.")
    return [(tf.constant(images[i:i + size]), tf.constant(labels[i:i + size]),
             min(size, total - i) / total)
            for i in range(0, total, size)]


def mean_loss(model: keras.Model, images: tf.Tensor, labels: tf.Tensor, temperature: float,
              training: bool) -> tf.Tensor:
    """Mean softmax cross-entropy of the model's logits divided by `temperature`."""
    logits = model(images, training=training) / temperature
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))


def check_connected(grads: Sequence[tf.Tensor | None], variables: Sequence[tf.Variable]) -> None:
    """Fails on a None gradient.

    A None gradient means the kernel does not influence the output at all; a
    zero score there would silently mean "prune everything", so fail loudly.

    Raises:
      ValueError: a kernel does not affect the model's output.
    """
    for grad, variable in zip(grads, variables, strict=True):
        if grad is None:
            raise ValueError(f"Kernel {variable.name} does not affect the model's output.")


def mean_gradients(model: keras.Model, variables: list[tf.Variable], examples: list[Batch],
                   temperature: float, training: bool) -> list[tf.Tensor]:
    """dL/dw for the mean loss over all batches (the caller restores the weights).

    Raises:
      ValueError: as `check_connected`.
    """
    total = [tf.zeros_like(v) for v in variables]
    for images, labels, share in examples:
        with tf.GradientTape() as tape:
            tape.watch(variables)
            loss = mean_loss(model, images, labels, temperature, training)
        grads = tape.gradient(loss, variables)
        check_connected(grads, variables)
        total = [t + share * g for t, g in zip(total, grads, strict=True)]
    return total


def loss_gradients(model: keras.Model, images, labels, kernels: Sequence[str], *,
                   temperature: float = 1.0, batch_size: int | None = None,
                   training: bool = True) -> Scores:
    """Gradient of the mean cross-entropy over the examples w.r.t. each named kernel.

    Args:
      model: unwrapped tf_keras model that outputs logits.
      images: all examples, shape `(N, *input_shape)`.
      labels: their integer class labels, shape `(N,)`.
      kernels: names of the layers whose kernels are differentiated.
      temperature: the logits are divided by it before the softmax.
      batch_size: examples per forward pass (None: all at once). The loss is
        still the mean over all N examples; only BatchNorm's batch statistics
        depend on it.
      training: call the model in training mode (BatchNorm uses batch statistics).

    Returns:
      `{layer_name: gradient}` shaped like the kernels. The model's weights are
      unchanged afterwards.

    Raises:
      ValueError: unknown layer, mismatched examples, or a kernel not connected
        to the output.
    """
    variables = kernel_variables(model, kernels)
    with restoring_weights(model):
        grads = mean_gradients(model, variables, batches(images, labels, batch_size), temperature,
                               training)
    return {name: g.numpy() for name, g in zip(kernels, grads, strict=True)}
