"""The fit API on a nested and a recurrent model built after other models in the process."""
import pathlib

import numpy as np
import pytest
import tf_keras as keras

from lottery_tf import api as lt
from lottery_tf.models.registry import build_model
from lottery_tf.pruning import tfmot_adapter

BUILDERS = str(pathlib.Path(__file__).resolve().parents[1] / "models")


@pytest.mark.parametrize(("builder", "entries"), [
    ("nested_blocks", ["sequential_1/dense_1", "sequential_1/sequential/dense", "dense_2"]),
    ("lstm_rows", ["lstm/kernel", "lstm/recurrent_kernel", "dense"]),
    ("bidirectional_gru_rows", [f"bidirectional/{side}_gru/gru_cell/{weight}"
                                for side in ("forward", "backward")
                                for weight in ("kernel", "recurrent_kernel")] + ["dense"]),
    ("embedding_conv1d", ["embedding", "conv1d", "dense"]),
    ("transformer_rows", ["dense"] + [f"multi_head_attention/{part}/kernel"
                                      for part in ("query", "key", "value", "attention_output")]
     + ["dense_2", "dense_1", "dense_3"]),
])
def test_fit_prunes_every_weight_and_its_weights_load_into_a_fresh_build(builder, entries,
                                                                        monkeypatch):
    monkeypatch.syspath_prepend(BUILDERS)
    import architectures

    for _ in range(2):  # Keras numbers the next model's unnamed layers on
        keras.Sequential([keras.Input((4, 2)), keras.layers.LSTM(3), keras.layers.Dense(2)])
    keras.utils.set_random_seed(0)
    model = lt.wrap(getattr(architectures, builder)((28, 28, 1), 10, 0))
    model.compile(keras.optimizers.Adam(lt.ResumableSchedule(1e-2)),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 28, 28, 1)).astype(np.float32), rng.integers(0, 10, 64)
    rewind = lt.RewindCallback(step=0)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[lt.PruningStep(), rewind])
    masks = lt.prune(model, rate=0.5, strategy="layerwise")
    lt.rewind(model, rewind)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[lt.PruningStep()])

    fresh = build_model(f"architectures:{builder}", (28, 28, 1), 10)  # names counted from zero
    assert list(lt.get_masks(lt.wrap(fresh))) == entries
    numbered_on = list(masks)
    assert numbered_on != entries  # this process numbered the fit model's layers on
    for mask in masks.values():
        assert 0.3 < mask.mean() < 0.7  # every pruned weight ranked on its own
    rebuilt = lt.wrap(fresh)
    tfmot_adapter.set_weights(rebuilt, tfmot_adapter.get_weights(model))
    lt.set_masks(rebuilt, masks)
    np.testing.assert_allclose(rebuilt(x[:8]), model(x[:8]), atol=1e-5, rtol=0)


def test_lottery_ticket_runs_imp_on_a_nested_model_with_dropout(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(BUILDERS)
    import architectures

    keras.utils.set_random_seed(0)
    model = lt.wrap(architectures.nested_blocks((28, 28, 1), 10, 0))
    model.compile(keras.optimizers.Adam(3e-3), metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(96, 28, 28, 1)).astype(np.float32), rng.integers(0, 10, 96)
    imp = lt.LotteryTicket(str(tmp_path), levels=2, epochs_per_level=1, rate=0.5, output_rate=0.2)
    model.fit(x, y, batch_size=16, epochs=imp.total_epochs, validation_split=0.25, callbacks=[imp], verbose=0)
    assert sorted(imp.results) == [0, 1, 2]
    masks = lt.get_masks(model)
    assert any(key.count("/") >= 2 for key in masks)  # a layer two models deep was pruned
    weights = tfmot_adapter.get_weights(model)
    for key, mask in masks.items():
        assert np.all(weights[f"{key}/kernel"][mask == 0] == 0), key
    assert imp.results[2]["percent_remaining"] < imp.results[1]["percent_remaining"] < 100
