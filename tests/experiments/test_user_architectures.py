"""Ordinary Keras models through every command: nested, recurrent, attention, unnamed layers.

Each model (tests/models/architectures.py) runs 2 pruned levels, a reinit branch,
and an export read back by TensorFlow alone in a process that built other models
first; the nested and the LSTM model are also interrupted and resumed.
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
from lottery_tf.testing import assert_same_results, interrupt_then_resume, stored_results, tiny_config

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
    architectures.{builder}((28, 28, 1), 10, 0)
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


@pytest.fixture
def builders_importable(monkeypatch):
    monkeypatch.syspath_prepend(BUILDERS)


def _config(data_dir, builder, **overrides):
    config = tiny_config(data_dir, levels=2, **{"runtime.jit_compile": False, **overrides})
    config.model.name = f"architectures:{builder}"
    return config


def _python(code, *arguments):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=os.pathsep.join([str(REPO), BUILDERS]))
    run = subprocess.run([sys.executable, "-c", code, *map(str, arguments)], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    return run


def _check_through_every_command(config, root, tmp_path, builder):
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

    # Exported in another process, which numbered its automatic layer names on.
    saved = tmp_path / "saved.npy"
    _python(EXPORT_AFTER_OTHER_MODELS.replace("{builder}", builder), root, saved)
    images = np.asarray(np.random.default_rng(0).integers(0, 256, (16, 28, 28, 1)), np.uint8)
    np.save(tmp_path / "images.npy", images)
    _python(READ_BACK, str(np.load(saved)), tmp_path / "images.npy", tmp_path / "logits.npy")
    experiment = find_experiment(root, None)
    stored = rebuild(config, level_files(experiment, 0, 2), "early_stop", spec=experiment.spec())
    expected = stored(normalize_images(images, experiment.spec()), training=False).numpy()
    np.testing.assert_allclose(np.load(tmp_path / "logits.npy"), expected, atol=1e-5, rtol=0)
    return setup


@pytest.mark.parametrize("builder", [
    "nested_blocks",
    "lstm_rows",
    pytest.param("bidirectional_gru_rows", marks=pytest.mark.slow),
    pytest.param("embedding_conv1d", marks=pytest.mark.slow),
    pytest.param("transformer_rows", marks=pytest.mark.slow),
])
def test_model_runs_lottery_reinit_and_exports_in_another_process(builder, tiny_mnist_dir, tmp_path,
                                                                   builders_importable):
    config = _config(tiny_mnist_dir, builder)
    _check_through_every_command(config, str(tmp_path / "runs"), tmp_path, builder)


# The default suite resumes the nested model; the LSTM (runs through every command above) is slow here.
@pytest.mark.parametrize("builder", ["nested_blocks", pytest.param("lstm_rows", marks=pytest.mark.slow)])
def test_resumed_run_equals_uninterrupted(builder, tiny_mnist_dir, tmp_path, monkeypatch,
                                          builders_importable):
    config = _config(tiny_mnist_dir, builder, rewind="20it")
    reference = ExperimentPaths(str(tmp_path / "straight"), experiment_name(config))
    run_lottery(config, reference.root, [0], quiet=True)
    interrupted = ExperimentPaths(str(tmp_path / "killed"), experiment_name(config))
    interrupt_then_resume(monkeypatch, config, interrupted, level=1, step=40)
    assert_same_results(stored_results(interrupted), stored_results(reference))


@pytest.mark.parametrize(("builder", "message"), [
    ("subclassed_inside", "inner model 'doubler' is a subclassed keras.Model.*functional API"),
    ("unprunable_inside", "layer 'block/scale' \\(Scale\\).*PrunableLayer.*layers_to_ignore"),
    ("differs_per_call", "two builds with the same seed give different weights.*seed"),
])
def test_bad_user_models_get_one_message_and_exit_code_1(builder, message, tiny_mnist_dir, tmp_path):
    import re
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=os.pathsep.join([str(REPO), BUILDERS]))
    root = tmp_path / "runs"
    run = subprocess.run(
        [sys.executable, "-m", "lottery_tf", "lottery", "--config=configs/lenet_mnist.py",
         f"--root={root}", f"--config.dataset.data_dir={tiny_mnist_dir}",
         "--config.dataset.verify_checksums=False", "--config.dataset.validation_size=100",
         f"--config.model.name=architectures:{builder}"],
        cwd=REPO, capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 1
    assert re.search(message, run.stderr) and "Traceback" not in run.stderr, run.stderr[-2000:]
    assert not root.exists() or not any(root.iterdir())  # nothing stored
