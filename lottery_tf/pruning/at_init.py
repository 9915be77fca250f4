"""Pruning at initialization: SNIP, GraSP, SynFlow, magnitude and random scores.

Every scoring function returns `{layer_name: score array shaped like the kernel}`
where a LARGER score means a MORE important weight, so `prune_by_scores` always
keeps the largest scores. (GraSP's own convention is the opposite; see
`grasp_scores`.)

Scores are computed on a plain, unwrapped tf_keras model that holds the
weights to be pruned; tfmot never appears here. No function leaves the model
changed: SNIP and GraSP restore every weight afterwards (training-mode
BatchNorm updates its moving statistics), and SynFlow works on a float64 copy.

Kernels are named by layer, as in `lottery_tf.models.prunable_layers`: a plain
name such as `dense_1`, or `outer/inner` for a layer inside a nested model.
"""
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import numpy as np
import tensorflow as tf
import tf_keras as keras

from lottery_tf.errors import ConfigError
from lottery_tf.models.prunable import pruned_weight
from lottery_tf.pruning import selection
from lottery_tf.pruning.masks import Masks, ones_like

Scores = dict[str, np.ndarray]

METHODS = ("grasp", "magnitude", "random", "snip", "synflow")
SCOPES = ("global", "layerwise")
GRASP_TEMPERATURE = 200.0


# --- Model access ------------------------------------------------------------


def _find_layer(model: keras.Model, name: str) -> keras.layers.Layer:
    """The layer called `name`, following `outer/inner` paths into nested models.

    Raises:
      ValueError: no such layer.
    """
    layer = model
    for part in name.split("/"):
        try:
            layer = layer.get_layer(part)
        except (ValueError, AttributeError) as error:
            raise ValueError(f"Model {model.name!r} has no layer {name!r}.") from error
    return layer


def _kernel_variables(model: keras.Model, kernels: Sequence[str]) -> list[tf.Variable]:
    """The kernel variable of each named layer, in the order given.

    Raises:
      ValueError: a layer is missing or has no kernel.
    """
    variables = []
    for name in kernels:
        layer = _find_layer(model, name)
        try:
            variables.append(pruned_weight(layer))  # kernel, depthwise_kernel, embeddings, ...
        except ConfigError as error:
            raise ValueError(f"Layer {name!r} has no kernel to score.") from error
    return variables


@contextmanager
def _restoring_weights(model: keras.Model) -> Iterator[None]:
    """Restores every model weight (including BatchNorm statistics) on exit."""
    saved = model.get_weights()
    try:
        yield
    finally:
        model.set_weights(saved)


def _chunks(images, labels, batch_size: int | None) -> list[tuple[tf.Tensor, tf.Tensor, float]]:
    """Splits the examples into (images, labels, share of all examples) batches.

    Weighting each batch's mean loss by its share makes the sum over batches the
    mean loss over all examples, whatever the batch size.

    Raises:
      ValueError: no examples, or images and labels differ in count.
    """
    images = np.asarray(images, dtype=np.float32)
    labels = np.asarray(labels).reshape(-1).astype(np.int64)
    total = len(images)
    if total == 0 or total != len(labels):
        raise ValueError(f"Need as many labels as images (and at least one), got {total} images "
                         f"and {len(labels)} labels.")
    size = total if batch_size is None else int(batch_size)
    if size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}.")
    return [(tf.constant(images[i:i + size]), tf.constant(labels[i:i + size]),
             min(size, total - i) / total)
            for i in range(0, total, size)]


def _mean_loss(model: keras.Model, images: tf.Tensor, labels: tf.Tensor, temperature: float,
               training: bool) -> tf.Tensor:
    """Mean softmax cross-entropy of the model's logits divided by `temperature`."""
    logits = model(images, training=training) / temperature
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))


def _gradients(model: keras.Model, variables: list[tf.Variable], batches, temperature: float,
               training: bool) -> list[tf.Tensor]:
    """dL/dw for the mean loss over all batches."""
    total = [tf.zeros_like(v) for v in variables]
    for images, labels, share in batches:
        with tf.GradientTape() as tape:
            tape.watch(variables)
            loss = _mean_loss(model, images, labels, temperature, training)
        grads = tape.gradient(loss, variables)
        _check_connected(grads, variables)
        total = [t + share * g for t, g in zip(total, grads, strict=True)]
    return total


def _check_connected(grads, variables) -> None:
    # A None gradient means the kernel does not influence the output at all; a
    # zero score there would silently mean "prune everything", so fail loudly.
    for grad, variable in zip(grads, variables, strict=True):
        if grad is None:
            raise ValueError(f"Kernel {variable.name} does not affect the model's output.")


# --- Scores ------------------------------------------------------------------


def loss_gradients(model: keras.Model, images, labels, kernels: Sequence[str], *,
                   temperature: float = 1.0, batch_size: int | None = None,
                   training: bool = True) -> Scores:
    """Gradient of the mean cross-entropy over the examples w.r.t. each named kernel.

    Args:
      model: unwrapped tf_keras model that outputs logits.
      images: all examples, shape `(N, *input_shape)`.
      labels: their integer class labels, shape `(N,)`.
      kernels: names of the layers whose kernels are differentiated.
      temperature: the logits are divided by it before the softmax.
      batch_size: examples per forward pass (None: all at once). The loss is
        still the mean over all N examples; only BatchNorm's batch statistics
        depend on it.
      training: call the model in training mode (BatchNorm uses batch statistics).

    Returns:
      `{layer_name: gradient}` shaped like the kernels. The model's weights are
      unchanged afterwards.

    Raises:
      ValueError: unknown layer, mismatched examples, or a kernel not connected
        to the output.
    """
    variables = _kernel_variables(model, kernels)
    with _restoring_weights(model):
        grads = _gradients(model, variables, _chunks(images, labels, batch_size), temperature, training)
    return {name: g.numpy() for name, g in zip(kernels, grads, strict=True)}


def snip_scores(model: keras.Model, images, labels, kernels: Sequence[str], *,
                batch_size: int | None = None, training: bool = True) -> Scores:
    """SNIP connection sensitivity |dL/dw * w| (Lee et al., 2019).

    The loss is the mean sparse softmax cross-entropy from the logits over all
    given examples. BatchNorm runs in training mode by default (batch
    statistics, as the paper's networks did when scored); its moving statistics
    are restored afterwards.

    Args:
      model, images, labels, kernels, batch_size, training: as `loss_gradients`.

    Returns:
      `{layer_name: score}`, non-negative, shaped like the kernels.

    Raises:
      ValueError: as `loss_gradients`.
    """
    grads = loss_gradients(model, images, labels, kernels, batch_size=batch_size, training=training)
    variables = _kernel_variables(model, kernels)
    return {name: np.abs(grads[name] * v.numpy()) for name, v in zip(kernels, variables, strict=True)}


def hessian_gradient_product(model: keras.Model, images, labels, kernels: Sequence[str], *,
                             temperature: float = GRASP_TEMPERATURE, batch_size: int | None = None,
                             training: bool = True) -> tuple[Scores, Scores]:
    """The loss gradient g and the Hessian-gradient product H g over the named kernels.

    H is the Hessian of the (temperature-scaled) mean loss restricted to the
    named kernels. H g is the gradient of g_const . g(w), where g_const is g
    held fixed: two nested tapes, never the full Hessian.

    Args:
      model, images, labels, kernels, temperature, batch_size, training: as
        `loss_gradients`.

    Returns:
      `(g, Hg)`, each `{layer_name: array shaped like the kernel}`.

    Raises:
      ValueError: as `loss_gradients`.
    """
    variables = _kernel_variables(model, kernels)
    with _restoring_weights(model):
        batches = _chunks(images, labels, batch_size)
        # g must be the full-data gradient before any H g term is formed.
        grads = [tf.stop_gradient(g) for g in _gradients(model, variables, batches, temperature, training)]
        hg = [tf.zeros_like(v) for v in variables]
        for batch_images, batch_labels, share in batches:
            with tf.GradientTape() as outer:
                outer.watch(variables)
                with tf.GradientTape() as inner:
                    inner.watch(variables)
                    loss = _mean_loss(model, batch_images, batch_labels, temperature, training)
                batch_grads = inner.gradient(loss, variables)
                _check_connected(batch_grads, variables)
                dot = tf.add_n([tf.reduce_sum(g * bg) for g, bg in zip(grads, batch_grads, strict=True)])
            batch_hg = outer.gradient(dot, variables)
            # TF returns None where g does not depend on a kernel (the loss is
            # linear in it); that block of H g is zero, not missing.
            hg = [h + share * (tf.zeros_like(v) if bh is None else bh)
                  for h, bh, v in zip(hg, batch_hg, variables, strict=True)]
    return ({name: g.numpy() for name, g in zip(kernels, grads, strict=True)},
            {name: h.numpy() for name, h in zip(kernels, hg, strict=True)})


def grasp_scores(model: keras.Model, images, labels, kernels: Sequence[str], *,
                 temperature: float = GRASP_TEMPERATURE, batch_size: int | None = None,
                 training: bool = True) -> Scores:
    """GraSP scores (Wang et al., 2020), NEGATED so that larger means keep.

    The paper scores S(-w) = -w * (H g) and removes the weights with the
    HIGHEST S (their removal preserves gradient flow best). This returns
    -S = w * (H g) so that, like every score here, the largest are kept;
    `prune_by_scores` then removes exactly the weights GraSP would remove.
    Scores can be negative. As in the paper, the logits are divided by a
    temperature (200) for both g and H g.

    Args:
      model, images, labels, kernels, temperature, batch_size, training: as
        `hessian_gradient_product`.

    Returns:
      `{layer_name: w * Hg}` shaped like the kernels.

    Raises:
      ValueError: as `loss_gradients`.
    """
    _, hg = hessian_gradient_product(model, images, labels, kernels, temperature=temperature,
                                     batch_size=batch_size, training=training)
    variables = _kernel_variables(model, kernels)
    return {name: v.numpy() * hg[name] for name, v in zip(kernels, variables, strict=True)}


def _float64_copy(model: keras.Model) -> keras.Model:
    """A float64 clone of a functional/Sequential model with the same layer names and weights.

    SynFlow multiplies |w| along every path, so R grows exponentially with
    depth: float32 overflows from about ResNet-56 on, while float64 (as in the
    SynFlow authors' code) reaches past ResNet-110.
    """
    def clone_layer(layer: keras.layers.Layer) -> keras.layers.Layer:
        config = layer.get_config()
        config["dtype"] = "float64"
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(model, clone_function=clone_layer)
    copy.set_weights(model.get_weights())
    return copy


def _synflow_on_copy(copy: keras.Model, abs_weights: list[np.ndarray], kernels: Sequence[str],
                     input_shape: Sequence[int], masks: Mapping[str, np.ndarray] | None) -> Scores:
    """SynFlow scores on the float64 `copy`, first loaded with `abs_weights` and masked."""
    copy.set_weights(abs_weights)
    variables = _kernel_variables(copy, kernels)
    for name, variable in zip(kernels, variables, strict=True):
        if masks is not None and name in masks:
            variable.assign(variable * np.asarray(masks[name], dtype=np.float64))
    ones = tf.ones((1, *input_shape), dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(variables)
        total = tf.reduce_sum(copy(ones, training=False))
    grads = tape.gradient(total, variables)
    _check_connected(grads, variables)
    scores = {name: np.abs(g.numpy() * v.numpy())
              for name, g, v in zip(kernels, grads, variables, strict=True)}
    if not all(np.isfinite(s).all() for s in scores.values()):
        raise ValueError("SynFlow scores overflowed float64; the network is too deep to score this way.")
    return scores


def synflow_scores(model: keras.Model, kernels: Sequence[str], input_shape: Sequence[int],
                   masks: Mapping[str, np.ndarray] | None = None) -> Scores:
    """SynFlow synaptic saliency |dR/dw * w| (Tanaka et al., 2020); uses no data.

    On a float64 copy of the model, every weight (kernels, biases, BatchNorm
    parameters and statistics) is replaced by its absolute value, pruned
    kernel entries (mask 0) are zeroed, an all-ones input of batch 1 is fed
    through, and R is the sum of the outputs. BatchNorm runs in inference mode
    (training=False): a batch of one constant input has no meaningful batch
    statistics, and the moving statistics keep the network linear in |w| as
    the method intends. `model` itself is never modified.

    Args:
      model: unwrapped functional or Sequential tf_keras model.
      kernels: names of the layers to score.
      input_shape: shape of one example, without the batch dimension.
      masks: optional current masks by layer name, applied before scoring.

    Returns:
      `{layer_name: float64 score}`, non-negative, shaped like the kernels (0
      where masked).

    Raises:
      ValueError: unknown layer, a kernel not connected to the output, or
        non-finite scores (overflow even in float64).
    """
    abs_weights = [np.abs(w) for w in model.get_weights()]
    return _synflow_on_copy(_float64_copy(model), abs_weights, kernels, input_shape, masks)


def magnitude_scores(kernels_by_name: Mapping[str, np.ndarray]) -> Scores:
    """|w| for each kernel (magnitude pruning at initialization)."""
    return {name: np.abs(np.asarray(w)) for name, w in kernels_by_name.items()}


def random_scores(shapes: Mapping[str, Sequence[int]], rng: np.random.Generator) -> Scores:
    """Independent uniform [0, 1) scores: keeping the largest is a uniformly random mask."""
    return {name: rng.uniform(size=tuple(shape)) for name, shape in shapes.items()}


# --- From scores to masks ----------------------------------------------------


def _groups(names: Sequence[str], scope: str) -> list[list[str]]:
    """Layers ranked together: all of them (global) or each alone (layerwise)."""
    if scope not in SCOPES:
        raise ConfigError(f"Unknown pruning scope {scope!r}; choose one of {list(SCOPES)}.")
    return [list(names)] if scope == "global" else [[name] for name in names]


def _check_scores(scores: Mapping[str, np.ndarray], masks: Masks) -> None:
    for name, mask in masks.items():
        if name not in scores:
            raise ValueError(f"No scores for layer {name!r}.")
        if np.shape(scores[name]) != mask.shape:
            raise ValueError(f"Scores for {name!r} have shape {np.shape(scores[name])}, "
                             f"the mask has {mask.shape}.")
        if not np.isfinite(scores[name]).all():
            raise ValueError(f"Scores for {name!r} are not all finite.")


def _keep_in_group(scores: Mapping[str, np.ndarray], masks: Masks, group: list[str],
                   count: int) -> Masks:
    """New masks for `group`: its `count` best-scored alive weights, ranked together.

    Equal scores go to the earlier position.
    """
    return selection.keep_top({n: np.asarray(scores[n], dtype=np.float64) for n in group}, masks,
                              [group], [count], ties="earlier")


def prune_by_scores(scores: Mapping[str, np.ndarray], masks: Masks, fraction_to_keep: float,
                    scope: str = "global") -> Masks:
    """Keeps the best-scored `fraction_to_keep` of the surviving weights.

    Exactly `round(fraction_to_keep * alive)` weights are kept, where `alive`
    counts the survivors of all layers (global: one threshold across layers) or
    of each layer (layerwise). Pruned weights are never revived; ties go to the
    earlier position.

    Args:
      scores: `{layer_name: scores}` shaped like the masks; larger is better.
      masks: current masks (the layers to prune).
      fraction_to_keep: in [0, 1].
      scope: "global" or "layerwise".

    Returns:
      New float32 0/1 masks with the same keys and shapes.

    Raises:
      ConfigError: fraction outside [0, 1] or unknown scope.
      ValueError: scores missing, misshapen or not finite.
    """
    if not 0.0 <= fraction_to_keep <= 1.0:
        raise ConfigError(f"fraction_to_keep must be in [0, 1], got {fraction_to_keep}.")
    groups = _groups(list(masks), scope)
    _check_scores(scores, masks)
    new: Masks = {}
    for group in groups:
        alive = int(sum(int((masks[n] > 0).sum()) for n in group))
        new.update(_keep_in_group(scores, masks, group, int(round(fraction_to_keep * alive))))
    return new


def exponential_schedule(target_fraction: float, iterations: int) -> list[float]:
    """Densities target ** (k / iterations) for k = 1..iterations (SynFlow's schedule).

    Raises:
      ConfigError: target outside (0, 1] or iterations < 1.
    """
    if not 0.0 < target_fraction <= 1.0:
        raise ConfigError(f"target_fraction must be in (0, 1], got {target_fraction}.")
    if iterations < 1:
        raise ConfigError(f"iterations must be at least 1, got {iterations}.")
    return [target_fraction ** (k / iterations) for k in range(1, iterations + 1)]


def synflow_rounds(model: keras.Model, kernels: Sequence[str], input_shape: Sequence[int],
                   target_fraction: float, iterations: int = 100,
                   scope: str = "global") -> Iterator[Masks]:
    """Yields the mask after each round of SynFlow's iterative pruning (see below).

    Round k of `iterations` rescores with the current masks applied and keeps
    `round(target ** (k / iterations) * n)` weights, where n is the number of
    weights of all layers (global) or of each layer (layerwise). Only survivors
    are ranked, so each round's mask lies inside the previous one.

    Args/Raises: as `iterative_synflow_masks`; the arguments are checked at the
    first `next()`.

    Yields:
      Float32 0/1 masks by layer name, one per round.
    """
    schedule = exponential_schedule(target_fraction, iterations)
    groups = _groups(list(kernels), scope)
    variables = _kernel_variables(model, kernels)
    masks = ones_like({name: v.numpy() for name, v in zip(kernels, variables, strict=True)})
    # One copy for all rounds: cloning costs more than scoring a small model.
    copy = _float64_copy(model)
    abs_weights = [np.abs(w) for w in model.get_weights()]
    for density in schedule:
        scores = _synflow_on_copy(copy, abs_weights, kernels, input_shape, masks)
        new: Masks = {}
        for group in groups:
            # Counts are of all weights, not survivors: the schedule is in
            # absolute density, so rounding errors cannot accumulate.
            count = int(round(density * sum(masks[n].size for n in group)))
            new.update(_keep_in_group(scores, masks, group, count))
        masks = new
        yield masks


def iterative_synflow_masks(model: keras.Model, kernels: Sequence[str], input_shape: Sequence[int],
                            target_fraction: float, iterations: int = 100,
                            scope: str = "global") -> Masks:
    """SynFlow's iterative pruning to `target_fraction` of the weights, without data.

    Pruning a little at a time and rescoring lets the scores of a thinning
    layer rise before it empties; one-shot SynFlow (iterations=1) can remove
    whole layers (layer collapse, Tanaka et al. 2020). The final mask keeps
    exactly `round(target_fraction * n)` weights (n: all weights, or each
    layer's, by scope).

    Args:
      model: unwrapped functional or Sequential tf_keras model (not modified).
      kernels: names of the layers to prune.
      input_shape: shape of one example, without the batch dimension.
      target_fraction: final density, in (0, 1].
      iterations: pruning rounds (1 is one-shot SynFlow).
      scope: "global" or "layerwise".

    Returns:
      Float32 0/1 masks by layer name.

    Raises:
      ConfigError: bad target, iteration count or scope.
      ValueError: as `synflow_scores`.
    """
    # Keep only the newest round: a list of every round's masks would not fit for a large model.
    rounds = synflow_rounds(model, kernels, input_shape, target_fraction, iterations, scope)
    return deque(rounds, maxlen=1)[0]


def score_masks(method: str, model: keras.Model, kernels: Sequence[str], images, labels,
                input_shape: Sequence[int], fraction_to_keep: float, scope: str,
                rng: np.random.Generator, synflow_iterations: int = 100,
                batch_size: int | None = None) -> Masks:
    """One-shot pruning from dense at initialization by the named method.

    Args:
      method: one of `METHODS`.
      model: unwrapped tf_keras model holding the weights to score (unchanged
        afterwards).
      kernels: names of the layers to prune.
      images, labels: scoring examples for "snip" and "grasp" (ignored, and may
        be None, for the data-free methods).
      input_shape: shape of one example (used by "synflow").
      fraction_to_keep: density of the result, in [0, 1] ((0, 1] for synflow).
      scope: "global" or "layerwise".
      rng: randomness for "random".
      synflow_iterations: pruning rounds for "synflow".
      batch_size: examples per forward pass for "snip" and "grasp" (None: all
        at once); bounds memory, since GraSP keeps a second-order graph.

    Returns:
      Float32 0/1 masks by layer name.

    Raises:
      ConfigError: unknown method or scope, bad fraction, or no data for a
        data-driven method.
      ValueError: as the scoring functions.
    """
    if method not in METHODS:
        raise ConfigError(f"Unknown pruning-at-init method {method!r}; choose one of {list(METHODS)}.")
    _groups(list(kernels), scope)  # Fail on a bad scope before any expensive scoring.
    if method == "synflow":
        return iterative_synflow_masks(model, kernels, input_shape, fraction_to_keep,
                                       iterations=synflow_iterations, scope=scope)
    if method in ("snip", "grasp") and (images is None or labels is None):
        raise ConfigError(f"Pruning method {method!r} needs images and labels.")
    weights = {name: v.numpy() for name, v in zip(kernels, _kernel_variables(model, kernels), strict=True)}
    scores = method_scores(method, model, kernels, images, labels, input_shape, rng,
                           batch_size=batch_size)
    return prune_by_scores(scores, ones_like(weights), fraction_to_keep, scope)


def method_scores(method: str, model: keras.Model, kernels: Sequence[str], images, labels,
                  input_shape: Sequence[int], rng: np.random.Generator,
                  batch_size: int | None = None) -> Scores:
    """The named method's one-shot scores of the dense model (SynFlow: a single round).

    Args: as `score_masks`.

    Returns:
      `{layer_name: scores}` shaped like the kernels; larger is better.

    Raises:
      ConfigError: unknown method, or no data for a data-driven method.
      ValueError: as the scoring functions.
    """
    if method not in METHODS:
        raise ConfigError(f"Unknown pruning-at-init method {method!r}; choose one of {list(METHODS)}.")
    if method in ("snip", "grasp") and (images is None or labels is None):
        raise ConfigError(f"Pruning method {method!r} needs images and labels.")
    if method == "synflow":
        return synflow_scores(model, kernels, input_shape)
    if method == "snip":
        return snip_scores(model, images, labels, kernels, batch_size=batch_size)
    if method == "grasp":
        return grasp_scores(model, images, labels, kernels, batch_size=batch_size)
    weights = {name: v.numpy() for name, v in zip(kernels, _kernel_variables(model, kernels), strict=True)}
    if method == "magnitude":
        return magnitude_scores(weights)
    return random_scores({name: w.shape for name, w in weights.items()}, rng)
