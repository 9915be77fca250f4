"""`one_shot`: the dense trained network pruned straight to this level's sparsity, rewound."""
from lottery_tf.errors import StoreError
from lottery_tf.experiments.branches.context import BranchContext
from lottery_tf.pruning import masks as mask_lib
from lottery_tf.storage import files as storage_files
from lottery_tf.storage import store


def one_shot(ctx: BranchContext) -> dict:
    """Prunes level 0's trained weights once to the trunk mask's counts and trains from the
    rewind point.

    Returns:
      The run's metrics.

    Raises:
      StoreError: level 0's trained weights are missing.
    """
    setup = ctx.setup
    dense_end = setup.paths.weights_end(ctx.replicate, 0)
    if not storage_files.exists(dense_end):
        raise StoreError(f"one_shot needs the trained dense network {dense_end}; run the lottery "
                         "command first.")
    trained = store.load_arrays(dense_end)
    target = ctx.trunk_mask
    masks = mask_lib.prune_to_match(setup.config.pruning.strategy,
                                    {layer: trained[setup.weight_keys[layer]] for layer in target},
                                    target, setup.layer_rates,
                                    granularity=setup.granularity, chain=setup.chain)
    return ctx.run(masks, ctx.unmasked_start_weights())
