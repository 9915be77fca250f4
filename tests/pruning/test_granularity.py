"""Unit and n:m granularities: whole units go, the n:m pattern holds, controls keep both."""
import numpy as np
import pytest

from lottery_tf.errors import ConfigError
from lottery_tf.pruning import granularity as granularity_lib
from lottery_tf.pruning import masks as mask_lib
from lottery_tf.pruning import random_masks

CHAIN = [("conv_1", "conv_2"), ("conv_2", "dense_1"), ("dense_1", "output")]
RATES = {"conv_1": 0.5, "conv_2": 0.5, "dense_1": 0.5, "output": 0.2}


def _kernels(seed):
    """A Conv-2-like chain: two 3x3 convs (8, 8 filters), flatten of 2x2x8, dense 12, output 5."""
    rng = np.random.default_rng(seed)
    return {"conv_1": rng.normal(size=(3, 3, 4, 8)), "conv_2": rng.normal(size=(3, 3, 8, 8)),
            "dense_1": rng.normal(size=(32, 12)), "output": rng.normal(size=(12, 5))}


def _unit_levels(strategy, levels=3):
    masks = mask_lib.ones_like(_kernels(0))
    history = []
    for level in range(levels):
        masks = mask_lib.prune(strategy, _kernels(level + 1), masks, RATES,
                               granularity="unit", chain=CHAIN)
        history.append(masks)
    return history


def _assert_whole_units(masks):
    """Every unit column is all kept or all gone apart from rows of dead inputs."""
    for source, reader in CHAIN:
        alive = granularity_lib.unit_alive(masks[source])
        columns = masks[source].reshape(-1, alive.size)
        assert not columns[:, ~alive].any()
        # A dead unit's outgoing weights are gone from the reader too.
        if masks[reader].ndim == 2:
            rows = np.arange(masks[reader].shape[0]) % alive.size
            assert not masks[reader][~alive[rows]].any()
        else:
            assert not masks[reader][:, :, ~alive, :].any()
    # Inside a surviving unit, exactly the rows of surviving inputs are kept.
    assert (masks["conv_1"].reshape(-1, 8)[:, granularity_lib.unit_alive(masks["conv_1"])] == 1).all()


@pytest.mark.parametrize("strategy", ["layerwise", "global"])
def test_unit_pruning_removes_whole_units_and_their_outputs(strategy):
    history = _unit_levels(strategy)
    for masks in history:
        _assert_whole_units(masks)
    units = [{n: int(granularity_lib.unit_alive(m[n]).sum()) for n in ("conv_1", "conv_2", "dense_1")}
             for m in history]
    if strategy == "layerwise":  # rate = fraction of surviving units removed per level
        assert units == [{"conv_1": 4, "conv_2": 4, "dense_1": 6}, {"conv_1": 2, "conv_2": 2, "dense_1": 3},
                         {"conv_1": 1, "conv_2": 1, "dense_1": 1}]
    else:
        assert [sum(u.values()) for u in units] == [14, 7, 3]  # removes round(3.5) = 4
    # No layer is ever emptied, which would cut the network in two.
    assert all(count >= 1 for u in units for count in u.values())
    # The output layer never loses units (they are the classes).
    assert all(granularity_lib.unit_alive(m["output"]).all() for m in history)


def test_unit_pruning_never_empties_a_layer():
    weights = {"a": np.array([[1.0, 2.0]]), "b": np.ones((2, 1))}
    masks = mask_lib.ones_like(weights)
    for _ in range(3):  # 0.8 of 2 units is 2, of 1 unit is 1: the best unit stays anyway
        masks = mask_lib.prune("layerwise", weights, masks, {"a": 0.8, "b": 0.0}, granularity="unit",
                               chain=[("a", "b")])
        np.testing.assert_array_equal(masks["a"], [[0, 1]])
        np.testing.assert_array_equal(masks["b"], [[0], [1]])


def test_unit_pruning_ranks_units_by_l1_norm():
    weights = {"a": np.array([[1.0, -3.0, 0.5, 2.0], [1.0, 0.1, -0.4, 2.0]]), "b": np.ones((4, 2))}
    masks = mask_lib.prune("layerwise", weights, mask_lib.ones_like(weights), {"a": 0.5, "b": 0.0},
                           granularity="unit", chain=[("a", "b")])
    # L1 of a's columns: 2, 3.1, 0.9, 4 -> units 0 and 2 go, with b's rows 0 and 2.
    np.testing.assert_array_equal(masks["a"], [[0, 1, 0, 1], [0, 1, 0, 1]])
    np.testing.assert_array_equal(masks["b"], [[0, 0], [1, 1], [0, 0], [1, 1]])


def test_unit_granularity_needs_the_chain():
    with pytest.raises(ConfigError, match="chain"):
        mask_lib.prune("layerwise", _kernels(0), mask_lib.ones_like(_kernels(0)), RATES, granularity="unit")


@pytest.mark.parametrize("strategy", ["layerwise", "global"])
def test_nm_levels_hold_the_pattern_in_every_group(strategy):
    masks = mask_lib.ones_like(_kernels(0))
    rates = {**RATES, "output": 0.0}  # a rate-0 layer stays dense
    for level in range(4):
        previous = masks
        masks = mask_lib.prune(strategy, _kernels(level + 1), masks, rates, granularity="2:4")
        for name in ("conv_1", "conv_2", "dense_1"):
            assert granularity_lib.holds_nm(masks[name], 2, 4)
            assert not (masks[name] > previous[name]).any()  # never revived
        assert masks["output"].all()
        if level == 0:  # the first level imposes exactly 2 of every 4 along the input axis
            assert masks["dense_1"].reshape(8, 4, 12).sum(axis=1).tolist() == [[2] * 12] * 8
            assert (np.moveaxis(masks["conv_2"], 2, -1).reshape(3, 3, 8, 2, 4).sum(-1) == 2).all()
        else:  # later levels remove `rate` of the survivors inside the pattern
            kept = [masks[n].sum() for n in ("conv_1", "conv_2", "dense_1")]
            before = [previous[n].sum() for n in ("conv_1", "conv_2", "dense_1")]
            assert sum(kept) == pytest.approx(0.5 * sum(before), abs=3)


def test_nm_keeps_the_largest_of_each_group():
    weights = np.array([[0.1, 5.0], [-3.0, 0.2], [0.5, 0.3], [2.0, -4.0], [1.0, 1.0], [0.0, 9.0]])
    mask = granularity_lib.nm_pattern(np.abs(weights), np.ones_like(weights), 2, 4)
    # Column 0: |.1 -3 .5 2| keeps -3, 2; the short group |1 0| keeps both.
    np.testing.assert_array_equal(mask[:, 0], [0, 1, 0, 1, 1, 1])
    np.testing.assert_array_equal(mask[:, 1], [1, 0, 0, 1, 1, 1])
    assert not granularity_lib.holds_nm(np.ones((4, 1)), 2, 4)


@pytest.mark.parametrize("text", ["unit", "2:4", "weight"])
@pytest.mark.parametrize("strategy", ["layerwise", "global"])
def test_random_control_keeps_the_granularity_and_counts(text, strategy):
    trunk = mask_lib.ones_like(_kernels(0))
    for level in range(2):
        trunk = mask_lib.prune(strategy, _kernels(level + 1), trunk, RATES, granularity=text, chain=CHAIN)
    rng = np.random.default_rng(3)
    randoms = [random_masks.random_like(trunk, strategy, rng, granularity=text, rates=RATES, chain=CHAIN)
               for _ in range(2)]
    assert not all(np.array_equal(randoms[0][n], randoms[1][n]) for n in trunk)
    for new in randoms:
        if text == "unit":
            _assert_whole_units(new)
            alive = granularity_lib.unit_alive
            for name in trunk:  # same units per layer, hence the same weights per layer
                assert alive(new[name]).sum() == alive(trunk[name]).sum()
                assert new[name].sum() == trunk[name].sum()
        elif text == "2:4":
            assert all(granularity_lib.holds_nm(new[n], 2, 4) for n in trunk)
            groups = [list(trunk)] if strategy == "global" else [[n] for n in trunk]
            for group in groups:
                assert sum(new[n].sum() for n in group) == sum(trunk[n].sum() for n in group)
        else:
            assert sum(m.sum() for m in new.values()) == sum(m.sum() for m in trunk.values())


@pytest.mark.parametrize("text", ["unit", "2:4"])
def test_one_shot_and_shuffle_keep_the_granularity(text):
    trunk = mask_lib.ones_like(_kernels(0))
    for level in range(2):
        trunk = mask_lib.prune("layerwise", _kernels(level + 1), trunk, RATES, granularity=text, chain=CHAIN)
    one_shot = mask_lib.prune_to_match("layerwise", _kernels(9), trunk, RATES, granularity=text, chain=CHAIN)
    shuffled = granularity_lib.shuffle(trunk, text, np.random.default_rng(0), CHAIN)
    for new in (one_shot, shuffled):
        for name in trunk:
            assert new[name].sum() == trunk[name].sum()
        if text == "unit":
            _assert_whole_units(new)
        else:
            assert all(granularity_lib.holds_nm(new[n], 2, 4) for n in trunk)


def test_granularity_text_is_checked():
    assert str(granularity_lib.parse(None)) == "weight"
    assert granularity_lib.parse("2:4") == granularity_lib.Granularity("nm", 2, 4)
    for bad in ("4:2", "2:2", "0:4", "rows", "2-4"):
        with pytest.raises(ConfigError, match="granularity"):
            granularity_lib.parse(bad)
