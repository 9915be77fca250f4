"""tf_keras.applications networks as `package.module:function` builders (random initialization).

    --config.model.name=examples.applications:mobilenet_v2

`mobilenet_v2` is MobileNetV2 at width 0.35 (depthwise convolutions, BatchNorm),
the whole network with its own classifier producing logits.
"""
import tf_keras as keras


def mobilenet_v2(input_shape, num_classes, seed):
    """MobileNetV2 alpha 0.35, `weights=None`, logits out; Keras' seed makes it reproducible."""
    keras.utils.set_random_seed(seed)
    return keras.applications.MobileNetV2(input_shape=tuple(input_shape), alpha=0.35, weights=None,
                                          classes=num_classes, classifier_activation=None)
