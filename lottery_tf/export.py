"""The `export` command: a trained level as a SavedModel (and optionally TFLite), checked.

The model is rebuilt from the experiment's stored config.json (no dataset
needed) with the level's weights (`--weights=early_stop`, the default: those of
the early-stop step, whose test accuracy the report headlines; or `final`) and
mask, as a plain Keras model whose variables carry the layers' own names, and
saved to `<root>/<experiment>/replicate_<r>/level_<L>/export/saved_model`.
Its signatures (`serving/saved_model.py`) take images as the dataset stores
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
accuracy on other test data, so a difference is shown, not refused).

TFLite (`--tflite`): the level converted plainly and with
`tf.lite.Optimize.EXPERIMENTAL_SPARSITY`, and level 0 plainly; sizes and the
median latency of single-image invokes with and without XNNPACK. For float
models the sparse format saves storage only: the converter puts a DENSIFY op
before each sparse kernel, which expands it once when the interpreter prepares,
so the layers then run dense and latency does not drop, except where XNNPACK
runs 1x1 convolutions sparse: `xnnpack` in export.json sets the sparse-format
model against the dense network (level 0) under XNNPACK at batch 1 and says
whether XNNPACK took its sparse path, with the evidence (serving/xnnpack.py).
Without `--tflite`,
TFLite files of an earlier export are removed, so the folder and export.json agree.

Size: the SavedModel folder zipped with deflate, against the dense network,
which is this replicate's level 0 (trained, not pruned) exported the same way.
Trained dense weights, not the untrained initialization, because they are what
the ticket is measured against; for compression the two are alike anyway
(float noise deflate barely shrinks), so the gap shows what the zeros save.
"""
import dataclasses
import os
import sys
from typing import TextIO

import numpy as np
import tf_keras as keras

from lottery_tf.data.splits import normalize_images
from lottery_tf.errors import LotteryError
from lottery_tf.pruning import masks as mask_lib
from lottery_tf.pruning import tfmot_adapter
from lottery_tf.pruning.policies import xnnpack_problem
from lottery_tf.results.catalog import StoredExperiment, find_experiment
from lottery_tf.serving.checks import (
    ExportError,
    check_images,
    check_sparsity,
    max_diff,
    percent_zero,
    saved_model_accuracy,
    test_split,
)
from lottery_tf.serving.saved_model import (
    NORMALIZED_SIGNATURE,
    PIXELS_SIGNATURE,
    SIGNATURE,
    ServingModule,
    saved_kernels,
    saved_model_logits,
    saved_variable_names,
    stored_dtype,
    write_saved_model,
    zipped_size,
)
from lottery_tf.serving.stored_level import (
    build_plain,
    level_files,
    plain_model,
    rebuild,
    stored_accuracy,
    weights_file,
)
from lottery_tf.serving.tflite import tflite_convert, tflite_latency_ms, tflite_logits
from lottery_tf.serving.xnnpack import XnnpackComparison, compare
from lottery_tf.storage import files as storage_files
from lottery_tf.storage import store

__all__ = ["SIGNATURE", "ExportError", "ExportResult", "check_images", "export_command", "export_level",
           "format_result", "level_files", "max_diff", "rebuild", "saved_kernels", "saved_variable_names",
           "tflite_logits",
           "weights_file", "zipped_size"]

# Largest |difference| allowed, as a fraction of max(1, largest |logit|). A stripped
# model runs the same kernels on the same values, so the SavedModel should agree to
# rounding; TFLite uses its own (XNNPACK) kernels, which reorder the sums.
SAVED_MODEL_TOLERANCE = 1e-5
TFLITE_TOLERANCE = 1e-4
TFLITE_FILES = ("model.tflite", "model_sparse.tflite")


@dataclasses.dataclass
class TfliteModel:
    """One TFLite conversion: file, size, latency and agreement with the trained level.

    Attributes:
      median_ms: median single-image `invoke` with TFLite's default delegate (XNNPACK).
      median_ms_builtin: the same with the built-in kernels only (no delegate),
        which keep sparse weights sparse where XNNPACK densifies them when loading.
      max_abs_diff: largest |logit difference| to the trained level (None when the
        model is another level's, i.e. the dense reference).
    """

    name: str
    path: str
    bytes: int
    median_ms: float
    median_ms_builtin: float
    max_abs_diff: float | None


@dataclasses.dataclass
class ExportResult:
    """What `export_level` wrote and measured.

    Attributes:
      weights: `early_stop` or `final`: which of the level's weights are exported.
      step: the training step of those weights.
      stored_test_accuracy: their test accuracy as stored when the level trained
        (None if the run recorded none).
      test_accuracy: the loaded SavedModel's accuracy on the whole test split, fed
        raw images (None when the data is not found).
      saved_model: the SavedModel folder.
      percent_zero: zeros in the prunable kernels read back from the saved
        variables, in percent of their entries (the mask's pruned weights, plus
        any surviving weight that happens to be exactly zero).
      percent_zero_by_layer: the same per layer.
      mask_percent_zero: the mask's pruned percentage.
      zip_bytes: the SavedModel folder zipped with deflate.
      dense_saved_model: level 0's SavedModel (the dense network).
      dense_zip_bytes: that folder zipped likewise.
      max_abs_diff: largest |logit difference| of the loaded SavedModel.
      check_inputs: what the predictions were compared on.
      tflite: the TFLite models, when asked for.
      xnnpack: with TFLite, the sparse-format model against the dense network
        under XNNPACK (batch-1 latency, speed-up, whether the sparse path ran).
    """

    experiment: str
    replicate: int
    level: int
    weights: str
    step: int
    stored_test_accuracy: float | None
    test_accuracy: float | None
    saved_model: str
    percent_zero: float
    percent_zero_by_layer: dict[str, float]
    mask_percent_zero: float
    zip_bytes: int
    dense_saved_model: str
    dense_zip_bytes: int
    max_abs_diff: float
    check_inputs: str
    tflite: list[TfliteModel] = dataclasses.field(default_factory=list)
    xnnpack: XnnpackComparison | None = None


def _export_dir(experiment: StoredExperiment, replicate: int, level: int) -> str:
    return os.path.join(experiment.paths.level(replicate, level), "export")


def export_saved_model(experiment: StoredExperiment, replicate: int, level: int, images: np.ndarray,
                       weights: str = "early_stop") -> tuple[str, np.ndarray]:
    """Exports one finished level; returns the SavedModel folder and the in-process logits.

    Args:
      images: raw uint8 images to compute the in-process logits on.
      weights: `early_stop` or `final`.

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
    directory = os.path.join(_export_dir(experiment, replicate, level), "saved_model")
    write_saved_model(module, directory)
    return directory, logits


def _tflite_models(experiment: StoredExperiment, replicate: int, level: int, saved_model: str,
                   dense_saved_model: str, images: np.ndarray,
                   logits: np.ndarray) -> tuple[list[TfliteModel], XnnpackComparison]:
    """This level converted plainly and with sparse weights, and level 0 plainly (the dense net).

    Returns:
      The models, and the sparse-format one against the dense network under XNNPACK.
    """
    directory = _export_dir(experiment, replicate, level)
    variants = [("sparse format", saved_model, True, os.path.join(directory, "model_sparse.tflite")),
                ("plain format", saved_model, False, os.path.join(directory, "model.tflite"))]
    if dense_saved_model != saved_model:
        variants.append(("dense level 0", dense_saved_model, False,
                         os.path.join(_export_dir(experiment, replicate, 0), "model.tflite")))
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
    step, stored = stored_accuracy(files, weights)
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
        max_abs_diff=difference, check_inputs=described)
    directory = _export_dir(experiment, replicate, level)
    if tflite:
        result.tflite, result.xnnpack = _tflite_models(experiment, replicate, level, saved_model, dense,
                                                       images, logits)
    else:
        _remove_stale_tflite(directory)
    store.write_json(os.path.join(directory, "export.json"), _record(result, experiment.spec()))
    return result


def _record(result: ExportResult, spec) -> dict:
    """export.json: the result plus how to call the model."""
    shape = [None, *spec.image_shape]
    formula = f"(pixel / {spec.pixel_scale:g} - mean) / std"
    return {
        **dataclasses.asdict(result),
        "signatures": {
            SIGNATURE: {"images": {"dtype": stored_dtype(spec).name, "shape": shape,
                                   "meaning": "inputs as the dataset stores them"}},
            PIXELS_SIGNATURE: {"images": {"dtype": "float32", "shape": shape,
                                          "meaning": f"inputs in 0-{spec.pixel_scale:g}"}},
            NORMALIZED_SIGNATURE: {"images": {"dtype": "float32", "shape": shape, "meaning": formula}},
        },
        "signature": SIGNATURE,
        "normalization": {"formula": formula, "mean": list(spec.mean), "std": list(spec.std)},
        "outputs": ["logits", "probabilities"],
        "tolerance": {"saved_model": SAVED_MODEL_TOLERANCE, "tflite": TFLITE_TOLERANCE}}


def format_result(result: ExportResult) -> str:
    """The lines the command prints."""
    measured = "" if result.test_accuracy is None else f", {100 * result.test_accuracy:.2f}% as exported"
    stored = ("not recorded" if result.stored_test_accuracy is None
              else f"{100 * result.stored_test_accuracy:.2f}% stored")
    lines = [
        f"exported {result.experiment} replicate {result.replicate} level {result.level}, "
        f"{result.weights} weights (step {result.step}), to {result.saved_model}",
        f"signatures: '{SIGNATURE}' (uint8 images as stored), '{PIXELS_SIGNATURE}' (float 0-255), "
        f"'{NORMALIZED_SIGNATURE}' (normalized) -> logits, probabilities",
        f"test accuracy: {stored}{measured}",
        f"zero weights in the saved prunable kernels: {result.percent_zero:.2f}% "
        f"(mask: {result.mask_percent_zero:.2f}%)",
        f"zipped SavedModel: {result.zip_bytes:,} bytes; dense level 0: {result.dense_zip_bytes:,} bytes "
        f"({result.zip_bytes / result.dense_zip_bytes:.2f}x)",
        f"predictions on {result.check_inputs}: max |logit difference| {result.max_abs_diff:.2g}",
    ]
    for model in result.tflite:
        agreement = ("" if model.max_abs_diff is None
                     else f", max |logit difference| {model.max_abs_diff:.2g}")
        lines.append(f"TFLite {model.name}: {model.bytes:,} bytes, median single-image invoke "
                     f"{model.median_ms:.4f} ms (XNNPACK), {model.median_ms_builtin:.4f} ms (built-in "
                     f"kernels){agreement} ({model.path})")
    if result.xnnpack is not None:
        xnn = result.xnnpack
        lines.append(f"XNNPACK batch 1: dense level 0 {xnn.dense_ms:.4f} ms, sparse-format ticket "
                     f"{xnn.sparse_ms:.4f} ms ({xnn.speedup:.2f}x); sparse path {xnn.reason}")
    return "\n".join(lines)


def export_command(root: str, selector: str | None, level: int | None, replicate: int, tflite: bool,
                   weights: str = "early_stop", stream: TextIO = sys.stdout) -> ExportResult:
    """Runs `export_level` for the command line and prints the result.

    Raises:
      LotteryError: no --level, or any error of `export_level`.
    """
    if level is None:
        raise LotteryError("export needs --level, e.g. --level=3.")
    result = export_level(root, selector, level, replicate, tflite, weights)
    print(format_result(result), file=stream)
    return result
