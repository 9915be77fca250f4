"""The finished runs of one replicate: trunk levels and branch runs, as stored.

A run counts once its metrics.json exists (written last). Nothing here needs a
`Setup` or the dataset, only the experiment's folder layout.
"""
import os

from lottery_tf.storage import files as storage_files
from lottery_tf.storage import store
from lottery_tf.storage.catalog import finished_levels, level_folders
from lottery_tf.storage.paths import ExperimentPaths


def _within(levels: list[int], max_level: int | None) -> list[int]:
    return [level for level in levels if max_level is None or level <= max_level]


def trunk_runs(paths: ExperimentPaths, replicate: int, max_level: int | None = None) -> dict[int, dict]:
    """Level -> metrics of the replicate's finished trunk levels, lowest level first.

    Args:
      paths: the experiment's folder layout.
      replicate: the replicate number.
      max_level: the deepest level to read (None: every stored level).

    Raises:
      CorruptFileError: a metrics.json fails its checksum.
    """
    return {level: store.read_json(paths.metrics(replicate, level))
            for level in _within(finished_levels(paths, replicate), max_level)}


def branch_runs(paths: ExperimentPaths, replicate: int,
                max_level: int | None = None) -> dict[str, list[dict]]:
    """Branch folder name -> metrics of its finished runs, one per level, lowest level first.

    Folders appear in the order of the first level that has them, then by name.
    Each branch folder (`branch_<name>_<hash>`) is one set of arguments; the hash
    covers the seed, so the same branch has another folder in each replicate.

    Args:
      paths: the experiment's folder layout.
      replicate: the replicate number.
      max_level: the deepest trunk level to look under (None: every stored level).

    Raises:
      CorruptFileError: a metrics.json fails its checksum.
    """
    found: dict[str, list[dict]] = {}
    for level in _within(level_folders(paths, replicate), max_level):
        level_dir = paths.level(replicate, level)
        for folder in storage_files.listdir(level_dir):
            metrics_path = os.path.join(level_dir, folder, "metrics.json")
            if folder.startswith("branch_") and storage_files.exists(metrics_path):
                found.setdefault(folder, []).append(store.read_json(metrics_path))
    return found
