"""README.md's `LotteryTicket` script, extracted and run as written on tiny Fashion-MNIST files."""
import os
import pathlib
import subprocess
import sys

import pytest

from lottery_tf.storage import files as storage_files
from lottery_tf.storage.catalog import find_experiment
from lottery_tf.testing import synthetic_images, write_idx

REPO = pathlib.Path(__file__).resolve().parents[2]
MARK = "<!-- fit-callback-script"


def readme_script() -> str:
    block = (REPO / "README.md").read_text().split(MARK)[1]
    return block.split("```python\n")[1].split("```")[0]


def test_readme_script_is_short_and_complete():
    lines = readme_script().splitlines()
    assert len(lines) < 25
    assert lines[0].startswith("import") and "lt.report(" in lines[-1]


def _tiny_fashion_mnist(home: pathlib.Path) -> None:
    """Keras' own cache layout, `~/.keras/datasets/fashion-mnist/*.gz`, with 240 + 100 images."""
    folder = home / ".keras" / "datasets" / "fashion-mnist"
    folder.mkdir(parents=True)
    for prefix, count, seed in (("train", 240, 0), ("t10k", 100, 1)):
        images, labels = synthetic_images(count, seed)
        write_idx(folder / f"{prefix}-images-idx3-ubyte", images[..., 0], compress=True)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", labels, compress=True)


@pytest.mark.slow  # 85 epochs of LeNet-300-100 and 17 stored runs: ~80 s on 2 shared cores
def test_readme_script_runs_as_written_and_stores_ticket_and_control(tmp_path):
    _tiny_fashion_mnist(tmp_path)
    (tmp_path / "script.py").write_text(readme_script())
    environment = dict(os.environ, HOME=str(tmp_path), TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO))
    process = subprocess.run([sys.executable, "script.py"], cwd=tmp_path, env=environment,
                             capture_output=True, text=True, timeout=900)
    assert process.returncode == 0, process.stderr[-3000:]
    assert "branches: reinit" in process.stdout
    paths = find_experiment(str(tmp_path / "runs"), None).paths
    for level in range(9):
        assert storage_files.exists(paths.metrics(0, level))
        controls = [name for name in os.listdir(paths.level(0, level)) if name.startswith("branch_reinit_")]
        assert len(controls) == (1 if level else 0)
    table = [line for line in process.stdout.splitlines() if line.startswith("| 8 |")]
    assert len(table) == 1 and "| 16.9 |" in table[0]  # 0.8 ** 8 of the weights, output layer at 0.9 ** 8
