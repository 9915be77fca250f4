"""LotteryTicket: IMP in one model.fit stores what the hand-written loop stores, and Keras habits work."""
import csv
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from lottery_tf import api as lt
from lottery_tf.errors import ConfigError
from lottery_tf.models.registry import build_model
from lottery_tf.storage import store
from lottery_tf.storage.catalog import find_experiment
from lottery_tf.storage.paths import tensorboard_run_name
from lottery_tf.testing import synthetic_images, tensorboard_scalars

REPO = pathlib.Path(__file__).resolve().parents[2]
BATCH, STEPS_PER_EPOCH, EPOCHS_PER_LEVEL, LEVELS = 30, 4, 2, 2
TRAIN = 300  # 10 batches per pass over the data


def _data():
    x, y = synthetic_images(TRAIN + 60, 0)
    x = (x.astype(np.float32) / 255.0)
    return (x[:TRAIN], y[:TRAIN]), (x[TRAIN:], y[TRAIN:])


def _lenet(seed: int = 0) -> keras.Model:
    model = lt.wrap(build_model("lenet_300_100", (28, 28, 1), 10, seed=seed))
    model.compile(keras.optimizers.Adam(1e-3), metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def _make_epoch(x, y):
    def make_epoch(epoch):  # one pass, shuffled by the pass number
        seed = tf.stack([tf.constant(7, tf.int64), epoch])
        order = tf.random.experimental.stateless_shuffle(tf.range(TRAIN), seed=seed)
        return (tf.data.Dataset.from_tensor_slices(order).batch(BATCH, drop_remainder=True)
                .map(lambda index: (tf.gather(x, index), tf.gather(y, index))))
    return make_epoch


def _hand_written(root, strategy, rewind_step, granularity=None):
    """The loop of lottery_tf.api's pieces, one fit per level (as examples/fit_imp.py wrote it)."""
    (x, y), validation = _data()
    model, rewind = _lenet(), lt.RewindCallback(step=rewind_step)
    make_epoch = _make_epoch(x, y)
    for level in range(LEVELS + 1):
        start = 0
        if level:
            lt.prune(model, rate=0.2, output_rate=0.1, strategy=strategy, granularity=granularity)
            start = lt.rewind(model, rewind)
        recorder = lt.LevelRecorder(test_data=validation, start_step=start)
        callbacks = [lt.PruningStep(), rewind, recorder]
        if rewind_step:  # the data replayed from the rewind step
            model.fit(lt.batches_from_step(make_epoch, start, TRAIN // BATCH),
                      steps_per_epoch=STEPS_PER_EPOCH, epochs=EPOCHS_PER_LEVEL, validation_data=validation,
                      callbacks=callbacks, verbose=0)
        else:  # plain arrays in a fixed order
            model.fit(x, y, batch_size=BATCH, epochs=EPOCHS_PER_LEVEL, shuffle=False,
                      validation_data=validation, callbacks=callbacks, verbose=0)
        lt.save_level(str(root), level, model, recorder, rewind=rewind)


def _callback(root, strategy, rewind_step, granularity=None):
    (x, y), validation = _data()
    model = _lenet()
    imp = lt.LotteryTicket(str(root), levels=LEVELS, epochs_per_level=EPOCHS_PER_LEVEL, rate=0.2,
                           output_rate=0.1, strategy=strategy, rewind=rewind_step, test_data=validation,
                           granularity=granularity)
    if rewind_step:
        model.fit(imp.batches(_make_epoch(x, y), STEPS_PER_EPOCH), steps_per_epoch=STEPS_PER_EPOCH,
                  epochs=imp.total_epochs, validation_data=validation, callbacks=[imp], verbose=0)
    else:
        model.fit(x, y, batch_size=BATCH, epochs=imp.total_epochs, shuffle=False, validation_data=validation,
                  callbacks=[imp], verbose=0)
    return imp


_SLOW = pytest.mark.slow  # ~20 s each on 2 shared cores; one per strategy and rewind stays in the default run


@pytest.mark.parametrize(("strategy", "rewind_step", "granularity"), [
    ("global", 0, None), ("layerwise", 3, None), ("layerwise", 3, "unit"),
    pytest.param("layerwise", 0, None, marks=_SLOW), pytest.param("global", 3, None, marks=_SLOW),
    pytest.param("global", 0, "2:4", marks=_SLOW)])
def test_callback_stores_the_levels_of_the_hand_written_loop(tmp_path, strategy, rewind_step, granularity):
    _hand_written(tmp_path / "hand", strategy, rewind_step, granularity)
    imp = _callback(tmp_path / "callback", strategy, rewind_step, granularity)
    hand = find_experiment(str(tmp_path / "hand"), None).paths
    ours = find_experiment(str(tmp_path / "callback"), None).paths
    assert sorted(imp.results) == list(range(LEVELS + 1))
    for level in range(LEVELS + 1):
        masks = store.load_arrays(ours.mask(0, level))
        expected_masks = store.load_arrays(hand.mask(0, level))
        assert sorted(masks) == sorted(expected_masks)
        for name, mask in expected_masks.items():
            np.testing.assert_array_equal(masks[name], mask, err_msg=f"level {level} {name}")
        files, expected_files = ours.level_files(0, level), hand.level_files(0, level)
        for kind in ("weights_start", "weights_end", "weights_early_stop"):
            weights, expected = (store.load_arrays(getattr(f, kind)) for f in (files, expected_files))
            assert sorted(weights) == sorted(expected)
            for name, value in expected.items():
                np.testing.assert_allclose(weights[name], value, atol=1e-5, err_msg=f"{level} {kind} {name}")
        metrics, expected_metrics = store.read_json(files.metrics), store.read_json(expected_files.metrics)
        assert [p["step"] for p in metrics["curve"]] == [p["step"] for p in expected_metrics["curve"]]
        assert metrics["early_stop_step"] == expected_metrics["early_stop_step"]
        assert metrics["percent_remaining"] == expected_metrics["percent_remaining"]
    steps = [p["step"] for p in store.read_json(ours.metrics(0, 1))["curve"]]
    assert steps == ([rewind_step + 4, rewind_step + 8] if rewind_step else [10, 20])
    if granularity is not None:
        _assert_granularity(ours, granularity)


def _assert_granularity(paths, granularity):
    """Every stored level's masks have the granularity's shape; removed units' biases are zero."""
    from lottery_tf.pruning import granularity as granularity_lib

    assert store.read_json(paths.config)["config"]["pruning"]["granularity"] == granularity
    for level in range(1, LEVELS + 1):
        masks = store.load_arrays(paths.mask(0, level))
        weights = store.load_arrays(paths.level_files(0, level).weights_end)
        for name, mask in masks.items():
            if granularity == "unit":
                # Whole units go, with the rows that read the previous layer's removed units.
                alive_units, read_inputs = mask.any(axis=0), mask.any(axis=1)
                np.testing.assert_array_equal(mask, np.outer(read_inputs, alive_units), err_msg=name)
                dead = ~alive_units
                assert dead.any() or name.endswith("output"), name
                np.testing.assert_array_equal(weights[f"{name}/bias"][dead], 0)
            else:
                assert granularity_lib.holds_nm(mask, 2, 4), name


def _small_model(seed=0):
    keras.backend.clear_session()  # the same seed gives the same initialization
    keras.utils.set_random_seed(seed)
    model = lt.wrap(keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(name="flatten"),
                                      keras.layers.Dense(32, activation="relu", name="hidden"),
                                      keras.layers.Dense(10, name="output")], name="small"))
    model.compile(keras.optimizers.Adam(3e-3), metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def test_fit_on_arrays_with_validation_split_stores_every_level(tmp_path):
    (x, y), test = _data()
    imp = lt.LotteryTicket(str(tmp_path), levels=2, epochs_per_level=2, rate=0.5, test_data=test)
    history = _small_model().fit(x, y, batch_size=50, epochs=imp.total_epochs, validation_split=0.2,
                                 callbacks=[imp], verbose=0)
    assert len(history.history["val_loss"]) == imp.total_epochs == 6
    percents = [imp.results[level]["percent_remaining"] for level in range(3)]
    assert percents == pytest.approx([100, 50, 25], abs=0.1)
    assert [p["step"] for p in imp.results[2]["curve"]] == [5, 10]  # 240 examples in batches of 50
    assert all(imp.results[level]["early_stop_test_accuracy"] is not None for level in range(3))
    assert not os.path.exists(os.path.join(imp.experiment_dir, "replicate_0", ".fit_progress"))


def test_reinit_control_trains_the_stored_masks_from_its_own_initialization(tmp_path):
    (x, y), test = _data()
    imp = lt.LotteryTicket(str(tmp_path), levels=2, epochs_per_level=1, rate=0.5, test_data=test)
    _small_model(0).fit(x, y, batch_size=50, epochs=imp.total_epochs, validation_split=0.2,
                        callbacks=[imp], verbose=0)
    same_init = imp.control_run("reinit")
    with pytest.raises(ConfigError, match="another seed"):
        _small_model(0).fit(x, y, batch_size=50, epochs=same_init.total_epochs, validation_split=0.2,
                            callbacks=[same_init], verbose=0)
    reinit = imp.control_run("reinit", seed=1000)
    control_model = _small_model(1000)
    initial = lt.get_masks(control_model), control_model.get_weights()
    control_model.fit(x, y, batch_size=50, epochs=reinit.total_epochs, validation_split=0.2,
                      callbacks=[reinit], verbose=0)
    assert reinit.total_epochs == 2 and sorted(reinit.results) == [1, 2]
    paths = find_experiment(str(tmp_path), None).paths
    for level in (1, 2):
        folder = reinit.results[level]["branch_folder"]
        control = paths.branch_files(0, level, folder)
        np.testing.assert_array_equal(store.load_arrays(control.mask)["hidden"],
                                      store.load_arrays(paths.mask(0, level))["hidden"])
        start = store.load_arrays(control.weights_start)["hidden/kernel"]
        mask = store.load_arrays(paths.mask(0, level))["hidden"]
        np.testing.assert_array_equal(start, initial[1][0] * mask)
        assert store.read_json(control.metrics)["start_step"] == 0
    assert initial[0]["hidden"].all()
    # Summarized in the command line's layout: the branch folder's CSV and by-level run.
    folder = reinit.results[2]["branch_folder"]
    with open(os.path.join(paths.replicate(0), f"summary_{folder}.csv")) as handle:
        assert [row["level"] for row in csv.DictReader(handle)] == ["1", "2"]
    by_level = tensorboard_scalars(paths.tensorboard_summary(0, tensorboard_run_name(folder)))
    assert [step for step, _ in by_level["lottery/control/test_accuracy_at_early_stop"]] == [1, 2]


@pytest.mark.parametrize("early_stopping_first", [False, True])
def test_early_stopping_is_refused_with_the_reason(tmp_path, early_stopping_first):
    (x, y), _ = _data()
    imp = lt.LotteryTicket(str(tmp_path), levels=2, epochs_per_level=2, rate=0.5)
    stopper = keras.callbacks.EarlyStopping(patience=0, min_delta=100.0)  # stops after the second epoch
    callbacks = [stopper, imp] if early_stopping_first else [imp, stopper]
    with pytest.raises(ConfigError, match="Remove EarlyStopping") as error:
        _small_model().fit(x, y, batch_size=50, epochs=imp.total_epochs, validation_split=0.2,
                           callbacks=callbacks, verbose=0)
    assert "lowest validation loss" in str(error.value)
    # Epoch 1 ends level 0: stored unless the refusal came first.
    assert (0 in imp.results) == (not early_stopping_first)


def test_misplaced_epochs_and_backup_order_are_refused(tmp_path):
    (x, y), _ = _data()
    imp = lt.LotteryTicket(str(tmp_path), levels=1, epochs_per_level=1)
    with pytest.raises(ConfigError, match="epochs=imp.total_epochs"):
        _small_model().fit(x, y, epochs=3, validation_split=0.2, callbacks=[imp], verbose=0)
    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
    with pytest.raises(ConfigError, match="before BackupAndRestore"):
        _small_model().fit(x, y, epochs=2, validation_split=0.2, callbacks=[backup, imp], verbose=0)


def _scalars(logdir, tag):
    events = EventAccumulator(str(logdir), size_guidance={"tensors": 0, "scalars": 0})
    events.Reload()
    if tag in events.Tags()["tensors"]:
        return [(e.step, float(tf.make_ndarray(e.tensor_proto))) for e in events.Tensors(tag)]
    return [(e.step, e.value) for e in events.Scalars(tag)]


def test_keras_tensorboard_steps_continue_across_levels_beside_lottery_tf_runs(tmp_path):
    (x, y), _ = _data()
    imp = lt.LotteryTicket(str(tmp_path / "runs"), levels=2, epochs_per_level=2, rate=0.5)
    # write_steps_per_second makes Keras call the batch hooks that write batch_* summaries.
    board = keras.callbacks.TensorBoard(str(tmp_path / "logs"), update_freq=2, write_steps_per_second=True)
    _small_model().fit(x, y, batch_size=50, epochs=imp.total_epochs, validation_split=0.2,
                       callbacks=[imp, board], verbose=0)
    epochs = [step for step, _ in _scalars(tmp_path / "logs" / "train", "epoch_loss")]
    assert epochs == list(range(imp.total_epochs))
    batches = [step for step, _ in _scalars(tmp_path / "logs" / "train", "batch_loss")]
    assert batches == list(range(2, 5 * imp.total_epochs + 1, 2))  # 5 steps per epoch, on across levels
    # Keras keys this one by the optimizer's counter, which a rewind restarts as a fresh optimizer's.
    validation = [step for step, _ in _scalars(tmp_path / "logs" / "validation",
                                                "evaluation_loss_vs_iterations")]
    assert validation == [5, 10] * 3
    paths = find_experiment(str(tmp_path / "runs"), None).paths
    for level, percent in ((0, 100.0), (2, 25.0)):
        sparsity = _scalars(paths.tensorboard_run(0, level, "ticket"), "percent_remaining/total")
        assert [value for _, value in sparsity] == pytest.approx([percent, percent], abs=0.1)
        loss = _scalars(paths.tensorboard_run(0, level, "ticket"), "ticket/validation/loss")
        assert [step for step, _ in loss] == [5, 10]  # lottery steps restart at the rewind step


def test_keras_3_model_gets_the_fix_in_one_message():
    script = """
import keras, numpy as np
from lottery_tf import api as lt
from lottery_tf.errors import ConfigError
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
model.compile("sgd", "mse")
for attempt in (lambda: lt.wrap(model),
                lambda: model.fit(np.zeros((4, 4)), np.zeros((4, 2)), callbacks=[
                    lt.LotteryTicket("unused", levels=1, epochs_per_level=1)], verbose=0)):
    try:
        attempt()
    except ConfigError as error:
        print("REFUSED:", error)
"""
    environment = {key: value for key, value in os.environ.items() if key != "TF_USE_LEGACY_KERAS"}
    environment.update(TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO))
    probe = subprocess.run([sys.executable, "-c", "import keras; print(keras.__version__)"], env=environment,
                           capture_output=True, text=True, timeout=300)
    if probe.returncode or not probe.stdout.strip().startswith("3."):
        pytest.skip("Keras 3 is not installed")
    process = subprocess.run([sys.executable, "-c", script], env=environment, cwd=REPO, capture_output=True,
                             text=True, timeout=300)
    assert process.returncode == 0, process.stderr[-3000:]
    refusals = [line for line in process.stdout.splitlines() if line.startswith("REFUSED:")]
    assert len(refusals) == 2
    for line in refusals:
        assert "Keras 3" in line and "import tf_keras as keras" in line and "TF_USE_LEGACY_KERAS=1" in line


def test_model_checkpoint_listed_after_the_callback_saves_each_level_pruned(tmp_path):
    (x, y), test = _data()
    imp = lt.LotteryTicket(str(tmp_path / "runs"), levels=2, epochs_per_level=1, rate=0.5, test_data=test)
    pattern = str(tmp_path / "checkpoints" / "epoch_{epoch}.h5")
    saver = keras.callbacks.ModelCheckpoint(pattern, save_weights_only=True)
    model = _small_model()
    model.fit(x, y, batch_size=50, epochs=imp.total_epochs, validation_split=0.2, callbacks=[imp, saver],
              verbose=0)
    # Saved after LotteryTicket's level end, so pruned for the next level (the last: the last level's).
    for epoch, kept in ((1, 0.5), (2, 0.25), (3, 0.25)):
        saved = _small_model()  # the same architecture, its own weights until loaded
        saved.load_weights(pattern.format(epoch=epoch))
        kernel = np.asarray(saved.get_layer("prune_low_magnitude_hidden").weights[0])
        assert np.count_nonzero(kernel) / kernel.size == pytest.approx(kept, abs=0.01), epoch
