"""Telling stored experiments apart by what they set differently, not by their hashes."""
import json
from collections.abc import Callable, Mapping

import ml_collections

from lottery_tf.config.hashing import hashed_fields


def settings(config: Mapping) -> dict:
    """A stored config's hashed fields (dotted keys), as its experiment hash sees them."""
    return hashed_fields(ml_collections.ConfigDict(dict(config)))


def differing(fields: Mapping[str, Mapping]) -> dict[str, str]:
    """Name -> `key=value, ...` over the keys whose values differ between the names (an
    unset field as `unset`); empty strings when every name has the same fields."""
    keys = sorted({key for values in fields.values() for key in values})
    varying = [key for key in keys
               if len({json.dumps(values.get(key), sort_keys=True) for values in fields.values()}) > 1]
    return {name: ", ".join(f"{key}={'unset' if values.get(key) is None else values[key]}"
                            for key in varying)
            for name, values in fields.items()}


def _dotted(config: Mapping, key: str):
    """The value at a dotted key of a stored config (None where it is absent)."""
    value = config
    for part in key.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def differing_settings(configs: Mapping[str, Mapping],
                       keep: Callable[[str], bool] = lambda key: True) -> dict[str, str]:
    """Experiment name -> `key=value, ...` over the settings (those `keep` accepts) whose
    values differ between the experiments; empty strings when none differ.

    The fields compared are those any of the experiments hashes; each experiment's value
    is read from its whole config, so a default left out of one hash (e.g.
    `dataset.normalization=standardize`) is shown by its value, not as unset.
    """
    keys = sorted({key for config in configs.values() for key in settings(config) if keep(key)})
    return differing({name: {key: _dotted(config, key) for key in keys} for name, config in configs.items()})


def experiment_labels(configs: Mapping[str, Mapping],
                      keep: Callable[[str], bool] = lambda key: True) -> dict[str, str]:
    """Experiment name -> a label for tables and legends: its differing settings
    (`differing_settings`), or its name when they do not tell it apart."""
    found = differing_settings(configs, keep)
    unique = len(set(found.values())) == len(found) and all(found.values())
    return {name: found[name] if unique else name for name in configs}
