"""What an experiment resolves from its config before any training: the `Setup`.

`prepare` checks the config, loads the data, builds the model once to learn its
prunable layers and their rates, turns the config's durations into steps, and
claims the experiment's folder (`claim_experiment`: config.json written, or the
stored one checked against the config). The trunk (`lottery.py`), the masked
runs (`masked_run.py`), the branches and the sweep workers all take the `Setup`.
"""
import dataclasses

import ml_collections
import tensorflow as tf

from lottery_tf.data.pipeline import steps_per_epoch
from lottery_tf.data.registry import DatasetSpec, spec_of
from lottery_tf.data.splits import Splits, load_splits
from lottery_tf.data.streaming import ShardSplits
from lottery_tf.errors import ConfigError, CorruptFileError
from lottery_tf.experiments import config as config_lib
from lottery_tf.experiments.model import build_experiment_model
from lottery_tf.models.prunable import prunable_layers, pruned_weight_keys
from lottery_tf.models.unit_chain import unit_chain
from lottery_tf.pruning import granularity as granularity_lib
from lottery_tf.pruning.policies import apply_policy
from lottery_tf.pruning.rates import layer_rates
from lottery_tf.storage import files as storage_files
from lottery_tf.storage import store
from lottery_tf.storage.paths import ExperimentPaths
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

    Args:
      config: the experiment config.
      root: the folder that holds all experiments.
      strategy: the distribution strategy training runs under.
      quiet: one progress line per run instead of a line per evaluation.
      claim: write (or check) the folder's config.json; False for a config only
        read for its settings (a retrain branch's target).

    Returns:
      The resolved `Setup`.

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
    model = build_experiment_model(config)
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
        claim_experiment(paths, config, splits.fingerprint(), spec)
    return Setup(config, paths, splits, strategy, per_epoch, train_steps, rewind_step,
                 parse_steps(config.training.eval_every, per_epoch),
                 parse_steps(config.runtime.checkpoint_every, per_epoch),
                 parse_steps(config.runtime.test_every, per_epoch), kinds, rates, quiet, chain,
                 {name: weight_keys[name] for name in kinds})


def granularity_of(config: ml_collections.ConfigDict) -> str:
    """The config's pruning granularity as text: "weight", "unit" or "n:m"."""
    return str(granularity_lib.parse(config.pruning.get("granularity")))


def claim_experiment(paths: ExperimentPaths, config: ml_collections.ConfigDict, data_fingerprint: str,
                     spec: DatasetSpec | None = None) -> None:
    """Writes config.json, or checks that the stored one agrees with `config` and the data.

    Every writer of an experiment folder (the command line's `prepare`, `fit`'s
    `save_level`) claims it first, so one folder never mixes two configs.

    Args:
      paths: the experiment's folder layout.
      config: the experiment's config (its hashed fields are compared).
      data_fingerprint: identifies the data (`Splits.fingerprint()`).
      spec: the dataset's shapes and normalization, recorded on first write.

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
