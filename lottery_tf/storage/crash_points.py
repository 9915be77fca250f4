"""Named moments at which a test can kill this process with SIGKILL.

`LOTTERY_TF_CRASH_AT=<point>:<n>` makes the process kill itself the n-th time
it reaches `<point>` (n defaults to 1). Reliability tests use it to kill real
runs at moments a timer cannot hit on purpose: halfway through writing a file,
between writing a checkpoint and marking it complete, between pruning and
rewinding. Unset (always, outside those tests), `reach` does nothing.
"""
import collections
import os
import signal

POINTS = ("mid_write", "checkpoint_written", "pruned", "pause", "level_done")
_reached = collections.Counter()


def reach(point: str) -> None:
    """Dies here if LOTTERY_TF_CRASH_AT names this point and visit."""
    target = os.environ.get("LOTTERY_TF_CRASH_AT")
    if not target:
        return
    name, _, nth = target.partition(":")
    if name not in POINTS:  # a typo would otherwise never kill, and the test would just hang
        raise ValueError(f"LOTTERY_TF_CRASH_AT={target!r} names no crash point; choose one of {POINTS}.")
    if name != point:
        return
    _reached[point] += 1
    if _reached[point] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
