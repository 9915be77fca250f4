"""The early-bird callback: draws the next mask as training goes and stops once it settles.

The mask math (distance, when it has settled) is `pruning/early_bird.py`; this
callback only decides when to look and asks the loop to stop, the Keras way
(`model.stop_training`; `Trainer.run` ends the run at that pause). Its state
(the last draw, the distances, the step it stopped at) travels with the level's
checkpoints (`LevelCheckpoint`'s `states`), so a level killed mid-way resumes to
the same stop.
"""
from collections.abc import Callable

import numpy as np

from lottery_tf.pruning import early_bird
from lottery_tf.training.loop_spec import PausingCallback, multiples

STATE_NAME = "early_bird"


class EarlyBirdStop(PausingCallback):
    """Every `check_every` iterations draws the next mask; stops training when the last
    `window` distances between consecutive draws are all under `threshold`.

    Attributes:
      drawn_step: the step whose draw settled (training stopped there), or None.
      drawn: that draw (layer name -> 0/1 mask), or None.
      distances: the distances so far, oldest first (the last `window` are kept).
    """

    def __init__(self, draw: Callable[[], dict[str, np.ndarray]], alive: dict[str, np.ndarray],
                 check_every: int, threshold: float, window: int, not_before: int = 0):
        """`draw` returns the mask the pruning would draw from the current weights; `alive`
        is the level's mask; no check falls before step `not_before` (level 0 must reach
        the rewind point, whose weights it records)."""
        super().__init__()
        self._draw = draw
        self._alive = alive
        self._every = check_every
        self._threshold = threshold
        self._window = window
        self._not_before = not_before
        self._previous: dict[str, np.ndarray] | None = None
        self.distances: list[float] = []
        self.drawn_step: int | None = None
        self.drawn: dict[str, np.ndarray] | None = None

    def pause_steps(self, start, end):
        # Not at the start (nothing trained yet), nor at the end (it would stop nothing).
        return multiples(max(start + 1, self._not_before), end, self._every)

    def on_train_begin(self, logs=None):
        if self.drawn_step is not None:  # resumed from a checkpoint written at the stop
            self.model.stop_training = True

    def on_train_batch_end(self, batch, logs=None):
        if batch % self._every or batch < self._not_before or self.drawn_step is not None:
            return
        current = self._draw()
        if self._previous is not None:
            distance = early_bird.mask_distance(self._previous, current, self._alive)
            self.distances = [*self.distances, distance][-self._window:]
        self._previous = current
        if early_bird.settled(self.distances, self._window, self._threshold):
            self.drawn_step, self.drawn = batch, current
            self.model.stop_training = True

    def checkpoint_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """(JSON state, arrays) for the level's checkpoint."""
        arrays = {} if self._previous is None else dict(self._previous)
        return {"distances": self.distances, "drawn_step": self.drawn_step,
                "has_draw": self._previous is not None}, arrays

    def restore_checkpoint_state(self, state: dict, arrays: dict[str, np.ndarray]) -> None:
        """Takes back what `checkpoint_state` gave."""
        self.distances = list(state["distances"])
        self._previous = dict(arrays) if state["has_draw"] else None
        self.drawn_step = state["drawn_step"]
        self.drawn = self._previous if self.drawn_step is not None else None
