"""Runs a branch by its record (one run, or the `branch` command's levels and tables), and
reads back a replicate's trunk and branches."""
import sys
from typing import TextIO

from lottery_tf.errors import StoreError
from lottery_tf.experiments.branches import registry
from lottery_tf.experiments.branches.context import BranchContext
from lottery_tf.experiments.lottery import replicate_seed
from lottery_tf.experiments.setup import Setup
from lottery_tf.report.console import branch_table, combined_table
from lottery_tf.storage import files as storage_files
from lottery_tf.storage import store
from lottery_tf.storage.runs import branch_runs, trunk_runs
from lottery_tf.storage.summaries import log_level_to_tensorboard, write_replicate_summary


def run_branch(setup: Setup, name: str, replicate: int, level: int, args: dict | None = None) -> dict:
    """Runs (or resumes, or reads back) one branch off one finished trunk level.

    Args:
      setup: the experiment's `Setup`.
      name: a branch of `registry.BRANCHES`.
      replicate, level: the trunk level to branch off.
      args: the branch's arguments; the record's defaults fill in the rest.

    Returns:
      The branch's metrics (also stored in its folder's metrics.json).

    Raises:
      ConfigError: unknown branch or arguments.
      StoreError: the trunk level is not finished yet.
    """
    record = registry.get(name)
    args = record.with_defaults(args)
    paths = setup.paths
    if not storage_files.exists(paths.metrics(replicate, level)):
        raise StoreError(f"Trunk level {level} of replicate {replicate} is not finished "
                         f"({paths.metrics(replicate, level)} is missing); run the lottery "
                         f"command with --config.levels>={level} first.")
    seed = record.seed(replicate_seed(setup.config, replicate))
    folder = record.folder(replicate_seed(setup.config, replicate), args)
    files = paths.branch_files(replicate, level, folder)
    if storage_files.exists(files.metrics):
        return store.read_json(files.metrics)
    ctx = BranchContext(setup, name, replicate, level, seed, args, files, record.mask_from)
    metrics = record.resolve()(ctx)
    if not storage_files.exists(files.metrics):  # several runs: their summary goes here
        store.write_json(files.metrics, metrics)
    if not record.several_runs:  # one run: summarized like the trunk
        log_level_to_tensorboard(paths, replicate, metrics, branch_folder=folder,
                                 arguments=registry.describe_args(name, args))
        write_replicate_summary(paths, replicate, collect_branches(setup, replicate, folder)[folder],
                                branch_folder=folder)
    return metrics


def run_branch_command(setup: Setup, name: str, replicates, levels, args: dict | None = None,
                       stream: TextIO | None = None) -> dict[int, list[dict]]:
    """The `branch` command: runs a branch off each level of each replicate, then prints per
    replicate its own table (if its record has one) and the ticket against every control.

    Progress goes as `run_lottery`'s does: with `setup.quiet`, one line per run on stderr,
    else a line per evaluation on stdout. The tables (and their warnings) are results,
    printed either way, as `run_lottery` prints its trunk table.

    Args:
      setup: the experiment's `Setup` (`prepare(..., quiet)`).
      name: a branch of `registry.BRANCHES`.
      replicates, levels: the trunk levels to branch off.
      args: the branch's arguments; the record's defaults fill in the rest.
      stream: where the tables go (None: standard output, looked up per call).

    Returns:
      replicate -> the branch's metrics, level by level.

    Raises:
      ConfigError, StoreError: as `run_branch`.
    """
    stream = stream or sys.stdout
    record = registry.get(name)
    results = {}
    for replicate in replicates:
        results[replicate] = runs = [run_branch(setup, name, replicate, level, args) for level in levels]
        own_table = branch_table(record.shown_as, runs)  # e.g. a rewind sweep's steps
        if own_table is not None:
            stream.write(f"replicate {replicate} {name.replace('_', ' ')}:\n{own_table}\n")
        stream.write(f"replicate {replicate}: ticket and every control (test accuracy at early stop, "
                     "early-stop step)\n")
        stream.write(combined_table(trunk_results(setup, replicate), collect_branches(setup, replicate))
                     + "\n")
    return results


def trunk_results(setup: Setup, replicate: int) -> list[dict]:
    """Metrics of the replicate's finished trunk levels, in order."""
    return list(trunk_runs(setup.paths, replicate, setup.config.levels).values())


def collect_branches(setup: Setup, replicate: int, only: str | None = None) -> dict[str, list[dict]]:
    """Every finished branch of a replicate, by label.

    Args:
      setup: the experiment's `Setup`.
      replicate: the replicate whose branches to read.
      only: a branch folder name: that folder's runs alone, keyed by the folder name.

    Returns:
      label -> the runs of one branch folder, level by level; the label is the
      branch name, plus its arguments when one name was run with several.
    """
    found = branch_runs(setup.paths, replicate, setup.config.levels)
    if only is not None:
        return {only: found.get(only, [])}
    by_name: dict[str, list[str]] = {}
    for folder, runs in found.items():
        by_name.setdefault(runs[0]["branch"], []).append(folder)
    labels = {}
    for name, folders in by_name.items():
        for folder in folders:
            args = registry.applicable_args(name, found[folder][0].get("branch_args") or {})
            tag = ",".join(str(value) for value in args.values()) or folder[-10:-6]
            label = name if len(folders) == 1 else f"{name}[{tag}]"
            if label in labels:  # runs that differ only in arguments that do not apply
                label = f"{name}[{tag},{folder[-10:]}]"
            labels[label] = found[folder]
    return labels
