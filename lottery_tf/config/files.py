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
      ConfigError: the file is missing, does not parse, fails to run, has no
        get_config(), or an override names no field.
    """
    if not os.path.isfile(path):
        raise config_file_problem(path)
    parent = os.path.dirname(os.path.dirname(os.path.abspath(path)))
    if parent not in sys.path:
        sys.path.insert(0, parent)
    spec = importlib.util.spec_from_file_location(f"_lottery_config_{abs(hash(path))}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        if not hasattr(module, "get_config"):
            raise ConfigError(f"Config file {path} has no get_config() function.")
        config = module.get_config()
    except ConfigError:
        raise
    except Exception as error:  # whatever the user's file raises, reported as one line
        raise config_file_problem(path, error) from error
    for key, value in (overrides or {}).items():
        section, _, field = key.rpartition(".")
        target = config[section] if section else config
        if field not in target:
            raise ConfigError(f"Unknown config field {key!r} in the overrides.")
        target[field] = value
    return config


def config_file_problem(path: str, error: BaseException | None = None) -> ConfigError:
    """One message naming a config file that cannot be loaded and why.

    Args:
      path: the file as the user named it.
      error: what loading it raised (None: not known, e.g. the file is missing).

    Returns:
      The ConfigError to raise.
    """
    if not os.path.isfile(path):
        return ConfigError(f"Config file {path} does not exist; check the path (configs/ holds "
                           "the published settings).")
    if isinstance(error, SyntaxError):
        return ConfigError(f"Config file {path} does not parse: {error.msg} at line {error.lineno}.")
    # Loaders wrap the file's own error in their trace; its last line is the reason.
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    reason = lines[-1] if len(lines) > 1 else f"{type(error).__name__}: {' '.join(lines)}"
    return ConfigError(f"Config file {path} failed to load: {reason}")
