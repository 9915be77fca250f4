"""Short levels (`intermediate_steps`): levels before the last only rank weights, the last trains fully."""
import csv
import os

import pytest

from lottery_tf.config import hashing
from lottery_tf.errors import ConfigError
from lottery_tf.storage import store
from lottery_tf.storage.catalog import find_experiment
from lottery_tf.testing import hparams_sessions, tensorboard_scalars, tiny_config

STEPS = {"training.train_steps": "40it", "training.eval_every": "20it", "runtime.jit_compile": False}


def test_intermediate_levels_stop_at_the_short_step_and_the_last_trains_fully(tiny_mnist_dir, tmp_path):
    from lottery_tf.experiments.lottery import run_lottery
    from lottery_tf.report import aggregate
    from lottery_tf.report.collect import collect
    from lottery_tf.report.console import combined_table, trunk_table

    config = tiny_config(tiny_mnist_dir, levels=2, intermediate_steps="10it", **STEPS)
    results = run_lottery(config, str(tmp_path), [0], quiet=True)[0]
    experiment = find_experiment(str(tmp_path), None)
    stored = [store.read_json(experiment.paths.metrics(0, level)) for level in range(3)]
    assert [(m["start_step"], m["end_step"]) for m in stored] == [(0, 10), (0, 10), (0, 40)]
    assert [m.get("short_level") for m in stored] == [True, True, None]
    assert stored[0]["full_end_step"] == 40 and stored[-1]["curve"][-1]["step"] == 40
    # Cost adds up: two short levels of 10 iterations, then the full 40.
    assert [m["cumulative_train_iterations"] for m in stored] == [10, 20, 60]
    assert stored[2]["cumulative_train_flops_dense"] == pytest.approx(
        sum(m["train_flops_dense"] for m in stored))
    # Reports keep short levels apart from tickets.
    kinds = aggregate.run_kinds(collect(experiment).trunk, {})
    assert {kind: sorted(runs[0]) for kind, runs in kinds.items()} == {
        aggregate.TICKET: [2], aggregate.SHORT_LEVEL: [0, 1]}
    assert "short (ranking)" in trunk_table(results).splitlines()[1]
    assert "short (ranking)" in combined_table(results, {}).splitlines()[2]
    # TensorBoard: short levels' sessions are `ranking`, their by-level points a line of their own.
    sessions = hparams_sessions(experiment.paths.tensorboard_root)
    assert [sessions[os.path.join("rep0", f"level_0{level}", "ticket")][0]["run"]
            for level in range(3)] == ["ranking", "ranking", "ticket"]
    by_level = tensorboard_scalars(experiment.paths.tensorboard_summary(0, "ticket"))
    assert [step for step, _ in by_level["lottery/ranking/test_accuracy_at_early_stop"]] == [0, 1]
    assert [step for step, _ in by_level["lottery/ticket/test_accuracy_at_early_stop"]] == [2]
    assert [step for step, _ in by_level["lottery/ticket/percent_remaining"]] == [0, 1, 2]
    # summary.csv says which levels were short and what each cost.
    with open(experiment.paths.summary_csv(0)) as handle:
        rows = list(csv.DictReader(handle))
    assert [row["short_level"] for row in rows] == ["True", "True", ""]
    assert [int(float(row["cumulative_train_iterations"])) for row in rows] == [10, 20, 60]
    assert [float(row["train_flops_sparse"]) for row in rows] == [m["train_flops_sparse"] for m in stored]


def test_a_sweep_plan_counts_short_levels_at_their_length(tiny_mnist_dir, tmp_path):
    import tensorflow as tf

    from lottery_tf.experiments.ranking_levels import trunk_level_iterations
    from lottery_tf.experiments.setup import prepare

    def lengths(**overrides):
        config = tiny_config(tiny_mnist_dir, levels=2, **{**STEPS, **overrides})
        setup = prepare(config, str(tmp_path / "runs"), tf.distribute.get_strategy(), quiet=True)
        return [trunk_level_iterations(setup, level) for level in range(3)]

    assert lengths() == [40, 40, 40]
    assert lengths(rewind="10it") == [40, 30, 30]
    assert lengths(intermediate_steps="15it", rewind="10it") == [15, 15, 30]
    assert lengths(retrain="finetune", finetune_steps="5it") == [40, 5, 5]


def test_levels_are_hashed_with_short_levels_and_unset_changes_nothing(tiny_mnist_dir):
    config = tiny_config(tiny_mnist_dir)
    unset = hashing.config_hash(config)
    config.levels = 7
    assert hashing.config_hash(config) == unset  # plain IMP: levels can grow
    config.intermediate_steps = "10it"
    short_7 = hashing.config_hash(config)
    config.levels = 8
    assert len({unset, short_7, hashing.config_hash(config)}) == 3
    assert hashing.hashed_fields(config)["levels"] == 8


def test_a_short_level_ending_before_the_rewind_point_is_refused(tiny_mnist_dir, tmp_path):
    import tensorflow as tf

    from lottery_tf.experiments.setup import prepare

    config = tiny_config(tiny_mnist_dir, levels=1, intermediate_steps="5it", rewind="10it", **STEPS)
    with pytest.raises(ConfigError, match="ends level 0 before the rewind point"):
        prepare(config, str(tmp_path), tf.distribute.get_strategy(), quiet=True)
    config.intermediate_steps = "0it"
    with pytest.raises(ConfigError, match="must be positive"):
        prepare(config, str(tmp_path), tf.distribute.get_strategy(), quiet=True)
    assert not list(tmp_path.iterdir())  # nothing claimed


def test_full_ticket_gives_a_cut_short_level_the_ticket_a_shorter_experiment_trains(tiny_mnist_dir, tmp_path):
    """One experiment run to level 3 plus `full_ticket` at level 2 equals, bit for bit, the last
    level of the experiment that stops at level 2, at the same cost; reports put it on the
    trunk's line."""
    import numpy as np
    import tensorflow as tf

    from lottery_tf.experiments import branches
    from lottery_tf.experiments.lottery import run_lottery
    from lottery_tf.experiments.setup import prepare
    from lottery_tf.report import aggregate, cost
    from lottery_tf.report.collect import collect
    from lottery_tf.storage.catalog import find_experiments

    root = str(tmp_path)
    shorter = tiny_config(tiny_mnist_dir, levels=2, intermediate_steps="10it", **STEPS)
    longer = tiny_config(tiny_mnist_dir, levels=3, intermediate_steps="10it", **STEPS)
    for config in (shorter, longer):
        run_lottery(config, root, [0], quiet=True)
    setup = prepare(longer, root, tf.distribute.get_strategy(), quiet=True)
    ticket = branches.run_branch(setup, "full_ticket", 0, 2)
    with pytest.raises(ConfigError, match="trained fully"):
        branches.run_branch(setup, "full_ticket", 0, 3)

    (stopped,) = find_experiments(root, hashing.config_hash(shorter))
    reference = store.read_json(stopped.paths.metrics(0, 2))
    assert reference.get("short_level") is None and ticket["trunk_ticket"] is True
    for key in ("start_step", "end_step", "early_stop_step", "early_stop_test_accuracy", "test_accuracy",
                "curve", "percent_remaining", "cumulative_train_iterations", "cumulative_train_flops_dense"):
        assert ticket[key] == reference[key], key
    assert ticket["cumulative_train_iterations"] == 10 + 10 + 40
    folder = ticket["branch_folder"]
    mine = store.load_arrays(setup.paths.branch_files(0, 2, folder).weights_end)
    theirs = store.load_arrays(stopped.paths.weights_end(0, 2))
    assert sorted(mine) == sorted(theirs)
    for name in mine:
        np.testing.assert_array_equal(mine[name], theirs[name])

    collected = collect(find_experiments(root, hashing.config_hash(longer))[0])
    procedures = cost.procedure_runs([collected])
    assert list(procedures) == ["IMP weight rewinding + short levels 10it"]  # no full_ticket line
    assert sorted(procedures["IMP weight rewinding + short levels 10it"][0]) == [2, 3]
    kinds = aggregate.run_kinds(collected.trunk, collected.branches)
    assert sorted(kinds[aggregate.TICKET][0]) == [2, 3] and "full_ticket" not in kinds
    assert sorted(kinds[aggregate.SHORT_LEVEL][0]) == [0, 1, 2]
