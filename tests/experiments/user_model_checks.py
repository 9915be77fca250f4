"""Checks a user's model goes through: IMP, a reinit branch, export read back elsewhere, and a
run killed in its own process resumed by another to the uninterrupted results.

Shared by tests/experiments/test_user_architectures.py (28x28 tiny MNIST) and
test_applications_battery.py (32x32 tiny CIFAR-10); the builders live in
tests/models/architectures.py.
"""
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from lottery_tf.config.hashing import experiment_name
from lottery_tf.data.splits import normalize_images
from lottery_tf.experiments import branches
from lottery_tf.experiments.lottery import run_lottery
from lottery_tf.experiments.setup import prepare
from lottery_tf.export.stored_level import level_files, rebuild
from lottery_tf.storage import store
from lottery_tf.storage.catalog import find_experiment
from lottery_tf.storage.paths import ExperimentPaths
from lottery_tf.testing import (
    assert_same_results,
    lottery_process,
    stored_results,
    tiny_config,
    write_config_file,
)

REPO = pathlib.Path(__file__).resolve().parents[2]
BUILDERS = str(REPO / "tests" / "models")

# Exports in a process that first builds other models, so Keras' automatic layer names
# there are numbered on; then reads the SavedModel back with TensorFlow alone and
# prints its logits on the level's test images.
EXPORT_AFTER_OTHER_MODELS = """
import sys
import numpy as np
from lottery_tf import startup
tf = startup.import_tensorflow()
import tf_keras as keras
import architectures
for _ in range(2):
    architectures.{builder}({shape}, 10, 0)
    keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(2)])
from lottery_tf.export import export_command
result = export_command(sys.argv[1], None, 2, 0, False)
np.save(sys.argv[2], np.asarray(result.saved_model))
"""

READ_BACK = """
import sys
import numpy as np
import tensorflow as tf
serve = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
np.save(sys.argv[3], serve(images=tf.constant(np.load(sys.argv[2])))["logits"].numpy())
"""


def python(code: str, *arguments) -> subprocess.CompletedProcess:
    """Runs `code` in a fresh interpreter that can import lottery_tf and the builders."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=os.pathsep.join([str(REPO), BUILDERS]))
    run = subprocess.run([sys.executable, "-c", code, *map(str, arguments)], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    return run


def check_through_every_command(config, root: str, tmp_path, builder: str,
                                image_shape: tuple[int, int, int] = (28, 28, 1)):
    """IMP to level 2, every pruned weight zero where masked, reinit off level 2, and the
    level-2 SavedModel exported in another process equal to the stored model within 1e-5.

    Returns the experiment's Setup.
    """
    results = run_lottery(config, root, [0], quiet=True)[0]
    assert [round(m["percent_remaining"]) for m in results][0] == 100
    assert results[2]["percent_remaining"] < results[1]["percent_remaining"] < 100
    setup = prepare(config, root, tf.distribute.get_strategy(), quiet=True)
    masks = store.load_arrays(setup.paths.mask(0, 2))
    trained = store.load_arrays(setup.paths.weights_end(0, 2))
    assert set(masks) == set(setup.layer_kinds)
    for entry, mask in masks.items():  # every pruned weight pruned, and zero where masked
        assert mask.mean() < 1.0
        assert np.all(trained[setup.weight_keys[entry]][mask == 0] == 0)
    reinit = branches.run_branch(setup, "reinit", 0, 2)
    assert reinit["percent_remaining"] == pytest.approx(results[2]["percent_remaining"])

    saved = tmp_path / "saved.npy"
    python(EXPORT_AFTER_OTHER_MODELS.replace("{builder}", builder).replace("{shape}", repr(image_shape)),
           root, saved)
    images = np.asarray(np.random.default_rng(0).integers(0, 256, (16, *image_shape)), np.uint8)
    np.save(tmp_path / "images.npy", images)
    python(READ_BACK, str(np.load(saved)), tmp_path / "images.npy", tmp_path / "logits.npy")
    experiment = find_experiment(root, None)
    stored = rebuild(config, level_files(experiment, 0, 2), "early_stop", spec=experiment.spec())
    expected = stored(normalize_images(images, experiment.spec()), training=False).numpy()
    # Within 1e-5 of the largest logit, export's own rule: an untrained ResNet's logits reach
    # thousands, where float32 itself only resolves ~2e-4 and op order shows.
    np.testing.assert_allclose(np.load(tmp_path / "logits.npy"), expected, rtol=0,
                               atol=1e-5 * max(1.0, float(np.abs(expected).max())))
    return setup


def check_killed_run_resumes_equal(data_dir, overrides: dict, tmp_path, monkeypatch, crash_at: str,
                                   resumes_at: str) -> None:
    """`lottery` in its own process, SIGKILLed at `crash_at` (e.g. `pause:3`); the same
    command in a new process resumes where `resumes_at` says (e.g. `level 1 at step 40`) and
    finishes; the stored results equal an uninterrupted run's."""
    monkeypatch.syspath_prepend(BUILDERS)
    config = tiny_config(data_dir, **overrides)
    reference = ExperimentPaths(str(tmp_path / "straight"), experiment_name(config))
    run_lottery(config, reference.root, [0], quiet=True)
    config_file = write_config_file(tmp_path / "config.py", data_dir, **overrides)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), BUILDERS]))
    killed = ExperimentPaths(str(tmp_path / "killed"), experiment_name(config))
    died = lottery_process(config_file, killed.root, crash_at=crash_at)
    assert died.returncode == -9, died.stderr[-3000:]
    assert not os.path.exists(killed.metrics(0, config.levels))  # killed before the end
    resumed = lottery_process(config_file, killed.root)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    output = resumed.stdout + resumed.stderr
    assert f"{resumes_at} from its checkpoint" in output, output[-2000:]
    assert_same_results(stored_results(killed), stored_results(reference))
