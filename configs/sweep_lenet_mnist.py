"""A sweep: LeNet-300-100 on MNIST, two replicates, eight IMP levels and three controls.

    python -m lottery_tf sweep --sweep=configs/sweep_lenet_mnist.py --root=runs --workers=2
    python -m lottery_tf status --root=runs
"""


def get_sweep():
    return {
        "config": "configs/lenet_mnist.py",
        "overrides": {"levels": 8},
        "replicates": "0-1",
        "branches": [
            {"name": "reinit", "levels": "1-8"},
            {"name": "random_prune", "levels": "1-8"},
            {"name": "prune_at_init", "levels": "7", "args": {"method": "snip"}},
        ],
    }
