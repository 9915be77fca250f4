"""`python -m lottery_tf export`, run as a real subprocess like a user would, and the export
loaded by a process that has only TensorFlow."""
import json
import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]

# A user's script: plain TensorFlow and NumPy, raw IDX test images as MNIST stores them.
FRESH_PROCESS = r"""
import json, struct, sys
import numpy as np
import tensorflow as tf

def idx(path):
    data = open(path, "rb").read()
    dims = data[3]
    shape = struct.unpack(f">{dims}I", data[4:4 + 4 * dims])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)

folder, saved_model = sys.argv[1], sys.argv[2]
images = idx(f"{folder}/t10k-images-idx3-ubyte")[..., None]
labels = idx(f"{folder}/t10k-labels-idx1-ubyte")
serve = tf.saved_model.load(saved_model).signatures["serving_default"]
logits = serve(images=tf.constant(images))["logits"].numpy()
assert not [name for name in sys.modules if name.startswith("lottery_tf")]
print(json.dumps({"accuracy": float(np.mean(logits.argmax(axis=1) == labels)), "count": len(labels)}))
"""


def lottery_tf(*args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, "-m", "lottery_tf", *args], cwd=REPO, capture_output=True,
                          text=True, env=env, timeout=300)


def test_export_needs_no_config_and_reports_sparsity_and_sizes(export_root, tiny_mnist_dir, tmp_path):
    (experiment,) = pathlib.Path(export_root).iterdir()
    run = lottery_tf("export", f"--root={export_root}", f"--experiment={experiment.name}", "--level=1",
                     "--tflite")
    assert run.returncode == 0, run.stderr
    assert "zero weights in the saved prunable kernels" in run.stdout
    assert "TFLite sparse format" in run.stdout and "dense level 0" in run.stdout
    export_dir = experiment / "replicate_0" / "level_1" / "export"
    assert (export_dir / "saved_model" / "saved_model.pb").exists()
    record = json.loads((export_dir / "export.json").read_text())
    assert record["weights"] == "early_stop"  # the default: the accuracy the report headlines
    # A fresh process with TensorFlow only, fed the raw dataset images, gets the stored accuracy.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    fresh = subprocess.run([sys.executable, "-c", FRESH_PROCESS, str(tiny_mnist_dir),
                            str(export_dir / "saved_model")], cwd=tmp_path, capture_output=True,
                           text=True, env=dict(env, TF_CPP_MIN_LOG_LEVEL="3"), timeout=300)
    assert fresh.returncode == 0, fresh.stderr
    answer = json.loads(fresh.stdout.strip().splitlines()[-1])
    assert answer["count"] == 200
    assert abs(answer["accuracy"] - record["stored_test_accuracy"]) <= 1 / 200 + 1e-9
    assert answer["accuracy"] == record["test_accuracy"]


@pytest.mark.slow
def test_export_compact_prints_units_parameters_and_latency(export_root):
    (experiment,) = pathlib.Path(export_root).iterdir()
    run = lottery_tf("export", f"--root={export_root}", f"--experiment={experiment.name}", "--level=1",
                     "--compact")
    assert run.returncode == 0, run.stderr
    assert "compact model:" in run.stdout and "batch 256: dense" in run.stdout
    written = json.loads((experiment / "replicate_0" / "level_1" / "export" / "export.json").read_text())
    assert written["compact"]["params_compact"] <= written["compact"]["params_dense"]
    assert written["compact"]["max_abs_diff"] <= 1e-5 * 100
