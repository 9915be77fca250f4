"""`python -m lottery_tf describe`, run as a real subprocess: a table out, nothing written."""
import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
TINY = ["--config.dataset.validation_size=100", "--config.dataset.verify_checksums=False",
        "--config.model.name=lenet_40_20", "--config.training.batch_size=20",
        "--config.training.train_steps=40it", "--config.training.eval_every=20it",
        "--config.runtime.eval_batch_size=100", "--config.runtime.jit_compile=False"]


def describe(*args, data_dir=None, env_data=None):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    if env_data is not None:
        env["LOTTERY_TF_DATA"] = str(env_data)
    extra = [f"--config.dataset.data_dir={data_dir}"] if data_dir else []
    return subprocess.run([sys.executable, "-m", "lottery_tf", "describe", *args, *extra], cwd=REPO,
                          capture_output=True, text=True, env=env, timeout=300)


def test_describe_prints_the_weights_and_an_estimate_and_writes_nothing(tiny_mnist_dir, tmp_path):
    root = tmp_path / "runs"
    run = describe("--config=configs/lenet_mnist.py", f"--root={root}", *TINY, "--timed_steps=2",
                   "--config.pruning.rate=0.5", data_dir=tiny_mnist_dir)
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    lines = run.stdout.splitlines()
    assert lines[0] == "lenet_40_20 on mnist: 20 pruned levels, layer-wise pruning at weight granularity"
    assert "dense_1/kernel Dense dense  784x40 31,360  0.5 pruning.rate        50.0 25.0 12.5" in lines
    assert "output/kernel  Dense output 20x10     200  0.1 pruning.output_rate 90.0 81.0 73.0" in lines
    assert "output/bias  Dense 10       10 bias: never pruned" in lines
    assert any(line.startswith("step time: ") for line in lines)
    assert any(line.startswith("level 0 ") and " 40 " in line for line in lines)
    assert any(line.startswith("one replicate, levels 0-20: about ") for line in lines)
    assert not root.exists()


@pytest.mark.parametrize("args,message", [
    (["--config.pruning.rate=1.5"], "[0, 1)"),
    (["--timed_steps=-1"], "timed_steps"),
])
def test_a_bad_config_is_one_error_line(args, message, tiny_mnist_dir, tmp_path):
    run = describe("--config=configs/lenet_mnist.py", f"--root={tmp_path / 'runs'}", *TINY, *args,
                   data_dir=tiny_mnist_dir)
    assert run.returncode == 1
    assert len(run.stderr.strip().splitlines()) == 1 and message in run.stderr
    assert run.stdout == "" and not (tmp_path / "runs").exists()


def test_missing_data_is_the_usual_message(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    run = describe("--config=configs/lenet_mnist.py", f"--root={tmp_path / 'runs'}", "--timed_steps=0",
                   env_data=empty)
    if "prepared copy" not in run.stderr and run.returncode == 0:
        pytest.skip("tensorflow-datasets holds a prepared MNIST on this machine")
    assert run.returncode == 1
    assert "scripts/get_data.sh" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "runs").exists()
