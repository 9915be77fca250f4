"""Ordinary Keras models nobody here wrote, named `architectures:<function>` in tests.

Layers are unnamed (Keras numbers them) unless a model needs a name to be found.
Image inputs are (28, 28, 1) for the tiny MNIST files, (32, 32, 3) for the
applications models.
"""
import tf_keras as keras

L = keras.layers


def nested_blocks(input_shape, num_classes, seed):
    """A functional model calling a Sequential block that holds another Sequential block."""
    inner = keras.Sequential([L.Dense(16, activation="relu"), L.Dropout(0.2)])
    block = keras.Sequential([L.Dense(24, activation="relu"), inner])
    inputs = keras.Input(shape=input_shape)
    x = block(L.Flatten()(inputs))
    return keras.Model(inputs, L.Dense(num_classes)(x))


def lstm_rows(input_shape, num_classes, seed):
    """An LSTM over the image's rows."""
    height, width = input_shape[0], input_shape[1] * input_shape[2]
    return keras.Sequential([keras.Input(shape=input_shape), L.Reshape((height, width)),
                             L.LSTM(12), L.Dense(num_classes)])


def bidirectional_gru_rows(input_shape, num_classes, seed):
    """A Bidirectional GRU over the image's rows."""
    height, width = input_shape[0], input_shape[1] * input_shape[2]
    return keras.Sequential([keras.Input(shape=input_shape), L.Reshape((height, width)),
                             L.Bidirectional(L.GRU(8)), L.Dense(num_classes)])


def embedding_conv1d(input_shape, num_classes, seed):
    """Pixels binned into tokens, embedded, then Conv1D over the flattened image."""
    inputs = keras.Input(shape=input_shape)
    tokens = L.Discretization(bin_boundaries=[-0.5, 0.0, 0.5, 1.0])(L.Flatten()(inputs))
    x = L.Embedding(5, 4)(tokens)
    x = L.Conv1D(8, 5, strides=4, activation="relu")(x)
    x = L.GlobalAveragePooling1D()(x)
    return keras.Model(inputs, L.Dense(num_classes)(x))


def transformer_rows(input_shape, num_classes, seed):
    """One transformer encoder block (MultiHeadAttention, LayerNormalization) over image rows."""
    height, width = input_shape[0], input_shape[1] * input_shape[2]
    inputs = keras.Input(shape=input_shape)
    x = L.Dense(16)(L.Reshape((height, width))(inputs))
    attended = L.MultiHeadAttention(num_heads=2, key_dim=8)(x, x)
    x = L.LayerNormalization()(L.Add()([x, attended]))
    x = L.LayerNormalization()(L.Add()([x, L.Dense(16)(L.Dense(32, activation="relu")(x))]))
    return keras.Model(inputs, L.Dense(num_classes)(L.GlobalAveragePooling1D()(x)))


# tf_keras.applications networks with random weights, as the battery runs them.
APPLICATIONS = {
    "mobilenet_v2": lambda **kw: keras.applications.MobileNetV2(alpha=0.35, **kw),
    "efficientnet_b0": keras.applications.EfficientNetB0,
    "resnet50_v2": keras.applications.ResNet50V2,
    "densenet121": keras.applications.DenseNet121,
}


def _base(name, input_shape, num_classes):
    """The transfer-learning shape: an applications base called as a layer, a new Dense head."""
    base = APPLICATIONS[name](input_shape=tuple(input_shape), include_top=False, weights=None, pooling="avg")
    inputs = keras.Input(shape=input_shape)
    return keras.Model(inputs, L.Dense(num_classes)(base(inputs)))


def _whole(name, input_shape, num_classes):
    """The applications model itself, classifier included, producing logits."""
    return APPLICATIONS[name](input_shape=tuple(input_shape), weights=None, classes=num_classes,
                              classifier_activation=None)


def mobilenet_v2_base(input_shape, num_classes, seed):
    return _base("mobilenet_v2", input_shape, num_classes)


def mobilenet_v2_whole(input_shape, num_classes, seed):
    return _whole("mobilenet_v2", input_shape, num_classes)


def efficientnet_b0_base(input_shape, num_classes, seed):
    return _base("efficientnet_b0", input_shape, num_classes)


def efficientnet_b0_whole(input_shape, num_classes, seed):
    return _whole("efficientnet_b0", input_shape, num_classes)


def resnet50_v2_base(input_shape, num_classes, seed):
    return _base("resnet50_v2", input_shape, num_classes)


def resnet50_v2_whole(input_shape, num_classes, seed):
    return _whole("resnet50_v2", input_shape, num_classes)


def densenet121_base(input_shape, num_classes, seed):
    return _base("densenet121", input_shape, num_classes)


def densenet121_whole(input_shape, num_classes, seed):
    return _whole("densenet121", input_shape, num_classes)


class Doubler(keras.Model):
    """A subclassed model, used as a layer inside a functional one."""

    def __init__(self):
        super().__init__()
        self.dense = L.Dense(8)

    def call(self, inputs):
        return self.dense(inputs) * 2.0


def subclassed_inside(input_shape, num_classes, seed):
    inputs = keras.Input(shape=input_shape)
    x = Doubler()(L.Flatten()(inputs))
    return keras.Model(inputs, L.Dense(num_classes)(x))


class Scale(keras.layers.Layer):
    """A custom layer with a weight tfmot cannot prune."""

    def build(self, input_shape):
        self.scale = self.add_weight(name="scale", shape=(input_shape[-1],), initializer="ones")

    def call(self, inputs):
        return inputs * self.scale


def unprunable_inside(input_shape, num_classes, seed):
    block = keras.Sequential([L.Dense(8), Scale(name="scale")], name="block")
    inputs = keras.Input(shape=input_shape)
    return keras.Model(inputs, L.Dense(num_classes)(block(L.Flatten()(inputs))))


_calls = {"count": 0}


def differs_per_call(input_shape, num_classes, seed):
    """Ignores the seed and draws from a counter: two calls with one seed differ."""
    _calls["count"] += 1
    init = keras.initializers.GlorotNormal(seed + _calls["count"])
    inputs = keras.Input(shape=input_shape)
    x = L.Dense(8, kernel_initializer=init)(L.Flatten()(inputs))
    return keras.Model(inputs, L.Dense(num_classes)(x))
