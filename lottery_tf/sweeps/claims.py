"""Which worker holds a unit, and what became of it: files under `<experiment>/sweep/<unit id>/`.

- `claim.json`: a holder file (storage/holders.py) naming the worker running the unit,
  taken exclusively where the filesystem allows (else written and read back) and
  refreshed by a heartbeat. A claim whose holder died on this host, or whose heartbeat
  stopped for `stale_after` seconds (any host), is taken over.
- `done.json`: the unit finished (written after its results).
- `failed.json`: the unit raised; the error is kept and workers skip the unit until
  the file is deleted (or a worker runs with --retry_failed).

The claim only schedules: the run folders' own locks (storage/lock.py) still
guarantee one writer per run even if two workers judged a claim stale at once.
"""
import contextlib
import os
import socket
import time

from lottery_tf.storage import files, holders, store

CLAIM, DONE, FAILED = "claim.json", "done.json", "failed.json"
HEARTBEAT_SECONDS = holders.HEARTBEAT_SECONDS
STALE_AFTER_SECONDS = holders.STALE_AFTER_SECONDS
_held: dict[str, dict] = {}  # unit folder -> this process's holder record of its claim


def sweep_dir(experiment_dir: str) -> str:
    return files.join(experiment_dir, "sweep")


def unit_dir(experiment_dir: str, unit_id: str) -> str:
    return files.join(sweep_dir(experiment_dir), unit_id)


def read_holder(directory: str) -> dict | None:
    """The claim in `directory`, or None if there is none (or it is half-written)."""
    return holders.read_holder(files.join(directory, CLAIM))


def holder_alive(holder: dict | None, stale_after: float = STALE_AFTER_SECONDS) -> bool:
    """Whether a claim's (or a run lock's) holder still works on it."""
    return holders.holder_alive(holder, stale_after)


def me() -> dict:
    """A holder record of this process (a fresh token)."""
    return holders.new_holder()


def try_claim(directory: str, extra: dict, stale_after: float = STALE_AFTER_SECONDS) -> bool:
    """Claims the unit in `directory` for this process; False if a live worker holds it."""
    mine = holders.new_holder(extra)
    if holders.acquire(files.join(directory, CLAIM), mine, stale_after) is not None:
        return False
    _held[directory] = mine
    return True


@contextlib.contextmanager
def heartbeat(directory: str, every: float = HEARTBEAT_SECONDS):
    """Refreshes this process's claim in `directory` while the block runs, then releases it.

    A claim found taken over (this worker was judged dead) is neither refreshed nor released.
    """
    mine = _held[directory]
    path = files.join(directory, CLAIM)
    try:
        with holders.heartbeat(path, mine, every):
            yield
    finally:
        holders.release(path, mine)
        _held.pop(directory, None)


def record(directory: str, outcome: str, value: dict) -> None:
    """Writes `done.json` or `failed.json` for the unit (with who and when)."""
    store.write_json(files.join(directory, outcome),
                     {**value, "host": socket.gethostname(), "pid": os.getpid(), "time": time.time()})


def clear(directory: str, outcome: str) -> None:
    """Deletes the unit's `outcome` file if there is one (an earlier failure, now retried)."""
    files.remove(files.join(directory, outcome))


def outcome(directory: str) -> str | None:
    """'done', 'failed' or None."""
    if files.exists(files.join(directory, DONE)):
        return "done"
    if files.exists(files.join(directory, FAILED)):
        return "failed"
    return None
