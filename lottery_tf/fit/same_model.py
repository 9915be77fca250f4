"""One experiment folder, one architecture: `save_level` refuses another model into a stored one.

The folder's hash covers the settings, not the network, so a script that
changes its model but not its `config` (or passes the same `model.name` for
another network) would land in the same folder and overwrite `level_*` while
`model.json` and the rewind weights stayed those of the first model. The
stored architecture is compared before anything is written: the Keras JSON of
a user's model (`model.json`, layer by layer, names aside), and for every model the names and shapes of the
weights a stored level started from (`weights_start.npz`).
"""
import json

import numpy as np
import tf_keras as keras

from lottery_tf.errors import ConfigError
from lottery_tf.pruning import tfmot_adapter
from lottery_tf.storage import files as storage_files
from lottery_tf.storage import store
from lottery_tf.storage.catalog import finished_levels, stored_replicates
from lottery_tf.storage.paths import ExperimentPaths


def _stored_weights_file(paths: ExperimentPaths) -> str | None:
    """A stored level's weights_start.npz (the first finished level found), or None."""
    for replicate in stored_replicates(paths):
        for level in finished_levels(paths, replicate):
            path = paths.weights_start(replicate, level)
            if storage_files.isfile(path):
                return path
    return None


def _differences(stored: dict[str, tuple], current: dict[str, tuple]) -> list[str]:
    lines = [f"{name}: stored {stored.get(name)}, given {current.get(name)}"
             for name in sorted(set(stored) | set(current)) if stored.get(name) != current.get(name)]
    return lines[:5] + ([f"... and {len(lines) - 5} more"] if len(lines) > 5 else [])


def _layer_names(architecture: dict) -> list[str]:
    """Layer names of a Keras JSON architecture (Sequential and functional alike)."""
    layers = (architecture.get("config") or {}).get("layers") or []
    return [layer.get("config", {}).get("name", layer.get("name")) for layer in layers]


def _layer_signature(architecture: dict) -> list[tuple[str, dict]]:
    """Each layer's class and settings, without its name: Keras numbers unnamed layers
    (`input_4`) per process, so the same network built again must still match; weight
    names are compared separately."""
    layers = (architecture.get("config") or {}).get("layers") or []
    return [(layer.get("class_name"), {key: value for key, value in (layer.get("config") or {}).items()
                                       if key != "name"}) for layer in layers]


def _refuse(paths: ExperimentPaths, what: str, lines: list[str]) -> None:
    raise ConfigError(f"{paths.dir} holds an experiment of another architecture ({what}):\n  "
                      + "\n  ".join(lines)
                      + "\nSaving this model there would mix two networks in one experiment. Save it "
                      "under another root, or give it its own folder with a different name, e.g. "
                      "config={'name': 'my_other_model', ...}. Nothing was written.")


def check_same_model(paths: ExperimentPaths, model: keras.Model) -> None:
    """Raises ConfigError when the experiment under `paths` stores another architecture.

    Args:
      paths: the experiment's folder layout (it may not exist yet).
      model: the wrapped model about to be saved.

    Raises:
      ConfigError: the stored model.json or a stored level's weight names and
        shapes differ from `model`'s; the message names the fix (another root
        or `name`).
    """
    if storage_files.isfile(paths.architecture):
        stored = json.loads(storage_files.read_bytes(paths.architecture).decode())
        current = json.loads(tfmot_adapter.strip(model).to_json())
        if _layer_signature(stored) != _layer_signature(current):
            _refuse(paths, "model.json differs", [f"stored layers {_layer_names(stored)}",
                                                  f"given layers {_layer_names(current)}"])
    weights_file = _stored_weights_file(paths)
    if weights_file is not None:
        stored_shapes = {name: tuple(array.shape) for name, array in store.load_arrays(weights_file).items()}
        current_shapes = {name: tuple(np.shape(array))
                          for name, array in tfmot_adapter.get_weights(model).items()}
        if stored_shapes != current_shapes:
            _refuse(paths, "weight names or shapes differ", _differences(stored_shapes, current_shapes))
