"""Stores a `fit`-based level in the command line's layout, for `report` and `export`.

    <root>/<name>_<hash>/config.json
      replicate_<r>/rewind_weights.npz, summary.csv
        level_<L>/mask.npz, weights_start.npz, weights_end.npz, weights_early_stop.npz, metrics.json
          branch_<control>_<hash>/  (the same files, for a control such as reinit)
      tensorboard/rep<r>/level_<LL>/..., rep<r>/summary/...  (HParams sessions, by-level figures)

The folder's hash is the command line's config hash, over the settings the
caller describes in `config` (dotted keys of `lottery_tf.config.fields`) on the
command line's defaults. config.json's `config` entry records instead what ran
(`run_config.py`): stated settings, else those read from the model, the recorder
and the rewind callback (`settings_used.py`), else unset; one folder holds one
architecture (`same_model.py`).
`export` rebuilds a zoo model from `model.name`; any other model's architecture
is stored as `model.json` for it. Either way `dataset.name` must name the
data's registered dataset (input shape and normalization) for `export`;
`report` works for any model and data.
"""
import time
from collections.abc import Mapping

import ml_collections
import tf_keras as keras

from lottery_tf.config import checks, fields, hashing
from lottery_tf.errors import ConfigError
from lottery_tf.fit.callbacks import LevelRecorder
from lottery_tf.fit.rewinding import RewindCallback
from lottery_tf.fit.run_config import record_run_config, run_config
from lottery_tf.fit.same_model import check_same_model
from lottery_tf.fit.settings_used import used_settings
from lottery_tf.fit.wrapping import require_wrapped
from lottery_tf.models import registry
from lottery_tf.pruning import masks as mask_lib
from lottery_tf.pruning import tfmot_adapter
from lottery_tf.storage import files as storage_files
from lottery_tf.storage import store
from lottery_tf.storage.catalog import finished_levels
from lottery_tf.storage.claim import claim_experiment
from lottery_tf.storage.paths import ExperimentPaths, branch_folder
from lottery_tf.storage.summaries import log_level_to_tensorboard, write_replicate_summary


def experiment_config(settings: Mapping[str, object] | None = None) -> ml_collections.ConfigDict:
    """The command line's config with `settings` (dotted keys, e.g. "pruning.rate") applied.

    The name defaults to `fit_<model>_<dataset>`, so a fit-based experiment never
    shares a folder with a command-line one of the same settings.

    Raises:
      ConfigError: an unknown key or a value of the wrong type or range.
    """
    config = fields.base_config()
    for key, value in (settings or {}).items():
        if key not in fields.FIELDS:
            raise ConfigError(f"Unknown config key {key!r}; known keys: {', '.join(fields.FIELDS)}.")
        section, _, field = key.rpartition(".")
        try:
            (config[section] if section else config)[field] = value
        except TypeError as error:
            raise ConfigError(f"Config key {key!r}: {error}") from None
    if not config.name:
        config.name = f"fit_{config.model.name}_{config.dataset.name}"
    checks.check_ranges(config)
    return config


def save_level(root: str, level: int, model: keras.Model, recorder: LevelRecorder,
               config: Mapping[str, object] | None = None, replicate: int = 0,
               control: str | None = None, seed: int = 0, rewind: RewindCallback | None = None,
               data_fingerprint: str = "unrecorded (model.fit)") -> dict:
    """Writes one trained level (or a control run beside it) as the command line does.

    Args:
      root: the results root (`report --root` and `export --root`).
      level: the IMP level (0 = dense).
      model: the wrapped model after this level's `fit`.
      recorder: the `LevelRecorder` passed to this level's `fit`.
      config: the experiment's settings by dotted key (see `experiment_config`);
        `model.name` defaults to the Keras model's name. They name the folder;
        config.json records them, and for every training and pruning setting
        left out, what the run used (the last `prune`'s strategy and rates, the
        optimizer and its constant learning rate, the last step, the rewind
        step) or unset where that cannot be read (e.g. the batch size).
      replicate: the replicate number.
      control: None for the IMP trunk, else a control's name (e.g. "reinit"),
        stored as a branch that `report` sets beside the tickets.
      seed: the run's seed (a control's folder is named by it).
      rewind: the `RewindCallback`, to store the rewind weights once.
      data_fingerprint: identifies the data (e.g. `Splits.fingerprint()`).

    Returns:
      The level's metrics, as written to `metrics.json` (with `settings_used`).

    Raises:
      ConfigError: the model is not wrapped, nothing was recorded, the settings
        are unknown, contradict what the run used or the experiment already
        stored under `root`, or that experiment holds another architecture.
        Nothing is written then.
    """
    require_wrapped(model, "save a level of")
    summary = recorder.summary()
    stated = {"model.name": model.name, **(config or {})}
    config = experiment_config(stated)
    used = used_settings(model, recorder, rewind)
    recorded = run_config(config, stated, used)
    paths = ExperimentPaths(root, hashing.experiment_name(config))
    tfmot_adapter.apply_masks(model)
    check_same_model(paths, model)
    claim_experiment(paths, config, data_fingerprint)
    record_run_config(paths, recorded)
    if not registry.is_known(config.model.name) and not storage_files.exists(paths.architecture):
        store.atomic_write_bytes(paths.architecture, tfmot_adapter.strip(model).to_json().encode())
    masks = tfmot_adapter.get_masks(model)
    extra = {}
    if control is None:
        files = paths.level_files(replicate, level)
    else:
        folder = branch_folder(control, {"seed": seed})
        files = paths.branch_files(replicate, level, folder)
        extra = {"branch": control, "branch_folder": folder, "branch_args": {"seed": seed}}
    if rewind is not None and rewind.recorded and not storage_files.exists(paths.rewind_weights(replicate)):
        store.save_arrays(paths.rewind_weights(replicate), rewind.weights)
    store.save_arrays(files.mask, masks)
    store.save_arrays(files.weights_start, recorder.weights_start)
    store.save_arrays(files.weights_end, tfmot_adapter.get_weights(model))
    if recorder.early_stop_weights is not None:
        store.save_arrays(files.weights_early_stop, recorder.early_stop_weights)
    metrics = {"seed": seed, "start_step": recorder.first_step, "level": level, "replicate": replicate,
               "percent_remaining": mask_lib.percent_remaining(masks),
               "percent_remaining_by_layer": mask_lib.percent_remaining_by_layer(masks),
               "wall_seconds": recorder.wall_seconds, "finished_at": round(time.time(), 3), **extra,
               **summary, "settings_used": used, "curve": recorder.curve}
    store.write_json(files.metrics, metrics)  # last: marks the level finished
    _write_summaries(paths, replicate, metrics, control)
    return metrics


def _write_summaries(paths: ExperimentPaths, replicate: int, metrics: dict, control: str | None) -> None:
    """summary.csv over the finished levels, and the level's scalars in the summary run."""
    if control is None:
        results = [store.read_json(paths.metrics(replicate, level))
                   for level in finished_levels(paths, replicate)]
    else:
        folder = metrics["branch_folder"]
        results = [store.read_json(paths.branch_files(replicate, level, folder).metrics)
                   for level in finished_levels(paths, replicate)
                   if storage_files.exists(paths.branch_files(replicate, level, folder).metrics)]
    folder = metrics.get("branch_folder", "")
    write_replicate_summary(paths, replicate, results, branch_folder=folder)
    log_level_to_tensorboard(paths, replicate, metrics, branch_folder=folder)
