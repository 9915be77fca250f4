"""Where training is (which run, which step), for the command line's Ctrl-C line.

This module holds lottery_tf's one piece of module-level mutable state, on
purpose: the command line catches KeyboardInterrupt far above the training
loop, and nothing between them should carry a position around for a message.
The runner names the run (`name_run`, before `Trainer.run`); `Trainer.run`
records the step it starts at and each step it reaches and clears the record
when the run ends. A process trains one run at a time, so one record serves. Nothing
decides anything from it; it only words messages. It loads no TensorFlow.
"""
import dataclasses
import re


@dataclasses.dataclass
class Position:
    """The run being trained and the last step it reached (None: not training)."""

    run: str | None = None
    step: int | None = None


_current = Position()


def name_run(label: str) -> None:
    """Names the run about to train, from its plan label: 'rep 0 level 2' -> 'replicate 0 level 2'
    (a branch keeps its name: 'rep 0 level 1 reinit' -> 'replicate 0 level 1 reinit')."""
    _current.run = re.sub(r"^rep (\d+)\b", r"replicate \1", label.strip())


def start(step: int) -> None:
    """The named run starts (or resumes) at `step`."""
    _current.step = step


def reach(step: int) -> None:
    """The run being trained has completed `step` iterations."""
    _current.step = step


def clear() -> None:
    """The run ended: no run is being trained."""
    _current.run, _current.step = None, None


def current() -> Position:
    """A copy of the record."""
    return dataclasses.replace(_current)


def interrupted_message() -> str:
    """The one line the command line prints when the user interrupts it."""
    position = current()
    if position.step is None:
        return "interrupted; run the same command to resume (finished work is kept)"
    where = f" of {position.run}" if position.run else ""
    return f"interrupted at step {position.step}{where}; run the same command to resume"


def resume_message(step: int) -> str:
    """The line the named run, resumed from its checkpoint at `step`, prints first."""
    return f"resuming {_current.run or 'the run'} at step {step} from its checkpoint"
