"""The source registry: one map from a dataset name to its source, open to a source of your own."""
import subprocess
import sys

import numpy as np
import pytest

from lottery_tf.data import sources, validation
from lottery_tf.data.source import MeasuredSource
from lottery_tf.data.splits import load_splits, normalize_images
from lottery_tf.errors import ConfigError
from lottery_tf.testing import synthetic_images

# name -> (train_x, train_y, test_x, test_y): what the test's source serves.
_ARRAYS: dict[str, tuple[np.ndarray, ...]] = {}


class MemorySource(MeasuredSource):
    """``memory:<key>``: arrays held in this test module (the recipe of BUILD.md)."""

    usage = "memory:<key>"

    def read(self):
        return _ARRAYS[self.location]


@pytest.fixture()
def memory_source():
    train_x, train_y = synthetic_images(50, 0)
    test_x, test_y = synthetic_images(20, 1)
    _ARRAYS["tiny"] = (train_x, train_y, test_x, test_y)
    sources.register("memory:", MemorySource)
    yield _ARRAYS["tiny"]
    sources.unregister("memory:")
    _ARRAYS.clear()


class _Dataset(dict):
    """The part of a ``config.dataset`` section `spec_of` reads."""

    __getattr__ = dict.__getitem__


def test_a_registered_source_serves_spec_and_splits_through_the_public_entry_points(memory_source):
    train_x, train_y, test_x, test_y = memory_source
    spec = sources.spec_of(_Dataset(name="memory:tiny"))
    assert spec == sources.get_spec("memory:tiny")
    assert (spec.image_shape, spec.train_size, spec.test_size) == ((28, 28, 1), 50, 20)
    assert spec.num_classes == int(max(train_y.max(), test_y.max())) + 1
    assert spec.pixel_scale == 255.0 and abs(spec.mean[0] - train_x.mean() / 255) < 1e-6
    splits = load_splits("memory:tiny", validation_size=10)
    train_index, val_index = validation.split_indices(train_y, 10, "stratified")
    np.testing.assert_array_equal(splits.train_x, normalize_images(train_x[train_index], spec))
    np.testing.assert_array_equal(splits.val_x, normalize_images(train_x[val_index], spec))
    np.testing.assert_array_equal(splits.val_y, train_y[val_index])
    np.testing.assert_array_equal(splits.test_y, test_y)
    assert "memory:<key>" in sources.known_names()
    assert not sources.image_size_applies("memory:tiny")


def test_unregistering_forgets_the_prefix(memory_source):
    sources.unregister("memory:")
    with pytest.raises(ConfigError, match="unknown dataset 'memory:tiny'"):
        sources.get_spec("memory:tiny")
    assert "memory:<key>" not in sources.known_names()


def test_a_registered_key_is_not_replaced_silently(memory_source):
    with pytest.raises(ConfigError, match="already registered"):
        sources.register("memory:", MemorySource)
    with pytest.raises(ConfigError, match="a name or a prefix"):
        sources.register("memory:x", MemorySource)


def test_an_unknown_prefix_gives_one_error_naming_every_known_name():
    with pytest.raises(ConfigError) as error:
        load_splits("svhn:/data/svhn")
    message = str(error.value)
    assert message.startswith("unknown dataset 'svhn:/data/svhn'; known datasets: ")
    for name in ("cifar10", "fashion_mnist", "mnist", "npz:<file>", "folder:<dir>", "tfds:<name>",
                 "shards:<dir>"):
        assert name in message


def test_image_size_applies_to_the_sources_that_read_or_hold_one_size():
    assert [sources.image_size_applies(name) for name in
            ("folder:/x", "tfds:imagenet2012", "shards:/x", "mnist", "npz:/x.npz", "svhn", None)] == \
        [True, True, True, False, False, False, False]


def test_importing_the_registry_does_not_import_tensorflow():
    code = ("import sys; import lottery_tf.data.sources.registry, lottery_tf.data.shards; "
            "print(sorted(m for m in ('tensorflow', 'tensorflow_datasets') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
