"""File operations on any filesystem TensorFlow knows, through `tf.io.gfile`.

A results root may be a local folder, `gs://bucket/runs`, or TensorFlow's in-memory
`ram://` (tests). Everything in the storage layer reads, lists and deletes through
these few functions, so a missing file looks the same on every backend
(`FileNotFoundError`) and nothing else needs to know which backend it is on.
"""
import os
import posixpath

import tensorflow as tf

from lottery_tf.errors import StoreError

gfile = tf.io.gfile


def is_local(path: str) -> bool:
    """Whether `path` is on the local filesystem (no scheme, or `file://`)."""
    return "://" not in path or path.startswith("file://")


def join(path: str, *names: str) -> str:
    """`os.path.join` for local paths; `/`-joined for URLs (the same on POSIX)."""
    return os.path.join(path, *names) if is_local(path) else posixpath.join(path, *names)


def parent(path: str) -> str:
    """The folder holding `path` ('.' for a bare local name)."""
    if is_local(path):
        return os.path.dirname(path) or "."
    return posixpath.dirname(path)


def exists(path: str) -> bool:
    return gfile.exists(path)


def isdir(path: str) -> bool:
    return gfile.isdir(path)


def isfile(path: str) -> bool:
    return gfile.exists(path) and not gfile.isdir(path)


def listdir(path: str) -> list[str]:
    """The names in folder `path`, sorted; [] if it does not exist."""
    try:
        return sorted(name.rstrip("/") for name in gfile.listdir(path))
    except tf.errors.NotFoundError:
        return []


def glob(pattern: str) -> list[str]:
    """Paths matching `pattern` (`*` within one folder level), sorted."""
    try:
        return sorted(gfile.glob(pattern))
    except tf.errors.NotFoundError:
        return []


def walk(top: str):
    """Yields (folder, subfolder names, file names) for `top` and every folder below it."""
    for folder, subfolders, names in gfile.walk(top):
        yield folder, [name.rstrip("/") for name in subfolders], names


def makedirs(path: str) -> None:
    """Creates folder `path` and its parents (no-op if it exists).

    Raises:
      StoreError: it cannot be created (a file in the way, no permission, no bucket).
    """
    try:
        gfile.makedirs(path)
    except (OSError, tf.errors.OpError) as error:
        raise write_error(path, error) from error


def write_error(path: str, error: Exception) -> StoreError:
    """The one message for a failed write: the file, the system's reason, and the fix."""
    reason = getattr(error, "strerror", None) or getattr(error, "message", None) or str(error)
    return StoreError(f"Cannot write {path} ({reason}); free disk space or choose a "
                      "writable --root, then rerun: finished results are kept.")


def read_bytes(path: str) -> bytes:
    """The whole content of `path`.

    Raises:
      FileNotFoundError: there is no such file.
    """
    try:
        with gfile.GFile(path, "rb") as handle:
            return handle.read()
    except tf.errors.NotFoundError:
        raise FileNotFoundError(path) from None


def remove(path: str) -> bool:
    """Deletes file `path`; False if it was not there."""
    try:
        gfile.remove(path)
        return True
    except tf.errors.NotFoundError:
        return False


def rmtree(path: str) -> None:
    """Deletes folder `path` and everything in it, if it exists."""
    try:
        gfile.rmtree(path)
    except tf.errors.NotFoundError:
        pass


def rename(source: str, target: str) -> None:
    """Moves a file or folder to `target` (replacing a file there).

    Atomic on a local disk. Object stores copy and delete, and have no folders to
    rename: a folder moves there object by object. Callers therefore only rename
    files whose readers verify a checksum, or folders nobody reads any more
    (quarantined ones).
    """
    if gfile.isdir(source) and not is_local(source):
        copy_tree(source, target)
        rmtree(source)
        return
    gfile.rename(source, target, overwrite=True)


def copy_tree(source: str, target: str, skip: tuple[str, ...] = ()) -> None:
    """Copies folder `source` to `target`, leaving out files and folders named in `skip`."""
    gfile.makedirs(target)
    for name in listdir(source):
        if name in skip:
            continue
        path = join(source, name)
        if gfile.isdir(path):
            copy_tree(path, join(target, name), skip)
        else:
            gfile.copy(path, join(target, name), overwrite=True)

