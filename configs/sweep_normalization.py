"""Which input preparation makes the ticket: one `dataset.normalization` per sweep.

    python -m lottery_tf sweep --sweep=configs/sweep_normalization.py --root=runs --workers=2 \
        --sweep_args=dataset=fashion_mnist,normalization=unit_range

`dataset=fashion_mnist` (the default): LeNet-300-100 with the paper's MNIST
settings (configs/lenet_fashion_mnist.py) at 5,000 iterations per level, levels
0-9, 4 replicates, reinit at every pruned level.
`dataset=mnist`: the paper's 50,000 iterations (configs/lenet_mnist.py), levels
0-15, 3 replicates, reinit at levels 7, 10 and 15.
`normalization`: standardize | unit_range | example_l2 (lottery_tf/data/normalization.py).
"""

STUDIES = {
    "fashion_mnist": {"config": "configs/lenet_fashion_mnist.py",
                      "overrides": {"levels": 9, "training.train_steps": "5000it"},
                      "replicates": "0-3", "reinit_levels": "1-9"},
    "mnist": {"config": "configs/lenet_mnist.py",
              "overrides": {"levels": 15, "runtime.checkpoint_every": "5ep",
                            "runtime.test_every": "5000it"},
              "replicates": "0-2", "reinit_levels": "7,10,15"},
}


def get_sweep(dataset="fashion_mnist", normalization="standardize"):
    study = STUDIES[dataset]
    return {
        "config": study["config"],
        "overrides": {**study["overrides"], "dataset.normalization": normalization},
        "replicates": study["replicates"],
        "branches": [{"name": "reinit", "levels": study["reinit_levels"]}],
    }
