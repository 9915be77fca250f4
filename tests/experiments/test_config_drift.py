"""Resuming with a config or data that contradicts the stored experiment is refused, naming why."""
import hashlib

import pytest

from lottery_tf.errors import ConfigError
from lottery_tf.experiments.config import experiment_name
from lottery_tf.experiments.lottery import run_lottery
from lottery_tf.storage import store
from lottery_tf.storage.paths import ExperimentPaths
from lottery_tf.testing import tiny_config, write_tiny_mnist


def _digests(root):
    return {str(path): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file()}


@pytest.fixture()
def stored(tiny_mnist_dir, tmp_path):
    config = tiny_config(tiny_mnist_dir, levels=0)
    run_lottery(config, str(tmp_path), [0], quiet=True)
    return config, ExperimentPaths(str(tmp_path), experiment_name(config)), tmp_path


def test_other_data_under_the_same_config_is_refused(stored, tmp_path_factory):
    config, _, root = stored
    before = _digests(root)
    other = tiny_config(write_tiny_mnist(tmp_path_factory.mktemp("other"), seed=7), levels=1)
    assert experiment_name(other) == experiment_name(config)  # where data lives is not hashed
    with pytest.raises(ConfigError, match=r"(?s)data: stored fingerprint .*Nothing was changed"):
        run_lottery(other, str(root), [0], quiet=True)
    assert _digests(root) == before


def test_a_stored_config_with_other_settings_is_refused_by_field(stored):
    config, paths, root = stored
    record = store.read_json(paths.config)
    record["hashed"]["pruning.rate"] = 0.5
    store.write_json(paths.config, record)
    before = _digests(root)
    with pytest.raises(ConfigError, match=r"pruning.rate: stored 0.5, given 0.2"):
        run_lottery(config, str(root), [0], quiet=True)
    assert _digests(root) == before


def test_a_damaged_stored_config_is_not_overwritten(stored):
    config, paths, root = stored
    with open(paths.config, "a") as handle:
        handle.write("garbage")
    before = _digests(root)
    with pytest.raises(ConfigError, match="damaged"):
        run_lottery(config, str(root), [0], quiet=True)
    assert _digests(root) == before
