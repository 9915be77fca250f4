"""LeNet-style fully connected networks (LeNet-300-100 in Frankle & Carbin, 2019)."""
from __future__ import annotations

from collections.abc import Sequence

import tf_keras as keras

from lottery_tf.errors import ConfigError
from lottery_tf.models.initializers import LayerInitializers
from lottery_tf.models.layers import OUTPUT_LAYER, dense
from lottery_tf.models.validation import check_input_shape


def build_lenet(
    hidden: Sequence[int],
    input_shape: tuple[int, ...],
    num_classes: int,
    initializer: str = "glorot_normal",
    seed: int = 0,
    name: str | None = None,
) -> keras.Model:
    """Flatten the input, then relu Dense layers of the given sizes, then logits.

    LeNet-300-100 on MNIST has 266,610 parameters.
    Layers: ``flatten``, ``dense_1`` .. ``dense_k``, ``output``.

    Args:
        hidden: Hidden layer widths, e.g. ``(300, 100)``.
        input_shape: Shape of one example (any rank; it is flattened).
        num_classes: Number of output logits.
        initializer: Kernel initializer name.
        seed: Model seed; layer i uses ``seed * 1000 + i``.
        name: Model name; defaults to ``lenet_<h1>_<h2>...``.

    Returns:
        A functional tf_keras model producing logits.

    Raises:
        ConfigError: No hidden layers, a width < 1, or a bad input shape/initializer.
    """
    hidden = list(hidden)
    if not hidden or any(isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in hidden):
        raise ConfigError(f"lenet needs one or more positive hidden widths, got {hidden!r}")
    shape = check_input_shape(input_shape)
    inits = LayerInitializers(initializer, seed)

    inputs = keras.Input(shape=shape, name="input")
    x = keras.layers.Flatten(name="flatten")(inputs)
    for i, units in enumerate(hidden, start=1):
        x = dense(units, f"dense_{i}", inits, activation="relu")(x)
    outputs = dense(num_classes, OUTPUT_LAYER, inits)(x)
    model_name = name or "lenet_" + "_".join(str(h) for h in hidden)
    return keras.Model(inputs, outputs, name=model_name)
