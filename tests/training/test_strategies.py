"""Strategies for real: mirrored on 2 logical CPUs, and 2 multi-worker processes on localhost.

Tolerance: masks must be identical and weights/losses agree to 1e-4 (the
replicas' all-reduce sums in another order than one device does, ~1e-6 here).
"""
import json
import os
import pathlib
import socket
import subprocess
import sys

import numpy as np
import pytest

from lottery_tf.errors import ConfigError
from lottery_tf.experiments.config import experiment_name
from lottery_tf.experiments.lottery import run_lottery
from lottery_tf.storage import store
from lottery_tf.storage.paths import ExperimentPaths
from lottery_tf.testing import tiny_config, write_config_file
from lottery_tf.training.strategies import RuntimeSpec, make_strategy

REPO = pathlib.Path(__file__).resolve().parents[2]
LEVELS = 1
TOLERANCE = 1e-4


def _config_file(tmp_path, data_dir) -> pathlib.Path:
    return write_config_file(tmp_path / "tiny.py", data_dir, levels=LEVELS)


def _lottery(config_file, root, *flags, env=None):
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **(env or {}))
    return subprocess.Popen(
        [sys.executable, "-m", "lottery_tf", "lottery", f"--config={config_file}", f"--root={root}",
         "--quiet", *flags], cwd=REPO, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)


def _finish(process, timeout=300):
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err[-3000:]
    return out


@pytest.fixture(scope="module")
def reference(tiny_mnist_dir, tmp_path_factory):
    """The same experiment under the default strategy, in this process."""
    root = tmp_path_factory.mktemp("default")
    config = tiny_config(tiny_mnist_dir, levels=LEVELS)
    run_lottery(config, str(root), [0], quiet=True)
    return ExperimentPaths(str(root), experiment_name(config))


def _assert_same_results(paths, expected):
    assert os.path.basename(paths.dir) == os.path.basename(expected.dir)  # strategy is not hashed
    for level in range(LEVELS + 1):
        if level:
            got, want = store.load_arrays(paths.mask(0, level)), store.load_arrays(expected.mask(0, level))
            for layer in want:
                np.testing.assert_array_equal(got[layer], want[layer])
        got = store.load_arrays(paths.weights_end(0, level))
        for name, value in store.load_arrays(expected.weights_end(0, level)).items():
            np.testing.assert_allclose(got[name], value, atol=TOLERANCE)
        got_curve = store.read_json(paths.metrics(0, level))["curve"]
        want_curve = store.read_json(expected.metrics(0, level))["curve"]
        assert [c["step"] for c in got_curve] == [c["step"] for c in want_curve]
        for got_point, want_point in zip(got_curve, want_curve, strict=True):
            assert got_point["val_loss"] == pytest.approx(want_point["val_loss"], abs=TOLERANCE)
            assert got_point["val_accuracy"] == pytest.approx(want_point["val_accuracy"], abs=1e-6)


def test_mirrored_on_two_cpus_matches_default(reference, tiny_mnist_dir, tmp_path):
    config_file = _config_file(tmp_path, tiny_mnist_dir)
    root = tmp_path / "mirrored"
    _finish(_lottery(config_file, root, "--config.runtime.strategy=mirrored",
                     "--config.runtime.cpu_devices=2"))
    _assert_same_results(ExperimentPaths(str(root), os.path.basename(reference.dir)), reference)


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_two_workers_train_identically_and_only_the_chief_writes(reference, tiny_mnist_dir, tmp_path):
    config_file = _config_file(tmp_path, tiny_mnist_dir)
    root, scratch = tmp_path / "results", tmp_path / "worker_1"
    cluster = {"worker": [f"localhost:{port}" for port in _free_ports(2)]}
    workers = [
        _lottery(config_file, root, "--config.runtime.strategy=multi_worker", f"--worker_dir={scratch}",
                 env={"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}})})
        for i in range(2)]
    for worker in workers:
        _finish(worker)
    (experiment,) = root.iterdir()  # one experiment, written by the chief only
    chief = ExperimentPaths(str(root), experiment.name)
    _assert_same_results(chief, reference)
    other = ExperimentPaths(str(scratch), experiment.name)
    for level in range(1, LEVELS + 1):
        for layer, mask in store.load_arrays(chief.mask(0, level)).items():
            np.testing.assert_array_equal(store.load_arrays(other.mask(0, level))[layer], mask)
    assert not list(root.glob("**/.lock"))


def test_when_the_chief_fails_every_worker_stops_with_a_message(tiny_mnist_dir, tmp_path):
    config_file = _config_file(tmp_path, tiny_mnist_dir)
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    cluster = {"worker": [f"localhost:{port}" for port in _free_ports(2)]}
    workers = [
        _lottery(config_file, blocker / "runs", "--config.runtime.strategy=multi_worker",
                 f"--worker_dir={tmp_path / 'worker_1'}",
                 env={"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}})})
        for i in range(2)]
    (chief_out, chief_err), (worker_out, worker_err) = (w.communicate(timeout=300) for w in workers)
    assert [w.returncode for w in workers] == [1, 1]
    assert "choose a writable --root" in chief_err.splitlines()[-1]
    assert worker_err.splitlines()[-1].startswith("error: Another worker of the cluster stopped")
    assert "Traceback" not in worker_err


def test_strategy_errors_name_the_fix(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ConfigError, match="choose one of"):
        make_strategy(RuntimeSpec("magic"))
    with pytest.raises(ConfigError, match="TF_CONFIG"):
        make_strategy(RuntimeSpec("multi_worker"))
    with pytest.raises(ConfigError, match="No TPU found"):
        make_strategy(RuntimeSpec("tpu"))
