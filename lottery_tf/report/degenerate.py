"""Warnings for levels whose every run reports an untrained network at early stop.

When every run of a level early-stopped at its start step, or saw its validation
loss rise from the first evaluation (`storage.untrained_signs`), its "accuracy at
early stop" is that of the starting weights: a table would headline untrained
networks (and, against a dense level that trained, a "huge ticket effect"). The
console tables (`report/console.py`) and the report (`report/build.py`) print
these lines under their tables; `untrained_warnings` is the one detection both use.
"""
from collections.abc import Iterable, Mapping

from lottery_tf.storage.untrained_signs import EARLY_STOP_AT_START, VALIDATION_LOSS_ROSE, untrained_signs

SIGN_TEXT = {EARLY_STOP_AT_START: "early-stopped at its start step",
             VALIDATION_LOSS_ROSE: "saw its validation loss rise from the first evaluation"}
CAUSE = ("  likely cause: a validation split that does not represent the training data (e.g. it "
         "holds some classes only; config.json's `validation` records its class counts), a "
         "learning rate too high, or BatchNorm moving statistics that lag the weights (a momentum "
         "near 1, as keras.applications' 0.999, over a short training: evaluation runs in "
         "inference mode).")
FIX = ("  fix: hold out a stratified sample (--config.dataset.validation_split=stratified) or "
       "lower --config.training.learning_rate, and rerun (the new config is a new experiment folder).")


def _judged(run: Mapping) -> bool:
    """Whether a run has what the signs are read from (an interpolation path has neither)."""
    return "early_stop_step" in run or bool(run.get("curve"))


def untrained_levels(kinds: Mapping[str, Iterable[Mapping]]) -> dict[str, dict[int, list[dict[str, str]]]]:
    """The levels at which every run of a kind shows a sign of untrained early-stop weights.

    Args:
      kinds: run kind (`ticket`, a branch label) -> its runs' metrics (each with `level`),
        any replicates; runs with neither an early-stop step nor a curve are not judged.

    Returns:
      kind -> level -> each of its runs' signs (`untrained_signs`), only for the levels
      where every judged run shows one; kinds without such a level are left out.
    """
    found: dict[str, dict[int, list[dict[str, str]]]] = {}
    for kind, runs in kinds.items():
        by_level: dict[int, list[dict[str, str]]] = {}
        for run in runs:
            if _judged(run):
                by_level.setdefault(int(run["level"]), []).append(untrained_signs(run))
        flagged = {level: signs for level, signs in sorted(by_level.items()) if all(signs)}
        if flagged:
            found[kind] = flagged
    return found


def level_ranges(levels: Iterable[int]) -> str:
    """Levels as runs of consecutive numbers: `0-3, 7`."""
    ranges: list[list[int]] = []
    for level in sorted(set(levels)):
        if ranges and level == ranges[-1][1] + 1:
            ranges[-1][1] = level
        else:
            ranges.append([level, level])
    return ", ".join(str(low) if low == high else f"{low}-{high}" for low, high in ranges)


def untrained_warnings(kinds: Mapping[str, Iterable[Mapping]]) -> list[str]:
    """The lines printed under a table when some level's runs all look untrained.

    Args:
      kinds: run kind -> its runs' metrics, as `untrained_levels` takes.

    Returns:
      No line when every level has a run that trained; else a `warning:` line naming
      the kinds and levels, a likely-cause line and a fix line.
    """
    found = untrained_levels(kinds)
    if not found:
        return []
    every = [signs for levels in found.values() for runs in levels.values() for signs in runs]
    shown = [sign for sign in SIGN_TEXT if any(sign in signs for signs in every)]
    joiner = " and " if all(sign in signs for signs in every for sign in shown) else " or "
    where = [f"{kind} level{'s' if len(levels) > 1 else ''} {level_ranges(levels)}"
             for kind, levels in found.items()]
    where_text = where[0] if len(where) == 1 else f"{', '.join(where[:-1])} and {where[-1]}"
    return [f"warning: {where_text}: every run {joiner.join(SIGN_TEXT[sign] for sign in shown)}, "
            "so its accuracy at early stop is that of its untrained starting weights, not of a "
            "trained network (no ticket effect can be read from these levels).", CAUSE, FIX]
