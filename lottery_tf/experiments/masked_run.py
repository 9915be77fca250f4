"""One training run of a masked network: the shared body of trunk levels and branches.

A run is described by a `RunPlan` (its mask, its starting weights and step, its
seed and where its files go). Training resumes from the run's checkpoint if one
exists, and `metrics.json`, written last, marks the run finished.
"""
import dataclasses
import sys
import time
from collections.abc import Callable

import tf_keras as keras

from lottery_tf.errors import CorruptFileError
from lottery_tf.experiments import trainer_pool
from lottery_tf.experiments.model import build_experiment_model
from lottery_tf.experiments.setup import Setup
from lottery_tf.pruning import masks as mask_lib
from lottery_tf.pruning import tfmot_adapter
from lottery_tf.storage import files as storage_files
from lottery_tf.storage import store
from lottery_tf.storage.cumulative_cost import UNKNOWN, Cost, own_cost
from lottery_tf.storage.lock import Lease, run_lock
from lottery_tf.storage.paths import RunFiles
from lottery_tf.training import position
from lottery_tf.training.callbacks import (
    ConsoleLogger,
    EarlyStopTracker,
    ProgressLine,
    RewindCapture,
    TensorBoardLogger,
)
from lottery_tf.training.checkpoints import Checkpointer, LevelCheckpoint
from lottery_tf.training.cost import training_flops
from lottery_tf.training.early_bird import STATE_NAME as EARLY_BIRD_STATE
from lottery_tf.training.early_bird import EarlyBirdStop
from lottery_tf.training.loop import LoopSpec, Trainer
from lottery_tf.training.optimizers import make_optimizer
from lottery_tf.training.precision import precision_policy


@dataclasses.dataclass(frozen=True)
class EarlyBirdPlan:
    """Early-bird for one run (`training.early_bird.EarlyBirdStop`): what to draw, how often,
    when the draws have settled, and the first step a draw may stop the run at."""

    draw: Callable[[dict], dict]  # every weight by name -> the masks the next pruning draws
    check_every: int
    threshold: float
    window: int
    not_before: int = 0


@dataclasses.dataclass
class RunPlan:
    """What one masked training run does.

    Attributes:
      files: where its mask, weights, metrics and checkpoints go.
      masks: layer name -> 0/1 mask.
      start_weights: every weight by name; pruned kernels are zeroed on load.
      start_step: global step the run starts at (schedule and data order resume there).
      seed: data-order seed.
      label: console prefix.
      tensorboard_dir: this run's TensorBoard folder.
      on_rewind_step: if set, called with the weights at the setup's rewind step.
      extra_metrics: merged into metrics.json.
      end_step: global step the run stops at (None: the config's training length;
        equal to `start_step` for an evaluation without training).
      tensorboard_group: `ticket` or `control`, the prefix of its curves' tags.
      prior_cost: what produced its mask (`training.cumulative_cost.prior_cost`), added
        to its own training for the cumulative cost in metrics.json.
      full_end_step: for a trunk level that only ranks weights (`ranking_levels`): where
        its full-length training would end. Its metrics then say whether it stopped
        sooner (`short_level`); None for runs that always train to `end_step`.
      early_bird: stop once the masks drawn from the weights settle (None: never).
    """

    files: RunFiles
    masks: dict
    start_weights: dict
    start_step: int
    seed: int
    label: str
    tensorboard_dir: str
    on_rewind_step: Callable[[dict], None] | None = None
    extra_metrics: dict = dataclasses.field(default_factory=dict)
    end_step: int | None = None
    tensorboard_group: str = "ticket"
    prior_cost: Cost = UNKNOWN
    full_end_step: int | None = None
    early_bird: EarlyBirdPlan | None = None


def build_wrapped(setup: Setup, seed: int) -> keras.Model:
    """The config's model, seeded, wrapped for pruning (call inside the strategy scope)."""
    with precision_policy(setup.config.training.get("precision")):
        return tfmot_adapter.wrap(build_experiment_model(setup.config, seed, setup.spec),
                                  setup.layer_kinds)


_last_fresh: list = []  # [(setup, seed, weights)] of the last call: every trunk level asks again


def fresh_weights(setup: Setup, seed: int) -> dict:
    """The seeded initialization of every weight (a copy the caller may change)."""
    if not (_last_fresh and _last_fresh[0][0] is setup and _last_fresh[0][1] == seed):
        keras.backend.clear_session()
        with setup.strategy.scope():
            weights = tfmot_adapter.get_weights(build_wrapped(setup, seed))
        _last_fresh[:] = [(setup, seed, weights)]
    return {name: array.copy() for name, array in _last_fresh[0][2].items()}


def train_masked_run(setup: Setup, plan: RunPlan) -> dict:
    """Trains the plan's masked network to the end; stores weights and metrics.

    Returns:
      The run's metrics (also written to `plan.files.metrics`).

    Raises:
      StoreError: another process is training the same run.
    """
    with run_lock(plan.files.dir) as lease:
        finished = finished_metrics(plan.files)  # finished by a process we waited on?
        if finished is not None:
            return finished
        store.remove_dead_temporaries(plan.files.dir)
        return _train(setup, plan, lease)


def finished_metrics(files: RunFiles) -> dict | None:
    """The run's metrics if it finished and its stored files are intact, else None.

    A finished run with a corrupt file gets that file and its metrics moved
    aside (kept), so the run counts as unfinished and is trained again; runs
    are deterministic, so the retrained files equal the lost ones.
    """
    if not storage_files.exists(files.metrics):
        return None
    try:
        metrics = store.read_json(files.metrics)
        for path in (files.mask, files.weights_end, files.weights_early_stop, files.early_bird_mask):
            if storage_files.exists(path):
                store.load_arrays(path)
        return metrics
    except CorruptFileError as error:
        store.quarantine(error.path)
        if storage_files.exists(files.metrics):
            store.quarantine(files.metrics)
        return None


def _load_run(setup: Setup, model: keras.Model, plan: RunPlan) -> None:
    """Puts the run's starting weights and masks into `model` (inside the strategy scope)."""
    tfmot_adapter.set_weights(model, plan.start_weights)
    tfmot_adapter.set_masks(model, plan.masks)
    if setup.chain is not None:
        # Unit granularity: a removed unit's bias goes too. Nothing reads the unit
        # (its outgoing weights are masked), so its gradient stays exactly zero.
        tfmot_adapter.zero_biases_of_dead_units(model, plan.masks)


def run_loop_spec(setup: Setup, start_step: int, end_step: int, seed: int) -> LoopSpec:
    """How a run of the experiment from `start_step` to `end_step` with data seed `seed` trains."""
    config = setup.config
    return LoopSpec(
        batch_size=config.training.batch_size, start_step=start_step,
        end_step=end_step, data_seed=seed, augment=config.dataset.augment,
        augmentation=config.dataset.get("augmentation") or "crop_flip",
        eval_every=setup.eval_every, test_every=setup.test_every, jit_compile=setup.jit_compile,
        eval_batch_size=config.runtime.eval_batch_size,
        weight_decay=config.training.weight_decay or 0.0,
        label_smoothing=config.training.get("label_smoothing") or 0.0)


def build_trainer(setup: Setup, seed: int, loop_spec: LoopSpec,
                  load: Callable[[keras.Model], None] | None = None):
    """A new (wrapped model, optimizer, `Trainer`) for a run, as every run builds it.

    Args:
      setup: the experiment.
      seed: the model's initialization seed.
      loop_spec: the run's spec (its optimizer's schedule starts at `loop_spec.start_step`).
      load: puts the run's weights and masks into the wrapped model (None: the seeded
        initialization, every mask all ones).
    """
    with setup.strategy.scope():
        wrapped = build_wrapped(setup, seed)
        if load is not None:
            load(wrapped)
        optimizer = make_optimizer(setup.config.training, setup.steps_per_epoch, loop_spec.start_step)
    return wrapped, optimizer, Trainer(wrapped, optimizer, setup.strategy, setup.splits, loop_spec)


def _train(setup: Setup, plan: RunPlan, lease: Lease) -> dict:
    config, files = setup.config, plan.files
    started = time.perf_counter()
    end_step = setup.train_steps if plan.end_step is None else plan.end_step
    loop_spec = run_loop_spec(setup, plan.start_step, end_step, plan.seed)

    def load(model):
        _load_run(setup, model, plan)

    wrapped, optimizer, trainer = trainer_pool.trainer_for(
        setup, plan.start_step, loop_spec, build=lambda: build_trainer(setup, plan.seed, loop_spec, load),
        load=load)
    store.save_arrays(files.mask, plan.masks)
    store.save_arrays(files.weights_start, tfmot_adapter.get_weights(wrapped))

    tracker = EarlyStopTracker()
    early_bird = None
    if plan.early_bird is not None:
        settings = plan.early_bird
        early_bird = EarlyBirdStop(lambda: settings.draw(tfmot_adapter.get_weights(wrapped)), plan.masks,
                                   settings.check_every, settings.threshold, settings.window,
                                   settings.not_before)
    checkpoint = LevelCheckpoint(files.checkpoints, wrapped, optimizer,
                                 {} if early_bird is None else {EARLY_BIRD_STATE: early_bird})
    checkpoint.restore(tracker)
    trainer.best_val_loss = tracker.best_val_loss()
    if checkpoint.early_stop is not None:
        trainer.restore_early_stop_weights(*checkpoint.early_stop)

    remaining = mask_lib.percent_remaining(plan.masks)
    by_layer = mask_lib.percent_remaining_by_layer(plan.masks)
    # Early-bird decides before the checkpoint at the same step, which then holds its decision.
    callbacks = [tracker, *([early_bird] if early_bird else []),
                 Checkpointer(checkpoint, setup.checkpoint_every, tracker,
                                       trainer.early_stop_weights),
                 TensorBoardLogger(plan.tensorboard_dir, plan.tensorboard_group, by_layer, remaining)]
    if plan.on_rewind_step is not None:
        callbacks.append(RewindCapture(setup.rewind_step, plan.on_rewind_step))
    label = f"[{plan.label} {remaining:5.1f}%]"
    # The streams are looked up per run, not bound at import, so a redirected stdout or
    # stderr (a test's capture, a caller's log) gets the lines of every run alike.
    callbacks.append(ProgressLine(label, end_step, sys.stderr) if setup.quiet
                     else ConsoleLogger(label, end_step, sys.stdout))
    position.name_run(plan.label)  # for the command line's Ctrl-C and resume lines
    trainer.run(callbacks)
    end_step = trainer.spec.end_step  # sooner if early-bird stopped the run

    tfmot_adapter.apply_masks(wrapped)
    store.save_arrays(files.weights_end, tfmot_adapter.get_weights(wrapped))
    if early_bird is not None and early_bird.drawn is not None:
        store.save_arrays(files.early_bird_mask, early_bird.drawn)
    summary = tracker.summary()
    early_stop = trainer.early_stop_weights()
    # A run resumed from a checkpoint of an older version may not know them.
    if early_stop is not None and early_stop[0] == summary["early_stop_step"]:
        store.save_arrays(files.weights_early_stop, early_stop[1])
    cost = {"train_iterations": end_step - plan.start_step,
            **{f"train_flops_{kind}": flops for kind, flops in training_flops(
                plan.masks, setup.weight_uses, config.training.batch_size,
                end_step - plan.start_step).items()}}
    metrics = {"seed": plan.seed, "start_step": plan.start_step, "end_step": end_step, **cost,
               **(plan.prior_cost + own_cost(cost)).as_metrics(),
               "percent_remaining": remaining, "percent_remaining_by_layer": by_layer,
               "wall_seconds": time.perf_counter() - started,
               # Wall clock (Unix seconds): `status` takes its speed from the latest runs.
               "finished_at": round(time.time(), 3), **_length_metrics(plan, end_step, early_bird),
               **plan.extra_metrics,
               **summary, "curve": tracker.state()}
    lease.verify()  # metrics.json makes the run count as done: only its lock's holder writes it
    store.write_json(files.metrics, metrics)
    storage_files.rmtree(files.checkpoints)
    return metrics


def _length_metrics(plan: RunPlan, end_step: int, early_bird: EarlyBirdStop | None) -> dict:
    """A ranking level's full length, whether it stopped short of it, and where early-bird
    drew its mask (None: it never settled) with the last distances (nothing for other runs)."""
    metrics = {}
    if plan.full_end_step is not None:
        metrics.update(full_end_step=plan.full_end_step, short_level=end_step < plan.full_end_step)
    if early_bird is not None:
        metrics.update(early_bird_step=early_bird.drawn_step, early_bird_distances=early_bird.distances)
    return metrics


def run_or_load(setup: Setup, plan: RunPlan) -> dict:
    """The run's stored metrics if it finished before (intact), else trains it now."""
    finished = finished_metrics(plan.files)
    return train_masked_run(setup, plan) if finished is None else finished
