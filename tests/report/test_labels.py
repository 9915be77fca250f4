"""Experiments in a comparison are labelled by the settings that tell them apart."""
from lottery_tf.config import base_config
from lottery_tf.report.labels import experiment_labels


def _stored(**overrides) -> dict:
    config = base_config()
    for key, value in overrides.items():
        section, _, field = key.rpartition(".")
        (config[section] if section else config)[field] = value
    return config.to_dict()


def test_the_differing_settings_label_each_experiment_and_a_default_shows_its_value():
    labels = experiment_labels({
        "a": _stored(**{"dataset.normalization": "standardize"}),  # the default: not hashed
        "b": _stored(**{"dataset.normalization": "unit_range"}),
        "c": _stored(**{"dataset.normalization": "example_l2", "pruning.rate": 0.3}),
    })
    assert labels == {"a": "dataset.normalization=standardize, pruning.rate=0.2",
                      "b": "dataset.normalization=unit_range, pruning.rate=0.2",
                      "c": "dataset.normalization=example_l2, pruning.rate=0.3"}


def test_experiments_their_settings_cannot_tell_apart_keep_their_names():
    assert experiment_labels({"x": _stored(), "y": _stored()}) == {"x": "x", "y": "y"}
    assert experiment_labels({"only": _stored()}) == {"only": "only"}
    # Only the fields `keep` accepts count.
    two = {"p": _stored(seed=1), "q": _stored(seed=2)}
    assert experiment_labels(two, keep=lambda key: key != "seed") == {"p": "p", "q": "q"}
