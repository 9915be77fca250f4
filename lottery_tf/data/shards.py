"""The on-disk form of a streamed dataset: a folder of raw array shards and a manifest.

A ``shards:<dir>`` dataset is written once, from any source, by

    python -m lottery_tf.data.shards <source> <dir>   # e.g. folder:/data/imagenet

or from Python with `write_shards` (chunks of arrays from any generator), and
is then read shard by shard (lottery_tf/data/streaming.py), never whole.

Layout of ``<dir>``:

- ``train-00000.x``, ``train-00000.y``, ... and ``test-*``: the inputs of a
  shard as raw little-endian ``uint8`` or ``float32`` rows of one example
  shape, and its labels as ``int32``;
- ``manifest.json`` (written last, so a folder without it is unfinished):
  example shape and dtype, each shard's count and blake2b digests, the training
  split's pixel scale and per-channel mean/std, and the number of classes.

Each example goes to a shard chosen by a seeded permutation, so every shard
holds a random sample of the split whatever the source's order (an image
folder is sorted by class); the streamed order only has to shuffle within a
few shards at a time.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from lottery_tf.data import source as source_lib
from lottery_tf.data.shard_manifest import (  # noqa: F401 - the format's names, read from here too
    FORMAT_VERSION,
    MANIFEST,
    SPLITS,
    directory_of,
    fingerprint,
    read_manifest,
)
from lottery_tf.data.sources import registry
from lottery_tf.errors import ConfigError, DataError, LotteryError

# 8 MB shards: the streamed order holds a window of a few at a time (streaming.WINDOW_SHARDS).
DEFAULT_SHARD_BYTES = 8 << 20
# Examples buffered per shard before they are appended to its files, and in all: every
# shard's buffer is flushed when the total reaches the latter, so the writer's memory does
# not grow with the number of shards.
_FLUSH_BYTES = 1 << 20
_BUFFER_BYTES = 128 << 20

Chunks = Iterable[tuple[np.ndarray, np.ndarray]]


class _Moments:
    """Per-channel (last axis) sums of a split's inputs, for its mean and std."""

    def __init__(self):
        self.count, self.total, self.squares = 0, 0.0, 0.0

    def add(self, x: np.ndarray) -> None:
        axes = tuple(range(x.ndim - 1))
        # float64 sums: a float32 running sum over billions of pixels drifts.
        self.total = self.total + x.sum(axis=axes, dtype=np.float64)
        self.squares = self.squares + np.square(x, dtype=np.float64).sum(axis=axes)
        self.count += int(np.prod(x.shape[:-1]))

    def mean_std(self, scale: float) -> tuple[list[float], list[float]]:
        """As `spec.statistics`: population std of ``x / scale``; a zero std becomes 1."""
        mean = self.total / self.count / scale
        std = np.sqrt(np.maximum(self.squares / self.count / scale**2 - mean**2, 0.0))
        std = np.where(std > 0, std, 1.0)
        return [float(v) for v in np.atleast_1d(mean)], [float(v) for v in np.atleast_1d(std)]


class _SplitWriter:
    """Scatters a split's examples over its shards by a seeded permutation."""

    def __init__(self, directory: Path, split: str, count: int, first_x: np.ndarray,
                 shard_bytes: int, seed: int):
        self.directory, self.split, self.count = directory, split, count
        self.example_shape, self.dtype = first_x.shape[1:], first_x.dtype
        example_bytes = max(1, int(np.prod(self.example_shape)) * self.dtype.itemsize)
        self.per_shard = max(1, shard_bytes // example_bytes)
        self.num_shards = -(-count // self.per_shard)
        self.shard_of = (np.random.default_rng(seed).permutation(count) // self.per_shard).astype(np.int32)
        self.written = 0
        self.buffers: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in range(self.num_shards)]
        self.buffered = np.zeros(self.num_shards, np.int64)
        self.counts = np.zeros(self.num_shards, np.int64)
        self.digests = [(hashlib.blake2b(digest_size=16), hashlib.blake2b(digest_size=16))
                        for _ in range(self.num_shards)]
        for shard in range(self.num_shards):  # start empty: a rerun overwrites
            for path in self._paths(shard):
                path.write_bytes(b"")

    def _paths(self, shard: int) -> tuple[Path, Path]:
        stem = f"{self.split}-{shard:05d}"
        return self.directory / f"{stem}.x", self.directory / f"{stem}.y"

    def add(self, x: np.ndarray, y: np.ndarray) -> None:
        if x.shape[1:] != self.example_shape or x.dtype != self.dtype:
            raise DataError(f"{self.split} chunk of {x.dtype} {x.shape[1:]} after chunks of "
                            f"{self.dtype} {self.example_shape}; give every example one shape and dtype")
        end = self.written + len(x)
        if end > self.count:
            raise DataError(f"the {self.split} split yields more than the {self.count} examples it "
                            "announced; give its true count")
        shards = self.shard_of[self.written:end]
        self.written = end
        for shard in np.unique(shards):
            rows = shards == shard
            self.buffers[shard].append((x[rows], y[rows]))
            self.buffered[shard] += x[rows].nbytes
            if self.buffered[shard] >= _FLUSH_BYTES:
                self._flush(shard)
        if self.buffered.sum() >= _BUFFER_BYTES:
            for shard in np.flatnonzero(self.buffered):
                self._flush(shard)

    def _flush(self, shard: int) -> None:
        if not self.buffers[shard]:
            return
        x = np.concatenate([part[0] for part in self.buffers[shard]])
        y = np.concatenate([part[1] for part in self.buffers[shard]]).astype("<i4")
        x = x.astype(x.dtype.newbyteorder("<"), copy=False)
        for path, data, digest in zip(self._paths(shard), (x, y), self.digests[shard], strict=True):
            with open(path, "ab") as file:
                file.write(data.tobytes())
            digest.update(data.tobytes())
        self.counts[shard] += len(x)
        self.buffers[shard], self.buffered[shard] = [], 0

    def finish(self) -> dict:
        if self.written != self.count:
            raise DataError(f"the {self.split} split yielded {self.written} examples but announced "
                            f"{self.count}; give its true count")
        for shard in range(self.num_shards):
            self._flush(shard)
        return {"count": self.count, "shards": [
            {"x": self._paths(s)[0].name, "y": self._paths(s)[1].name, "count": int(self.counts[s]),
             "x_digest": self.digests[s][0].hexdigest(), "y_digest": self.digests[s][1].hexdigest()}
            for s in range(self.num_shards)]}


def write_shards(directory: str | Path, train: Chunks, train_count: int, test: Chunks,
                 test_count: int, *, shard_bytes: int = DEFAULT_SHARD_BYTES, seed: int = 0) -> Path:
    """Writes a ``shards:<dir>`` dataset from chunks of arrays, holding one chunk at a time.

    Args:
        directory: the folder to write (created; shards of an earlier write are replaced).
        train, test: iterables of ``(inputs, labels)`` chunks, inputs ``(n, ...)``
            uint8 pixels or floats (stored as float32), labels ``(n,)`` integers ``0..K-1``.
        train_count, test_count: the examples each split yields in all.
        shard_bytes: the target size of one shard's input file.
        seed: seed of the permutation that scatters examples over the shards.

    Returns:
        The folder; its name with ``shards:`` prefixed is the dataset name.

    Raises:
        DataError: the chunks are empty, inconsistent, or not as many as announced.
    """
    directory = Path(directory).expanduser()
    directory.mkdir(parents=True, exist_ok=True)
    manifest_path = directory / MANIFEST
    if manifest_path.exists():
        manifest_path.unlink()  # the folder is unfinished until the new manifest is written
    splits, shapes, moments, top_label = {}, {}, _Moments(), -1
    for split, chunks, count in (("train", train, train_count), ("test", test, test_count)):
        if count <= 0:
            raise DataError(f"the {split} split is empty; shards need examples in train and test")
        writer = None
        for x, y in chunks:
            x, y = _checked_chunk(split, np.asarray(x), np.asarray(y))
            if writer is None:
                writer = _SplitWriter(directory, split, count, x, shard_bytes, seed + len(splits))
            writer.add(x, y)
            top_label = max(top_label, int(y.max(initial=-1)))
            if split == "train":
                moments.add(x)
        if writer is None:
            raise DataError(f"the {split} split yielded no examples; give it examples")
        splits[split] = writer.finish()
        shapes[split] = (writer.example_shape, writer.dtype)
    if shapes["train"] != shapes["test"]:
        raise DataError(f"train examples are {shapes['train']} but test examples {shapes['test']}; "
                        "give both splits one shape and dtype")
    if top_label < 1:
        raise DataError("the labels hold a single class; IMP needs at least two")
    shape, dtype = shapes["train"]
    scale = 255.0 if dtype == np.uint8 else 1.0
    mean, std = moments.mean_std(scale)
    manifest = {"format": FORMAT_VERSION, "example_shape": [int(d) for d in shape],
                "dtype": np.dtype(dtype).name, "num_classes": top_label + 1, "pixel_scale": scale,
                "mean": mean, "std": std, "splits": splits}
    temporary = manifest_path.with_suffix(".tmp")
    temporary.write_text(json.dumps(manifest, indent=1))
    os.replace(temporary, manifest_path)
    return directory


def _checked_chunk(split: str, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(x) != len(y):
        raise DataError(f"a {split} chunk has {len(x)} inputs but {len(y)} labels; they must match")
    if x.ndim < 2:
        raise DataError(f"{split} inputs need a batch and a feature axis, got shape {x.shape}")
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer) or (len(y) and y.min() < 0):
        raise DataError(f"{split} labels must be one non-negative integer class per example, got "
                        f"{y.dtype} of shape {y.shape}")
    if np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float32, copy=False)
    elif x.dtype != np.uint8:
        raise DataError(f"{split} inputs are {x.dtype}; give uint8 pixels or floats")
    return x, y.astype(np.int32)


# --- writing any source ---------------------------------------------------------------
def source_chunks(name: str, data_dir: str | None = None, split_train: str | None = None,
                  split_test: str | None = None,
                  image_size: int | None = None) -> source_lib.Chunks:
    """``{split: (chunks, count)}`` of any dataset name, read a chunk at a time where the source allows.

    Image folders are decoded a chunk of files at a time and tfds datasets read
    a chunk of elements at a time, so they can be larger than memory; built-in
    datasets and ``.npz`` files are read whole (they are in memory anyway).
    `image_size` N makes every image of a source that resizes (``folder:``,
    ``tfds:``) N x N as it is read (`images.square_image`), so images of many
    sizes (ImageNet) can be written.

    Raises:
        ConfigError: an unknown name, or `image_size` not a positive integer or
            given for a source that does not resize.
        DataError: as the source's reader.
    """
    if image_size is not None and (not isinstance(image_size, int) or image_size < 1):
        raise ConfigError(f"image_size must be a positive integer, got {image_size!r}")
    kind = registry.find(name)
    if image_size is not None and not (kind and kind.resizes_images):
        raise ConfigError(f"image_size resizes the images of folder: and tfds: sources, not "
                          f"{name!r}; drop --image_size")
    options = source_lib.SourceOptions(data_dir=data_dir, split_train=split_train,
                                       split_test=split_test, image_size=image_size)
    return registry.open_source(name, options).chunks()


def write_source(name: str, directory: str | Path, data_dir: str | None = None,
                 split_train: str | None = None, split_test: str | None = None,
                 shard_bytes: int = DEFAULT_SHARD_BYTES, image_size: int | None = None) -> Path:
    """Writes any dataset (built-in, ``npz:``, ``folder:``, ``tfds:``) as a shards folder.

    `image_size` N writes the images of a ``folder:`` or ``tfds:`` source at
    N x N (shorter side resized to N, centre crop), for images of many sizes.

    Returns:
        The folder written.

    Raises:
        ConfigError, DataError: as the source's loader, or `write_shards`.
    """
    kind = registry.find(name)
    if kind is not None and kind.streamed:
        raise ConfigError(f"{name} is already a shards folder")
    chunks = source_chunks(name, data_dir, split_train, split_test, image_size)
    return write_shards(directory, *chunks["train"], *chunks["test"], shard_bytes=shard_bytes)


def main(argv: list[str] | None = None) -> int:
    """``python -m lottery_tf.data.shards <source> <dir>``: writes a shards folder; 1 on bad input."""
    parser = argparse.ArgumentParser(
        prog="python -m lottery_tf.data.shards",
        description="Write a dataset as a shards folder, streamed by dataset.name=shards:<dir>.")
    parser.add_argument("source", help=" | ".join(registry.writable_names()))
    parser.add_argument("directory", help="the shards folder to write")
    parser.add_argument("--data_dir", help="the source's data_dir (the tfds data dir for tfds:)")
    parser.add_argument("--split_train", help="tfds: the training split (default train)")
    parser.add_argument("--split_test", help="tfds: the test split (default test)")
    parser.add_argument("--shard_mb", type=float, default=DEFAULT_SHARD_BYTES / 2**20,
                        help="target size of one shard in MB (default %(default)s)")
    parser.add_argument("--image_size", type=int,
                        help="folder:/tfds: write every image at N x N (shorter side resized to N, "
                        "then the centre crop), for images of many sizes such as ImageNet")
    args = parser.parse_args(argv)
    try:
        out = write_source(args.source, args.directory, args.data_dir, args.split_train,
                           args.split_test, int(args.shard_mb * 2**20), args.image_size)
    except LotteryError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    manifest = read_manifest(out)
    print(f"wrote {out}: {manifest['splits']['train']['count']} train and "
          f"{manifest['splits']['test']['count']} test examples of {manifest['example_shape']} "
          f"{manifest['dtype']}; use --config.dataset.name=shards:{out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
