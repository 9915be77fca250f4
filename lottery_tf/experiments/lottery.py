"""Iterative magnitude pruning with rewinding: the trunk of every experiment.

Level 0 trains the dense network from its seeded initialization and records the
weights at the rewind step. Each later level prunes the previous level's
trained weights (pure mask math), rewinds the survivors to the recorded
weights, and retrains from the rewind step with a fresh optimizer. Finished
levels are skipped on a rerun; an unfinished level resumes from its checkpoint.
"""
import dataclasses
import os
import sys

import ml_collections
import tensorflow as tf

from lottery_tf.data.pipeline import steps_per_epoch
from lottery_tf.data.registry import spec_of
from lottery_tf.data.splits import Splits, load_splits
from lottery_tf.data.streaming import ShardSplits
from lottery_tf.errors import ConfigError, CorruptFileError, StoreError
from lottery_tf.experiments import config as config_lib
from lottery_tf.experiments.masked_run import RunPlan, finished_metrics, fresh_weights, train_masked_run
from lottery_tf.experiments.summary import log_level_to_tensorboard, write_replicate_summary
from lottery_tf.models.prunable import prunable_layers, pruned_weight_keys
from lottery_tf.models.registry import build_model
from lottery_tf.models.unit_chain import unit_chain
from lottery_tf.pruning import granularity as granularity_lib
from lottery_tf.pruning import masks as mask_lib
from lottery_tf.pruning.policies import apply_policy
from lottery_tf.pruning.rates import layer_rates
from lottery_tf.storage import crash_points, store
from lottery_tf.storage import files as storage_files
from lottery_tf.storage.paths import TICKET_RUN, ExperimentPaths
from lottery_tf.training.steps import parse_steps


@dataclasses.dataclass
class Setup:
    """Everything resolved from the config before any training starts."""

    config: ml_collections.ConfigDict
    paths: ExperimentPaths
    splits: Splits | ShardSplits
    strategy: tf.distribute.Strategy
    steps_per_epoch: int
    train_steps: int
    rewind_step: int
    eval_every: int
    checkpoint_every: int
    test_every: int
    layer_kinds: dict
    layer_rates: dict
    quiet: bool = False
    # (source, reader) layer pairs; set for unit granularity only.
    chain: list | None = None
    # layer name -> key of its pruned weight in stored weight files (`dense_1/kernel`,
    # `dw_1/depthwise_kernel`, `embed/embeddings`): the one place branches and levels look it up.
    weight_keys: dict = dataclasses.field(default_factory=dict)


def prepare(config: ml_collections.ConfigDict, root: str, strategy: tf.distribute.Strategy,
            quiet: bool = False, claim: bool = True) -> Setup:
    """Validates the config, loads data and (if `claim`) claims the experiment folder.

    Raises:
      ConfigError: a bad value, or a stored experiment with a contradicting config.
      DataError: the dataset is missing or corrupt.
    """
    config_lib.check_ranges(config)
    dataset = config.dataset
    splits = load_splits(dataset.name, dataset.data_dir, dataset.validation_size,
                         verify=dataset.verify_checksums, split_train=dataset.split_train,
                         split_test=dataset.split_test,
                         split_validation=dataset.get("split_validation"),
                         image_size=dataset.get("image_size"))
    spec = spec_of(dataset)
    if dataset.augment and len(spec.image_shape) != 3:
        raise ConfigError(f"dataset.augment crops and flips images (height, width, channels); "
                          f"{dataset.name} gives examples of shape {spec.image_shape}. Set "
                          "--config.dataset.augment=False.")
    model = build_model(config.model.name, spec.image_shape, spec.num_classes,
                        config.model.initializer, config.seed)
    pruning = config.pruning
    ignored = [name.strip() for name in pruning.layers_to_ignore.split(",") if name.strip()]
    kinds = apply_policy(model, prunable_layers(model, ignored), pruning.get("policy"))
    if not kinds:
        raise ConfigError(f"model {config.model.name!r} has no prunable layer (Dense, Conv, "
                          "DepthwiseConv2D, SeparableConv, Embedding or a tfmot PrunableLayer); "
                          "IMP needs at least one.")
    # Ignored layers that are not prunable stay dense; names matching no layer are typos.
    layer_names = {layer.name for layer in model.layers}
    rates = layer_rates(kinds, pruning.rate, pruning.conv_rate, pruning.dense_rate,
                        pruning.output_rate,
                        [name for name in ignored if name in kinds or name not in layer_names],
                        pruning.embedding_rate)
    weight_keys = pruned_weight_keys(model)
    per_epoch = steps_per_epoch(splits.num_train, config.training.batch_size)
    train_steps = parse_steps(config.training.train_steps, per_epoch)
    rewind_step = parse_steps(config.rewind, per_epoch)
    if train_steps <= 0:
        raise ConfigError("training.train_steps must be positive.")
    if rewind_step >= train_steps:
        raise ConfigError(f"rewind={config.rewind!r} is step {rewind_step}, at or past the end of "
                          f"training (step {train_steps}); choose an earlier rewind point.")
    chain = unit_chain(model) if granularity_of(config) == "unit" else None
    paths = ExperimentPaths(root, config_lib.experiment_name(config))
    if claim:
        _claim(paths, config, splits.fingerprint(), spec)
    return Setup(config, paths, splits, strategy, per_epoch, train_steps, rewind_step,
                 parse_steps(config.training.eval_every, per_epoch),
                 parse_steps(config.runtime.checkpoint_every, per_epoch),
                 parse_steps(config.runtime.test_every, per_epoch), kinds, rates, quiet, chain,
                 {name: weight_keys[name] for name in kinds})


def granularity_of(config) -> str:
    """The config's pruning granularity as text: "weight", "unit" or "n:m"."""
    return str(granularity_lib.parse(config.pruning.get("granularity")))


def _claim(paths: ExperimentPaths, config, data_fingerprint: str, spec=None) -> None:
    """Writes config.json, or checks that the stored one agrees with `config` and the data.

    Raises:
      ConfigError: the stored experiment has other hashed settings, was trained
        on other data, or its config.json is damaged. Nothing is written then.
    """
    if not storage_files.exists(paths.config):
        store.write_json(paths.config, {"hash": config_lib.config_hash(config), "data": data_fingerprint,
                                        "hashed": config_lib.hashed_fields(config),
                                        "config": config.to_dict(),
                                        # shapes and normalization statistics the data gave
                                        "data_spec": None if spec is None else dataclasses.asdict(spec)})
        return
    try:
        stored = store.read_json(paths.config)
    except CorruptFileError as error:
        raise ConfigError(f"{paths.config} is damaged, so the stored results cannot be matched to a "
                          "config; restore it from a backup, or move the folder away to start afresh. "
                          "Nothing was changed.") from error
    differences = config_lib.differing_fields(stored.get("hashed", {}), config)
    if stored.get("data", data_fingerprint) != data_fingerprint:
        differences.append(f"data: stored fingerprint {stored['data']}, given {data_fingerprint} "
                           f"(loaded from {config.dataset.data_dir or 'the default sources'})")
    if differences:
        raise ConfigError(f"{paths.dir} holds an experiment with a different config:\n  "
                          + "\n  ".join(differences)
                          + "\nRestore the stored settings and data, or use another --root. "
                          "Nothing was changed.")


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
    previous_end = paths.weights_end(replicate, level - 1)
    if not storage_files.exists(previous_end):
        raise StoreError(f"Level {level - 1} of replicate {replicate} has no trained weights "
                         f"({previous_end}); rerun the lottery command to finish it first.")
    trained = store.load_arrays(previous_end)
    masks = mask_lib.prune(setup.config.pruning.strategy,
                           {name: trained[setup.weight_keys[name]] for name in previous_mask},
                           previous_mask, setup.layer_rates,
                           granularity=granularity_of(setup.config), chain=setup.chain)
    store.save_arrays(path, masks)
    crash_points.reach("pruned")
    return masks


def run_level(setup: Setup, replicate: int, level: int, seed: int) -> dict:
    """Trains one trunk level: level 0 from the seeded init, later levels from the rewind point."""
    paths = setup.paths
    initial = fresh_weights(setup, seed)
    masks = level_masks(setup, replicate, level, {
        name: initial[setup.weight_keys[name]] for name in setup.layer_kinds})
    on_rewind_step = None
    if level == 0:
        start_weights, start_step = initial, 0
        if not storage_files.exists(paths.rewind_weights(replicate)):
            def on_rewind_step(weights):
                store.save_arrays(paths.rewind_weights(replicate), weights)
    else:
        start_weights, start_step = load_rewind_weights(setup, replicate), setup.rewind_step
    plan = RunPlan(files=paths.level_files(replicate, level), masks=masks,
                   start_weights=start_weights, start_step=start_step, seed=seed,
                   label=f"rep {replicate} level {level}",
                   tensorboard_dir=paths.tensorboard_run(replicate, level, TICKET_RUN),
                   on_rewind_step=on_rewind_step,
                   extra_metrics={"level": level, "replicate": replicate})
    return train_masked_run(setup, plan)


def load_rewind_weights(setup: Setup, replicate: int) -> dict:
    """The weights at the rewind step of level 0 (every later level starts from them)."""
    path = setup.paths.rewind_weights(replicate)
    if not storage_files.exists(path):
        raise StoreError(f"The rewind weights {path} are missing; rerun the lottery command "
                         f"for replicate {replicate} (delete {setup.paths.level(replicate, 0)} "
                         "if level 0 is already finished).")
    return store.load_arrays(path)


def format_table(results: list[dict]) -> str:
    """The per-level table printed when a replicate finishes."""
    lines = [f"{'level':>5} {'% left':>7} {'test acc':>9} {'early stop':>10} {'acc@es':>7}"]
    for m in results:
        lines.append(f"{m['level']:>5} {m['percent_remaining']:>7.1f} {m['test_accuracy']:>9.4f} "
                     f"{m['early_stop_step']:>10} {m['early_stop_test_accuracy']:>7.4f}")
    return "\n".join(lines)


def run_lottery(config, root: str, replicates, strategy=None, quiet: bool = False,
                stream=sys.stdout) -> dict[int, list[dict]]:
    """Runs IMP for every replicate; returns replicate -> per-level metrics."""
    strategy = strategy or tf.distribute.get_strategy()
    setup = prepare(config, root, strategy, quiet)
    if not quiet:
        stream.write(f"experiment {setup.paths.dir}\n")
    results = {}
    for replicate in replicates:
        results[replicate] = run_replicate(setup, replicate)
        if not quiet:
            stream.write(f"replicate {replicate}:\n{format_table(results[replicate])}\n")
    return results
