"""`status` counts finished trunk levels and branch runs, and iterations at each training's length."""
import json

from lottery_tf.storage import store
from lottery_tf.storage.paths import ExperimentPaths, branch_folder
from lottery_tf.storage.runs import branch_runs
from lottery_tf.sweeps import claims
from lottery_tf.sweeps.status import finished_counts, root_status


def test_status_counts_finished_trunk_levels_and_branch_runs(tmp_path):
    paths = ExperimentPaths(str(tmp_path), "lenet_mnist_0123456789")
    store.write_json(paths.config, {})
    for replicate, levels in ((0, 3), (1, 2)):
        for level in range(levels):
            store.write_json(paths.metrics(replicate, level), {"level": level})
        for level in range(1, levels):  # reinit at every level above 0, random_prune at level 1
            for name in ("reinit", "random_prune") if level == 1 else ("reinit",):
                folder = branch_folder(name, {"seed": replicate})
                store.write_json(paths.branch_files(replicate, level, folder).metrics,
                                 {"branch": name, "level": level})
    # A branch still training (no metrics.json) and a rewind sweep's inner run do not count.
    store.write_json(paths.branch_files(1, 0, branch_folder("reinit", {"seed": 9})).checkpoints
                     + "/latest.json", {"step": 10})
    sweep = paths.branch_files(0, 2, branch_folder("rewind_sweep", {"seed": 0}))
    store.write_json(sweep.metrics, {"branch": "rewind_sweep", "level": 2})
    store.write_json(sweep.dir + "/rewind_20/metrics.json", {"level": 2})

    stored = sum(len(runs) for replicate in (0, 1) for runs in branch_runs(paths, replicate).values())
    assert stored == 6
    assert finished_counts(paths.dir) == (5, 6)
    assert "no sweep, nothing training; 5 trunk levels finished, 6 branch runs finished" in root_status(
        str(tmp_path))


def test_status_counts_each_trunk_level_at_its_planned_length_and_a_run_by_its_span(tmp_path):
    """Short levels (10 iterations) before a full one (40): the plan's `trunk_iterations`."""
    paths = ExperimentPaths(str(tmp_path), "lenet_mnist_0123456789")
    store.write_json(paths.config, {})
    trunk = {"id": "trunk_0", "replicate": 0, "level": 2, "branch": None, "args": {}}
    store.write_json(paths.dir + "/sweep/plan_x.json", {
        "train_steps": 40, "trunk_iterations": [10, 10, 40], "units": [trunk]})
    store.write_json(paths.metrics(0, 0), {"start_step": 0, "final_step": 10, "wall_seconds": 1.0})
    store.write_json(paths.metrics(0, 1), {"start_step": 0, "final_step": 10, "wall_seconds": 1.0})
    level = paths.level(0, 2)
    store.write_json(level + "/checkpoints/latest.json", {"step": 25, "start_step": 5, "end_step": 45})
    with open(level + "/.lock", "w") as handle:
        json.dump(claims.me(), handle)
    text = root_status(str(tmp_path))
    # 10 + 10 finished and 20 of the running level's 40: 40 of 60.
    assert "trainings: 2 of 3 finished, 1 running; 40 of 60 iterations; 10 it/s" in text
    assert "~2 s left at 1 at once" in text
    assert "[############------------] 20/40" in text
