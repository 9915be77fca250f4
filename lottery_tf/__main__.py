"""Command line: `python -m lottery_tf <command> --config=configs/X.py --root=runs`.

- `lottery`: iterative magnitude pruning with rewinding, for every replicate.
- `train`: the dense network only (level 0 of the same experiment).
- `branch <name> --levels=1-7`: a control or analysis off finished trunk levels
  (the branches listed at the end), then a table of the ticket against every control.
- `report [--experiment=NAME_OR_HASH[,...]] [--out=DIR]`: tables and figures of
  stored results (no --config; works while an experiment is running).
- `export --experiment=NAME_OR_HASH --level=L [--replicate=R] [--tflite] [--compact]`: a
  trained level as a SavedModel (and TFLite; with --compact also rebuilt without its
  removable units and timed), checked against the stored run.
- `sweep --sweep=FILE [--workers=N] [--shard=i/n]`: a sweep file's replicates and
  branches as units shared by many workers (lottery_tf/sweeps/).
- `status`: finished, running, waiting and failed work under --root.

Every config field can be overridden, e.g. `--config.pruning.rate=0.2 --config.levels=20`.
"""
import sys

from absl import app, flags, logging
from ml_collections import config_flags

from lottery_tf import startup
from lottery_tf.config.files import config_file_problem
from lottery_tf.config.ranges import expand_ranges, parse_levels
from lottery_tf.errors import LotteryError
from lottery_tf.experiments.branches import registry as branch_registry
from lottery_tf.experiments.config import describe_fields
from lottery_tf.sweeps import command as sweep_command  # defines the sweep and status flags

__doc__ += "\nConfig fields:\n" + describe_fields() + "\n"
__doc__ += "\nBranches: " + ", ".join(branch_registry.BRANCHES) + "\n"

COMMANDS = ("train", "lottery", "branch", "report", "export", *sweep_command.COMMANDS)

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "Experiment config file (configs/*.py).",
                                lock_config=True)
flags.DEFINE_string("root", "runs", "Folder that holds all experiments.")
flags.DEFINE_integer("replicate", 0, "The replicate to run (seed = config.seed + replicate).")
flags.DEFINE_string("replicates", None, "Several replicates, e.g. '1-5' or '0,2,4'; "
                    "overrides --replicate.")
flags.DEFINE_bool("quiet", False, "Instead of a line per evaluation, one progress line per run "
                  "on stderr (redrawn in place on a terminal, written once per run elsewhere).")
flags.DEFINE_string("levels", None, "branch: trunk levels to branch from, e.g. '0-3,7'; "
                    "report: levels of the training-curve figure.")


def define_branch_flags() -> None:
    """A flag for each branch argument whose record names one (experiments/branches/registry.py)."""
    for record, argument in branch_registry.flag_arguments():
        define = flags.DEFINE_integer if argument.value_type is int else flags.DEFINE_string
        define(argument.flag, None, f"{record.name}: {argument.help}")


define_branch_flags()

# report / export: read stored results only, so they need no --config.
flags.DEFINE_string("experiment", None, "report/export: experiment folder name or config hash "
                    "(report: comma-separated, default all).")
flags.DEFINE_string("out", None, "report: output folder (default <root>/<experiment>/report).")
flags.DEFINE_integer("level", None, "export: the trunk level to export.")
flags.DEFINE_string("worker_dir", None, "multi_worker: where a non-chief worker keeps its private "
                    "copy of the experiment (default: a temporary folder, deleted at the end).")
flags.DEFINE_bool("compact", False, "export: also rebuild the ticket without its removable units "
                  "(plain chain models), check it and time dense, masked and compact SavedModels.")
flags.DEFINE_enum("weights", "early_stop", ["early_stop", "final"], "export: the level's weights "
                  "at the early-stop step (the report's headline accuracy) or at the end of training.")
flags.DEFINE_bool("tflite", False, "export: also convert to TFLite (sparse and plain) and time it, "
                  "the sparse model against the dense one under XNNPACK (and the compact one with "
                  "--compact).")

def parse_replicates(text: str | None, single: int) -> list[int]:
    """'1-3,7' -> [1, 2, 3, 7]; None -> [single]."""
    if not text:
        return [single]
    try:
        replicates = expand_ranges(text)
    except ValueError:
        raise LotteryError(
            f"--replicates={text!r} is not a list of numbers or ranges like '1-5'.") from None
    if not replicates or min(replicates) < 0:
        raise LotteryError(f"--replicates={text!r} must name replicates >= 0.")
    return replicates


def run(argv: list[str]) -> None:
    """Dispatches the command named in argv."""
    commands = argv[1:]
    if not commands or commands[0] not in COMMANDS or len(commands) != 1 + (commands[0] == "branch"):
        raise LotteryError(f"Name one command: {' | '.join(COMMANDS[:2])} | branch <name> | "
                           f"{' | '.join(COMMANDS[3:])} (got {commands or 'none'}).")
    if commands[0] in sweep_command.COMMANDS:
        sweep_command.run(commands[0], FLAGS)
        return
    if commands[0] in ("report", "export"):
        run_results_command(commands[0])
        return
    config = loaded_config()
    import tensorflow as tf

    from lottery_tf.experiments.config import experiment_name
    from lottery_tf.storage.worker_root import private_root
    from lottery_tf.training.strategies import RuntimeSpec, barrier, is_chief, make_strategy

    tf.config.experimental.enable_op_determinism()
    if commands[0] == "train":
        with config.unlocked():
            config.levels = 0
    replicates = parse_replicates(FLAGS.replicates, FLAGS.replicate)
    strategy = make_strategy(RuntimeSpec.from_config(config.runtime))
    try:
        if is_chief(strategy):
            barrier(strategy)  # write nothing before every other worker has copied the stored state
            run_training_command(commands, config, FLAGS.root, replicates, strategy, FLAGS.quiet)
            return
        with private_root(FLAGS.root, experiment_name(config), FLAGS.worker_dir) as root:
            barrier(strategy)
            run_training_command(commands, config, root, replicates, strategy, quiet=True)
    except (tf.errors.UnavailableError, tf.errors.CancelledError) as error:
        # A collective lost its peer: another worker stopped (its own output says why).
        raise LotteryError(
            "Another worker of the cluster stopped, so this one cannot go on; its output says "
            "why. Fix that and start every worker again: finished levels are kept.") from error


def loaded_config():
    """The --config flag's config.

    Raises:
      LotteryError: no --config, or its file is missing (the flag defers that error).
    """
    config = FLAGS.config
    if config is None:
        raise LotteryError("--config is required, e.g. --config=configs/lenet_mnist.py.")
    path = config_flags.get_config_filename(FLAGS["config"]).split(":", 1)[0]
    try:
        config.get("seed")
    except OSError as error:
        raise config_file_problem(path, error) from None
    return config


HELP_FLAGS = ("-h", "-?", "--help", "--helpshort", "--helpfull", "--helpxml")


def _config_argument(args: list[str]) -> str:
    """The config file named by `--config=PATH` or `--config PATH` (without a `:argument`)."""
    for index, arg in enumerate(args):
        if arg.startswith("--config="):
            return arg.split("=", 1)[1].split(":", 1)[0]
        if arg == "--config" and index + 1 < len(args):
            return args[index + 1].split(":", 1)[0]
    return "given with --config"


def parse_flags(argv: list[str]) -> list[str]:
    """absl's flag parsing, except that asking for help exits 0 and a config
    file that does not parse is one message naming it."""
    try:
        return app.parse_flags_with_usage(argv)
    except SystemExit:
        wanted = argv[1:argv.index("--")] if "--" in argv else argv[1:]
        if any(arg in HELP_FLAGS for arg in wanted):  # absl exits 1 after printing help
            raise SystemExit(0) from None
        raise
    except Exception as error:  # only the config file runs user code while flags parse
        path = _config_argument(argv[1:])
        print(f"error: {config_file_problem(path, error)}", file=sys.stderr)
        raise SystemExit(1) from None


def run_training_command(commands, config, root, replicates, strategy, quiet) -> None:
    """`train`, `lottery` or `branch` under `strategy`, results under `root`."""
    from lottery_tf.experiments.branches.runner import collect_branches, run_branch, trunk_results
    from lottery_tf.experiments.lottery import run_lottery
    from lottery_tf.experiments.setup import prepare
    from lottery_tf.report.console import branch_table, combined_table

    if commands[0] != "branch":
        run_lottery(config, root, replicates, strategy, quiet=quiet)
        return
    name = commands[1]
    record = branch_registry.get(name)
    if not FLAGS.levels:
        raise LotteryError("branch needs --levels, e.g. --levels=1-7.")
    levels = parse_levels(FLAGS.levels, config.levels)
    args = {argument.name: FLAGS[argument.flag].value for argument in record.arguments
            if argument.flag and FLAGS[argument.flag].value is not None}
    setup = prepare(config, root, strategy, quiet)
    for replicate in replicates:
        runs = [run_branch(setup, name, replicate, level, args) for level in levels]
        own_table = branch_table(record.shown_as, runs)  # e.g. a rewind sweep's steps
        if own_table is not None:
            print(f"replicate {replicate} {name.replace('_', ' ')}:\n{own_table}")
        print(f"replicate {replicate}: ticket and every control (test accuracy at early stop, "
              "early-stop step)")
        print(combined_table(trunk_results(setup, replicate), collect_branches(setup, replicate)))


def run_results_command(command: str) -> None:
    """`report` and `export`: read stored results under --root, never train."""
    if command == "report":
        from lottery_tf.report.build import build_report

        levels = parse_levels(FLAGS.levels) if FLAGS.levels else None
        build_report(FLAGS.root, FLAGS.experiment, FLAGS.out, curve_levels=levels)
        return
    from lottery_tf.export import export_command

    export_command(FLAGS.root, FLAGS.experiment, FLAGS.level, FLAGS.replicate, FLAGS.tflite, FLAGS.weights)
    if FLAGS.compact:
        from lottery_tf.export.compact import export_compact, format_compact

        print(format_compact(export_compact(FLAGS.root, FLAGS.experiment, FLAGS.level, FLAGS.replicate,
                                            weights=FLAGS.weights, tflite=FLAGS.tflite)))


def main(argv: list[str]) -> None:
    logging.set_verbosity(logging.WARNING)
    startup.import_tensorflow()  # before any module imports it, so its load-time notices are dropped
    try:
        run(argv)
    except LotteryError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    app.run(main, flags_parser=parse_flags)
