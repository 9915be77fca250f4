"""A tiny experiment to export: one replicate, levels 0-1, level 1 keeping 10% of the weights."""
import pytest

from lottery_tf.testing import tiny_config


@pytest.fixture(scope="session")
def export_root(tiny_mnist_dir, tmp_path_factory):
    """A results root with one finished experiment whose level 1 is 90% sparse."""
    from lottery_tf.experiments.lottery import run_lottery

    config = tiny_config(tiny_mnist_dir, levels=1, **{
        "pruning.rate": 0.9, "training.train_steps": "20it", "training.eval_every": "10it",
        "runtime.jit_compile": False})
    root = str(tmp_path_factory.mktemp("export_runs"))
    run_lottery(config, root, [0], quiet=True)
    return root
