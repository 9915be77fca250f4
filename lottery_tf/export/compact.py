"""`export --compact`: a ticket rebuilt as a smaller dense model, checked and timed.

A unit-pruned ticket (or a weight-level one that left units with no inputs or
no outputs) carries whole rows and columns of zeros. Here those units are cut
out: the model is cloned with fewer Dense units / Conv filters, each kernel
sliced to the surviving rows and columns, and the result saved as a SavedModel
next to the masked one (`export/compact_saved_model`).

Which units go, along the model's plain chain (`models.unit_chain`):
- a unit no surviving weight reads (no outputs) contributes nothing;
- a unit with no surviving incoming weight outputs the constant
  activation(bias). If that is 0 it contributes nothing; otherwise, when the
  reader is Dense, the constant times the reader's weights is folded into the
  reader's bias (exact, also through max-pooling and flatten, since pooling a
  constant map gives the constant). A Conv reader would see the constant
  zero-padded at the borders, so such a unit is kept.
Repeated until nothing changes (removing a unit can leave another without inputs).

Checks: the compact SavedModel, loaded back, predicts what the stored level
predicts within `SAVED_MODEL_TOLERANCE` of the largest logit, on real test
images. Latency: the median of single calls of the dense (level 0), masked and
compact SavedModels' serving signatures at batch 1 and batch 256, taking turns
call by call so a slow spell of a shared machine hits all three alike.
With `--tflite`, the compact SavedModel is also converted to TFLite
(`export/compact.tflite`), checked within `TFLITE_TOLERANCE`, and its median
single-image invoke under XNNPACK set against the dense network's TFLite model
(level 0's `model.tflite`, which `export --tflite` writes) and the masked one's.
Everything lands in `export.json` under "compact".
"""
import dataclasses
import os
import statistics
import time

import numpy as np
import tensorflow as tf
import tf_keras as keras

from lottery_tf.data.splits import normalize_images
from lottery_tf.errors import ConfigError, StoreError
from lottery_tf.export.checks import SAVED_MODEL_TOLERANCE, TFLITE_TOLERANCE, check_images, max_diff
from lottery_tf.export.saved_model import SIGNATURE, ServingModule, saved_model_logits, write_saved_model
from lottery_tf.export.stored_level import export_dir, level_files, rebuild, weights_file
from lottery_tf.export.tflite import tflite_convert, tflite_latency_ms, tflite_logits
from lottery_tf.models.prunable import prunable_layers
from lottery_tf.models.unit_chain import unit_chain
from lottery_tf.pruning import tfmot_adapter
from lottery_tf.storage import files as storage_files
from lottery_tf.storage import store
from lottery_tf.storage.catalog import find_experiment

LATENCY_BATCHES = (1, 256)
LATENCY_ROUNDS = {1: 200, 256: 30}


@dataclasses.dataclass
class CompactResult:
    """What `export_compact` wrote and measured.

    Attributes:
      units: layer -> [units before, units kept] for every prunable layer.
      params_dense: every parameter of the model (kernels and biases).
      params_masked: the masked model's nonzero-able parameters (mask-kept kernel
        entries plus biases of units that still have inputs).
      params_compact: every parameter of the compact model.
      latency_ms: "dense" | "masked" | "compact" -> batch size (as text) -> median ms per call.
      max_abs_diff: largest |logit difference| of the loaded compact SavedModel to the stored level.
      tflite: with `--tflite`: the compact TFLite file, its size, its largest |logit
        difference| and batch-1 median ms under XNNPACK of "dense", "masked", "compact".
    """

    saved_model: str
    units: dict
    params_dense: int
    params_masked: int
    params_compact: int
    latency_ms: dict
    max_abs_diff: float
    check_inputs: str
    tflite: dict | None = None


def _activation(layer, values: np.ndarray) -> np.ndarray:
    return layer.activation(tf.constant(values)).numpy()


def _reader_rows(reader_kernel: np.ndarray, units: int) -> tuple[int, np.ndarray]:
    """(input axis of the reader's kernel, source unit of each index on it)."""
    if reader_kernel.ndim == 2:
        return 0, np.arange(reader_kernel.shape[0]) % units
    return 2, np.arange(units)


def plan_units(model: keras.Model, weights: dict, masks: dict, chain) -> tuple[dict, dict]:
    """Which units each layer keeps, and the bias each reader gains from folded constants.

    Args:
      model: the plain (unwrapped) model, for the layers' activations.
      weights: `layer/kernel` and `layer/bias` arrays (masked).
      masks: layer -> kernel mask.
      chain: (source, reader) pairs.

    Returns:
      (layer -> bool keep per output unit, reader layer -> bias to add).
    """
    keep = {name: np.ones(mask.shape[-1], bool) for name, mask in masks.items()}
    fold = {reader: np.zeros(masks[reader].shape[-1]) for _, reader in chain}
    changed = True
    while changed:
        changed = False
        for source, reader in chain:
            kernel = weights[f"{source}/kernel"] * masks[source]
            reader_kernel = weights[f"{reader}/kernel"] * masks[reader]
            axis, unit_of = _reader_rows(reader_kernel, kernel.shape[-1])
            # Inputs that are already removed upstream do not count.
            has_input = kernel.reshape(-1, kernel.shape[-1]).any(axis=0)
            read = np.moveaxis(reader_kernel, axis, 0).reshape(unit_of.size, -1).any(axis=1)
            has_output = np.zeros(kernel.shape[-1], bool)
            np.logical_or.at(has_output, unit_of, read)
            # A source's own bias may have gained constants folded in from upstream.
            bias = weights.get(f"{source}/bias", np.zeros(kernel.shape[-1])) + fold.get(source, 0.0)
            constant = _activation(model.get_layer(source), bias.reshape(1, -1).astype(np.float32))[0]
            foldable = reader_kernel.ndim == 2
            for unit in np.flatnonzero(keep[source]):
                if not has_output[unit]:
                    drop = True
                elif not has_input[unit] and (constant[unit] == 0 or foldable):
                    drop = True
                    if constant[unit] != 0:
                        rows = np.flatnonzero(unit_of == unit)
                        fold[reader] += constant[unit] * reader_kernel[rows].sum(axis=0)
                else:
                    drop = False
                if drop:
                    keep[source][unit] = False
                    changed = True
                    # Zero what it touched so later passes see it gone.
                    masks = {**masks, source: _zero_unit(masks[source], unit, -1),
                             reader: _zero_rows(masks[reader], axis, unit_of == unit)}
    return keep, fold


def _zero_unit(mask: np.ndarray, unit: int, axis: int) -> np.ndarray:
    mask = mask.copy()
    np.moveaxis(mask, axis, 0)[unit] = 0
    return mask


def _zero_rows(mask: np.ndarray, axis: int, rows: np.ndarray) -> np.ndarray:
    mask = mask.copy()
    np.moveaxis(mask, axis, 0)[rows] = 0
    return mask


def compact_model(model: keras.Model, weights: dict, masks: dict) -> tuple[keras.Model, dict]:
    """The plain model rebuilt without its removable units, holding the sliced masked weights.

    Args:
      model: the config's plain model (its weights are not used).
      weights: every stored weight by `layer/name` (trained, masked).
      masks: layer -> kernel mask.

    Returns:
      (compact model, layer -> [units before, units kept]).

    Raises:
      ConfigError: the model is not a plain chain of Dense/Conv2D layers.
    """
    chain = unit_chain(model)
    keep, fold = plan_units(model, weights, masks, chain)
    reads = {reader: source for source, reader in chain}

    def clone_layer(layer):
        config = layer.get_config()
        if layer.name in keep:
            key = "units" if "units" in config else "filters"
            config[key] = int(keep[layer.name].sum())
        return layer.__class__.from_config(config)

    compact = keras.models.clone_model(model, clone_function=clone_layer)
    for layer in compact.layers:
        name = layer.name
        if name not in keep:
            continue
        kernel = weights[f"{name}/kernel"] * masks[name]
        kernel = kernel[..., keep[name]]
        if name in reads:
            source_keep = keep[reads[name]]
            axis, unit_of = _reader_rows(kernel, source_keep.size)
            kernel = np.compress(source_keep[unit_of], kernel, axis=axis)
        values = [kernel]
        if layer.use_bias:
            values.append((weights[f"{name}/bias"] + fold.get(name, 0.0))[keep[name]])
        layer.set_weights([v.astype(np.float32) for v in values])
    units = {name: [int(k.size), int(k.sum())] for name, k in keep.items()}
    return compact, units


def _params_masked(weights: dict, masks: dict) -> int:
    total = 0
    for name, mask in masks.items():
        total += int(mask.sum())
        bias = weights.get(f"{name}/bias")
        if bias is not None:
            total += int(mask.reshape(-1, mask.shape[-1]).any(axis=0).sum())
    return total


def latency_ms(saved_models: dict[str, str], images: np.ndarray,
               rounds: dict[int, int] | None = None) -> dict[str, dict[str, float]]:
    """Median ms per serving call of each SavedModel at each batch size, calls interleaved.

    `rounds`: timed calls per batch size (default `LATENCY_ROUNDS`).
    """
    rounds = rounds or LATENCY_ROUNDS
    serves = {name: tf.saved_model.load(path).signatures[SIGNATURE]
              for name, path in saved_models.items()}
    result = {name: {} for name in serves}
    for batch in LATENCY_BATCHES:
        repeats = -(-batch // len(images))
        inputs = tf.constant(np.concatenate([images] * repeats)[:batch])
        for serve in serves.values():
            for _ in range(3):  # warm-up: tracing and first-call allocations
                serve(images=inputs)
        times = {name: [] for name in serves}
        for _ in range(rounds[batch]):
            for name, serve in serves.items():
                started = time.perf_counter()
                serve(images=inputs)["logits"].numpy()
                times[name].append(time.perf_counter() - started)
        for name in serves:
            result[name][str(batch)] = 1000.0 * statistics.median(times[name])
    return result


def _compact_tflite(directory: str, export_folder: str, dense_dir: str, images: np.ndarray,
                    expected: np.ndarray) -> dict:
    """The compact SavedModel as TFLite, checked, and timed at batch 1 against dense and masked TFLite."""
    content = tflite_convert(directory, sparse=False)
    path = os.path.join(export_folder, "compact.tflite")
    store.atomic_write_bytes(path, content)
    difference = max_diff(expected, tflite_logits(content, images), TFLITE_TOLERANCE,
                          "The compact TFLite model")
    others = {"dense": storage_files.join(storage_files.parent(dense_dir), "model.tflite"),
              "masked": os.path.join(export_folder, "model.tflite")}
    for needed in others.values():
        if not storage_files.isfile(needed):
            raise StoreError(f"{needed} is missing; pass --tflite to the export command, which writes it.")
    latency = {}
    for name, other in others.items():
        latency[name] = tflite_latency_ms(storage_files.read_bytes(other), images[0])
    latency["compact"] = tflite_latency_ms(content, images[0])
    return {"path": path, "bytes": len(content), "max_abs_diff": difference, "median_ms_xnnpack": latency}


def export_compact(root: str, selector: str | None, level: int, replicate: int = 0,
                   rounds: dict[int, int] | None = None, weights: str = "early_stop",
                   tflite: bool = False) -> CompactResult:
    """Writes the compact SavedModel of a finished level, checks and times it.

    Runs after `command.export_level` (whose SavedModels of this level and of
    level 0 it times against, and with `tflite` their TFLite models) and adds
    its result to that export.json.

    Raises:
      ConfigError: unknown experiment, or a model that is not a plain chain.
      StoreError: the level (or its masked export) is missing.
      ExportError: the compact model's predictions differ from the stored level.
    """
    experiment = find_experiment(root, selector)
    config = experiment.config_dict()
    files = level_files(experiment, replicate, level)
    export_folder = export_dir(experiment, replicate, level)
    masked_dir = os.path.join(export_folder, "saved_model")
    dense_dir = os.path.join(export_dir(experiment, replicate, 0), "saved_model")
    spec = experiment.spec()
    images, described = check_images(config, spec=spec)
    keras.backend.clear_session()
    wrapped = rebuild(config, files, weights, experiment.paths.architecture, spec)
    expected = wrapped(normalize_images(images, spec), training=False).numpy()
    plain = tfmot_adapter.training_view(wrapped)  # the same architecture, unwrapped
    try:
        unit_chain(plain)
    except ConfigError as error:
        raise ConfigError(f"export --compact: {error}") from None
    trained = store.load_arrays(weights_file(files, weights))
    masks = store.load_arrays(files.mask)
    compact, units = compact_model(plain, trained, masks)
    directory = os.path.join(export_folder, "compact_saved_model")
    module = ServingModule(compact, spec, list(prunable_layers(compact)))
    write_saved_model(module, directory)
    difference = max_diff(expected, saved_model_logits(directory, images),
                          SAVED_MODEL_TOLERANCE, "The compact SavedModel")
    for needed in (dense_dir, masked_dir):
        if not storage_files.isdir(needed):
            raise StoreError(f"{needed} is missing; run export for this level (and level 0) first, "
                             "or pass --compact to the export command, which does both.")
    timings = latency_ms({"dense": dense_dir, "masked": masked_dir, "compact": directory}, images, rounds)
    result = CompactResult(
        saved_model=directory, units=units, params_dense=int(plain.count_params()),
        params_masked=_params_masked(trained, masks), params_compact=int(compact.count_params()),
        latency_ms=timings, max_abs_diff=difference, check_inputs=described)
    if tflite:
        result.tflite = _compact_tflite(directory, export_folder, dense_dir, images, expected)
    summary_path = os.path.join(export_folder, "export.json")
    summary = store.read_json(summary_path) if storage_files.exists(summary_path) else {}
    store.write_json(summary_path, {**summary, "compact": dataclasses.asdict(result)})
    return result


def format_compact(result: CompactResult) -> str:
    """The lines the command prints."""
    lines = [f"compact model: {result.saved_model}",
             "units kept: " + ", ".join(f"{n} {k}/{t}" for n, (t, k) in result.units.items()),
             f"parameters: dense {result.params_dense:,}, masked {result.params_masked:,} nonzero, "
             f"compact {result.params_compact:,}",
             f"predictions on {result.check_inputs}: max |logit difference| {result.max_abs_diff:.2g}"]
    for batch in map(str, LATENCY_BATCHES):
        dense, masked, compact = (result.latency_ms[k][batch] for k in ("dense", "masked", "compact"))
        lines.append(f"batch {batch}: dense {dense:.3f} ms, masked {masked:.3f} ms, compact {compact:.3f} ms "
                     f"(compact {dense / compact:.2f}x faster than dense)")
    if result.tflite is not None:
        ms = result.tflite["median_ms_xnnpack"]
        lines.append(f"TFLite batch 1 (XNNPACK): dense {ms['dense']:.4f} ms, masked {ms['masked']:.4f} ms, "
                     f"compact {ms['compact']:.4f} ms ({ms['dense'] / ms['compact']:.2f}x faster than "
                     f"dense); "
                     f"{result.tflite['bytes']:,} bytes, max |logit difference| "
                     f"{result.tflite['max_abs_diff']:.2g} ({result.tflite['path']})")
    return "\n".join(lines)
