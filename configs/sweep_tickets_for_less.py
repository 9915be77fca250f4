"""Tickets for less: cheaper ways to find a LeNet-300-100 ticket on MNIST, against IMP, at paper scale.

Every procedure reaches 10.7% and 3.6% of the weights (levels 10 and 15 at the
paper's rates: 20% of each hidden layer, 10% of the output layer per level) with
configs/lenet_mnist.py's training (Adam 1.2e-3, batch 60, 50,000 iterations),
3 replicates. One variant per procedure (`--sweep_args=procedure=...`), each its
own experiment:

  imp          IMP with weight rewinding to iteration 0, levels 0-15, and the
               one_shot and random_prune (the floor) branches at levels 10 and 15:
               3 x (16 + 4) = 60 trainings
  lr_rewind    IMP, each level retrains from the previous level's weights with the
               schedule replayed (Renda et al. 2020): 3 x 16 = 48 trainings
  finetune     IMP, each level fine-tunes the previous level's weights at the final
               rate for 50,000 iterations: 3 x 16 = 48 trainings
  short        short levels: levels before the last train 5,000 iterations (10% of
               the budget, `intermediate_steps`), only to rank weights; level 15
               trains fully and `branch full_ticket` trains level 10's mask fully,
               one experiment for both targets: 3 x (15 x 5,000 + 2 x 50,000)
               iterations. `target=10` or `target=15` instead runs one experiment
               per target without the branch (`levels` is hashed with short levels;
               target=15 is the same experiment as no target), as the README's
               measured run did
  early_bird   early-bird tickets (You et al. 2020): levels before the last stop
               once the masks drawn every epoch settle (the last 5 distances all
               under 0.1, the paper's settings); targets as for short

    for procedure in imp lr_rewind finetune short early_bird; do
      python -m lottery_tf sweep --sweep=configs/sweep_tickets_for_less.py --root=runs --workers=2 \\
          --pin_cpus --sweep_args=procedure=$procedure
    done
    python -m lottery_tf report --root=runs --experiment=<the five experiments' hashes, comma-separated>
    (or without --experiment when the root holds only these five)

The comparison (`<root>/report/comparison_cost_summary.md`,
`comparison_cost_vs_accuracy.png`) has one line per procedure: test accuracy at
early stop against the cumulative cost of finding and training the ticket.
Checkpoints every 5 epochs and a test pass every 5,000 iterations, as
configs/sweep_lenet_paper.py (neither is hashed).
"""
from lottery_tf.errors import ConfigError

TARGETS = ("10", "15")
SHORT_LEVEL_STEPS = "5000it"  # 10% of the 50,000-iteration budget
EARLY_BIRD = {"early_bird.threshold": 0.1}  # check every epoch, a window of 5: the paper's defaults

PROCEDURES = {
    "imp": {},
    "lr_rewind": {"retrain": "lr_rewind"},
    "finetune": {"retrain": "finetune"},
    "short": {"intermediate_steps": SHORT_LEVEL_STEPS},
    "early_bird": EARLY_BIRD,
}
TARGETED = ("short", "early_bird")  # procedures that reach one target per experiment (`levels` hashed)


def get_sweep(procedure="imp", target=None):
    if procedure not in PROCEDURES:
        raise ConfigError(f"procedure must be one of {sorted(PROCEDURES)}, got {procedure!r}.")
    if target is not None and (procedure not in TARGETED or target not in TARGETS):
        raise ConfigError(f"target=10 or target=15 is for procedures {TARGETED} only; got "
                          f"procedure={procedure}, target={target!r}.")
    levels = int(target or TARGETS[-1])
    branches = []
    if procedure == "imp":  # one-shot pruning of the dense network, and random pruning as the floor
        branches = [{"name": "one_shot", "levels": ",".join(TARGETS)},
                    {"name": "random_prune", "levels": ",".join(TARGETS)}]
    elif procedure in TARGETED and target is None:  # the shallower target's ticket, off the same trunk
        branches = [{"name": "full_ticket", "levels": ",".join(TARGETS[:-1])}]
    return {
        "config": "configs/lenet_mnist.py",
        "overrides": {"levels": levels, "runtime.checkpoint_every": "5ep", "runtime.test_every": "5000it",
                      **PROCEDURES[procedure]},
        "replicates": "0-2",
        "branches": branches,
    }
