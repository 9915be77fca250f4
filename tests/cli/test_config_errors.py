"""A mistyped config field or a bad value: one line, exit 1, before TensorFlow loads."""
import os
import pathlib
import re
import subprocess
import sys

import pytest
from absl import flags

from lottery_tf.config.overrides import check_override_names, flag_error_message
from lottery_tf.errors import ConfigError

REPO = pathlib.Path(__file__).resolve().parents[2]
# `python -X importtime` writes one line per imported module to stderr.
IMPORT_TIME = re.compile(r"^import time:")
TENSORFLOW_IMPORTED = re.compile(r"^import time:.*\|\s*tensorflow(\.|$)", re.MULTILINE)


def lottery_tf_importtime(*args):
    return subprocess.run([sys.executable, "-X", "importtime", "-m", "lottery_tf", *args], cwd=REPO,
                          capture_output=True, text=True, env=dict(os.environ), timeout=120)


@pytest.mark.parametrize("command,override,message", [
    ("train", "--config.trainig.learning_rate=0.1",
     "error: unknown config field 'trainig.learning_rate'; did you mean 'training.learning_rate'?"),
    ("lottery", "--config.pruning.rat=0.5",
     "error: unknown config field 'pruning.rat'; did you mean 'pruning.rate'?"),
    ("lottery", "--config.training.learning_rate=abc",
     "error: --config.training.learning_rate=abc: expected a float"),
    ("train", "--config.levels=many", "error: --config.levels=many: expected an integer"),
    ("train", "--config.dataset.augment=maybe",
     "error: --config.dataset.augment=maybe: expected true or false"),
    ("lottery", "--config.pruning.rate=1.5", "error: pruning.rate must be in [0, 1), got 1.5."),
])
def test_a_bad_override_is_one_line_before_tensorflow_loads(command, override, message, tmp_path):
    run = lottery_tf_importtime(command, "--config=configs/lenet_mnist.py", f"--root={tmp_path}",
                                override)
    assert run.returncode == 1
    assert [line for line in run.stderr.splitlines() if not IMPORT_TIME.match(line)] == [message]
    assert not TENSORFLOW_IMPORTED.search(run.stderr)
    assert "import time:" in run.stderr  # the check above looked at real import lines
    assert not any(tmp_path.iterdir())


def test_a_config_file_that_raises_is_one_line_naming_it(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text("def get_config():\n    raise ValueError('no such setting')\n")
    run = lottery_tf_importtime("train", f"--config={path}", f"--root={tmp_path / 'runs'}")
    assert run.returncode == 1
    assert [line for line in run.stderr.splitlines() if not IMPORT_TIME.match(line)] == [
        f"error: Config file {path} failed to load: ValueError: no such setting"]


@pytest.mark.parametrize("args", [
    ["--config.training.learning_rate=0.1", "--noconfig.dataset.augment", "--config.runtime", "3"],
    ["--config=configs/lenet_mnist.py", "--", "--config.not_a_field=1"],  # after `--`: not a flag
])
def test_known_fields_and_sections_pass(args):
    check_override_names(args)


def test_a_far_off_name_points_to_help():
    with pytest.raises(ConfigError, match=r"^unknown config field 'zzz'; `--help` lists them.$"):
        check_override_names(["--config.zzz=1"])


def test_a_number_out_of_bounds_keeps_the_bound_in_the_message():
    values = flags.FlagValues()
    flags.DEFINE_integer("workers", 1, "", lower_bound=1, flag_values=values)
    with pytest.raises(flags.IllegalFlagValueError) as raised:
        values(["program", "--workers=0"])
    message = flag_error_message(raised.value, values)
    assert message.startswith("--workers=0: ") and "positive" in message  # absl's own reason
    with pytest.raises(flags.IllegalFlagValueError) as raised:
        values(["program", "--workers=two"])
    assert flag_error_message(raised.value, values) == "--workers=two: expected an integer"
