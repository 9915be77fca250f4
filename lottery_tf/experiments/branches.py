"""Controls and analyses that branch off a finished trunk level.

Each branch keeps this level's sparsity and changes one thing:

- `reinit`: the level's mask on a fresh random initialization (new recorded seed).
- `reinit_sign`: the mask, fresh magnitudes, the ticket's signs (Zhou et al. 2019).
- `random_prune`: a random mask with the level's per-layer counts (layer-wise
  trunk) or total count (global trunk), from the trunk's rewind point.
- `shuffle_mask`: each layer's mask permuted in place, from the rewind point.
- `one_shot`: the dense trained network pruned straight to this sparsity, rewound.
- `rewind_sweep`: the ticket retrained from several rewind points.
- `lmc`: two copies of the ticket trained on different data orders, and the test
  error along the straight line between them (instability, Frankle et al. 2020).
- `prune_at_init`: masks scored before training (SNIP, GraSP, SynFlow,
  magnitude or random; `method`, `scope`, `examples` scored for SNIP/GraSP)
  at this sparsity, trained from the initialization.
- `init_eval`: the masked network evaluated before any training.
- `retrain`: the ticket trained under another config (ticket transfer).

A branch lives in `level_<L>/branch_<name>_<hash>/`, the hash taken over its
name, seed and arguments, with the same files and metrics as a trunk level.
Each branch's seed offset, arguments and flags are its record in
`branch_registry.py`; this module holds the functions and runs them.
"""
import dataclasses
import os

import numpy as np
import tf_keras as keras

from lottery_tf.analysis import lmc as lmc_lib
from lottery_tf.data.registry import spec_of
from lottery_tf.errors import ConfigError, StoreError
from lottery_tf.experiments import branch_registry
from lottery_tf.experiments.config import config_hash
from lottery_tf.experiments.lottery import load_rewind_weights, replicate_seed
from lottery_tf.experiments.masked_run import RunPlan, build_wrapped, fresh_weights, run_or_load
from lottery_tf.experiments.model import build_experiment_model
from lottery_tf.experiments.setup import Setup, granularity_of, prepare
from lottery_tf.experiments.summary import log_level_to_tensorboard, write_replicate_summary
from lottery_tf.pruning import at_init, random_masks, tfmot_adapter
from lottery_tf.pruning import granularity as granularity_lib
from lottery_tf.pruning import masks as mask_lib
from lottery_tf.results.runs import branch_runs, trunk_runs
from lottery_tf.storage import files as storage_files
from lottery_tf.storage import store
from lottery_tf.storage.paths import RunFiles, tensorboard_run_name
from lottery_tf.training.evaluation import Evaluator
from lottery_tf.training.steps import parse_steps


@dataclasses.dataclass
class BranchContext:
    """What a branch function needs: where it is, its seed, and the trunk it leaves."""

    setup: Setup
    name: str
    replicate: int
    level: int
    seed: int
    args: dict
    files: RunFiles

    @property
    def trunk_mask(self) -> dict:
        return store.load_arrays(self.setup.paths.mask(self.replicate, self.level))

    @property
    def start_step(self) -> int:
        """Where the ticket of this level starts training: 0 at level 0, else the rewind step."""
        return 0 if self.level == 0 else self.setup.rewind_step

    def unmasked_start_weights(self) -> dict:
        """The weights the ticket was rewound to, before masking."""
        if self.level == 0:
            return store.load_arrays(self.setup.paths.weights_start(self.replicate, 0))
        return load_rewind_weights(self.setup, self.replicate)

    def run(self, masks: dict, start_weights: dict, start_step: int | None = None,
            end_step: int | None = None, files: RunFiles | None = None, seed: int | None = None,
            label: str = "", extra: dict | None = None, training_setup: Setup | None = None) -> dict:
        """Trains (or reads back) one masked run belonging to this branch.

        `training_setup` trains with another config's data and settings (ticket
        transfer); the files stay in this experiment.
        """
        setup = self.setup
        # Named by the branch folder's hash, so two argument sets never share curves.
        logdir = setup.paths.tensorboard_run(self.replicate, self.level,
                                             tensorboard_run_name(os.path.basename(self.files.dir)))
        plan = RunPlan(
            files=files or self.files, masks=masks, start_weights=start_weights,
            start_step=self.start_step if start_step is None else start_step,
            seed=self.seed if seed is None else seed,
            label=f"rep {self.replicate} level {self.level} {self.name} {label}".rstrip(),
            tensorboard_dir=os.path.join(logdir, label) if label else logdir,
            tensorboard_group="control",
            extra_metrics={"level": self.level, "replicate": self.replicate, "branch": self.name,
                           "branch_folder": os.path.basename(self.files.dir),
                           "branch_args": self.args, **(extra or {})},
            end_step=end_step)
        return run_or_load(training_setup or setup, plan)


def _kernel_names(setup: Setup, masks: dict) -> list[str]:
    return [setup.weight_keys[layer] for layer in masks]


def reinit(ctx: BranchContext) -> dict:
    return ctx.run(ctx.trunk_mask, fresh_weights(ctx.setup, ctx.seed))


def reinit_sign(ctx: BranchContext) -> dict:
    ticket = ctx.unmasked_start_weights()
    fresh = fresh_weights(ctx.setup, ctx.seed)
    weights = dict(ticket)
    for name in _kernel_names(ctx.setup, ctx.trunk_mask):
        # Zero-valued ticket weights (none in practice) would lose their sign; keep them positive.
        weights[name] = np.abs(fresh[name]) * np.where(ticket[name] < 0, -1.0, 1.0).astype(np.float32)
    return ctx.run(ctx.trunk_mask, weights)


def random_prune(ctx: BranchContext) -> dict:
    setup = ctx.setup
    rng = np.random.default_rng(ctx.seed + ctx.level)
    masks = random_masks.random_like(ctx.trunk_mask, setup.config.pruning.strategy, rng,
                                     granularity=granularity_of(setup.config),
                                     rates=setup.layer_rates, chain=setup.chain)
    return ctx.run(masks, ctx.unmasked_start_weights())


def shuffle_mask(ctx: BranchContext) -> dict:
    """Each layer's mask permuted in place (unit: its units; n:m: inside each group of m)."""
    rng = np.random.default_rng(ctx.seed + ctx.level)
    masks = granularity_lib.shuffle(ctx.trunk_mask, granularity_of(ctx.setup.config), rng,
                                    ctx.setup.chain)
    return ctx.run(masks, ctx.unmasked_start_weights())


def one_shot(ctx: BranchContext) -> dict:
    setup = ctx.setup
    dense_end = setup.paths.weights_end(ctx.replicate, 0)
    if not storage_files.exists(dense_end):
        raise StoreError(f"one_shot needs the trained dense network {dense_end}; run the lottery "
                         "command first.")
    trained = store.load_arrays(dense_end)
    target = ctx.trunk_mask
    masks = mask_lib.prune_to_match(setup.config.pruning.strategy,
                                    {layer: trained[setup.weight_keys[layer]] for layer in target},
                                    target, setup.layer_rates,
                                    granularity=granularity_of(setup.config), chain=setup.chain)
    return ctx.run(masks, ctx.unmasked_start_weights())


def init_eval(ctx: BranchContext) -> dict:
    return ctx.run(ctx.trunk_mask, ctx.unmasked_start_weights(), end_step=ctx.start_step)


def _dense_weights_at(ctx: BranchContext, text: str) -> tuple[int, dict]:
    """(step, weights) of the dense level-0 run at the rewind point `text` (e.g. `500it`).

    The weights are recovered by replaying level 0 (same initialization, same
    data order) up to that step in a `replay_<step>` folder of the branch,
    which with op determinism reproduces the trunk's level 0 exactly.

    Raises:
      ConfigError: the point is not a duration, or at or past the end of training.
    """
    setup = ctx.setup
    point = parse_steps(text.strip(), setup.steps_per_epoch)
    if point >= setup.train_steps:
        raise ConfigError(f"Rewind point {text!r} is at or past the end of training "
                          f"(step {setup.train_steps}); choose an earlier one.")
    files = RunFiles(os.path.join(ctx.files.dir, f"replay_{point}"))
    ctx.run(mask_lib.ones_like(ctx.trunk_mask),
            store.load_arrays(setup.paths.weights_start(ctx.replicate, 0)), start_step=0,
            end_step=point, seed=replicate_seed(setup.config, ctx.replicate), files=files,
            label=f"replay_{point}")
    return point, store.load_arrays(files.weights_end)


def rewind_sweep(ctx: BranchContext) -> dict:
    """Retrains this level's mask from the dense run's weights at each rewind point."""
    results = {}
    for text in ctx.args["points"].split(","):
        point, rewound = _dense_weights_at(ctx, text)
        results[str(point)] = ctx.run(ctx.trunk_mask, rewound, start_step=point,
                                      files=RunFiles(os.path.join(ctx.files.dir, f"rewind_{point}")),
                                      label=f"rewind_{point}", extra={"rewind_step": point})
    return {"branch": ctx.name, "level": ctx.level, "replicate": ctx.replicate,
            "branch_folder": os.path.basename(ctx.files.dir), "branch_args": ctx.args,
            "percent_remaining": mask_lib.percent_remaining(ctx.trunk_mask),
            "by_rewind_step": {step: _headline(m) for step, m in results.items()}}


def lmc(ctx: BranchContext) -> dict:
    """Instability: two copies from the ticket's start, different data orders, then the
    test error at evenly spaced points on the line between the trained copies.

    With a `start` argument (`500it`), both copies start from the dense run's
    weights at that step instead (this level's mask applied), so lmc runs with
    several starts give instability against the rewind point.
    """
    setup = ctx.setup
    masks = ctx.trunk_mask
    if "start" in ctx.args:
        start_step, start = _dense_weights_at(ctx, ctx.args["start"])
    else:
        start_step, start = ctx.start_step, ctx.unmasked_start_weights()
    copies, trained = [], []
    for index in (1, 2):
        files = RunFiles(os.path.join(ctx.files.dir, f"copy_{index}"))
        copies.append(ctx.run(masks, start, start_step=start_step, seed=ctx.seed + index, files=files,
                              label=f"copy_{index}"))
        trained.append(store.load_arrays(files.weights_end))
    keras.backend.clear_session()
    with setup.strategy.scope():
        model = build_wrapped(setup, ctx.seed)
        tfmot_adapter.set_masks(model, masks)
    evaluator = Evaluator(model, setup.strategy, setup.splits, setup.config.runtime.eval_batch_size)

    def test_error(weights):
        tfmot_adapter.set_weights(model, weights)
        return 1.0 - evaluator.evaluate("test")[1]

    curve = lmc_lib.error_curve(trained[0], trained[1], test_error, int(ctx.args["points"]))
    return {"branch": ctx.name, "level": ctx.level, "replicate": ctx.replicate,
            "branch_folder": os.path.basename(ctx.files.dir), "branch_args": ctx.args,
            "percent_remaining": mask_lib.percent_remaining(masks), "start_step": start_step,
            "copies": [_headline(m) for m in copies], **lmc_lib.lmc_summary(curve)}


def prune_at_init(ctx: BranchContext) -> dict:
    """Masks scored on the dense initialization at this level's sparsity, trained from init.

    Layer-wise scope keeps each layer's count of the trunk mask; global scope keeps
    the trunk's total over the layers it prunes (layers it never prunes stay dense).
    """
    setup, config = ctx.setup, ctx.setup.config
    method = ctx.args["method"]
    scope = ctx.args.get("scope") or config.pruning.strategy
    if scope not in at_init.SCOPES:
        raise ConfigError(f"--scope must be one of {list(at_init.SCOPES)}, got {scope!r}.")
    trunk = ctx.trunk_mask
    init = store.load_arrays(setup.paths.weights_start(ctx.replicate, 0))
    spec = spec_of(config.dataset)
    keras.backend.clear_session()
    model = build_experiment_model(config, ctx.seed)
    tfmot_adapter.set_weights(model, init)
    count = int(ctx.args["examples"])
    images, labels = setup.splits.first_train_examples(count)
    rng = np.random.default_rng(ctx.seed + ctx.level)

    def score(layers, fraction, scope_):
        return at_init.score_masks(method, model, layers, images, labels, spec.image_shape, fraction,
                                   scope_, rng, batch_size=config.runtime.eval_batch_size)

    granularity = granularity_of(config)
    if granularity != "weight":
        # Structured tickets: the method's one-shot scores (SynFlow: one round) ranked at
        # the trunk's granularity, with its counts (see masks.match_by_scores).
        scores = at_init.method_scores(method, model, list(trunk), images, labels, spec.image_shape,
                                       rng, batch_size=config.runtime.eval_batch_size)
        masks = mask_lib.match_by_scores(scope, scores, trunk, setup.layer_rates,
                                         granularity=granularity, chain=setup.chain, ties="earlier")
        return ctx.run(masks, init, start_step=0, extra={"method": method, "scope": scope})
    masks = mask_lib.ones_like(trunk)
    if scope == "layerwise":
        for layer, mask in trunk.items():
            masks.update(score([layer], float(mask.sum()) / mask.size, "layerwise"))
    else:
        pruned = [layer for layer, mask in trunk.items() if mask.sum() < mask.size]
        if pruned:
            kept = sum(float(trunk[layer].sum()) for layer in pruned)
            masks.update(score(pruned, kept / sum(trunk[layer].size for layer in pruned), "global"))
    return ctx.run(masks, init, start_step=0, extra={"method": method, "scope": scope})


def retrain(ctx: BranchContext) -> dict:
    """Ticket transfer (Morcos et al. 2019): this level's ticket trained under another config.

    The target config (`--retrain_config`, e.g. another dataset or optimizer) must
    build the same architecture; an output layer of a different size is rebuilt
    from the target's seeded initialization and left unpruned. Training follows
    the target's schedule from step 0.
    """
    from lottery_tf.experiments.config_files import load_config_file

    if "config" not in ctx.args:
        raise ConfigError("retrain needs the target config: --retrain_config=configs/<file>.py.")
    target_config = load_config_file(ctx.args["config"])
    target = prepare(target_config, ctx.setup.paths.root, ctx.setup.strategy, ctx.setup.quiet,
                     claim=False)
    if target.layer_kinds != ctx.setup.layer_kinds:
        raise ConfigError(f"retrain needs the same architecture: the ticket has layers "
                          f"{list(ctx.setup.layer_kinds)}, {ctx.args['config']} builds "
                          f"{list(target.layer_kinds)}.")
    ticket = ctx.unmasked_start_weights()
    weights = fresh_weights(target, ctx.seed)
    masks = dict(ctx.trunk_mask)
    rebuilt = []
    for name, value in weights.items():
        if name in ticket and ticket[name].shape == value.shape:
            weights[name] = ticket[name]
        else:
            rebuilt.append(name)
    for layer in masks:
        if target.weight_keys[layer] in rebuilt:
            masks[layer] = np.ones_like(weights[target.weight_keys[layer]], dtype=np.float32)
    return ctx.run(masks, weights, start_step=0, training_setup=target,
                   extra={"target_config_hash": config_hash(target_config),
                          "target_dataset": target_config.dataset.name, "rebuilt_weights": rebuilt})


def _headline(metrics: dict) -> dict:
    keys = ("test_accuracy", "early_stop_step", "early_stop_test_accuracy", "start_step")
    return {key: metrics[key] for key in keys}


def run_branch(setup: Setup, name: str, replicate: int, level: int, args: dict | None = None) -> dict:
    """Runs (or resumes, or reads back) one branch off one finished trunk level.

    Args:
      setup: the experiment's `Setup`.
      name: a branch of `branch_registry.BRANCHES`.
      replicate, level: the trunk level to branch off.
      args: the branch's arguments; the record's defaults fill in the rest.

    Returns:
      The branch's metrics (also stored in its folder's metrics.json).

    Raises:
      ConfigError: unknown branch or arguments.
      StoreError: the trunk level is not finished yet.
    """
    record = branch_registry.get(name)
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
    ctx = BranchContext(setup, name, replicate, level, seed, args, files)
    metrics = record.resolve()(ctx)
    if not storage_files.exists(files.metrics):  # several runs: their summary goes here
        store.write_json(files.metrics, metrics)
    if not record.several_runs:  # one run: summarized like the trunk
        log_level_to_tensorboard(paths, replicate, metrics, branch_folder=folder,
                                 arguments=branch_registry.describe_args(name, args))
        write_replicate_summary(paths, replicate, collect_branches(setup, replicate, folder)[folder],
                                run=folder)
    return metrics


def trunk_results(setup: Setup, replicate: int) -> list[dict]:
    """Metrics of the replicate's finished trunk levels, in order."""
    return list(trunk_runs(setup.paths, replicate, setup.config.levels).values())


def collect_branches(setup: Setup, replicate: int, only: str | None = None) -> dict[str, list[dict]]:
    """Every finished branch of a replicate, by label (the branch name, plus its
    arguments when one name was run with several); with `only`, that
    branch folder's runs keyed by the folder name."""
    found = branch_runs(setup.paths, replicate, setup.config.levels)
    if only is not None:
        return {only: found.get(only, [])}
    by_name: dict[str, list[str]] = {}
    for folder, runs in found.items():
        by_name.setdefault(runs[0]["branch"], []).append(folder)
    labels = {}
    for name, folders in by_name.items():
        for folder in folders:
            args = branch_registry.applicable_args(name, found[folder][0].get("branch_args") or {})
            tag = ",".join(str(value) for value in args.values()) or folder[-10:-6]
            label = name if len(folders) == 1 else f"{name}[{tag}]"
            if label in labels:  # runs that differ only in arguments that do not apply
                label = f"{name}[{tag},{folder[-10:]}]"
            labels[label] = found[folder]
    return labels


def sweep_table(runs: list[dict]) -> str:
    """rewind_sweep results: one row per level and rewind step (accuracies in percent)."""
    lines = [f"{'level':>5} {'% left':>7} {'rewind':>7} {'acc@es %':>8} {'es step':>8} {'final acc %':>11}"]
    for run in runs:
        for step, m in sorted(run["by_rewind_step"].items(), key=lambda item: int(item[0])):
            lines.append(f"{run['level']:>5} {run['percent_remaining']:>7.1f} {step:>7} "
                         f"{100 * m['early_stop_test_accuracy']:>8.2f} {m['early_stop_step']:>8} "
                         f"{100 * m['test_accuracy']:>11.2f}")
    return "\n".join(lines)


def combined_table(trunk: list[dict], branches: dict[str, list[dict]]) -> str:
    """Trunk and single-run branches side by side by level.

    For each run: test accuracy at the early-stop step (minimum validation
    loss) in percent, as the report gives it, and that step, as Frankle & Carbin plot them.
    """
    names = sorted(name for name, runs in branches.items()
                   if any("early_stop_test_accuracy" in run for run in runs))
    header = f"{'level':>5} {'% left':>7} {'ticket acc %':>12} {'ticket es':>9}"
    for name in names:
        header += f" {name + ' acc %':>18} {name + ' es':>16}"
    lines = [header]
    by_level = {name: {m["level"]: m for m in runs} for name, runs in branches.items()}
    for metrics in trunk:
        line = (f"{metrics['level']:>5} {metrics['percent_remaining']:>7.1f} "
                f"{100 * metrics['early_stop_test_accuracy']:>12.2f} {metrics['early_stop_step']:>9}")
        for name in names:
            other = by_level[name].get(metrics["level"])
            line += (f" {100 * other['early_stop_test_accuracy']:>18.2f} {other['early_stop_step']:>16}"
                     if other and "early_stop_test_accuracy" in other else f" {'-':>18} {'-':>16}")
        lines.append(line)
    return "\n".join(lines)
