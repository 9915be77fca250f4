"""Controls and analyses that branch off a finished trunk level: one file per branch.

Each branch keeps this level's sparsity and changes one thing:

- `reinit`: the level's mask on a fresh random initialization (new recorded seed).
- `reinit_sign`: the mask, fresh magnitudes, the ticket's signs (Zhou et al. 2019).
- `random_prune`: a random mask with the level's per-layer counts (layer-wise
  trunk) or total count (global trunk), from the trunk's rewind point.
- `shuffle_mask`: each layer's mask permuted in place, from the rewind point.
- `one_shot`: the dense trained network pruned straight to this sparsity, rewound.
- `rewind_sweep`: the ticket retrained from several rewind points.
- `lmc`: two copies of the ticket trained on different data orders, and the test
  error along the straight line between them (instability, Frankle et al. 2020).
- `prune_at_init`: masks scored before training (SNIP, GraSP, SynFlow,
  magnitude or random) at this sparsity, trained from the initialization.
- `init_eval`: the masked network evaluated before any training.
- `retrain`: the ticket trained under another config (ticket transfer).
- `full_ticket`: a level cut short to rank weights (short levels, early-bird) trained
  fully, as the last level is: the experiment's ticket at that sparsity.

A branch is one file here holding its function (taking a `BranchContext`,
`context.py`, returning its metrics) and one record in `registry.py` (its seed
offset, arguments, flags and how its runs are shown). `runner.py` runs a branch by
its record into `level_<L>/branch_<name>_<hash>/`, the hash taken over its name,
seed and arguments, with the same files and metrics as a trunk level.

The names below are imported on first use, so that reading the registry (flags,
sweep-file checks) loads no TensorFlow.
"""
import importlib

# name -> the module that defines it.
_LAZY = {
    "BranchContext": "lottery_tf.experiments.branches.context",
    "run_branch": "lottery_tf.experiments.branches.runner",
    "run_branch_command": "lottery_tf.experiments.branches.runner",
    "trunk_results": "lottery_tf.experiments.branches.runner",
    "collect_branches": "lottery_tf.experiments.branches.runner",
    "combined_table": "lottery_tf.report.console",
    "sweep_table": "lottery_tf.report.console",
}
__all__ = sorted(_LAZY)


def __getattr__(name: str):
    """`BranchContext`, `run_branch`, `run_branch_command`, `trunk_results`,
    `collect_branches` and the console tables, imported when first asked for.

    Raises:
      AttributeError: any other name.
    """
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
