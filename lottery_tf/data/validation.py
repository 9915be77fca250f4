"""Which training examples are held out for validation, and checks that both sides see every class.

Two ways to hold out `size` examples:

- `last`: the last `size` examples as stored. Right only for sources stored in
  random order (the MNIST and Fashion-MNIST IDX files, CIFAR-10's batches), and
  how Frankle & Carbin held out MNIST's validation set; experiments stored
  before sampling existed keep it.
- `stratified`: a seeded random sample holding each class in proportion to the
  training data, the same in every run (the seed is fixed, not the run's), so
  a folder read class by class or an `.npz` sorted by label still validates on
  every class. The remaining training examples are kept in a seeded random order
  too, so "the first N training examples" (SNIP's scoring batch) are a sample.
"""
from __future__ import annotations

import hashlib

import numpy as np

from lottery_tf.errors import ConfigError, DataError

MODES = ("last", "stratified")
# Fixed, not the run's seed: every run and replicate of an experiment (and every
# experiment on the same data) validates on the same examples.
SPLIT_SEED = 0x5EED


def check_mode(mode: str) -> None:
    """Raises ConfigError unless `mode` is one of `MODES`."""
    if mode not in MODES:
        raise ConfigError(f"dataset.validation_split must be one of {', '.join(MODES)}, got {mode!r}.")


def _stratified_counts(class_counts: np.ndarray, size: int) -> np.ndarray:
    """Examples per class summing to `size`, proportional to `class_counts` (largest remainder),
    with at least one of every present class when `size` allows it."""
    present = class_counts > 0
    exact = class_counts * (size / class_counts.sum())
    counts = np.floor(exact).astype(np.int64)
    if size >= present.sum():
        counts[present & (counts == 0)] = 1
    # Largest remainders get the examples still missing (or lose the extra ones).
    order = np.argsort(-(exact - counts), kind="stable")
    while counts.sum() < size:
        for c in order:
            if counts.sum() == size:
                break
            if counts[c] < class_counts[c]:
                counts[c] += 1
    for c in order[::-1]:
        while counts.sum() > size and counts[c] > 1:
            counts[c] -= 1
    return np.minimum(counts, class_counts)


def split_indices(labels: np.ndarray, size: int, mode: str,
                  seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the training and the validation examples.

    Args:
      labels: the training source's integer labels, as stored.
      size: how many examples validation holds, in [0, len(labels)).
      mode: `last` or `stratified` (see the module docstring).
      seed: the sample's seed.

    Returns:
      (train indices, validation indices). `last` keeps the stored order;
      `stratified` gives both in a seeded random order.

    Raises:
      ConfigError: an unknown mode.
    """
    check_mode(mode)
    labels = np.asarray(labels).reshape(-1)
    total = len(labels)
    if mode == "last":
        cut = total - int(size)
        return np.arange(cut), np.arange(cut, total)
    rng = np.random.default_rng(seed)
    classes, inverse = np.unique(labels, return_inverse=True)
    counts = _stratified_counts(np.bincount(inverse, minlength=len(classes)), int(size))
    held = np.zeros(total, dtype=bool)
    for index, count in enumerate(counts):
        members = np.flatnonzero(inverse == index)
        held[rng.choice(members, size=int(count), replace=False)] = True
    return rng.permutation(np.flatnonzero(~held)), rng.permutation(np.flatnonzero(held))


def check_classes(name: str, train_y: np.ndarray, val_y: np.ndarray, source_classes: np.ndarray,
                  mode: str, fix: str | None = None) -> None:
    """Refuses splits in which training or validation misses a class of the data.

    Args:
      name: the dataset, for the message.
      train_y, val_y: the labels of each side (for training, its classes are enough).
      source_classes: the classes present in the source (training and test data).
      mode: the split's mode, for the message.
      fix: what the message tells the user to do; None for the in-memory sources' fix
        (a stratified split, or a smaller validation_size).

    Raises:
      DataError: training lacks a class of the data, or a validation split with
        at least as many examples as classes lacks one (the fix in the message).
    """
    missing_train = np.setdiff1d(source_classes, train_y)
    if missing_train.size:
        raise DataError(f"{name}: training holds no example of class(es) {missing_train.tolist()} "
                        f"(validation_split={mode!r} took them all); " + (fix or (
                            "set --config.dataset.validation_split=stratified or a smaller "
                            "validation_size")) + ".")
    train_classes = np.unique(train_y)
    # A split smaller than the class count cannot hold them all; stratified holds as many as fit.
    if len(val_y) < len(train_classes):
        return
    missing_val = np.setdiff1d(train_classes, val_y)
    if missing_val.size:
        fix = fix or ("set --config.dataset.validation_split=stratified (the data may be stored in "
                      "class order)")
        raise DataError(f"{name}: the validation split holds no example of class(es) "
                        f"{missing_val.tolist()}, so early stopping would judge the network on "
                        f"other classes only; {fix}.")


def describe(mode: str, val_y: np.ndarray, val_indices: np.ndarray, seed: int = SPLIT_SEED) -> dict:
    """What config.json records of the split: mode, seed, size, per-class counts, indices digest."""
    classes, counts = np.unique(np.asarray(val_y), return_counts=True)
    digest = hashlib.blake2b(np.ascontiguousarray(np.sort(val_indices).astype(np.int64)).data,
                             digest_size=8).hexdigest()
    return {"mode": mode, "seed": seed if mode == "stratified" else None, "size": int(len(val_y)),
            "class_counts": {int(c): int(n) for c, n in zip(classes, counts, strict=True)},
            "indices_digest": digest}
