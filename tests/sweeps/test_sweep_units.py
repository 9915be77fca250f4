"""Sweep files, their units and shards, and where a worker's shard comes from (no training)."""
import pathlib
import subprocess
import sys

import pytest

from lottery_tf.errors import ConfigError
from lottery_tf.sweeps.launch import CPU_ENV, shard_from, worker_environments
from lottery_tf.sweeps.spec import load_sweep
from lottery_tf.sweeps.units import expand, shard
from lottery_tf.testing import write_config_file


def write_sweep(path, config_file, replicates="0", branches=None, **extra):
    sweep = {"config": str(config_file), "replicates": replicates, "branches": branches or [], **extra}
    path.write_text(f"def get_sweep():\n    return {sweep!r}\n")
    return path


@pytest.fixture
def config_file(tmp_path, tiny_mnist_dir):
    return write_config_file(tmp_path / "tiny.py", tiny_mnist_dir, levels=3)


def test_a_sweep_expands_to_trunks_then_branch_runs_lowest_level_first(tmp_path, config_file):
    sweep = load_sweep(write_sweep(tmp_path / "s.py", config_file, "0-1", [
        {"name": "reinit", "levels": "1-3"},
        {"name": "prune_at_init", "levels": "2", "args": {"method": "snip"}}]))
    units = expand(sweep)
    assert [u.id for u in units[:2]] == ["trunk_r0", "trunk_r1"]
    assert all(u.level == 3 for u in units[:2])
    branch_units = units[2:]
    assert len(branch_units) == 2 * 3 + 2
    assert [u.level for u in branch_units] == sorted(u.level for u in branch_units)
    assert len({u.id for u in units}) == len(units)
    snip = [u for u in branch_units if u.branch == "prune_at_init"]
    assert [dict(u.args) for u in snip] == [{"method": "snip"}] * 2


def test_overrides_reach_the_config_and_change_nothing_else(tmp_path, config_file):
    sweep = load_sweep(write_sweep(tmp_path / "s.py", config_file, overrides={
        "levels": 5, "pruning.rate": 0.3}))
    assert sweep.config.levels == 5 and sweep.config.pruning.rate == 0.3
    assert sweep.config.model.name == "lenet_40_20"


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_shards_cover_every_unit_once_and_are_balanced(tmp_path, config_file, count):
    sweep = load_sweep(write_sweep(tmp_path / "s.py", config_file, "0-2", [
        {"name": "reinit", "levels": "1-3"}, {"name": "random_prune", "levels": "1-3"}]))
    units = expand(sweep)
    shards = [shard(units, index, count) for index in range(count)]
    assert sorted(u.id for s in shards for u in s) == sorted(u.id for u in units)
    loads = [sum(u.cost for u in s) for s in shards]
    assert max(loads) - min(loads) <= max(u.cost for u in units)
    assert shards == [shard(units, index, count) for index in range(count)]  # every worker agrees


@pytest.mark.parametrize("entry, message", [
    ({"name": "reinitt", "levels": "1"}, "unknown branch 'reinitt'"),
    ({"name": "reinit", "levels": "4"}, "past the config's last level 3"),
    ({"name": "reinit"}, "needs 'name' and 'levels'"),
    ({"name": "reinit", "levels": "one"}, "not a list of numbers"),
    ({"name": "lmc", "levels": "1", "args": {"pointz": 5}}, "'lmc' takes no argument 'pointz'; its "
     "arguments: points, start"),
])
def test_a_bad_branch_entry_gets_one_clear_error(tmp_path, config_file, entry, message):
    with pytest.raises(ConfigError, match=message):
        load_sweep(write_sweep(tmp_path / "s.py", config_file, branches=[entry]))


@pytest.fixture
def forget_eval_again():
    """Removes the branch the test's sweep file registers, keeping the registry's dict itself
    (other modules hold it by reference)."""
    from lottery_tf.experiments.branches import registry as branch_registry

    yield
    branch_registry.BRANCHES.pop("eval_again", None)


def test_a_sweep_file_can_register_a_branch_of_its_own(tmp_path, config_file, forget_eval_again):
    path = write_sweep(tmp_path / "s.py", config_file, branches=[
        {"name": "eval_again", "levels": "1", "args": {"note": "b"}}])
    path.write_text("from lottery_tf.experiments.branch_registry import Branch, BranchArgument, register\n"
                    "register(Branch('eval_again', 'lottery_tf.experiments.branches:init_eval', 11,\n"
                    "                (BranchArgument('note', 'a tag', default='a'),)))\n" + path.read_text())
    (unit,) = [unit for unit in expand(load_sweep(path)) if not unit.is_trunk]
    assert (unit.branch, unit.args) == ("eval_again", (("note", "b"),))
    path.write_text(path.read_text().replace("'note': 'b'", "'nope': 'b'"))
    with pytest.raises(ConfigError, match="'eval_again' takes no argument 'nope'; its arguments: note"):
        load_sweep(path)


def test_a_missing_sweep_or_config_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_sweep(str(tmp_path / "nothing.py"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_sweep(write_sweep(tmp_path / "s.py", tmp_path / "missing_config.py"))
    (tmp_path / "bad.py").write_text("X = 1\n")
    with pytest.raises(ConfigError, match="get_sweep"):
        load_sweep(str(tmp_path / "bad.py"))


@pytest.mark.parametrize("environ, expected", [
    ({}, (0, 1)),
    ({"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "4"}, (3, 4)),
    ({"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "1"}, (3, 4)),
    ({"JOB_COMPLETION_INDEX": "2", "LOTTERY_TF_SHARD_COUNT": "5"}, (2, 5)),
])
def test_the_shard_comes_from_the_scheduler_environment(environ, expected):
    assert shard_from(None, environ) == expected


def test_the_shard_flag_wins_and_bad_shards_are_refused():
    assert shard_from("1/2", {"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "4"}) == (1, 2)
    for text in ("2/2", "x/2", "1", "-1/3"):
        with pytest.raises(ConfigError, match="--shard"):
            shard_from(text, {})
    with pytest.raises(ConfigError, match="LOTTERY_TF_SHARD_COUNT"):
        shard_from(None, {"JOB_COMPLETION_INDEX": "0"})
    with pytest.raises(ConfigError, match="SLURM_ARRAY_TASK_COUNT"):
        shard_from(None, {"SLURM_ARRAY_TASK_ID": "0"})


def test_the_command_line_names_a_missing_sweep_file_without_a_traceback(tmp_path):
    repo = pathlib.Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "lottery_tf", "sweep", f"--sweep={tmp_path}/none.py",
                           f"--root={tmp_path}"], cwd=repo, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert f"error: Sweep file {tmp_path}/none.py does not exist." in done.stderr
    assert "Traceback" not in done.stderr


def test_local_workers_get_one_gpu_or_one_pinned_core_each():
    envs = worker_environments(3, {"CUDA_VISIBLE_DEVICES": "4,5", "X": "1"}, pin=True, cores=[0, 1])
    assert [env["CUDA_VISIBLE_DEVICES"] for env in envs] == ["4", "5", "4"]
    assert [env[CPU_ENV] for env in envs] == ["0", "1", "0"]
    assert all(env["X"] == "1" for env in envs)
    plain = worker_environments(2, {}, pin=False, cores=[0, 1])
    assert all("CUDA_VISIBLE_DEVICES" not in env and CPU_ENV not in env for env in plain)


@pytest.mark.parametrize("path, units, trainings", [
    ("configs/sweep_lenet_paper.py", 5 + 5 * 18 * 2, 5 * (19 + 18 + 18)),
    ("configs/sweep_lenet_mnist.py", 2 + 2 * (8 + 8 + 1), 2 * (9 + 8 + 8 + 1)),
    ("examples/fashion_dwcnn_sweep.py", 3 + 3 * 6, 3 * (7 + 6)),
])
def test_shipped_sweep_files_expand_to_the_runs_their_docs_give(path, units, trainings, monkeypatch):
    root = pathlib.Path(__file__).resolve().parents[2]
    monkeypatch.chdir(root)  # sweep files name their configs from the repository root
    expanded = expand(load_sweep(str(root / path)))
    assert len(expanded) == units
    # A trunk unit trains levels 0..L, a branch unit one level.
    assert _trainings(expanded) == trainings


def test_sweep_args_choose_a_variant_and_each_variant_is_its_own_sweep(tmp_path, config_file):
    from lottery_tf.sweeps.command import sweep_arguments

    path = tmp_path / "variants.py"
    path.write_text(f"def get_sweep(normalization='standardize'):\n"
                    f"    return {{'config': {str(config_file)!r}, "
                    f"'overrides': {{'dataset.normalization': normalization}}}}\n")
    default = load_sweep(str(path))
    unit = load_sweep(str(path), sweep_arguments(["normalization=unit_range"]))
    assert default.config.dataset.normalization == "standardize"
    assert unit.config.dataset.normalization == "unit_range"
    assert unit.digest != default.digest  # separate plan files
    with pytest.raises(ConfigError, match="cannot take --sweep_args .*unexpected keyword argument 'rate'"):
        load_sweep(str(path), {"rate": "0.5"})
    with pytest.raises(ConfigError, match="--sweep_args takes key=value items, got 'unit_range'"):
        sweep_arguments(["unit_range"])


@pytest.mark.parametrize("arguments, units, trainings", [
    ({}, 3 + 3 * 2 * 2, 3 * (16 + 4)),
    ({"procedure": "lr_rewind"}, 3, 3 * 16),
    ({"procedure": "finetune"}, 3, 3 * 16),
    ({"procedure": "short", "target": "10"}, 3, 3 * 11),
    ({"procedure": "early_bird", "target": "15"}, 3, 3 * 16),
    ({"procedure": "short"}, 3 + 3, 3 * 16 + 3),  # both targets: full_ticket at level 10
])
def test_tickets_for_less_plans_one_experiment_per_procedure(arguments, units, trainings, monkeypatch):
    from lottery_tf.config.hashing import config_hash

    root = pathlib.Path(__file__).resolve().parents[2]
    monkeypatch.chdir(root)
    path = str(root / "configs/sweep_tickets_for_less.py")
    sweep = load_sweep(path, arguments)
    expanded = expand(sweep)
    assert len(expanded) == units
    assert _trainings(expanded) == trainings
    assert sweep.config.training.train_steps == "50000it" and sweep.replicates == (0, 1, 2)
    # Every variant is its own experiment; the short levels' targets too (levels is hashed there).
    hashes = {config_hash(load_sweep(path, a).config) for a in (
        {}, {"procedure": "lr_rewind"}, {"procedure": "finetune"}, {"procedure": "short", "target": "10"},
        {"procedure": "short", "target": "15"}, {"procedure": "early_bird", "target": "10"},
        {"procedure": "early_bird", "target": "15"})}
    assert len(hashes) == 7
    # Without a target, short levels and early-bird are the level-15 experiment plus full_ticket.
    for procedure in ("short", "early_bird"):
        assert config_hash(load_sweep(path, {"procedure": procedure}).config) == config_hash(
            load_sweep(path, {"procedure": procedure, "target": "15"}).config)
    with pytest.raises(ConfigError, match="target=10 or target=15 is for procedures"):
        load_sweep(path, {"procedure": "imp", "target": "10"})


def test_lr_rewind_cosine_plans_two_experiments_that_differ_only_in_retrain(monkeypatch):
    from lottery_tf.config.hashing import config_hash

    root = pathlib.Path(__file__).resolve().parents[2]
    monkeypatch.chdir(root)
    path = str(root / "configs/sweep_lr_rewind_cosine.py")
    rewind, lr_rewind = load_sweep(path, {}), load_sweep(path, {"retrain": "lr_rewind"})
    assert _trainings(expand(rewind)) == 3 * (16 + 2)
    assert _trainings(expand(lr_rewind)) == 3 * 16
    for sweep in (rewind, lr_rewind):
        assert sweep.config.training.lr_schedule == "cosine"
        assert sweep.config.training.train_steps == "5000it" and sweep.replicates == (0, 1, 2)
    assert rewind.config.get("retrain") is None and lr_rewind.config.retrain == "lr_rewind"
    assert config_hash(rewind.config) != config_hash(lr_rewind.config)
    with pytest.raises(ConfigError, match="retrain must be one of"):
        load_sweep(path, {"retrain": "finetune"})


def _trainings(units) -> int:
    """Trainings a plan runs: a trunk unit trains levels 0..level, a branch unit one level."""
    return sum(u.level + 1 if u.branch is None else 1 for u in units)
