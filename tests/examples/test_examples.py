"""The example models outside the zoo: lottery, branch reinit, report and export end to end."""
import io
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from lottery_tf.config.files import load_config_file
from lottery_tf.experiments import branches
from lottery_tf.experiments.lottery import run_lottery
from lottery_tf.experiments.setup import prepare
from lottery_tf.export import export_command, saved_kernels
from lottery_tf.report.build import build_report
from lottery_tf.storage import store
from lottery_tf.testing import synthetic_images, write_npz

REPO = pathlib.Path(__file__).resolve().parents[2]
TINY = {"dataset.validation_size": 100, "dataset.verify_checksums": False,
        "training.batch_size": 20, "training.train_steps": "30it", "training.eval_every": "15it",
        "runtime.checkpoint_every": "15it", "runtime.eval_batch_size": 100,
        "runtime.test_every": "0it", "runtime.jit_compile": False, "levels": 1,
        "pruning.rate": 0.5}


@pytest.mark.parametrize(("config_file", "source", "pruned_keys"), [
    # The BatchNorm + DepthwiseConv2D CNN takes ~30 s; its layer kinds are also covered quickly by
    # tests/models/test_custom_models.py.
    pytest.param("examples/fashion_dwcnn_config.py", "idx",
                 {"dw_1": "dw_1/depthwise_kernel", "pw_2": "pw_2/kernel"}, marks=pytest.mark.slow),
    # The 1-D model reads an .npz of (N, 28, 28) rows, given a channel axis: 28 rows of 28 pixels.
    ("examples/rows_conv1d_config.py", "npz", {"conv1d_1": "conv1d_1/kernel", "output": "output/kernel"}),
])
def test_example_runs_lottery_reinit_report_export(config_file, source, pruned_keys, tiny_mnist_dir,
                                                   tmp_path):
    data = {"dataset.data_dir": str(tiny_mnist_dir)}
    if source == "npz":
        train_x, train_y = synthetic_images(700, 0)
        test_x, test_y = synthetic_images(200, 1)
        rows = write_npz(tmp_path / "rows.npz", train_x[..., 0], train_y, test_x[..., 0], test_y)
        data = {"dataset.name": f"npz:{rows}", "dataset.data_dir": None}
    config = load_config_file(str(REPO / config_file), {**TINY, **data})
    root = str(tmp_path / "runs")
    results = run_lottery(config, root, [0], quiet=True)[0]
    remaining = [m["percent_remaining"] for m in results]
    assert remaining[0] == 100 and remaining[1] < 60

    setup = prepare(config, root, tf.distribute.get_strategy(), quiet=True)
    assert setup.splits.train_x.shape[1:] == (28, 28, 1)
    for layer, key in pruned_keys.items():
        assert setup.weight_keys[layer] == key
        mask = store.load_arrays(setup.paths.mask(0, 1))[layer]
        trained = store.load_arrays(setup.paths.weights_end(0, 1))[key]
        kept = 0.9 if layer == "output" else 0.5  # the configs' output_rate is 0.1
        assert mask.mean() == pytest.approx(kept, abs=0.03)
        assert np.all(trained[mask == 0] == 0)  # pruned weights really zero
    reinit = branches.run_branch(setup, "reinit", 0, 1)
    assert reinit["percent_remaining"] == pytest.approx(results[1]["percent_remaining"])
    reinit_start = store.load_arrays(os.path.join(os.path.dirname(reinit_file(setup)),
                                                  "weights_start.npz"))
    ticket_start = store.load_arrays(setup.paths.weights_start(0, 1))
    key = next(iter(pruned_keys.values()))
    assert not np.array_equal(reinit_start[key], ticket_start[key])  # reinitialised for real

    report = build_report(root, stream=io.StringIO(), quiet=True)
    assert report.files and all(os.path.getsize(path) > 0 for path in report.files)
    assert any("reinit" in pathlib.Path(path).read_text() for path in report.files
               if path.endswith((".csv", ".md")))

    out = io.StringIO()
    result = export_command(root, None, 1, 0, False, stream=out)
    kernels = saved_kernels(result.saved_model)
    masks = store.load_arrays(setup.paths.mask(0, 1))
    assert set(kernels) == set(masks)
    for layer, mask in masks.items():
        assert np.all(kernels[layer][mask == 0] == 0)
    assert result.percent_zero > 40


def reinit_file(setup) -> str:
    (path,) = [os.path.join(d, "metrics.json") for d, _, files in os.walk(setup.paths.level(0, 1))
               if "reinit" in d and "metrics.json" in files]
    return path


@pytest.mark.parametrize(("overrides", "message"), [
    (["--config.model.name=custom_builders:no_prunable_layer"], "has no prunable layer"),
    (["--config.dataset.name=npz:{bad_npz}"], "lacks the arrays ['x_test', 'y_test']"),
])
def test_command_line_refuses_bad_models_and_data_with_one_message(overrides, message, tiny_mnist_dir,
                                                                   tmp_path):
    bad_npz = tmp_path / "bad.npz"
    np.savez(bad_npz, x_train=np.zeros((4, 3), np.uint8), y_train=np.zeros(4, int))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "tests" / "models")]))
    root = tmp_path / "runs"
    run = subprocess.run(
        [sys.executable, "-m", "lottery_tf", "lottery", "--config=configs/lenet_mnist.py",
         f"--root={root}", f"--config.dataset.data_dir={tiny_mnist_dir}",
         "--config.dataset.verify_checksums=False", "--config.dataset.validation_size=100",
         *[o.format(bad_npz=bad_npz) for o in overrides]],
        cwd=REPO, capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 1
    assert message in run.stderr and "Traceback" not in run.stderr
    assert not root.exists() or not any(root.iterdir())  # nothing stored
