"""VGG-19 (with BatchNorm) on CIFAR-10 as in Frankle & Carbin (2019), Section 4.

SGD with momentum 0.9, batch 64, 112K iterations, learning rate 0.1 dropped
10x at 56K and 84K iterations, weight decay 1e-4, standard augmentation.
Global pruning of 20% of the convolution weights per level; the output layer
is not pruned. At rate 0.1 the paper needs linear warmup (10K iterations:
`--config.training.warmup=10000it`) to find winning tickets.
"""
from lottery_tf.config import base_config


def get_config():
    config = base_config()
    config.levels = 20
    config.dataset.name = "cifar10"
    config.dataset.augment = True
    config.model.name = "vgg19"
    config.model.initializer = "kaiming_normal"
    config.training.optimizer = "sgd"
    config.training.learning_rate = 0.1
    config.training.momentum = 0.9
    config.training.weight_decay = 1e-4
    config.training.lr_boundaries = "56000it,84000it"
    config.training.lr_gamma = 0.1
    config.training.batch_size = 64
    config.training.train_steps = "112000it"
    config.training.eval_every = "1000it"
    config.pruning.strategy = "global"
    config.pruning.rate = 0.2
    config.pruning.output_rate = 0.0
    return config
