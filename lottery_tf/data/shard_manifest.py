"""Reading a shards folder's manifest: what `shards.write_shards` wrote and the streamer reads.

The folder's layout is described in lottery_tf/data/shards.py; this module
holds what both sides agree on (file names, format version) and the checked
reading of the manifest, so the reader needs nothing of the writer.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from lottery_tf.data.spec import DatasetSpec
from lottery_tf.errors import ConfigError, DataError

MANIFEST = "manifest.json"
FORMAT_VERSION = 1
SPLITS = ("train", "test")


def directory_of(name: str) -> Path:
    """The folder of a ``shards:<dir>`` name.

    Raises:
        ConfigError: the name has no folder.
    """
    where = name.partition(":")[2]
    if not where:
        raise ConfigError(f"dataset.name {name!r} names no folder; write shards:<dir>")
    return Path(where).expanduser()


def read_manifest(directory: str | Path) -> dict:
    """The manifest of a shards folder, its files' sizes checked.

    Raises:
        DataError: no finished shards folder there, or a shard's size is wrong.
    """
    directory = Path(directory)
    path = directory / MANIFEST
    if not path.is_file():
        raise DataError(f"{directory} holds no {MANIFEST}, so it is not a finished shards folder; "
                        "write it with `python -m lottery_tf.data.shards <source> <dir>`")
    try:
        manifest = json.loads(path.read_text())
        example_bytes = int(np.prod(manifest["example_shape"])) * np.dtype(manifest["dtype"]).itemsize
        for split in SPLITS:
            for shard in manifest["splits"][split]["shards"]:
                for key, width in (("x", example_bytes), ("y", 4)):
                    file = directory / shard[key]
                    size = file.stat().st_size if file.is_file() else -1
                    if size != shard["count"] * width:
                        raise DataError(f"{file} holds {size} bytes, the manifest expects "
                                        f"{shard['count'] * width}; rewrite the shards folder")
    except DataError:
        raise
    except (ValueError, KeyError, TypeError) as error:
        raise DataError(f"{path} is damaged ({type(error).__name__}: {error}); rewrite the shards "
                        "folder") from None
    if manifest.get("format") != FORMAT_VERSION:
        raise DataError(f"{path} has format {manifest.get('format')}, this lottery_tf reads "
                        f"{FORMAT_VERSION}; rewrite the shards folder")
    return manifest


def fingerprint(manifest: dict) -> str:
    """A hash of the shards' recorded contents (their digests, counts, shape and dtype)."""
    digest = hashlib.blake2b(digest_size=16)
    described = {key: manifest[key] for key in ("example_shape", "dtype", "splits")}
    digest.update(json.dumps(described, sort_keys=True).encode())
    return digest.hexdigest()


def spec_of_manifest(name: str, manifest: dict) -> DatasetSpec:
    """The `DatasetSpec` a shards folder's manifest records."""
    return DatasetSpec(name=name, image_shape=tuple(manifest["example_shape"]),
                       num_classes=int(manifest["num_classes"]),
                       train_size=int(manifest["splits"]["train"]["count"]),
                       test_size=int(manifest["splits"]["test"]["count"]),
                       mean=tuple(manifest["mean"]), std=tuple(manifest["std"]),
                       pixel_scale=float(manifest["pixel_scale"]))
