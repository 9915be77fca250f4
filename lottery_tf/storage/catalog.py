"""Stored experiments under a results root, found by folder name or config hash.

Only files are read, so this works while an experiment is still running.
"""
import dataclasses
import os
import re

import ml_collections

from lottery_tf.errors import ConfigError, StoreError
from lottery_tf.storage import files as storage_files
from lottery_tf.storage import store
from lottery_tf.storage.paths import ExperimentPaths

_REPLICATE = re.compile(r"replicate_(\d+)")
_LEVEL = re.compile(r"level_(\d+)")
# A hash prefix shorter than this would match too easily by accident.
MIN_HASH_PREFIX = 4


@dataclasses.dataclass(frozen=True)
class StoredExperiment:
    """One experiment folder: `<root>/<name>_<hash>/` with its config.json.

    Attributes:
      name: the folder name, `<name>_<hash>`.
      hash: the config hash stored in config.json.
      paths: the folder's file layout.
      config: the full stored config as a plain dict.
    """

    name: str
    hash: str
    paths: ExperimentPaths
    config: dict
    # The shapes and normalization statistics the data gave (None before they were recorded).
    data_spec: dict | None = None

    def spec(self):
        """The recorded dataset spec, or (for older experiments) the one measured from the data."""
        from lottery_tf.data.sources import spec_of

        return spec_of(self.config_dict().dataset, self.data_spec)

    def config_dict(self) -> ml_collections.ConfigDict:
        """The stored config as a ConfigDict (what `build_model` and friends read)."""
        return ml_collections.ConfigDict(self.config)


def list_experiments(root: str) -> list[StoredExperiment]:
    """Every folder under `root` holding a config.json, sorted by name.

    Raises:
      ConfigError: `root` does not exist or holds no experiment.
      StoreError: a config.json is corrupt.
    """
    if not storage_files.isdir(root):
        raise ConfigError(f"--root={root} does not exist; pass the folder the lottery command wrote to.")
    found = []
    for name in storage_files.listdir(root):
        paths = ExperimentPaths(root, name)
        if storage_files.isfile(paths.config):
            stored = store.read_json(paths.config)
            if "config" not in stored:
                raise StoreError(f"{paths.config} has no 'config' entry; it was not written by lottery_tf.")
            found.append(StoredExperiment(name, stored.get("hash", ""), paths, stored["config"],
                                          stored.get("data_spec")))
    if not found:
        raise ConfigError(f"No experiments under {root} (no <name>_<hash>/config.json); run the lottery "
                          "command first or pass the right --root.")
    return found


def _match(experiments: list[StoredExperiment], wanted: str) -> StoredExperiment:
    """The experiment named `wanted` exactly, or the one whose hash starts with it."""
    for experiment in experiments:
        if experiment.name == wanted:
            return experiment
    matches = [e for e in experiments
               if len(wanted) >= MIN_HASH_PREFIX and e.hash and e.hash.startswith(wanted)]
    if len(matches) == 1:
        return matches[0]
    available = ", ".join(e.name for e in experiments)
    if matches:
        raise ConfigError(f"--experiment={wanted!r} matches several experiments "
                          f"({', '.join(e.name for e in matches)}); give more of the hash.")
    raise ConfigError(f"No experiment {wanted!r} under {experiments[0].paths.root}; available: {available}.")


def find_experiments(root: str, selector: str | None) -> list[StoredExperiment]:
    """The experiments a command names.

    Args:
      root: the results root.
      selector: None for every experiment, else comma-separated folder names or
        config hashes (a unique prefix of at least 4 hex digits is enough).

    Returns:
      The matching experiments, in the order named (each once).

    Raises:
      ConfigError: an empty root, or a name that matches no experiment (the
        message lists the available ones) or several.
    """
    experiments = list_experiments(root)
    if not selector:
        return experiments
    chosen = []
    for wanted in (part.strip() for part in selector.split(",")):
        if wanted:
            experiment = _match(experiments, wanted)
            if experiment not in chosen:
                chosen.append(experiment)
    if not chosen:
        raise ConfigError(f"--experiment={selector!r} names no experiment.")
    return chosen


def find_experiment(root: str, selector: str | None) -> StoredExperiment:
    """Exactly one experiment (the only one under root when `selector` is None).

    Raises:
      ConfigError: none or several match (the message lists the available ones).
    """
    experiments = find_experiments(root, selector)
    if len(experiments) != 1:
        raise ConfigError(f"Name one experiment with --experiment; available: "
                          f"{', '.join(e.name for e in experiments)}.")
    return experiments[0]


def _numbered(directory: str, pattern: re.Pattern) -> list[int]:
    if not storage_files.isdir(directory):
        return []
    numbers = [pattern.fullmatch(name) for name in storage_files.listdir(directory)]
    return sorted(int(match.group(1)) for match in numbers
                  if match and storage_files.isdir(os.path.join(directory, match.group(0))))


def stored_replicates(paths: ExperimentPaths) -> list[int]:
    """Replicate numbers with a folder (finished or not), sorted."""
    return _numbered(paths.dir, _REPLICATE)


def level_folders(paths: ExperimentPaths, replicate: int) -> list[int]:
    """Levels of a replicate with a folder (finished or still training), sorted."""
    return _numbered(paths.replicate(replicate), _LEVEL)


def finished_levels(paths: ExperimentPaths, replicate: int) -> list[int]:
    """Trunk levels of a replicate whose metrics.json exists (written last, so finished)."""
    return [level for level in level_folders(paths, replicate)
            if storage_files.isfile(paths.metrics(replicate, level))]
