"""Controls that branch off a trunk level: same sparsity, something else changed.

- `reinit`: the level's mask on a fresh random initialization (new recorded seed).
- `random_prune`: a random mask with the level's per-layer counts (layer-wise
  trunk) or total count (global trunk), from the trunk's rewind point.

A branch is stored in `level_<L>/branch_<name>_<hash>/`, the hash taken over
its name and arguments, with the same files and metrics as a trunk level.
"""
import hashlib
import json
import os

import numpy as np

from lottery_tf.errors import ConfigError, StoreError
from lottery_tf.experiments import store
from lottery_tf.experiments.lottery import Setup, load_rewind_weights, replicate_seed
from lottery_tf.experiments.masked_run import RunPlan, fresh_weights, train_masked_run
from lottery_tf.pruning import random_masks

# Offsets keep branch seeds apart from replicate seeds (seed + replicate).
_BRANCH_SEED_OFFSET = {"reinit": 1_000_003, "random_prune": 2_000_003}
BRANCHES = tuple(_BRANCH_SEED_OFFSET)


def branch_folder(name: str, args: dict) -> str:
    """`branch_<name>_<hash of name and args>`."""
    canonical = json.dumps({"branch": name, **args}, sort_keys=True)
    return f"branch_{name}_{hashlib.sha256(canonical.encode()).hexdigest()[:10]}"


def parse_levels(text: str, max_level: int | None = None) -> list[int]:
    """'0-3,7' -> [0, 1, 2, 3, 7].

    Raises:
      ConfigError: not a list of levels, or a level past `max_level`.
    """
    levels = []
    try:
        for part in text.split(","):
            low, _, high = part.strip().partition("-")
            levels.extend(range(int(low), int(high or low) + 1))
    except ValueError:
        raise ConfigError(f"--levels={text!r} is not a list of levels like '0-3,7'.") from None
    if not levels or min(levels) < 0:
        raise ConfigError(f"--levels={text!r} must name levels >= 0.")
    if max_level is not None and max(levels) > max_level:
        raise ConfigError(f"--levels={text!r} goes past the config's last level {max_level}.")
    return sorted(set(levels))


def _trunk_mask(setup: Setup, replicate: int, level: int) -> dict:
    paths = setup.paths
    if not os.path.exists(paths.metrics(replicate, level)):
        raise StoreError(f"Trunk level {level} of replicate {replicate} is not finished "
                         f"({paths.metrics(replicate, level)} is missing); run the lottery "
                         f"command with --config.levels>={level} first.")
    return store.load_arrays(paths.mask(replicate, level))


def run_branch(setup: Setup, name: str, replicate: int, level: int) -> dict:
    """Runs (or resumes, or reads back) one branch off one trunk level."""
    if name not in _BRANCH_SEED_OFFSET:
        raise ConfigError(f"Unknown branch {name!r}; choose one of {list(BRANCHES)}.")
    paths = setup.paths
    seed = replicate_seed(setup.config, replicate) + _BRANCH_SEED_OFFSET[name]
    folder = branch_folder(name, {"seed": seed})
    files = paths.branch_files(replicate, level, folder)
    if os.path.exists(files.metrics):
        return store.read_json(files.metrics)
    trunk_mask = _trunk_mask(setup, replicate, level)
    start_step = 0 if level == 0 else setup.rewind_step
    if name == "reinit":
        masks = trunk_mask
        start_weights = fresh_weights(setup, seed)
    else:
        rng = np.random.default_rng(seed + level)
        shuffle = (random_masks.random_like_global if setup.config.pruning.strategy == "global"
                   else random_masks.random_like_layerwise)
        masks = shuffle(trunk_mask, rng)
        start_weights = (fresh_weights(setup, replicate_seed(setup.config, replicate))
                         if level == 0 else load_rewind_weights(setup, replicate))
    plan = RunPlan(files=files, masks=masks, start_weights=start_weights, start_step=start_step,
                   seed=seed, label=f"rep {replicate} level {level} {name}",
                   tensorboard_dir=paths.tensorboard(replicate, f"level_{level}_{name}"),
                   extra_metrics={"level": level, "replicate": replicate, "branch": name,
                                  "branch_folder": folder})
    return train_masked_run(setup, plan)


def trunk_results(setup: Setup, replicate: int) -> list[dict]:
    """Metrics of the replicate's finished trunk levels, in order."""
    results = []
    for level in range(setup.config.levels + 1):
        path = setup.paths.metrics(replicate, level)
        if os.path.exists(path):
            results.append(store.read_json(path))
    return results


def combined_table(trunk: list[dict], branches: dict[str, list[dict]]) -> str:
    """Trunk and branches side by side by level.

    For each run: test accuracy at the early-stop step (minimum validation
    loss) and that step, as Frankle & Carbin plot them.
    """
    names = sorted(branches)
    header = f"{'level':>5} {'% left':>7} {'ticket acc':>10} {'ticket es':>9}"
    for name in names:
        header += f" {name + ' acc':>18} {name + ' es':>16}"
    lines = [header]
    by_level = {name: {m["level"]: m for m in runs} for name, runs in branches.items()}
    for metrics in trunk:
        line = (f"{metrics['level']:>5} {metrics['percent_remaining']:>7.1f} "
                f"{metrics['early_stop_test_accuracy']:>10.4f} {metrics['early_stop_step']:>9}")
        for name in names:
            other = by_level[name].get(metrics["level"])
            line += (f" {other['early_stop_test_accuracy']:>18.4f} {other['early_stop_step']:>16}" if other
                     else f" {'-':>18} {'-':>16}")
        lines.append(line)
    return "\n".join(lines)
