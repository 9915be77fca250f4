"""`LotteryTicket`: iterative magnitude pruning with rewinding inside one `model.fit`.

    imp = LotteryTicket(root="runs", levels=10, epochs_per_level=5, rate=0.2, rewind="500it")
    model.fit(x, y, epochs=imp.total_epochs, validation_split=0.1, callbacks=[imp])

Each level is `epochs_per_level` epochs of the same `fit` (`level_plan.py`).
At every epoch end the level's `LevelRecorder` records validation (and test)
results; at a level's last epoch the level is stored as the command line stores
it (`save_level`), then the model is pruned (`prune`) and rewound (`rewind`:
survivors to the step-k weights, a fresh optimizer, the learning rate resumed at
k), and the next epochs train the next level. A control (`control="reinit"` or
a function) trains the stored masks of each level from another initialization,
stored beside that level. The callback's own records of the running level are
kept on disk (`progress.py`), so a `fit` resumed by Keras' `BackupAndRestore`
continues the level it was killed in.
"""
from collections.abc import Callable, Iterable, Mapping

import numpy as np
import tensorflow as tf
import tf_keras as keras

from lottery_tf.config import hashing
from lottery_tf.errors import ConfigError
from lottery_tf.fit import replay
from lottery_tf.fit.callbacks import LevelRecorder, PruningStep
from lottery_tf.fit.keras_flavour import require_tf_keras
from lottery_tf.fit.level_plan import LevelPlan
from lottery_tf.fit.progress import Progress
from lottery_tf.fit.pruning import note_pruning, prune, set_masks
from lottery_tf.fit.rewinding import ResumableSchedule, RewindCallback, rewind
from lottery_tf.fit.storing import experiment_config, save_level
from lottery_tf.fit.wrapping import require_wrapped
from lottery_tf.pruning import tfmot_adapter
from lottery_tf.storage import files as storage_files
from lottery_tf.storage import store
from lottery_tf.storage.claim import claim_experiment
from lottery_tf.storage.paths import TICKET_RUN, ExperimentPaths, branch_folder, tensorboard_run_name
from lottery_tf.training.steps import parse_steps

# A control function: (level, the level's masks, the ticket's start weights) -> start weights.
Weights = Mapping[str, np.ndarray]
ControlFunction = Callable[[int, Weights, Weights], Weights]

_STOPPED = ("fit stopped at epoch {epoch} (level {level}) of {total}: a callback set model.stop_training "
            "(EarlyStopping, TerminateOnNaN, ...). A LotteryTicket run must train every level's epochs, "
            "so Keras' EarlyStopping cannot scope itself to a level; LotteryTicket already early-stops each "
            "level the way Frankle & Carbin do: the level's early-stop step is its lowest validation loss, "
            "with its test accuracy and weights (weights_early_stop.npz). Remove EarlyStopping from the "
            "callbacks. Levels finished so far are stored under {root}.")


class LotteryTicket(keras.callbacks.Callback):
    """Runs IMP (or a control of it) inside one `model.fit`; every level stored under `root`.

    Give `fit` a model wrapped with `wrap` and compiled, `epochs=total_epochs`,
    validation data (`validation_data=` or `validation_split=`), and this
    callback (it also does tfmot's `UpdatePruningStep`). Put it before
    `BackupAndRestore` and `ModelCheckpoint` in `callbacks`, so they save the
    model after a level boundary's pruning and rewinding.

    Args:
      root: the results root; levels are stored in the command line's layout
        (`report --root`, `export --root` read them), and the running level's
        records in a hidden folder there, for resuming.
      levels: pruned levels after the dense level 0.
      epochs_per_level: `fit` epochs per level; each epoch end is one evaluation.
      rate, strategy, conv_rate, dense_rate, output_rate, layers_to_ignore,
        output_layer, granularity: the pruning of every level, as `prune` (and
        the command line's `pruning.*` fields) take them; granularity "unit"
        removes whole Dense units and Conv filters, "2:4" keeps n of every m.
      rewind: the step levels 1.. start at: an int, "500it", or "2ep" (epochs of
        this `fit`). 0 rewinds to the initialization.
      test_data: optional (x, y) or dataset, evaluated at every epoch end.
      control: None for IMP; "reinit" trains each stored level's mask from the
        initialization the model has when `fit` starts (build it with another
        seed); a function `(level, masks, ticket_start_weights) -> weights`
        gives any other start. A control trains levels 1..`levels` from step 0.
      control_name: the control's stored name (default: "reinit" or the function's name).
      seed: the seed recorded for the run (a control's folder is named by it).
      config: more settings by dotted key (e.g. {"dataset.name": "fashion_mnist",
        "training.batch_size": 60}); with the pruning and rewind arguments they
        name the experiment's folder.
      model_name: the stored `model.name` (default: the Keras model's name). A
        control finds its trunk by it, so give both the same.
      replicate: the replicate number.
      data_fingerprint: identifies the data (e.g. `Splits.fingerprint()`).
      tensorboard: write the command line's TensorBoard runs (curves, sparsity,
        HParams sessions) under `<experiment>/tensorboard`.
      metric: the name of the compiled accuracy metric.

    Raises:
      ConfigError: invalid arguments (at construction), or at `fit` time: a
        Keras 3 or unwrapped model, `epochs` beyond `total_epochs`, a callback
        stopping `fit` early, a resumed `fit` without its stored levels, or a
        stored experiment that disagrees.
    """

    def __init__(self, root: str, levels: int, epochs_per_level: int, rate: float = 0.2,
                 strategy: str = "global", conv_rate: float | None = None, dense_rate: float | None = None,
                 output_rate: float | None = None, layers_to_ignore: Iterable[str] = (),
                 output_layer: str | None = None, granularity: str | None = None,
                 rewind: int | str = 0, test_data=None,
                 control: str | ControlFunction | None = None, control_name: str | None = None,
                 seed: int = 0, config: Mapping[str, object] | None = None, model_name: str | None = None,
                 replicate: int = 0, data_fingerprint: str = "unrecorded (model.fit)",
                 tensorboard: bool = True, metric: str = "accuracy"):
        super().__init__()
        if control is not None and control != "reinit" and not callable(control):
            raise ConfigError(f"control must be None, 'reinit' or a function, got {control!r}.")
        self.root, self.levels, self.epochs_per_level = root, int(levels), int(epochs_per_level)
        self.pruning = {"rate": rate, "strategy": strategy, "conv_rate": conv_rate, "dense_rate": dense_rate,
                        "output_rate": output_rate, "layers_to_ignore": tuple(layers_to_ignore),
                        "output_layer": output_layer, "granularity": granularity}
        self.rewind_setting = rewind
        parse_steps(rewind, 1)  # refuses a malformed duration now, not after level 0
        self.test_data, self.control, self.seed = test_data, control, seed
        self.control_name = None if control is None else (
            control_name or (control if isinstance(control, str)
                             else getattr(control, "__name__", "control")))
        self.extra_config, self.model_name = dict(config or {}), model_name
        self.replicate, self.data_fingerprint = replicate, data_fingerprint
        self.tensorboard, self.metric = tensorboard, metric
        self.plan = LevelPlan(1 if control else 0, self.levels, self.epochs_per_level)
        experiment_config(self._stated("unnamed"))  # refuses unknown keys and bad rates now
        self.results: dict[int, dict] = {}  # stored metrics by level, this fit's
        self._steps_per_epoch: int | None = None
        self._replay_from: tf.Variable | None = None
        self._began = False
        self._recorder: LevelRecorder | None = None
        self._rewind: RewindCallback | None = None
        self._control_start: dict[str, np.ndarray] | None = None
        self._pruning_step = PruningStep()
        self._supports_tf_logs = True  # batch logs stay tensors: no host sync per step

    # ----- what the user calls -----
    @property
    def total_epochs(self) -> int:
        """The `epochs=` to pass to `fit`: `epochs_per_level` for every level trained."""
        return self.plan.total_epochs

    def control_run(self, control: str | ControlFunction = "reinit", **overrides) -> "LotteryTicket":
        """A callback with this run's settings that trains `control` off its stored levels.

        Args:
          control: "reinit" or a control function (see the class).
          **overrides: constructor arguments to change (e.g. `seed=1000`, `test_data=`).
        """
        arguments = dict(root=self.root, levels=self.levels, epochs_per_level=self.epochs_per_level,
                         **{k: v for k, v in self.pruning.items()}, rewind=self.rewind_setting,
                         test_data=self.test_data, config=self.extra_config,
                         model_name=self.model_name or getattr(self.model, "name", None),
                         replicate=self.replicate, data_fingerprint=self.data_fingerprint,
                         tensorboard=self.tensorboard, metric=self.metric)
        return LotteryTicket(**{**arguments, "control": control, "seed": self.seed + 1000, **overrides})

    def batches(self, make_epoch: Callable[[tf.Tensor], tf.data.Dataset], steps_per_epoch: int,
                batches_per_epoch: int | None = None) -> tf.data.Dataset:
        """The training data of every level, each rewound level replaying the batches from step k.

        Pass the result to `fit` with `steps_per_epoch=steps_per_epoch`.

        Args:
          make_epoch: `make_epoch(epoch)` -> the batches of one pass over the
            training data, shuffled by the int64 tensor `epoch` (e.g.
            `stateless_shuffle` seeded with it).
          steps_per_epoch: `fit`'s steps per epoch (the evaluation interval).
          batches_per_epoch: batches per `make_epoch` pass (default: its cardinality).
        """
        if steps_per_epoch < 1:
            raise ConfigError(f"steps_per_epoch must be >= 1, got {steps_per_epoch}.")
        self._steps_per_epoch = steps_per_epoch
        self._set_rewind_step(steps_per_epoch)
        if self._replay_from is None:
            with tf.init_scope():
                self._replay_from = tf.Variable(0, dtype=tf.int64, trainable=False, name="replay_from_epoch")
        return replay.level_batches(make_epoch, self.plan, steps_per_epoch,
                                    batches_per_epoch or replay.epoch_length(make_epoch), self._replay_from)

    @property
    def experiment_dir(self) -> str:
        """The experiment's folder under `root` (known once `fit` began)."""
        return self._paths.dir

    # ----- Keras hooks -----
    def set_model(self, model):
        require_tf_keras(model, "The model given to fit")
        super().set_model(model)
        self._pruning_step.set_model(model)

    def on_train_begin(self, logs=None):
        require_wrapped(self.model, "run LotteryTicket on")
        if getattr(self.model, "optimizer", None) is None:
            raise ConfigError("Compile the model before fit: LotteryTicket rewinds its optimizer.")
        # BackupAndRestore sets `_training_state` in its on_train_begin: it ran before this one.
        if getattr(self.model, "_training_state", None) is not None:
            raise ConfigError("List LotteryTicket before BackupAndRestore in fit's callbacks: at a level's "
                              "end it prunes and rewinds the model, and the backup must hold the model "
                              "after that, or a resumed fit would start the next level unpruned.")
        epochs, steps = self.params.get("epochs"), self.params.get("steps")
        if epochs is not None and epochs > self.total_epochs:
            raise ConfigError(f"fit(epochs={epochs}) goes past the last level: pass "
                              f"epochs=imp.total_epochs ({self.total_epochs}).")
        if self._steps_per_epoch is not None and steps != self._steps_per_epoch:
            raise ConfigError(f"fit runs {steps} steps per epoch but imp.batches() was built for "
                              f"{self._steps_per_epoch}: pass steps_per_epoch={self._steps_per_epoch} "
                              "to fit.")
        self._set_rewind_step(steps)
        self._paths = ExperimentPaths(self.root, hashing.experiment_name(experiment_config(self._stated())))
        claim_experiment(self._paths, experiment_config(self._stated()), self.data_fingerprint)
        suffix = "" if self.control is None else "_" + self._branch_folder()
        self._progress = Progress(storage_files.join(self._paths.replicate(self.replicate),
                                                     ".fit_progress" + suffix))
        self._pruning_step.on_train_begin(logs)
        self._began, self._recorder, self._last_epoch = False, None, 0

    def on_epoch_begin(self, epoch, logs=None):
        if epoch >= self.total_epochs:
            raise ConfigError(f"Epoch {epoch} is past the last level; fit for epochs=imp.total_epochs.")
        if not self._began:
            self._begin_at(epoch)
            self._began = True
        level = self.plan.level_of(epoch)
        if self._recorder is None and not self._finished(level):
            self._recorder = self._new_recorder(level)
            self._recorder.on_train_begin()
            self._progress.save_level(level, epoch - 1, self._recorder, started=True)

    def _implements_train_batch_hooks(self):
        # Keras calls batch hooks only for callbacks that ask (tf_keras reads this when fit
        # builds its callback list): the trunk needs them until it records the rewind step.
        return self.control is None and parse_steps(self.rewind_setting, 1) > 0

    def on_train_batch_end(self, batch, logs=None):
        if self._rewind is not None and not self._rewind.recorded:
            self._rewind.on_train_batch_end(batch)
            if self._rewind.recorded:
                self._progress.save_weights("rewind", self._rewind.weights)

    def on_epoch_end(self, epoch, logs=None):
        self._last_epoch = epoch
        if self.model.stop_training:
            self._refuse_stop(epoch)
        self._pruning_step.on_epoch_end(epoch, logs)
        level = self.plan.level_of(epoch)
        if self._recorder is not None:
            kept = self._recorder.early_stop_weights
            self._recorder.on_epoch_end(epoch, logs)
            self._progress.save_level(level, epoch, self._recorder,
                                      early_stop_moved=self._recorder.early_stop_weights is not kept)
        if not self.plan.ends_level(epoch):
            return
        if self._recorder is not None:
            self._recorder.on_train_end()
            self._store(level)
        if level < self.plan.last_level:
            self._enter_level(level + 1)
        else:
            self._progress.remove()

    def on_train_end(self, logs=None):
        self._pruning_step.on_train_end(logs)
        if self._recorder is not None:  # fit ended inside a level: keep its wall time for a resume
            self._recorder.on_train_end()
            self._progress.save_level(self._recorder_level, -1, self._recorder)
        if self.model.stop_training and not self._finished(self.plan.last_level):
            self._refuse_stop(self._last_epoch)

    # ----- levels -----
    def _stated(self, model_name: str | None = None) -> dict[str, object]:
        """The settings that name the experiment's folder, by dotted key."""
        stated = {"model.name": model_name or self.model_name or self.model.name,
                  "pruning.strategy": self.pruning["strategy"], "pruning.rate": self.pruning["rate"],
                  "rewind": (f"{self.rewind_setting}it" if isinstance(self.rewind_setting, int)
                             else self.rewind_setting),
                  "levels": self.levels}
        for key in ("conv_rate", "dense_rate", "output_rate"):
            if self.pruning[key] is not None:
                stated[f"pruning.{key}"] = self.pruning[key]
        if self.pruning["layers_to_ignore"]:
            stated["pruning.layers_to_ignore"] = ",".join(self.pruning["layers_to_ignore"])
        if self.pruning["granularity"] is not None:
            stated["pruning.granularity"] = str(self.pruning["granularity"])
        return {**stated, **self.extra_config}

    def _set_rewind_step(self, steps_per_epoch: int | None) -> None:
        text = self.rewind_setting
        if isinstance(text, str) and "ep" in text and steps_per_epoch is None:
            raise ConfigError(f"rewind={text!r} counts epochs, but this fit's epoch length is unknown: "
                              "pass steps_per_epoch= to fit, or give rewind in iterations ('500it').")
        step = 0 if self.control else parse_steps(text, steps_per_epoch or 1)
        self.plan = LevelPlan(self.plan.first_level, self.plan.last_level, self.epochs_per_level, step)

    def _branch_folder(self) -> str:
        return branch_folder(self.control_name, {"seed": self.seed})

    def _metrics_file(self, level: int) -> str:
        if self.control is None:
            return self._paths.metrics(self.replicate, level)
        return self._paths.branch_files(self.replicate, level, self._branch_folder()).metrics

    def _finished(self, level: int) -> bool:
        return storage_files.exists(self._metrics_file(level))

    def _new_recorder(self, level: int) -> LevelRecorder:
        self._recorder_level = level
        logdir = None
        if self.tensorboard:
            run = TICKET_RUN if self.control is None else tensorboard_run_name(self._branch_folder())
            logdir = self._paths.tensorboard_run(self.replicate, level, run)
        recorder = LevelRecorder(test_data=self.test_data, logdir=logdir,
                                 start_step=self.plan.start_step(level), metric=self.metric)
        recorder.set_model(self.model)
        return recorder

    def _begin_at(self, epoch: int) -> None:
        """Sets up a fresh run (epoch 0) or one resumed at `epoch` from a backup."""
        if self._replay_from is not None:
            self._replay_from.assign(epoch)
        level = self.plan.level_of(epoch)
        if epoch == 0:
            self._begin_fresh()
            return
        missing = [earlier for earlier in range(self.plan.first_level, level) if not self._finished(earlier)]
        if missing:
            raise ConfigError(f"fit starts at epoch {epoch} (level {level}), but level(s) {missing} are not "
                              f"stored under {self._paths.dir}: resume with the same root and settings, "
                              "and LotteryTicket listed before BackupAndRestore.")
        self._load_start_weights(level)
        self._set_schedule_offset(self.plan.start_step(level))
        if self.control is None and level > self.plan.first_level:  # pruned by the killed process
            note_pruning(self.model, **self._noted_pruning())
        if not self.plan.starts_level(epoch) and not self._finished(level):
            self._recorder = self._new_recorder(level)
            if self._progress.load_level(level, self._recorder) is None:
                raise ConfigError(f"fit resumes inside level {level} (epoch {epoch}), but its records "
                                  f"are missing from {self._progress.directory}.")
            self._recorder.on_train_begin()

    def _begin_fresh(self) -> None:
        stored = [level for level in range(self.plan.first_level, self.plan.last_level + 1)
                  if self._finished(level)]
        if stored:
            raise ConfigError(f"{self._paths.dir} already holds level(s) {stored} of this run, and fit "
                              "starts from epoch 0. Read them with lottery_tf.api.report, resume an "
                              "interrupted fit with BackupAndRestore, or use another root or replicate.")
        self._progress.remove()  # a run killed before its first backup starts over
        if self.control is None:
            self._set_schedule_offset(0)
            self._rewind = RewindCallback(self.plan.rewind_step)
            self._rewind.set_model(self.model)
            self._rewind.on_train_begin()
            if self._rewind.recorded:
                self._progress.save_weights("rewind", self._rewind.weights)
            return
        self._control_start = tfmot_adapter.get_weights(self.model)
        self._refuse_ticket_initialization()
        self._progress.save_weights("control_start", self._control_start)
        self._enter_level(self.plan.first_level)

    def _load_start_weights(self, level: int) -> None:
        """The rewind weights (trunk) or the control's initialization, kept by an earlier process."""
        if self.control is not None:
            self._control_start = self._progress.load_weights("control_start")
            if self._control_start is None:
                raise ConfigError(f"The control's initialization is missing from {self._progress.directory}.")
            return
        self._rewind = RewindCallback(self.plan.rewind_step)
        self._rewind.set_model(self.model)
        weights = self._progress.load_weights("rewind")
        stored = self._paths.rewind_weights(self.replicate)
        if weights is None and storage_files.exists(stored):
            weights = store.load_arrays(stored)
        if weights is not None:
            self._rewind.load(weights)
        elif level > self.plan.first_level:
            raise ConfigError(f"The rewind weights of this run are missing (looked in {stored}).")

    def _refuse_ticket_initialization(self) -> None:
        if self.control != "reinit" or not self._trunk_finished(0):
            return
        ticket = store.load_arrays(self._paths.weights_start(self.replicate, 0))
        if all(np.array_equal(ticket[name], value) for name, value in self._control_start.items()
               if name in ticket):
            raise ConfigError("The reinit control's model starts from the ticket's own initialization: "
                              "build it with another seed, so the control tests a fresh initialization.")

    def _set_schedule_offset(self, step: int) -> None:
        optimizer = self.model.optimizer
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        schedule = getattr(optimizer, "_learning_rate", None)  # tf_keras keeps the schedule only here
        if isinstance(schedule, ResumableSchedule):
            schedule.offset.assign(step)

    def _enter_level(self, level: int) -> None:
        """Prunes and rewinds the trunk, or sets a control's masks and start, for `level`."""
        if self.control is None:
            arguments = {key: value for key, value in self.pruning.items()}
            prune(self.model, **arguments)
            rewind(self.model, self._rewind)
            return
        masks_file = self._paths.mask(self.replicate, level)
        if not self._trunk_finished(level):
            raise ConfigError(f"The control trains the stored masks of level {level}, but {masks_file} is "
                              "not stored: run the trunk (control=None) with the same settings and root "
                              "first, and give both runs the same model_name.")
        masks = store.load_arrays(masks_file)
        current = sorted(tfmot_adapter.get_masks(self.model))
        if sorted(masks) != current:
            raise ConfigError(f"The stored masks name layers {sorted(masks)}, the control's model {current}: "
                              "build the control model with the trunk's layer names (name the layers, "
                              "or call tf_keras.backend.clear_session() before building it).")
        start = self._control_start
        if callable(self.control):
            ticket = store.load_arrays(self._paths.weights_start(self.replicate, level))
            start = dict(self.control(level, masks, ticket))
        set_masks(self.model, masks)
        note_pruning(self.model, **self._noted_pruning())  # the trunk's, so rewinding treats units alike
        rewind(self.model, start, step=0)

    def _noted_pruning(self) -> dict[str, object]:
        return {key: value for key, value in self.pruning.items() if key != "output_layer"}

    def _trunk_finished(self, level: int) -> bool:
        return storage_files.exists(self._paths.metrics(self.replicate, level))

    def _store(self, level: int) -> None:
        self.results[level] = save_level(
            self.root, level, self.model, self._recorder, config=self._stated(), replicate=self.replicate,
            control=self.control_name, seed=self.seed, rewind=self._rewind,
            data_fingerprint=self.data_fingerprint)
        self._recorder = None

    def _refuse_stop(self, epoch: int) -> None:
        raise ConfigError(_STOPPED.format(epoch=epoch, level=self.plan.level_of(epoch),
                                          total=self.total_epochs, root=self.root))
