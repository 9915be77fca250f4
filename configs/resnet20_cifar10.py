"""ResNet-20 on CIFAR-10 as in Frankle & Carbin (2019), Section 4 ("Resnet-18").

SGD with momentum 0.9, batch 128, 30K iterations, learning rate 0.1 dropped
10x at 20K and 25K iterations, weight decay 1e-4, standard augmentation.
Global pruning of 20% of the convolution weights per level; the output layer
(0.24% of the weights) is not pruned. The paper finds winning tickets at
rate 0.1 only with linear warmup (20K iterations: `--config.training.warmup=20000it`)
or at the lower rate 0.01, or with rewinding to an early step (Frankle et al. 2020:
`--config.rewind=500it`).
"""
from lottery_tf.config import base_config


def get_config():
    config = base_config()
    config.levels = 20
    config.dataset.name = "cifar10"
    config.dataset.augment = True
    config.model.name = "resnet20"
    config.model.initializer = "kaiming_normal"
    config.training.optimizer = "sgd"
    config.training.learning_rate = 0.1
    config.training.momentum = 0.9
    config.training.weight_decay = 1e-4
    config.training.lr_boundaries = "20000it,25000it"
    config.training.lr_gamma = 0.1
    config.training.batch_size = 128
    config.training.train_steps = "30000it"
    config.training.eval_every = "500it"
    config.pruning.strategy = "global"
    config.pruning.rate = 0.2
    config.pruning.output_rate = 0.0
    return config
