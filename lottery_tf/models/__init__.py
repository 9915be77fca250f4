"""Models by name: the zoo (LeNet, Conv-2/4/6, CIFAR ResNets and VGGs), your registered
builders, and `package.module:function` builders."""
from lottery_tf.models.initializers import get_initializer, known_initializers
from lottery_tf.models.prunable import count_params, prunable_layers, prunable_param_count
from lottery_tf.models.registry import build_model, known_models, register_model

__all__ = [
    "build_model",
    "count_params",
    "get_initializer",
    "known_initializers",
    "known_models",
    "prunable_layers",
    "prunable_param_count",
    "register_model",
]
