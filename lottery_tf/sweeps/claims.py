"""Which worker holds a unit, and what became of it: files under `<experiment>/sweep/<unit id>/`.

- `claim.json`: created atomically (O_EXCL) by the worker running the unit, naming its
  host and pid and refreshed by a heartbeat. A claim whose holder died on this host,
  or whose heartbeat stopped for `stale_after` seconds (any host), is taken over.
- `done.json`: the unit finished (written after its results).
- `failed.json`: the unit raised; the error is kept and workers skip the unit until
  the file is deleted (or a worker runs with --retry_failed).

The claim only schedules: the run folders' own locks (storage/lock.py) still
guarantee one writer per run even if two workers judged a claim stale at once.
"""
import contextlib
import json
import os
import socket
import threading
import time

from lottery_tf.storage import store

CLAIM, DONE, FAILED = "claim.json", "done.json", "failed.json"
HEARTBEAT_SECONDS = 20.0
STALE_AFTER_SECONDS = 300.0


def sweep_dir(experiment_dir: str) -> str:
    return os.path.join(experiment_dir, "sweep")


def unit_dir(experiment_dir: str, unit_id: str) -> str:
    return os.path.join(sweep_dir(experiment_dir), unit_id)


def read_holder(directory: str) -> dict | None:
    """The claim in `directory`, or None if there is none (or it is half-written)."""
    return read_holder_file(os.path.join(directory, CLAIM))


def read_holder_file(path: str) -> dict | None:
    """A lock or claim file's holder (host, pid, ...), or None if absent or half-written."""
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, json.JSONDecodeError):
        return None


def holder_alive(holder: dict | None, stale_after: float = STALE_AFTER_SECONDS) -> bool:
    """Whether a claim's holder still works on it."""
    if not holder:
        return False
    if holder.get("host") == socket.gethostname():
        return store.process_alive(int(holder["pid"]))
    return time.time() - float(holder.get("beat", 0)) < stale_after


def me() -> dict:
    now = time.time()
    return {"host": socket.gethostname(), "pid": os.getpid(), "since": now, "beat": now}


def try_claim(directory: str, extra: dict, stale_after: float = STALE_AFTER_SECONDS) -> bool:
    """Claims the unit in `directory` for this process; False if a live worker holds it."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, CLAIM)
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            if holder_alive(read_holder(directory), stale_after):
                return False
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)  # its worker died: take the unit over
            continue
        with os.fdopen(fd, "w") as handle:
            json.dump({**me(), **extra}, handle)
        return True
    return False  # another worker took it over between our two attempts


def _mine(holder: dict | None) -> bool:
    return bool(holder) and holder.get("pid") == os.getpid() and holder.get("host") == socket.gethostname()


@contextlib.contextmanager
def heartbeat(directory: str, every: float = HEARTBEAT_SECONDS):
    """Refreshes this process's claim in `directory` while the block runs, then releases it."""
    stop = threading.Event()

    def beat():
        while not stop.wait(every):
            holder = read_holder(directory)
            if not _mine(holder):
                return  # taken over (we were judged dead): stop touching it
            _replace(os.path.join(directory, CLAIM), {**holder, "beat": time.time()})

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        if _mine(read_holder(directory)):
            os.remove(os.path.join(directory, CLAIM))


def _replace(path: str, holder: dict) -> None:
    """Rewrites a claim by rename (readers never see half of it). Not through store.py: its
    crash points count writes, and a heartbeat's timing would make them non-deterministic."""
    temporary = f"{path}.{os.getpid()}.beat"
    with open(temporary, "w") as handle:
        json.dump(holder, handle)
    os.replace(temporary, path)


def record(directory: str, outcome: str, value: dict) -> None:
    """Writes `done.json` or `failed.json` for the unit (with who and when)."""
    store.write_json(os.path.join(directory, outcome),
                     {**value, "host": socket.gethostname(), "pid": os.getpid(), "time": time.time()})


def outcome(directory: str) -> str | None:
    """'done', 'failed' or None."""
    if os.path.exists(os.path.join(directory, DONE)):
        return "done"
    if os.path.exists(os.path.join(directory, FAILED)):
        return "failed"
    return None
