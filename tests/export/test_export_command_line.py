"""`python -m lottery_tf export`, run as a real subprocess like a user would."""
import json
import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


def lottery_tf(*args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, "-m", "lottery_tf", *args], cwd=REPO, capture_output=True,
                          text=True, env=env, timeout=300)


def test_export_needs_no_config_and_reports_sparsity_and_sizes(export_root):
    (experiment,) = pathlib.Path(export_root).iterdir()
    run = lottery_tf("export", f"--root={export_root}", f"--experiment={experiment.name}", "--level=1",
                     "--tflite")
    assert run.returncode == 0, run.stderr
    assert "zero weights in the saved prunable kernels" in run.stdout
    assert "TFLite sparse format" in run.stdout and "dense level 0" in run.stdout
    assert (experiment / "replicate_0" / "level_1" / "export" / "saved_model" / "saved_model.pb").exists()



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
