"""BUILD.md's "How to add a branch" recipe: one function, one record, and the branch runs,
stores its folder and metrics, and shows up with the other controls."""
import subprocess
import sys

import numpy as np
import pytest

from lottery_tf.experiments import branches
from lottery_tf.experiments.branches import registry
from lottery_tf.experiments.branches.context import BranchContext
from lottery_tf.experiments.branches.registry import Branch, BranchArgument, register
from lottery_tf.experiments.lottery import replicate_seed, run_lottery
from lottery_tf.experiments.masked_run import fresh_weights
from lottery_tf.experiments.setup import prepare
from lottery_tf.report.console import combined_table
from lottery_tf.storage import files as storage_files
from lottery_tf.storage import store
from lottery_tf.testing import tiny_config

NAME = "fixed_init"


def fixed_init(ctx: BranchContext) -> dict:
    """A control written as a newcomer would: the trunk mask on the initialization of a fixed seed."""
    return ctx.run(ctx.trunk_mask, fresh_weights(ctx.setup, int(ctx.args["init_seed"])))


@pytest.fixture(scope="module")
def setup(tiny_mnist_dir, tmp_path_factory):
    import tensorflow as tf

    config = tiny_config(tiny_mnist_dir, levels=1, rewind="20it", **{"training.train_steps": "40it"})
    root = str(tmp_path_factory.mktemp("recipe_runs"))
    run_lottery(config, root, [0], quiet=True)
    return prepare(config, root, tf.distribute.get_strategy(), quiet=True)


@pytest.fixture
def record():
    """The recipe's one registry line, removed again after the test."""
    added = Branch(NAME, f"{__name__}:{NAME}", seed_offset=9_000_001, arguments=(
        BranchArgument("init_seed", "the seed of the fixed initialization.", value_type=int,
                       default=1234),))
    register(added)
    yield added
    del registry.BRANCHES[NAME]


def test_a_branch_from_the_recipe_runs_stores_and_is_collected(setup, record):
    metrics = branches.run_branch(setup, NAME, 0, 1)
    seed = replicate_seed(setup.config, 0)
    assert metrics["branch_folder"] == record.folder(seed, {"init_seed": 1234})
    files = setup.paths.branch_files(0, 1, metrics["branch_folder"])
    assert storage_files.exists(files.metrics) and store.read_json(files.metrics) == metrics
    assert metrics["branch"] == NAME and metrics["branch_args"] == {"init_seed": 1234}
    assert metrics["seed"] == seed + 9_000_001 and metrics["start_step"] == setup.rewind_step
    trunk_mask = store.load_arrays(setup.paths.mask(0, 1))
    start = store.load_arrays(files.weights_start)
    fixed = fresh_weights(setup, 1234)
    for layer, mask in trunk_mask.items():
        np.testing.assert_array_equal(store.load_arrays(files.mask)[layer], mask)
        kernel = setup.weight_keys[layer]
        np.testing.assert_array_equal(start[kernel], fixed[kernel] * mask)

    collected = branches.collect_branches(setup, 0)
    assert [run["level"] for run in collected[NAME]] == [1]
    table = combined_table(branches.trunk_results(setup, 0), collected).splitlines()
    assert f"{NAME} acc %" in table[0] and table[1].split()[-1] == "-"  # no run at level 0
    # One training per level (the default `shown_as`): a summary CSV like the trunk's.
    assert storage_files.exists(f"{setup.paths.replicate(0)}/summary_{metrics['branch_folder']}.csv")


def test_the_recipe_line_is_the_only_registration(record):
    from lottery_tf.experiments import branch_registry

    # The compatibility module README names sees the same records.
    assert branch_registry.get(NAME) is record and branch_registry.BRANCHES is registry.BRANCHES
    assert NAME not in {r.name for r, _ in registry.flag_arguments()}  # no flag: sweep files, Python


def test_reading_the_registry_loads_no_tensorflow():
    code = ("import sys\n"
            "from lottery_tf.experiments.branches import registry\n"
            "from lottery_tf.experiments import branch_registry\n"
            "print(len(registry.flag_arguments()), 'tensorflow' in sys.modules)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["6", "False"]
