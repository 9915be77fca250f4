"""Tiny datasets in the real on-disk formats, and configs that train in seconds.

Used by the test suite; also handy for trying a change without real data.
"""
import gzip
import os
import pathlib
import struct
import subprocess
import sys

import numpy as np

from lottery_tf.models import prunable_layers
from lottery_tf.pruning import masks as mask_lib
from lottery_tf.pruning import tfmot_adapter


def wrapped_and_pruned(model, fraction: float):
    """`model` in tfmot wrappers with `fraction` of every prunable kernel pruned by magnitude."""
    wrapped = tfmot_adapter.wrap(model, prunable_layers(model))
    kernels = tfmot_adapter.prunable_kernels(wrapped)
    tfmot_adapter.set_masks(wrapped, mask_lib.prune_layerwise(
        kernels, mask_lib.ones_like(kernels), {name: fraction for name in kernels}))
    return wrapped


def synthetic_images(count: int, seed: int, height=28, width=28, channels=1):
    """Images whose class is a bright square at a class-specific place, plus noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=count).astype(np.uint8)
    images = rng.integers(0, 60, size=(count, height, width, channels)).astype(np.uint8)
    for index, label in enumerate(labels):
        row, col = divmod(int(label), 5)
        top, left = 2 + row * 12, 1 + col * 5
        images[index, top:top + 8, left:left + 4, :] = 250
    return images, labels


def write_idx(path: pathlib.Path, array: np.ndarray, compress: bool = False) -> None:
    """Writes an uint8 array in IDX format (MNIST's)."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        payload = gzip.compress(payload)
    path.write_bytes(payload)


def write_tiny_mnist(directory: pathlib.Path, train: int = 700, test: int = 200, seed: int = 0):
    directory.mkdir(parents=True, exist_ok=True)
    train_x, train_y = synthetic_images(train, seed)
    test_x, test_y = synthetic_images(test, seed + 1)
    write_idx(directory / "train-images-idx3-ubyte", train_x[..., 0])
    write_idx(directory / "train-labels-idx1-ubyte", train_y)
    write_idx(directory / "t10k-images-idx3-ubyte", test_x[..., 0])
    write_idx(directory / "t10k-labels-idx1-ubyte", test_y)
    return directory


def tiny_config(data_dir, **overrides):
    """A LeNet config that trains in seconds on the tiny dataset."""
    from lottery_tf.config import base_config

    config = base_config()
    config.dataset.data_dir = str(data_dir)
    config.dataset.validation_size = 100
    config.dataset.verify_checksums = False  # synthetic files, not the originals
    config.model.name = "lenet_40_20"
    config.training.batch_size = 20
    config.training.learning_rate = 3e-3
    config.training.train_steps = "60it"
    config.training.eval_every = "20it"
    config.runtime.checkpoint_every = "20it"
    config.runtime.eval_batch_size = 100
    config.levels = 2
    for key, value in overrides.items():
        section, _, field = key.rpartition(".")
        (config[section] if section else config)[field] = value
    return config


def write_tiny_cifar10(directory: pathlib.Path, train: int = 500, test: int = 100, seed: int = 0):
    """The official CIFAR-10 binary layout (5 train batches + test batch), tiny and learnable."""
    directory.mkdir(parents=True, exist_ok=True)

    def write(path, count, batch_seed):
        images, labels = synthetic_images(count, batch_seed, height=32, width=32, channels=3)
        records = np.concatenate(
            [labels[:, None], images.transpose(0, 3, 1, 2).reshape(count, -1)], axis=1)
        path.write_bytes(records.astype(np.uint8).tobytes())

    for index in range(1, 6):
        write(directory / f"data_batch_{index}.bin", train // 5, seed + index)
    write(directory / "test_batch.bin", test, seed + 10)
    return directory


def write_config_file(path: pathlib.Path, data_dir, **overrides) -> pathlib.Path:
    """A config file (for `--config=`) holding `tiny_config(data_dir, **overrides)`."""
    arguments = f", **{overrides!r}" if overrides else ""  # keys may be dotted ("training.x")
    path.write_text("from lottery_tf.testing import tiny_config\n\n\n"
                    f"def get_config():\n    return tiny_config({str(data_dir)!r}{arguments})\n")
    return path


def stored_results(paths, replicate: int = 0) -> dict:
    """Every stored array file and metrics.json of a replicate (minus wall time), by relative
    path; the root may be on any `tf.io.gfile` filesystem."""
    from lottery_tf.storage import files as storage_files
    from lottery_tf.storage import store

    results = {}
    top = storage_files.join(paths.dir, f"replicate_{replicate}")
    for folder, _, names in storage_files.walk(top):
        for name in names:
            path = storage_files.join(folder, name)
            relative = path[len(paths.dir):].lstrip("/")
            if any(part.startswith(".") for part in relative.split("/")):
                continue  # temporaries and quarantined files, hidden as on a local listing
            if name.endswith(".npz"):
                results[relative] = store.load_arrays(path)
            elif name == "metrics.json":
                metrics = store.read_json(path)
                metrics.pop("wall_seconds")
                metrics.pop("finished_at")
                results[relative] = metrics
    return results


def assert_same_results(actual: dict, expected: dict) -> None:
    """`stored_results` of two runs agree exactly: same files, arrays and metrics."""
    assert sorted(actual) == sorted(expected)
    for name, value in expected.items():
        if name.endswith(".npz"):
            assert sorted(actual[name]) == sorted(value), name
            for key in value:
                np.testing.assert_array_equal(actual[name][key], value[key], err_msg=f"{name}:{key}")
        else:
            assert actual[name] == value, name


def write_npz(path: pathlib.Path, train_x, train_y, test_x, test_y, **extra) -> pathlib.Path:
    """An `npz:` source file with the four arrays it expects (plus `extra` ones)."""
    np.savez(path, x_train=train_x, y_train=train_y, x_test=test_x, y_test=test_y, **extra)
    return path


def write_image_folder(directory: pathlib.Path, train_x, train_y, test_x, test_y,
                       class_names=None) -> pathlib.Path:
    """A `folder:` source: `train/<class>/<i>.png` and `test/<class>/<i>.png` (lossless PNG)."""
    import tensorflow as tf

    names = class_names or [f"class_{label}" for label in range(int(max(train_y.max(), test_y.max())) + 1)]
    for split, images, labels in (("train", train_x, train_y), ("test", test_x, test_y)):
        for index, (image, label) in enumerate(zip(images, labels, strict=True)):
            folder = directory / split / names[int(label)]
            folder.mkdir(parents=True, exist_ok=True)
            pixels = image if image.ndim == 3 else image[..., None]
            (folder / f"{index:06d}.png").write_bytes(tf.io.encode_png(pixels).numpy())
    return directory


def write_tiny_tfds(data_dir: pathlib.Path, train: int = 300, test: int = 100, seed: int = 0) -> str:
    """Prepares the synthetic images as a real tfds dataset `tiny_squares` in `data_dir`.

    A tfds GeneratorBasedBuilder writes its TFRecord files and dataset_info.json,
    so `tfds.builder("tiny_squares", data_dir=...)` reads it back from the files
    like any prepared dataset.

    Returns:
        The dataset name.
    """
    builder_class = _in_memory_tfds_builder("TinySquares", (28, 28, 1), 10)
    builder_class.SPLITS = {"train": synthetic_images(train, seed), "test": synthetic_images(test, seed + 1)}
    builder_class(data_dir=str(data_dir)).download_and_prepare()
    return builder_class.name


_TFDS_BUILDERS: dict = {}


def _in_memory_tfds_builder(class_name: str, image_shape: tuple, num_classes: int):
    """A tfds builder class that prepares the (images, labels) of its `SPLITS` dict.

    Defined once per process and name: tfds registers builder classes by name.
    """
    if class_name in _TFDS_BUILDERS:
        return _TFDS_BUILDERS[class_name]
    import tensorflow_datasets as tfds

    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self, supervised_keys=("image", "label"),
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Image(shape=image_shape),
                "label": tfds.features.ClassLabel(num_classes=num_classes)}))

    def _split_generators(self, dl_manager):
        return {split: self._generate_examples(split) for split in self.SPLITS}

    def _generate_examples(self, split):
        images, labels = self.SPLITS[split]
        for index, (image, label) in enumerate(zip(images, labels, strict=True)):
            yield index, {"image": image, "label": int(label)}

    builder = type(class_name, (tfds.core.GeneratorBasedBuilder,), {
        "VERSION": tfds.core.Version("1.0.0"), "SPLITS": {}, "_info": _info,
        "_split_generators": _split_generators, "_generate_examples": _generate_examples})
    _TFDS_BUILDERS[class_name] = builder
    return builder


def imagenet_stand_in_images(count: int, seed: int, classes: int = 4):
    """RGB images of many sizes (32..63 a side) whose class is a colored square's place and color."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, size=count).astype(np.int64)
    images = []
    for label in labels:
        height, width = rng.integers(32, 64, size=2)
        image = rng.integers(0, 60, size=(height, width, 3)).astype(np.uint8)
        top, left = (height // 2) * (label // 2), (width // 2) * (label % 2)
        image[top:top + height // 2, left:left + width // 2, label % 3] = 250
        images.append(image)
    return images, labels


def write_imagenet_stand_in(data_dir: pathlib.Path, train: int = 40, validation: int = 16,
                            seed: int = 0) -> str:
    """Prepares a real tfds dataset `imagenet_stand_in` shaped like imagenet2012, in `data_dir`.

    Splits `train` and `validation`, features `image` (RGB, of many sizes) and
    `label`, as tfds's imagenet2012; a few small images instead of 1.3M.

    Returns:
        The dataset name.
    """
    builder_class = _in_memory_tfds_builder("ImagenetStandIn", (None, None, 3), 4)
    builder_class.SPLITS = {"train": imagenet_stand_in_images(train, seed),
                            "validation": imagenet_stand_in_images(validation, seed + 1)}
    builder_class(data_dir=str(data_dir)).download_and_prepare()
    return builder_class.name


def tensorboard_scalars(run_dir) -> dict[str, list[tuple[int, float]]]:
    """The float scalars of one TensorBoard run folder read back: tag -> [(step, value)]."""
    import tensorflow as tf
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(run_dir), size_guidance={"tensors": 0})
    accumulator.Reload()
    scalars = {}
    for tag in accumulator.Tags()["tensors"]:
        values = [(e.step, tf.make_ndarray(e.tensor_proto)) for e in accumulator.Tensors(tag)]
        if all(value.ndim == 0 and value.dtype.kind == "f" for _, value in values):
            scalars[tag] = [(step, float(value)) for step, value in values]
    return scalars


def hparams_sessions(logdir) -> dict[str, tuple[dict, dict]]:
    """Every HParams session under a logdir, as TensorBoard's HParams plugin reads them.

    Returns:
      run name (relative to `logdir`) -> (hyperparameters, metrics: tag -> last value).
    """
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import plugin_data_pb2

    sessions = {}
    for folder, _, names in os.walk(str(logdir)):
        if not any(name.startswith("events.out.tfevents") for name in names):
            continue
        accumulator = EventAccumulator(folder, size_guidance={"tensors": 0})
        accumulator.Reload()
        try:
            content = accumulator.PluginTagToContent("hparams").get("_hparams_/session_start_info")
        except KeyError:  # no HParams data in this run
            continue
        if content is None:
            continue
        start = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info
        hparams = {key: value.string_value if value.HasField("string_value") else value.number_value
                   for key, value in start.hparams.items()}
        metrics = {tag: values[-1][1] for tag, values in tensorboard_scalars(folder).items()}
        sessions[os.path.relpath(folder, str(logdir))] = (hparams, metrics)
    return sessions


def lottery_process(config_file, root, crash_at=None) -> subprocess.CompletedProcess:
    """`python -m lottery_tf lottery` on a config file as its own process (killed at the
    crash point `crash_at`, e.g. `mid_write:3`, if given); its output captured."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("LOTTERY_TF_CRASH_AT", None)
    if crash_at:
        env["LOTTERY_TF_CRASH_AT"] = crash_at
    return subprocess.run(
        [sys.executable, "-m", "lottery_tf", "lottery", f"--config={config_file}", f"--root={root}",
         "--quiet"], cwd=pathlib.Path(__file__).resolve().parents[1], env=env,
        capture_output=True, text=True, timeout=300)



class _Interrupted(Exception):
    """Stands in for a kill in `interrupt_then_resume` (the run stops right after a save)."""


def interrupt_then_resume(monkeypatch, config, paths, level: int, step: int,
                          while_stopped=None) -> None:
    """Runs IMP under `paths.root` until level `level` saves its checkpoint at `step`, stops it
    there as a kill would, checks the level is unfinished, then reruns it to the end.

    Args:
      monkeypatch: pytest's fixture (the patch is undone with the test).
      config: the experiment's config.
      paths: the experiment's `ExperimentPaths` (replicate 0 runs).
      level: the trunk level whose checkpoint stops the run.
      step: the step of that checkpoint.
      while_stopped: called between the stop and the rerun (to inspect what is stored).
    """
    import pytest

    from lottery_tf.experiments.lottery import run_lottery
    from lottery_tf.training import checkpoints

    save = checkpoints.LevelCheckpoint.save

    def save_then_stop(self, saved_step, tracker, early_stop=None, span=None):
        save(self, saved_step, tracker, early_stop, span)
        if f"level_{level}" in self.directory and saved_step == step:
            raise _Interrupted()

    monkeypatch.setattr(checkpoints.LevelCheckpoint, "save", save_then_stop)
    with pytest.raises(_Interrupted):
        run_lottery(config, paths.root, [0], quiet=True)
    assert not os.path.exists(paths.metrics(0, level))
    if while_stopped is not None:
        while_stopped()
    monkeypatch.setattr(checkpoints.LevelCheckpoint, "save", save)
    run_lottery(config, paths.root, [0], quiet=True)
