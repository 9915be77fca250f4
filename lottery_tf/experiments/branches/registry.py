"""Every branch as one record: its function, seed offset, arguments, flags and how it is shown.

The command line defines a flag for each argument that has one, sweep files
check their branches' arguments against the same records, `run_branch` takes a
branch's function, seed offset and defaults from here, and the command line's
tables follow the record's `shown_as`. Functions are named by import path
(`module:function`) and imported only when a branch runs, so reading the records
(to define flags or check a sweep file) loads no TensorFlow.

A branch's folder is named by a hash of its name, seed and arguments (defaults
included), so a record's seed offset and defaults must never change once
results are stored under them.
"""
import dataclasses
import importlib
from collections.abc import Callable

from lottery_tf.errors import ConfigError
from lottery_tf.pruning.masks import STRATEGIES
from lottery_tf.pruning.scorers import registry as scorer_registry
from lottery_tf.report.aggregate import ONE_TRAINING, PER_REWIND_STEP, SHOWN_AS_KEYS, TRAINING_PATH
from lottery_tf.storage import cumulative_cost
from lottery_tf.storage.paths import branch_folder

_PACKAGE = "lottery_tf.experiments.branches"


@dataclasses.dataclass(frozen=True)
class BranchArgument:
    """One argument of a branch.

    Attributes:
      name: its key in the branch's arguments (and in its folder hash).
      help: what it means, for the flag's help and error messages.
      flag: the command-line flag that sets it; None when only sweep files and
        Python callers can set it.
      value_type: `str` or `int`, the flag's type.
      default: the value when none is given (hashed into the folder); None for none.
      applies_when: (other argument, its values) that this argument means something
        for; elsewhere it is left out of labels and TensorBoard's arguments.
      identity: turns a value into what names the folder (e.g. a config file's
        path into its config hash); None keeps the value.
    """

    name: str
    help: str
    flag: str | None = None
    value_type: type = str
    default: object = None
    applies_when: tuple[str, tuple] | None = None
    identity: Callable[[object], object] | None = None


@dataclasses.dataclass(frozen=True)
class Branch:
    """A control or analysis that branches off a finished trunk level.

    Attributes:
      name: the branch's name (`branch <name>`, sweep files, folder names).
      function: `module:function` (or the function itself) taking a `BranchContext`
        and returning the branch's metrics.
      seed_offset: added to the replicate's seed, keeping branch seeds apart
        from replicate seeds (0: the replicate's own seed).
      arguments: the arguments it takes, in the order labels show them.
      shown_as: how its runs are summarized and shown (`report.aggregate`):
        `ONE_TRAINING`, one training run per level like a trunk level (its own
        summary CSV, TensorBoard HParams, a column of the ticket-vs-controls
        table); `PER_REWIND_STEP`, one training per rewind point
        (`by_rewind_step`, run kinds `name@step`, the sweep table);
        `TRAINING_PATH`, an interpolation path between two trainings (like `lmc`).
      mask_from: what produced the mask it trains, for its runs' cumulative cost
        (`training.cumulative_cost`): `trunk` (this level's mask or one made from
        it), `dense` (pruned from the trained dense network) or `none` (random or
        scored before training).
    """

    name: str
    function: str | Callable
    seed_offset: int = 0
    arguments: tuple[BranchArgument, ...] = ()
    shown_as: str = ONE_TRAINING
    mask_from: str = cumulative_cost.TRUNK

    def __post_init__(self):
        if self.shown_as not in (ONE_TRAINING, *SHOWN_AS_KEYS):
            raise ConfigError(f"Branch {self.name!r}: shown_as must be one of "
                              f"{[ONE_TRAINING, *SHOWN_AS_KEYS]}, got {self.shown_as!r}.")
        if self.mask_from not in cumulative_cost.MASK_SOURCES:
            raise ConfigError(f"Branch {self.name!r}: mask_from must be one of "
                              f"{list(cumulative_cost.MASK_SOURCES)}, got {self.mask_from!r}.")

    @property
    def several_runs(self) -> bool:
        """True for a branch that trains several runs and writes a summary of its own."""
        return self.shown_as != ONE_TRAINING

    def resolve(self) -> Callable:
        """The branch's function (imported on first use)."""
        if callable(self.function):
            return self.function
        module, _, attribute = self.function.partition(":")
        if module == _PACKAGE and attribute in _BUILT_IN:
            # Written when every built-in branch lived in one module (`branches:init_eval`).
            return _BUILT_IN[attribute].resolve()
        return getattr(importlib.import_module(module), attribute)

    def argument(self, name: str) -> BranchArgument | None:
        """The argument called `name`, or None."""
        return next((argument for argument in self.arguments if argument.name == name), None)

    @property
    def default_args(self) -> dict:
        """Argument name -> default, for the arguments that have one."""
        return {a.name: a.default for a in self.arguments if a.default is not None}

    def with_defaults(self, args: dict | None) -> dict:
        """`args` over the defaults.

        Raises:
          ConfigError: an argument this branch does not take.
        """
        args = dict(args or {})
        unknown = sorted(key for key in args if self.argument(key) is None)
        if unknown:
            known = ", ".join(a.name for a in self.arguments) or "none"
            raise ConfigError(f"Branch {self.name!r} takes no argument {', '.join(map(repr, unknown))}; "
                              f"its arguments: {known}.")
        return {**self.default_args, **args}

    def identity(self, args: dict) -> dict:
        """The arguments as they name the folder (see `BranchArgument.identity`)."""
        named = dict(args)
        for argument in self.arguments:
            if argument.identity is not None and named.get(argument.name) is not None:
                named[argument.name] = argument.identity(named[argument.name])
        return named

    def seed(self, replicate_seed: int) -> int:
        """The branch's seed in a replicate of seed `replicate_seed`."""
        return replicate_seed + self.seed_offset

    def folder(self, replicate_seed: int, args: dict) -> str:
        """The branch's folder name in a replicate: a hash of its name, seed and
        arguments (`args` with its defaults, as `with_defaults` returns them)."""
        return branch_folder(self.name, {"seed": self.seed(replicate_seed), **self.identity(args)})


def _config_file_hash(path: object) -> str:
    """A target config file named by its config's hash, not its path (ticket transfer)."""
    from lottery_tf.config.files import load_config_file
    from lottery_tf.config.hashing import config_hash

    return config_hash(load_config_file(str(path)))


def _at(name: str) -> str:
    """The import path of a built-in branch: the function `name` in `branches/<name>.py`."""
    return f"{_PACKAGE}.{name}:{name}"


BRANCHES: dict[str, Branch] = {record.name: record for record in (
    Branch("reinit", _at("reinit"), 1_000_003),
    Branch("reinit_sign", _at("reinit_sign"), 2_000_003),
    Branch("random_prune", _at("random_prune"), 3_000_017, mask_from=cumulative_cost.NONE),
    Branch("shuffle_mask", _at("shuffle_mask"), 4_000_037),
    Branch("one_shot", _at("one_shot"), mask_from=cumulative_cost.DENSE),
    Branch("full_ticket", _at("full_ticket")),
    Branch("init_eval", _at("init_eval")),
    Branch("rewind_sweep", _at("rewind_sweep"), shown_as=PER_REWIND_STEP, arguments=(
        BranchArgument("points", "rewind steps, e.g. '0it,100it,500it,2ep'.", flag="rewind_points",
                       default="0it,100it,500it,2ep"),)),
    Branch("lmc", _at("lmc"), 5_000_011, shown_as=TRAINING_PATH, arguments=(
        BranchArgument("points", "evaluation points on the interpolation path (30).", flag="lmc_points",
                       value_type=int, default=30),
        BranchArgument("start", "start both copies from the dense run at this step (e.g. '500it'; "
                       "default: where this level's ticket starts).", flag="lmc_start"))),
    Branch("prune_at_init", _at("prune_at_init"), 6_000_011, mask_from=cumulative_cost.NONE, arguments=(
        BranchArgument("method", " | ".join(scorer_registry.names()) + ".", flag="method",
                       default="snip"),
        BranchArgument("scope", f"{' | '.join(STRATEGIES)} (default: the config's strategy).", flag="scope"),
        BranchArgument("examples", "training examples SNIP and GraSP score on.", value_type=int,
                       default=1000, applies_when=("method", scorer_registry.data_driven())))),
    Branch("retrain", _at("retrain"), 7_000_003, arguments=(
        BranchArgument("config", "config file of the target training (transfer).", flag="retrain_config",
                       identity=_config_file_hash),)),
)}
_BUILT_IN = dict(BRANCHES)  # what old `lottery_tf.experiments.branches:<name>` paths meant


def get(name: str) -> Branch:
    """The record of branch `name`.

    Raises:
      ConfigError: no branch of that name (the message lists them).
    """
    if name not in BRANCHES:
        raise ConfigError(f"Unknown branch {name!r}; choose one of {sorted(BRANCHES)}.")
    return BRANCHES[name]


def register(record: Branch) -> None:
    """Adds (or replaces) a branch: `branch <name>` and sweep files can then run it.

    Define its flags before the command line parses them; arguments without
    a flag are set from sweep files or `run_branch(..., args)`.
    """
    BRANCHES[record.name] = record


def flag_arguments() -> list[tuple[Branch, BranchArgument]]:
    """(branch, argument) for every argument with a command-line flag, in registry order."""
    return [(record, argument) for record in BRANCHES.values()
            for argument in record.arguments if argument.flag]


def applicable_args(name: str, args: dict) -> dict:
    """The branch's arguments without those that do not apply to this run
    (SNIP's and GraSP's example count for other prune_at_init methods), its own
    arguments first in the record's order, then any others as given."""
    record = BRANCHES.get(name)
    declared = [a.name for a in record.arguments] if record else []
    # Stored arguments come back with sorted keys; show the defining ones first.
    ordered = sorted(args.items(), key=lambda item: declared.index(item[0])
                     if item[0] in declared else len(declared))
    shown = {}
    for key, value in ordered:
        argument = record.argument(key) if record else None
        condition = argument.applies_when if argument else None
        if value is None or (condition and args.get(condition[0]) not in condition[1]):
            continue
        shown[key] = value
    return shown


def describe_args(name: str, args: dict) -> str:
    """`key=value,...` of the arguments that apply (for TensorBoard's HParams)."""
    return ",".join(f"{key}={value}" for key, value in applicable_args(name, args).items())
