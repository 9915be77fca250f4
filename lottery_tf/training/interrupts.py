"""Ctrl-C during training stops at the next pause, not inside TensorFlow.

Python raises KeyboardInterrupt wherever the main thread is when SIGINT
arrives; inside TensorFlow's Python layers (converting a tensor mid-step,
restoring or tracing) that has crashed the process or been swallowed there
instead of stopping it. While a `DeferredInterrupt` context is open (a `Trainer`
run; the whole of a training command), the first SIGINT is only recorded, and
the training loop raises KeyboardInterrupt itself at its next pause, after that
pause's evaluation and checkpoint, or the context raises it when it closes. A
second SIGINT raises at once, for a user who will not wait. Threads other than
the main one cannot install signal handlers and keep Python's behaviour.
"""
import signal
import threading

_state = {"depth": 0, "requested": False, "previous": None}


def _hold(signum, frame) -> None:
    if _state["requested"]:  # the second Ctrl-C: stop now
        _state["requested"] = False
        raise KeyboardInterrupt
    _state["requested"] = True


def requested() -> bool:
    """Whether a SIGINT is waiting to be raised."""
    return _state["requested"]


def raise_if_requested() -> None:
    """Raises KeyboardInterrupt (once) if a SIGINT arrived inside an open context."""
    if _state["requested"]:
        _state["requested"] = False
        raise KeyboardInterrupt


class DeferredInterrupt:
    """A context in which SIGINT is held until `raise_if_requested` or the context's end.

    Contexts nest: the outermost installs the handler and restores the previous one.
    """

    def __init__(self):
        self._installed = False

    def __enter__(self) -> "DeferredInterrupt":
        if threading.current_thread() is threading.main_thread():
            if _state["depth"] == 0:
                _state["previous"] = signal.signal(signal.SIGINT, _hold)
            _state["depth"] += 1
            self._installed = True
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if self._installed:
            self._installed = False
            _state["depth"] -= 1
            if _state["depth"] == 0:
                signal.signal(signal.SIGINT, _state["previous"])
                _state["previous"] = None
        if kind is None:
            raise_if_requested()  # arrived after the last check: stop before anything else runs
