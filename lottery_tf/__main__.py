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
- `describe [--timed_steps=N]`: the config's pruned and dense weights, its first levels'
  percent remaining and a time estimate per level from N timed steps; writes nothing.

Every config field can be overridden, e.g. `--config.pruning.rate=0.2 --config.levels=20`.
"""
import io
import sys

from absl import app, flags, logging
from ml_collections import config_flags

from lottery_tf import startup
from lottery_tf.config.checks import check_ranges
from lottery_tf.config.files import config_file_problem
from lottery_tf.config.overrides import check_override_names, flag_error_message
from lottery_tf.config.ranges import expand_ranges, parse_levels
from lottery_tf.errors import LotteryError
from lottery_tf.experiments.branches import registry as branch_registry
from lottery_tf.experiments.config import describe_fields
from lottery_tf.sweeps import command as sweep_command  # defines the sweep and status flags
from lottery_tf.training import position
from lottery_tf.training.interrupts import DeferredInterrupt

__doc__ += "\nConfig fields:\n" + describe_fields() + "\n"
__doc__ += "\nBranches: " + ", ".join(branch_registry.BRANCHES) + "\n"

COMMANDS = ("train", "lottery", "branch", "report", "export", *sweep_command.COMMANDS, "describe")
TRAINING_COMMANDS = ("train", "lottery", "branch")
# The commands that take --config (checked before TensorFlow loads).
CONFIG_COMMANDS = (*TRAINING_COMMANDS, "describe")
# The exit status of a process stopped by Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED_EXIT_CODE = 130

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
# absl's --help lists the main module's flags only; the sweep and status flags are the
# command line's own too (--helpfull adds absl's and TensorFlow's).
flags.adopt_module_key_flags(sweep_command)

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
flags.DEFINE_integer("timed_steps", 10, "describe: training steps timed (after 3 warm-up steps) "
                     "for the time estimate; 0 skips the timing.", lower_bound=0)
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


def parse_command(argv: list[str]) -> list[str]:
    """The command and its argument (a branch's name) from absl's leftover argv.

    Raises:
      LotteryError: not exactly one known command.
    """
    commands = argv[1:]
    if not commands or commands[0] not in COMMANDS or len(commands) != 1 + (commands[0] == "branch"):
        raise LotteryError(f"Name one command: {' | '.join(COMMANDS[:2])} | branch <name> | "
                           f"{' | '.join(COMMANDS[3:])} (got {commands or 'none'}).")
    return commands


def checked_config(command: str):
    """The --config flag's config for a training command, its values checked.

    Loads no TensorFlow, so a bad value is reported before it loads (seconds).

    Raises:
      LotteryError: no or a missing config file, or a value out of range.
    """
    config = loaded_config()
    if command == "train":
        with config.unlocked():
            config.levels = 0
    check_ranges(config)
    return config


def run(commands: list[str], config) -> None:
    """Runs the parsed command (`config`: `checked_config`'s, for the training commands)."""
    if commands[0] in sweep_command.COMMANDS:
        sweep_command.run(commands[0], FLAGS)
        return
    if commands[0] in ("report", "export"):
        run_results_command(commands[0])
        return
    import tensorflow as tf

    from lottery_tf.experiments.config import experiment_name
    from lottery_tf.storage.worker_root import private_root
    from lottery_tf.training.strategies import RuntimeSpec, barrier, is_chief, make_strategy

    tf.config.experimental.enable_op_determinism()
    replicates = parse_replicates(FLAGS.replicates, FLAGS.replicate)
    strategy = make_strategy(RuntimeSpec.from_config(config.runtime))
    if commands[0] == "describe":
        from lottery_tf.describe import describe, format_description

        print(format_description(describe(config, FLAGS.root, strategy, FLAGS.timed_steps)))
        return
    try:
        if is_chief(strategy):
            barrier(strategy)  # write nothing before every other worker has copied the stored state
            run_training_command(commands, config, FLAGS.root, replicates, strategy, FLAGS.quiet)
            return
        with private_root(FLAGS.root, experiment_name(config), FLAGS.worker_dir) as root:
            barrier(strategy)
            # Silent: the chief prints the tables of the same results.
            run_training_command(commands, config, root, replicates, strategy, quiet=True,
                                 stream=io.StringIO())
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
    """absl's flag parsing, except that asking for help exits 0 and every error is
    one line: an unknown config field (with the nearest known one), a value of
    the wrong type, or a config file that does not load (naming it)."""
    try:
        check_override_names(argv[1:])
        with startup.filtered_stderr():  # a config file may import TensorFlow (lottery_tf.testing)
            args = FLAGS(argv)
        if "tensorflow" in sys.modules:  # then find its devices now, their notices dropped too
            startup.import_tensorflow()
        return args
    except SystemExit:
        wanted = argv[1:argv.index("--")] if "--" in argv else argv[1:]
        if any(arg in HELP_FLAGS for arg in wanted):  # absl exits 1 after printing help
            raise SystemExit(0) from None
        raise
    except LotteryError as error:
        message = str(error)
    except flags.Error as error:
        message = flag_error_message(error, FLAGS)
        if message.startswith("--config="):  # the config file's own error, wrapped by absl
            message = str(config_file_problem(_config_argument(argv[1:]), error))
    except Exception as error:  # only the config file runs user code while flags parse
        message = str(config_file_problem(_config_argument(argv[1:]), error))
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(1)


def run_training_command(commands, config, root, replicates, strategy, quiet, stream=None) -> None:
    """`train`, `lottery` or `branch` under `strategy`, results under `root`; tables to `stream`
    (None: standard output)."""
    from lottery_tf.experiments.branches.runner import run_branch_command
    from lottery_tf.experiments.lottery import run_lottery
    from lottery_tf.experiments.setup import prepare

    if commands[0] != "branch":
        run_lottery(config, root, replicates, strategy, quiet=quiet, stream=stream)
        return
    name = commands[1]
    record = branch_registry.get(name)
    if not FLAGS.levels:
        raise LotteryError("branch needs --levels, e.g. --levels=1-7.")
    levels = parse_levels(FLAGS.levels, config.levels)
    args = {argument.name: FLAGS[argument.flag].value for argument in record.arguments
            if argument.flag and FLAGS[argument.flag].value is not None}
    setup = prepare(config, root, strategy, quiet)
    run_branch_command(setup, name, replicates, levels, args, stream=stream)


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
    try:
        commands = parse_command(argv)
        # Checked before TensorFlow loads, so a bad value is reported at once.
        config = checked_config(commands[0]) if commands[0] in CONFIG_COMMANDS else None
        startup.import_tensorflow()  # before any module imports it: its load-time notices are dropped
        if commands[0] in TRAINING_COMMANDS:
            with DeferredInterrupt():  # Ctrl-C stops at the next pause, not inside TensorFlow
                run(commands, config)
        else:
            run(commands, config)
    except LotteryError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        # Ctrl-C is the user's choice, not a failure: one line, no traceback. Finished
        # levels and the last checkpoint are on disk, so the same command resumes.
        print(position.interrupted_message(), file=sys.stderr)
        sys.exit(INTERRUPTED_EXIT_CODE)


if __name__ == "__main__":
    app.run(main, flags_parser=parse_flags)
