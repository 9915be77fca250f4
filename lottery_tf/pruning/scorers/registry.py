"""Every pruning-at-init method as one record, by name: the only list of method names.

Scoring functions are named by import path (`module:function`) and imported on
first use, so reading the records (the command line's --help, config checks)
loads no TensorFlow.
"""
import dataclasses
import importlib
from collections.abc import Callable

from lottery_tf.errors import ConfigError


def _resolve(target: str | Callable) -> Callable:
    if callable(target):
        return target
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


@dataclasses.dataclass(frozen=True)
class Scorer:
    """A pruning-at-init method.

    Attributes:
      name: the method's name (`--method`, sweep files, `score_masks`).
      scores: `module:function` (or the function) taking a `ScoringInputs` and
        returning `{layer: scores}`, larger meaning keep.
      needs_data: True if it scores on images and labels (refused without them).
      help: one line for --help and docs.
      masks: optional `module:function` taking `(ScoringInputs, fraction_to_keep,
        scope)` and returning masks, for methods that rescore while pruning
        (SynFlow); None prunes once by `scores`.
    """

    name: str
    scores: str | Callable
    needs_data: bool
    help: str
    masks: str | Callable | None = None

    def score_function(self) -> Callable:
        """The scoring function (imported on first use)."""
        return _resolve(self.scores)

    def masks_function(self) -> Callable | None:
        """The masks entry point (imported on first use), or None."""
        return None if self.masks is None else _resolve(self.masks)


_PACKAGE = "lottery_tf.pruning.scorers"
SCORERS: dict[str, Scorer] = {record.name: record for record in (
    Scorer("grasp", f"{_PACKAGE}.grasp:score", True,
           "GraSP: keeps the weights whose removal would most reduce gradient flow (Wang et al. 2020)."),
    Scorer("magnitude", f"{_PACKAGE}.magnitude:score", False, "the largest |w| at initialization."),
    Scorer("random", f"{_PACKAGE}.random_scores:score", False, "a uniformly random mask."),
    Scorer("snip", f"{_PACKAGE}.snip:score", True,
           "SNIP: connection sensitivity |dL/dw * w| (Lee et al. 2019)."),
    Scorer("synflow", f"{_PACKAGE}.synflow:score", False,
           "SynFlow: iterative, data-free synaptic flow (Tanaka et al. 2020).",
           masks=f"{_PACKAGE}.synflow:iterative_masks"),
)}


def names() -> list[str]:
    """Every method's name, sorted."""
    return sorted(SCORERS)


def data_driven() -> tuple[str, ...]:
    """The names of the methods that score on images and labels, sorted."""
    return tuple(name for name in names() if SCORERS[name].needs_data)


def get(name: str) -> Scorer:
    """The record of method `name`.

    Raises:
      ConfigError: no method of that name (the message lists them).
    """
    if name not in SCORERS:
        raise ConfigError(f"Unknown pruning-at-init method {name!r}; choose one of {names()}.")
    return SCORERS[name]


def register(record: Scorer) -> None:
    """Adds (or replaces) a method: `score_masks(record.name, ...)` can then use it."""
    SCORERS[record.name] = record
