"""What the training loop is given: a run's `LoopSpec`, and the callbacks it calls.

The loop (`loop.Trainer`) only trains and evaluates. Everything else (rewind
capture, early-stop tracking, checkpoints, TensorBoard, console) is a callback.
Callbacks are `tf_keras` callbacks; the loop calls

- `on_train_begin(logs)` once (`logs` has `step`, where training begins, and
  `start_step`, where the run began: later when resumed from a checkpoint),
- `on_train_batch_end(step, logs)` at every pause, `step` = iterations done,
  `logs` = mean train loss/accuracy since the previous pause,
- `on_test_end(logs)` after each evaluation (`logs` has `step`, `val_loss`,
  `val_accuracy`, `test_loss`, `test_accuracy`); a deferred test pass comes
  as a second call for an earlier step, its logs marked `"deferred": True`,
- `on_train_end(logs)` once.

A callback that needs to see a particular step (say, the rewind step) lists it
in `pause_steps(start, end)`; the loop pauses there and nowhere else needlessly.
"""
import dataclasses
from collections.abc import Iterable

import tf_keras as keras


@dataclasses.dataclass(frozen=True)
class LoopSpec:
    """How one training run proceeds.

    Attributes:
      batch_size: the global batch size.
      start_step: global step at which this run's schedule and data order begin.
      end_step: global step at which training stops.
      data_seed: seed of the data order (and augmentation).
      augment: augment each training example (`pipeline.augment_batch`).
      augmentation: its kind, "crop_flip" (CIFAR) or "resized_crop" (ImageNet).
      eval_every: iterations between evaluations (0: only at the start and end).
      test_every: iterations between test evaluations. In between, the test set
        is evaluated only for a step where the validation loss reaches a new
        minimum, so the test accuracy at the early-stop step is always measured;
        that pass is deferred (the weights are kept aside) and made at the next
        pause of a callback that `needs_settled_tests` (a checkpoint) or at the
        end, or dropped if a lower validation loss comes first. 0: at every evaluation.
      jit_compile: compile the train step with XLA.
      eval_batch_size: batch size for validation and test passes.
      weight_decay: coupled L2 weight decay added to the gradients.
      label_smoothing: label smoothing of the training loss (see `losses.cross_entropy`).
    """

    batch_size: int
    start_step: int
    end_step: int
    data_seed: int
    augment: bool = False
    augmentation: str = "crop_flip"
    eval_every: int = 0
    test_every: int = 0
    jit_compile: bool = True
    eval_batch_size: int = 1000
    weight_decay: float = 0.0
    label_smoothing: float = 0.0

    def evaluation_steps(self) -> set[int]:
        """The steps the run evaluates at: its start and end, and every multiple of `eval_every`."""
        steps = {self.start_step, self.end_step}
        if self.eval_every > 0:
            steps.update(multiples(self.start_step, self.end_step, self.eval_every))
        return steps

    def test_due(self, step: int) -> bool:
        """Whether an evaluation at `step` also passes over the test set (see `test_every`)."""
        return (self.test_every <= 0 or step % self.test_every == 0
                or step in (self.start_step, self.end_step))


def multiples(first: int, end: int, every: int) -> range:
    """The multiples of `every` in [first, end): the steps a periodic event falls on."""
    return range(-(-first // every) * every, end, every)


class PausingCallback(keras.callbacks.Callback):
    """A callback that can ask the loop to pause at given steps.

    One that stores the evaluation curve at its pauses (a checkpoint) sets
    `needs_settled_tests`: a deferred test pass is then made before it sees them.
    """

    needs_settled_tests = False

    def pause_steps(self, start: int, end: int) -> Iterable[int]:
        return ()


class CallbackCalls:
    """Calls each callback in order (Keras' CallbackList assumes `fit`'s timing)."""

    def __init__(self, callbacks, model):
        self._callbacks = list(callbacks)
        for callback in self._callbacks:
            callback.set_model(model)

    def __getattr__(self, hook):
        def call(*args):
            for callback in self._callbacks:
                getattr(callback, hook)(*args)
        return call
