"""Cosine and step schedules with warmup, resumed at a rewind step; label smoothing."""
import math

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from lottery_tf.errors import ConfigError
from lottery_tf.experiments import config as config_lib
from lottery_tf.training.losses import cross_entropy
from lottery_tf.training.optimizers import make_optimizer, make_schedule

STEPS_PER_EPOCH = 10


def _training(**fields):
    training = config_lib.base_config().training
    training.learning_rate = 0.4
    training.train_steps = "100it"
    for key, value in fields.items():
        training[key] = value
    return training


def _rates(schedule, steps):
    return np.array([float(schedule(step)) for step in steps])


def test_cosine_warms_up_linearly_then_falls_to_lr_final_at_the_end():
    schedule = make_schedule(_training(lr_schedule="cosine", warmup="2ep", lr_final=0.01),
                             STEPS_PER_EPOCH)
    np.testing.assert_allclose(_rates(schedule, [0, 9, 19]), [0.4 / 20, 0.4 / 2, 0.4], rtol=1e-6)
    # Half way through the decay (steps 20..100) the cosine is at the midpoint.
    assert float(schedule(60)) == pytest.approx(0.01 + 0.39 * 0.5, rel=1e-6)
    assert float(schedule(40)) == pytest.approx(0.01 + 0.39 * 0.5 * (1 + math.cos(math.pi / 4)),
                                                rel=1e-6)
    np.testing.assert_allclose(_rates(schedule, [100, 150]), [0.01, 0.01], rtol=1e-6)
    assert np.all(np.diff(_rates(schedule, range(20, 101))) <= 0)


def test_step_schedule_with_warmup_is_unchanged_by_the_new_fields():
    training = _training(lr_boundaries="5ep,8ep", lr_gamma=0.1, warmup="10it")
    explicit = _training(lr_boundaries="5ep,8ep", lr_gamma=0.1, warmup="10it", lr_schedule="step")
    for schedule in (make_schedule(training, STEPS_PER_EPOCH), make_schedule(explicit, STEPS_PER_EPOCH)):
        np.testing.assert_allclose(_rates(schedule, [0, 4, 9, 49, 50, 79, 80]),
                                   [0.04, 0.2, 0.4, 0.4, 0.04, 0.04, 0.004], rtol=1e-5)


@pytest.mark.parametrize("fields", [{"lr_schedule": "cosine", "warmup": "30it"},
                                    {"lr_boundaries": "40it,70it", "warmup": "30it"}])
def test_an_optimizer_rewound_to_step_k_resumes_the_schedule_at_k(fields):
    training = _training(optimizer="sgd", momentum=0.9, **fields)
    schedule = make_schedule(training, STEPS_PER_EPOCH)
    optimizer = make_optimizer(training, STEPS_PER_EPOCH, start_step=25)
    variable = tf.Variable([1.0])
    optimizer.build([variable])  # as the Trainer does
    seen = []
    for _ in range(60):
        optimizer.apply_gradients([(tf.constant([0.0]), variable)])
        seen.append(float(tf.convert_to_tensor(optimizer.learning_rate)))  # the rate just used
    np.testing.assert_allclose(seen, _rates(schedule, range(25, 85)), rtol=1e-6)


def test_schedule_fields_are_checked_and_spelled_defaults_keep_the_hash():
    config = config_lib.base_config()
    before = config_lib.config_hash(config)
    config.training.lr_schedule = "step"
    config.training.precision = "float32"
    config.dataset.augmentation = "crop_flip"
    config.training.label_smoothing = 0.0
    assert config_lib.config_hash(config) == before
    config.training.lr_schedule = "cosine"
    assert config_lib.config_hash(config) != before
    for field, value, named in (("lr_schedule", "linear", "training.lr_schedule"),
                                ("label_smoothing", 1.0, "training.label_smoothing"),
                                ("precision", "float16", "training.precision")):
        bad = config_lib.base_config()
        bad.training[field] = value
        with pytest.raises(ConfigError, match=named):
            config_lib.check_ranges(bad)
    both = config_lib.base_config()
    both.training.lr_schedule, both.training.lr_boundaries = "cosine", "100it"
    with pytest.raises(ConfigError, match="lr_boundaries"):
        config_lib.check_ranges(both)


def test_label_smoothing_matches_keras_smoothed_one_hot_cross_entropy():
    rng = np.random.default_rng(0)
    logits = tf.constant(rng.normal(size=(8, 5)) * 3, tf.float32)
    labels = tf.constant(rng.integers(0, 5, size=8), tf.int32)
    for smoothing in (0.0, 0.1, 0.4):
        reference = keras.losses.categorical_crossentropy(
            tf.one_hot(labels, 5), logits, from_logits=True, label_smoothing=smoothing)
        np.testing.assert_allclose(cross_entropy(labels, logits, smoothing), reference, rtol=1e-5)


def test_loss_of_low_precision_logits_is_float32():
    logits = tf.constant([[2.0, -1.0, 0.5]], tf.bfloat16)
    loss = cross_entropy(tf.constant([0]), logits, 0.1)
    assert loss.dtype == tf.float32
