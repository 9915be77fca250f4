"""Holder files: who has a lock or a claim, kept fresh by a heartbeat.

A holder file is a small JSON record: host, pid, when it was taken (`since`), when it
was last refreshed (`beat`) and a random `token` naming this one taking. A holder is
alive while its process runs (judged by pid on the same host) or, on another host,
while its heartbeat is younger than `stale_after` seconds; a dead holder's file is
taken over.

Taking a file must be exclusive. A local disk offers an exclusive create: the record
is written to a temporary file and hard-linked to the holder name, which fails if the
name exists, so a reader never sees a half-written record. Other `tf.io.gfile`
backends (object stores) have no exclusive create: the record is written, then read
back after `SETTLE_SECONDS`; whoever's token is there won. Two takers that both read
their own token would still both go on, so a holder re-reads the file before it
writes results (`verify`) and at every heartbeat, and a holder that finds another
token stops. Runs are deterministic, so even the writes of a loser that got past
its last check are the same bytes the winner writes.
"""
import contextlib
import json
import os
import socket
import threading
import time
import uuid

import tensorflow as tf

from lottery_tf.errors import StoreError
from lottery_tf.storage import files, store

HEARTBEAT_SECONDS = 20.0
STALE_AFTER_SECONDS = 300.0
SETTLE_SECONDS = 1.0  # how long a taker on an object store waits before reading back


def new_holder(extra: dict | None = None) -> dict:
    """This process's holder record (a fresh token), with `extra` fields added."""
    now = time.time()
    return {"host": socket.gethostname(), "pid": os.getpid(), "since": now, "beat": now,
            "token": uuid.uuid4().hex, **(extra or {})}


def read_holder(path: str) -> dict | None:
    """The holder recorded in `path`, or None if absent or half-written."""
    try:
        holder = json.loads(files.read_bytes(path))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return holder if isinstance(holder, dict) and "pid" in holder else None


def holder_alive(holder: dict | None, stale_after: float = STALE_AFTER_SECONDS) -> bool:
    """Whether `holder` still works: its process runs (same host) or its heartbeat is fresh."""
    if not holder:
        return False
    if holder.get("host") == socket.gethostname():
        return store.process_alive(int(holder["pid"]))
    # Records of older versions have no heartbeat: their start time stands in for it.
    return time.time() - float(holder.get("beat", holder.get("since", 0))) < stale_after


def is_mine(holder: dict | None, mine: dict) -> bool:
    return bool(holder) and holder.get("token") == mine["token"]


def acquire(path: str, mine: dict, stale_after: float = STALE_AFTER_SECONDS) -> dict | None:
    """Takes `path` for `mine` unless a live holder has it.

    Returns:
      None if `mine` now holds it, else the live holder that keeps it.
    """
    files.makedirs(files.parent(path))
    for _ in range(3):
        holder = read_holder(path)
        if holder_alive(holder, stale_after) and not is_mine(holder, mine):
            return holder
        if (holder is not None or files.exists(path)) and read_holder(path) == holder:
            files.remove(path)  # its holder died (or a half-written record): take it over
        if _create(path, mine):
            return None
    return read_holder(path) or {"host": "?", "pid": "?", "since": time.time()}


def _create(path: str, mine: dict) -> bool:
    """Creates `path` holding `mine`, exclusively where the backend allows; True if ours."""
    data = json.dumps(mine).encode()
    if files.is_local(path):
        created = _link_exclusively(path.removeprefix("file://"), data, mine)
        if created is not None:
            return created
    if files.exists(path):
        return False
    store.atomic_write_bytes(path, data, crash_point=None)
    time.sleep(SETTLE_SECONDS)  # let a rival that read "absent" with us write too
    return is_mine(read_holder(path), mine)


def _link_exclusively(path: str, data: bytes, mine: dict) -> bool | None:
    """Hard-links a complete record to local `path`: True if created, False if it existed,
    None if this filesystem has no hard links (the caller writes and reads back instead)."""
    # Named like store's temporaries, so one left by a kill is cleaned up like theirs.
    temporary = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}."
                             f"{store.host_tag()}-{os.getpid()}.{mine['token'][:8]}.tmp")
    store.atomic_write_bytes(temporary, data, crash_point=None)
    try:
        os.link(temporary, path)
        return True
    except FileExistsError:
        return False
    except OSError:  # EPERM / ENOTSUP: some network and FUSE filesystems
        return None
    finally:
        os.remove(temporary)


def verify(path: str, mine: dict, what: str) -> None:
    """Raises unless `mine` still holds `path` (re-read now).

    Raises:
      StoreError: another process took it over; names that process.
    """
    holder = read_holder(path)
    if not is_mine(holder, mine):
        other = f"process {holder['pid']} on {holder['host']}" if holder else "nobody (it was deleted)"
        raise StoreError(f"{what} lost its lock {path} to {other} (judged dead: was the machine "
                         "suspended or the clock off?); its results are left to the new holder. "
                         "Rerun to continue once that process is done.")


def release(path: str, mine: dict) -> None:
    """Deletes `path` if `mine` still holds it."""
    if is_mine(read_holder(path), mine):
        files.remove(path)


@contextlib.contextmanager
def heartbeat(path: str, mine: dict, every: float = HEARTBEAT_SECONDS):
    """Refreshes `mine`'s `beat` in `path` every `every` seconds while the block runs.

    Yields an Event that is set if the holder file was found taken over; the beats
    stop then (the new holder's record is left alone).
    """
    stop, lost = threading.Event(), threading.Event()

    def beat():
        while not stop.wait(every):
            if not is_mine(read_holder(path), mine):
                lost.set()
                return
            mine["beat"] = time.time()
            with contextlib.suppress(StoreError, tf.errors.OpError, OSError):
                store.atomic_write_bytes(path, json.dumps(mine).encode(), crash_point=None)

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield lost
    finally:
        stop.set()
        thread.join()
