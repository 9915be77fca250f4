"""Finding datasets: explicit dir, system dir, cache, tensorflow-datasets, checksums."""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from lottery_tf.data import checksums
from lottery_tf.data.cifar import CIFAR10_SUBDIR, CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES
from lottery_tf.data.idx import IDX_FILE_NAMES
from lottery_tf.data.sources import builtin as sources
from lottery_tf.errors import ConfigError, DataError


def idx_bytes(array: np.ndarray) -> bytes:
    magic = 0x803 if array.ndim == 3 else 0x801
    return struct.pack(f">I{array.ndim}I", magic, *array.shape) + array.tobytes()


def write_mnist_dir(
    folder: Path, n_train: int = 6, n_test: int = 4, gz: bool = False, seed: int = 0, size: int = 28
) -> sources.RawData:
    """Write the four standard IDX files of a tiny MNIST-format dataset."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, size, size), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, n_train, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (n_test, size, size), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for role, name in IDX_FILE_NAMES.items():
        data = idx_bytes(arrays[role])
        (folder / (name + (".gz" if gz else ""))).write_bytes(gzip.compress(data) if gz else data)
    return sources.RawData(
        arrays["train_images"][..., None],
        arrays["train_labels"],
        arrays["test_images"][..., None],
        arrays["test_labels"],
    )


def write_cifar_dir(folder: Path, per_batch: int = 2, seed: int = 0) -> sources.RawData:
    """Write the six official CIFAR-10 binary batches, tiny."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    xs, ys = [], []
    for name in (*CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE):
        chw = rng.integers(0, 256, (per_batch, 3, 32, 32), dtype=np.uint8)
        labels = rng.integers(0, 10, per_batch, dtype=np.uint8)
        records = np.concatenate([labels[:, None], chw.reshape(per_batch, -1)], axis=1)
        (folder / name).write_bytes(records.tobytes())
        xs.append(chw.transpose(0, 2, 3, 1))
        ys.append(labels)
    return sources.RawData(np.concatenate(xs[:5]), np.concatenate(ys[:5]), xs[5], ys[5])


def assert_raw_equal(actual: sources.RawData, expected: sources.RawData) -> None:
    for got, want in zip(actual, expected, strict=False):
        np.testing.assert_array_equal(got, want)
    assert actual.train_y.dtype == np.int32 and actual.test_y.dtype == np.int32


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Empty cache, no system dirs, and never a real network probe."""
    monkeypatch.setenv(sources.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(sources, "SYSTEM_DIRS", {})
    monkeypatch.setattr(sources, "_reachable", lambda host, port: False)


@pytest.mark.parametrize("gz", [False, True])
def test_explicit_data_dir(tmp_path: Path, gz: bool) -> None:
    expected = write_mnist_dir(tmp_path / "mine", gz=gz)
    raw = sources.load_raw("fashion_mnist", tmp_path / "mine", verify=False, download=False)
    assert_raw_equal(raw, expected)


def test_data_dir_wins_over_cache(tmp_path: Path) -> None:
    expected = write_mnist_dir(tmp_path / "mine", seed=1)
    write_mnist_dir(tmp_path / "cache" / "mnist", seed=2)
    assert_raw_equal(sources.load_raw("mnist", tmp_path / "mine", verify=False), expected)


def test_cache_from_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(sources.CACHE_ENV, str(tmp_path / "elsewhere"))
    expected = write_mnist_dir(tmp_path / "elsewhere" / "mnist", gz=True)
    assert sources.cache_dir() == tmp_path / "elsewhere"
    assert_raw_equal(sources.load_raw("mnist", verify=False, download=False), expected)


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(sources.CACHE_ENV)
    assert sources.cache_dir() == Path.home() / ".cache" / "lottery_tf"


def test_system_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = write_mnist_dir(tmp_path / "usr-share", gz=True)
    write_mnist_dir(tmp_path / "cache" / "fashion_mnist", seed=5)
    monkeypatch.setattr(sources, "SYSTEM_DIRS", {"fashion_mnist": (tmp_path / "usr-share",)})
    assert_raw_equal(sources.load_raw("fashion_mnist", verify=False), expected)


def test_cifar10_data_dir_with_subfolder(tmp_path: Path) -> None:
    expected = write_cifar_dir(tmp_path / "c" / CIFAR10_SUBDIR)
    assert_raw_equal(sources.load_raw("cifar10", tmp_path / "c", download=False), expected)


def test_partial_dir_is_error_not_fallthrough(tmp_path: Path) -> None:
    write_mnist_dir(tmp_path / "mine")
    (tmp_path / "mine" / "t10k-labels-idx1-ubyte").unlink()
    write_mnist_dir(tmp_path / "cache" / "mnist")
    with pytest.raises(DataError, match=r"mine holds only part of mnist: missing t10k-labels"):
        sources.load_raw("mnist", tmp_path / "mine", verify=False)


def test_wrong_image_shape(tmp_path: Path) -> None:
    write_mnist_dir(tmp_path / "mine", size=32)
    with pytest.raises(DataError, match=r"shape \(32, 32, 1\).*expected \(28, 28, 1\)"):
        sources.load_raw("mnist", tmp_path / "mine", verify=False)


def test_unknown_dataset() -> None:
    with pytest.raises(ConfigError, match="known datasets: cifar10, fashion_mnist, mnist"):
        sources.load_raw("imagenet")


@pytest.mark.parametrize("folder", ["empty", "nowhere"])
def test_named_data_dir_without_files_fails_instead_of_using_the_cache(tmp_path: Path,
                                                                      folder: str) -> None:
    write_mnist_dir(tmp_path / "cache" / "mnist")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError) as info:
        sources.load_raw("mnist", tmp_path / folder, verify=False)
    message = str(info.value)
    assert f"data_dir {tmp_path / folder} does not hold mnist" in message
    assert "train-images-idx3-ubyte" in message
    assert ("no such folder" in message) == (folder == "nowhere")


def test_missing_lists_every_place(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        sources.load_raw("mnist", tfds_data_dir=tmp_path / "tfds")
    message = str(info.value)
    assert f"cache ($LOTTERY_TF_DATA) {tmp_path / 'cache' / 'mnist'}" in message
    assert f"no prepared copy at {tmp_path / 'tfds'}" in message
    assert "storage.googleapis.com unreachable" in message
    assert "Fix: run scripts/get_data.sh" in message


def test_missing_cifar_says_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        sources.load_raw("cifar10", download=False, tfds_data_dir=tmp_path / "tfds")
    message = str(info.value)
    assert "download: disabled" in message
    assert "data_batch_1.bin" in message and "tensorflow-datasets downloads cifar10" in message


def test_download_failure_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, download: bool) -> sources.RawData:
        raise ConnectionError("no route to host\nlong traceback text")

    monkeypatch.setattr(sources, "_reachable", lambda host, port: True)
    monkeypatch.setattr(sources, "_tfds_arrays", refuse)
    with pytest.raises(DataError, match=r"download: failed \(ConnectionError: no route to host\)"):
        sources.load_raw("mnist", tfds_data_dir=tmp_path / "tfds")


# --- checksums -------------------------------------------------------------


def test_checksum_mismatch_names_file_and_fix(tmp_path: Path) -> None:
    write_mnist_dir(tmp_path / "mine")
    with pytest.raises(DataError) as info:
        sources.load_raw("mnist", tmp_path / "mine")
    message = str(info.value)
    assert str(tmp_path / "mine" / "train-images-idx3-ubyte") in message
    assert "delete it and rerun scripts/get_data.sh" in message


def test_recompressed_gz_verifies_by_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "plain"
    write_mnist_dir(plain)
    digests = {
        name: hashlib.sha256((plain / name).read_bytes()).hexdigest()
        for name in IDX_FILE_NAMES.values()
    }
    monkeypatch.setitem(checksums.CONTENT_SHA256, "mnist", digests)
    assert checksums.verify_dir("mnist", plain)
    regz = tmp_path / "regz"
    regz.mkdir()
    for name in IDX_FILE_NAMES.values():
        (regz / f"{name}.gz").write_bytes(gzip.compress((plain / name).read_bytes(), 1))
    assert all(checksums.verify_file("mnist", path) for path in checksums.verify_dir("mnist", regz))
    sources.load_raw("mnist", regz)  # verify=True by default
    # Same name, same compression, different data: rejected.
    (regz / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x01"))
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz does not match"):
        checksums.verify_file("mnist", regz / "t10k-labels-idx1-ubyte.gz")


def test_unknown_names_are_not_verified(tmp_path: Path) -> None:
    path = tmp_path / "data_batch_1.bin"
    path.write_bytes(b"x")
    assert checksums.verify_file("cifar10", path) is False
    assert checksums.verify_file("mnist", path) is False


def test_checksum_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert checksums.main(["mnist", str(tmp_path)]) == 1
    assert "missing mnist file(s) train-images-idx3-ubyte" in capsys.readouterr().err
    assert checksums.main(["cifar10", str(tmp_path)]) == 2


def test_pinned_gzip_digests_are_of_known_names() -> None:
    for dataset, table in checksums.GZIP_SHA256.items():
        for name in table:
            assert name.removesuffix(".gz") in checksums.CONTENT_SHA256[dataset]


REAL_DIRS = [
    ("mnist", sources.cache_dir() / "mnist"),
    ("fashion_mnist", sources.cache_dir() / "fashion_mnist"),
    ("fashion_mnist", Path("/usr/share/datasets/fashion-mnist")),
]


@pytest.mark.parametrize("dataset,folder", REAL_DIRS)
def test_real_files_match_pins(dataset: str, folder: Path) -> None:
    if not (folder.is_dir() and any(folder.iterdir())):
        pytest.skip(f"no real {dataset} in {folder} (run scripts/get_data.sh)")
    assert len(checksums.verify_dir(dataset, folder)) == 4


# --- tensorflow-datasets -----------------------------------------------------


@pytest.fixture(scope="module")
def tfds_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, sources.RawData]]:
    """Prepare tiny mnist and cifar10 in tfds's real on-disk layout.

    No mock: each is built by a subclass of tfds's own registered builder
    (same name, version, features, and example parser) whose only change is
    reading tiny local files instead of downloading. It writes real tfrecord
    shards plus dataset_info.json, which `load_raw` then reads through the
    unmodified registered builder via ``tfds.load(..., download=False)``.
    """
    import tensorflow_datasets as tfds

    root = tmp_path_factory.mktemp("tfds")
    src = tmp_path_factory.mktemp("src")
    mnist = write_mnist_dir(src / "mnist", n_train=7, n_test=3)
    cifar = write_cifar_dir(src / "cifar" / CIFAR10_SUBDIR, per_batch=2)

    class LocalMnist(tfds.builder_cls("mnist"), skip_registration=True):
        name = "mnist"

        def _split_generators(self, dl_manager):
            folder = src / "mnist"
            return {
                split: self._generate_examples(
                    num_examples=n,
                    data_path=os.fspath(folder / f"{prefix}-images-idx3-ubyte"),
                    label_path=os.fspath(folder / f"{prefix}-labels-idx1-ubyte"),
                )
                for split, prefix, n in (("train", "train", 7), ("test", "t10k", 3))
            }

    class LocalCifar10(tfds.builder_cls("cifar10"), skip_registration=True):
        name = "cifar10"

        def _split_generators(self, dl_manager):
            folder = src / "cifar" / CIFAR10_SUBDIR
            self.info.features["label"].names = [f"c{i}" for i in range(10)]
            train = [os.fspath(folder / name) for name in CIFAR10_TRAIN_FILES]
            return {
                "train": self._generate_examples("train_", train),
                "test": self._generate_examples("test_", [os.fspath(folder / CIFAR10_TEST_FILE)]),
            }

    config = tfds.download.DownloadConfig(try_download_gcs=False)
    for builder_cls in (LocalMnist, LocalCifar10):
        builder_cls(data_dir=os.fspath(root)).download_and_prepare(download_config=config)
    return root, {"mnist": mnist, "cifar10": cifar}


def test_tfds_prepared_mnist(tfds_dir: tuple[Path, dict[str, sources.RawData]]) -> None:
    root, expected = tfds_dir
    raw = sources.load_raw("mnist", download=False, tfds_data_dir=root)
    want = expected["mnist"]
    assert raw.train_x.shape == (7, 28, 28, 1) and raw.train_x.dtype == np.uint8
    assert raw.test_y.dtype == np.int32
    # tfds stores MNIST shuffled without the original index: compare as sets.
    order = np.argsort(raw.train_x.reshape(7, -1).sum(1))
    want_order = np.argsort(want.train_x.reshape(7, -1).sum(1))
    np.testing.assert_array_equal(raw.train_x[order], want.train_x[want_order])
    np.testing.assert_array_equal(raw.train_y[order], want.train_y[want_order])
    assert sorted(raw.test_y) == sorted(want.test_y)


def test_tfds_prepared_cifar10_in_official_order(
    tfds_dir: tuple[Path, dict[str, sources.RawData]],
) -> None:
    root, expected = tfds_dir
    raw = sources.load_raw("cifar10", download=False, tfds_data_dir=root)
    assert_raw_equal(raw, expected["cifar10"])


def test_local_files_win_over_tfds(
    tmp_path: Path, tfds_dir: tuple[Path, dict[str, sources.RawData]]
) -> None:
    expected = write_mnist_dir(tmp_path / "cache" / "mnist", seed=9)
    raw = sources.load_raw("mnist", verify=False, download=False, tfds_data_dir=tfds_dir[0])
    assert_raw_equal(raw, expected)
