"""Iterative magnitude pruning with rewinding: the trunk of every experiment.

Level 0 trains the dense network from its seeded initialization and records the
weights at the rewind step. Each later level prunes the previous level's
trained weights (pure mask math), rewinds the survivors to the recorded
weights, and retrains from the rewind step with a fresh optimizer. Finished
levels are skipped on a rerun; an unfinished level resumes from its checkpoint.
"""
import os
import sys
from typing import TextIO

import tensorflow as tf

from lottery_tf.errors import CorruptFileError, StoreError
from lottery_tf.experiments import ranking_levels
from lottery_tf.experiments.masked_run import (
    EarlyBirdPlan,
    RunPlan,
    finished_metrics,
    fresh_weights,
    train_masked_run,
)
from lottery_tf.experiments.retraining import pruned_level_start, retrain_mode, trained_weights
from lottery_tf.experiments.setup import Setup, prepare
from lottery_tf.pruning import masks as mask_lib
from lottery_tf.report.console import trunk_table
from lottery_tf.storage import crash_points, cumulative_cost, store
from lottery_tf.storage import files as storage_files
from lottery_tf.storage.paths import TICKET_RUN, ExperimentPaths
from lottery_tf.storage.runs import trunk_runs
from lottery_tf.storage.summaries import log_level_to_tensorboard, write_replicate_summary


def replicate_seed(config, replicate: int) -> int:
    """The seed of one replicate (recorded in replicate.json)."""
    return int(config.seed) + int(replicate)


def run_replicate(setup: Setup, replicate: int) -> list[dict]:
    """Runs (or resumes) levels 0..config.levels of one replicate; returns their metrics."""
    paths, config = setup.paths, setup.config
    seed = replicate_seed(config, replicate)
    info = paths.replicate_info(replicate)
    for directory in (paths.dir, os.path.dirname(info)):
        store.remove_dead_temporaries(directory)
    if not storage_files.exists(info):
        store.write_json(info, {"replicate": replicate, "seed": seed})
    results = []
    _check_rewind_weights(paths, replicate)
    for level in range(config.levels + 1):
        finished = finished_metrics(paths.level_files(replicate, level))
        if finished is not None:
            results.append(finished)
            continue
        results.append(run_level(setup, replicate, level, seed))
        crash_points.reach("level_done")
        log_level_to_tensorboard(paths, replicate, results[-1])
        write_replicate_summary(paths, replicate, results)
    write_replicate_summary(paths, replicate, results)
    return results


def _check_rewind_weights(paths: ExperimentPaths, replicate: int) -> None:
    """A corrupt rewind file is moved aside with level 0's metrics: level 0 reruns and recaptures it."""
    path = paths.rewind_weights(replicate)
    if not storage_files.exists(path):
        return
    try:
        store.load_arrays(path)
    except CorruptFileError:
        store.quarantine(path)
        if storage_files.exists(paths.metrics(replicate, 0)):
            store.quarantine(paths.metrics(replicate, 0))


def level_masks(setup: Setup, replicate: int, level: int, kernels: dict) -> dict:
    """The mask of `level`: all ones at level 0, else pruned from level-1's trained weights."""
    paths = setup.paths
    if level == 0:
        return mask_lib.ones_like(kernels)
    path = paths.mask(replicate, level)
    if storage_files.exists(path):
        try:
            return store.load_arrays(path)
        except CorruptFileError:
            store.quarantine(path)  # recomputed below from the previous level
    previous_mask = level_masks(setup, replicate, level - 1, kernels)
    masks = next_masks(setup, trained_weights(setup, replicate, level - 1), previous_mask)
    store.save_arrays(path, masks)
    crash_points.reach("pruned")
    return masks


def next_masks(setup: Setup, weights: dict, masks: dict) -> dict:
    """The masks the next level prunes to from `weights` (every weight by name), under `masks`.

    The one pruning step of the trunk: between levels, and for early-bird's draws.
    """
    return mask_lib.prune(setup.config.pruning.strategy,
                          {name: weights[setup.weight_keys[name]] for name in masks},
                          masks, setup.layer_rates, granularity=setup.granularity, chain=setup.chain)


def _early_bird_plan(setup: Setup, level: int, masks: dict) -> EarlyBirdPlan | None:
    settings = ranking_levels.early_bird(setup.config, setup.steps_per_epoch)
    if settings is None or not ranking_levels.ranks_only(setup.config, level):
        return None
    # Level 0 records the rewind weights on its way: no stop before the rewind point.
    return EarlyBirdPlan(lambda weights: next_masks(setup, weights, masks), settings.check_every,
                         settings.threshold, settings.window,
                         not_before=setup.rewind_step if level == 0 else 0)


def run_level(setup: Setup, replicate: int, level: int, seed: int) -> dict:
    """Trains one trunk level: level 0 from the seeded init, later levels as `retrain` says;
    a level before the last stops early with short levels or early-bird (`ranking_levels`)."""
    paths = setup.paths
    initial = fresh_weights(setup, seed)
    masks = level_masks(setup, replicate, level, {
        name: initial[setup.weight_keys[name]] for name in setup.layer_kinds})
    on_rewind_step = None
    if level == 0:
        start_weights, start_step, full_end = initial, 0, setup.train_steps
        if not storage_files.exists(paths.rewind_weights(replicate)):
            def on_rewind_step(weights):
                store.save_arrays(paths.rewind_weights(replicate), weights)
    else:
        start = pruned_level_start(setup, replicate, level,
                                   lambda: load_rewind_weights(setup, replicate))
        start_weights, start_step, full_end = start.weights, start.start_step, start.end_step
    extra = {"level": level, "replicate": replicate, "retrain": retrain_mode(setup.config)}
    ranking = ranking_levels.ranks_only(setup.config, level)
    plan = RunPlan(files=paths.level_files(replicate, level), masks=masks,
                   start_weights=start_weights, start_step=start_step, seed=seed,
                   label=f"rep {replicate} level {level}",
                   tensorboard_dir=paths.tensorboard_run(replicate, level, TICKET_RUN),
                   on_rewind_step=on_rewind_step,
                   end_step=ranking_levels.level_end(setup, level, start_step, full_end),
                   extra_metrics=extra,
                   prior_cost=prior_cost(setup, replicate, level, cumulative_cost.TRUNK, start_step),
                   full_end_step=full_end if ranking else None,
                   early_bird=_early_bird_plan(setup, level, masks))
    return train_masked_run(setup, plan)


def prior_cost(setup: Setup, replicate: int, level: int, mask_from: str,
               start_step: int) -> cumulative_cost.Cost:
    """What produced the mask of a run off trunk `level` (`cumulative_cost.prior_cost`),
    from the replicate's stored trunk levels below it."""
    below = trunk_runs(setup.paths, replicate, level - 1) if level > 0 else {}
    return cumulative_cost.prior_cost(mask_from, level, start_step, below)


def load_rewind_weights(setup: Setup, replicate: int) -> dict:
    """The weights at the rewind step of level 0 (every later level starts from them)."""
    path = setup.paths.rewind_weights(replicate)
    if not storage_files.exists(path):
        raise StoreError(f"The rewind weights {path} are missing; rerun the lottery command "
                         f"for replicate {replicate} (delete {setup.paths.level(replicate, 0)} "
                         "if level 0 is already finished).")
    return store.load_arrays(path)


def run_lottery(config, root: str, replicates, strategy=None, quiet: bool = False,
                stream: TextIO | None = None) -> dict[int, list[dict]]:
    """Runs IMP for every replicate, printing each replicate's trunk table when it finishes.

    Args:
      config: the experiment config.
      root: the folder that holds all experiments.
      replicates: the replicate numbers to run (or resume).
      strategy: the distribution strategy (None: the default one).
      quiet: one progress line per run on stderr instead of a line per evaluation on
        stdout. The tables (and their warnings) are results, printed either way, as
        the `branch` command prints its own (`branches.runner.run_branch_command`).
      stream: where the experiment's folder and the tables go (None: standard output,
        looked up per call so a redirected stdout is honoured).

    Returns:
      replicate -> per-level metrics.
    """
    strategy = strategy or tf.distribute.get_strategy()
    stream = stream or sys.stdout
    setup = prepare(config, root, strategy, quiet)
    stream.write(f"experiment {setup.paths.dir}\n")
    results = {}
    for replicate in replicates:
        results[replicate] = run_replicate(setup, replicate)
        stream.write(f"replicate {replicate}:\n{trunk_table(results[replicate])}\n")
    return results
