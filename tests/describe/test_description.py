"""`describe`: the rows of pruned and dense weights, the first levels' counts and the time estimate."""
import pathlib

import pytest
import tensorflow as tf

from lottery_tf.describe import describe, format_description
from lottery_tf.errors import ConfigError
from lottery_tf.experiments.lottery import run_lottery
from lottery_tf.testing import tiny_config

BUILDERS = str(pathlib.Path(__file__).resolve().parents[1] / "models")


@pytest.fixture
def builders_importable(monkeypatch):
    monkeypatch.syspath_prepend(BUILDERS)


def _describe(config, root, timed_steps=0):
    return describe(config, str(root), tf.distribute.get_strategy(), timed_steps=timed_steps)


def test_lenet_300_100_rows_rates_and_percent_left(tiny_mnist_dir, tmp_path):
    config = tiny_config(tiny_mnist_dir, levels=3, **{"model.name": "lenet_300_100",
                                                      "pruning.output_rate": 0.1})
    described = _describe(config, tmp_path / "runs")

    rows = {row.key: row for row in described.pruned}
    assert list(rows) == ["dense_1/kernel", "dense_2/kernel", "output/kernel"]
    assert [row.count for row in rows.values()] == [784 * 300, 300 * 100, 100 * 10]
    assert [row.shape for row in rows.values()] == [(784, 300), (300, 100), (100, 10)]
    assert [row.kind for row in rows.values()] == ["dense", "dense", "output"]
    assert [row.rate for row in rows.values()] == [0.2, 0.2, 0.1]  # README: layer-wise 20% / 10%
    assert rows["output/kernel"].rate_field == "pruning.output_rate"
    assert rows["dense_1/kernel"].rate_field == "pruning.rate"
    # Each level removes round(rate x survivors): 235,200 -> 188,160 -> 150,528 -> 120,422.
    assert rows["dense_1/kernel"].percent_left == pytest.approx((80.0, 64.0, 51.2), abs=1e-3)
    assert described.levels_shown[2].kept["dense_1"] == 120_422
    assert rows["output/kernel"].percent_left == pytest.approx((90.0, 81.0, 72.9))

    assert {row.key: (row.count, row.reason) for row in described.dense} == {
        "dense_1/bias": (300, "bias: never pruned"), "dense_2/bias": (100, "bias: never pruned"),
        "output/bias": (10, "bias: never pruned")}
    assert described.total_params == 266_610
    assert described.pruned_params + described.dense_params == described.total_params
    kept_1 = 0.8 * 784 * 300 + 0.8 * 300 * 100 + 0.9 * 100 * 10
    assert described.percent_of_pruned()[0] == pytest.approx(100 * kept_1 / 266_200)
    assert described.percent_of_all()[0] == pytest.approx(100 * (kept_1 + 410) / 266_610)
    assert described.timing is None and described.costs == []
    assert not (tmp_path / "runs").exists()


def test_the_printout_shows_every_weight_and_the_totals(tiny_mnist_dir, tmp_path):
    config = tiny_config(tiny_mnist_dir, levels=2, **{"pruning.output_rate": 0.1})
    text = format_description(_describe(config, tmp_path / "runs"))
    lines = text.splitlines()
    assert lines[0] == "lenet_40_20 on mnist: 2 pruned levels, layer-wise pruning at weight granularity"
    assert "(not created: describe writes nothing)" in lines[1]
    assert lines[2] == "parameters: 32,430 = 32,360 pruned + 70 dense"
    assert ("dense_1/kernel Dense dense  784x40 31,360  0.2 pruning.rate        80.0 64.0"
            in lines)
    assert "output/kernel  Dense output 20x10     200  0.1 pruning.output_rate 90.0 81.0" in lines
    assert "dense_2/bias Dense 20       20 bias: never pruned" in lines
    assert "pruned weights (32,360) 80.1 64.1" in lines  # 25,908 and 20,744 kept
    assert all(line == line.rstrip() for line in lines)


def test_global_pruning_gives_the_totals_a_real_run_reports(tiny_mnist_dir, tmp_path):
    config = tiny_config(tiny_mnist_dir, levels=2, **{"pruning.strategy": "global",
                                                      "pruning.output_rate": 0.1,
                                                      "training.train_steps": "20it",
                                                      "runtime.jit_compile": False})
    described = _describe(config, tmp_path)
    assert all(row.percent_left is None for row in described.pruned)  # unknown before training
    assert any("global pruning" in note for note in described.notes)
    stored = run_lottery(config, str(tmp_path), [0], quiet=True)[0]
    assert described.percent_as_reported() == pytest.approx(
        [level["percent_remaining"] for level in stored[1:]])


def test_recurrent_and_nested_weights_have_their_kinds_and_keys(tiny_mnist_dir, tmp_path,
                                                                 builders_importable):
    config = tiny_config(tiny_mnist_dir, **{"model.name": "architectures:lstm_rows"})
    rows = {row.key: row for row in _describe(config, tmp_path).pruned}
    for key in ("lstm/kernel", "lstm/recurrent_kernel"):
        assert (rows[key].layer_type, rows[key].kind, rows[key].entry) == ("LSTM", "dense", key)
    assert rows["lstm/recurrent_kernel"].shape == (12, 48)  # 4 gates x 12 units

    config.model.name = "architectures:nested_blocks"
    described = _describe(config, tmp_path)
    # The Sequential inside the Sequential block: two inner models on the path.
    (deepest,) = [row for row in described.pruned if row.key.count("/") == 3]
    assert deepest.layer_type == "Dense" and deepest.shape == (24, 16)
    assert deepest.entry == deepest.key.removesuffix("/kernel")
    assert described.pruned_params + described.dense_params == described.total_params


def test_layers_left_dense_are_listed_with_the_reason(tiny_mnist_dir, tmp_path, builders_importable):
    config = tiny_config(tiny_mnist_dir, **{"model.name": "architectures:unprunable_inside"})
    with pytest.raises(ConfigError, match="block/scale"):  # as the run refuses it
        _describe(config, tmp_path)
    config.pruning.layers_to_ignore = "block/scale"
    dense = {row.key: row for row in _describe(config, tmp_path).dense}
    assert dense["block/scale/scale"].layer_type == "Scale"
    assert "Scale is not prunable" in dense["block/scale/scale"].reason
    assert dense["block/scale/scale"].count == 8

    config = tiny_config(tiny_mnist_dir, **{"model.name": "architectures:embedding_conv1d",
                                            "pruning.embedding_rate": 0.0})
    described = _describe(config, tmp_path)
    dense = {row.key: row for row in described.dense}
    assert dense["embedding/embeddings"].reason == "pruning.embedding_rate is 0"
    assert dense["embedding/embeddings"].count == 5 * 4
    assert "embedding/embeddings" not in {row.key for row in described.pruned}
    # The run reports % left over every mask, the kept embedding included.
    assert described.percent_as_reported()[0] > described.percent_of_pruned()[0]


def test_timing_estimates_each_level_from_the_run_step(tiny_mnist_dir, tmp_path):
    config = tiny_config(tiny_mnist_dir, levels=2, rewind="20it", **{"runtime.jit_compile": False})
    described = _describe(config, tmp_path / "runs", timed_steps=2)
    timing = described.timing
    assert timing.timed_steps == 2 and timing.seconds_per_step > 0
    assert timing.evaluation_measured and timing.val_examples == 100 and timing.test_examples == 200
    level_0, pruned = described.costs
    # 60 steps, evaluated at 0, 20, 40 and 60; tested at the start and end (test_every=1000it).
    assert (level_0.train_steps, level_0.val_passes, level_0.test_passes) == (60, 4, 2)
    assert (pruned.train_steps, pruned.val_passes, pruned.test_passes) == (40, 3, 2)
    assert level_0.train_seconds == pytest.approx(60 * timing.seconds_per_step)
    assert described.experiment_seconds() == pytest.approx(level_0.seconds + 2 * pruned.seconds)
    assert (described.jit_compile, described.jit_reason) == (False, "runtime.jit_compile=False")
    assert "step time:" in format_description(described)
    assert not (tmp_path / "runs").exists()
