"""`prune_at_init`: a mask scored before training, at this level's sparsity, trained from init.

Methods: SNIP, GraSP, SynFlow, magnitude or random (`method`); `scope` layerwise
or global; `examples` training examples scored for SNIP and GraSP.
"""
import numpy as np
import tf_keras as keras

from lottery_tf.errors import ConfigError
from lottery_tf.experiments.branches.context import BranchContext
from lottery_tf.experiments.model import build_experiment_model
from lottery_tf.pruning import at_init, tfmot_adapter
from lottery_tf.pruning import masks as mask_lib
from lottery_tf.storage import store


def prune_at_init(ctx: BranchContext) -> dict:
    """Masks scored on the dense initialization at this level's sparsity, trained from init.

    Layer-wise scope keeps each layer's count of the trunk mask; global scope keeps
    the trunk's total over the layers it prunes (layers it never prunes stay dense).

    Returns:
      The run's metrics (with its `method` and `scope`).

    Raises:
      ConfigError: an unknown scope (or method).
    """
    setup, config = ctx.setup, ctx.setup.config
    method = ctx.args["method"]
    scope = ctx.args.get("scope") or config.pruning.strategy
    if scope not in at_init.SCOPES:
        raise ConfigError(f"--scope must be one of {list(at_init.SCOPES)}, got {scope!r}.")
    trunk = ctx.trunk_mask
    init = store.load_arrays(setup.paths.weights_start(ctx.replicate, 0))
    image_shape = setup.spec.image_shape
    keras.backend.clear_session()
    model = build_experiment_model(config, ctx.seed, setup.spec)
    tfmot_adapter.set_weights(model, init)
    count = int(ctx.args["examples"])
    images, labels = setup.splits.first_train_examples(count)
    rng = np.random.default_rng(ctx.seed + ctx.level)

    def score(layers, fraction, scope_):
        return at_init.score_masks(method, model, layers, images, labels, image_shape, fraction,
                                   scope_, rng, batch_size=config.runtime.eval_batch_size)

    if setup.granularity != "weight":
        # Structured tickets: the method's one-shot scores (SynFlow: one round) ranked at
        # the trunk's granularity, with its counts (see masks.match_by_scores).
        scores = at_init.method_scores(method, model, list(trunk), images, labels, image_shape,
                                       rng, batch_size=config.runtime.eval_batch_size)
        masks = mask_lib.match_by_scores(scope, scores, trunk, setup.layer_rates,
                                         granularity=setup.granularity, chain=setup.chain,
                                         ties="earlier")
        return ctx.run(masks, init, start_step=0, extra={"method": method, "scope": scope})
    masks = mask_lib.ones_like(trunk)
    if scope == "layerwise":
        for layer, mask in trunk.items():
            masks.update(score([layer], float(mask.sum()) / mask.size, "layerwise"))
    else:
        pruned = [layer for layer, mask in trunk.items() if mask.sum() < mask.size]
        if pruned:
            kept = sum(float(trunk[layer].sum()) for layer in pruned)
            masks.update(score(pruned, kept / sum(trunk[layer].size for layer in pruned), "global"))
    return ctx.run(masks, init, start_step=0, extra={"method": method, "scope": scope})
