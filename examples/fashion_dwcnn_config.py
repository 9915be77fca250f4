"""IMP on the depthwise-separable CNN of `examples/fashion_dwcnn.py`, Fashion-MNIST.

Run from the repository root (so `examples` imports):
  python -m lottery_tf lottery --config=examples/fashion_dwcnn_config.py
Adam 2e-3, batch 128, 4 epochs per level; 20% of each layer per level
(output layer 10%, as in Frankle & Carbin's layer-wise settings).
"""
from lottery_tf.config import base_config


def get_config():
    config = base_config()
    config.dataset.name = "fashion_mnist"
    config.model.name = "examples.fashion_dwcnn:build"
    config.model.version = "1"
    config.training.optimizer = "adam"
    config.training.learning_rate = 2e-3
    config.training.batch_size = 128
    config.training.train_steps = "4ep"
    config.training.eval_every = "1ep"
    config.runtime.test_every = "0it"
    # XLA on CPU runs this model's depthwise convolutions ~25x slower than
    # TensorFlow's own kernels (1.2 vs 32 steps/s measured here); not hashed.
    config.runtime.jit_compile = False
    config.pruning.rate = 0.2
    config.pruning.output_rate = 0.1
    config.levels = 6
    return config
