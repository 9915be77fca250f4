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
import math
import re

import ml_collections
from ml_collections import config_dict

from lottery_tf.errors import ConfigError
from lottery_tf.pruning import granularity as granularity_lib
from lottery_tf.pruning import policies

# Top-level sections and fields left out of the hash.
UNHASHED = {"name", "levels", "runtime", "dataset.data_dir", "dataset.verify_checksums"}


# Every field: (default, help). A type as default means an optional field of that
# type, unset (None) by default.
FIELDS = {
    "name": (str, "results folder prefix (default: <model>_<dataset>); not hashed"),
    "seed": (0, "base seed; replicate r uses seed + r"),
    "levels": (5, "IMP levels after the dense level 0; not hashed, so a run can be extended"),
    "rewind": ("0it", "rewind point: 0it = the original initialization, or e.g. 500it, 2ep"),
    "dataset.name": ("mnist", "mnist | fashion_mnist | cifar10 | npz:<file> | folder:<dir> | "
                     "tfds:<name> (README 'Your own data')"),
    "dataset.validation_size": (5000, "last N training examples held out for early stopping"),
    "dataset.augment": (False, "per-example augmentation of the training batches (kind: "
                        "dataset.augmentation), drawn from (seed, step)"),
    "dataset.augmentation": (str, "crop_flip (unset: zero-pad 4, random crop, horizontal flip; "
                             "CIFAR) | resized_crop (random-resized crop + flip; ImageNet)"),
    "dataset.image_size": (int, "folder:/tfds: sources: resize every image to N x N when read "
                           "(needed when image sizes differ, e.g. ImageNet); shards: the size "
                           "the folder must hold"),
    "dataset.data_dir": (str, "folder with the standard files (IDX or CIFAR binary), or the tfds"
                         " data dir of a tfds:<name> source; not hashed"),
    "dataset.split_train": (str, "tfds:<name> sources: the training split (default train)"),
    "dataset.split_test": (str, "tfds:<name> sources: the test split (default test)"),
    "dataset.split_validation": (str, "tfds:<name> sources: a split to validate on (e.g. "
                                 "validation; needs validation_size=0). Unset: the last "
                                 "validation_size training examples"),
    "dataset.verify_checksums": (True, "check MNIST/Fashion-MNIST files against the originals' SHA-256"),
    "model.name": ("lenet_300_100", "lenet_N_M_..., conv2/4/6, resnet20, resnet_D[_W], vgg11/13/16/19,"
                   " or package.module:function (your own builder; README 'Your own model')"),
    "model.version": (str, "your builder's version; bump it when its code changes (the builder is"
                      " hashed by name, not by code)"),
    "model.initializer": ("glorot_normal", "glorot_normal | glorot_uniform | kaiming_normal |"
                          " kaiming_uniform"),
    "training.optimizer": ("adam", "adam | sgd"),
    "training.learning_rate": (1.2e-3, "base learning rate"),
    "training.adam_epsilon": (float, "TF1's Adam (the paper's) used 1e-8; Keras defaults to 1e-7"),
    "training.momentum": (float, "SGD momentum"),
    "training.nesterov": (bool, "SGD Nesterov momentum"),
    "training.weight_decay": (float, "coupled L2 decay, added to the gradients"),
    "training.lr_boundaries": (str, "e.g. '20000it,25000it': multiply the rate by lr_gamma at each"),
    "training.lr_gamma": (float, "learning-rate factor at each boundary (default 0.1)"),
    "training.warmup": (str, "linear learning-rate warmup duration, e.g. 20000it"),
    "training.lr_schedule": (str, "step (unset: lr_boundaries / lr_gamma) | cosine (half cosine "
                             "from the end of warmup to lr_final at train_steps)"),
    "training.lr_final": (float, "cosine schedule: the rate at the end of training (default 0)"),
    "training.label_smoothing": (float, "label smoothing of the training loss, in [0, 1) (the "
                                 "evaluation loss stays plain cross-entropy)"),
    "training.precision": (str, "float32 (unset) | mixed_float16 (GPU, with loss scaling) | "
                           "mixed_bfloat16 (TPU, CPU); variables and masks stay float32"),
    "training.batch_size": (60, "global batch size (never rescaled by the number of replicas)"),
    "training.train_steps": ("50000it", "training length of every level"),
    "training.eval_every": ("100it", "validation and test evaluation interval"),
    "pruning.strategy": ("layerwise", "layerwise | global"),
    "pruning.rate": (0.2, "fraction of the surviving weights removed per level, in [0, 1)"),
    "pruning.conv_rate": (float, "rate for conv layers (default: rate)"),
    "pruning.dense_rate": (float, "rate for hidden dense layers (default: rate)"),
    "pruning.output_rate": (float, "rate for the output layer (default: rate)"),
    "pruning.embedding_rate": (float, "rate for Embedding layers (default: rate)"),
    "pruning.layers_to_ignore": ("", "comma-separated layer names never pruned (also"
                                 " custom layers tfmot cannot prune, left dense)"),
    "pruning.granularity": (str, "weight (unset: unstructured) | unit (whole Dense units / Conv "
                            "filters, by L1 norm; plain chain models) | n:m such as 2:4"),
    "pruning.policy": (str, "which prunable layers are pruned: unset (all) | xnnpack (only 1x1 Conv2D; "
                        "the model must fit XNNPACK's sparse inference, e.g. mobilenet_16)"),
    "runtime.strategy": ("default", "tf.distribute strategy: default | one_device | mirrored | "
                         "multi_worker (TF_CONFIG) | tpu"),
    "runtime.cpu_devices": (int, "split the CPU into N logical devices (mirrored without GPUs)"),
    "runtime.tpu": (str, "tpu: TPU name or grpc:// address (unset: this host's TPU)"),
    "runtime.jit_compile": (True, "compile the train step with XLA"),
    "runtime.eval_batch_size": (1000, "batch size of evaluation passes"),
    "runtime.checkpoint_every": ("1ep", "mid-level checkpoint interval"),
    "runtime.test_every": ("1000it", "test-set interval; also at the end and for the step of the "
                           "lowest validation loss (early stop; evaluated on weights kept aside at "
                           "the next checkpoint). 0it: at every evaluation"),
}


# Placeholder fields whose default, written out, means the same as unset.
_SPELLED_DEFAULTS = {"pruning.granularity": "weight", "training.lr_schedule": "step",
                     "training.precision": "float32", "dataset.augmentation": "crop_flip",
                     "training.label_smoothing": 0.0, "training.lr_final": 0.0}
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
LR_SCHEDULES = ("step", "cosine")
AUGMENTATIONS = ("crop_flip", "resized_crop")


def base_config() -> ml_collections.ConfigDict:
    """Every field with its default (see FIELDS). Durations are written `500it` or `2ep`."""
    config = ml_collections.ConfigDict()
    for key, (default, _) in FIELDS.items():
        section, _, field = key.rpartition(".")
        if section and section not in config:
            config[section] = ml_collections.ConfigDict()
        if isinstance(default, type):
            default = config_dict.placeholder(default)  # a fresh one: configs must not share it
        (config[section] if section else config)[field] = default
    return config


def describe_fields() -> str:
    """One line per config field: name, default and meaning (for --help)."""
    lines = []
    for key, (default, text) in FIELDS.items():
        shown = f"unset {default.__name__}" if isinstance(default, type) else repr(default)
        lines.append(f"  --config.{key} (default {shown}): {text}")
    return "\n".join(lines)


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
    # Spelled out, a default names the same experiment as leaving it unset.
    for key, default in _SPELLED_DEFAULTS.items():
        if flat.get(key) == default:
            flat[key] = None
    return {key: value for key, value in sorted(flat.items())
            if value is not None and key.split(".")[0] not in UNHASHED and key not in UNHASHED}


def config_hash(config: ml_collections.ConfigDict) -> str:
    """A short stable hash of the hashed fields (10 hex digits)."""
    canonical = json.dumps(hashed_fields(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:10]


def experiment_name(config: ml_collections.ConfigDict) -> str:
    """`<name>_<hash>`, the experiment's folder under the results root.

    The default name is `<model>_<dataset>` with every character other than
    letters, digits, `.`, `_` and `-` replaced by `.` (an import path's colon, a
    file path's slashes), so it is one portable folder name; zoo names have none.
    """
    prefix = config.name or re.sub(r"[^A-Za-z0-9._-]+", ".",
                                   f"{config.model.name}_{config.dataset.name}").strip(".")
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
    for key, value in _flatten(config.to_dict()).items():
        # NaN slips through every `<=` comparison below, and inf is no setting either.
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{key} must be a finite number, got {value}.")
    pruning, training = config.pruning, config.training
    if pruning.strategy not in ("layerwise", "global"):
        raise ConfigError(f"pruning.strategy must be 'layerwise' or 'global', got {pruning.strategy!r}.")
    granularity_lib.parse(pruning.get("granularity"))
    policies.check_policy(pruning.get("policy"))
    for field in ("rate", "conv_rate", "dense_rate", "output_rate", "embedding_rate"):
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
    _check_choice("training.lr_schedule", training.get("lr_schedule"), LR_SCHEDULES)
    _check_choice("training.precision", training.get("precision"), PRECISIONS)
    _check_choice("dataset.augmentation", config.dataset.get("augmentation"), AUGMENTATIONS)
    if training.get("lr_schedule") == "cosine" and training.lr_boundaries:
        raise ConfigError("training.lr_boundaries only apply to the step schedule; unset them or "
                          "set --config.training.lr_schedule=step.")
    if (training.get("lr_final") or 0.0) < 0:
        raise ConfigError(f"training.lr_final must be >= 0, got {training.lr_final}.")
    smoothing = training.get("label_smoothing")
    if smoothing is not None and not 0.0 <= smoothing < 1.0:
        raise ConfigError(f"training.label_smoothing must be in [0, 1), got {smoothing}.")
    size = config.dataset.get("image_size")
    if size is not None and (size <= 0 or not str(config.dataset.name).startswith(
            ("folder:", "tfds:", "shards:"))):
        raise ConfigError(f"dataset.image_size resizes the images of folder: and tfds: sources (and "
                          f"names the size of a shards: folder's) to a positive size; got {size} for "
                          f"{config.dataset.name!r}. Unset it or fix it.")


def _check_choice(key: str, value, choices: tuple[str, ...]) -> None:
    if value is not None and value not in choices:
        raise ConfigError(f"{key} must be one of {', '.join(choices)}, got {value!r}.")
