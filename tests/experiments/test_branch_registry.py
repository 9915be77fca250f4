"""Branch records: stored folders keep their names, arguments are checked, flags come from the records."""
import subprocess
import sys

import pytest

from lottery_tf.errors import ConfigError
from lottery_tf.experiments.branches import registry as branch_registry

# Pinned: the folders of replicate 0 (seed 0) with default arguments, as results stored
# before the records existed named them. Changing one orphans every stored run of that branch.
PINNED_FOLDERS = {
    "reinit": "branch_reinit_f8b1bdad5e",
    "reinit_sign": "branch_reinit_sign_b7ce1f1e71",
    "random_prune": "branch_random_prune_292589dbba",
    "shuffle_mask": "branch_shuffle_mask_5de2816984",
    "one_shot": "branch_one_shot_7f94f862e1",
    "init_eval": "branch_init_eval_926e4b981f",
    "rewind_sweep": "branch_rewind_sweep_ccaf019d63",
    "lmc": "branch_lmc_23ef7ff79d",
    "prune_at_init": "branch_prune_at_init_657801bbd3",
}


@pytest.mark.parametrize("name", sorted(PINNED_FOLDERS))
def test_default_folders_are_pinned(name):
    record = branch_registry.get(name)
    assert record.folder(0, record.with_defaults({})) == PINNED_FOLDERS[name]


def test_folders_with_arguments_are_pinned():
    prune = branch_registry.get("prune_at_init")
    args = prune.with_defaults({"method": "magnitude", "examples": 200, "scope": "global"})
    assert prune.folder(7, args) == "branch_prune_at_init_20af57bbd6"
    lmc = branch_registry.get("lmc")
    assert lmc.folder(3, lmc.with_defaults({"points": 5, "start": "500it"})) == "branch_lmc_c2e75d9118"


def test_a_retrain_folder_is_named_by_the_target_configs_hash_not_its_path(tmp_path):
    from lottery_tf.testing import write_config_file

    target = write_config_file(tmp_path / "target.py", "/data", rewind="20it")
    moved = write_config_file(tmp_path / "moved.py", "/elsewhere", rewind="20it")  # data_dir: unhashed
    other = write_config_file(tmp_path / "other.py", "/data", rewind="40it")
    record = branch_registry.get("retrain")
    assert record.folder(0, {"config": str(target)}) == record.folder(0, {"config": str(moved)})
    assert record.folder(0, {"config": str(target)}) != record.folder(0, {"config": str(other)})


def test_an_argument_a_branch_does_not_take_is_refused_naming_the_ones_it_does():
    with pytest.raises(ConfigError, match=r"'lmc' takes no argument 'pointz'; its arguments: points, start"):
        branch_registry.get("lmc").with_defaults({"pointz": 3})
    with pytest.raises(ConfigError, match="takes no argument 'method'; its arguments: none"):
        branch_registry.get("reinit").with_defaults({"method": "snip"})
    with pytest.raises(ConfigError, match="Unknown branch 'magic'"):
        branch_registry.get("magic")


def test_applicable_arguments_follow_the_record():
    # SNIP's example count means nothing to magnitude pruning; the method comes first
    # although stored arguments come back sorted.
    stored = {"examples": 1000, "method": "magnitude", "scope": None}
    assert branch_registry.applicable_args("prune_at_init", stored) == {"method": "magnitude"}
    assert branch_registry.describe_args("prune_at_init", {"examples": 200, "method": "snip"}) == (
        "method=snip,examples=200")
    # A branch stored by fit's save_level under a name no record has keeps its arguments.
    assert branch_registry.applicable_args("my_control", {"seed": 3}) == {"seed": 3}


def test_the_command_line_defines_each_records_flags():
    run = subprocess.run([sys.executable, "-m", "lottery_tf", "--helpfull"], capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    flags = branch_registry.flag_arguments()
    assert {argument.flag for _, argument in flags} == {
        "rewind_points", "lmc_points", "lmc_start", "method", "scope", "retrain_config"}
    for record, argument in flags:
        assert f"--{argument.flag}: {record.name}: {argument.help.split(' ')[0]}" in run.stdout
    assert "--lmc_points: lmc: evaluation points on the interpolation path (30).\n    (an integer)" in (
        run.stdout)
