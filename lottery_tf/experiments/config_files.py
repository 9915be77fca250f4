"""Loading `configs/*.py` files outside the command line's --config flag."""
import importlib.util
import os
import sys

import ml_collections

from lottery_tf.errors import ConfigError


def load_config_file(path: str, overrides: dict | None = None) -> ml_collections.ConfigDict:
    """Runs a config file's `get_config()`, then applies `section.field -> value` overrides.

    The file's folder's parent is put on sys.path so configs can import siblings
    (`from configs.lenet_mnist import get_config`).

    Raises:
      ConfigError: the file is missing, has no get_config(), or an override names no field.
    """
    if not os.path.isfile(path):
        raise ConfigError(f"Config file {path} does not exist.")
    parent = os.path.dirname(os.path.dirname(os.path.abspath(path)))
    if parent not in sys.path:
        sys.path.insert(0, parent)
    spec = importlib.util.spec_from_file_location(f"_lottery_config_{abs(hash(path))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, "get_config"):
        raise ConfigError(f"{path} has no get_config() function.")
    config = module.get_config()
    for key, value in (overrides or {}).items():
        section, _, field = key.rpartition(".")
        target = config[section] if section else config
        if field not in target:
            raise ConfigError(f"Unknown config field {key!r} in the overrides.")
        target[field] = value
    return config
