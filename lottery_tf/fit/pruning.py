"""One IMP pruning step on a wrapped model: rank the surviving kernels, write the masks."""
import weakref
from collections.abc import Iterable, Mapping

import numpy as np
import tf_keras as keras

from lottery_tf.errors import ConfigError
from lottery_tf.fit.wrapping import layer_kinds, require_wrapped
from lottery_tf.models.layer_paths import match_keys
from lottery_tf.models.unit_chain import unit_chain
from lottery_tf.pruning import granularity as granularity_lib
from lottery_tf.pruning import masks as mask_lib
from lottery_tf.pruning import tfmot_adapter
from lottery_tf.pruning.rates import layer_rates

# The arguments of each model's latest `prune`, for `save_level` to record what ran. Kept
# beside the model, not on it: Keras tracks a model's attributes (and would save them).
_PRUNED_WITH: "weakref.WeakKeyDictionary[keras.Model, dict[str, object]]" = weakref.WeakKeyDictionary()


def prune(model: keras.Model, rate: float = 0.2, strategy: str = "global",
          conv_rate: float | None = None, dense_rate: float | None = None,
          output_rate: float | None = None, layers_to_ignore: Iterable[str] = (),
          output_layer: str | None = None, granularity: str | None = None) -> dict[str, np.ndarray]:
    """Removes the smallest surviving weights by magnitude and writes the new masks.

    Ranking is `lottery_tf.pruning.masks` (the command line's): "global" ranks
    together every layer that shares a rate, "layerwise" each layer alone.
    Pruned weights are zeroed at once; at unit granularity a removed unit's bias too.

    Args:
      model: a wrapped model (`wrap`), usually just trained.
      rate: fraction of the surviving weights removed, in [0, 1).
      strategy: "global" or "layerwise".
      conv_rate, dense_rate, output_rate: per-kind rates (None: `rate`).
      layers_to_ignore: layer names never pruned.
      output_layer: the layer pruned at `output_rate` (see `layer_kinds`).
      granularity: "weight" (None), "unit" (whole Dense units and Conv filters of
        a plain chain model) or "n:m", as the command line's `pruning.granularity`.

    Returns:
      The new masks by layer name.

    Raises:
      ConfigError: the model is not wrapped, a rate is outside [0, 1), an
        unknown strategy, granularity or layer name, or unit granularity on a
        model that is not a plain chain.
    """
    require_wrapped(model, "prune")
    layers_to_ignore = tuple(layers_to_ignore)  # read twice: for the rates and the record
    granularity = str(granularity_lib.parse(granularity))
    rates = layer_rates(layer_kinds(model, output_layer), rate, conv_rate, dense_rate,
                        output_rate, layers_to_ignore)
    chain = unit_chain(model) if granularity == "unit" else None
    masks = mask_lib.prune(strategy, tfmot_adapter.prunable_kernels(model),
                           tfmot_adapter.get_masks(model), rates, granularity=granularity, chain=chain)
    set_masks(model, masks)
    note_pruning(model, rate, strategy, conv_rate, dense_rate, output_rate, layers_to_ignore, granularity)
    zero_removed_units(model)
    return masks


def zero_removed_units(model: keras.Model) -> None:
    """At unit granularity, zeroes the biases of the units the masks removed (as the command
    line does): nothing reads such a unit, so its bias then stays zero through training."""
    if (pruning_settings(model) or {}).get("granularity") == "unit":
        tfmot_adapter.zero_biases_of_dead_units(model, tfmot_adapter.get_masks(model))


def note_pruning(model: keras.Model, rate: float, strategy: str, conv_rate: float | None,
                 dense_rate: float | None, output_rate: float | None,
                 layers_to_ignore: Iterable[str], granularity: str | None = None) -> None:
    """Records how `model`'s masks were pruned, for `save_level`; `prune` calls it, and a run
    resumed in another process (or a control given the trunk's masks) calls it for the pruning
    done elsewhere."""
    _PRUNED_WITH[model] = {"strategy": strategy, "rate": rate, "conv_rate": conv_rate,
                           "dense_rate": dense_rate, "output_rate": output_rate,
                           "layers_to_ignore": ",".join(layers_to_ignore),
                           "granularity": str(granularity_lib.parse(granularity))}


def pruning_settings(model: keras.Model) -> dict[str, object] | None:
    """The strategy and rates of the latest `prune` of `model` (None if never pruned).

    Returns:
      `strategy`, `rate`, `conv_rate`, `dense_rate`, `output_rate` (None: `rate`) and
      `layers_to_ignore` (comma-separated), named as the `pruning` config section names them.
    """
    return _PRUNED_WITH.get(model)


def set_masks(model: keras.Model, masks: Mapping[str, np.ndarray]) -> None:
    """Writes given masks (e.g. a ticket's, for a reinit control) and zeroes the pruned weights.

    Raises:
      ConfigError: the model is not wrapped, or the masks do not name exactly
        its wrapped layers with their kernels' shapes and 0/1 values.
    """
    require_wrapped(model, "set masks on")
    current = tfmot_adapter.get_masks(model)
    # Masks of the same architecture built as another model of its process name its
    # unnamed layers with other numbers.
    masks = match_keys(masks, current) or masks
    if set(masks) != set(current):
        raise ConfigError(f"The masks name layers {sorted(masks)}, but the model's pruned layers are "
                          f"{sorted(current)}; use masks saved from this model's architecture.")
    for name, mask in masks.items():
        mask = np.asarray(mask)
        if mask.shape != current[name].shape:
            raise ConfigError(f"The mask of {name!r} has shape {mask.shape}, its kernel "
                              f"{current[name].shape}; use masks saved from this model's architecture.")
        if not np.isin(mask, (0, 1)).all():
            raise ConfigError(f"The mask of {name!r} holds values other than 0 and 1.")
    tfmot_adapter.set_masks(model, masks)


def get_masks(model: keras.Model) -> dict[str, np.ndarray]:
    """The wrapped model's current masks by layer name.

    Raises:
      ConfigError: the model is not wrapped.
    """
    require_wrapped(model, "read masks of")
    return tfmot_adapter.get_masks(model)
