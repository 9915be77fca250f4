"""The command line, run as a real subprocess like a user would."""
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
TINY = ["--config.dataset.validation_size=100", "--config.dataset.verify_checksums=False",
        "--config.model.name=lenet_40_20", "--config.training.batch_size=20",
        "--config.training.train_steps=40it", "--config.training.eval_every=20it",
        "--config.runtime.eval_batch_size=100"]


def lottery_tf(*args, data_dir=None, env_data=None):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    if env_data is not None:
        env["LOTTERY_TF_DATA"] = str(env_data)
    extra = [f"--config.dataset.data_dir={data_dir}"] if data_dir else []
    return subprocess.run([sys.executable, "-m", "lottery_tf", *args, *extra], cwd=REPO,
                          capture_output=True, text=True, env=env, timeout=300)


def test_lottery_then_branch_prints_tables_and_stores_results(tiny_mnist_dir, tmp_path):
    common = ["--config=configs/lenet_mnist.py", f"--root={tmp_path}", "--config.levels=2", *TINY]
    run = lottery_tf("lottery", *common, data_dir=tiny_mnist_dir)
    assert run.returncode == 0, run.stderr
    assert "replicate 0:" in run.stdout and " 64.1 " in run.stdout
    branch = lottery_tf("branch", "reinit", "--levels=1-2", "--quiet", *common, data_dir=tiny_mnist_dir)
    assert branch.returncode == 0, branch.stderr
    for noise in ("oneDNN", "cudart", "cuda", "InitializeLog", "device_name", "Warning"):
        assert noise not in run.stderr + branch.stderr  # only lottery_tf's own lines
    assert run.stderr == ""
    # --quiet: one progress line per run when stderr is not a terminal.
    progress = branch.stderr.splitlines()
    assert len(progress) == 2 and all("step 40/40 |" in line and "it/s" in line for line in progress)
    table = branch.stdout.splitlines()
    assert "reinit acc %" in table[1] and len(table) == 5
    (experiment,) = tmp_path.iterdir()
    # Accuracies in percent with two decimals, the report's unit.
    level_2 = json.loads((experiment / "replicate_0" / "level_2" / "metrics.json").read_text())
    lottery_row = next(line.split() for line in run.stdout.splitlines() if line.split()[:1] == ["2"])
    assert float(lottery_row[2]) == pytest.approx(100 * level_2["test_accuracy"], abs=5e-3)
    assert float(lottery_row[4]) == pytest.approx(100 * level_2["early_stop_test_accuracy"], abs=5e-3)
    assert float(table[4].split()[2]) == pytest.approx(100 * level_2["early_stop_test_accuracy"], abs=5e-3)
    stored = json.loads((experiment / "config.json").read_text())
    assert stored["hashed"]["model.name"] == "lenet_40_20"
    assert experiment.name.endswith(stored["hash"])


@pytest.mark.parametrize("args,message", [
    (["lottery", "--config.model.name=lenet_x"], "Unknown model"),
    (["lottery", "--config.pruning.rate=1.5"], "[0, 1)"),
    (["lottery", "--config.pruning.strategy=magic"], "'layerwise' or 'global'"),
    (["lottery", "--config.levels=-2"], "levels must be >= 0"),
    (["lottery", "--config.rewind=40it"], "past the end of training"),
    (["lottery", "--config.dataset.name=imagenet"], "mnist"),
    (["lottery", "--config.training.learning_rate=nan"], "learning_rate must be a finite number"),
    (["prune"], "Name one command"),
    (["branch", "magic", "--levels=1"], "Unknown branch"),
])
def test_bad_input_gets_one_clear_message(args, message, tiny_mnist_dir, tmp_path):
    command, overrides = args[:1 + (args[0] == "branch")], args[1 + (args[0] == "branch"):]
    run = lottery_tf(*command, "--config=configs/lenet_mnist.py", f"--root={tmp_path}", *TINY,
                     *overrides, data_dir=tiny_mnist_dir)
    assert run.returncode == 1
    assert message.lower() in run.stderr.lower()
    assert "Traceback" not in run.stderr
    assert not any(tmp_path.iterdir())  # nothing half-created


def test_help_exits_zero_and_lists_commands_fields_and_every_flag_of_ours():
    run = lottery_tf("--help")
    assert run.returncode == 0, run.stderr
    assert "branch <name>" in run.stdout and "--config.training.learning_rate" in run.stdout
    listed = set(re.findall(r"^  --(?:\[no\])?(\w+):", run.stdout, re.MULTILINE))
    # The sweep flags are defined in lottery_tf/sweeps/command.py, not the main module.
    assert {"sweep", "workers", "pin_cpus", "shard", "root", "replicates"} <= listed
    assert "logtostderr" not in run.stdout  # absl's own flags stay in --helpfull


@pytest.mark.parametrize("content,message", [
    (None, "does not exist"),
    ("def get_config(:\n", "does not parse: invalid syntax at line 1"),
])
def test_a_config_file_that_cannot_load_is_one_message_naming_it(tmp_path, content, message):
    path = tmp_path / "mine.py"
    if content is not None:
        path.write_text(content)
    run = lottery_tf("train", f"--config={path}", f"--root={tmp_path / 'runs'}")
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [f"error: Config file {path} {message}"
                                               + ("; check the path (configs/ holds the published "
                                                  "settings)." if content is None else ".")]
    assert not (tmp_path / "runs").exists()


def test_missing_data_lists_places_and_the_fix(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    run = lottery_tf("train", "--config=configs/lenet_mnist.py", f"--root={tmp_path / 'runs'}",
                     "--config.training.train_steps=20it",
                     env_data=empty)
    if "prepared copy" not in run.stderr and run.returncode == 0:
        pytest.skip("tensorflow-datasets holds a prepared MNIST on this machine")
    assert run.returncode == 1
    assert "scripts/get_data.sh" in run.stderr and str(empty) in run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "runs").exists()
