"""save_level records what the fit-based run used, and one folder holds one architecture."""
import pathlib

import numpy as np
import pytest
import tf_keras as keras

from lottery_tf import api as lt
from lottery_tf.errors import ConfigError
from lottery_tf.storage import store
from lottery_tf.storage.catalog import find_experiment

LEARNING_RATE, RATE, OUTPUT_RATE, BATCH, EPOCHS, COUNT = 3e-3, 0.5, 0.25, 16, 2, 64
STEPS = EPOCHS * COUNT // BATCH


def _model(hidden: int = 8) -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    x = keras.layers.Dense(hidden, activation="relu", name="hidden")(inputs)
    model = lt.wrap(keras.Model(inputs, keras.layers.Dense(2, name="logits")(x), name="two_layer"))
    model.compile(keras.optimizers.Adam(LEARNING_RATE), metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(COUNT, 4)).astype(np.float32), rng.integers(0, 2, COUNT)


def _imp(root: str, levels: int, model=None, config=None, strategy="global"):
    """Levels 0..levels of IMP with rewinding to step 0, each saved; returns the last metrics."""
    x, y = _data()
    model = model or _model()
    rewind = lt.RewindCallback(step=0)
    for level in range(levels + 1):
        if level:
            lt.prune(model, rate=RATE, strategy=strategy, output_rate=OUTPUT_RATE)
            lt.rewind(model, rewind)
        recorder = lt.LevelRecorder(test_data=(x, y))
        model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0, validation_data=(x, y),
                  callbacks=[lt.PruningStep(), rewind, recorder])
        metrics = lt.save_level(root, level, model, recorder, config=config, rewind=rewind)
    return metrics


def _files(root) -> dict[str, bytes]:
    return {str(path): path.read_bytes() for path in sorted(pathlib.Path(root).rglob("*")) if path.is_file()}


def test_config_json_records_the_strategy_rates_learning_rate_and_steps_used(tmp_path):
    _imp(str(tmp_path), levels=0)
    experiment = find_experiment(str(tmp_path), None)
    level_0 = store.read_json(experiment.paths.config)["config"]
    # Level 0 was not pruned: its strategy and rates are unknown, so unset, not the defaults.
    assert level_0["pruning"]["strategy"] is None and level_0["pruning"]["rate"] is None
    _imp(str(tmp_path / "imp"), levels=1)
    experiment = find_experiment(str(tmp_path / "imp"), None)
    stored = store.read_json(experiment.paths.config)
    config = stored["config"]
    assert config["pruning"]["strategy"] == "global"  # the default would say layerwise
    assert config["pruning"]["rate"] == RATE and config["pruning"]["output_rate"] == OUTPUT_RATE
    assert config["pruning"]["conv_rate"] is None and config["pruning"]["dense_rate"] is None  # = rate
    assert config["training"]["optimizer"] == "adam"
    assert config["training"]["learning_rate"] == LEARNING_RATE  # not the default 1.2e-3
    assert config["training"]["train_steps"] == f"{STEPS}it"  # not the default 50000it
    assert config["training"]["eval_every"] == f"{STEPS // EPOCHS}it"
    assert config["rewind"] == "0it"
    assert config["training"]["batch_size"] is None  # fit does not tell: unset, not the default 60
    assert stored["varying_settings"] == []
    metrics = store.read_json(experiment.paths.metrics(0, 1))
    assert metrics["settings_used"]["pruning.strategy"] == "global"
    # The folder is named as before: by the stated settings on the defaults (pinned).
    assert experiment.name == "fit_two_layer_mnist_b71fc7e96f" == f"fit_two_layer_mnist_{stored['hash']}"


def test_a_stated_setting_the_run_contradicts_is_refused_before_writing(tmp_path):
    stated = {"pruning.strategy": "layerwise", "training.learning_rate": 3e-3}
    with pytest.raises(ConfigError, match="pruning.strategy: config says .layerwise., the run used .global."):
        _imp(str(tmp_path), levels=1, config=stated)
    experiment = find_experiment(str(tmp_path), None)
    assert not pathlib.Path(experiment.paths.level(0, 1)).exists()  # level 0 saved, level 1 refused


@pytest.mark.parametrize("config", [None, {"model.name": "lenet_300_100"}], ids=["model.json", "zoo name"])
def test_another_architecture_into_the_same_folder_is_refused_and_nothing_changes(tmp_path, config):
    _imp(str(tmp_path), levels=0, config=config)
    before = _files(tmp_path)
    x, y = _data()
    other = _model(hidden=5)  # same name and settings, so the same folder
    recorder = lt.LevelRecorder()
    other.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, validation_data=(x, y),
              callbacks=[lt.PruningStep(), recorder])
    with pytest.raises(ConfigError, match="(?s)another architecture.*another root.*different name"):
        lt.save_level(str(tmp_path), 0, other, recorder, config=config)
    assert _files(tmp_path) == before
    again = _model()  # the same network built afresh (Keras names its input anew) is accepted
    recorder = lt.LevelRecorder()
    again.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, validation_data=(x, y),
              callbacks=[lt.PruningStep(), recorder])
    lt.save_level(str(tmp_path), 0, again, recorder, config=config)
