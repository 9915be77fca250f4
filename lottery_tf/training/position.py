"""Where training is (which run, which step), for the command line's Ctrl-C line.

This module holds lottery_tf's one piece of module-level mutable state, on
purpose: the command line catches KeyboardInterrupt far above the training
loop, and nothing between them should carry a position around for a message.
`Trainer.run` records the step it starts at and each step it reaches and clears
the record when the run ends; the console callbacks name the run (they hold its
label). A process trains one run at a time, so one record serves. Nothing
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


def start(step: int) -> None:
    """A run starts (or resumes) at `step`; its name follows from `name_run`."""
    _current.run, _current.step = None, step


def name_run(label: str) -> None:
    """Names the run being trained, from its console label (see `run_name`)."""
    _current.run = run_name(label)


def reach(step: int) -> None:
    """The run being trained has completed `step` iterations."""
    _current.step = step


def clear() -> None:
    """The run ended: no run is being trained."""
    _current.run, _current.step = None, None


def current() -> Position:
    """A copy of the record."""
    return dataclasses.replace(_current)


def run_name(label: str) -> str:
    """'[rep 0 level 2  64.1%]' (a console label) -> 'replicate 0 level 2'.

    Branch labels keep their branch: '[rep 0 level 1 reinit  80.1%]' ->
    'replicate 0 level 1 reinit'.
    """
    name = re.sub(r"\s+[\d.]+%$", "", label.strip().strip("[]").strip())
    return re.sub(r"^rep (\d+)\b", r"replicate \1", name)


def interrupted_message() -> str:
    """The one line the command line prints when the user interrupts it."""
    position = current()
    if position.step is None:
        return "interrupted; run the same command to resume (finished work is kept)"
    where = f" of {position.run}" if position.run else ""
    return f"interrupted at step {position.step}{where}; run the same command to resume"


def resume_message(label: str, step: int) -> str:
    """The line a run resumed from its checkpoint prints first."""
    return f"resuming {run_name(label)} at step {step} from its checkpoint"
