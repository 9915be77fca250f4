"""TFLite conversions of an exported SavedModel: convert, run, time.

The default signature is converted, so a TFLite model takes uint8 images as
the dataset stores them and normalizes them inside, like the SavedModel.
"""
import statistics
import time
import warnings

import numpy as np
import tensorflow as tf

from lottery_tf.export.saved_model import SIGNATURE

LATENCY_RUNS = 200


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
    """Logits of a TFLite model for a batch of inputs as the dataset stores them."""
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
