"""Training FLOPs of runs stored before lottery_tf recorded them, computed from what they stored.

A run's FLOPs (`training.cost`) follow from its model, batch size, iterations and
mask, and all four are stored: the experiment's config and data spec rebuild the
model, and each run keeps its mask.npz. The report fills them in memory (no stored
file changes), so an older IMP trunk still sits on the same cost axis as the
procedures measured after it. A run whose mask file is absent or damaged, or whose
model cannot be rebuilt here (a user model that no longer imports), stays unknown.
"""
import dataclasses

from lottery_tf.errors import CorruptFileError, LotteryError
from lottery_tf.report.collect import Collected
from lottery_tf.storage import files as storage_files
from lottery_tf.storage import store
from lottery_tf.storage.cumulative_cost import CUMULATIVE_KEYS, own_cost

_OWN_FLOPS = ("train_flops_dense", "train_flops_sparse")


def _lacks_flops(run: dict) -> bool:
    return any(run.get(key) is None for key in _OWN_FLOPS)


def _mask_path(collected: Collected, replicate: int, level: int, run: dict) -> str:
    paths = collected.experiment.paths
    if run.get("branch_folder"):
        return paths.branch_files(replicate, level, run["branch_folder"]).mask
    return paths.level_files(replicate, level).mask


def _weight_uses(collected: Collected, entries) -> dict[str, int] | None:
    """Mask entry -> uses per example of the experiment's model, or None when it cannot be built."""
    from lottery_tf.experiments.model import build_experiment_model
    from lottery_tf.training.cost import weight_uses

    experiment = collected.experiment
    try:
        model = build_experiment_model(experiment.config_dict(), spec=experiment.spec())
    except (LotteryError, ImportError):
        return None
    return weight_uses(model, entries)


def with_unrecorded_flops(collected: Collected) -> Collected:
    """`collected` with the training FLOPs of older runs filled in where they can be computed.

    Any run whose stored cumulative cost has unknown parts (one recorded after older
    levels it builds on) loses it, so the report adds it up again from the parts now known.
    """
    lacking = [(replicate, level, run) for runs in (collected.trunk, *collected.branches.values())
               for replicate, levels in runs.items() for level, run in levels.items() if _lacks_flops(run)]
    masks = {}
    for replicate, level, run in lacking:
        path = _mask_path(collected, replicate, level, run)
        if own_cost(run).iterations is not None and storage_files.exists(path):
            try:
                masks[id(run)] = store.load_arrays(path)
            except CorruptFileError:  # only this figure depends on it: unknown, the report goes on
                continue
    if not masks:
        return collected
    from lottery_tf.training.cost import training_flops

    uses = _weight_uses(collected, {entry for mask in masks.values() for entry in mask})
    if uses is None:
        return collected
    batch_size = int(collected.experiment.config["training"]["batch_size"])

    def filled(run: dict) -> dict:
        if id(run) in masks:
            flops = training_flops(masks[id(run)], uses, batch_size, int(own_cost(run).iterations))
            run = {**run, **{f"train_flops_{kind}": value for kind, value in flops.items()}}
        if any(key in run and run[key] is None for key in CUMULATIVE_KEYS):
            run = {key: value for key, value in run.items() if key not in CUMULATIVE_KEYS}
        return run

    def filled_runs(runs):
        return {r: {level: filled(run) for level, run in levels.items()} for r, levels in runs.items()}

    branches = {label: filled_runs(runs) for label, runs in collected.branches.items()}
    return dataclasses.replace(collected, trunk=filled_runs(collected.trunk), branches=branches)
