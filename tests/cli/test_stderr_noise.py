"""A real run's stderr holds lottery_tf's own lines only, none of TensorFlow's notices."""
import os
import pathlib
import re
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
NOISE = re.compile(r"determinism|use_unbounded_threadpool|cuda|oneDNN|InitializeLog|"
                   r"rebuild TensorFlow|tf\.data options|Traceback", re.IGNORECASE)


@pytest.mark.slow
def test_a_maxpool_model_run_prints_only_our_xla_notice(tiny_mnist_dir, tmp_path):
    # conv2's MaxPool gradient has no deterministic XLA kernel: TensorFlow logs an error line
    # worded for GPUs (on a CPU too) while the trainer finds out; the user sees our line once.
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    run = subprocess.run(
        [sys.executable, "-m", "lottery_tf", "train", "--config=configs/lenet_mnist.py",
         f"--root={tmp_path}", f"--config.dataset.data_dir={tiny_mnist_dir}",
         "--config.dataset.validation_size=100", "--config.dataset.verify_checksums=False",
         "--config.model.name=conv2", "--config.training.batch_size=20",
         "--config.training.train_steps=20it", "--config.training.eval_every=20it",
         "--config.runtime.eval_batch_size=100",
         # Unset, a convolutional model on CPU trains without XLA (xla_choice) and never asks.
         "--config.runtime.jit_compile=True"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].endswith("] Training without XLA (slower): XLA has no reproducible kernel for "
                             "MaxPool's gradient.")
    assert not NOISE.search(run.stderr)
    assert "step     20/20" in run.stdout  # and training went on
