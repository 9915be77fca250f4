"""One writer per run: a live holder is refused, a dead one's lock is taken over."""
import json
import os
import socket
import subprocess
import sys
import time

import pytest

from lottery_tf.errors import StoreError
from lottery_tf.storage.lock import run_lock


def _write_lock(directory, pid, host=None, beat=None):
    directory.mkdir(parents=True, exist_ok=True)
    now = time.time()
    (directory / ".lock").write_text(json.dumps(
        {"pid": pid, "host": host or socket.gethostname(), "since": now, "beat": beat or now}))


def test_a_live_holder_is_refused_by_name(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _write_lock(tmp_path, holder.pid)
        with pytest.raises(StoreError, match=f"process {holder.pid}"):
            with run_lock(str(tmp_path)):
                pass
        assert (tmp_path / ".lock").exists()  # the holder keeps its lock
    finally:
        holder.kill()
        holder.wait()


def test_a_dead_holders_lock_is_taken_over_and_released(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _write_lock(tmp_path, dead.pid)
    with run_lock(str(tmp_path)):
        assert json.loads((tmp_path / ".lock").read_text())["pid"] == os.getpid()
    assert not (tmp_path / ".lock").exists()


def test_a_holder_on_another_host_is_refused_with_the_fix(tmp_path):
    _write_lock(tmp_path, 1, host="elsewhere.example")
    with pytest.raises(StoreError, match="delete"):
        with run_lock(str(tmp_path)):
            pass


def test_a_holder_on_another_host_whose_heartbeat_stopped_is_taken_over(tmp_path):
    _write_lock(tmp_path, 1, host="elsewhere.example", beat=time.time() - 3600)
    with run_lock(str(tmp_path)):
        assert json.loads((tmp_path / ".lock").read_text())["pid"] == os.getpid()


def test_a_half_written_lock_does_not_block(tmp_path):
    (tmp_path / ".lock").write_text('{"pid": 12')
    with run_lock(str(tmp_path)):
        pass
