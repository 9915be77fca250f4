"""Ordinary Keras models through every command: nested, recurrent, attention, unnamed layers.

Each model (tests/models/architectures.py) runs 2 pruned levels, a reinit branch,
and an export read back by TensorFlow alone in a process that built other models
first; the nested and the LSTM model are also killed mid-level in their own process and
resumed by a new one.
"""
import os
import pathlib
import subprocess
import sys

import pytest
from user_model_checks import BUILDERS, check_killed_run_resumes_equal, check_through_every_command

from lottery_tf.testing import tiny_config

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def builders_importable(monkeypatch):
    monkeypatch.syspath_prepend(BUILDERS)


def _config(data_dir, builder, **overrides):
    config = tiny_config(data_dir, levels=2, **{"runtime.jit_compile": False, **overrides})
    config.model.name = f"architectures:{builder}"
    return config


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
    check_through_every_command(config, str(tmp_path / "runs"), tmp_path, builder)


# The default suite resumes the nested model; the LSTM (runs through every command above) is slow here.
@pytest.mark.parametrize("builder", ["nested_blocks", pytest.param("lstm_rows", marks=pytest.mark.slow)])
def test_run_killed_mid_level_resumes_in_a_new_process_equal_to_uninterrupted(builder, tiny_mnist_dir,
                                                                               tmp_path, monkeypatch):
    # 60 iterations a level, rewind to 20: level 0 pauses at 0, 20 and 40, level 1 at 20 and
    # 40 (a run pauses at its start to evaluate), so the fifth pause is level 1 mid-way, just
    # after its checkpoint.
    overrides = {"levels": 2, "runtime.jit_compile": False, "rewind": "20it",
                 "model.name": f"architectures:{builder}"}
    check_killed_run_resumes_equal(tiny_mnist_dir, overrides, tmp_path, monkeypatch, crash_at="pause:5",
                                   resumes_at="level 1 at step 40")


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
