"""Timing in turns: several trainings built once, each training one segment while the others wait.

A slow spell of a shared machine then hits neighbouring segments alike, so
each round gives one fair ratio between the trainings. Used by the benchmarks
in this folder.
"""
import threading
import time

from lottery_tf.training.loop import PausingCallback


class Turns:
    """Lets several threads train one at a time, in a fixed rotation."""

    def __init__(self, count: int):
        self._go = [threading.Event() for _ in range(count)]
        self._done = [False] * count
        self._go[0].set()

    def wait(self, index: int):
        self._go[index].wait()
        self._go[index].clear()

    def pass_on(self, index: int, finished: bool = False):
        self._done[index] = finished
        for offset in range(1, len(self._go) + 1):
            following = (index + offset) % len(self._go)
            if not self._done[following]:
                self._go[following].set()
                return
        # Everyone has finished.


class Variant:
    """One way of training, timed segment by segment between turns."""

    def __init__(self, name: str, turns: Turns, index: int, rounds: int):
        self.name, self.turns, self.index, self.rounds = name, turns, index, rounds
        self.segment_seconds: list[float] = []
        self.setup_seconds = 0.0  # build and compile, up to the first boundary
        self._resumed = None
        self.error = None

    def boundary(self):
        """Called at each segment boundary: record, then let the others train."""
        now = time.perf_counter()
        if self._resumed is None:
            self.setup_seconds = now - self._started
        else:
            self.segment_seconds.append(now - self._resumed)
        finished = len(self.segment_seconds) == self.rounds
        self.turns.pass_on(self.index, finished)
        if not finished:
            self.turns.wait(self.index)
        self._resumed = time.perf_counter()

    def run(self, train):
        self.turns.wait(self.index)
        self._started = time.perf_counter()
        try:
            train(self)
        except BaseException as error:  # reported by the main thread
            self.error = error
            self.turns.pass_on(self.index, finished=True)


class SegmentClock(PausingCallback):
    """Hands the turn on at every segment boundary."""

    def __init__(self, variant: Variant, boundaries: list[int]):
        super().__init__()
        self.variant, self.boundaries = variant, boundaries

    def pause_steps(self, start, end):
        return self.boundaries

    def on_train_batch_end(self, step, logs=None):
        if step in self.boundaries:
            self.variant.boundary()


def run_in_turns(trainings: dict, rounds: int, label: str) -> dict:
    """Runs each `name -> train(variant)` in its own thread, in turns; returns name -> `Variant`.

    Raises:
      RuntimeError: a training failed (its error chained).
    """
    turns = Turns(len(trainings))
    variants, threads = {}, []
    for index, (name, train) in enumerate(trainings.items()):
        variant = variants[name] = Variant(name, turns, index, rounds)
        threads.append(threading.Thread(target=variant.run, args=(train,), daemon=True))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for variant in variants.values():
        if variant.error is not None:
            raise RuntimeError(f"{label} {variant.name} failed") from variant.error
    return variants
