"""Does learning-rate rewinding match weight rewinding when the schedule decays?

configs/sweep_tickets_for_less.py measures `retrain=lr_rewind` under the paper's
constant Adam rate, where replaying the schedule only replays the data order.
Renda et al. (2020) compare the two under decaying schedules. This sweep decays
the rate (`training.lr_schedule=cosine`, 1.2e-3 to 0 over each level's training)
on LeNet-300-100 / MNIST at 5,000 iterations per level, levels 0-15 (3.6% of the
weights at the paper's 20% / output 10% rates), 3 replicates; weight rewinding
also trains reinit at levels 10 and 15. One experiment per `retrain`:

    for retrain in weight_rewind lr_rewind; do
      python -m lottery_tf sweep --sweep=configs/sweep_lr_rewind_cosine.py --root=runs --workers=2 \\
          --pin_cpus --sweep_args=retrain=$retrain
    done
    python -m lottery_tf report --root=runs --experiment=<the two experiments' hashes, comma-separated>
"""
from lottery_tf.errors import ConfigError

RETRAINS = ("weight_rewind", "lr_rewind")


def get_sweep(retrain="weight_rewind"):
    if retrain not in RETRAINS:
        raise ConfigError(f"retrain must be one of {RETRAINS}, got {retrain!r}.")
    overrides = {"levels": 15, "training.train_steps": "5000it", "training.lr_schedule": "cosine"}
    branches = []
    if retrain == "lr_rewind":
        overrides["retrain"] = "lr_rewind"
    else:  # unset `retrain` keeps weight rewinding's hash
        branches = [{"name": "reinit", "levels": "10,15"}]
    return {"config": "configs/lenet_mnist.py", "overrides": overrides, "replicates": "0-2",
            "branches": branches}
