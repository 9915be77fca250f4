"""Early-bird tickets: a level stops where the drawn masks settle, and the next level prunes to that draw."""
import numpy as np
import pytest

from lottery_tf.config import hashing
from lottery_tf.config.checks import check_ranges
from lottery_tf.errors import ConfigError
from lottery_tf.pruning.early_bird import mask_distance, settled
from lottery_tf.storage import store
from lottery_tf.storage.paths import ExperimentPaths
from lottery_tf.testing import interrupt_then_resume, tiny_config

# Draws at steps 5 (the first, no distance yet), 10 and 15; a threshold of 1 takes any
# distance, so two distances settle at step 15, long before the 40 iterations of a full level.
EARLY_BIRD = {"training.train_steps": "40it", "training.eval_every": "20it", "runtime.jit_compile": False,
              "runtime.checkpoint_every": "5it", "early_bird.threshold": 1.0,
              "early_bird.check_every": "5it", "early_bird.window": 2}


def test_distance_counts_the_level_s_survivors_and_settles_over_the_window():
    alive = {"a": np.array([1, 1, 1, 1, 0, 0, 0, 0.0])}
    first = {"a": np.array([1, 1, 1, 0, 0, 0, 0, 0.0])}
    second = {"a": np.array([1, 1, 0, 1, 0, 0, 0, 0.0])}
    assert mask_distance(first, second, alive) == 0.5  # 2 of the 4 survivors, not of 8 entries
    assert mask_distance(first, first, alive) == 0.0
    assert not settled([0.05], 2, 0.1) and settled([0.3, 0.05, 0.05], 2, 0.1)
    assert not settled([0.05, 0.1], 2, 0.1)  # strictly under


def test_unset_keeps_the_hash_and_bad_settings_are_refused(tiny_mnist_dir):
    config = tiny_config(tiny_mnist_dir)
    unset = hashing.config_hash(config)
    config.early_bird.threshold = 0.1
    paper = hashing.config_hash(config)
    config.early_bird.check_every, config.early_bird.window = "1ep", 5  # the paper's, spelled out
    assert hashing.config_hash(config) == paper != unset
    config.levels = 9
    assert hashing.config_hash(config) != paper  # levels names the level that trains fully
    config.early_bird.threshold = 1.5
    with pytest.raises(ConfigError, match=r"early_bird.threshold must be in \(0, 1\]"):
        check_ranges(config)
    config.early_bird.threshold = None
    with pytest.raises(ConfigError, match="apply with early_bird.threshold only"):
        check_ranges(config)


def _stored(paths: ExperimentPaths) -> dict:
    return {"metrics": [store.read_json(paths.metrics(0, level)) for level in (0, 1)],
            "weights": store.load_arrays(paths.weights_end(0, 1)),
            "mask": store.load_arrays(paths.mask(0, 1))}


@pytest.fixture(scope="module")
def reference(tiny_mnist_dir, tmp_path_factory):
    from lottery_tf.experiments.lottery import run_lottery
    from lottery_tf.storage.catalog import find_experiment

    config = tiny_config(tiny_mnist_dir, levels=1, **EARLY_BIRD)
    root = str(tmp_path_factory.mktemp("early_bird"))
    run_lottery(config, root, [0], quiet=True)
    paths = find_experiment(root, None).paths
    return config, paths, _stored(paths)


def test_a_level_stops_at_the_drawn_step_and_the_next_prunes_to_the_draw(reference):
    _, paths, stored = reference
    level0, level1 = stored["metrics"]
    assert (level0["early_bird_step"], level0["end_step"], level0["train_iterations"]) == (15, 15, 15)
    assert level0["short_level"] and level0["full_end_step"] == 40
    assert len(level0["early_bird_distances"]) == 2
    last = level0["curve"][-1]
    assert last["step"] == 15 and last["test_accuracy"] is not None  # evaluated as a last step
    drawn = store.load_arrays(paths.level_files(0, 0).early_bird_mask)
    assert drawn.keys() == stored["mask"].keys()
    for name, mask in stored["mask"].items():
        np.testing.assert_array_equal(mask, drawn[name], err_msg=name)
    # The last level trains fully, without early-bird; the cost adds up.
    assert level1["end_step"] == 40 and "early_bird_step" not in level1 and "short_level" not in level1
    assert level1["cumulative_train_iterations"] == 15 + 40


@pytest.mark.parametrize("killed_at", [10, 15])  # before the stop, and at it (the checkpoint holds it)
def test_a_level_killed_mid_way_resumes_to_the_same_stop(reference, tmp_path, monkeypatch, killed_at):
    config, reference_paths, expected = reference
    paths = ExperimentPaths(str(tmp_path), reference_paths.name)
    interrupt_then_resume(monkeypatch, config, paths, level=0, step=killed_at)
    resumed = _stored(paths)
    for got, want in zip(resumed["metrics"], expected["metrics"], strict=True):
        for key in ("early_bird_step", "end_step", "early_bird_distances", "early_stop_test_accuracy",
                    "test_accuracy", "cumulative_train_flops_sparse"):
            assert got.get(key) == want.get(key), key
    for name in expected["mask"]:
        np.testing.assert_array_equal(resumed["mask"][name], expected["mask"][name], err_msg=name)
    for name in expected["weights"]:
        np.testing.assert_array_equal(resumed["weights"][name], expected["weights"][name], err_msg=name)
