"""The sweep file: which experiment, which replicates, which branches at which levels.

A sweep file is a Python file (like `configs/*.py`) with a `get_sweep()` that
returns a dict (keyword arguments, if it takes any, come from `--sweep_args`):

    {"config": "configs/lenet_mnist.py",          # the experiment config file
     "overrides": {"levels": 8},                   # config fields, as --config.X=... would set them
     "replicates": "0-4",                          # or a list of ints
     "branches": [{"name": "reinit", "levels": "1-8"},
                  {"name": "prune_at_init", "levels": "7", "args": {"method": "snip"}}]}

Branch `args` are the branch's arguments as its record in
`experiments/branches/registry.py` names them (the command line's flags without
their branch prefix: `method`, `scope`, `examples`, `points`, `start`, `config`);
an argument the branch does not take is an error.
"""
import dataclasses
import hashlib
import importlib.util
import inspect
import json
import os

import ml_collections

from lottery_tf.config.files import load_config_file
from lottery_tf.config.ranges import expand_ranges
from lottery_tf.errors import ConfigError
from lottery_tf.experiments.branches import registry as branch_registry

_KEYS = {"config", "overrides", "replicates", "branches"}
_BRANCH_KEYS = {"name", "levels", "args"}


@dataclasses.dataclass(frozen=True)
class BranchSpec:
    """One branch of the sweep: run `name` with `args` off each of `levels`."""

    name: str
    levels: tuple[int, ...]
    args: dict


@dataclasses.dataclass
class Sweep:
    """A loaded sweep file."""

    path: str
    config: ml_collections.ConfigDict
    replicates: tuple[int, ...]
    branches: tuple[BranchSpec, ...]
    digest: str  # names this sweep's plan file; the same file always gets the same digest


def _load_module(path: str):
    spec = importlib.util.spec_from_file_location(f"_lottery_sweep_{abs(hash(path))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _resolve(config_path: str, sweep_path: str) -> str:
    """A relative config path: from the current folder, else from the sweep file's project."""
    if os.path.isabs(config_path) or os.path.exists(config_path):
        return config_path
    project = os.path.dirname(os.path.dirname(os.path.abspath(sweep_path)))
    return os.path.join(project, config_path)


def parse_numbers(text, what: str) -> tuple[int, ...]:
    """'0-3,7' (or a list, or an int) -> (0, 1, 2, 3, 7).

    Raises:
      ConfigError: not numbers or ranges, or a negative number.
    """
    if isinstance(text, int):
        text = str(text)
    if isinstance(text, (list, tuple)):
        text = ",".join(str(item) for item in text)
    try:
        numbers = expand_ranges(str(text))
    except ValueError:
        raise ConfigError(f"{what}={text!r} is not a list of numbers or ranges like '1-5'.") from None
    if not numbers or min(numbers) < 0:
        raise ConfigError(f"{what}={text!r} must name numbers >= 0.")
    return tuple(numbers)


def load_sweep(path: str, arguments: dict[str, str] | None = None) -> Sweep:
    """Reads and checks a sweep file.

    Args:
      path: the sweep file.
      arguments: keyword arguments for its get_sweep() (the command line's
        --sweep_args), so one file can describe several variants, e.g. one
        experiment per dataset.normalization; each variant is its own sweep.

    Raises:
      ConfigError: the file is missing, has no get_sweep(), does not take the
        arguments, names unknown keys, branches or branch arguments, or a branch
        level past the config's last level.
    """
    if not os.path.isfile(path):
        raise ConfigError(f"Sweep file {path} does not exist.")
    module = _load_module(path)
    if not hasattr(module, "get_sweep"):
        raise ConfigError(f"{path} has no get_sweep() function returning the sweep as a dict.")
    try:
        inspect.signature(module.get_sweep).bind(**(arguments or {}))
    except TypeError as error:
        raise ConfigError(f"{path}: get_sweep{inspect.signature(module.get_sweep)} cannot take "
                          f"--sweep_args {arguments}: {error}.") from None
    raw = module.get_sweep(**(arguments or {}))
    unknown = set(raw) - _KEYS
    if unknown or "config" not in raw:
        raise ConfigError(f"{path}: get_sweep() must return a dict with 'config' and optionally "
                          f"{sorted(_KEYS - {'config'})}; got keys {sorted(raw)}.")
    config = load_config_file(_resolve(raw["config"], path), dict(raw.get("overrides") or {}))
    branches = []
    for entry in raw.get("branches") or []:
        if set(entry) - _BRANCH_KEYS or "name" not in entry or "levels" not in entry:
            raise ConfigError(f"{path}: each branch needs 'name' and 'levels' (and optional 'args'), "
                              f"got {entry}.")
        if entry["name"] not in branch_registry.BRANCHES:
            raise ConfigError(f"{path}: unknown branch {entry['name']!r}; choose one of "
                              f"{sorted(branch_registry.BRANCHES)}.")
        try:
            branch_registry.get(entry["name"]).with_defaults(entry.get("args"))
        except ConfigError as error:
            raise ConfigError(f"{path}: {error}") from None
        levels = parse_numbers(entry["levels"], f"{entry['name']} levels")
        if max(levels) > config.levels:
            raise ConfigError(f"{path}: {entry['name']} levels {entry['levels']!r} go past the "
                              f"config's last level {config.levels}; raise 'levels' in the overrides.")
        branches.append(BranchSpec(entry["name"], levels, dict(entry.get("args") or {})))
    replicates = parse_numbers(raw.get("replicates", "0"), "replicates")
    canonical = json.dumps({"config": config.to_dict(), "replicates": replicates,
                            "branches": [dataclasses.asdict(b) for b in branches]},
                           sort_keys=True, default=str)
    return Sweep(os.path.abspath(path), config, replicates, tuple(branches),
                 hashlib.sha256(canonical.encode()).hexdigest()[:10])
