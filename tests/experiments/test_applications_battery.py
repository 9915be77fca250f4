"""tf_keras.applications networks (random weights, 32x32) through every command, whole and as a
nested base with a new head: MobileNetV2 alpha 0.35, EfficientNetB0, ResNet50V2, DenseNet121.

Per model, on tiny CIFAR-10-shaped data (synthetic, tests/../lottery_tf/testing.py):
IMP to level 2 with a reinit branch and an export read back by TensorFlow alone
(predictions within 1e-5); a run SIGKILLed mid-level in its own process and resumed by a
new one, equal to an uninterrupted run;
one sweep worker process running two replicates; and the fit API. Slow (minutes per
model on 2 cores): the default suite keeps a nested and a recurrent model in
test_user_architectures.py.
"""
import glob
import os
import subprocess
import sys

import numpy as np
import pytest
import tf_keras as keras
from user_model_checks import BUILDERS, REPO, check_killed_run_resumes_equal, check_through_every_command

from lottery_tf import api as lt
from lottery_tf.models.registry import build_model
from lottery_tf.pruning import tfmot_adapter
from lottery_tf.storage import store
from lottery_tf.storage.catalog import find_experiment
from lottery_tf.testing import (
    tiny_config,
    write_config_file,
    write_tiny_cifar10,
)

SHAPE = (32, 32, 3)
MODELS = [f"{name}_{form}" for name in ("mobilenet_v2", "efficientnet_b0", "resnet50_v2", "densenet121")
          for form in ("whole", "base")]
SETTINGS = {"dataset.name": "cifar10", "dataset.validation_size": 40, "training.batch_size": 10,
            "training.train_steps": "20it", "training.eval_every": "10it", "runtime.checkpoint_every": "10it",
            "runtime.eval_batch_size": 60, "rewind": "5it"}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_cifar_dir(tmp_path_factory):
    return write_tiny_cifar10(tmp_path_factory.mktemp("tiny_cifar10"), train=200, test=60)


@pytest.fixture
def builders_importable(monkeypatch):
    monkeypatch.syspath_prepend(BUILDERS)


def _config(data_dir, builder):
    config = tiny_config(data_dir, levels=2, **SETTINGS)  # jit_compile unset: the project's choice
    config.model.name = f"architectures:{builder}"
    return config


@pytest.mark.parametrize("builder", MODELS)
def test_lottery_reinit_and_export_read_back(builder, tiny_cifar_dir, tmp_path, builders_importable):
    setup = check_through_every_command(_config(tiny_cifar_dir, builder), str(tmp_path / "runs"), tmp_path,
                                        builder, SHAPE)
    assert setup.jit_compile is False  # convolutions on CPU: XLA off by the measured rule
    if builder.endswith("_base"):  # the base's layers are found inside it
        assert sum("/" in key for key in setup.layer_kinds) > len(setup.layer_kinds) // 2


# Level 0 pauses at 0, 5 (the rewind point) and 10, level 1 at 5 and 10: the fifth pause is
# level 1 mid-way, just after its checkpoint.
KILLED_AT, RESUMES_AT = "pause:5", "level 1 at step 10"


@pytest.mark.parametrize("builder", MODELS)
def test_run_killed_mid_level_resumes_in_a_new_process_equal_to_uninterrupted(builder, tiny_cifar_dir,
                                                                               tmp_path, monkeypatch):
    overrides = {**SETTINGS, "levels": 2, "model.name": f"architectures:{builder}"}
    check_killed_run_resumes_equal(tiny_cifar_dir, overrides, tmp_path, monkeypatch, KILLED_AT, RESUMES_AT)


@pytest.mark.parametrize("builder", MODELS)
def test_one_sweep_worker_runs_two_replicates_in_one_process(builder, tiny_cifar_dir, tmp_path):
    overrides = {**SETTINGS, "levels": 1, "model.name": f"architectures:{builder}"}
    config_file = write_config_file(tmp_path / "tiny.py", tiny_cifar_dir, **overrides)
    sweep_file = tmp_path / "sweep.py"
    sweep = {"config": str(config_file), "overrides": {}, "replicates": "0-1",
             "branches": [{"name": "reinit", "levels": "1"}]}
    sweep_file.write_text(f"def get_sweep():\n    return {sweep!r}\n")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=os.pathsep.join([str(REPO), BUILDERS]))
    run = subprocess.run([sys.executable, "-m", "lottery_tf", "sweep", f"--sweep={sweep_file}",
                          f"--root={tmp_path / 'runs'}", "--workers=1", "--quiet"],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stderr[-3000:]
    paths = find_experiment(str(tmp_path / "runs"), None).paths
    for replicate in (0, 1):
        masks = store.load_arrays(paths.mask(replicate, 1))
        weights = store.load_arrays(paths.weights_end(replicate, 1))
        assert masks and all(mask.mean() < 1 for mask in masks.values())
        level_dir = os.path.dirname(paths.metrics(replicate, 1))
        assert glob.glob(os.path.join(level_dir, "branch_reinit_*", "metrics.json"))
        assert len(weights) > len(masks)
    first, second = (store.load_arrays(paths.mask(r, 1)) for r in (0, 1))
    assert any(not np.array_equal(first[key], second[key]) for key in first)  # two seeds, two tickets


@pytest.mark.parametrize("builder", MODELS)
def test_fit_api_prunes_every_weight_and_loads_into_a_fresh_build(builder, monkeypatch):
    monkeypatch.syspath_prepend(BUILDERS)
    import architectures

    keras.utils.set_random_seed(0)
    model = lt.wrap(getattr(architectures, builder)(SHAPE, 10, 0))
    model.compile(keras.optimizers.Adam(lt.ResumableSchedule(1e-3)),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, *SHAPE)).astype(np.float32), rng.integers(0, 10, 40)
    rewind = lt.RewindCallback(step=0)
    model.fit(x, y, batch_size=10, epochs=1, verbose=0, callbacks=[lt.PruningStep(), rewind])
    masks = lt.prune(model, rate=0.5, strategy="layerwise")
    lt.rewind(model, rewind)
    model.fit(x, y, batch_size=10, epochs=1, verbose=0, callbacks=[lt.PruningStep()])
    weights = tfmot_adapter.get_weights(model)
    for key, mask in masks.items():
        assert 0.3 < mask.mean() < 0.7, key  # every prunable weight ranked on its own
    assert all(np.all(weights[key][mask == 0] == 0) for key, mask in _kernels(masks, weights).items())

    rebuilt = lt.wrap(build_model(f"architectures:{builder}", SHAPE, 10))  # another build, other names
    tfmot_adapter.set_weights(rebuilt, weights)
    lt.set_masks(rebuilt, masks)
    expected = model(x[:8], training=False)
    np.testing.assert_allclose(rebuilt(x[:8], training=False), expected, atol=1e-5, rtol=0)


def _kernels(masks: dict, weights: dict) -> dict:
    """Mask entries by the stored key of the weight they mask: the entry itself for layers with
    several pruned weights, else the layer's one kernel (`kernel`, `depthwise_kernel`, ...)."""
    found = {}
    for entry, mask in masks.items():
        if entry in weights:
            found[entry] = mask
            continue
        [key] = [key for key in weights if key.startswith(f"{entry}/") and key.endswith("kernel")
                 and weights[key].shape == mask.shape]
        found[key] = mask
    return found
