"""A full disk or an unwritable root: one clear message, non-zero exit, nothing stored is lost."""
import hashlib
import os
import pathlib
import resource
import subprocess
import sys

import pytest

from lottery_tf.testing import write_config_file

REPO = pathlib.Path(__file__).resolve().parents[2]


def _lottery(config_file, root, *flags, max_file_bytes=None):
    def limit_file_size():  # the kernel refuses to grow any file past the limit: a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))

    return subprocess.run(
        [sys.executable, "-m", "lottery_tf", "lottery", f"--config={config_file}", f"--root={root}",
         "--quiet", *flags], cwd=REPO, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
        capture_output=True, text=True, timeout=300,
        preexec_fn=limit_file_size if max_file_bytes else None)


def _digests(root):
    return {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file() and "tensorboard" not in path.parts}


@pytest.mark.slow
def test_a_full_disk_stops_with_the_fix_and_keeps_finished_levels(tiny_mnist_dir, tmp_path):
    config_file = write_config_file(tmp_path / "tiny.py", tiny_mnist_dir, levels=1)
    root = tmp_path / "runs"
    assert _lottery(config_file, root).returncode == 0
    before = _digests(root)

    # Level 2's files (mask and weights, ~130 KB each) no longer fit.
    run = _lottery(config_file, root, "--config.levels=2", max_file_bytes=40_000)
    assert run.returncode == 1, run.stderr[-2000:]
    assert "Cannot write" in run.stderr and "free disk space" in run.stderr
    assert "Traceback" not in run.stderr
    after = _digests(root)
    assert {name: after[name] for name in before} == before  # nothing finished was touched
    assert not [name for name in after if name.endswith(".tmp")]


def test_an_unwritable_root_is_named(tiny_mnist_dir, tmp_path):
    config_file = write_config_file(tmp_path / "tiny.py", tiny_mnist_dir, levels=1)
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    run = _lottery(config_file, blocker / "runs")
    assert run.returncode == 1
    assert "Cannot write" in run.stderr and "writable --root" in run.stderr
    assert "Traceback" not in run.stderr
