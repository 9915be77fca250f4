"""Slow end-to-end runs on the real MNIST (skipped where it is not installed)."""
import pytest

from lottery_tf.data.sources import load_raw
from lottery_tf.errors import DataError
from lottery_tf.experiments.config import base_config
from lottery_tf.experiments.lottery import run_lottery


def _have_mnist() -> bool:
    try:
        load_raw("mnist", download=False)
    except DataError:
        return False
    return True


pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not _have_mnist(), reason="MNIST is not installed (scripts/get_data.sh)")]


def test_lenet_imp_on_real_mnist_keeps_accuracy_at_64_percent(tmp_path):
    config = base_config()
    config.training.adam_epsilon = 1e-8
    config.training.train_steps = "1500it"
    config.training.eval_every = "500it"
    config.pruning.output_rate = 0.1
    config.levels = 2
    (results,) = run_lottery(config, str(tmp_path), [0], quiet=True).values()
    assert results[0]["test_accuracy"] > 0.95
    assert results[2]["percent_remaining"] == pytest.approx(64.1, abs=0.05)
    assert results[2]["test_accuracy"] > results[0]["test_accuracy"] - 0.01
