"""A finished trunk level read back from the store as a model to export.

`weights` names which of the level's weights: `early_stop` (weights_early_stop.npz,
kept when the level finished: those of the minimum validation loss, whose
test accuracy the report headlines) or `final` (weights_end.npz).
"""
import os
from collections.abc import Mapping

import ml_collections
import tf_keras as keras

from lottery_tf.errors import LotteryError, StoreError
from lottery_tf.experiments.model import build_experiment_model
from lottery_tf.pruning import tfmot_adapter
from lottery_tf.storage import files as storage_files
from lottery_tf.storage import store
from lottery_tf.storage.catalog import StoredExperiment, finished_levels, stored_replicates
from lottery_tf.storage.paths import RunFiles

WEIGHTS = ("early_stop", "final")


def export_dir(experiment: StoredExperiment, replicate: int, level: int) -> str:
    """The folder a level's export is written to: `<level folder>/export`."""
    return os.path.join(experiment.paths.level(replicate, level), "export")


def level_files(experiment: StoredExperiment, replicate: int, level: int) -> RunFiles:
    """The files of a finished trunk level.

    Raises:
      StoreError: the replicate or level is not finished; the message lists what is.
    """
    paths = experiment.paths
    replicates = stored_replicates(paths)
    if replicate not in replicates:
        raise StoreError(f"{experiment.name} has no replicate {replicate}; stored replicates: "
                         f"{', '.join(map(str, replicates)) or 'none'}.")
    finished = finished_levels(paths, replicate)
    files = paths.level_files(replicate, level)
    stored = all(storage_files.isfile(path) for path in (files.weights_end, files.mask))
    if level not in finished or not stored:
        raise StoreError(f"Level {level} of {experiment.name} replicate {replicate} is not finished; "
                         f"finished levels: {', '.join(map(str, finished)) or 'none'}.")
    return files


def weights_file(files: RunFiles, weights: str) -> str:
    """The stored weights `export --weights` names.

    Raises:
      LotteryError: `weights` is not early_stop or final.
      StoreError: the level has no early-stop weights (trained before they were kept).
    """
    if weights not in WEIGHTS:
        raise LotteryError(f"--weights must be one of {', '.join(WEIGHTS)}, got {weights!r}.")
    if weights == "final":
        return files.weights_end
    if not storage_files.isfile(files.weights_early_stop):
        name = os.path.basename(files.weights_early_stop)
        raise StoreError(f"{files.dir} has no early-stop weights ({name}; levels trained by an "
                         "older version do not keep them): export "
                         "--weights=final, or move the level's folder aside and rerun to retrain it.")
    return files.weights_early_stop


def stored_metrics(files: RunFiles) -> dict:
    """The level's metrics.json: early-stop and final steps and accuracies, start step, curve.

    Raises:
      CorruptFileError: the file fails its checksum.
    """
    return store.read_json(files.metrics)


def stored_accuracy(metrics: Mapping, weights: str) -> tuple[int, float | None]:
    """(step, test accuracy or None) of the level's early-stop or final weights.

    Args:
      metrics: the level's metrics.json content (`stored_metrics`).
      weights: `early_stop` or `final`.
    """
    step, accuracy = ((metrics["early_stop_step"], metrics["early_stop_test_accuracy"])
                      if weights == "early_stop" else (metrics["final_step"], metrics["test_accuracy"]))
    return int(step), None if accuracy is None else float(accuracy)


def build_plain(config: ml_collections.ConfigDict, architecture: str | None = None,
                spec=None) -> keras.Model:
    """The experiment's model, unwrapped: the zoo's builder, or the Keras JSON a fit-based
    experiment of the user's own model stored (`architecture`), when that file exists."""
    if architecture is not None and storage_files.isfile(architecture):
        return keras.models.model_from_json(storage_files.read_bytes(architecture).decode())
    return build_experiment_model(config, spec=spec)


def rebuild(config: ml_collections.ConfigDict, files: RunFiles, weights: str = "final",
            architecture: str | None = None, spec=None) -> keras.Model:
    """The experiment's model, wrapped for pruning, holding a stored run's weights and mask.

    Args:
      config: the experiment's config.
      files: the run's files.
      weights: `final` (weights_end.npz) or `early_stop` (weights_early_stop.npz).
      architecture: a stored Keras JSON architecture (see `build_plain`).
      spec: the dataset spec (default: measured from the config's data).
    """
    model = build_plain(config, architecture, spec)
    masks = store.load_arrays(files.mask)
    wrapped = tfmot_adapter.wrap(model, masks)  # the stored mask names the pruned layers
    tfmot_adapter.set_weights(wrapped, store.load_arrays(weights_file(files, weights)))
    tfmot_adapter.set_masks(wrapped, masks)
    return wrapped


def plain_model(config: ml_collections.ConfigDict, wrapped: keras.Model,
                architecture: str | None = None, spec=None) -> keras.Model:
    """The experiment's model without tfmot's wrappers, holding `wrapped`'s masked weights.

    Built afresh rather than stripped, so its variables carry the layers' own
    names (`dense_1/kernel`), not the wrappers' (`prune_low_magnitude_dense_1/...`).
    """
    tfmot_adapter.apply_masks(wrapped)
    model = build_plain(config, architecture, spec)
    tfmot_adapter.set_weights(model, tfmot_adapter.get_weights(wrapped))
    return model
