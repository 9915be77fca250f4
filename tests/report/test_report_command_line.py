"""`python -m lottery_tf report`, run as a real subprocess like a user would."""
import os
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]


def lottery_tf(*args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, "-m", "lottery_tf", *args], cwd=REPO, capture_output=True,
                          text=True, env=env, timeout=300)


def test_report_needs_no_config_and_writes_the_report(report_root, tmp_path):
    (experiment,) = pathlib.Path(report_root).iterdir()
    out = tmp_path / "out"
    run = lottery_tf("report", f"--root={report_root}", f"--experiment={experiment.name[-10:]}",
                     f"--out={out}", "--levels=1")
    assert run.returncode == 0, run.stderr
    assert "| level | % weights | ticket acc@es % (n=2) | ticket es step" in run.stdout
    assert f"wrote 23 files to {out}" in run.stdout  # with the cost tables and figure (PNG, SVG, text)
    assert "A IMP weight rewinding" in (out / "cost_vs_accuracy.txt").read_text()
    assert (out / "accuracy_vs_sparsity.svg").exists() and (out / "report.md").exists()
    assert "Training curves at levels 1;" in (out / "report.md").read_text()

