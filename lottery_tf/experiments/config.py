"""The experiment config: defaults, validation, and the hash that names results.

Configs are `ml_collections.ConfigDict`s. `base_config()` holds every field and
its default; files in `configs/` start from it and set the paper's values.
Optional fields default to None (typed placeholders) and are left out of the
hash while unset, so adding an option never renames old experiments. Fields
that do not change results (where data lives, the device strategy, logging,
how many levels to run) are not hashed either.
"""
import hashlib
import json

import ml_collections
from ml_collections import config_dict

from lottery_tf.errors import ConfigError

# Top-level sections and fields left out of the hash.
UNHASHED = {"name", "levels", "runtime", "dataset.data_dir", "dataset.verify_checksums"}


def base_config() -> ml_collections.ConfigDict:
    """Every field with its default. Durations are written `500it` or `2ep`."""
    placeholder = config_dict.placeholder
    config = ml_collections.ConfigDict()
    config.name = placeholder(str)          # results folder prefix; default model_dataset
    config.seed = 0                         # replicate r uses seed + r
    config.levels = 5                       # IMP levels after the dense level 0
    config.rewind = "0it"                   # rewind point: 0it = original init
    config.dataset = ml_collections.ConfigDict(dict(
        name="mnist", validation_size=5000, augment=False, data_dir=placeholder(str),
        verify_checksums=True))             # SHA-256 of the original MNIST files
    config.model = ml_collections.ConfigDict(dict(
        name="lenet_300_100", initializer="glorot_normal"))
    config.training = ml_collections.ConfigDict(dict(
        optimizer="adam",
        learning_rate=1.2e-3,
        adam_epsilon=placeholder(float),    # TF1's Adam used 1e-8; Keras defaults to 1e-7
        momentum=placeholder(float),        # SGD only
        nesterov=placeholder(bool),
        weight_decay=placeholder(float),    # coupled L2, added to the gradients
        lr_boundaries=placeholder(str),     # "32000it,48000it": multiply by lr_gamma at each
        lr_gamma=placeholder(float),
        warmup=placeholder(str),            # linear warmup duration
        batch_size=60,
        train_steps="50000it",
        eval_every="100it",
    ))
    config.pruning = ml_collections.ConfigDict(dict(
        strategy="layerwise",               # layerwise | global
        rate=0.2,                           # fraction of surviving weights removed per level
        conv_rate=placeholder(float),
        dense_rate=placeholder(float),
        output_rate=placeholder(float),
        layers_to_ignore="",                # comma-separated layer names never pruned
    ))
    config.runtime = ml_collections.ConfigDict(dict(
        strategy="default",                 # tf.distribute strategy
        jit_compile=True,
        eval_batch_size=1000,
        checkpoint_every="1ep",
    ))
    return config


def _flatten(value, prefix=""):
    if isinstance(value, dict):
        items = {}
        for key, child in value.items():
            items.update(_flatten(child, f"{prefix}{key}."))
        return items
    return {prefix[:-1]: value}


def hashed_fields(config: ml_collections.ConfigDict) -> dict:
    """The flat `section.field -> value` dict that defines the experiment."""
    flat = _flatten(config.to_dict())
    return {key: value for key, value in sorted(flat.items())
            if value is not None and key.split(".")[0] not in UNHASHED and key not in UNHASHED}


def config_hash(config: ml_collections.ConfigDict) -> str:
    """A short stable hash of the hashed fields (10 hex digits)."""
    canonical = json.dumps(hashed_fields(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:10]


def experiment_name(config: ml_collections.ConfigDict) -> str:
    """`<name>_<hash>`, the experiment's folder under the results root."""
    prefix = config.name or f"{config.model.name}_{config.dataset.name}"
    return f"{prefix}_{config_hash(config)}"


def differing_fields(stored: dict, config: ml_collections.ConfigDict) -> list[str]:
    """Hashed fields whose stored value differs from `config`'s, as readable lines."""
    current = hashed_fields(config)
    keys = sorted(set(stored) | set(current))
    return [f"{key}: stored {stored.get(key)!r}, given {current.get(key)!r}"
            for key in keys if stored.get(key) != current.get(key)]


def check_ranges(config: ml_collections.ConfigDict) -> None:
    """Checks values that need no data or model to judge.

    Raises:
      ConfigError: the first value out of range, naming the field and the fix.
    """
    pruning, training = config.pruning, config.training
    if pruning.strategy not in ("layerwise", "global"):
        raise ConfigError(f"pruning.strategy must be 'layerwise' or 'global', got {pruning.strategy!r}.")
    for field in ("rate", "conv_rate", "dense_rate", "output_rate"):
        value = pruning[field]
        if value is not None and not 0.0 <= value < 1.0:
            raise ConfigError(f"pruning.{field} must be in [0, 1), got {value}.")
    if config.levels < 0:
        raise ConfigError(f"levels must be >= 0, got {config.levels}.")
    if training.batch_size <= 0:
        raise ConfigError(f"training.batch_size must be positive, got {training.batch_size}.")
    if training.learning_rate <= 0:
        raise ConfigError(f"training.learning_rate must be positive, got {training.learning_rate}.")
    if training.optimizer not in ("adam", "sgd"):
        raise ConfigError(f"training.optimizer must be 'adam' or 'sgd', got {training.optimizer!r}.")
