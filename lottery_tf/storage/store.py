"""Atomic, checksummed files, on any `tf.io.gfile` filesystem.

Every write goes to a hidden temporary name in the same folder and is renamed into
place. On a local disk the rename is atomic (and the data is fsynced first), so a
reader sees either the old file or the complete new one, even if the writer was
killed mid-write. Object stores have no atomic rename (it is a copy and a delete)
and show nothing of an upload before it completes; there the second guarantee
carries the weight: JSON objects and array files carry a SHA-256 of their content,
and a file counts only once it verifies. A damaged file is detected when read, and
`quarantine` moves it aside (kept, never deleted) for the caller to recompute.
"""
import hashlib
import io
import json
import os
import socket
import time
import uuid
from collections.abc import Mapping

import numpy as np
import tensorflow as tf
from absl import logging

from lottery_tf.errors import CorruptFileError, StoreError
from lottery_tf.storage import crash_points, files

_TEMPORARY = ".tmp"
_JSON_CHECKSUM = "_sha256"
_ARRAYS_CHECKSUM = "__sha256__"


def host_tag() -> str:
    """A short, dot-free tag of this machine's name (temporaries name their writer by it)."""
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def atomic_write_bytes(path: str, data: bytes, crash_point: str | None = "mid_write") -> None:
    """Writes `data` to `path` atomically (temporary file, fsync on a local disk, rename).

    Args:
      path: the file to write, local or any `tf.io.gfile` URL.
      data: its whole new content.
      crash_point: the crash point reached halfway through (None: none, for writes whose
        timing varies, such as heartbeats, which would make a test's count non-deterministic).

    Raises:
      StoreError: the folder is not writable (full disk, no permission, no bucket).
    """
    directory = files.parent(path)
    # Whose temporary it is: the host tag and pid let `remove_dead_temporaries` judge it.
    name = f".{os.path.basename(path)}.{host_tag()}-{os.getpid()}.{uuid.uuid4().hex[:8]}{_TEMPORARY}"
    tmp = files.join(directory, name)
    try:
        files.makedirs(directory)
        _write_and_rename(tmp, path, data, crash_point)
    except (OSError, tf.errors.OpError) as error:
        raise files.write_error(path, error) from error


def _write_and_rename(tmp: str, path: str, data: bytes, crash_point: str | None) -> None:
    try:
        with tf.io.gfile.GFile(tmp, "wb") as handle:
            handle.write(data[:len(data) // 2])
            handle.flush()
            if crash_point:
                crash_points.reach(crash_point)
            handle.write(data[len(data) // 2:])
        if files.is_local(tmp):
            _fsync(tmp)
        files.rename(tmp, path)
    except BaseException:
        files.remove(tmp)
        raise


def _fsync(path: str) -> None:
    """Forces a local file's data to disk before it is renamed into place (gfile cannot)."""
    fd = os.open(path.removeprefix("file://"), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_dead_temporaries(directory: str) -> list[str]:
    """Deletes temporaries left in `directory` by processes of this host killed mid-write.

    Temporaries of other hosts are left: their writers may live (hidden names, nothing
    reads them). Returns the paths deleted.
    """
    removed = []
    for path in files.glob(files.join(directory, f".*{_TEMPORARY}")):
        writer = os.path.basename(path).rsplit(".", 3)[-3]
        host, _, pid = writer.rpartition("-")
        mine = host in ("", host_tag())  # no tag: written by an older version, locally
        if mine and pid.isdigit() and not process_alive(int(pid)) and files.remove(path):
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
        value = json.loads(files.read_bytes(path))
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
        with np.load(io.BytesIO(files.read_bytes(path))) as data:
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
    moved = files.join(files.parent(path), f".corrupt-{stamp}-{os.path.basename(path.rstrip('/'))}")
    files.rename(path, moved)
    logging.warning("%s is corrupt; moved aside to %s and recomputing it.", path, moved)
    return moved
