"""The training loop: several steps per `tf.function` call, callbacks at pauses.

What a run is given (`LoopSpec`) and how callbacks are called (`PausingCallback`,
the order of the hooks) are in `loop_spec.py`; both are importable from here.
"""
import dataclasses
import re
import time
import warnings
from collections.abc import Sequence

import numpy as np
import tensorflow as tf
import tf_keras as keras
from absl import logging

from lottery_tf import startup
from lottery_tf.data import pipeline
from lottery_tf.errors import TrainingError
from lottery_tf.pruning import tfmot_adapter
from lottery_tf.storage import crash_points
from lottery_tf.training import position, random_layers
from lottery_tf.training.evaluation import Evaluator
from lottery_tf.training.interrupts import DeferredInterrupt, raise_if_requested
from lottery_tf.training.loop_spec import CallbackCalls, LoopSpec, PausingCallback
from lottery_tf.training.losses import cross_entropy
from lottery_tf.training.strategies import xla_supported

# What TensorFlow logs when XLA refuses to lower a step under op determinism: the
# error line and the node it names on the next line (the refusal is also raised).
_XLA_REFUSAL = re.compile(r"^([IWE]\d{4} [\d:. ]+\d+ graph_compiler\.cc:\d+\] Executor failed to "
                          r"create kernel\. UNIMPLEMENTED: |\s+\[\[\{\{node )")


def _first_device(strategy: tf.distribute.Strategy) -> str:
    """The device the strategy's (single) replica runs on."""
    try:
        return strategy.extended.worker_devices[0]
    except RuntimeError:  # the default strategy: TensorFlow's own placement
        gpus = tf.config.list_logical_devices("GPU")
        return gpus[0].name if gpus else "/device:CPU:0"


class Trainer:
    """Trains a (tfmot-wrapped) model with masked gradients under a strategy.

    Gradients of pruned weights are zeroed (by the mask) before the optimizer
    sees them, so pruned weights (zeroed when the mask was set, with a fresh
    optimizer state) stay exactly zero after every step, under any strategy.
    The step therefore runs `tfmot_adapter.training_view(model)`, which skips
    the wrappers' per-call rewrite of every kernel; evaluation runs `model`.
    """

    def __init__(self, model: keras.Model, optimizer: keras.optimizers.Optimizer,
                 strategy: tf.distribute.Strategy, splits, spec: LoopSpec):
        self.model = model
        self.optimizer = optimizer
        self.strategy = strategy
        self.splits = splits
        self.spec = spec
        self._loss_scaled = isinstance(optimizer, keras.mixed_precision.LossScaleOptimizer)
        with strategy.scope():
            self._train_loss = keras.metrics.Mean("train_loss")
            self._train_accuracy = keras.metrics.SparseCategoricalAccuracy("train_accuracy")
            optimizer.build(model.trainable_variables)
            # Gradients are masked with boolean copies of the masks (refreshed by
            # `run`): the float masks' memory traffic cost LeNet-300-100 ~4% of its
            # step. On TPUs the float masks serve as they are.
            self._masks = tfmot_adapter.mask_by_variable(model)
            self._gradient_masks = {
                key: (mask if isinstance(strategy, tf.distribute.TPUStrategy)
                      else tf.Variable(tf.cast(mask, tf.bool), trainable=False))
                for key, mask in self._masks.items()}
        self._training_view = tfmot_adapter.training_view(model)
        # Dropout, noise, augmentation layers: their draws are keyed by (seed, step).
        self._random_layers = random_layers.random_layers(self._training_view)
        self._jit_compile = spec.jit_compile and xla_supported(strategy)
        # One replica trains on batches gathered in memory; several, or a
        # streamed dataset, read a distributed tf.data iterator, made by `run`.
        self._streamed = getattr(splits, "streamed", False)
        self._indexed = strategy.num_replicas_in_sync == 1 and not self._streamed
        self._iterator = None
        self._train_chunk = self._make_train_chunk()
        self.evaluator = Evaluator(model, strategy, splits, spec.eval_batch_size, self._jit_compile)
        # The lowest validation loss seen so far in this run (restore it on resume).
        self.best_val_loss = float("inf")
        # (evaluation logs, weights) of a new validation minimum awaiting its test pass.
        self._deferred = None
        # (step, weights) of the lowest validation loss: the early-stop weights.
        self._best = None

    @property
    def step(self) -> int:
        """Global iterations completed."""
        return self.spec.start_step + int(self.optimizer.iterations.numpy())

    # --- compiled pieces -------------------------------------------------
    def _train_step(self, images, labels, global_step):
        model, spec = self._training_view, self.spec
        with tf.GradientTape() as tape:
            with random_layers.drawing_from(self._random_layers, spec.data_seed, global_step):
                logits = model(images, training=True)
            per_example = cross_entropy(labels, logits, spec.label_smoothing)
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=spec.batch_size)
            if self._loss_scaled:  # mixed_float16: keep small gradients above float16's floor
                loss = self.optimizer.get_scaled_loss(loss)
        variables = model.trainable_variables
        gradients = tape.gradient(loss, variables)
        if self._loss_scaled:
            gradients = self.optimizer.get_unscaled_gradients(gradients)
        masked = []
        for gradient, variable in zip(gradients, variables, strict=False):
            if spec.weight_decay:
                gradient = gradient + spec.weight_decay * variable
            mask = self._gradient_masks.get(id(variable))
            if mask is not None:
                gradient = tf.where(tf.cast(mask, tf.bool), gradient, 0.0)
            masked.append(gradient)
        self.optimizer.apply_gradients(zip(masked, variables, strict=False))
        self._train_loss.update_state(per_example)
        self._train_accuracy.update_state(labels, logits)

    def _compiled(self, function, example_args):
        """`function` XLA-compiled where XLA can compile it.

        Some gradients have no deterministic XLA kernel (MaxPool's, with op
        determinism on); lowering the step for `example_args` finds out
        without running it, and such models train without XLA.
        """
        if not self._jit_compile:
            return tf.function(function)
        compiled = tf.function(function, jit_compile=True)
        if self.strategy.num_replicas_in_sync != 1:
            return compiled
        try:
            # TensorFlow also logs the refusal it raises, worded for GPUs even on a CPU.
            with warnings.catch_warnings(), startup.filtered_stderr(_XLA_REFUSAL):
                # TensorFlow deprecates naming the device, but its replacement
                # (`platform_name`) draws an unseeded random number to find the
                # device, which op determinism refuses.
                warnings.filterwarnings("ignore", "device_name is being deprecated")
                compiled.experimental_get_compiler_ir(*example_args)(
                    stage="hlo", device_name=_first_device(self.strategy))
        except ValueError as error:
            reason = str(error).split("\n")[0].split(": '")[-1]
            op = re.search(r"(\w+) gradient ops do not yet have a deterministic", reason)
            what = f"{op.group(1)}'s gradient" if op else f"this model's step ({reason})"
            # Once per process: every level and branch builds the same step.
            logging.log_first_n(logging.WARNING, "Training without XLA (slower): XLA has no "
                                "reproducible kernel for %s.", 1, what)
            return tf.function(function)
        return compiled

    def _make_train_chunk(self):
        """A function `(first_step, count)` that trains steps [first_step, first_step + count)."""
        if self._indexed:
            return self._make_indexed_train_chunk()
        strategy = self.strategy
        example = ()
        if strategy.num_replicas_in_sync == 1:  # a streamed split: lower the step for its batches
            example = (tf.zeros((self.spec.batch_size, *self.splits.example_shape)),
                       tf.zeros((self.spec.batch_size,), tf.int32), tf.constant(0, tf.int64))
        step = self._compiled(self._train_step, example)

        @tf.function
        def train_chunk(iterator, first_step, count):
            for i in tf.range(count):
                images, labels = next(iterator)
                strategy.run(step, args=(images, labels, first_step + i))

        return lambda first_step, count: train_chunk(self._iterator, tf.constant(first_step, tf.int64),
                                                     tf.constant(count, tf.int64))

    def _make_indexed_train_chunk(self):
        """One replica: batches gathered from the in-memory split inside the step.

        `pipeline.BatchIndices` gives the rows `train_dataset` would batch, so
        the examples, their order and the augmentation are the same.
        """
        spec, strategy = self.spec, self.strategy
        with tf.device(_first_device(strategy)):
            images, labels = pipeline.as_tensors(self.splits.train_x, self.splits.train_y)
        row = tf.zeros((spec.batch_size,), tf.int32)
        if spec.augment:
            # XLA draws other random numbers than TensorFlow's kernels for the same
            # stateless seeds, so augmentation runs outside the compiled step.
            step = self._compiled(self._train_step, (tf.gather(images, row), tf.gather(labels, row),
                                                     tf.constant(0, tf.int64)))

            def train_row(index, global_step):
                batch = pipeline.augment_batch(tf.gather(images, index), spec.data_seed, global_step,
                                               kind=spec.augmentation)
                strategy.run(step, args=(batch, tf.gather(labels, index), global_step))
        else:
            def gather_and_train(all_images, all_labels, index, global_step):
                self._train_step(tf.gather(all_images, index), tf.gather(all_labels, index),
                                 global_step)

            step = self._compiled(gather_and_train, (images, labels, row, tf.constant(0, tf.int64)))

            def train_row(index, global_step):
                strategy.run(step, args=(images, labels, index, global_step))

        @tf.function(input_signature=[tf.TensorSpec([None, spec.batch_size], tf.int32),
                                      tf.TensorSpec([], tf.int64)])
        def train_chunk(rows, first_step):
            for i in tf.range(tf.shape(rows)[0]):
                train_row(rows[i], first_step + tf.cast(i, tf.int64))

        orders = {}  # by data seed: `reset` may change it

        def run_chunk(first_step, count):
            seed = self.spec.data_seed
            if seed not in orders:
                orders.clear()
                orders[seed] = pipeline.BatchIndices(len(self.splits.train_y), spec.batch_size, seed)
            return train_chunk(orders[seed].rows(first_step, count), tf.constant(first_step, tf.int64))

        return run_chunk

    # --- public ----------------------------------------------------------
    def reset(self, spec: LoopSpec) -> None:
        """Prepares this trainer, compiled pieces kept, for another run of the same model.

        The caller has set the model's weights and masks; this zeroes the
        optimizer's state (its step counter and slots, as a fresh optimizer's)
        and forgets the previous run's evaluations.

        Raises:
          ValueError: `spec` changes something the compiled step was built with, or
            the optimizer scales the loss (mixed_float16; its scale must restart).
        """
        baked = ["batch_size", "augment", "jit_compile", "eval_batch_size", "weight_decay",
                 "label_smoothing", "augmentation"]
        if spec.augment or self._random_layers:
            baked.append("data_seed")  # the augmentation's and random layers' seed is traced in
        changed = [name for name in baked if getattr(spec, name) != getattr(self.spec, name)]
        if self._loss_scaled:  # its dynamic loss scale is no optimizer variable to zero
            raise ValueError("A loss-scaled (mixed_float16) trainer is built afresh for each run.")
        if changed:
            raise ValueError(f"A trainer cannot be reused with other {', '.join(changed)}.")
        self.spec = spec
        for variable in self.optimizer.variables:
            variable.assign(tf.zeros_like(variable))
        self._train_loss.reset_state()
        self._train_accuracy.reset_state()
        self.best_val_loss = float("inf")
        self._deferred = None
        self._best = None

    def evaluate_all(self) -> dict:
        """Validation loss/accuracy at the current step, and test where it is due.

        A new validation minimum between test steps keeps its weights aside for
        `settle_deferred_test`.
        """
        spec, step = self.spec, self.step
        val_loss, val_accuracy = self.evaluator.evaluate("val")
        due = not np.isfinite(val_loss) or spec.test_due(step)
        test_loss, test_accuracy = self.evaluator.evaluate("test") if due else (None, None)
        logs = {"step": step, "val_loss": val_loss, "val_accuracy": val_accuracy,
                "test_loss": test_loss, "test_accuracy": test_accuracy}
        if val_loss < self.best_val_loss:
            self.best_val_loss = val_loss
            self._best = (step, self._copy_weights())
            # The earlier minimum's test pass is no longer needed.
            self._deferred = None if due else (logs, self._best[1])
        return logs

    def _copy_weights(self) -> list[tf.Tensor]:
        return [tf.identity(v) for v in tfmot_adapter.weight_variables(self.model).values()]

    def early_stop_weights(self) -> tuple[int, dict[str, np.ndarray]] | None:
        """(step, weights by name) of the lowest validation loss seen, or None before any."""
        if self._best is None:
            return None
        names = list(tfmot_adapter.weight_variables(self.model))
        return self._best[0], {name: value.numpy() for name, value in zip(names, self._best[1],
                                                                           strict=True)}

    def restore_early_stop_weights(self, step: int, weights: dict[str, np.ndarray]) -> None:
        """Takes back the early-stop weights a checkpoint kept (see `early_stop_weights`)."""
        self._best = (step, [tf.constant(weights[name])
                             for name in tfmot_adapter.weight_variables(self.model)])

    def settle_deferred_test(self) -> dict | None:
        """Evaluates the test set on the kept weights of the latest validation minimum.

        Returns:
          That evaluation's logs completed with test loss and accuracy (marked
          `"deferred": True`), or None when no test pass is pending.
        """
        if self._deferred is None:
            return None
        logs, kept = self._deferred
        self._deferred = None
        variables = list(tfmot_adapter.weight_variables(self.model).values())
        current = self._copy_weights()
        for variable, value in zip(variables, kept, strict=True):
            variable.assign(value)
        test_loss, test_accuracy = self.evaluator.evaluate("test")
        for variable, value in zip(variables, current, strict=True):
            variable.assign(value)
        return {**logs, "test_loss": test_loss, "test_accuracy": test_accuracy, "deferred": True}

    def _start_training(self, first_step: int) -> None:
        """Masks, tfmot's step and the input pipeline, for training from `first_step`."""
        spec = self.spec
        tfmot_adapter.set_pruning_step(self.model, first_step)
        for key, copy in self._gradient_masks.items():
            if copy is not self._masks[key]:
                copy.assign(tf.cast(self._masks[key], tf.bool))
        if self._streamed:
            dataset = self.splits.train_dataset(spec.batch_size, spec.data_seed, first_step,
                                                spec.end_step, augment=spec.augment,
                                                augmentation=spec.augmentation)
            self._iterator = iter(self.strategy.experimental_distribute_dataset(dataset))
        elif not self._indexed:
            dataset = pipeline.train_dataset(
                self.splits.train_x, self.splits.train_y, spec.batch_size, spec.data_seed,
                first_step, spec.end_step, augment=spec.augment,
                augmentation=spec.augmentation)
            self._iterator = iter(self.strategy.experimental_distribute_dataset(dataset))

    def timed_steps(self, count: int) -> float:
        """Trains `count` steps from the current one, with no evaluation or callback, and
        returns the seconds they took (the input pipeline's start excluded).

        For estimating a run's length (`lottery_tf.describe`); `run` is the training loop.
        The first call also traces (and compiles) the step.

        Raises:
          ValueError: the steps would pass the spec's end step.
        """
        first_step = self.step
        if first_step + count > self.spec.end_step:
            raise ValueError(f"{count} steps from step {first_step} pass the spec's end step "
                             f"{self.spec.end_step}.")
        self._start_training(first_step)
        started = time.perf_counter()
        self._train_chunk(first_step, count)
        float(self._train_loss.result())  # the steps have run once their loss can be read
        elapsed = time.perf_counter() - started
        self._train_loss.reset_state()
        self._train_accuracy.reset_state()
        return elapsed

    def run(self, callbacks: Sequence[keras.callbacks.Callback] = ()) -> None:
        """Trains from the current step to `spec.end_step`, calling callbacks at pauses.

        A callback that sets `model.stop_training` (when training begins or at a pause)
        ends the run at that step: `spec.end_step` becomes it, and it is evaluated
        (test included) as a run's last step is.
        """
        spec = self.spec
        callback_list = CallbackCalls(callbacks, self.model)
        eval_steps = spec.evaluation_steps()
        requested = {spec.end_step}
        settle = {spec.end_step}  # where the curve must hold every test pass it is owed
        for callback in callbacks:
            if isinstance(callback, PausingCallback):
                steps = set(callback.pause_steps(spec.start_step, spec.end_step))
                requested |= steps
                if callback.needs_settled_tests:
                    settle |= steps
        pauses = eval_steps | requested
        resumed_at = self.step
        self._start_training(resumed_at)
        position.start(resumed_at)  # for the command line's Ctrl-C line
        self.model.stop_training = False
        callback_list.on_train_begin({"step": resumed_at, "start_step": spec.start_step})
        if resumed_at in eval_steps and resumed_at == spec.start_step:
            callback_list.on_test_end(self.evaluate_all())
        done = resumed_at
        with DeferredInterrupt():
            for pause in sorted(p for p in pauses if resumed_at < p <= spec.end_step):
                raise_if_requested()  # Ctrl-C lands here, after the last pause's work
                if self.model.stop_training:
                    break
                # `done` tracks the step without reading the optimizer's counter back.
                self._train_chunk(done, pause - done)
                done = pause
                position.reach(done)
                logs = {"train_loss": float(self._train_loss.result()),
                        "train_accuracy": float(self._train_accuracy.result()),
                        "learning_rate": float(tf.convert_to_tensor(self.optimizer.learning_rate))}
                self._train_loss.reset_state()
                self._train_accuracy.reset_state()
                if not np.isfinite(logs["train_loss"]):
                    raise TrainingError(
                        f"Training loss became {logs['train_loss']} before step {pause}; the last "
                        "checkpoint is kept. Lower the learning rate or check the data, then rerun.")
                if pause in eval_steps:
                    callback_list.on_test_end(self.evaluate_all())
                if pause in settle and (settled := self.settle_deferred_test()) is not None:
                    callback_list.on_test_end(settled)
                callback_list.on_train_batch_end(pause, logs)
                crash_points.reach("pause")
            if self.model.stop_training and done != spec.end_step:
                self._stop_at(done, callback_list)
            callback_list.on_train_end({"step": self.step})
        position.clear()

    def _stop_at(self, step: int, callback_list: CallbackCalls) -> None:
        """Ends the run at `step` (a callback asked): it becomes the end step, evaluated in full."""
        self.spec = dataclasses.replace(self.spec, end_step=step)
        callback_list.on_test_end(self.evaluate_all())  # at the end step the test set is due
        if (settled := self.settle_deferred_test()) is not None:
            callback_list.on_test_end(settled)
