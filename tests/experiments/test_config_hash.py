"""Experiment names: stable hashes of the hashed fields only."""
import importlib.util
import pathlib

import pytest

from lottery_tf.errors import ConfigError
from lottery_tf.experiments import config as config_lib

CONFIGS = pathlib.Path(__file__).resolve().parents[2] / "configs"


def load_config(name):
    spec = importlib.util.spec_from_file_location(name, CONFIGS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config()


# Pinned: changing these renames every stored experiment. Update only on purpose.
PINNED = {"base": "36e3ab6432", "lenet_mnist": "56045d6916", "resnet20_cifar10": "f53318bbbf"}


def test_base_hash_is_pinned():
    assert config_lib.config_hash(config_lib.base_config()) == PINNED["base"]


@pytest.mark.parametrize("name", ["lenet_mnist", "resnet20_cifar10"])
def test_paper_config_hashes_are_pinned(name, monkeypatch):
    monkeypatch.syspath_prepend(str(CONFIGS.parent))
    assert config_lib.config_hash(load_config(name)) == PINNED[name]


def test_unset_options_and_unhashed_fields_do_not_change_the_hash():
    config = config_lib.base_config()
    before = config_lib.config_hash(config)
    config.levels = 30
    config.name = "renamed"
    config.runtime.jit_compile = False
    config.dataset.data_dir = "/somewhere"
    assert config_lib.config_hash(config) == before


def test_hashed_fields_change_the_hash():
    config = config_lib.base_config()
    before = config_lib.config_hash(config)
    config.pruning.rate = 0.3
    assert config_lib.config_hash(config) != before
    config.pruning.rate = 0.2
    config.training.adam_epsilon = 1e-8  # a placeholder set: now part of the experiment
    assert config_lib.config_hash(config) != before


def test_experiment_name_has_model_dataset_and_hash():
    config = config_lib.base_config()
    assert config_lib.experiment_name(config) == f"lenet_300_100_mnist_{PINNED['base']}"


def test_differing_fields_are_named():
    config = config_lib.base_config()
    stored = config_lib.hashed_fields(config)
    config.training.learning_rate = 0.5
    assert config_lib.differing_fields(stored, config) == [
        "training.learning_rate: stored 0.0012, given 0.5"]


@pytest.mark.parametrize("field,value,message", [
    ("pruning.strategy", "magic", "layerwise' or 'global"),
    ("pruning.rate", 1.0, r"\[0, 1\)"),
    ("pruning.output_rate", -0.1, r"\[0, 1\)"),
    ("levels", -1, ">= 0"),
    ("training.optimizer", "rmsprop", "'adam' or 'sgd'"),
    ("training.learning_rate", float("nan"), "training.learning_rate must be a finite number"),
    ("training.adam_epsilon", float("inf"), "training.adam_epsilon must be a finite number"),
    ("training.weight_decay", float("-inf"), "training.weight_decay must be a finite number"),
    ("pruning.rate", float("nan"), "pruning.rate must be a finite number"),
])
def test_out_of_range_values_are_refused(field, value, message):
    config = config_lib.base_config()
    section, _, key = field.rpartition(".")
    (config[section] if section else config)[key] = value
    with pytest.raises(ConfigError, match=message):
        config_lib.check_ranges(config)


@pytest.mark.parametrize("name", ["lenet_mnist", "lenet_fashion_mnist", "conv2_cifar10",
                                  "conv4_cifar10", "conv6_cifar10", "resnet20_cifar10",
                                  "vgg19_cifar10", "resnet50_imagenet"])
def test_paper_configs_load_and_validate(name, monkeypatch):
    monkeypatch.syspath_prepend(str(CONFIGS.parent))
    config = load_config(name)
    config_lib.check_ranges(config)
    assert len(config_lib.config_hash(config)) == 10


def test_configs_do_not_share_optional_fields():
    first, second = config_lib.base_config(), config_lib.base_config()
    first.training.adam_epsilon = 1e-8
    assert second.training.adam_epsilon is None


def test_help_describes_every_field():
    text = config_lib.describe_fields()
    for key in config_lib.FIELDS:
        assert f"--config.{key} " in text
