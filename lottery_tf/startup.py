"""TensorFlow's load-time notices, kept off the user's terminal.

TensorFlow 2.21's Python package loads its C++ framework twice (the main
wrapper and the profiler plugin each carry a copy), and each copy logs while
it loads, before absl's logging is initialised, so TF_CPP_MIN_LOG_LEVEL has
no say: absl's "before InitializeLog" warning, the oneDNN notice and the
missing-CUDA notices, twice per process; then finding the devices logs CUDA's
failed cuInit. `import_tensorflow` imports TensorFlow and finds its devices with
file descriptor 2 sent to a temporary file and writes back every line but those
notices, so anything else (a real load error) still shows.

It also drops two of TensorFlow's Python warnings: "triggered tf.function
retracing" (every level builds a fresh model with its own evaluation functions,
by design, which that warning counts as retracing after a few levels) and the
one its distribute code raises about itself reading tf.data options.
"""
import contextlib
import logging
import os
import re
import sys
import tempfile
import warnings

# Lines TensorFlow's libraries write while loading on a machine without a GPU.
LOAD_NOTICES = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IWE]\d{4} [\d:. ]+\d+ (port|cudart_stub|cuda_platform|cuda_executor|cpu_feature_guard)"
    r"\.cc:\d+\] "
    r"|To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler)")


@contextlib.contextmanager
def filtered_stderr(drop: re.Pattern = LOAD_NOTICES):
    """Within the block, lines written to file descriptor 2 that match `drop` are discarded.

    The other lines are written to stderr when the block ends, in order.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [line for line in captured.read().decode(errors="replace").splitlines(True)
                    if not drop.match(line)]
            sys.stderr.write("".join(kept))
            sys.stderr.flush()


class _DropExpectedRetracing(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


def import_tensorflow():
    """Imports TensorFlow and finds its devices without their notices; returns the module.

    Safe to call again, also when something imported TensorFlow already (a config
    file importing lottery_tf.testing, say): its logger gets the retracing filter once.
    """
    with filtered_stderr():
        import tensorflow

        # Finding the devices logs, on a machine without a GPU, CUDA's failed
        # cuInit; done here it is dropped, and later lookups reuse the result.
        tensorflow.config.list_physical_devices()
    # TensorFlow's distribute code reads tf.data options in graph mode and warns
    # itself about it (every multi-replica run); nothing the user can change.
    warnings.filterwarnings("ignore", "To make it possible to preserve tf.data options",
                            UserWarning)
    logger = tensorflow.get_logger()
    if not any(isinstance(drop, _DropExpectedRetracing) for drop in logger.filters):
        logger.addFilter(_DropExpectedRetracing())
    return tensorflow
