"""Frankle & Carbin (2019), Figures 1, 3 and 4 for LeNet-300-100 on MNIST, at paper scale.

50,000 iterations per training (configs/lenet_mnist.py holds the paper's
hyperparameters: Adam 1.2e-3, batch 60, layer-wise pruning of 20% per level and
10% of the output layer, validation every 100 iterations), 5 replicates, trunk
levels 0-18 (level 18 keeps 1.9% of the weights), and the reinit and
random_prune controls at every pruned level: 5 x (19 + 18 + 18) = 275 trainings,
13.75 million iterations.

Checkpoints every 5 epochs and a test pass every 5,000 iterations (instead of
every epoch and 1,000): the test accuracy at the early-stop step stays exact
(the weights of each new validation minimum are tested at the next checkpoint),
and a killed worker loses at most 5 epochs of one training. Neither is hashed.

    python -m lottery_tf sweep --sweep=configs/sweep_lenet_paper.py --root=runs --workers=2 --pin_cpus
    python -m lottery_tf status --root=runs
    python -m lottery_tf report --root=runs
"""


def get_sweep():
    return {
        "config": "configs/lenet_mnist.py",
        "overrides": {"levels": 18, "runtime.checkpoint_every": "5ep", "runtime.test_every": "5000it"},
        "replicates": "0-4",
        "branches": [
            {"name": "reinit", "levels": "1-18"},
            {"name": "random_prune", "levels": "1-18"},
        ],
    }
