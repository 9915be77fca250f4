"""Shared fixtures."""
import pytest

from lottery_tf import startup  # the package sets the legacy-Keras switch before TensorFlow loads

# First, and without TensorFlow's load-time notices (in every pytest-xdist worker too).
tf = startup.import_tensorflow()

from lottery_tf.testing import write_tiny_mnist  # noqa: E402

# As in the command line: bit-identical results for a seed (resume tests rely on it).
tf.config.experimental.enable_op_determinism()


@pytest.fixture(scope="session")
def tiny_mnist_dir(tmp_path_factory):
    """A folder of four IDX files: 700 training and 200 test examples of 10 classes."""
    return write_tiny_mnist(tmp_path_factory.mktemp("tiny_mnist"))
