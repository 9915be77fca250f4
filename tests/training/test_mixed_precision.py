"""Mixed precision: low-precision compute, float32 variables, masks and pruned weights exact."""
import types

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from lottery_tf.data.splits import Splits
from lottery_tf.experiments.config import experiment_name
from lottery_tf.experiments.lottery import run_lottery
from lottery_tf.experiments.masked_run import build_wrapped
from lottery_tf.models import build_model
from lottery_tf.pruning import tfmot_adapter
from lottery_tf.storage import store
from lottery_tf.storage.paths import ExperimentPaths
from lottery_tf.testing import synthetic_images, tiny_config, wrapped_and_pruned
from lottery_tf.training.loop import LoopSpec, Trainer
from lottery_tf.training.optimizers import make_optimizer
from lottery_tf.training.precision import precision_policy

COMPUTE = {"mixed_bfloat16": tf.bfloat16, "mixed_float16": tf.float16}


def _splits() -> Splits:
    images, labels = synthetic_images(120, 0, height=16, width=16)
    images = images.astype(np.float32) / 255.0
    return Splits(images[:80], labels[:80].astype(np.int32), images[80:100],
                  labels[80:100].astype(np.int32), images[100:], labels[100:].astype(np.int32))


# float16 convolutions crawl on CPU (minutes for a few steps): float16 trains LeNet here.
@pytest.mark.parametrize(("precision", "model"), [("mixed_bfloat16", "conv2"),
                                                  ("mixed_float16", "lenet_40_20")])
def test_masked_training_under_mixed_precision_keeps_masks_and_zeros_exact(precision, model):
    keras.backend.clear_session()
    with precision_policy(precision):
        wrapped = wrapped_and_pruned(build_model(model, (16, 16, 1), 10, seed=1), 0.6)
    assert keras.mixed_precision.global_policy().name == "float32"  # restored
    pruned = [layer.layer for layer in wrapped.layers if hasattr(layer, "layer")]
    assert pruned and {layer.compute_dtype for layer in pruned} == {COMPUTE[precision].name}
    masks_before = tfmot_adapter.get_masks(wrapped)
    start = tfmot_adapter.get_weights(wrapped)

    config = tiny_config("/unused", **{"training.optimizer": "sgd", "training.momentum": 0.9,
                                       "training.learning_rate": 0.05,
                                       "training.weight_decay": 1e-3,
                                       "training.precision": precision})
    optimizer = make_optimizer(config.training, 4, 0)
    assert isinstance(optimizer, keras.mixed_precision.LossScaleOptimizer) == (
        precision == "mixed_float16")
    spec = LoopSpec(batch_size=20, start_step=0, end_step=12, data_seed=0, eval_every=6,
                    eval_batch_size=40, weight_decay=1e-3)
    trainer = Trainer(wrapped, optimizer, tf.distribute.get_strategy(), _splits(), spec)
    trainer.run()

    masks_after = tfmot_adapter.get_masks(wrapped)
    variables = tfmot_adapter.weight_variables(wrapped)
    assert {variable.dtype for variable in variables.values()} == {tf.float32}
    for layer, mask in masks_before.items():
        np.testing.assert_array_equal(masks_after[layer], mask)
        kernel = variables[f"{layer}/kernel"].numpy()  # raw, before any apply_masks
        assert np.all(kernel[mask == 0] == 0.0), layer
        moved = kernel[mask == 1] != start[f"{layer}/kernel"][mask == 1]
        assert moved.mean() > 0.9, layer  # training really updated the survivors
    assert np.isfinite(trainer.evaluate_all()["val_loss"])
    # A kept trainer is reused by the next run unless its loss scale would carry over.
    if precision == "mixed_float16":
        with pytest.raises(ValueError, match="loss-scaled"):
            trainer.reset(spec)
    else:
        trainer.reset(spec)
        assert int(optimizer.iterations.numpy()) == 0


def test_runs_build_their_model_under_the_configured_policy(tiny_mnist_dir):
    config = tiny_config(tiny_mnist_dir, **{"training.precision": "mixed_bfloat16"})
    setup = types.SimpleNamespace(config=config, layer_kinds={"dense_1": "dense", "output": "output"},
                                  spec=None)
    wrapped = build_wrapped(setup, seed=0)
    inner = [layer.layer for layer in wrapped.layers if hasattr(layer, "layer")]
    dtypes = {layer.name: layer.compute_dtype for layer in inner}
    assert dtypes == {"dense_1": "bfloat16", "output": "bfloat16"}
    assert keras.mixed_precision.global_policy().name == "float32"


@pytest.mark.slow
def test_imp_under_mixed_bfloat16_stores_float32_weights_zero_where_masked(tiny_mnist_dir,
                                                                          tmp_path):
    config = tiny_config(tiny_mnist_dir, rewind="20it", levels=1,
                         **{"training.train_steps": "40it", "training.precision": "mixed_bfloat16"})
    results = run_lottery(config, str(tmp_path), replicates=[0], quiet=True)
    assert results[0][0]["test_accuracy"] > 0.3
    paths = ExperimentPaths(str(tmp_path), experiment_name(config))
    assert store.read_json(paths.config)["hashed"]["training.precision"] == "mixed_bfloat16"
    mask = store.load_arrays(paths.mask(0, 1))
    end = store.load_arrays(paths.weights_end(0, 1))
    for layer, layer_mask in mask.items():
        kernel = end[f"{layer}/kernel"]
        assert kernel.dtype == np.float32
        assert np.all(kernel[layer_mask == 0] == 0.0)
        assert np.count_nonzero(kernel[layer_mask == 1]) > 0.99 * layer_mask.sum()
    assert keras.mixed_precision.global_policy().name == "float32"
