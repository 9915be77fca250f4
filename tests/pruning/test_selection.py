"""The shared selection routine reproduces the three old join-rank-split copies bit for bit."""
import numpy as np
import pytest

from lottery_tf.pruning import at_init, random_masks, selection
from lottery_tf.pruning import masks as mask_lib

# --- Frozen copies of the pre-issue-17 code (the pin; do not "fix" them) ------------------

def _old_drop_smallest(magnitudes, alive, count):
    alive = alive.copy()
    if count <= 0:
        return alive
    alive_index = np.flatnonzero(alive)
    order = np.argsort(magnitudes[alive_index], kind="stable")
    alive[alive_index[order[:count]]] = False
    return alive


def _old_magnitude(strategy, weights, masks, rates, start_dense, count_for):
    if strategy == "layerwise":
        groups = [[name] for name in masks]
    else:
        groups = [[name for name in masks if rates[name] == rate]
                  for rate in sorted(set(rates[name] for name in masks))]
    new = {}
    for group in groups:
        magnitudes = np.concatenate([np.abs(weights[n]).reshape(-1) for n in group])
        alive = (np.ones(magnitudes.size, bool) if start_dense
                 else np.concatenate([masks[n].reshape(-1) > 0 for n in group]))
        kept = _old_drop_smallest(magnitudes, alive, count_for(group, int(alive.sum())))
        offset = 0
        for name in group:
            size = masks[name].size
            new[name] = kept[offset:offset + size].reshape(masks[name].shape).astype(np.float32)
            offset += size
    return new


def _old_prune_by_scores(scores, masks, fraction, scope):
    groups = [list(masks)] if scope == "global" else [[n] for n in masks]
    new = {}
    for group in groups:
        alive_count = int(sum(int((masks[n] > 0).sum()) for n in group))
        count = int(round(fraction * alive_count))
        flat = np.concatenate([np.asarray(scores[n], dtype=np.float64).reshape(-1) for n in group])
        alive = np.concatenate([masks[n].reshape(-1) > 0 for n in group])
        kept = np.zeros_like(alive)
        alive_index = np.flatnonzero(alive)
        order = np.argsort(-flat[alive_index], kind="stable")
        kept[alive_index[order[:count]]] = True
        offset = 0
        for name in group:
            size = masks[name].size
            new[name] = kept[offset:offset + size].reshape(masks[name].shape).astype(np.float32)
            offset += size
    return new


def _old_random_layerwise(masks, rng):
    new = {}
    for name, mask in masks.items():
        kept = np.zeros(mask.size, dtype=np.float32)
        kept[rng.choice(mask.size, size=int(mask.sum()), replace=False)] = 1.0
        new[name] = kept.reshape(mask.shape)
    return new


def _old_random_global(masks, rng):
    sizes = [m.size for m in masks.values()]
    kept = np.zeros(sum(sizes), dtype=np.float32)
    kept[rng.choice(kept.size, size=int(sum(m.sum() for m in masks.values())), replace=False)] = 1.0
    new, offset = {}, 0
    for (name, mask), size in zip(masks.items(), sizes, strict=True):
        new[name] = kept[offset:offset + size].reshape(mask.shape)
        offset += size
    return new


# --- Inputs: random LeNet-like and conv-like kernels, some with forced ties ----------------

def _kernels(seed, ties):
    rng = np.random.default_rng(seed)
    weights = {"conv_1": rng.normal(size=(3, 3, 1, 8)).astype(np.float32),
               "dense_1": rng.normal(size=(72, 30)).astype(np.float32),
               "dense_2": rng.normal(size=(30, 20)).astype(np.float32),
               "output": rng.normal(size=(20, 10)).astype(np.float32)}
    if ties:  # a coarse grid makes many magnitudes equal
        weights = {n: np.round(w * 2) / 2 for n, w in weights.items()}
    return weights


RATES = [{"conv_1": 0.2, "dense_1": 0.2, "dense_2": 0.2, "output": 0.1},
         {"conv_1": 0.5, "dense_1": 0.0, "dense_2": 0.35, "output": 0.35}]


def _masks_after(strategy, rates, seed, ties, levels=3):
    """(old, new) masks after several levels of magnitude pruning on fresh random weights."""
    old = new = mask_lib.ones_like(_kernels(seed, ties))
    for level in range(levels):
        trained = _kernels(seed * 10 + level + 1, ties)
        old = _old_magnitude(strategy, trained, old, rates, False,
                             lambda group, alive: mask_lib.count_to_prune(alive, rates[group[0]]))
        new = mask_lib.prune(strategy, trained, new, rates)
    return old, new


def _assert_identical(old, new):
    assert list(old) == list(new)
    for name in old:
        assert new[name].dtype == old[name].dtype == np.float32
        np.testing.assert_array_equal(new[name], old[name])


@pytest.mark.parametrize("strategy", ["layerwise", "global"])
@pytest.mark.parametrize("rates", RATES)
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_magnitude_pruning_equals_the_old_code(strategy, rates, ties, seed):
    _assert_identical(*_masks_after(strategy, rates, seed, ties))


@pytest.mark.parametrize("strategy", ["layerwise", "global"])
@pytest.mark.parametrize("ties", [False, True])
def test_prune_to_match_equals_the_old_code(strategy, ties):
    rates = RATES[1]
    _, target = _masks_after(strategy, rates, 5, ties)
    dense = _kernels(99, ties)
    old = _old_magnitude(strategy, dense, target, rates, True,
                         lambda group, alive: alive - int(sum(target[n].sum() for n in group)))
    _assert_identical(old, mask_lib.prune_to_match(strategy, dense, target, rates))


@pytest.mark.parametrize("scope", ["global", "layerwise"])
@pytest.mark.parametrize("fraction", [0.0, 0.13, 0.5, 1.0])
@pytest.mark.parametrize("ties", [False, True])
def test_prune_by_scores_equals_the_old_code(scope, fraction, ties):
    scores = _kernels(7, ties)
    _, masks = _masks_after("layerwise", RATES[0], 3, False, levels=1)
    _assert_identical(_old_prune_by_scores(scores, masks, fraction, scope),
                      at_init.prune_by_scores(scores, masks, fraction, scope))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_masks_equal_the_old_code(seed):
    _, masks = _masks_after("global", RATES[0], seed, False)
    _assert_identical(_old_random_layerwise(masks, np.random.default_rng(seed)),
                      random_masks.random_like_layerwise(masks, np.random.default_rng(seed)))
    _assert_identical(_old_random_global(masks, np.random.default_rng(seed)),
                      random_masks.random_like_global(masks, np.random.default_rng(seed)))


def test_keep_top_breaks_ties_as_asked():
    scores = np.array([1.0, 2.0, 1.0, 1.0, 3.0])
    alive = np.array([True, True, True, False, True])
    assert selection.keep_top_flat(scores, alive, 3, "earlier").tolist() == [True, True, False, False, True]
    assert selection.keep_top_flat(scores, alive, 3, "later").tolist() == [False, True, True, False, True]
    assert not selection.keep_top_flat(scores, alive, 0).any()
    assert selection.keep_top_flat(scores, alive, 99).tolist() == alive.tolist()
