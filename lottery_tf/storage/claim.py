"""One experiment folder, one config: the first writer records it, later ones must match it.

Every writer of an experiment folder (the command line's `prepare`, `fit`'s
`save_level`) claims it first, so one folder never mixes two configs.
"""
import dataclasses

import ml_collections

from lottery_tf.config import hashing
from lottery_tf.errors import ConfigError, CorruptFileError
from lottery_tf.storage import files as storage_files
from lottery_tf.storage import store
from lottery_tf.storage.paths import ExperimentPaths


def claim_experiment(paths: ExperimentPaths, config: ml_collections.ConfigDict, data_fingerprint: str,
                     spec=None, validation: dict | None = None) -> None:
    """Writes config.json, or checks that the stored one agrees with `config` and the data.

    Args:
      paths: the experiment's folder layout.
      config: the experiment's config (its hashed fields are compared).
      data_fingerprint: identifies the data (`Splits.fingerprint()`).
      spec: the dataset's `DatasetSpec` (shapes and normalization), recorded on first write.
      validation: how the validation examples were chosen (`Splits.validation`), recorded
        on first write and named when the data no longer matches.

    Raises:
      ConfigError: the stored experiment has other hashed settings, was trained
        on other data, or its config.json is damaged. Nothing is written then.
    """
    if not storage_files.exists(paths.config):
        store.write_json(paths.config, {"hash": hashing.config_hash(config), "data": data_fingerprint,
                                        "hashed": hashing.hashed_fields(config),
                                        "config": config.to_dict(),
                                        # shapes and normalization statistics the data gave
                                        "data_spec": None if spec is None else dataclasses.asdict(spec),
                                        "validation": validation})
        return
    try:
        stored = store.read_json(paths.config)
    except CorruptFileError as error:
        raise ConfigError(f"{paths.config} is damaged, so the stored results cannot be matched to a "
                          "config; restore it from a backup, or move the folder away to start afresh. "
                          "Nothing was changed.") from error
    differences = hashing.differing_fields(stored.get("hashed", {}), config)
    if stored.get("data", data_fingerprint) != data_fingerprint:
        differences.append(f"data: stored fingerprint {stored['data']}, given {data_fingerprint} "
                           f"(loaded from {config.dataset.data_dir or 'the default sources'})")
        if (stored.get("validation") or {}).get("mode") != (validation or {}).get("mode"):
            differences.append(_split_change(stored.get("validation"), validation))
    if differences:
        raise ConfigError(f"{paths.dir} holds an experiment with a different config:\n  "
                          + "\n  ".join(differences)
                          + "\nRestore the stored settings and data, or use another --root. "
                          "Nothing was changed.")


def _split_change(stored: dict | None, given: dict | None) -> str:
    """Why the data differs when the validation split's mode changed (e.g. an experiment stored
    before validation was sampled at random), and what to do."""
    before = (stored or {}).get("mode") or "last (stored before validation splits were recorded)"
    now = (given or {}).get("mode")
    return (f"validation split: stored {before}, given {now}. Validation and training now hold "
            "other examples, so the stored levels cannot be continued: run the new split under "
            "another --root, or set --config.dataset.validation_split=last to rebuild the stored "
            "split in a new experiment folder")
