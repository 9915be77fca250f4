"""Unit claims: one holder, heartbeats, and takeover of dead or silent holders."""
import json
import os
import time

from lottery_tf.sweeps import claims


def _write_claim(directory, **holder):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, claims.CLAIM), "w") as handle:
        json.dump({**claims.me(), **holder}, handle)


def test_a_claim_is_held_refreshed_by_its_heartbeat_and_released(tmp_path):
    directory = str(tmp_path / "unit")
    assert claims.try_claim(directory, {"train_steps": 60})
    assert not claims.try_claim(directory, {})  # this process is alive: held
    first_beat = claims.read_holder(directory)["beat"]
    with claims.heartbeat(directory, every=0.1):
        time.sleep(0.5)
        holder = claims.read_holder(directory)
        assert holder["beat"] > first_beat and holder["train_steps"] == 60
    assert claims.read_holder(directory) is None
    assert os.listdir(directory) == []


def test_another_hosts_claim_counts_until_its_heartbeat_is_stale(tmp_path):
    directory = str(tmp_path / "unit")
    _write_claim(directory, host="elsewhere", pid=1, beat=time.time() - 10)
    assert not claims.try_claim(directory, {}, stale_after=60)
    _write_claim(directory, host="elsewhere", pid=1, beat=time.time() - 120)
    assert claims.try_claim(directory, {}, stale_after=60)
    assert claims.read_holder(directory)["pid"] == os.getpid()


def test_a_half_written_claim_is_taken_over(tmp_path):
    directory = tmp_path / "unit"
    directory.mkdir()
    (directory / claims.CLAIM).write_text('{"host": "x", "pi')
    assert claims.try_claim(str(directory), {})


def test_a_worker_judged_dead_leaves_its_successors_claim_alone(tmp_path):
    directory = str(tmp_path / "unit")
    assert claims.try_claim(directory, {})
    with claims.heartbeat(directory, every=0.1):
        _write_claim(directory, host="elsewhere", pid=7)  # taken over meanwhile
        time.sleep(0.3)
    assert claims.read_holder(directory)["host"] == "elsewhere"  # neither refreshed nor removed
