"""lottery_tf.api on real tfmot wrappers: ranking, exact zeros, rewinding, data position, misuse."""
import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from lottery_tf import api as lt
from lottery_tf.errors import ConfigError
from lottery_tf.pruning import tfmot_adapter


def _two_layer_model(seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)  # op determinism (tests/conftest.py) wants seeded inits
    inputs = keras.Input((2,))
    hidden = keras.layers.Dense(3, name="hidden")(inputs)
    return keras.Model(inputs, keras.layers.Dense(2, name="logits")(hidden))


def _compiled(model, learning_rate=1e-2):
    model.compile(keras.optimizers.Adam(learning_rate), metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def _data(count=64, features=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(count, features)).astype(np.float32), rng.integers(0, 2, count)


def test_global_ranking_across_layers_keeps_the_hand_computed_weights():
    model = lt.wrap(_two_layer_model())
    hidden = np.array([[1, -2, 3], [-4, 5, 6]], np.float32)   # magnitudes 1..6
    logits = np.array([[0.5, 7], [-2.5, 8], [9, -3.5]], np.float32)  # 0.5, 2.5, 3.5, 7, 8, 9
    weights = tfmot_adapter.get_weights(model)
    weights.update({"hidden/kernel": hidden, "logits/kernel": logits})
    tfmot_adapter.set_weights(model, weights)
    # One pool of 12 weights at rate 0.5 (output layer the same): drop the 6 smallest,
    # 0.5, 1, 2, 2.5, 3, 3.5 -- three from each layer, which layer-wise pruning would not pick.
    masks = lt.prune(model, rate=0.5, strategy="global")
    np.testing.assert_array_equal(masks["hidden"], [[0, 0, 0], [1, 1, 1]])
    np.testing.assert_array_equal(masks["logits"], [[0, 1], [0, 1], [1, 0]])
    kernels = tfmot_adapter.prunable_kernels(model)
    np.testing.assert_array_equal(kernels["hidden"], hidden * masks["hidden"])
    np.testing.assert_array_equal(kernels["logits"], logits * masks["logits"])
    # Next level: hidden at rate 0.4 drops round(0.4 * 3) = 1 survivor (4); the output layer
    # at rate 0 is its own pool and keeps all three.
    masks = lt.prune(model, rate=0.4, output_rate=0.0)
    np.testing.assert_array_equal(masks["hidden"], [[0, 0, 0], [0, 1, 1]])
    np.testing.assert_array_equal(masks["logits"], [[0, 1], [0, 1], [1, 0]])
    assert sum(m.sum() for m in masks.values()) == 5


def test_output_layer_defaults_to_the_last_prunable_layer_and_can_be_named():
    model = lt.wrap(_two_layer_model())
    assert lt.layer_kinds(model) == {"hidden": "dense", "logits": "output"}
    assert lt.layer_kinds(model, output_layer="hidden") == {"hidden": "output", "logits": "dense"}
    with pytest.raises(ConfigError, match="output_layer='nope'"):
        lt.prune(model, output_layer="nope")


def _pruned_nonzero(model, masks) -> int:
    kernels = tfmot_adapter.prunable_kernels(model)
    return int(sum(np.count_nonzero(kernels[name][mask == 0]) for name, mask in masks.items()))


class _PrunedNonzeroAtBatchEnds(keras.callbacks.Callback):
    def __init__(self, masks):
        super().__init__()
        self.masks, self.counts = masks, []

    def on_train_batch_end(self, batch, logs=None):
        self.counts.append(_pruned_nonzero(self.model, self.masks))


@pytest.mark.parametrize("every_batch", [False, True])
def test_pruned_weights_are_exactly_zero_after_fit(every_batch):
    x, y = _data()
    model = _compiled(lt.wrap(_two_layer_model()))
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[lt.PruningStep()])
    masks = lt.prune(model, rate=0.5)
    before, after = _PrunedNonzeroAtBatchEnds(masks), _PrunedNonzeroAtBatchEnds(masks)
    model.fit(x, y, batch_size=16, epochs=2, verbose=0,
              callbacks=[before, lt.PruningStep(every_batch), after])
    assert _pruned_nonzero(model, masks) == 0  # including after the last batch's optimizer step
    # tfmot's gradients are dense: every optimizer step moves pruned weights off zero ...
    assert min(before.counts) > 0
    # ... until PruningStep re-masks them (after every step if asked, else when training ends).
    assert max(after.counts) == 0 if every_batch else min(after.counts) > 0


def test_rewind_restores_step_k_weights_fresh_optimizer_and_schedule():
    x, y = _data()
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay([2, 5], [0.1, 0.01, 0.001])
    model = lt.wrap(_two_layer_model())
    model.compile(keras.optimizers.Adam(lt.ResumableSchedule(schedule)),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rewind = lt.RewindCallback(step=3)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[lt.PruningStep(), rewind])
    assert int(model.optimizer.iterations) == 8
    masks = lt.prune(model, rate=0.5)
    trained = tfmot_adapter.get_weights(model)
    assert lt.rewind(model, rewind) == 3
    now = tfmot_adapter.get_weights(model)
    assert not np.array_equal(now["logits/bias"], trained["logits/bias"])  # five more steps were undone
    for name, value in rewind.weights.items():
        layer = name.split("/")[0]
        expected = value * masks[layer] if name.endswith("kernel") else value
        np.testing.assert_array_equal(now[name], expected)
    assert int(model.optimizer.iterations) == 0
    slots = [v for v in model.optimizer.variables if v is not model.optimizer.iterations]
    assert slots and all(not np.any(v.numpy()) for v in slots)
    model.fit(x[:8], y[:8], batch_size=8, epochs=1, verbose=0, callbacks=[lt.PruningStep()])
    assert int(model.optimizer.iterations) == 1
    assert float(model.optimizer.learning_rate) == pytest.approx(0.01)  # schedule(3), not schedule(0)


def test_rewind_to_initialization_records_before_any_update():
    x, y = _data()
    model = _compiled(lt.wrap(_two_layer_model()))
    initial = tfmot_adapter.get_weights(model)
    rewind = lt.RewindCallback(step=0)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[lt.PruningStep(), rewind])
    for name, value in initial.items():
        np.testing.assert_array_equal(rewind.weights[name], value)


def test_batches_from_step_resume_the_data_order():
    def make_epoch(epoch):
        order = tf.random.experimental.stateless_shuffle(
            tf.range(10, dtype=tf.int64), seed=tf.stack([tf.constant(7, tf.int64), epoch]))
        return tf.data.Dataset.from_tensor_slices(order).batch(2)

    stream = [b.numpy().tolist() for b in lt.batches_from_step(make_epoch, 0, 5).take(17)]
    resumed = [b.numpy().tolist() for b in lt.batches_from_step(make_epoch, 7, 5).take(10)]
    assert resumed == stream[7:]
    assert stream[:5] != stream[5:10]  # epochs really are shuffled differently


def test_plain_schedule_cannot_resume_past_zero():
    x, y = _data()
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
    model = lt.wrap(_two_layer_model())
    model.compile(keras.optimizers.Adam(schedule),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rewind = lt.RewindCallback(step=2)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[lt.PruningStep(), rewind])
    with pytest.raises(ConfigError, match="ResumableSchedule"):
        lt.rewind(model, rewind)


def test_models_wrap_cannot_take_are_refused():
    with pytest.raises(ConfigError, match="already wrapped"):
        lt.wrap(lt.wrap(_two_layer_model()))
    inner = _two_layer_model()
    outer = keras.Sequential([keras.Input((2,)), inner, keras.layers.Dense(2, name="head")])
    # Layers inside inner models are wrapped too (tests/fit/test_fit_user_architectures.py).
    assert any(name.startswith(f"{inner.name}/") for name in lt.layer_kinds(lt.wrap(outer)))

    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2)

        def call(self, inputs):
            return self.dense(inputs)

    subclassed = Subclassed()
    subclassed(np.zeros((1, 2), np.float32))
    with pytest.raises(ConfigError, match="Sequential or functional"):
        lt.wrap(subclassed)


def test_pruning_an_unwrapped_model_is_refused():
    with pytest.raises(ConfigError, match="no pruning wrappers.*lottery_tf.api.wrap"):
        lt.prune(_two_layer_model(), rate=0.2)


def test_rewinding_before_the_rewind_step_was_recorded_is_refused():
    x, y = _data(count=16)
    model = _compiled(lt.wrap(_two_layer_model()))
    rewind = lt.RewindCallback(step=100)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[lt.PruningStep(), rewind])
    with pytest.raises(ConfigError, match="rewind step 100 have not been recorded"):
        lt.rewind(model, rewind)


@pytest.mark.parametrize("rates", [{"rate": 1.0}, {"rate": -0.1}, {"rate": 0.2, "output_rate": 1.5}])
def test_rates_outside_zero_one_are_refused(rates):
    model = lt.wrap(_two_layer_model())
    with pytest.raises(ConfigError, match=r"must be in \[0, 1\)"):
        lt.prune(model, **rates)


def test_masks_that_do_not_fit_the_model_are_refused():
    model = lt.wrap(_two_layer_model())
    masks = lt.get_masks(model)
    with pytest.raises(ConfigError, match="shape"):
        lt.set_masks(model, {**masks, "hidden": np.ones((3, 3), np.float32)})
    with pytest.raises(ConfigError, match="pruned layers"):
        lt.set_masks(model, {"hidden": masks["hidden"]})
    with pytest.raises(ConfigError, match="do not fit"):
        lt.rewind(_compiled(model), {"hidden/kernel": np.zeros((2, 3))})


def _scalars(logdir) -> dict[str, dict[int, float]]:
    accumulator = EventAccumulator(str(logdir), size_guidance={"tensors": 0})
    accumulator.Reload()
    return {tag: {e.step: float(tf.make_ndarray(e.tensor_proto)) for e in accumulator.Tensors(tag)}
            for tag in accumulator.Tags()["tensors"]}


def test_level_recorder_finds_the_early_stop_step_and_logs_to_tensorboard(tmp_path):
    x, y = _data(count=64)
    model = _compiled(lt.wrap(_two_layer_model()), learning_rate=0.05)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[lt.PruningStep()])
    masks = lt.prune(model, rate=0.5, output_rate=0.25)
    recorder = lt.LevelRecorder(test_data=(x[:32], y[:32]), logdir=str(tmp_path))
    model.fit(x, y, batch_size=16, epochs=3, verbose=0, validation_data=(x[32:], y[32:]),
              callbacks=[lt.PruningStep(), recorder])
    curve = recorder.curve
    assert [point["step"] for point in curve] == [8, 12, 16]  # 4 steps per epoch after 4 before
    best = min(curve, key=lambda point: point["val_loss"])
    summary = recorder.summary()
    assert summary["early_stop_step"] == best["step"]
    assert summary["early_stop_test_accuracy"] == best["test_accuracy"]
    assert recorder.first_step == 4
    scalars = _scalars(tmp_path)
    remaining = sum(m.sum() for m in masks.values()) / sum(m.size for m in masks.values())
    assert scalars["percent_remaining/total"][4] == pytest.approx(100 * remaining)
    assert scalars["percent_remaining_by_layer/logits"][4] == pytest.approx(75, abs=10)
    assert sorted(scalars["ticket/validation/loss"]) == [8, 12, 16]
    assert scalars["ticket/validation/loss"][best["step"]] == pytest.approx(best["val_loss"])


def test_level_recorder_needs_validation_data():
    x, y = _data(count=16)
    model = _compiled(lt.wrap(_two_layer_model()))
    with pytest.raises(ConfigError, match="validation_data"):
        model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[lt.PruningStep(), lt.LevelRecorder()])


def test_xnnpack_policy_wraps_and_prunes_only_the_1x1_convolutions():
    from lottery_tf.models import build_model

    keras.utils.set_random_seed(0)
    model = lt.wrap(build_model("mobilenet_4", (28, 28, 1), 10, seed=0), policy="xnnpack")
    pointwise = [layer.name for layer in model.layers if hasattr(layer, "layer")]
    assert pointwise and all(
        isinstance(model.get_layer(name).layer, keras.layers.Conv2D)
        and model.get_layer(name).layer.kernel_size == (1, 1) for name in pointwise)
    dense_before = {layer.name: [w.numpy() for w in layer.weights] for layer in model.layers
                    if not hasattr(layer, "layer") and layer.weights}
    masks = lt.prune(model, rate=0.5)
    assert sorted(masks) == sorted(layer.removeprefix("prune_low_magnitude_") for layer in pointwise)
    kept = sum(mask.sum() for mask in masks.values()) / sum(mask.size for mask in masks.values())
    assert kept == pytest.approx(0.5, abs=0.01)  # ranked together across the 1x1 convs
    for name, weights in dense_before.items():  # stem, depthwise and classifier untouched
        for before, after in zip(weights, model.get_layer(name).weights, strict=True):
            np.testing.assert_array_equal(before, after.numpy())
    with pytest.raises(ConfigError, match="pruning.policy=xnnpack"):
        lt.wrap(_two_layer_model(), policy="xnnpack")
    with pytest.raises(ConfigError, match="pruning.policy must be unset"):
        lt.wrap(_two_layer_model(), policy="fast")
