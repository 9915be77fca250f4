"""--quiet means the same for `lottery` and `branch`: one progress line per run on stderr, no
line per evaluation; the result tables are printed on stdout by both, quiet or not."""
import re

import pytest
import tensorflow as tf

from lottery_tf.experiments.branches.runner import run_branch_command
from lottery_tf.experiments.lottery import run_lottery
from lottery_tf.experiments.setup import prepare
from lottery_tf.testing import tiny_config

# A finished run's progress line: label, full bar, step, speed (stderr is no terminal here).
PROGRESS = re.compile(r"^\[rep 0 level \d( \w+)? +[\d.]+%\] \[#+\] step 20/20 \| \d+ it/s \| ")


@pytest.fixture(scope="module")
def config(tiny_mnist_dir):
    return tiny_config(tiny_mnist_dir, levels=1, **{"training.train_steps": "20it",
                                                    "training.eval_every": "10it",
                                                    "runtime.jit_compile": False})


def test_quiet_lottery_and_branch_print_one_progress_line_per_run_and_their_tables(
        config, tmp_path, capsys):
    root = str(tmp_path)
    run_lottery(config, root, [0], quiet=True)
    lottery = capsys.readouterr()
    setup = prepare(config, root, tf.distribute.get_strategy(), quiet=True)
    run_branch_command(setup, "reinit", [0], [0, 1])
    branch = capsys.readouterr()

    for printed, runs in ((lottery, 2), (branch, 2)):  # levels 0 and 1 of each
        progress = printed.err.splitlines()
        assert len(progress) == runs and all(PROGRESS.match(line) for line in progress), printed.err
        assert "val loss" not in printed.out + printed.err  # no line per evaluation
    assert [line.split("]")[0] for line in branch.err.splitlines()] == [
        "[rep 0 level 0 reinit 100.0%", "[rep 0 level 1 reinit  80.0%"]
    # The tables, as without --quiet.
    assert "replicate 0:\nlevel  % left test acc %" in lottery.out
    assert "replicate 0: ticket and every control" in branch.out and "reinit acc %" in branch.out


def test_without_quiet_both_print_a_line_per_evaluation_on_stdout(config, tmp_path, capsys):
    root = str(tmp_path)
    run_lottery(config, root, [0], quiet=False)
    lottery = capsys.readouterr()
    setup = prepare(config, root, tf.distribute.get_strategy(), quiet=False)
    run_branch_command(setup, "reinit", [0], [1])
    branch = capsys.readouterr()
    for printed, label in ((lottery, "[rep 0 level 1  80.0%]"), (branch, "[rep 0 level 1 reinit  80.0%]")):
        evaluations = [line for line in printed.out.splitlines() if line.startswith(label)]
        assert len(evaluations) == 3 and all("val loss" in line for line in evaluations)  # steps 0, 10, 20
        assert printed.err == ""
