"""mobilenet_16 on Fashion-MNIST, pruning only its 1x1 convolutions (XNNPACK's sparse path).

`pruning.policy=xnnpack` wraps and prunes the five pointwise (1x1) convolutions
pw_1..pw_5 only; the stem convolution, the depthwise convolutions and the
classifier stay dense, as TFLite's XNNPACK delegate needs for its sparse NCHW
kernels, which it takes once more than 2/3 of the 1x1 weights are zero. Half of
the surviving 1x1 weights go per level (layer-wise), so level 2 (25% left) is
the first past that threshold. Adam at 2e-3, batch 128, 8 epochs per level.
"""
from lottery_tf.config import base_config


def get_config():
    config = base_config()
    config.levels = 4
    config.dataset.name = "fashion_mnist"
    config.model.name = "mobilenet_16"
    config.training.optimizer = "adam"
    config.training.learning_rate = 2e-3
    config.training.batch_size = 128
    config.training.train_steps = "8ep"
    config.training.eval_every = "1ep"
    config.pruning.strategy = "layerwise"
    config.pruning.rate = 0.5
    config.pruning.policy = "xnnpack"
    return config
