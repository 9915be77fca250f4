"""One built and compiled trainer kept per process, reused by the next run that fits it.

A masked run's fixed cost is mostly building: constructing and wrapping the
model, tracing the training step and the evaluation, and compiling them with
XLA. The runs one process makes for an experiment (every trunk level, every
control off it) train the same architecture with the same optimizer from the
same step, so the next run takes over the previous run's model, optimizer and
trainer with its own weights and masks and a zeroed optimizer state: the same
computation as a fresh build (tests/experiments/test_trainer_pool.py checks the
weights are identical), without rebuilding. `scripts/benchmark_experiment.py`
measures what it saves.
"""
import dataclasses
from collections.abc import Callable

import tf_keras as keras

from lottery_tf.training.loop import LoopSpec, Trainer


@dataclasses.dataclass
class _Kept:
    setup: object
    start_step: int
    model: keras.Model
    optimizer: keras.optimizers.Optimizer
    trainer: Trainer


_kept: list[_Kept] = []  # at most one: the last trainer built


def _reusable(model: keras.Model) -> bool:
    """Whether a later run may take over `model`'s trainer (tests turn reuse off here).

    Always: nothing one run leaves behind reaches the next. The optimizer state is
    zeroed, and random layers (dropout, noise) draw from (seed, step) without state
    (`training/random_layers.py`); their seed is traced in, so `Trainer.reset`
    refuses another one.
    """
    del model
    return True


def trainer_for(setup, start_step: int, spec: LoopSpec,
                build: Callable[[], tuple[keras.Model, keras.optimizers.Optimizer, Trainer]],
                load: Callable[[keras.Model], None]):
    """The model, optimizer and trainer for a run.

    Args:
      setup: the experiment's Setup; only its runs share a trainer.
      start_step: the run's first global step (the optimizer's schedule starts there).
      spec: the run's loop spec.
      build: builds (model, optimizer, trainer) with the run's weights and masks loaded.
      load: loads the run's weights and masks into a model `build` made.

    Returns:
      (model, optimizer, trainer), ready for `trainer.run`.
    """
    kept = _kept[0] if _kept else None
    if kept is not None and kept.setup is setup and kept.start_step == start_step:
        try:
            with setup.strategy.scope():
                load(kept.model)
            kept.trainer.reset(spec)
            return kept.model, kept.optimizer, kept.trainer
        except ValueError:  # the step was compiled for other settings: build anew
            pass
    _kept.clear()
    keras.backend.clear_session()
    model, optimizer, trainer = build()
    if _reusable(model):
        _kept.append(_Kept(setup, start_step, model, optimizer, trainer))
    return model, optimizer, trainer


def forget() -> None:
    """Drops the kept trainer (tests; or to free its memory)."""
    _kept.clear()
