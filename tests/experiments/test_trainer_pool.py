"""A trainer reused across runs (trainer_pool) trains exactly as a freshly built one."""
import pytest
import tensorflow as tf

from lottery_tf.experiments import branches, masked_run, trainer_pool
from lottery_tf.experiments.config import experiment_name
from lottery_tf.experiments.lottery import run_lottery, run_replicate
from lottery_tf.experiments.setup import prepare
from lottery_tf.storage.paths import ExperimentPaths
from lottery_tf.testing import assert_same_results, stored_results, tiny_config


def _run_trunk_and_reinit(config, root):
    # One setup for all, as a sweep worker has.
    setup = prepare(config, root, tf.distribute.get_strategy(), quiet=True)
    run_replicate(setup, 0)
    for level in (1, 2):
        branches.run_branch(setup, "reinit", 0, level)


@pytest.mark.slow
def test_reused_trainer_gives_the_same_levels_and_controls(tiny_mnist_dir, tmp_path, monkeypatch):
    config = tiny_config(tiny_mnist_dir, levels=2, rewind="20it")
    warm, cold = (ExperimentPaths(str(tmp_path / name), experiment_name(config))
                  for name in ("warm", "cold"))
    builds = []
    build = masked_run.build_trainer
    monkeypatch.setattr(masked_run, "build_trainer", lambda *args: builds.append(1) or build(*args))

    trainer_pool.forget()
    _run_trunk_and_reinit(config, warm.root)
    warm_builds = len(builds)
    # Trunk levels 1-2 start at the rewind step, as do the controls (another data
    # seed): one trainer serves them all after level 0's own.
    assert warm_builds == 2

    builds.clear()
    monkeypatch.setattr(trainer_pool, "_reusable", lambda model: False)
    trainer_pool.forget()
    _run_trunk_and_reinit(config, cold.root)
    assert len(builds) == 5  # every run built its own
    assert_same_results(stored_results(warm, 0), stored_results(cold, 0))


def test_a_kept_trainer_is_not_reused_by_another_experiment(tiny_mnist_dir, tmp_path, monkeypatch):
    builds = []
    build = masked_run.build_trainer
    monkeypatch.setattr(masked_run, "build_trainer", lambda *args: builds.append(1) or build(*args))
    trainer_pool.forget()
    for seed in (0, 1):  # two experiments (the seed is hashed), one after the other
        run_lottery(tiny_config(tiny_mnist_dir, levels=0, seed=seed), str(tmp_path), [0], quiet=True)
    assert len(builds) == 2
