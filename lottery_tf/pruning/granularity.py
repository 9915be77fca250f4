"""What one pruning decision removes: a weight, a whole unit, or all but n of every m weights.

Masks always stay shaped like the kernels (so storage, tfmot and every report
read them unchanged); a granularity only constrains which 0/1 patterns occur:

- `weight`: any pattern (unstructured pruning; the default).
- `unit`: whole output units of Dense layers and whole filters of Conv layers
  (the kernel's last axis). A unit is scored by the L1 norm of its surviving
  incoming weights divided by the layer's fan-in (the mean |w|; dividing by a
  per-layer constant leaves layer-wise rankings unchanged and stops global
  ranking from favouring wide-fan-in layers). A removed unit takes its
  outgoing weights with it: the rows of the next layer's kernel that read it
  are masked too (`cut_dead_inputs`, along the model's `chain`), and its bias
  is zeroed by the trainer.
- `n:m`: in every group of m consecutive weights along the input dimension
  (Dense: kernel rows; Conv: input channels, per kernel position and filter)
  at most n survive. The first level imposes the pattern on every pruned
  layer (keeping the n largest scores of each group, whatever the rate); later
  levels remove `rate` of the survivors unstructured inside the pattern, so
  every level is still a valid n:m tensor (sparse tensor cores take groups with
  fewer than n nonzeros) and IMP keeps going to higher sparsity from there.

Nothing here knows about TensorFlow.
"""
import dataclasses
import re
from collections.abc import Mapping, Sequence

import numpy as np

from lottery_tf.errors import ConfigError

# (source layer, layer that reads the source's units): consecutive layers of
# a plain chain model (see lottery_tf.models.unit_chain).
Chain = Sequence[tuple[str, str]]


@dataclasses.dataclass(frozen=True)
class Granularity:
    """A parsed `pruning.granularity`: kind "weight", "unit" or "nm" (with n and m)."""

    kind: str
    n: int = 0
    m: int = 0

    def __str__(self) -> str:
        return f"{self.n}:{self.m}" if self.kind == "nm" else self.kind


WEIGHT = Granularity("weight")


def parse(text: str | None) -> Granularity:
    """`None`/"weight" -> weight, "unit" -> unit, "2:4" -> n:m with n=2, m=4.

    Raises:
      ConfigError: anything else, or n:m without 0 < n < m.
    """
    if text is None or text == "weight":
        return WEIGHT
    if text == "unit":
        return Granularity("unit")
    match = re.fullmatch(r"\s*(\d+)\s*:\s*(\d+)\s*", str(text))
    if match:
        n, m = int(match.group(1)), int(match.group(2))
        if 0 < n < m:
            return Granularity("nm", n, m)
    raise ConfigError(f"pruning.granularity must be 'weight', 'unit' or 'n:m' with 0 < n < m "
                      f"(e.g. '2:4'), got {text!r}.")


# --- Units ---------------------------------------------------------------------------


def unit_alive(mask: np.ndarray) -> np.ndarray:
    """Bool per output unit (last kernel axis): True while any incoming weight survives."""
    return np.asarray(mask).reshape(-1, np.shape(mask)[-1]).any(axis=0)


def unit_scores(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per output unit: the sum of its surviving incoming weights' scores over the fan-in.

    With scores |w| this is the unit's L1 norm divided by its fan-in.
    """
    flat = (np.asarray(scores, dtype=np.float64) * (np.asarray(mask) > 0)).reshape(-1, np.shape(mask)[-1])
    return flat.sum(axis=0) / flat.shape[0]


def expand_units(mask: np.ndarray, keep_units: np.ndarray) -> np.ndarray:
    """`mask` with every unit that `keep_units` drops (0) zeroed in full."""
    return (np.asarray(mask) * (np.asarray(keep_units) > 0)).astype(np.float32)


def _input_unit_index(kernel_shape: Sequence[int], source_units: int) -> tuple[int, np.ndarray]:
    """(axis of a kernel that reads a source's units, source unit of each index on it).

    Dense reading Dense: row i is unit i. Dense reading a flattened conv
    output (height, width, channels): row r is channel r % channels. Conv
    reading Conv: input channel i is filter i.

    Raises:
      ConfigError: the shapes do not connect.
    """
    if len(kernel_shape) == 2 and kernel_shape[0] % source_units == 0:
        return 0, np.arange(kernel_shape[0]) % source_units
    if len(kernel_shape) == 4 and kernel_shape[2] == source_units:
        return 2, np.arange(source_units)
    raise ConfigError(f"A kernel of shape {tuple(kernel_shape)} cannot read {source_units} units.")


def cut_dead_inputs(masks: Mapping[str, np.ndarray], chain: Chain) -> dict[str, np.ndarray]:
    """Masks the weights that read a dead unit (a unit with no surviving incoming weight).

    Args:
      masks: layer -> kernel-shaped 0/1 mask.
      chain: (source, reader) pairs in model order.

    Returns:
      New masks; only readers' entries change.
    """
    new = {name: np.asarray(mask, dtype=np.float32).copy() for name, mask in masks.items()}
    for source, reader in chain:
        alive = unit_alive(new[source])
        axis, unit_of = _input_unit_index(new[reader].shape, alive.size)
        shape = [1] * new[reader].ndim
        shape[axis] = unit_of.size
        new[reader] *= alive[unit_of].reshape(shape)
    return new


# --- n:m ---------------------------------------------------------------------------


def input_axis(shape: Sequence[int]) -> int:
    """The axis n:m groups run along: Dense kernel rows (0), Conv input channels (-2)."""
    return 0 if len(shape) == 2 else len(shape) - 2


def nm_pattern(scores: np.ndarray, alive: np.ndarray, n: int, m: int) -> np.ndarray:
    """Keeps the n best-scored alive weights of every group of m along the input axis.

    A last, shorter group (input size not a multiple of m) keeps up to n too.
    Ties go to the earlier position.

    Returns:
      A float32 0/1 mask shaped like `scores`, inside `alive`.
    """
    scores, alive = np.asarray(scores, dtype=np.float64), np.asarray(alive) > 0
    axis = input_axis(scores.shape)
    moved_scores = np.moveaxis(np.where(alive, scores, -np.inf), axis, -1)
    moved_alive = np.moveaxis(alive, axis, -1)
    size = moved_scores.shape[-1]
    pad = (-size) % m
    widths = [(0, 0)] * (moved_scores.ndim - 1) + [(0, pad)]
    grouped = np.pad(moved_scores, widths, constant_values=-np.inf)
    grouped = grouped.reshape(*grouped.shape[:-1], -1, m)
    order = np.argsort(-grouped, axis=-1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(m).reshape([1] * (order.ndim - 1) + [m]), axis=-1)
    kept = (rank < n).reshape(*moved_scores.shape[:-1], -1)[..., :size] & moved_alive
    return np.moveaxis(kept, -1, axis).astype(np.float32)


def holds_nm(mask: np.ndarray, n: int, m: int) -> bool:
    """True if no group of m consecutive weights along the input axis has more than n alive."""
    moved = np.moveaxis(np.asarray(mask) > 0, input_axis(np.shape(mask)), -1)
    pad = (-moved.shape[-1]) % m
    moved = np.pad(moved, [(0, 0)] * (moved.ndim - 1) + [(0, pad)])
    return bool((moved.reshape(*moved.shape[:-1], -1, m).sum(axis=-1) <= n).all())


# --- The shuffled-mask control -------------------------------------------------------


def shuffle(masks: Mapping[str, np.ndarray], granularity: str | None, rng: np.random.Generator,
            chain: Chain | None = None) -> dict[str, np.ndarray]:
    """Each layer's mask permuted in place, keeping the granularity and every count.

    Weight: all entries of a layer permuted. Unit: the layer's surviving units
    permuted (then their outputs cut along `chain`). n:m: the entries of each
    full group of m permuted within it (a shorter last group stays as it is).

    Returns:
      Float32 0/1 masks with the same keys and shapes.
    """
    gran = parse(granularity)
    if gran.kind == "weight":
        return {name: rng.permutation(mask.reshape(-1)).reshape(mask.shape)
                for name, mask in masks.items()}
    if gran.kind == "unit":
        sources = {source for source, _ in chain or ()}
        new = {name: (expand_units(np.ones(mask.shape, np.float32), rng.permutation(unit_alive(mask)))
                      if name in sources else np.ones(mask.shape, np.float32))
               for name, mask in masks.items()}
        return cut_dead_inputs(new, chain or ())
    new = {}
    for name, mask in masks.items():
        axis = input_axis(mask.shape)
        moved = np.moveaxis(np.asarray(mask, dtype=np.float32), axis, -1).copy()
        full = moved.shape[-1] - moved.shape[-1] % gran.m
        groups = moved[..., :full].reshape(*moved.shape[:-1], -1, gran.m)
        moved[..., :full] = rng.permuted(groups, axis=-1).reshape(*moved.shape[:-1], full)
        new[name] = np.moveaxis(moved, -1, axis)
    return new
