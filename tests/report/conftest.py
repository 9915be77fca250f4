"""A tiny stored experiment to report on: 2 replicates x levels 0-1, reinit at level 1 of
both replicates, lmc at level 1 of replicate 0 only (so one branch run is missing)."""
import pytest

from lottery_tf.testing import tiny_config

REPORT_OVERRIDES = {"training.train_steps": "20it", "training.eval_every": "10it",
                    # A slow learner, so accuracies differ between levels and replicates
                    # instead of all reaching 1.0 on the easy synthetic data.
                    "training.learning_rate": 2e-4, "runtime.jit_compile": False}


@pytest.fixture(scope="session")
def report_root(tiny_mnist_dir, tmp_path_factory):
    """A results root holding one finished experiment (trunk, reinit and lmc branches)."""
    # lmc (two trainings and a path evaluation) runs once only, to keep the suite fast.
    import tensorflow as tf

    from lottery_tf.experiments import branches
    from lottery_tf.experiments.lottery import run_lottery
    from lottery_tf.experiments.setup import prepare

    config = tiny_config(tiny_mnist_dir, levels=1, **REPORT_OVERRIDES)
    root = str(tmp_path_factory.mktemp("report_runs"))
    run_lottery(config, root, [0, 1], quiet=True)
    setup = prepare(config, root, tf.distribute.get_strategy(), quiet=True)
    for replicate in (0, 1):
        branches.run_branch(setup, "reinit", replicate, 1)
    branches.run_branch(setup, "lmc", 0, 1, {"points": 3})
    return root
