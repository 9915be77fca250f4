"""Atomic, checksummed files.

Every write goes to a temporary name and is renamed into place, so a reader
sees either the old file or the complete new one, even if the writer was killed
mid-write. JSON objects and array files carry a SHA-256 of their content, so a
file damaged later (a bad disk, a careless edit) is detected when read, and
`quarantine` moves it aside (kept, never deleted) for the caller to recompute.
"""
import contextlib
import glob
import hashlib
import io
import json
import os
import tempfile
import time
from collections.abc import Mapping

import numpy as np
from absl import logging

from lottery_tf.errors import CorruptFileError, StoreError
from lottery_tf.storage import crash_points

_TEMPORARY = ".tmp"
_JSON_CHECKSUM = "_sha256"
_ARRAYS_CHECKSUM = "__sha256__"


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Writes `data` to `path` atomically (temp file, fsync, rename)."""
    directory = os.path.dirname(os.path.abspath(path))
    prefix = f".{os.path.basename(path)}.{os.getpid()}."  # the pid tells whose temporary it is
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=prefix, suffix=_TEMPORARY)
        # mkstemp creates the file 0600; give it the mode `open` would (0666 less the umask).
        os.fchmod(fd, 0o666 & ~current_umask())
        _write_and_rename(fd, tmp, path, data)
    except OSError as error:
        raise StoreError(f"Cannot write {path} ({error.strerror}); free disk space or choose a "
                         "writable --root, then rerun: finished results are kept.") from error


def current_umask() -> int:
    """The process's umask, read without changing it where the system allows."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)  # elsewhere the only way to read it is to set it and put it back
    os.umask(mask)
    return mask


def _write_and_rename(fd: int, tmp: str, path: str, data: bytes) -> None:
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


def _json_digest(value) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def write_json(path: str, value) -> None:
    """Writes JSON atomically, keys sorted; an object also gets its checksum."""
    if isinstance(value, dict):
        value = {**value, _JSON_CHECKSUM: _json_digest(value)}
    atomic_write_bytes(path, (json.dumps(value, indent=2, sort_keys=True) + "\n").encode())


def read_json(path: str):
    """Reads JSON written by `write_json`, checking its checksum if it has one.

    Raises:
      CorruptFileError: not valid JSON, or the content does not match its checksum.
    """
    try:
        with open(path, "rb") as handle:
            value = json.loads(handle.read())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CorruptFileError(path, f"not valid JSON: {error}") from error
    if isinstance(value, dict) and _JSON_CHECKSUM in value:
        expected = value.pop(_JSON_CHECKSUM)
        if _json_digest(value) != expected:
            raise CorruptFileError(path, "its content does not match its checksum")
    return value


def _arrays_digest(arrays: Mapping[str, np.ndarray]) -> str:
    digest = hashlib.sha256()
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def save_arrays(path: str, arrays: Mapping[str, np.ndarray]) -> None:
    """Writes named arrays and their checksum as an .npz, atomically."""
    arrays = {name: np.asarray(value) for name, value in arrays.items()}
    buffer = io.BytesIO()
    np.savez(buffer, **arrays, **{_ARRAYS_CHECKSUM: np.array(_arrays_digest(arrays))})
    atomic_write_bytes(path, buffer.getvalue())


def load_arrays(path: str) -> dict[str, np.ndarray]:
    """Reads an .npz written by `save_arrays`, checking its checksum.

    Raises:
      CorruptFileError: the file is truncated, damaged or fails its checksum.
    """
    try:
        with np.load(path) as data:
            arrays = {name: data[name] for name in data.files}
    except FileNotFoundError:
        raise StoreError(f"{path} is missing; rerun the command that writes it.") from None
    except Exception as error:  # zipfile.BadZipFile, CRC errors, truncation, bad headers
        raise CorruptFileError(path, f"unreadable: {error}") from error
    expected = arrays.pop(_ARRAYS_CHECKSUM, None)
    if expected is not None and _arrays_digest(arrays) != str(expected):
        raise CorruptFileError(path, "its content does not match its checksum")
    return arrays


def quarantine(path: str) -> str:
    """Moves a corrupt file or folder aside (`.corrupt-<time>-<name>`, kept); returns the new path."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    moved = os.path.join(os.path.dirname(path), f".corrupt-{stamp}-{os.path.basename(path)}")
    os.replace(path, moved)
    logging.warning("%s is corrupt; moved aside to %s and recomputing it.", path, moved)
    return moved
