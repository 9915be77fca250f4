"""Builders that tests name as `custom_builders:<function>` (this folder is on sys.path)."""
import tensorflow_model_optimization as tfmot
import tf_keras as keras


def small_dense(input_shape, num_classes, seed):
    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Flatten()(inputs)
    x = keras.layers.Dense(8, kernel_initializer=keras.initializers.GlorotNormal(seed), name="hidden")(x)
    return keras.Model(inputs, keras.layers.Dense(num_classes, name="logits")(x))


def with_initializer(input_shape, num_classes, seed, initializer):
    model = small_dense(input_shape, num_classes, seed)
    model.received_initializer = initializer
    return model


def sequential(input_shape, num_classes, seed):
    return keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(num_classes, name="output")])


def not_a_model(input_shape, num_classes, seed):
    return "a string"


def raises(input_shape, num_classes, seed):
    raise RuntimeError("broken on purpose")


class Subclassed(keras.Model):
    def __init__(self, num_classes):
        super().__init__()
        self.dense = keras.layers.Dense(num_classes)

    def call(self, inputs):
        return self.dense(keras.layers.Flatten()(inputs))


def subclassed(input_shape, num_classes, seed):
    return Subclassed(num_classes)


def no_prunable_layer(input_shape, num_classes, seed):
    inputs = keras.Input(shape=input_shape)
    x = keras.layers.GlobalAveragePooling2D()(inputs)
    return keras.Model(inputs, keras.layers.RepeatVector(num_classes)(x)[:, :, 0])


class Scale(keras.layers.Layer):
    """A custom layer with a weight tfmot cannot prune."""

    def build(self, input_shape):
        self.scale = self.add_weight(name="scale", shape=(input_shape[-1],), initializer="ones")

    def call(self, inputs):
        return inputs * self.scale


class PrunableScale(Scale, tfmot.sparsity.keras.PrunableLayer):
    """The same layer, made prunable."""

    def get_prunable_weights(self):
        return [self.scale]


def with_custom_layer(input_shape, num_classes, seed, layer=Scale):
    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Flatten()(inputs)
    x = layer(name="scale")(x)
    return keras.Model(inputs, keras.layers.Dense(num_classes, name="output")(x))


def with_prunable_custom_layer(input_shape, num_classes, seed):
    return with_custom_layer(input_shape, num_classes, seed, PrunableScale)


def tutorial_dropout(input_shape, num_classes, seed):
    """The first model of every Keras tutorial: unnamed layers and a Dropout."""
    return keras.Sequential([keras.Input(shape=input_shape), keras.layers.Flatten(),
                             keras.layers.Dense(64, activation="relu"), keras.layers.Dropout(0.5),
                             keras.layers.Dense(num_classes)])


def every_random_layer(input_shape, num_classes, seed):
    """Augmentation, noise and every kind of dropout, all unnamed and unseeded."""
    height, width, _ = input_shape
    return keras.Sequential([
        keras.Input(shape=input_shape),
        keras.layers.RandomFlip("horizontal"),
        keras.layers.RandomTranslation(0.1, 0.1),  # two draws in one call
        keras.layers.GaussianNoise(0.1),
        keras.layers.Reshape((height, width)),
        keras.layers.SpatialDropout1D(0.1),
        keras.layers.Flatten(),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.GaussianDropout(0.1),
        keras.layers.AlphaDropout(0.1),
        keras.layers.Dense(num_classes),
    ])
