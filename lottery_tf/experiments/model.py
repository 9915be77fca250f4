"""The experiment's model: the one place a config's `model` section is built.

Training, branches and export all build the network this way, so a level's
stored weights always fit the model that reads them back.
"""
import ml_collections
import tf_keras as keras

from lottery_tf.data.sources import spec_of
from lottery_tf.data.spec import DatasetSpec
from lottery_tf.models.registry import build_model


def build_experiment_model(config: ml_collections.ConfigDict, seed: int | None = None,
                           spec: DatasetSpec | None = None) -> keras.Model:
    """The config's model for its dataset's input shape and classes, unwrapped.

    Args:
      config: an experiment config (its `model` and `dataset` sections and `seed`).
      seed: the initialization seed; None takes `config.seed`.
      spec: the dataset's shapes (e.g. as stored with an experiment); None looks them up
        from `config.dataset`.

    Returns:
      A freshly built, seeded Keras model.

    Raises:
      ConfigError: an unknown model name, initializer or dataset.
    """
    spec = spec or spec_of(config.dataset)
    return build_model(config.model.name, spec.image_shape, spec.num_classes,
                       config.model.initializer, config.seed if seed is None else seed)
