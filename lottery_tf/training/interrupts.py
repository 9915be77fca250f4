"""Ctrl-C during training stops at the next pause, not inside TensorFlow.

Python raises KeyboardInterrupt wherever the main thread is when SIGINT
arrives; inside TensorFlow's Python layers (converting a tensor mid-step) that
has crashed the process instead of stopping it. While a `Trainer` runs, the
first SIGINT is only recorded, and the loop raises KeyboardInterrupt itself at
its next pause, after that pause's evaluation and checkpoint. A second SIGINT
raises at once, for a user who will not wait. Threads other than the main one
cannot install signal handlers and keep Python's behaviour.
"""
import signal
import threading


class DeferredInterrupt:
    """A context in which SIGINT is held until `raise_if_requested` (or the context's end)."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self) -> "DeferredInterrupt":
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._hold)
        return self

    def _hold(self, signum, frame) -> None:
        if self.requested:  # the second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.requested = True

    def raise_if_requested(self) -> None:
        """Raises KeyboardInterrupt if SIGINT arrived since the context began."""
        if self.requested:
            raise KeyboardInterrupt

    def __exit__(self, kind, value, traceback) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        if kind is None:
            self.raise_if_requested()  # arrived during the last steps: stop before the next run
