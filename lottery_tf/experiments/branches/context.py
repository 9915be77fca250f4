"""What a branch function gets: `BranchContext`, and the helpers several branches share."""
import dataclasses
import os

from lottery_tf.errors import ConfigError
from lottery_tf.experiments.lottery import load_rewind_weights, prior_cost, replicate_seed
from lottery_tf.experiments.masked_run import RunPlan, run_or_load
from lottery_tf.experiments.setup import Setup
from lottery_tf.pruning import masks as mask_lib
from lottery_tf.storage import cumulative_cost, store
from lottery_tf.storage.paths import RunFiles, tensorboard_run_name
from lottery_tf.training.steps import parse_steps

# What a branch of several runs keeps of each run in its own summary.
HEADLINE_KEYS = ("test_accuracy", "early_stop_step", "early_stop_test_accuracy", "start_step")


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
    # What produced the masks this branch trains (`training.cumulative_cost`); its record's.
    mask_from: str = cumulative_cost.TRUNK

    @property
    def trunk_mask(self) -> dict:
        """This trunk level's mask (layer name -> 0/1 array)."""
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
            label: str = "", extra: dict | None = None, training_setup: Setup | None = None,
            mask_from: str | None = None) -> dict:
        """Trains (or reads back) one masked run belonging to this branch.

        Args:
          masks: layer name -> 0/1 mask of the run.
          start_weights: every weight by name (pruned ones are zeroed on load).
          start_step: the step it starts at (default: where this level's ticket starts).
          end_step: the step it stops at (default: the config's training length).
          files: its folder (default: the branch's own folder).
          seed: its data-order seed (default: the branch's seed).
          label: names a run of a branch of several runs (console, TensorBoard).
          extra: more entries for its metrics.json.
          training_setup: trains with another config's data and settings (ticket
            transfer); the files stay in this experiment.
          mask_from: what produced `masks`, for its cumulative cost (default: the
            branch's `mask_from`).

        Returns:
          The run's metrics.
        """
        setup = self.setup
        mask_from = mask_from or self.mask_from
        start_step = self.start_step if start_step is None else start_step
        # Named by the branch folder's hash, so two argument sets never share curves.
        logdir = setup.paths.tensorboard_run(self.replicate, self.level,
                                             tensorboard_run_name(os.path.basename(self.files.dir)))
        plan = RunPlan(
            files=files or self.files, masks=masks, start_weights=start_weights,
            start_step=start_step,
            seed=self.seed if seed is None else seed,
            label=f"rep {self.replicate} level {self.level} {self.name} {label}".rstrip(),
            tensorboard_dir=os.path.join(logdir, label) if label else logdir,
            tensorboard_group="control",
            extra_metrics={"level": self.level, "replicate": self.replicate, "branch": self.name,
                           "branch_folder": os.path.basename(self.files.dir),
                           "branch_args": self.args, "mask_from": mask_from, **(extra or {})},
            end_step=end_step,
            prior_cost=prior_cost(setup, self.replicate, self.level, mask_from, start_step))
        return run_or_load(training_setup or setup, plan)

    def summary(self, masks: dict, **entries) -> dict:
        """The metrics of a branch of several runs: what names it, its sparsity, then `entries`."""
        return {"branch": self.name, "level": self.level, "replicate": self.replicate,
                "branch_folder": os.path.basename(self.files.dir), "branch_args": self.args,
                "percent_remaining": mask_lib.percent_remaining(masks), **entries}


def headline(metrics: dict) -> dict:
    """The numbers of one run that a branch of several runs keeps in its summary."""
    return {key: metrics[key] for key in HEADLINE_KEYS}


def dense_weights_at(ctx: BranchContext, text: str) -> tuple[int, dict]:
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
            label=f"replay_{point}", mask_from=cumulative_cost.NONE)
    return point, store.load_arrays(files.weights_end)
