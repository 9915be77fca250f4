"""The Trainer learns from exactly the batches (and augmentations) `train_dataset` yields."""
import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from lottery_tf.data.pipeline import train_dataset
from lottery_tf.data.splits import Splits
from lottery_tf.experiments.config import base_config
from lottery_tf.models import build_model
from lottery_tf.testing import synthetic_images
from lottery_tf.training.loop import LoopSpec, Trainer
from lottery_tf.training.optimizers import make_optimizer

SHAPE, BATCH, LEARNING_RATE = (8, 8, 3), 16, 0.1
START, END = 5, 40  # a resumed range crossing epoch boundaries (6 steps per epoch)


def _splits() -> Splits:
    images, labels = synthetic_images(110, seed=0, height=8, width=8, channels=3)
    images = images.astype(np.float32) / 255.0
    labels = labels.astype(np.int32)
    return Splits(images[:100], labels[:100], images[100:], labels[100:], images[100:], labels[100:])


def _model() -> keras.Model:
    return build_model("lenet_40_20", SHAPE, 10, seed=5)


def _trainer_weights(splits: Splits, augment: bool, augmentation: str) -> list[np.ndarray]:
    model = _model()
    config = base_config()
    config.training.optimizer, config.training.learning_rate = "sgd", LEARNING_RATE
    spec = LoopSpec(batch_size=BATCH, start_step=START, end_step=END, data_seed=3, augment=augment,
                    augmentation=augmentation)
    Trainer(model, make_optimizer(config.training, 6, START), tf.distribute.get_strategy(),
            splits, spec).run()
    return [v.numpy() for v in model.trainable_variables]


def _reference_weights(splits: Splits, augment: bool, augmentation: str,
                       seed: int) -> list[np.ndarray]:
    """Plain eager SGD over the tf.data batches."""
    model = _model()
    optimizer = keras.optimizers.SGD(LEARNING_RATE)
    for images, labels in train_dataset(splits.train_x, splits.train_y, BATCH, seed, START, END,
                                        augment=augment, augmentation=augmentation):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(
                labels, model(images, training=True), from_logits=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables),
                                      model.trainable_variables, strict=True))
    return [v.numpy() for v in model.trainable_variables]


@pytest.mark.parametrize(("augment", "augmentation"),
                         [(False, "crop_flip"), (True, "crop_flip"), (True, "resized_crop")])
def test_trainer_sees_the_datasets_batches(augment, augmentation):
    splits = _splits()
    trained = _trainer_weights(splits, augment, augmentation)
    expected = _reference_weights(splits, augment, augmentation, seed=3)
    for got, want in zip(trained, expected, strict=True):
        np.testing.assert_allclose(got, want, atol=2e-5)
    # The comparison can tell batches apart: another data order ends elsewhere.
    other = _reference_weights(splits, augment, augmentation, seed=4)
    assert max(np.abs(a - b).max() for a, b in zip(trained, other, strict=True)) > 1e-2
