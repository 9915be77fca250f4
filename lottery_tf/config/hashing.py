"""The hash that names an experiment's results folder, over the fields that change results.

Fields that do not change results (where data lives, the device strategy,
logging, how many levels to run) are not hashed, and neither are optional
fields left unset or set to the value that means the same as unset. `levels` is
hashed while short levels or early-bird are set (`HASHED_WHEN`): it then names
the level that trains fully.
"""
import hashlib
import json
import re

import ml_collections

from lottery_tf.data.sources.registry import default_validation_split

# Top-level sections and fields left out of the hash.
UNHASHED = {"name", "levels", "runtime", "dataset.data_dir", "dataset.verify_checksums"}
# Unhashed fields that are hashed while one of these fields is set: with short levels or early-bird,
# `levels` names the one level that trains fully, so extending it changes every result.
HASHED_WHEN = {"levels": ("intermediate_steps", "early_bird.threshold")}

# Placeholder fields whose default, written out, means the same as unset.
_SPELLED_DEFAULTS = {"retrain": "weight_rewind", "pruning.granularity": "weight",
                     "training.lr_schedule": "step",
                     "training.precision": "float32", "dataset.augmentation": "crop_flip",
                     "dataset.normalization": "standardize",
                     "training.label_smoothing": 0.0, "training.lr_final": 0.0,
                     "early_bird.check_every": "1ep", "early_bird.window": 5}


def flatten(value, prefix: str = "") -> dict:
    """A nested dict as one `section.field -> value` dict."""
    if isinstance(value, dict):
        items = {}
        for key, child in value.items():
            items.update(flatten(child, f"{prefix}{key}."))
        return items
    return {prefix[:-1]: value}


def hashed_fields(config: ml_collections.ConfigDict) -> dict:
    """The flat `section.field -> value` dict that defines the experiment."""
    flat = flatten(config.to_dict())
    # Spelled out, a default names the same experiment as leaving it unset.
    for key, default in _SPELLED_DEFAULTS.items():
        if flat.get(key) == default:
            flat[key] = None
    # The validation split's default depends on the source (`default_validation_split`).
    if flat.get("dataset.validation_split") == default_validation_split(flat.get("dataset.name")):
        flat["dataset.validation_split"] = None
    hashed_now = {key for key, setters in HASHED_WHEN.items()
                  if any(flat.get(setter) is not None for setter in setters)}
    return {key: value for key, value in sorted(flat.items())
            if value is not None and (key in hashed_now or (key.split(".")[0] not in UNHASHED
                                                            and key not in UNHASHED))}


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
