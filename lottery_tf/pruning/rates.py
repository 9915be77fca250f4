"""Per-layer pruning rates from the config's per-kind rates."""
from collections.abc import Iterable, Mapping

from lottery_tf.errors import ConfigError

# The config field (under `pruning.`) of each kind's own rate; unset, and for
# "custom" layers, `pruning.rate` applies.
KIND_RATE_FIELDS = {"conv": "conv_rate", "dense": "dense_rate", "output": "output_rate",
                    "embedding": "embedding_rate"}


def layer_rates(kinds: Mapping[str, str], rate: float, conv_rate: float | None = None,
                dense_rate: float | None = None, output_rate: float | None = None,
                layers_to_ignore: Iterable[str] = (),
                embedding_rate: float | None = None) -> dict[str, float]:
    """Maps each prunable layer to the fraction of its surviving weights to remove per level.

    Args:
      kinds: layer name -> "conv" | "dense" | "embedding" | "custom" | "output", as
        `models.prunable_layers` reports them.
      rate: default rate for every kind left unset (and for "custom" layers).
      conv_rate, dense_rate, output_rate, embedding_rate: rates per layer kind
        (None: `rate`).
      layers_to_ignore: entries or layer paths never pruned (rate 0); a layer's
        path covers all its pruned weights, an inner model's every layer in it.

    Returns:
      layer name -> rate in [0, 1).

    Raises:
      ConfigError: a rate is outside [0, 1) or an ignored layer does not exist.
    """
    by_kind = {
        "conv": rate if conv_rate is None else conv_rate,
        "dense": rate if dense_rate is None else dense_rate,
        "output": rate if output_rate is None else output_rate,
        "embedding": rate if embedding_rate is None else embedding_rate,
        "custom": rate,
    }
    for kind, value in by_kind.items():
        if not 0.0 <= value < 1.0:
            raise ConfigError(f"The {kind} pruning rate must be in [0, 1), got {value}.")
    ignored = set(layers_to_ignore)
    unknown = {name for name in ignored if not any(_covers(name, entry) for entry in kinds)}
    if unknown:
        raise ConfigError(
            f"layers_to_ignore names unknown layers {sorted(unknown)}; "
            f"prunable layers are {list(kinds)}.")
    return {name: 0.0 if is_ignored(name, ignored) else by_kind[kind] for name, kind in kinds.items()}


def ignored_names(layers_to_ignore: str) -> list[str]:
    """The names in `pruning.layers_to_ignore` (comma-separated; blanks dropped)."""
    return [name.strip() for name in layers_to_ignore.split(",") if name.strip()]


def is_ignored(entry: str, layers_to_ignore: Iterable[str]) -> bool:
    """Whether `entry` is named in `layers_to_ignore`, itself or by its layer or an inner model."""
    return any(_covers(name, entry) for name in layers_to_ignore)


def _covers(ignored: str, entry: str) -> bool:
    """Whether an ignored name is the entry itself or a layer or inner model holding it."""
    return entry == ignored or entry.startswith(f"{ignored}/")


def rate_field(kind: str, pruning: Mapping) -> str:
    """The config field a `kind` weight's rate comes from, as `layer_rates` reads them.

    Args:
      kind: a kind of `models.prunable.KINDS`.
      pruning: the config's `pruning` section.

    Returns:
      ``pruning.<kind>_rate`` when that field is set, else ``pruning.rate``.
    """
    field = KIND_RATE_FIELDS.get(kind)
    return f"pruning.{field}" if field and pruning.get(field) is not None else "pruning.rate"
