"""The throughput benchmarks' own logic, and one short real run of each (slow)."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

SCRIPTS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                       "scripts")
sys.path.insert(0, SCRIPTS)

import benchmark_sparse_levels  # noqa: E402


def test_dead_units_are_found_from_the_output_back():
    first = np.ones((4, 3), bool)
    first[3] = False                  # input 3 feeds nothing
    second = np.zeros((3, 2), bool)
    second[0, 0] = second[1, 1] = True  # hidden unit 2 feeds nothing...
    first[2, :2] = False              # ...and input 2 fed only unit 2
    output = np.ones((2, 5), bool)
    assert benchmark_sparse_levels.surviving_widths([first, second, output]) == [2, 2, 2, 5]


def test_kernels_are_put_in_chain_order_or_refused():
    a, b, c = np.ones((6, 4)), np.ones((4, 3)), np.ones((3, 2))
    assert [k.shape for k in benchmark_sparse_levels.chain_order([c, a, b])] == [a.shape, b.shape, c.shape]
    from absl import app
    with pytest.raises(app.UsageError, match="one chain"):
        benchmark_sparse_levels.chain_order([a, np.ones((5, 5))])


@pytest.mark.slow
def test_experiment_benchmark_measures_and_projects(tmp_path):
    out = tmp_path / "bench.json"
    subprocess.run([sys.executable, os.path.join(SCRIPTS, "benchmark_experiment.py"), "--steps=200",
                    "--levels=1", "--floor_rounds=1", f"--json_out={out}"],
                   check=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), capture_output=True)
    results = json.loads(out.read_text())
    for name in ("cold_runs", "warm_runs"):
        assert [run["level"] for run in results[name]] == [0, 1]
        for run in results[name]:  # the parts add up to the run's wall time
            assert sum(run["parts"].values()) == pytest.approx(run["wall"])
            assert run["train_steps"] + run["first_chunk_steps"] == 200
    assert len(results["parallel"]["workers"]) == 2
    for projection in results["projection"].values():
        assert projection["wall_hours"] > 0 and projection["ratio_to_bare_loop"] > 0
