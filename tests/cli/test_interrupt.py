"""Ctrl-C during training: one line saying where, exit code 130, and the same command resumes."""
import io
import os
import pathlib
import re
import signal
import subprocess
import sys
import threading

import pytest

from lottery_tf.testing import write_config_file
from lottery_tf.training import position
from lottery_tf.training.callbacks import ConsoleLogger, ProgressLine

REPO = pathlib.Path(__file__).resolve().parents[2]
# TensorFlow's own lines, none of which may reach the user (TF_CPP_MIN_LOG_LEVEL is left unset).
NOISE = re.compile(r"determinism|use_unbounded_threadpool|cuda|oneDNN|InitializeLog|Traceback",
                   re.IGNORECASE)


def interrupted_run(config_file, root, interrupt_after: str) -> tuple[int, str, str]:
    """`python -m lottery_tf lottery`, sent SIGINT once a stdout line contains `interrupt_after`.

    Returns:
      (exit code, stdout, stderr).
    """
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    process = subprocess.Popen(
        [sys.executable, "-m", "lottery_tf", "lottery", f"--config={config_file}", f"--root={root}"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(240, process.kill)  # a run that never prints the line fails, not hangs
    watchdog.start()
    try:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if interrupt_after in line:
                process.send_signal(signal.SIGINT)
                break
        stdout, stderr = process.communicate(timeout=120)
    finally:
        watchdog.cancel()
    return process.returncode, "".join(lines) + stdout, stderr


@pytest.mark.slow
def test_ctrl_c_is_one_line_and_the_same_command_resumes(tiny_mnist_dir, tmp_path):
    # Long enough never to finish; a checkpoint at every evaluation, so one exists by step 20.
    config_file = write_config_file(tmp_path / "tiny.py", tiny_mnist_dir, levels=0, **{
        "training.train_steps": "100000it", "runtime.jit_compile": False})
    root = tmp_path / "runs"

    code, stdout, stderr = interrupted_run(config_file, root, "step     20/100000")
    assert code == 130, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr  # nothing but our line: no traceback, no TensorFlow notices
    step = int(re.fullmatch(r"interrupted at step (\d+) of replicate 0 level 0; run the same "
                            r"command to resume", lines[0]).group(1))
    assert step >= 20 and step % 20 == 0  # the last step training reached: a pause
    assert not NOISE.search(stderr)

    code, stdout, stderr = interrupted_run(config_file, root, "resuming")
    assert code == 130, stderr
    resumed = re.search(r"^resuming replicate 0 level 0 at step (\d+) from its checkpoint$", stdout,
                        re.MULTILINE)
    assert resumed, stdout
    resumed_at = int(resumed.group(1))
    assert 20 <= resumed_at <= step  # from the latest checkpoint the first run wrote
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    # The signal lands at the resumed step or, if a chunk of steps was under way, the next pause.
    assert int(re.fullmatch(r"interrupted at step (\d+) of replicate 0 level 0; run the same "
                            r"command to resume", lines[0]).group(1)) >= resumed_at


def test_the_position_record_words_where_training_stopped():
    position.clear()
    position.start(40)
    assert position.interrupted_message() == "interrupted at step 40; run the same command to resume"
    position.name_run("rep 1 level 1 reinit")
    position.reach(60)
    assert position.interrupted_message() == ("interrupted at step 60 of replicate 1 level 1 reinit; "
                                              "run the same command to resume")
    position.clear()  # between runs nothing is half-trained
    assert position.interrupted_message() == ("interrupted; run the same command to resume "
                                              "(finished work is kept)")


def test_a_resumed_run_says_so_first_and_a_fresh_one_does_not():
    resumed, fresh = io.StringIO(), io.StringIO()
    position.name_run("rep 0 level 2")  # as the runner does before training
    ConsoleLogger("[rep 0 level 2  64.1%]", 100, stream=resumed).on_train_begin(
        {"step": 40, "start_step": 20})
    ProgressLine("[rep 0 level 2  64.1%]", 100, stream=fresh).on_train_begin(
        {"step": 20, "start_step": 20})
    position.clear()
    assert resumed.getvalue() == "resuming replicate 0 level 2 at step 40 from its checkpoint\n"
    assert fresh.getvalue() == ""
