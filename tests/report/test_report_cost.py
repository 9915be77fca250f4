"""Tickets for less: accuracy against cumulative cost, one line per procedure, over experiments."""
import csv
import dataclasses
import os

import pytest

from lottery_tf.config import base_config
from lottery_tf.report import cost, tables
from lottery_tf.report.collect import Collected, Missing
from lottery_tf.storage.catalog import StoredExperiment
from lottery_tf.storage.paths import ExperimentPaths

PERCENTS = {0: 100.0, 1: 80.0, 2: 64.0}


def _run(level, accuracy, iterations=100, **extra):
    flops = 10.0 * iterations
    return {"level": level, "start_step": 0, "end_step": iterations, "train_iterations": iterations,
            "train_flops_dense": flops, "train_flops_sparse": flops * PERCENTS[level] / 100,
            "percent_remaining": PERCENTS[level], "early_stop_test_accuracy": accuracy,
            "test_accuracy": accuracy, "early_stop_step": iterations, **extra}


def _experiment(name, trunk, branches=None, **config_fields):
    config = base_config()
    for key, value in config_fields.items():
        section, _, field = key.rpartition(".")
        (config[section] if section else config)[field] = value
    stored = StoredExperiment(name, name[-4:], ExperimentPaths("/nowhere", name), config.to_dict())
    return Collected(stored, trunk, branches or {}, Missing())


def _trunk(accuracies, replicates=(0, 1), short_below=None, iterations=100):
    return {r: {level: _run(level, accuracy + r / 100, iterations,
                            **({"short_level": True} if short_below is not None and level < short_below
                               else {}))
                for level, accuracy in enumerate(accuracies)} for r in replicates}


def test_procedures_are_labelled_merged_across_levels_and_short_levels_left_out():
    imp = _experiment("imp_aaaa", _trunk([0.97, 0.975, 0.976]), {
        "one_shot": {r: {2: _run(2, 0.96, branch="one_shot", mask_from="dense")} for r in (0, 1)},
        "random_prune": {r: {2: _run(2, 0.90, branch="random_prune", mask_from="none")} for r in (0, 1)}})
    lr_rewind = _experiment("lrr_bbbb", _trunk([0.97, 0.974, 0.972]), retrain="lr_rewind")
    # Short levels: an experiment per final level; intermediate levels train 10 iterations.
    short_1 = _experiment("s1_cccc", {r: {0: _run(0, 0.5, 10, short_level=True), 1: _run(1, 0.97)}
                                      for r in (0, 1)}, levels=1, intermediate_steps="10it")
    short_2 = _experiment("s2_dddd", {r: {0: _run(0, 0.5, 10, short_level=True),
                                          1: _run(1, 0.6, 10, short_level=True), 2: _run(2, 0.95)}
                                      for r in (0, 1)}, levels=2, intermediate_steps="10it")
    procedures = cost.procedure_runs([imp, lr_rewind, short_1, short_2])
    assert list(procedures) == ["IMP lr rewinding", "IMP weight rewinding",
                                "IMP weight rewinding + short levels 10it", "one_shot", "random_prune"]
    short = procedures["IMP weight rewinding + short levels 10it"]
    assert sorted(short[0]) == [1, 2]  # level 1 of one experiment, level 2 of the other
    assert short[0][2][1] == cost.Cost(120, 1200.0, 10.0 * (10 + 8 + 64))
    assert procedures["IMP weight rewinding"][1][2][1].iterations == 300
    assert procedures["one_shot"][0][2][1] == cost.Cost(200, 2000.0, 1640.0)
    assert procedures["random_prune"][0][2][1] == cost.Cost(100, 1000.0, 640.0)

    points = cost.cost_points(procedures)
    at_2 = {p.procedure: p for p in points if p.level == 2}
    assert len(at_2) == 5 and at_2["IMP weight rewinding"].accuracy.min == pytest.approx(0.976)
    assert at_2["IMP weight rewinding"].accuracy.max == pytest.approx(0.986)
    assert at_2["IMP weight rewinding + short levels 10it"].iterations.mean == 120
    assert cost.figure_levels(points) == [2]
    summary = tables.cost_summary_table(points)
    row = next(r for r in summary.rows if r[:3] == [2, 64.0, "IMP weight rewinding"])
    assert row[3:5] == ["98.10 (97.60-98.60)", "300"] and row[-2:] == ["+0.00", "1"]
    # Against IMP at the same level: accuracy in points, cost as a fraction (dense FLOPs).
    short = "IMP weight rewinding + short levels 10it"
    short_row = next(r for r in summary.rows if r[:3] == [2, 64.0, short])
    assert short_row[-2:] == ["-3.10", "0.4"]  # 95.0 vs 98.1; the FLOPs of 120 vs 300 iterations
    lr_row = next(r for r in summary.rows if r[:3] == [2, 64.0, "IMP lr rewinding"])
    assert lr_row[-2:] == ["-0.40", "1"]


def test_a_branch_off_several_trunks_and_other_settings_are_told_apart():
    branches = {"one_shot": {0: {1: _run(1, 0.96, branch="one_shot", mask_from="dense")}}}
    weight = _experiment("w_aaaa", _trunk([0.97, 0.975], (0,)), branches)
    lr = _experiment("l_bbbb", _trunk([0.97, 0.975], (0,)), branches, retrain="lr_rewind")
    other_rate = _experiment("r_cccc", _trunk([0.97, 0.975], (0,)), **{"pruning.rate": 0.5})
    labels = list(cost.procedure_runs([weight, lr, other_rate]))
    assert labels == ["IMP lr rewinding [pruning.rate=0.2]", "IMP weight rewinding [pruning.rate=0.2]",
                      "IMP weight rewinding [pruning.rate=0.5]",
                      "one_shot off IMP lr rewinding [pruning.rate=0.2]",
                      "one_shot off IMP weight rewinding [pruning.rate=0.2]"]
    # Each setting is set against its own IMP: one_shot (0.96) against rate 0.2's (0.975).
    versus = cost.versus_reference(cost.cost_points(cost.procedure_runs([weight, lr, other_rate])))
    one_shot = versus[("one_shot off IMP lr rewinding [pruning.rate=0.2]", 1)]
    assert one_shot.accuracy_points == pytest.approx(-1.5)
    assert versus[("IMP weight rewinding [pruning.rate=0.5]", 1)].accuracy_points == 0
    assert ("IMP lr rewinding [pruning.rate=0.2]", 0) in versus


def test_old_runs_without_flops_show_unknown_cost():
    old = {0: {level: {k: v for k, v in _run(level, 0.97).items() if not k.startswith("train_")}
               for level in (0, 1)}}
    points = cost.cost_points(cost.procedure_runs([_experiment("old_aaaa", old)]))
    assert [p.iterations.mean for p in points] == [100, 200]  # from start and end steps
    assert points[1].flops_dense is None and cost.figure_levels(points) == []
    assert tables.cost_summary_table(points).rows[1][5] == "unknown"


def test_the_report_writes_cost_tables_and_figure_from_stored_runs(report_root, tmp_path):
    from lottery_tf.report.build import build_report
    from lottery_tf.storage import store
    from lottery_tf.storage.catalog import find_experiments
    from lottery_tf.storage.runs import branch_runs

    result = build_report(report_root, out=str(tmp_path), quiet=True)
    (experiment,) = find_experiments(report_root, None)
    level0, level1 = (store.read_json(experiment.paths.metrics(0, level)) for level in (0, 1))
    with open(os.path.join(tmp_path, "cost.csv")) as handle:
        rows = {(row["procedure"], row["level"]): row for row in csv.DictReader(handle)}
    ticket = rows[("IMP weight rewinding", "1")]
    iterations = level0["train_iterations"] + level1["train_iterations"]
    assert float(ticket["cumulative iterations min"]) == iterations
    assert float(ticket["cumulative dense-equivalent FLOPs min"]) == pytest.approx(
        level0["train_flops_dense"] + level1["train_flops_dense"])
    reinit = [run["cumulative_train_flops_sparse"] for replicate in (0, 1)
              for runs in branch_runs(experiment.paths, replicate).values() for run in runs
              if run["branch"] == "reinit"]
    assert float(rows[("reinit", "1")]["cumulative sparse FLOPs min"]) == pytest.approx(min(reinit))
    assert ("lmc", "1") not in rows  # two trainings and a path: not one procedure's ticket
    figure = result.experiments[0].figures["cost_vs_accuracy"]
    labels = {line.get_label() for line in figure.axes[0].lines}
    assert {"IMP weight rewinding (n=2)", "reinit (n=2)"} <= labels
    assert "dense-equivalent" in figure.axes[0].get_xlabel()
    with open(os.path.join(tmp_path, "report.md")) as handle:
        assert "## Cost to reach each sparsity" in handle.read()


def test_flops_of_runs_stored_before_they_were_recorded_are_computed_from_their_masks(report_root,
                                                                                     tmp_path):
    """Runs stored without FLOPs (older versions) get exactly the FLOPs a run records today:
    from the rebuilt model and each run's mask. A later run whose stored cumulative cost
    has unknown FLOPs (recorded on top of such older runs) is added up again."""
    import glob
    import shutil

    from lottery_tf.report.build import build_report
    from lottery_tf.storage import store

    def cost_rows(root, out):
        build_report(root, out=str(out), quiet=True)
        with open(os.path.join(out, "cost.csv")) as handle:
            return {(row["procedure"], row["level"]): row for row in csv.DictReader(handle)}

    recorded = cost_rows(report_root, tmp_path / "recorded")
    older = str(tmp_path / "older")
    shutil.copytree(report_root, older)
    stripped = 0
    for path in glob.glob(os.path.join(older, "*", "replicate_*", "level_*", "**", "metrics.json"),
                          recursive=True):
        run = store.read_json(path)
        if "reinit" in path:  # recorded after older levels: own FLOPs known, cumulative FLOPs not
            run.update(cumulative_train_flops_dense=None, cumulative_train_flops_sparse=None)
        else:
            run = {key: value for key, value in run.items() if "flops" not in key and "cumulative" not in key}
        store.write_json(path, run)
        stripped += 1
    assert stripped >= 6  # two replicates' levels 0 and 1, and their reinit runs
    computed = cost_rows(older, tmp_path / "computed")
    columns = [f"cumulative {kind} FLOPs {stat}" for kind in ("dense-equivalent", "sparse")
               for stat in ("mean", "min", "max")]
    assert ("reinit", "1") in recorded and set(computed) == set(recorded)
    for key, row in recorded.items():
        assert row[columns[0]] not in ("", "–")
        assert [float(computed[key][c]) for c in columns] == pytest.approx([float(row[c]) for c in columns])
    assert glob.glob(os.path.join(older, "*", "replicate_0", "level_1", "metrics.json"))  # nothing moved
    assert "train_flops_dense" not in store.read_json(
        glob.glob(os.path.join(older, "*", "replicate_0", "level_1", "metrics.json"))[0])  # files untouched
    # A damaged mask leaves only that run's FLOPs unknown; the rest of the report is written.
    (mask,) = glob.glob(os.path.join(older, "*", "replicate_0", "level_1", "mask.npz"))
    with open(mask, "r+b") as handle:
        handle.truncate(40)
    damaged = cost_rows(older, tmp_path / "damaged")
    assert float(damaged[("IMP weight rewinding", "1")]["cumulative dense-equivalent FLOPs min"]) == \
        pytest.approx(float(recorded[("IMP weight rewinding", "1")]["cumulative dense-equivalent FLOPs min"]))
    assert damaged[("IMP weight rewinding", "1")]["n"] == "2"
    with open(tmp_path / "damaged" / "cost_summary.md") as handle:
        (row,) = [line for line in handle if line.startswith("| 1 |") and "| IMP weight rewinding |" in line]
    assert row.count(" n=1") == 2  # both FLOPs columns: known for one replicate of two


def test_an_unset_setting_is_named_unset():
    unit_range = _experiment("u_aaaa", _trunk([0.97], (0,)), **{"dataset.normalization": "unit_range"})
    labels = list(cost.procedure_runs([_experiment("s_bbbb", _trunk([0.97], (0,))), unit_range]))
    assert labels == ["IMP weight rewinding [dataset.normalization=unit_range]",
                      "IMP weight rewinding [dataset.normalization=unset]"]


def test_a_default_left_out_of_the_hash_is_named_by_its_stored_value():
    # `standardize` is not hashed (old experiments keep their hashes), yet the stored
    # config holds it: the comparison names it as the labels of every other table do.
    standardize = _experiment("s_bbbb", _trunk([0.97], (0,)), **{"dataset.normalization": "standardize"})
    unit_range = _experiment("u_aaaa", _trunk([0.97], (0,)), **{"dataset.normalization": "unit_range"})
    labels = list(cost.procedure_runs([standardize, unit_range]))
    assert labels == ["IMP weight rewinding [dataset.normalization=standardize]",
                      "IMP weight rewinding [dataset.normalization=unit_range]"]


@pytest.mark.parametrize("builder", ["nested_blocks", "lstm_rows"])
def test_computed_flops_match_recorded_ones_for_user_models(builder, tiny_mnist_dir, tmp_path, monkeypatch):
    """A nested model with Dropout and unnamed layers, and an LSTM (kernels used once per time
    step): the FLOPs the report computes for runs stored without them are those recorded."""
    import pathlib

    from lottery_tf.experiments.lottery import run_lottery
    from lottery_tf.report.collect import collect
    from lottery_tf.report.unrecorded_cost import with_unrecorded_flops
    from lottery_tf.storage.catalog import find_experiment
    from lottery_tf.testing import tiny_config

    monkeypatch.syspath_prepend(str(pathlib.Path(__file__).resolve().parents[1] / "models"))
    config = tiny_config(tiny_mnist_dir, levels=1, **{"runtime.jit_compile": False,
                                                     "training.train_steps": "20it"})
    config.model.name = f"architectures:{builder}"
    run_lottery(config, str(tmp_path), [0], quiet=True)
    recorded = collect(find_experiment(str(tmp_path), None))
    stripped = {0: {level: {k: v for k, v in run.items() if "flops" not in k and "cumulative" not in k}
                    for level, run in recorded.trunk[0].items()}}
    computed = with_unrecorded_flops(dataclasses.replace(recorded, trunk=stripped))
    for level in (0, 1):
        for key in ("train_flops_dense", "train_flops_sparse"):
            assert computed.trunk[0][level][key] == pytest.approx(recorded.trunk[0][level][key]), (level, key)
    assert computed.trunk[0][1]["train_flops_sparse"] < computed.trunk[0][1]["train_flops_dense"]
