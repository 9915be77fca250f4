"""The depthwise-separable CNN example with its reinit control, 3 replicates, as one sweep.

Levels 0-6 at the config's 4 epochs per level, reinit at every pruned level:
3 x (7 + 6) = 39 trainings. Run from the repository root (so `examples` imports):

    python -m lottery_tf sweep --sweep=examples/fashion_dwcnn_sweep.py --root=runs --workers=2 --pin_cpus
    python -m lottery_tf report --root=runs
"""


def get_sweep():
    return {
        "config": "examples/fashion_dwcnn_config.py",
        "replicates": "0-2",
        "branches": [{"name": "reinit", "levels": "1-6"}],
    }
