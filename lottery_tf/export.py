"""The `export` command: a trained level as a SavedModel (and optionally TFLite), checked.

The model is rebuilt from the experiment's stored config.json (no dataset
needed), wrapped for pruning, given the level's trained weights and mask,
stripped of the tfmot wrappers, and saved to
`<root>/<experiment>/replicate_<r>/level_<L>/export/saved_model` with one
signature, `serving_default`: `images` float32 [None, H, W, C], normalized as
the training pipeline does ((pixel / 255 - mean) / std, the dataset's values in
export.json) -> `logits` and `probabilities`.

Checks, on a batch of the test split (random inputs if the data is not found):
the SavedModel loaded back (and each TFLite model) predicts what the wrapped
model predicts in-process, within `SAVED_MODEL_TOLERANCE` / `TFLITE_TOLERANCE`
of the largest logit (at least 1); and the prunable kernels read back from the
saved variables have exactly the mask's zeros.

TFLite (`--tflite`): the level converted plainly and with
`tf.lite.Optimize.EXPERIMENTAL_SPARSITY`, and level 0 plainly; sizes and the
median latency of single-image invokes with and without XNNPACK. For float
models the sparse format saves storage only: the converter puts a DENSIFY op
before each sparse kernel, which expands it once when the interpreter prepares,
so the layers then run dense and latency does not drop.

Size: the SavedModel folder zipped with deflate, against the dense network,
which is this replicate's level 0 (trained, not pruned) exported the same way.
Trained dense weights, not the untrained initialization, because they are what
the ticket is measured against; for compression the two are alike anyway
(float noise deflate barely shrinks), so the gap shows what the zeros save.
"""
import dataclasses
import io
import os
import shutil
import statistics
import sys
import time
import warnings
import zipfile
from typing import TextIO

import ml_collections
import numpy as np
import tensorflow as tf
import tf_keras as keras

from lottery_tf.data.registry import DatasetSpec, spec_of
from lottery_tf.data.sources import load_raw
from lottery_tf.data.splits import normalize_images
from lottery_tf.errors import DataError, LotteryError, StoreError
from lottery_tf.experiments import store
from lottery_tf.experiments.paths import RunFiles
from lottery_tf.models.prunable import pruned_weight
from lottery_tf.models.registry import build_model
from lottery_tf.pruning import masks as mask_lib
from lottery_tf.pruning import tfmot_adapter
from lottery_tf.report.experiments import (
    StoredExperiment,
    find_experiment,
    finished_levels,
    stored_replicates,
)

SIGNATURE = "serving_default"
# Largest |difference| allowed, as a fraction of max(1, largest |logit|). A stripped
# model runs the same kernels on the same values, so the SavedModel should agree to
# rounding; TFLite uses its own (XNNPACK) kernels, which reorder the sums.
SAVED_MODEL_TOLERANCE = 1e-5
TFLITE_TOLERANCE = 1e-4
CHECK_EXAMPLES = 256
LATENCY_RUNS = 200


class ExportError(LotteryError):
    """The exported model does not reproduce the trained level."""


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
    """

    experiment: str
    replicate: int
    level: int
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
    if level not in finished or not os.path.isfile(files.weights_end) or not os.path.isfile(files.mask):
        raise StoreError(f"Level {level} of {experiment.name} replicate {replicate} is not finished; "
                         f"finished levels: {', '.join(map(str, finished)) or 'none'}.")
    return files


def rebuild(config: ml_collections.ConfigDict, files: RunFiles,
            architecture: str | None = None) -> keras.Model:
    """The config's model, wrapped for pruning, holding a stored run's trained weights and mask.

    A fit-based experiment of the user's own model stores its `architecture`
    (Keras JSON), which is used instead of the zoo's builder when it exists.
    """
    if architecture is not None and os.path.isfile(architecture):
        with open(architecture) as handle:
            model = keras.models.model_from_json(handle.read())
    else:
        spec = spec_of(config.dataset)
        model = build_model(config.model.name, spec.image_shape, spec.num_classes,
                            config.model.initializer, config.seed)
    masks = store.load_arrays(files.mask)
    wrapped = tfmot_adapter.wrap(model, masks)  # the stored mask names the pruned layers
    tfmot_adapter.set_weights(wrapped, store.load_arrays(files.weights_end))
    tfmot_adapter.set_masks(wrapped, masks)
    return wrapped


def _layer(model: keras.Model, qualified: str):
    """A layer by `prunable_layers` name (`outer/inner` inside nested models)."""
    for part in qualified.split("/"):
        model = model.get_layer(part)
    return model


class ServingModule(tf.Module):
    """What is saved: the plain model, its prunable kernels by layer name, and the signature."""

    def __init__(self, model: keras.Model, spec: DatasetSpec, prunable: list[str]):
        super().__init__()
        self.model = model
        # Saved as named references so the sparsity check can read back exactly
        # the prunable kernels, whatever the variables' scoped names are.
        self.kernels = {name: pruned_weight(_layer(model, name)) for name in prunable}
        signature = tf.TensorSpec([None, *spec.image_shape], tf.float32, name="images")
        self.serve = tf.function(self._serve, input_signature=[signature])

    def _serve(self, images):
        logits = self.model(images, training=False)
        return {"logits": logits, "probabilities": tf.nn.softmax(logits, axis=-1)}


def write_saved_model(module: ServingModule, directory: str) -> None:
    """Saves `module` to `directory`, replacing it only once the new one is complete."""
    parent = os.path.dirname(os.path.abspath(directory))
    os.makedirs(parent, exist_ok=True)
    partial, old = f"{directory}.partial", f"{directory}.old"
    for leftover in (partial, old):
        shutil.rmtree(leftover, ignore_errors=True)
    tf.saved_model.save(module, partial, signatures={SIGNATURE: module.serve.get_concrete_function()})
    if os.path.exists(directory):
        os.replace(directory, old)
    os.replace(partial, directory)
    shutil.rmtree(old, ignore_errors=True)


def saved_kernels(directory: str) -> dict[str, np.ndarray]:
    """The prunable kernels as stored in a SavedModel's variables, by layer name."""
    loaded = tf.saved_model.load(directory)
    return {name: variable.numpy() for name, variable in loaded.kernels.items()}


def saved_model_logits(directory: str, images: np.ndarray) -> np.ndarray:
    """Logits of a SavedModel loaded back, through its serving signature."""
    serve = tf.saved_model.load(directory).signatures[SIGNATURE]
    return serve(images=tf.constant(images))["logits"].numpy()


def zipped_size(directory: str) -> int:
    """Bytes of the folder zipped with deflate (in memory; files in sorted order)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for folder, subfolders, names in os.walk(directory):
            subfolders.sort()
            for name in sorted(names):
                path = os.path.join(folder, name)
                archive.write(path, os.path.relpath(path, directory))
    return len(buffer.getvalue())


def check_images(config: ml_collections.ConfigDict, count: int = CHECK_EXAMPLES) -> tuple[np.ndarray, str]:
    """Normalized test images to compare predictions on, and what they are.

    Falls back to standard-normal noise (already in normalized units) when the
    dataset cannot be found without downloading, so exporting never needs the data.
    """
    spec = spec_of(config.dataset)
    try:
        raw = load_raw(config.dataset.name, config.dataset.data_dir, download=False,
                       verify=bool(config.dataset.verify_checksums))
    except DataError:
        rng = np.random.default_rng(0)
        images = rng.standard_normal((count, *spec.image_shape)).astype(np.float32)
        return images, f"{count} random normal images (the {config.dataset.name} data was not found)"
    images = normalize_images(raw.test_x[:count], spec)
    return images, f"the first {len(images)} {config.dataset.name} test images"


def _max_diff(expected: np.ndarray, got: np.ndarray, tolerance: float, what: str) -> float:
    """Largest |difference|; raises ExportError above `tolerance` * max(1, max |expected|)."""
    difference = float(np.max(np.abs(expected - got)))
    allowed = tolerance * max(1.0, float(np.max(np.abs(expected))))
    if not difference <= allowed:
        raise ExportError(f"{what} differs from the trained level by {difference:.3g} "
                          f"(allowed {allowed:.3g}); the export is wrong.")
    return difference


def tflite_convert(saved_model: str, sparse: bool) -> bytes:
    """A float TFLite flatbuffer; `sparse` stores sparse weights in TFLite's sparse format."""
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model, signature_keys=[SIGNATURE])
    if sparse:
        converter.optimizations = [tf.lite.Optimize.EXPERIMENTAL_SPARSITY]
    return converter.convert()


def _interpreter(content: bytes, batch_shape: tuple[int, ...], builtin_only: bool = False):
    """An interpreter on one thread (steadier timings on a shared machine), sized for a batch.

    Args:
      content: the TFLite flatbuffer.
      batch_shape: the input shape to allocate for.
      builtin_only: use TFLite's built-in kernels without the default (XNNPACK) delegate.

    Returns:
      (interpreter, input tensor index, logits tensor index).
    """
    with warnings.catch_warnings():
        # tf.lite.Interpreter warns that it moves to the separate LiteRT package;
        # it still works in this TensorFlow, and LiteRT is not a dependency.
        warnings.simplefilter("ignore", UserWarning)
        resolver = (tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES if builtin_only
                    else tf.lite.experimental.OpResolverType.AUTO)
        interpreter = tf.lite.Interpreter(model_content=content, num_threads=1,
                                          experimental_op_resolver_type=resolver)
    runner = interpreter.get_signature_runner(SIGNATURE)
    image_index = runner.get_input_details()["images"]["index"]
    logits_index = runner.get_output_details()["logits"]["index"]
    del runner  # it holds views of the interpreter's buffers, which resizing would invalidate
    interpreter.resize_tensor_input(image_index, list(batch_shape))
    interpreter.allocate_tensors()
    return interpreter, image_index, logits_index


def tflite_logits(content: bytes, images: np.ndarray) -> np.ndarray:
    """Logits of a TFLite model for a batch."""
    interpreter, image_index, logits_index = _interpreter(content, images.shape)
    interpreter.set_tensor(image_index, images)
    interpreter.invoke()
    return interpreter.get_tensor(logits_index).copy()


def tflite_latency_ms(content: bytes, image: np.ndarray, runs: int = LATENCY_RUNS,
                      builtin_only: bool = False) -> float:
    """Median milliseconds of one `invoke` on a batch of one image (after a warm-up run)."""
    interpreter, image_index, _ = _interpreter(content, (1, *image.shape), builtin_only)
    interpreter.set_tensor(image_index, image[None])
    interpreter.invoke()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        interpreter.invoke()
        times.append(time.perf_counter() - started)
    return 1000.0 * statistics.median(times)


def _export_dir(experiment: StoredExperiment, replicate: int, level: int) -> str:
    return os.path.join(experiment.paths.level(replicate, level), "export")


def export_saved_model(experiment: StoredExperiment, replicate: int, level: int,
                       images: np.ndarray) -> tuple[str, np.ndarray]:
    """Exports one finished level; returns the SavedModel folder and the in-process logits.

    Raises:
      StoreError: the level is not finished.
    """
    config = experiment.config_dict()
    files = level_files(experiment, replicate, level)
    keras.backend.clear_session()
    wrapped = rebuild(config, files, experiment.paths.architecture)
    logits = wrapped(images, training=False).numpy()
    prunable = list(tfmot_adapter.get_masks(wrapped))
    module = ServingModule(tfmot_adapter.strip(wrapped), spec_of(config.dataset), prunable)
    directory = os.path.join(_export_dir(experiment, replicate, level), "saved_model")
    write_saved_model(module, directory)
    return directory, logits


def _percent_zero(kernels: dict[str, np.ndarray]) -> float:
    zeros = sum(int(np.sum(kernel == 0)) for kernel in kernels.values())
    return 100.0 * zeros / sum(kernel.size for kernel in kernels.values())


def _tflite_models(experiment: StoredExperiment, replicate: int, level: int, saved_model: str,
                   dense_saved_model: str, images: np.ndarray, logits: np.ndarray) -> list[TfliteModel]:
    """This level converted plainly and with sparse weights, and level 0 plainly (the dense net)."""
    directory = _export_dir(experiment, replicate, level)
    variants = [("sparse format", saved_model, True, os.path.join(directory, "model_sparse.tflite")),
                ("plain format", saved_model, False, os.path.join(directory, "model.tflite"))]
    if dense_saved_model != saved_model:
        variants.append(("dense level 0", dense_saved_model, False,
                         os.path.join(_export_dir(experiment, replicate, 0), "model.tflite")))
    models = []
    for name, source, sparse, path in variants:
        content = tflite_convert(source, sparse)
        store.atomic_write_bytes(path, content)
        difference = None
        if source == saved_model:  # level 0's TFLite model predicts level 0, not this level
            difference = _max_diff(logits, tflite_logits(content, images), TFLITE_TOLERANCE,
                                   f"TFLite ({name})")
        models.append(TfliteModel(name, path, len(content), tflite_latency_ms(content, images[0]),
                                  tflite_latency_ms(content, images[0], builtin_only=True), difference))
    return models


def export_level(root: str, selector: str | None, level: int, replicate: int = 0,
                 tflite: bool = False) -> ExportResult:
    """The `export` command: writes the SavedModel (and TFLite files), checks and measures them.

    Args:
      root: the results root.
      selector: the experiment's folder name or config hash (None: the only one).
      level: the trunk level to export.
      replicate: the replicate.
      tflite: also convert to TFLite with and without sparse weight storage.

    Returns:
      The measurements (also written to `export/export.json`).

    Raises:
      ConfigError: unknown experiment (the message lists the available ones).
      StoreError: the replicate or level is not finished (lists what is).
      ExportError: a loaded model's predictions or sparsity differ from the stored level.
    """
    experiment = find_experiment(root, selector)
    config = experiment.config_dict()
    level_files(experiment, replicate, level)  # fail on a bad level before any work
    images, described = check_images(config)
    saved_model, logits = export_saved_model(experiment, replicate, level, images)
    difference = _max_diff(logits, saved_model_logits(saved_model, images), SAVED_MODEL_TOLERANCE,
                           "The loaded SavedModel")
    masks = store.load_arrays(level_files(experiment, replicate, level).mask)
    kernels = saved_kernels(saved_model)
    for name, mask in masks.items():
        # A surviving weight may be exactly zero by chance, so only pruned ones are required to be.
        if np.any(kernels[name][mask == 0] != 0):
            raise ExportError(f"The saved kernel of {name} has non-zero weights where its mask is 0.")
    dense = saved_model if level == 0 else export_saved_model(experiment, replicate, 0, images[:1])[0]
    result = ExportResult(
        experiment=experiment.name, replicate=replicate, level=level, saved_model=saved_model,
        percent_zero=_percent_zero(kernels),
        percent_zero_by_layer={name: _percent_zero({name: k}) for name, k in kernels.items()},
        mask_percent_zero=100.0 - mask_lib.percent_remaining(masks),
        zip_bytes=zipped_size(saved_model), dense_saved_model=dense, dense_zip_bytes=zipped_size(dense),
        max_abs_diff=difference, check_inputs=described)
    if tflite:
        result.tflite = _tflite_models(experiment, replicate, level, saved_model, dense, images, logits)
    spec = spec_of(config.dataset)
    store.write_json(os.path.join(_export_dir(experiment, replicate, level), "export.json"), {
        **dataclasses.asdict(result), "signature": SIGNATURE,
        "input": {"name": "images", "shape": [None, *spec.image_shape], "dtype": "float32",
                  "normalization": f"(pixel / {spec.pixel_scale:g} - mean) / std", "mean": list(spec.mean),
                  "std": list(spec.std)},
        "outputs": ["logits", "probabilities"],
        "tolerance": {"saved_model": SAVED_MODEL_TOLERANCE, "tflite": TFLITE_TOLERANCE}})
    return result


def format_result(result: ExportResult) -> str:
    """The lines the command prints."""
    lines = [
        f"exported {result.experiment} replicate {result.replicate} level {result.level} "
        f"to {result.saved_model} (signature '{SIGNATURE}': images -> logits, probabilities)",
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
    return "\n".join(lines)


def export_command(root: str, selector: str | None, level: int | None, replicate: int, tflite: bool,
                   stream: TextIO = sys.stdout) -> ExportResult:
    """Runs `export_level` for the command line and prints the result.

    Raises:
      LotteryError: no --level, or any error of `export_level`.
    """
    if level is None:
        raise LotteryError("export needs --level, e.g. --level=3.")
    result = export_level(root, selector, level, replicate, tflite)
    print(format_result(result), file=stream)
    return result
