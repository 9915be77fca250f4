"""Atomic files: every write goes to a temporary name and is renamed into place.

A reader therefore sees either the old file or the complete new one, never a
half-written file, even if the process is killed mid-write.
"""
import contextlib
import glob
import io
import json
import os
import tempfile
from collections.abc import Mapping

import numpy as np

from lottery_tf.errors import StoreError
from lottery_tf.experiments import crash_points

_TEMPORARY = ".tmp"


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Writes `data` to `path` atomically (temp file, fsync, rename)."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    prefix = f".{os.path.basename(path)}.{os.getpid()}."  # the pid tells whose temporary it is
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=prefix, suffix=_TEMPORARY)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data[:len(data) // 2])
            handle.flush()
            crash_points.reach("mid_write")
            handle.write(data[len(data) // 2:])
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def remove_dead_temporaries(directory: str) -> list[str]:
    """Deletes temporaries left in `directory` by processes killed mid-write; returns them."""
    removed = []
    for path in glob.glob(os.path.join(directory, f".*{_TEMPORARY}")):
        pid = os.path.basename(path).rsplit(".", 3)[-3]
        if pid.isdigit() and not process_alive(int(pid)):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
                removed.append(path)
    return removed


def process_alive(pid: int) -> bool:
    """Whether process `pid` exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_json(path: str, value) -> None:
    """Writes JSON atomically, keys sorted for stable diffs."""
    atomic_write_bytes(path, (json.dumps(value, indent=2, sort_keys=True) + "\n").encode())


def read_json(path: str):
    """Reads JSON written by `write_json`.

    Raises:
      StoreError: the file is not valid JSON (named, with what to do).
    """
    try:
        with open(path) as handle:
            return json.load(handle)
    except json.JSONDecodeError as error:
        raise StoreError(f"{path} is corrupt ({error}); delete it and rerun to recompute it.") from error


def save_arrays(path: str, arrays: Mapping[str, np.ndarray]) -> None:
    """Writes named arrays as an .npz atomically."""
    buffer = io.BytesIO()
    np.savez(buffer, **{name: np.asarray(value) for name, value in arrays.items()})
    atomic_write_bytes(path, buffer.getvalue())


def load_arrays(path: str) -> dict[str, np.ndarray]:
    """Reads an .npz written by `save_arrays` (zip CRCs catch corruption).

    Raises:
      StoreError: the file is truncated or corrupt.
    """
    try:
        with np.load(path) as data:
            return {name: data[name] for name in data.files}
    except (OSError, ValueError, EOFError, KeyError) as error:
        raise StoreError(f"{path} is unreadable ({error}); delete it and rerun to recompute it.") from error
    except Exception as error:  # zipfile.BadZipFile and CRC errors
        raise StoreError(f"{path} is corrupt ({error}); delete it and rerun to recompute it.") from error
