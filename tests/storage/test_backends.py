"""The storage layer's promises, on the local disk and on TensorFlow's in-memory `ram://`.

`ram://` is a real `tf.io.gfile` backend with object-store-like habits (what a writer
flushed is visible at once, nothing is fsynced), so the same tests show what a
`gs://` root would see. It lives in one process: kills by a real subprocess are
tested on the local disk only (test_kill_resume_storage.py).
"""
import json
import threading
import uuid

import numpy as np
import pytest
import tensorflow as tf

from lottery_tf.errors import CorruptFileError, StoreError
from lottery_tf.experiments.masked_run import finished_metrics
from lottery_tf.storage import crash_points, files, holders, store
from lottery_tf.storage.lock import run_lock
from lottery_tf.storage.paths import RunFiles


@pytest.fixture(params=["local", "ram"])
def root(request, tmp_path, monkeypatch):
    """A fresh results root on each backend."""
    if request.param == "local":
        return str(tmp_path / "runs")
    monkeypatch.setattr(holders, "SETTLE_SECONDS", 0.1)  # one process: no rival is slower
    return f"ram://{uuid.uuid4().hex}/runs"


class _Killed(BaseException):
    """Stands in for SIGKILL inside one process (not an Exception: nothing catches it)."""


def _overwrite(path, data):
    files.remove(path)  # ram:// writes over an existing file without truncating it
    with tf.io.gfile.GFile(path, "wb") as handle:
        handle.write(data)


def _visible_files(directory):
    return {name: files.read_bytes(files.join(directory, name)) for name in files.listdir(directory)}


def test_a_write_is_visible_only_once_complete(root, monkeypatch):
    path = files.join(root, "metrics.json")
    store.write_json(path, {"old": 1})
    old = files.read_bytes(path)
    seen = {}

    def halfway(point):  # what any reader sees when the writer is half done
        if point == "mid_write":
            seen.update(_visible_files(root))

    monkeypatch.setattr(crash_points, "reach", halfway)
    store.write_json(path, {"new": list(range(200))})
    assert seen.pop("metrics.json") == old
    [(temporary, partial)] = seen.items()  # only a hidden temporary holds the half
    assert temporary.startswith(".metrics.json.") and temporary.endswith(".tmp")
    assert 0 < len(partial) < len(files.read_bytes(path))
    assert store.read_json(path) == {"new": list(range(200))}
    assert files.listdir(root) == ["metrics.json"]


def test_writing_in_place_would_show_half_a_file_on_ram():
    """Why the temporary: on an object-store-like backend a plain write is seen half done."""
    path = f"ram://{uuid.uuid4().hex}/plain.json"
    with tf.io.gfile.GFile(path, "wb") as handle:
        handle.write(b'{"half": ')
        handle.flush()
        assert files.read_bytes(path) == b'{"half": '


def test_a_writer_dying_halfway_keeps_the_old_file(root, monkeypatch):
    path = files.join(root, "mask.npz")
    store.save_arrays(path, {"w": np.ones(5)})

    def die(point):
        raise _Killed(point)

    monkeypatch.setattr(crash_points, "reach", die)
    with pytest.raises(_Killed):
        store.save_arrays(path, {"w": np.zeros(5)})
    np.testing.assert_array_equal(store.load_arrays(path)["w"], np.ones(5))


def test_temporaries_of_dead_writers_are_removed_and_live_ones_kept(root):
    files.makedirs(root)
    dead = files.join(root, f".mask.npz.{store.host_tag()}-999999999.abcdef01.tmp")
    alive = files.join(root, f".mask.npz.{store.host_tag()}-1.abcdef02.tmp")  # pid 1 always runs
    elsewhere = files.join(root, ".mask.npz.0badc0de-999999999.abcdef03.tmp")
    for path in (dead, alive, elsewhere):
        store.atomic_write_bytes(path, b"partial", crash_point=None)
    assert store.remove_dead_temporaries(root) == [dead]
    assert files.exists(alive) and files.exists(elsewhere)


@pytest.mark.parametrize("damage", ["truncate", "garble"])
@pytest.mark.parametrize("kind", ["json", "npz"])
def test_damage_is_named_with_the_fix_and_nothing_is_deleted(root, kind, damage):
    path = files.join(root, f"stored.{kind}")
    if kind == "json":
        store.write_json(path, {"accuracy": [0.5, 0.75, 0.875], "step": 60})
    else:
        store.save_arrays(path, {"w": np.arange(200, dtype=np.float32)})
    good = files.read_bytes(path)
    if damage == "truncate":
        bad = good[:len(good) // 2]
    else:  # one byte changed inside the content the checksum covers
        spot = good.index(b"0.75") if kind == "json" else len(good) // 2
        bad = good[:spot] + bytes([good[spot] ^ 0x01]) + good[spot + 1:]
    _overwrite(path, bad)

    read = store.read_json if kind == "json" else store.load_arrays
    with pytest.raises(CorruptFileError, match="delete it and rerun") as error:
        read(path)
    assert error.value.path == path
    assert files.read_bytes(path) == bad  # detected, not deleted


def test_a_finished_run_with_a_damaged_file_is_set_aside_and_counts_as_unfinished(root):
    run = RunFiles(files.join(root, "level_1"))
    store.save_arrays(run.mask, {"w": np.ones(8)})
    store.save_arrays(run.weights_end, {"w": np.arange(8.0)})
    store.write_json(run.metrics, {"test_accuracy": 0.9})
    assert finished_metrics(run) == {"test_accuracy": 0.9}

    damaged = files.read_bytes(run.weights_end)[:-40]
    _overwrite(run.weights_end, damaged)
    assert finished_metrics(run) is None
    kept = {name: files.read_bytes(files.join(run.dir, name)) for name in files.listdir(run.dir)
            if name.startswith(".corrupt-")}
    assert sorted(name.split("-", 2)[-1] for name in kept) == ["metrics.json", "weights_end.npz"]
    assert damaged in kept.values()
    assert files.listdir(run.dir) == sorted([*kept, "mask.npz"])


def test_a_damaged_checkpoint_folder_is_set_aside_whole(root):
    folder = files.join(root, "checkpoints")
    store.write_json(files.join(folder, "latest.json"), {"step": 20})
    store.save_arrays(files.join(folder, "early_stop-20.npz"), {"w": np.ones(3)})
    moved = store.quarantine(folder)
    assert not files.exists(folder)
    assert files.listdir(moved) == ["early_stop-20.npz", "latest.json"]
    assert store.read_json(files.join(moved, "latest.json")) == {"step": 20}


def test_racing_takers_of_one_holder_file_have_exactly_one_winner(root, monkeypatch):
    monkeypatch.setattr(holders, "SETTLE_SECONDS", 0.3)  # ample for threads started at once
    for attempt in range(3):
        path = files.join(root, f"unit_{attempt}", "claim.json")
        start = threading.Barrier(4)
        outcomes = {}

        def take(taker, path=path, start=start, outcomes=outcomes):
            mine = holders.new_holder({"taker": taker})
            start.wait()
            outcomes[taker] = holders.acquire(path, mine) is None

        threads = [threading.Thread(target=take, args=(taker,)) for taker in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        winners = [taker for taker, won in outcomes.items() if won]
        assert len(winners) == 1, outcomes
        assert holders.read_holder(path)["taker"] == winners[0]


def test_a_lock_lost_to_another_taker_is_detected_before_results_are_written(root):
    run_dir = files.join(root, "level_0")
    with run_lock(run_dir, heartbeat_seconds=3600) as lease:
        lease.verify()  # still ours
        rival = holders.new_holder()
        rival.update(host="elsewhere.example", pid=4242)
        # What a second taker on an object store does when it judged us dead at the same time.
        store.atomic_write_bytes(lease.path, json.dumps(rival).encode(), crash_point=None)
        with pytest.raises(StoreError, match="lost its lock .* process 4242 on elsewhere.example"):
            lease.verify()
    assert holders.read_holder(lease.path)["token"] == rival["token"]  # not released: not ours


def test_a_heartbeat_that_finds_its_holder_file_taken_stops_and_says_so(root):
    path = files.join(root, "claim.json")
    mine, rival = holders.new_holder(), holders.new_holder()
    assert holders.acquire(path, mine) is None
    store.atomic_write_bytes(path, json.dumps(rival).encode(), crash_point=None)
    with holders.heartbeat(path, mine, every=0.05) as lost:
        assert lost.wait(5)
    assert holders.read_holder(path) == rival  # left alone, beat untouched


def test_the_heartbeat_refreshes_a_held_lock_and_release_deletes_it(root):
    run_dir = files.join(root, "level_0")
    with run_lock(run_dir, heartbeat_seconds=0.05) as lease:
        first = holders.read_holder(lease.path)["beat"]
        threading.Event().wait(0.3)
        assert holders.read_holder(lease.path)["beat"] > first
        with pytest.raises(StoreError, match="being written by process"):
            with run_lock(run_dir):
                pass
    assert not files.exists(files.join(run_dir, ".lock"))


def test_status_reads_the_root_and_names_the_lock_holder(root):
    from lottery_tf.sweeps.status import root_status

    experiment = files.join(root, "lenet_mnist_0123456789")
    store.write_json(files.join(experiment, "config.json"), {})
    store.write_json(files.join(experiment, "replicate_0", "level_0", "metrics.json"), {})
    level = files.join(experiment, "replicate_0", "level_1")
    store.write_json(files.join(level, "checkpoints", "latest.json"), {"step": 40})
    with run_lock(level, heartbeat_seconds=3600) as lease:
        text = root_status(root)
        assert "replicate_0/level_1" in text and "step 40" in text
        assert f"by {lease.holder['host']}:{lease.holder['pid']}" in text
    text = root_status(root)
    assert "no sweep, nothing training; 1 trunk levels finished" in text
