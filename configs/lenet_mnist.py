"""LeNet-300-100 on MNIST as in Frankle & Carbin (2019), Figure 2 / Table 1.

Adam at 1.2e-3, batch 60, 50K iterations, layer-wise pruning of 20% of each
hidden layer and 10% of the output layer per level, validation every 100
iterations on the last 5,000 training examples. The paper used TF1's Adam,
whose epsilon is 1e-8 (Keras defaults to 1e-7).
"""
from lottery_tf.config import base_config


def get_config():
    config = base_config()
    config.levels = 20
    config.dataset.name = "mnist"
    config.model.name = "lenet_300_100"
    config.training.optimizer = "adam"
    config.training.learning_rate = 1.2e-3
    config.training.adam_epsilon = 1e-8
    config.training.batch_size = 60
    config.training.train_steps = "50000it"
    config.training.eval_every = "100it"
    config.pruning.strategy = "layerwise"
    config.pruning.rate = 0.2
    config.pruning.output_rate = 0.1
    # The whole validation split in one batch: LeNet's evaluation is matrix
    # products, which run fastest on one large batch (not part of the hash).
    config.runtime.eval_batch_size = 5000
    return config
