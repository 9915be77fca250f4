"""The `export` command: a trained level as a SavedModel (and optionally TFLite), checked.

The model is rebuilt from the experiment's stored config.json (no dataset
needed) with the level's weights (`--weights=early_stop`, the default: those of
the early-stop step, whose test accuracy the report headlines; or `final`) and
mask, as a plain Keras model whose variables carry the layers' own names, and
saved to `<root>/<experiment>/replicate_<r>/level_<L>/export/saved_model`.
Its signatures (`saved_model.py`) take images as the dataset stores
them (`serving_default`, uint8; `pixels`, float 0-255) and normalize them
inside, or normalized images (`normalized`), and refuse input of the wrong
dtype, shape or range.

Checks, on a batch of the test split (random pixels if the data is not found):
the SavedModel loaded back (and each TFLite model) predicts what the wrapped
model predicts in-process, within `SAVED_MODEL_TOLERANCE` / `TFLITE_TOLERANCE`
of the largest logit (at least 1); the prunable kernels read back from the
saved variables have exactly the mask's zeros. With the data at hand, the loaded
SavedModel's accuracy on the whole raw test split is measured; `export.json`
records which weights, their step, their stored test accuracy and the measured
one (for command-line runs the two agree; a fit-based run may have recorded its
accuracy on other test data, so a difference is shown, not refused). The printed
result names the weights, their step and stored test accuracy in its first line,
and ends with a warning (also in export.json's `warnings`) when the early-stop
weights may be untrained: the run early-stopped at its start step, or its
validation loss rose from the first evaluation (`untrained.py`).

TFLite (`--tflite`): the level converted plainly and with
`tf.lite.Optimize.EXPERIMENTAL_SPARSITY`, and level 0 plainly; sizes and the
median latency of single-image invokes with and without XNNPACK. For float
models the sparse format saves storage only: the converter puts a DENSIFY op
before each sparse kernel, which expands it once when the interpreter prepares,
so the layers then run dense and latency does not drop, except where XNNPACK
runs 1x1 convolutions sparse: `xnnpack` in export.json sets the sparse-format
model against the dense network (level 0) under XNNPACK at batch 1 and says
whether XNNPACK took its sparse path, with the evidence (xnnpack.py).
Without `--tflite`, TFLite files of an earlier export are removed, so the folder and export.json agree.

Size: the SavedModel folder zipped with deflate, against the dense network,
which is this replicate's level 0 (trained, not pruned) exported the same way.
Trained dense weights, not the untrained initialization, because they are what
the ticket is measured against; for compression the two are alike anyway
(float noise deflate barely shrinks), so the gap shows what the zeros save.
"""
import os
import sys
from typing import TextIO

import numpy as np
import tf_keras as keras

from lottery_tf.data.splits import normalize_images
from lottery_tf.errors import LotteryError
from lottery_tf.export.checks import (
    SAVED_MODEL_TOLERANCE,
    TFLITE_TOLERANCE,
    check_images,
    check_sparsity,
    max_diff,
    percent_zero,
    saved_model_accuracy,
    test_split,
)
from lottery_tf.export.result import ExportResult, TfliteModel, export_record, format_result
from lottery_tf.export.saved_model import ServingModule, saved_model_logits, write_saved_model, zipped_size
from lottery_tf.export.stored_level import (
    build_plain,
    export_dir,
    level_files,
    plain_model,
    rebuild,
    stored_accuracy,
    stored_metrics,
    weights_file,
)
from lottery_tf.export.tflite import tflite_convert, tflite_latency_ms, tflite_logits
from lottery_tf.export.untrained import untrained_warnings
from lottery_tf.export.xnnpack import XnnpackComparison, compare
from lottery_tf.pruning import masks as mask_lib
from lottery_tf.pruning import tfmot_adapter
from lottery_tf.pruning.policies import xnnpack_problem
from lottery_tf.storage import files as storage_files
from lottery_tf.storage import store
from lottery_tf.storage.catalog import StoredExperiment, find_experiment

TFLITE_FILES = ("model.tflite", "model_sparse.tflite")


def export_saved_model(experiment: StoredExperiment, replicate: int, level: int, images: np.ndarray,
                       weights: str = "early_stop") -> tuple[str, np.ndarray]:
    """Exports one finished level; returns the SavedModel folder and the in-process logits.

    Args:
      experiment: the stored experiment.
      replicate: the replicate.
      level: the trunk level.
      images: raw uint8 images to compute the in-process logits on.
      weights: `early_stop` or `final`.

    Returns:
      (the SavedModel folder, the wrapped model's logits on `images`).

    Raises:
      StoreError: the level is not finished, or has no early-stop weights.
    """
    config = experiment.config_dict()
    files = level_files(experiment, replicate, level)
    spec = experiment.spec()
    keras.backend.clear_session()
    architecture = experiment.paths.architecture
    wrapped = rebuild(config, files, weights, architecture, spec)
    logits = wrapped(normalize_images(images, spec), training=False).numpy()
    prunable = list(tfmot_adapter.get_masks(wrapped))
    module = ServingModule(plain_model(config, wrapped, architecture, spec), spec, prunable)
    directory = os.path.join(export_dir(experiment, replicate, level), "saved_model")
    write_saved_model(module, directory)
    return directory, logits


def _tflite_models(experiment: StoredExperiment, replicate: int, level: int, saved_model: str,
                   dense_saved_model: str, images: np.ndarray,
                   logits: np.ndarray) -> tuple[list[TfliteModel], XnnpackComparison]:
    """This level converted plainly and with sparse weights, and level 0 plainly (the dense net).

    Returns:
      The models, and the sparse-format one against the dense network under XNNPACK.
    """
    directory = export_dir(experiment, replicate, level)
    variants = [("sparse format", saved_model, True, os.path.join(directory, "model_sparse.tflite")),
                ("plain format", saved_model, False, os.path.join(directory, "model.tflite"))]
    if dense_saved_model != saved_model:
        variants.append(("dense level 0", dense_saved_model, False,
                         os.path.join(export_dir(experiment, replicate, 0), "model.tflite")))
    models, contents, outputs = [], {}, {}
    for name, source, sparse, path in variants:
        content = contents[name] = tflite_convert(source, sparse)
        store.atomic_write_bytes(path, content)
        difference = None
        if source == saved_model:  # level 0's TFLite model predicts level 0, not this level
            outputs[name] = tflite_logits(content, images)
            difference = max_diff(logits, outputs[name], TFLITE_TOLERANCE, f"TFLite ({name})")
        models.append(TfliteModel(name, path, len(content), tflite_latency_ms(content, images[0]),
                                  tflite_latency_ms(content, images[0], builtin_only=True), difference))
    dense = models[-1]  # level 0, or this level's plain model when this is level 0
    config = experiment.config_dict()
    comparison = compare(dense.median_ms, models[0].median_ms, contents["plain format"],
                         contents["sparse format"], outputs["plain format"], outputs["sparse format"],
                         xnnpack_problem(build_plain(config, experiment.paths.architecture)))
    return models, comparison


def _remove_stale_tflite(directory: str) -> None:
    """TFLite files of an earlier `--tflite` export, which export.json would no longer list."""
    for name in TFLITE_FILES:
        storage_files.remove(os.path.join(directory, name))


def export_level(root: str, selector: str | None, level: int, replicate: int = 0,
                 tflite: bool = False, weights: str = "early_stop") -> ExportResult:
    """The `export` command: writes the SavedModel (and TFLite files), checks and measures them.

    Args:
      root: the results root.
      selector: the experiment's folder name or config hash (None: the only one).
      level: the trunk level to export.
      replicate: the replicate.
      tflite: also convert to TFLite with and without sparse weight storage.
      weights: `early_stop` (the weights at the minimum validation loss, as the
        report headlines) or `final` (the weights at the end of training).

    Returns:
      The measurements (also written to `export/export.json`).

    Raises:
      ConfigError: unknown experiment (the message lists the available ones).
      StoreError: the replicate or level is not finished (lists what is), or it
        has no early-stop weights.
      ExportError: a loaded model's predictions or sparsity differ from the stored level.
    """
    experiment = find_experiment(root, selector)
    config = experiment.config_dict()
    files = level_files(experiment, replicate, level)  # fail on a bad level before any work
    weights_file(files, weights)
    metrics = stored_metrics(files)
    step, stored = stored_accuracy(metrics, weights)
    split = test_split(config)
    images, described = check_images(config, split=split, spec=experiment.spec())
    saved_model, logits = export_saved_model(experiment, replicate, level, images, weights)
    difference = max_diff(logits, saved_model_logits(saved_model, images), SAVED_MODEL_TOLERANCE,
                           "The loaded SavedModel")
    masks = store.load_arrays(files.mask)
    kernels = check_sparsity(saved_model, masks)
    measured = None if split is None else saved_model_accuracy(saved_model, *split)
    dense = (saved_model if level == 0
             else export_saved_model(experiment, replicate, 0, images[:1], weights)[0])
    result = ExportResult(
        experiment=experiment.name, replicate=replicate, level=level, weights=weights, step=step,
        stored_test_accuracy=stored, test_accuracy=measured, saved_model=saved_model,
        percent_zero=percent_zero(kernels),
        percent_zero_by_layer={name: percent_zero({name: k}) for name, k in kernels.items()},
        mask_percent_zero=100.0 - mask_lib.percent_remaining(masks),
        zip_bytes=zipped_size(saved_model), dense_saved_model=dense, dense_zip_bytes=zipped_size(dense),
        max_abs_diff=difference, check_inputs=described,
        start_step=metrics.get("start_step"), final_step=int(metrics["final_step"]),
        warnings=untrained_warnings(metrics, weights))
    directory = export_dir(experiment, replicate, level)
    if tflite:
        result.tflite, result.xnnpack = _tflite_models(experiment, replicate, level, saved_model, dense,
                                                       images, logits)
    else:
        _remove_stale_tflite(directory)
    store.write_json(os.path.join(directory, "export.json"), export_record(result, experiment.spec()))
    return result


def export_command(root: str, selector: str | None, level: int | None, replicate: int, tflite: bool,
                   weights: str = "early_stop", stream: TextIO = sys.stdout) -> ExportResult:
    """Runs `export_level` for the command line and prints the result.

    Args:
      root, selector, replicate, tflite, weights: as for `export_level`.
      level: the trunk level; required (None is refused with a hint).
      stream: where the result's lines go.

    Returns:
      The measurements.

    Raises:
      LotteryError: no --level, or any error of `export_level`.
    """
    if level is None:
        raise LotteryError("export needs --level, e.g. --level=3.")
    result = export_level(root, selector, level, replicate, tflite, weights)
    print(format_result(result), file=stream)  # any warning is its last line, where it is seen
    return result
