"""`retrain`: the ticket trained under another config (ticket transfer, Morcos et al. 2019)."""
import numpy as np

from lottery_tf.config.files import load_config_file
from lottery_tf.config.hashing import config_hash
from lottery_tf.errors import ConfigError
from lottery_tf.experiments.branches.context import BranchContext
from lottery_tf.experiments.masked_run import fresh_weights
from lottery_tf.experiments.setup import prepare


def retrain(ctx: BranchContext) -> dict:
    """Trains this level's ticket under the target config `config` (e.g. another dataset
    or optimizer).

    The target must build the same architecture; an output layer of a different
    size is rebuilt from the target's seeded initialization and left unpruned.
    Training follows the target's schedule from step 0.

    Returns:
      The run's metrics (with the target's config hash and dataset, and the rebuilt weights).

    Raises:
      ConfigError: no target config, or one that builds other layers.
    """
    if "config" not in ctx.args:
        raise ConfigError("retrain needs the target config: --retrain_config=configs/<file>.py.")
    target_config = load_config_file(ctx.args["config"])
    target = prepare(target_config, ctx.setup.paths.root, ctx.setup.strategy, ctx.setup.quiet,
                     claim=False)
    if target.layer_kinds != ctx.setup.layer_kinds:
        raise ConfigError(f"retrain needs the same architecture: the ticket has layers "
                          f"{list(ctx.setup.layer_kinds)}, {ctx.args['config']} builds "
                          f"{list(target.layer_kinds)}.")
    ticket = ctx.unmasked_start_weights()
    weights = fresh_weights(target, ctx.seed)
    masks = dict(ctx.trunk_mask)
    rebuilt = []
    for name, value in weights.items():
        if name in ticket and ticket[name].shape == value.shape:
            weights[name] = ticket[name]
        else:
            rebuilt.append(name)
    for layer in masks:
        if target.weight_keys[layer] in rebuilt:
            masks[layer] = np.ones_like(weights[target.weight_keys[layer]], dtype=np.float32)
    return ctx.run(masks, weights, start_step=0, training_setup=target,
                   extra={"target_config_hash": config_hash(target_config),
                          "target_dataset": target_config.dataset.name, "rebuilt_weights": rebuilt})
