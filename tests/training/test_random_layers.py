"""Dropout, noise and augmentation layers train under op determinism, drawing from (seed, step)."""
import os
import pathlib

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from lottery_tf.experiments.config import experiment_name
from lottery_tf.experiments.lottery import run_lottery
from lottery_tf.storage import store
from lottery_tf.storage.paths import ExperimentPaths
from lottery_tf.testing import (
    assert_same_results,
    interrupt_then_resume,
    stored_results,
    tiny_config,
)
from lottery_tf.training import random_layers

BUILDERS = str(pathlib.Path(__file__).resolve().parents[1] / "models")  # custom_builders.py




@pytest.fixture
def builders_importable(monkeypatch):
    monkeypatch.syspath_prepend(BUILDERS)


def _dropout_config(data_dir, **overrides):
    config = tiny_config(data_dir, **overrides)
    config.model.name = "custom_builders:tutorial_dropout"
    return config


def test_tutorial_dropout_model_trains_and_reruns_are_bit_identical(
        tiny_mnist_dir, tmp_path, builders_importable):
    config = _dropout_config(tiny_mnist_dir, levels=2)
    first, second = (ExperimentPaths(str(tmp_path / name), experiment_name(config))
                     for name in ("first", "second"))
    run_lottery(config, first.root, [0, 1], quiet=True)
    run_lottery(config, second.root, [0], quiet=True)
    assert os.path.exists(first.metrics(0, 2))  # two pruned levels trained
    assert_same_results(stored_results(second, 0), stored_results(first, 0))
    curves = [store.read_json(first.metrics(replicate, 0))["curve"] for replicate in (0, 1)]
    assert curves[0] != curves[1]


def test_resumed_dropout_run_equals_uninterrupted(tiny_mnist_dir, tmp_path, monkeypatch,
                                                   builders_importable):
    config = _dropout_config(tiny_mnist_dir, rewind="20it", levels=2)
    reference = ExperimentPaths(str(tmp_path / "straight"), experiment_name(config))
    run_lottery(config, reference.root, [0], quiet=True)

    interrupted = ExperimentPaths(str(tmp_path / "killed"), experiment_name(config))
    interrupt_then_resume(monkeypatch, config, interrupted, level=1, step=40)
    assert_same_results(stored_results(interrupted), stored_results(reference))


def test_every_random_layer_kind_trains_under_determinism(tiny_mnist_dir, tmp_path,
                                                           builders_importable):
    config = tiny_config(tiny_mnist_dir, levels=1)
    config.model.name = "custom_builders:every_random_layer"
    paths = ExperimentPaths(str(tmp_path), experiment_name(config))
    run_lottery(config, paths.root, [0], quiet=True)
    assert os.path.exists(paths.metrics(0, 1))


def _training_outputs(model, images, seed, step):
    @tf.function
    def call(seed, step):
        with random_layers.drawing_from(random_layers.random_layers(model), seed, step):
            return model(images, training=True)
    return call(tf.constant(seed, tf.int64), tf.constant(step, tf.int64)).numpy()


@pytest.mark.parametrize("layer", [keras.layers.Dropout(0.5), keras.layers.GaussianNoise(1.0),
                                   keras.layers.RandomFlip("horizontal")],
                         ids=["dropout", "gaussian_noise", "random_flip"])
def test_random_layer_draws_in_training_as_a_function_of_seed_and_step(layer):
    images = tf.reshape(tf.range(8 * 4 * 4, dtype=tf.float32) + 1.0, (8, 4, 4, 1))
    model = keras.Sequential([keras.Input(shape=(4, 4, 1)), layer])
    assert random_layers.random_layers(model) == [layer]
    inference = model(images, training=False).numpy()
    drawn = _training_outputs(model, images, seed=3, step=7)
    assert not np.array_equal(drawn, inference)  # it really drops, adds noise, flips
    np.testing.assert_array_equal(_training_outputs(model, images, seed=3, step=7), drawn)
    assert not np.array_equal(_training_outputs(model, images, seed=3, step=8), drawn)
    assert not np.array_equal(_training_outputs(model, images, seed=4, step=7), drawn)
    # Outside the training step the layer keeps its own generator.
    assert not isinstance(layer._random_generator, random_layers._StepGenerator)


def test_two_draws_of_one_layer_in_one_step_differ():
    layer = keras.layers.GaussianNoise(1.0)
    model = keras.Sequential([keras.Input(shape=(16,)), layer, layer])  # the same layer twice
    zeros = tf.zeros((4, 16))
    twice = _training_outputs(model, zeros, seed=0, step=0)
    once = _training_outputs(keras.Sequential([keras.Input(shape=(16,)), layer]), zeros, 0, 0)
    assert not np.allclose(twice, 2 * once)
