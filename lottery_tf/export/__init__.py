"""The `export` command: a trained level as a checked SavedModel, TFLite models, a compact model.

`command.py` runs `export` (`export_level`, `export_command`); `result.py` holds what it
measured, export.json and the printed lines; `compact.py` is `export --compact`. The exported
artifacts: `stored_level.py` reads a finished level back as a model, `saved_model.py` writes it
behind input-checking signatures, `tflite.py` converts and times it, `xnnpack.py` says whether
XNNPACK ran it sparse, and `checks.py` compares every artifact with the stored level.
"""
from lottery_tf.export.checks import ExportError, check_images, max_diff
from lottery_tf.export.command import export_command, export_level
from lottery_tf.export.compact import CompactResult, export_compact, format_compact
from lottery_tf.export.result import ExportResult, format_result
from lottery_tf.export.saved_model import SIGNATURE, saved_kernels, saved_variable_names, zipped_size
from lottery_tf.export.stored_level import level_files, rebuild, weights_file
from lottery_tf.export.tflite import tflite_logits

__all__ = ["SIGNATURE", "CompactResult", "ExportError", "ExportResult", "check_images", "export_command",
           "export_compact", "export_level", "format_compact", "format_result", "level_files", "max_diff",
           "rebuild", "saved_kernels", "saved_variable_names", "tflite_logits", "weights_file",
           "zipped_size"]
