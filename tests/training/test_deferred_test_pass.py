"""A new validation minimum's test pass, deferred, measures exactly what an immediate one does."""
import numpy as np
import tensorflow as tf
import tf_keras as keras

from lottery_tf.data.splits import Splits
from lottery_tf.experiments.config import base_config
from lottery_tf.models import build_model
from lottery_tf.pruning import tfmot_adapter
from lottery_tf.testing import synthetic_images, wrapped_and_pruned
from lottery_tf.training.callbacks import EarlyStopTracker
from lottery_tf.training.loop import LoopSpec, PausingCallback, Trainer
from lottery_tf.training.optimizers import make_optimizer

END_STEP = 120


def _splits() -> Splits:
    def split(count, seed):
        images, labels = synthetic_images(count, seed)
        return images.astype(np.float32) / 255.0, labels.astype(np.int32)

    (train_x, train_y), (val_x, val_y), (test_x, test_y) = split(200, 0), split(200, 1), split(300, 2)
    # Half the training labels are wrong, so the network overfits and the
    # validation loss turns upwards mid-run.
    noisy = np.random.default_rng(0).random(len(train_y)) < 0.5
    train_y = np.where(noisy, (train_y + 1 + train_y % 3) % 10, train_y).astype(np.int32)
    return Splits(train_x, train_y, val_x, val_y, test_x, test_y)


class _Recorder(PausingCallback):
    """Asks for a pause at `pause_at` and logs the order of what the loop reports."""

    def __init__(self, pause_at=(), needs_settled_tests=False):
        super().__init__()
        self.pause_at, self.events = list(pause_at), []
        self.needs_settled_tests = needs_settled_tests

    def pause_steps(self, start, end):
        return self.pause_at

    def on_test_end(self, logs=None):
        self.events.append(("test_end", logs["step"], logs["test_accuracy"], bool(logs.get("deferred"))))

    def on_train_batch_end(self, batch, logs=None):
        self.events.append(("pause", batch))


def _train(test_every: int, pause_at=(), needs_settled_tests=False):
    keras.backend.clear_session()
    splits = _splits()
    wrapped = wrapped_and_pruned(build_model("lenet_40_20", (28, 28, 1), 10, seed=3), 0.5)
    config = base_config()
    config.training.optimizer = "adam"
    config.training.learning_rate = 1e-2
    optimizer = make_optimizer(config.training, 30, 0)
    spec = LoopSpec(batch_size=20, start_step=0, end_step=END_STEP, data_seed=0, eval_every=10,
                    test_every=test_every, eval_batch_size=64)
    tracker, recorder = EarlyStopTracker(), _Recorder(pause_at, needs_settled_tests)
    Trainer(wrapped, optimizer, tf.distribute.get_strategy(), splits, spec).run([tracker, recorder])
    return tracker, recorder, tfmot_adapter.get_weights(wrapped)


def _tested(curve):
    return {p["step"]: p["test_accuracy"] for p in curve if p["test_accuracy"] is not None}


def test_deferred_test_pass_equals_an_immediate_one_and_training_is_undisturbed():
    every_time, _, weights_every_time = _train(test_every=0)
    deferred, recorder, weights_deferred = _train(test_every=1000)

    # Validation curves and the trained weights are bit-identical: keeping the
    # weights aside and evaluating them later did not touch training.
    assert ([(p["step"], p["val_loss"]) for p in deferred.curve]
            == [(p["step"], p["val_loss"]) for p in every_time.curve])
    for name, value in weights_every_time.items():
        np.testing.assert_array_equal(weights_deferred[name], value, err_msg=name)

    summary, reference = deferred.summary(), every_time.summary()
    assert summary["early_stop_step"] == reference["early_stop_step"]
    assert 0 < summary["early_stop_step"] < END_STEP, "the minimum should fall mid-run for this check"
    assert summary["early_stop_test_accuracy"] == reference["early_stop_test_accuracy"]
    # Tested: the start, the end and the early-stop step, nothing else.
    assert set(_tested(deferred.curve)) == {0, END_STEP, summary["early_stop_step"]}
    assert len(_tested(every_time.curve)) == END_STEP // 10 + 1
    deferred_events = [e for e in recorder.events if e[0] == "test_end" and e[3]]
    assert [e[1] for e in deferred_events] == [summary["early_stop_step"]]


def test_a_pause_that_needs_settled_tests_gets_the_pending_test_pass_first():
    reference, _, _ = _train(test_every=0)
    _, recorder, _ = _train(test_every=1000, pause_at=[55], needs_settled_tests=True)
    tested = _tested(reference.curve)
    best_before_55 = min((p for p in reference.curve if p["step"] < 55), key=lambda p: p["val_loss"])
    assert best_before_55["step"] > 0, "validation should improve after the start for this check"
    position = recorder.events.index(("pause", 55))
    assert recorder.events[position - 1] == (
        "test_end", best_before_55["step"], tested[best_before_55["step"]], True)
    # A pause that does not store the curve leaves the pass pending.
    _, recorder, _ = _train(test_every=1000, pause_at=[55])
    position = recorder.events.index(("pause", 55))
    assert not any(e[0] == "test_end" and e[3] for e in recorder.events[:position])
