"""The exported SavedModel: a plain Keras model behind signatures that check their input.

Signatures (all return `logits` and `probabilities`):

- `serving_default`: `images` as the dataset stores them (uint8 [None, H, W, C]
  for image datasets; float32 for inputs of another scale); the model
  normalizes them as training did.
- `pixels`: `images` float32, values in 0-pixel_scale (decoded images, say);
  values outside that range are refused.
- `normalized`: `images` float32, already normalized (`dataset.normalization`:
  by default (x / pixel_scale - mean) / std); values outside the range normalized pixels
  can take are refused, so raw pixels fed here fail instead of answering with saturated
  probabilities.

A signature's dtype and shape are fixed, so TensorFlow refuses other dtypes
and image sizes when it is called.
"""
import io
import posixpath
import zipfile

import numpy as np
import tensorflow as tf
import tf_keras as keras

from lottery_tf.data.normalization import formula, normalize_tensor, value_range
from lottery_tf.data.spec import DatasetSpec
from lottery_tf.models.prunable import entry_variables
from lottery_tf.storage import files

SIGNATURE = "serving_default"
PIXELS_SIGNATURE = "pixels"
NORMALIZED_SIGNATURE = "normalized"
# Slack on the range checks, for float rounding of images normalized elsewhere.
RANGE_SLACK = 1e-3


def stored_dtype(spec: DatasetSpec) -> tf.DType:
    """How the dataset stores its inputs: uint8 pixels (scale 255), else float32."""
    return tf.uint8 if spec.pixel_scale == 255 else tf.float32


class ServingModule(tf.Module):
    """What is saved: the plain model, its prunable kernels by layer name, and the signatures."""

    def __init__(self, model: keras.Model, spec: DatasetSpec, prunable: list[str]):
        super().__init__()
        self.model = model
        # Saved as named references so the sparsity check can read back exactly
        # the prunable kernels, whatever the variables' scoped names are.
        variables = entry_variables(model)
        self.kernels = {name: variables[name] for name in prunable}
        shape = [None, *spec.image_shape]
        self._spec = spec
        self._scale = float(spec.pixel_scale)
        self._formula = formula(spec)
        # The range a normalized pixel can take, per channel.
        low, high = value_range(spec)
        self._normalized_low = tf.constant(low - RANGE_SLACK, tf.float32)
        self._normalized_high = tf.constant(high + RANGE_SLACK, tf.float32)
        self.serve_stored = tf.function(
            self._serve_stored, input_signature=[tf.TensorSpec(shape, stored_dtype(spec), name="images")])
        self.serve_pixels = tf.function(self._serve_pixels,
                                        input_signature=[tf.TensorSpec(shape, tf.float32, name="images")])
        self.serve_normalized = tf.function(
            self._serve_normalized, input_signature=[tf.TensorSpec(shape, tf.float32, name="images")])

    def signatures(self) -> dict:
        """Signature name -> concrete function, for `tf.saved_model.save`."""
        return {SIGNATURE: self.serve_stored.get_concrete_function(),
                PIXELS_SIGNATURE: self.serve_pixels.get_concrete_function(),
                NORMALIZED_SIGNATURE: self.serve_normalized.get_concrete_function()}

    def _normalize(self, pixels):
        # The training pipeline's operations (lottery_tf.data.normalization).
        return normalize_tensor(pixels, self._spec)

    def _predict(self, normalized):
        logits = self.model(normalized, training=False)
        return {"logits": logits, "probabilities": tf.nn.softmax(logits, axis=-1)}

    def _serve_stored(self, images):
        return self._predict(self._normalize(tf.cast(images, tf.float32)))


    def _serve_pixels(self, images):
        checks = [
            tf.debugging.assert_greater_equal(images, 0.0, message=(
                "'pixels' takes values in 0-pixel_scale; got negative values (already normalized "
                "images go to the 'normalized' signature)")),
            tf.debugging.assert_less_equal(images, self._scale, message=(
                "'pixels' takes values in 0-pixel_scale; got values above it")),
        ]
        with tf.control_dependencies(checks):
            return self._predict(self._normalize(images))

    def _serve_normalized(self, images):
        checks = [
            tf.debugging.assert_greater_equal(images, self._normalized_low, message=(
                f"'normalized' takes {self._formula}; got values below that range")),
            tf.debugging.assert_less_equal(images, self._normalized_high, message=(
                f"'normalized' takes {self._formula}; got values above that range (raw "
                "0-255 pixels go to 'serving_default' as uint8 or to 'pixels' as float32)")),
        ]
        with tf.control_dependencies(checks):
            return self._predict(tf.identity(images))


def write_saved_model(module: ServingModule, directory: str) -> None:
    """Saves `module` to `directory` (any gfile root), replacing it only once the new one is
    complete (on object stores the final move copies file by file: export.json, written
    after it, is what says an export is whole)."""
    parent = files.parent(directory)
    files.makedirs(parent)
    # Hidden siblings whose names do not start with the folder's: `ram://` (like object
    # stores) finds a folder by prefix, and `saved_model.partial/...` would count as it.
    name = directory.rstrip("/").rsplit("/", 1)[-1]
    partial, old = files.join(parent, f".{name}.partial"), files.join(parent, f".{name}.old")
    for leftover in (partial, old):
        files.rmtree(leftover)
    tf.saved_model.save(module, partial, signatures=module.signatures())
    if files.exists(directory):
        files.rename(directory, old)
    files.rename(partial, directory)
    files.rmtree(old)


def saved_kernels(directory: str) -> dict[str, np.ndarray]:
    """The prunable kernels as stored in a SavedModel's variables, by layer name."""
    loaded = tf.saved_model.load(directory)
    return {name: variable.numpy() for name, variable in loaded.kernels.items()}


def saved_variable_names(directory: str) -> list[str]:
    """The names of the SavedModel's variables, as TensorFlow shows them."""
    return sorted(variable.name for variable in tf.saved_model.load(directory).model.variables)


def saved_model_logits(directory: str, images: np.ndarray) -> np.ndarray:
    """Logits of a SavedModel loaded back, through its default signature (inputs as stored)."""
    serve = tf.saved_model.load(directory).signatures[SIGNATURE]
    return serve(images=tf.constant(images))["logits"].numpy()


def zipped_size(directory: str) -> int:
    """Bytes of the folder zipped with deflate (in memory; files in sorted order)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for folder, _, names in sorted(files.walk(directory)):
            relative = folder[len(directory):].strip("/")
            for name in sorted(names):
                archive.writestr(posixpath.join(relative, name) if relative else name,
                                 files.read_bytes(files.join(folder, name)))
    return len(buffer.getvalue())
