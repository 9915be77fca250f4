"""One writer per training run: `<run folder>/.lock` names the process that holds it.

Two processes training the same level (or branch) would overwrite each other's
checkpoints. The lock is a holder file (storage/holders.py): taken exclusively where
the filesystem allows, refreshed by a heartbeat, re-read before the run's results are
written. A lock whose holder died (on this host: its pid is gone; elsewhere: its
heartbeat stopped) is taken over; a live holder is refused by name.
"""
import contextlib
import time

from lottery_tf.errors import StoreError
from lottery_tf.storage import files, holders

LOCK = ".lock"


class Lease:
    """A held run lock: `verify()` before writing results that must have one writer."""

    def __init__(self, path: str, holder: dict):
        self.path = path
        self.holder = holder

    def verify(self) -> None:
        """Raises StoreError if another process took the lock over."""
        holders.verify(self.path, self.holder, f"This run ({files.parent(self.path)})")


@contextlib.contextmanager
def run_lock(directory: str, heartbeat_seconds: float = holders.HEARTBEAT_SECONDS):
    """Holds `<directory>/.lock` for the duration of the block; yields its `Lease`.

    Raises:
      StoreError: another live process holds the lock.
    """
    path = files.join(directory, LOCK)
    mine = holders.new_holder()
    holder = holders.acquire(path, mine)
    if holder is not None:
        elsewhere = "" if holder.get("host") == mine["host"] else (
            f" If that process is gone, delete {path} (or wait "
            f"{holders.STALE_AFTER_SECONDS:.0f} s after its last heartbeat: it is then taken over).")
        raise StoreError(
            f"{directory} is being written by process {holder['pid']} on {holder['host']} "
            f"(since {time.ctime(float(holder['since']))}); wait for it to finish or stop it.{elsewhere}")
    try:
        with holders.heartbeat(path, mine, heartbeat_seconds):
            yield Lease(path, mine)
    finally:
        holders.release(path, mine)
