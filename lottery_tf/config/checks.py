"""Checks of config values that need no data or model to judge."""
import math

import ml_collections

from lottery_tf.config.fields import AUGMENTATIONS, LR_SCHEDULES, PRECISIONS, RETRAIN_MODES
from lottery_tf.config.hashing import flatten
from lottery_tf.data import normalization, validation
from lottery_tf.data.sources import image_size_applies
from lottery_tf.errors import ConfigError
from lottery_tf.pruning import granularity as granularity_lib
from lottery_tf.pruning import policies
from lottery_tf.pruning.masks import STRATEGIES


def check_ranges(config: ml_collections.ConfigDict) -> None:
    """Checks values that need no data or model to judge.

    Raises:
      ConfigError: the first value out of range, naming the field and the fix.
    """
    for key, value in flatten(config.to_dict()).items():
        # NaN slips through every `<=` comparison below, and inf is no setting either.
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{key} must be a finite number, got {value}.")
    pruning, training = config.pruning, config.training
    if pruning.strategy not in STRATEGIES:
        raise ConfigError(f"pruning.strategy must be {' or '.join(map(repr, STRATEGIES))}, "
                          f"got {pruning.strategy!r}.")
    granularity_lib.parse(pruning.get("granularity"))
    policies.check_policy(pruning.get("policy"))
    for field in ("rate", "conv_rate", "dense_rate", "output_rate", "embedding_rate"):
        value = pruning[field]
        if value is not None and not 0.0 <= value < 1.0:
            raise ConfigError(f"pruning.{field} must be in [0, 1), got {value}.")
    _check_choice("retrain", config.get("retrain"), RETRAIN_MODES)
    if config.get("finetune_steps") is not None and config.get("retrain") != "finetune":
        raise ConfigError("finetune_steps applies to retrain=finetune only; unset it or set "
                          "--config.retrain=finetune.")
    if (config.get("retrain") == "finetune" and training.get("lr_schedule") == "cosine"
            and not training.get("lr_final")):
        raise ConfigError("retrain=finetune trains at the schedule's final rate, which is 0 for "
                          "the cosine schedule with lr_final unset; set --config.training.lr_final.")
    _check_early_bird(config.get("early_bird") or {})
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
    _check_choice("dataset.validation_split", config.dataset.get("validation_split"), validation.MODES)
    _check_choice("dataset.normalization", config.dataset.get("normalization"), normalization.NAMES)
    size = config.dataset.get("image_size")
    if size is not None and (size <= 0 or not image_size_applies(config.dataset.name)):
        raise ConfigError(f"dataset.image_size resizes the images of folder: and tfds: sources (and "
                          f"names the size of a shards: folder's) to a positive size; got {size} for "
                          f"{config.dataset.name!r}. Unset it or fix it.")


def _check_early_bird(early_bird) -> None:
    threshold = early_bird.get("threshold")
    if threshold is None:
        if early_bird.get("check_every") is not None or early_bird.get("window") is not None:
            raise ConfigError("early_bird.check_every and early_bird.window apply with "
                              "early_bird.threshold only; set it (e.g. 0.1) or unset them.")
        return
    if not 0.0 < threshold <= 1.0:
        raise ConfigError(f"early_bird.threshold must be in (0, 1], got {threshold}.")
    window = early_bird.get("window")
    if window is not None and window < 1:
        raise ConfigError(f"early_bird.window must be >= 1, got {window}.")


def _check_choice(key: str, value, choices: tuple[str, ...]) -> None:
    if value is not None and value not in choices:
        raise ConfigError(f"{key} must be one of {', '.join(choices)}, got {value!r}.")

