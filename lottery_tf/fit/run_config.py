"""config.json's `config` for a `fit`-based experiment: what ran, never an unused default.

The folder's name and config.json's `hash`/`hashed` stay as before: the command
line's hash over the settings the caller passed, applied on its defaults, so an
experiment saved again with the same explicit settings lands in the same folder.
The `config` entry, which `report` prints and `export` and TensorBoard read,
records instead, for each training, pruning and runtime setting and the rewind
step: the caller's value where stated (refused when the run contradicts it),
else the value read from the run (`settings_used`), else unset (None). Levels
fill in what earlier ones could not know (level 0 has no pruning); a setting
two levels ran differently (a per-level rate) is unset and listed under
`varying_settings`, each level's metrics.json keeping its own `settings_used`.
"""
import copy
from collections.abc import Mapping

import ml_collections

from lottery_tf.config import hashing
from lottery_tf.errors import ConfigError
from lottery_tf.fit.settings_used import same_value
from lottery_tf.storage import store
from lottery_tf.storage.paths import ExperimentPaths

RUN_SECTIONS = ("pruning", "training", "runtime")
RUN_FIELDS = ("rewind", "levels")
RECORDED_MARK = "config_records"  # config.json key: present once `config` records what ran
RECORDED_WHAT = "the settings the fit-based run used; unknown ones unset"
VARYING = "varying_settings"
_RATES = ("pruning.conv_rate", "pruning.dense_rate", "pruning.output_rate")


def run_keys(config: Mapping) -> list[str]:
    """The dotted keys of a nested config dict that config.json records from the run, not defaults."""
    flat = hashing.flatten(dict(config))
    return sorted(key for key in flat if key.split(".")[0] in RUN_SECTIONS or key in RUN_FIELDS)


def _effective(key: str, values: Mapping[str, object]) -> object:
    """A per-kind rate left None means `pruning.rate`."""
    value = values.get(key)
    return values.get("pruning.rate") if value is None and key in _RATES else value


def _check_stated(stated: Mapping[str, object], used: Mapping[str, object]) -> None:
    """Raises ConfigError when a setting passed in `config` contradicts what the run used."""
    wrong = []
    for key in sorted(set(stated) & set(used)):
        said, ran = _effective(key, stated), _effective(key, used)
        if isinstance(said, str) and said.endswith("ep"):  # epochs need the data's size: not compared
            continue
        if said is not None and ran is not None and not same_value(said, ran):
            wrong.append(f"{key}: config says {said!r}, the run used {ran!r}")
    if wrong:
        raise ConfigError("save_level's config contradicts the run, so its results would be stored "
                          "under settings they did not use:\n  " + "\n  ".join(wrong)
                          + "\nPass the values the run used, or leave these keys out (save_level "
                          "records them from the model). Nothing was written.")


def _set(tree: dict, key: str, value: object) -> None:
    section, _, field = key.rpartition(".")
    (tree[section] if section else tree)[field] = value


def _get(tree: Mapping, key: str) -> object:
    section, _, field = key.rpartition(".")
    return ((tree.get(section) or {}) if section else tree).get(field)


def run_config(config: ml_collections.ConfigDict, stated: Mapping[str, object],
               used: Mapping[str, object]) -> dict:
    """The config dict to record: `config` with each run setting stated, used, or unset.

    Args:
      config: the experiment's config (the caller's settings on the defaults).
      stated: the settings the caller passed, by dotted key.
      used: what the run used (`settings_used.used_settings`).

    Returns:
      A JSON-ready nested dict.

    Raises:
      ConfigError: a stated setting contradicts what the run used.
    """
    _check_stated(stated, used)
    recorded = copy.deepcopy(config.to_dict())
    for key in run_keys(recorded):
        if key not in stated:
            _set(recorded, key, used.get(key))
    return recorded


def record_run_config(paths: ExperimentPaths, recorded: dict) -> None:
    """Merges this level's `recorded` config into config.json's `config` entry.

    A config.json written before `config` recorded what ran (no `config_records`
    key) has its `config` replaced: its run settings were the defaults.

    Args:
      paths: the experiment's folder layout (config.json claimed already).
      recorded: `run_config`'s result for this level.
    """
    stored = store.read_json(paths.config)
    if RECORDED_MARK not in stored:
        merged, varying = recorded, set()
    else:
        merged, varying = copy.deepcopy(recorded), set(stored.get(VARYING, ()))
        for key in run_keys(recorded):
            before, now = _get(stored["config"], key), _get(recorded, key)
            if key in varying or (before is not None and now is not None and not same_value(before, now)):
                varying.add(key)
                _set(merged, key, None)
            elif now is None:
                _set(merged, key, before)
    updated = {**stored, "config": merged, RECORDED_MARK: RECORDED_WHAT, VARYING: sorted(varying)}
    if updated != stored:
        store.write_json(paths.config, updated)
