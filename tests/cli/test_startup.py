"""TensorFlow's load-time notices are dropped; other stderr output of the import is kept."""
import os
import subprocess
import sys

SCRIPT = r"""
import os, sys
from lottery_tf import startup
with startup.filtered_stderr():
    os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n")
    os.write(2, b"I0000 00:00:1796047725.979400    6280 port.cc:153] oneDNN custom operations are on.\n")
    os.write(2, b"I0000 00:00:1796047725.980176    6280 cudart_stub.cc:31] Could not find cuda drivers\n")
    os.write(2, b"a real error from a library\n")
    print("python's own warning", file=sys.stderr)
tf = startup.import_tensorflow()
tf.get_logger().warning("5 out of the last 15 calls to <f> triggered tf.function retracing.")
tf.get_logger().warning("another warning")
"""


def test_load_notices_are_dropped_and_other_lines_kept():
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    run = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    lines = run.stderr.splitlines()
    assert lines[:2] == ["a real error from a library", "python's own warning"]
    assert not [line for line in lines if "oneDNN" in line or "cuda" in line or "InitializeLog" in line]
    assert "another warning" in run.stderr and "retracing" not in run.stderr
