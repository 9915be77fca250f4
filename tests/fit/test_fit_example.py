"""The README's fit-based IMP script on tiny MNIST files; `report` and `export` read its results."""
import csv
import importlib.util
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import tf_keras as keras

from lottery_tf.export import export_level
from lottery_tf.storage import store
from lottery_tf.storage.catalog import find_experiment

REPO = pathlib.Path(__file__).resolve().parents[2]


def _cli(*arguments):
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO))
    process = subprocess.run([sys.executable, "-m", "lottery_tf", *arguments], cwd=REPO, env=environment,
                             capture_output=True, text=True, timeout=600)
    assert process.returncode == 0, process.stderr[-3000:]
    return process.stdout


@pytest.fixture(scope="module")
def example_root(tiny_mnist_dir, tmp_path_factory):
    spec = importlib.util.spec_from_file_location("fit_imp", REPO / "examples" / "fit_imp.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    root = tmp_path_factory.mktemp("fit_root")
    rows = example.main(str(root), str(tiny_mnist_dir), levels=1, steps=500, validation=100)
    assert [row[0] for row in rows] == [0, 1] and len(rows[1]) == 6  # ticket and control at level 1
    return root


def test_readme_script_is_the_example_that_runs():
    readme = (REPO / "README.md").read_text()
    block = readme.split("<!-- fit-api-script")[1].split("```python\n")[1].split("```")[0]
    example = {line.strip() for line in (REPO / "examples" / "fit_imp.py").read_text().splitlines()}
    lines = [line.strip() for line in block.splitlines() if line.strip()]
    assert len(lines) >= 15
    assert [line for line in lines if line not in example] == []


def test_example_stores_levels_the_command_line_layout_holds(example_root):
    paths = find_experiment(str(example_root), None).paths
    rewind = store.load_arrays(paths.rewind_weights(0))
    mask = store.load_arrays(paths.mask(0, 1))
    start = store.load_arrays(paths.weights_start(0, 1))
    for name, kept in mask.items():  # level 1 starts from the step-0 weights, pruned
        np.testing.assert_array_equal(start[f"{name}/kernel"], rewind[f"{name}/kernel"] * kept)
        assert np.all(store.load_arrays(paths.weights_end(0, 1))[f"{name}/kernel"][kept == 0] == 0)
    control = [d for d in os.listdir(paths.level(0, 1)) if d.startswith("branch_reinit_")]
    assert len(control) == 1
    control_mask = store.load_arrays(os.path.join(paths.level(0, 1), control[0], "mask.npz"))
    assert all(np.array_equal(control_mask[name], kept) for name, kept in mask.items())
    metrics = store.read_json(paths.metrics(0, 1))
    assert metrics["percent_remaining"] == pytest.approx(
        100 * sum(m.sum() for m in mask.values()) / sum(m.size for m in mask.values()))
    steps = [point["step"] for point in metrics["curve"]]
    assert steps == [250, 500] and metrics["early_stop_step"] in steps


def test_report_and_export_run_on_the_fit_based_experiment(example_root):
    out = _cli("report", f"--root={example_root}")
    assert "branches: reinit" in out
    experiment = find_experiment(str(example_root), None)
    with open(os.path.join(experiment.paths.dir, "report", "levels.csv")) as handle:
        rows = list(csv.DictReader(handle))
    assert [row["level"] for row in rows] == ["0", "1"]
    assert any(key.startswith("reinit") for key in rows[0])
    result = export_level(str(example_root), None, level=1)  # the command's code, in-process
    # The SavedModel normalizes raw pixels in its graph, the in-process check in NumPy: equal to rounding.
    assert result.max_abs_diff < 1e-4
    assert result.weights == "early_stop"  # the recorder kept the weights at the lowest validation loss
    assert os.path.isfile(experiment.paths.level_files(0, 1).weights_early_stop)
    exported = store.read_json(os.path.join(experiment.paths.level(0, 1), "export", "export.json"))
    assert exported["percent_zero"] >= exported["mask_percent_zero"] > 19


def test_export_rebuilds_a_users_own_model_from_its_stored_architecture(tmp_path):
    from fit_cycle import build, data

    from lottery_tf import api as lt

    x, y = data()
    model = lt.wrap(build("sequential"))
    model.compile("adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    for level in range(2):
        if level:
            lt.prune(model, rate=0.5)
        recorder = lt.LevelRecorder(test_data=(x, y))
        model.fit(x, y, batch_size=16, epochs=1, verbose=0, validation_data=(x, y),
                  callbacks=[lt.PruningStep(), recorder])
        metrics = lt.save_level(str(tmp_path), level, model, recorder, config={"dataset.name": "mnist"})
    assert metrics["percent_remaining"] == pytest.approx(50, abs=0.1)
    experiment = find_experiment(str(tmp_path), None)
    assert experiment.name.startswith(f"fit_{model.name}_mnist_")
    assert os.path.isfile(experiment.paths.architecture)
    result = export_level(str(tmp_path), None, level=1)
    assert result.mask_percent_zero == pytest.approx(50, abs=0.1)
    assert result.percent_zero >= result.mask_percent_zero
