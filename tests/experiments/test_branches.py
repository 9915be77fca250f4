"""Controls off trunk levels keep what they promise."""
import os

import numpy as np
import pytest

from lottery_tf.config.ranges import parse_levels
from lottery_tf.errors import ConfigError, StoreError
from lottery_tf.experiments import branches
from lottery_tf.experiments.lottery import run_lottery
from lottery_tf.experiments.setup import prepare
from lottery_tf.pruning import random_masks
from lottery_tf.storage import store
from lottery_tf.testing import tiny_config


@pytest.fixture(scope="module")
def setup(tiny_mnist_dir, tmp_path_factory):
    import tensorflow as tf

    config = tiny_config(tiny_mnist_dir, levels=2, rewind="20it")
    root = str(tmp_path_factory.mktemp("branch_runs"))
    run_lottery(config, root, [0], quiet=True)
    return prepare(config, root, tf.distribute.get_strategy(), quiet=True)


def _files(setup, name, level):
    metrics = branches.run_branch(setup, name, 0, level)
    return metrics, setup.paths.branch_files(0, level, metrics["branch_folder"])


def test_reinit_keeps_the_mask_and_changes_every_surviving_weight(setup):
    metrics, files = _files(setup, "reinit", 2)
    trunk_mask = store.load_arrays(setup.paths.mask(0, 2))
    branch_mask = store.load_arrays(files.mask)
    ticket_start = store.load_arrays(setup.paths.weights_start(0, 2))
    reinit_start = store.load_arrays(files.weights_start)
    for layer, mask in trunk_mask.items():
        np.testing.assert_array_equal(branch_mask[layer], mask)
        kept = mask == 1
        assert np.all(reinit_start[f"{layer}/kernel"][~kept] == 0)
        assert np.all(reinit_start[f"{layer}/kernel"][kept] != ticket_start[f"{layer}/kernel"][kept])
    assert metrics["percent_remaining"] == pytest.approx(64.0, abs=0.3)
    assert metrics["seed"] != store.read_json(setup.paths.metrics(0, 2))["seed"]
    assert metrics["start_step"] == 20 and metrics["final_step"] == 60


def test_random_prune_keeps_per_layer_counts_from_the_rewind_point(setup):
    _, files = _files(setup, "random_prune", 1)
    trunk_mask = store.load_arrays(setup.paths.mask(0, 1))
    branch_mask = store.load_arrays(files.mask)
    rewind = store.load_arrays(setup.paths.rewind_weights(0))
    start = store.load_arrays(files.weights_start)
    for layer, mask in trunk_mask.items():
        assert branch_mask[layer].sum() == mask.sum()
        assert not np.array_equal(branch_mask[layer], mask)
        np.testing.assert_array_equal(start[f"{layer}/kernel"],
                                      rewind[f"{layer}/kernel"] * branch_mask[layer])


def test_global_random_masks_keep_the_total_only():
    rng = np.random.default_rng(0)
    masks = {"a": np.zeros((10, 10), np.float32), "b": np.ones((10, 10), np.float32)}
    new = random_masks.random_like_global(masks, rng)
    assert sum(m.sum() for m in new.values()) == 100
    assert new["a"].sum() > 0


def test_branch_rerun_reads_back_stored_results(setup):
    first, _ = _files(setup, "reinit", 1)
    again, _ = _files(setup, "reinit", 1)
    assert first == again


def test_branch_off_an_unfinished_level_says_what_to_run(setup):
    with pytest.raises(StoreError, match="levels>=5"):
        branches.run_branch(setup, "reinit", 0, 5)


def test_unknown_branch_and_bad_levels_are_refused(setup):
    with pytest.raises(ConfigError, match="Unknown branch"):
        branches.run_branch(setup, "magic", 0, 1)
    assert parse_levels("0-3,7") == [0, 1, 2, 3, 7]
    with pytest.raises(ConfigError, match="0-3,7"):
        parse_levels("one")
    with pytest.raises(ConfigError, match="last level 2"):
        parse_levels("1-4", max_level=2)


def test_combined_table_lists_ticket_and_controls(setup):
    trunk = branches.trunk_results(setup, 0)
    reinit = [branches.run_branch(setup, "reinit", 0, level) for level in (1, 2)]
    table = branches.combined_table(trunk, {"reinit": reinit}).splitlines()
    assert len(table) == 4 and "reinit acc" in table[0]
    assert table[1].split()[-1] == "-"  # level 0 has no reinit run
    # Accuracies in percent with two decimals, as the report gives them.
    assert float(table[3].split()[4]) == pytest.approx(100 * reinit[1]["early_stop_test_accuracy"], abs=5e-3)


def test_reinit_sign_keeps_every_sign_with_fresh_magnitudes(setup):
    _, files = _files(setup, "reinit_sign", 2)
    ticket = store.load_arrays(setup.paths.weights_start(0, 2))
    start = store.load_arrays(files.weights_start)
    for layer, mask in store.load_arrays(setup.paths.mask(0, 2)).items():
        kept = mask == 1
        ticket_kernel, start_kernel = ticket[f"{layer}/kernel"][kept], start[f"{layer}/kernel"][kept]
        np.testing.assert_array_equal(np.sign(start_kernel), np.sign(ticket_kernel))
        assert np.mean(np.abs(start_kernel) != np.abs(ticket_kernel)) > 0.99


def test_shuffle_mask_keeps_each_layers_count_and_moves_the_mask(setup):
    _, files = _files(setup, "shuffle_mask", 2)
    trunk = store.load_arrays(setup.paths.mask(0, 2))
    shuffled = store.load_arrays(files.mask)
    for layer, mask in trunk.items():
        assert shuffled[layer].sum() == mask.sum() and shuffled[layer].shape == mask.shape
        assert not np.array_equal(shuffled[layer], mask)


def test_one_shot_prunes_the_dense_trained_net_to_the_same_counts(setup):
    _, files = _files(setup, "one_shot", 2)
    trunk = store.load_arrays(setup.paths.mask(0, 2))
    one_shot = store.load_arrays(files.mask)
    dense = store.load_arrays(setup.paths.weights_end(0, 0))
    for layer, mask in trunk.items():
        assert one_shot[layer].sum() == mask.sum()
        magnitudes = np.abs(dense[f"{layer}/kernel"])
        assert magnitudes[one_shot[layer] == 1].min() >= magnitudes[one_shot[layer] == 0].max()


def test_init_eval_evaluates_without_training(setup):
    metrics, files = _files(setup, "init_eval", 2)
    assert metrics["final_step"] == metrics["start_step"] == 20
    assert [p["step"] for p in metrics["curve"]] == [20]
    start, end = store.load_arrays(files.weights_start), store.load_arrays(files.weights_end)
    for name in start:
        np.testing.assert_array_equal(start[name], end[name])


def test_rewind_sweep_replays_the_dense_run_exactly(setup):
    metrics = branches.run_branch(setup, "rewind_sweep", 0, 1, {"points": "0it,20it,40it"})
    assert sorted(metrics["by_rewind_step"], key=int) == ["0", "20", "40"]
    assert metrics["by_rewind_step"]["40"]["start_step"] == 40
    folder = setup.paths.branch_files(0, 1, metrics["branch_folder"]).dir
    replayed = store.load_arrays(f"{folder}/replay_20/weights_end.npz")
    stored = store.load_arrays(setup.paths.rewind_weights(0))  # the trunk's weights at step 20
    for name in stored:
        np.testing.assert_array_equal(replayed[name], stored[name])


def test_lmc_endpoints_equal_the_two_trained_copies(setup):
    metrics = branches.run_branch(setup, "lmc", 0, 1, {"points": 5})
    assert metrics["alphas"] == pytest.approx([0, 0.25, 0.5, 0.75, 1.0])
    first, second = metrics["copies"]
    assert metrics["error_a"] == pytest.approx(1 - first["test_accuracy"], abs=1e-6)
    assert metrics["error_b"] == pytest.approx(1 - second["test_accuracy"], abs=1e-6)
    assert metrics["instability"] == pytest.approx(
        max(metrics["errors"]) - (metrics["error_a"] + metrics["error_b"]) / 2)
    folder = setup.paths.branch_files(0, 1, metrics["branch_folder"]).dir
    a = store.load_arrays(f"{folder}/copy_1/weights_end.npz")
    b = store.load_arrays(f"{folder}/copy_2/weights_end.npz")
    assert not np.array_equal(a["dense_1/kernel"], b["dense_1/kernel"])  # different data orders


@pytest.mark.slow  # LMC stays covered by test_lmc_endpoints_equal_the_two_trained_copies and tests/analysis
def test_lmc_from_chosen_start_steps_gives_instability_against_rewind(setup, tmp_path):
    from lottery_tf.report.build import build_report

    default = branches.run_branch(setup, "lmc", 0, 1, {"points": 3})
    at_20 = branches.run_branch(setup, "lmc", 0, 1, {"points": 3, "start": "20it"})
    at_0 = branches.run_branch(setup, "lmc", 0, 1, {"points": 3, "start": "0it"})
    # Replaying level 0 to step 20 recovers the trunk's rewind weights exactly, so
    # starting there is the default lmc of this level (rewind=20it), bit for bit.
    assert at_20["start_step"] == default["start_step"] == 20 and at_0["start_step"] == 0
    assert at_20["errors"] == default["errors"]
    assert at_0["copies"][0]["start_step"] == 0

    def trained_copy(metrics):
        folder = setup.paths.branch_files(0, 1, metrics["branch_folder"]).dir
        return store.load_arrays(f"{folder}/copy_1/weights_end.npz")

    for name, value in trained_copy(default).items():
        np.testing.assert_array_equal(trained_copy(at_20)[name], value, err_msg=name)
    assert not np.array_equal(trained_copy(at_0)["dense_1/kernel"], trained_copy(default)["dense_1/kernel"])
    with pytest.raises(ConfigError, match="past the end of training"):
        branches.run_branch(setup, "lmc", 0, 1, {"points": 3, "start": "60it"})

    report = build_report(setup.paths.root, out=str(tmp_path), quiet=True).experiments[0]
    (line,) = [line for line in report.figures["instability_vs_rewind"].axes[0].lines
               if "% remaining" in line.get_label()]
    np.testing.assert_array_equal(line.get_xdata(), [0, 20])
    np.testing.assert_allclose(line.get_ydata(), [at_0["instability"], at_20["instability"]])
    assert (tmp_path / "instability_vs_rewind.svg").exists()


@pytest.mark.parametrize("method,scope", [("snip", "layerwise"), ("synflow", "global")])
def test_prune_at_init_matches_the_level_sparsity_and_trains_from_init(setup, method, scope):
    metrics = branches.run_branch(setup, "prune_at_init", 0, 2,
                                  {"method": method, "scope": scope, "examples": 200})
    files = setup.paths.branch_files(0, 2, metrics["branch_folder"])
    trunk = store.load_arrays(setup.paths.mask(0, 2))
    masks = store.load_arrays(files.mask)
    if scope == "layerwise":
        assert all(masks[layer].sum() == trunk[layer].sum() for layer in trunk)
    assert sum(m.sum() for m in masks.values()) == sum(m.sum() for m in trunk.values())
    assert not all(np.array_equal(masks[layer], trunk[layer]) for layer in trunk)
    assert metrics["start_step"] == 0 and metrics["method"] == method
    init = store.load_arrays(setup.paths.weights_start(0, 0))
    start = store.load_arrays(files.weights_start)
    np.testing.assert_array_equal(start["dense_1/kernel"], init["dense_1/kernel"] * masks["dense_1"])


def test_retrain_transfers_the_ticket_to_another_dataset(setup, tmp_path):
    from lottery_tf.testing import write_tiny_mnist

    target_dir = write_tiny_mnist(tmp_path / "fashion", seed=7)
    config_file = tmp_path / "target.py"
    config_file.write_text(
        "from lottery_tf.testing import tiny_config\n\n\n"
        "def get_config():\n"
        f"    config = tiny_config({str(target_dir)!r})\n"
        "    config.dataset.name = 'fashion_mnist'\n"
        "    config.training.train_steps = '40it'\n"
        "    return config\n")
    metrics = branches.run_branch(setup, "retrain", 0, 2, {"config": str(config_file)})
    assert metrics["target_dataset"] == "fashion_mnist" and metrics["rebuilt_weights"] == []
    assert metrics["start_step"] == 0 and metrics["final_step"] == 40
    files = setup.paths.branch_files(0, 2, metrics["branch_folder"])
    ticket = store.load_arrays(setup.paths.weights_start(0, 2))
    start = store.load_arrays(files.weights_start)
    for name in ticket:
        np.testing.assert_array_equal(start[name], ticket[name])
    with pytest.raises(ConfigError, match="retrain_config"):
        branches.run_branch(setup, "retrain", 0, 2)


def test_single_run_branches_get_a_summary_like_the_trunk(setup):
    import csv

    metrics = [branches.run_branch(setup, "reinit", 0, level) for level in (1, 2)]
    folder = metrics[0]["branch_folder"]
    csv_path = os.path.join(setup.paths.replicate(0), f"summary_{folder}.csv")
    with open(csv_path) as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["level"]) for r in rows] == [1, 2]
    assert [float(r["early_stop_test_accuracy"]) for r in rows] == pytest.approx(
        [m["early_stop_test_accuracy"] for m in metrics])
    assert os.path.isdir(setup.paths.tensorboard_summary(0, folder.removeprefix("branch_")))


def test_two_argument_sets_of_one_branch_get_their_own_tensorboard_runs_and_labels(setup):
    from lottery_tf.testing import hparams_sessions

    runs = [branches.run_branch(setup, "prune_at_init", 0, 2, {"method": method, "examples": 200})
            for method in ("snip", "magnitude")]
    sessions = hparams_sessions(setup.paths.tensorboard_root)
    for metrics, method in zip(runs, ("snip", "magnitude"), strict=True):
        name = os.path.join("rep0", "level_02", metrics["branch_folder"].removeprefix("branch_"))
        hparams, values = sessions[name]  # a folder of its own, named by the branch's hash
        assert name.startswith(os.path.join("rep0", "level_02", "prune_at_init_"))
        assert hparams["run"] == "prune_at_init" and hparams["level"] == 2
        assert hparams["percent_remaining"] == pytest.approx(metrics["percent_remaining"], abs=1e-4)
        # Only the arguments that apply: SNIP's example count is not magnitude pruning's.
        assert hparams["arguments"] == ("method=snip,examples=200" if method == "snip"
                                        else "method=magnitude")
        assert values["hparams/test_accuracy_at_early_stop"] == pytest.approx(
            100 * metrics["early_stop_test_accuracy"], abs=1e-4)
    labels = branches.collect_branches(setup, 0)
    assert "prune_at_init[magnitude]" in labels and "prune_at_init[snip,200]" in labels


def test_a_registered_branch_runs_under_its_own_record(setup, monkeypatch):
    from lottery_tf.experiments.branches import registry as branch_registry
    from lottery_tf.experiments.branches.registry import Branch, BranchArgument
    from lottery_tf.experiments.lottery import replicate_seed

    monkeypatch.setattr(branch_registry, "BRANCHES", dict(branch_registry.BRANCHES))
    record = Branch("eval_again", "lottery_tf.experiments.branches:init_eval", seed_offset=11,
                    arguments=(BranchArgument("note", "a tag that only names the folder", default="a"),))
    branch_registry.register(record)
    metrics = branches.run_branch(setup, "eval_again", 0, 1)
    assert metrics["branch_folder"] == record.folder(replicate_seed(setup.config, 0), {"note": "a"})
    assert metrics["seed"] == replicate_seed(setup.config, 0) + 11 and metrics["branch_args"] == {"note": "a"}
    assert metrics["final_step"] == setup.rewind_step  # init_eval's function: evaluated, not trained
    assert "eval_again" in branches.collect_branches(setup, 0)
    with pytest.raises(ConfigError, match="takes no argument 'points'"):
        branches.run_branch(setup, "eval_again", 0, 1, {"points": 3})
