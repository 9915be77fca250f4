"""What `export` measured: the result records, export.json and the lines the command prints."""
import dataclasses

from lottery_tf.data import normalization
from lottery_tf.data.spec import DatasetSpec
from lottery_tf.export.checks import SAVED_MODEL_TOLERANCE, TFLITE_TOLERANCE
from lottery_tf.export.saved_model import NORMALIZED_SIGNATURE, PIXELS_SIGNATURE, SIGNATURE, stored_dtype
from lottery_tf.export.xnnpack import XnnpackComparison


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
      start_step: the level's first training step (None if not recorded).
      final_step: its last training step.
      warnings: lines saying why the exported weights may be untrained
        (`untrained.untrained_warnings`); empty when they look trained.
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
    start_step: int | None = None
    final_step: int | None = None
    warnings: list[str] = dataclasses.field(default_factory=list)


def export_record(result: ExportResult, spec: DatasetSpec) -> dict:
    """The contents of export.json: the result plus how to call the model.

    Args:
      result: what `export_level` measured.
      spec: the dataset's spec, which fixes the signatures' input shape, dtype and scale.

    Returns:
      A JSON-ready dict.
    """
    shape = [None, *spec.image_shape]
    formula = normalization.formula(spec)
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
        "normalization": {"name": spec.normalization, "formula": formula,
                          **({"mean": list(spec.mean), "std": list(spec.std)}
                             if spec.normalization == "standardize" else {})},
        "outputs": ["logits", "probabilities"],
        "tolerance": {"saved_model": SAVED_MODEL_TOLERANCE, "tflite": TFLITE_TOLERANCE}}


def format_result(result: ExportResult) -> str:
    """The lines the `export` command prints.

    Args:
      result: what `export_level` measured.

    Returns:
      The text, one line per measurement, without a trailing newline.
    """
    measured = "" if result.test_accuracy is None else f", {100 * result.test_accuracy:.2f}% as exported"
    stored = ("not recorded" if result.stored_test_accuracy is None
              else f"{100 * result.stored_test_accuracy:.2f}% stored")
    lines = [
        f"exported {result.experiment} replicate {result.replicate} level {result.level}: "
        f"{_which_weights(result)}, to {result.saved_model}",
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
    return "\n".join([*lines, *result.warnings])


def _which_weights(result: ExportResult) -> str:
    """E.g. "the early-stop weights (step 300 of 0-1000, lowest validation loss), 97.10% test
    accuracy stored"."""
    kind = ("early-stop weights" if result.weights == "early_stop" else "final weights")
    why = "lowest validation loss" if result.weights == "early_stop" else "end of training"
    span = ("" if result.start_step is None or result.final_step is None
            else f" of {result.start_step}-{result.final_step}")
    accuracy = ("test accuracy not recorded" if result.stored_test_accuracy is None
                else f"{100 * result.stored_test_accuracy:.2f}% test accuracy stored")
    return f"the {kind} (step {result.step}{span}, {why}), {accuracy}"
