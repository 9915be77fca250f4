"""One writer per training run: a lock file naming the process that holds it.

Two processes training the same level (or branch) would overwrite each other's
checkpoints. The lock is created atomically (O_EXCL); a lock left by a process
that died on this machine is taken over, any other refuses with the holder's name.
"""
import contextlib
import json
import os
import socket
import time

from lottery_tf.errors import StoreError
from lottery_tf.storage import store


def _read_holder(path: str) -> dict:
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, json.JSONDecodeError):
        return {}  # half-written by a process killed mid-write: nobody holds it


@contextlib.contextmanager
def run_lock(directory: str):
    """Holds `<directory>/.lock` for the duration of the block.

    Raises:
      StoreError: another live process holds the lock.
    """
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, ".lock")
    me = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _read_holder(path)
            same_host = holder.get("host") == me["host"]
            if holder and (not same_host or store.process_alive(int(holder["pid"]))):
                raise StoreError(
                    f"{directory} is being written by process {holder['pid']} on {holder['host']} "
                    f"(since {time.ctime(holder['since'])}); wait for it to finish or stop it. "
                    + ("" if same_host else f"If that process is gone, delete {path}.")) from None
            os.remove(path)  # left by a dead process: take it over
            continue
        with os.fdopen(fd, "w") as handle:
            json.dump(me, handle)
        break
    try:
        yield
    finally:
        if _read_holder(path).get("pid") == me["pid"]:
            os.remove(path)
