"""IMP on the row-sequence Conv1D network of `examples/rows_conv1d.py`, MNIST.

Run from the repository root (so `examples` imports):
  python -m lottery_tf lottery --config=examples/rows_conv1d_config.py
"""
from lottery_tf.config import base_config


def get_config():
    config = base_config()
    config.dataset.name = "mnist"
    config.model.name = "examples.rows_conv1d:build"
    config.model.version = "1"
    config.training.learning_rate = 2e-3
    config.training.batch_size = 128
    config.training.train_steps = "4ep"
    config.training.eval_every = "1ep"
    config.pruning.rate = 0.2
    config.pruning.output_rate = 0.1
    config.levels = 6
    return config
