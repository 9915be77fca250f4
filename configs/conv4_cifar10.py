"""Conv-4 on CIFAR-10 as in Frankle & Carbin (2019), Table 1 and Figure 5.

Adam at 3e-4, batch 60, 25000 iterations, no augmentation; layer-wise pruning of
10% of each conv layer, 20% of each hidden dense layer and 10% of the
output layer per level; validation every 100 iterations on 5,000 held-out
training examples. Epsilon 1e-8 as in TF1's Adam, which the paper used.
"""
from lottery_tf.config import base_config


def get_config():
    config = base_config()
    config.levels = 20
    config.dataset.name = "cifar10"
    config.model.name = "conv4"
    config.training.optimizer = "adam"
    config.training.learning_rate = 3e-4
    config.training.adam_epsilon = 1e-8
    config.training.batch_size = 60
    config.training.train_steps = "25000it"
    config.training.eval_every = "100it"
    config.pruning.strategy = "layerwise"
    config.pruning.rate = 0.2
    config.pruning.conv_rate = 0.1
    config.pruning.output_rate = 0.1
    return config
