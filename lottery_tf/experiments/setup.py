"""What an experiment resolves from its config before any training: the `Setup`.

`prepare` checks the config, loads the data, builds the model once to learn its
prunable layers and their rates, turns the config's durations into steps, and
claims the experiment's folder (`storage.claim.claim_experiment`: config.json written, or the
stored one checked against the config). The trunk (`lottery.py`), the masked
runs (`masked_run.py`), the branches and the sweep workers all take the `Setup`, which
also carries what is derived once from the config (the dataset's spec, the granularity).
"""
import dataclasses

import ml_collections
import tensorflow as tf

from lottery_tf.config.checks import check_ranges
from lottery_tf.config.hashing import experiment_name
from lottery_tf.data.pipeline import steps_per_epoch
from lottery_tf.data.sources import spec_of
from lottery_tf.data.spec import DatasetSpec
from lottery_tf.data.splits import Splits, load_splits
from lottery_tf.data.streaming import ShardSplits
from lottery_tf.errors import ConfigError
from lottery_tf.experiments import ranking_levels
from lottery_tf.experiments.model import build_experiment_model
from lottery_tf.models.layer_paths import layer_paths
from lottery_tf.models.prunable import holds_pruned_weight, prunable_layers, pruned_weight_keys
from lottery_tf.models.reproducible import check_same_weights_per_seed
from lottery_tf.models.unit_chain import unit_chain
from lottery_tf.pruning import granularity as granularity_lib
from lottery_tf.pruning.policies import apply_policy
from lottery_tf.pruning.rates import ignored_names, layer_rates
from lottery_tf.storage.claim import claim_experiment
from lottery_tf.storage.paths import ExperimentPaths
from lottery_tf.training import cost
from lottery_tf.training.steps import parse_steps
from lottery_tf.training.xla_choice import choose_jit_compile


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
    # The dataset's shapes and normalization (what `spec_of(config.dataset)` gives), read once.
    spec: DatasetSpec | None = None
    # The pruning granularity as text ("weight", "unit" or "n:m"; see `granularity_of`).
    granularity: str = "weight"
    # Whether the train step is XLA-compiled (`training.xla_choice`: the config, or the rule),
    # and why (for `describe`).
    jit_compile: bool = True
    jit_reason: str = ""
    # layer name -> uses of each kernel weight per example (`training.cost`), for FLOPs estimates.
    weight_uses: dict = dataclasses.field(default_factory=dict)


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
    check_ranges(config)
    dataset = config.dataset
    splits = load_splits(dataset.name, dataset.data_dir, dataset.validation_size,
                         verify=dataset.verify_checksums, split_train=dataset.split_train,
                         split_test=dataset.split_test,
                         split_validation=dataset.get("split_validation"),
                         image_size=dataset.get("image_size"),
                         validation_split=dataset.get("validation_split"),
                         normalization=dataset.get("normalization"))
    spec = spec_of(dataset)
    if dataset.augment and len(spec.image_shape) != 3:
        raise ConfigError(f"dataset.augment crops and flips images (height, width, channels); "
                          f"{dataset.name} gives examples of shape {spec.image_shape}. Set "
                          "--config.dataset.augment=False.")
    model = build_experiment_model(config, spec=spec)
    if ":" in config.model.name:  # the zoo's builders are seeded; a user's may not be
        check_same_weights_per_seed(config.model.name, model,
                                    lambda: build_experiment_model(config, spec=spec))
    pruning = config.pruning
    ignored = ignored_names(pruning.layers_to_ignore)
    kinds = apply_policy(model, prunable_layers(model, ignored), pruning.get("policy"))
    if not kinds:
        raise ConfigError(f"model {config.model.name!r} has no prunable layer (Dense, Conv, "
                          "DepthwiseConv2D, SeparableConv, Embedding or a tfmot PrunableLayer); "
                          "IMP needs at least one.")
    # Ignored layers that are not prunable stay dense; names matching no layer are typos.
    rates = layer_rates(kinds, pruning.rate, pruning.conv_rate, pruning.dense_rate,
                        pruning.output_rate,
                        [name for name in ignored
                         if holds_pruned_weight(name, kinds) or name not in layer_paths(model)],
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
    if config.get("finetune_steps") and parse_steps(config.finetune_steps, per_epoch) <= 0:
        raise ConfigError(f"finetune_steps={config.finetune_steps!r} must be positive, e.g. 5000it.")
    ranking_levels.check(config, per_epoch, rewind_step)
    granularity = granularity_of(config)
    jit_compile, why = choose_jit_compile(config.runtime.get("jit_compile"), model, strategy)
    if not jit_compile and config.runtime.get("jit_compile") is None and claim:
        print(why, flush=True)
    chain = unit_chain(model) if granularity == "unit" else None
    paths = ExperimentPaths(root, experiment_name(config))
    if claim:
        claim_experiment(paths, config, splits.fingerprint(), spec,
                         validation=getattr(splits, "validation", None))
    return Setup(config, paths, splits, strategy, per_epoch, train_steps, rewind_step,
                 parse_steps(config.training.eval_every, per_epoch),
                 parse_steps(config.runtime.checkpoint_every, per_epoch),
                 parse_steps(config.runtime.test_every, per_epoch), kinds, rates, quiet, chain,
                 {name: weight_keys[name] for name in kinds}, spec=spec, granularity=granularity,
                 jit_compile=jit_compile, jit_reason=why, weight_uses=cost.weight_uses(model, kinds))


def granularity_of(config: ml_collections.ConfigDict) -> str:
    """The config's pruning granularity as text: "weight", "unit" or "n:m"."""
    return str(granularity_lib.parse(config.pruning.get("granularity")))
