"""Linear mode connectivity: instability analysis (Frankle et al. 2020).

Two networks `a` and `b` (usually copies of one network trained from the same
point with different data orders) are linearly mode connected when the error
does not rise along the straight line between them in weight space. For
alpha in [0, 1] the interpolated network is `(1 - alpha) * a + alpha * b`;
the *instability* is the largest error along that path minus the mean of the
two endpoint errors ("error barrier height").

Weights are the `dict[str, np.ndarray]` keyed `layer/weight` that
`lottery_tf.pruning.tfmot_adapter.get_weights` returns. Everything here is pure
NumPy; evaluating a network is left to a caller-supplied `evaluate` function.

BatchNorm: every floating-point entry is interpolated, including BatchNorm's
`moving_mean` and `moving_variance`. This is what Frankle et al. do (they
interpolate all parameters and buffers). The statistics are *not* recomputed
for the interpolated network, although the activations it actually produces
may differ from the interpolated statistics; resetting BatchNorm statistics on
training data (`reset_bn`) is deliberately out of scope.

Masks: networks sharing one mask keep their pruned weights at exactly zero
everywhere along the path. If the masks differ, the interpolated network is
denser than either endpoint; apply a mask to the result if that is unwanted.
"""
from collections.abc import Callable, Mapping, Sequence

import numpy as np

Weights = Mapping[str, np.ndarray]
Curve = Sequence[Mapping[str, float]]


def _check_compatible(weights_a: Weights, weights_b: Weights) -> None:
    """Raises ValueError unless both weight dicts have the same keys and shapes."""
    missing = sorted(set(weights_a) - set(weights_b))
    extra = sorted(set(weights_b) - set(weights_a))
    if missing or extra:
        raise ValueError(f"Weights do not match: {missing} only in the first network, "
                         f"{extra} only in the second.")
    for name in weights_a:
        shape_a, shape_b = np.shape(weights_a[name]), np.shape(weights_b[name])
        if shape_a != shape_b:
            raise ValueError(f"Weight {name} has shape {shape_a} in the first network "
                             f"and {shape_b} in the second.")


def interpolate(weights_a: Weights, weights_b: Weights, alpha: float) -> dict[str, np.ndarray]:
    """The network `(1 - alpha) * a + alpha * b`, entry by entry.

    Args:
      weights_a: the network at alpha = 0, keyed `layer/weight`.
      weights_b: the network at alpha = 1, with the same keys and shapes.
      alpha: the position along the path, in [0, 1].

    Returns:
      New arrays (never views of the inputs) keyed like `weights_a`, each with
      `weights_a`'s dtype. Integer and boolean entries (e.g. counters) are
      copied from `weights_a` rather than interpolated.

    Raises:
      ValueError: the keys or shapes differ, or alpha is not in [0, 1].
    """
    alpha = float(alpha)
    if not 0.0 <= alpha <= 1.0:  # also rejects NaN
        raise ValueError(f"alpha must be in [0, 1], got {alpha}.")
    _check_compatible(weights_a, weights_b)
    result = {}
    for name, value in weights_a.items():
        a = np.asarray(value)
        b = np.asarray(weights_b[name])
        if not np.issubdtype(a.dtype, np.floating) or alpha == 0.0:
            result[name] = a.copy()
        elif alpha == 1.0:
            # The formula below gives a + (b - a), which can differ from b by
            # rounding; the endpoint must be exactly the second network.
            result[name] = b.astype(a.dtype, copy=True)
        else:
            # a + alpha * (b - a) rather than (1 - alpha) * a + alpha * b: equal
            # entries (shared or masked weights, identical networks) then stay
            # bit-identical along the whole path.
            step = np.asarray(alpha, dtype=a.dtype)
            result[name] = (a + step * (b.astype(a.dtype) - a)).astype(a.dtype)
    return result


def interpolation_alphas(points: int = 30) -> np.ndarray:
    """Evenly spaced alphas from 0 to 1 inclusive (Frankle et al. use 30).

    Args:
      points: how many alphas, at least 2 (the two endpoints).

    Returns:
      A float64 array of `points` values, the first 0.0 and the last 1.0.

    Raises:
      ValueError: points < 2.
    """
    if int(points) != points or points < 2:
        raise ValueError(f"Need an integer number of points >= 2 to include both endpoints, got {points}.")
    return np.linspace(0.0, 1.0, int(points))


def error_curve(weights_a: Weights, weights_b: Weights, evaluate: Callable[[dict[str, np.ndarray]], float],
                points: int = 30) -> list[dict[str, float]]:
    """Classification error along the linear path from `a` to `b`.

    Args:
      weights_a: the network at alpha = 0.
      weights_b: the network at alpha = 1.
      evaluate: maps a weight dict to its classification error (1 - accuracy).
      points: how many evenly spaced alphas to evaluate, at least 2.

    Returns:
      `[{"alpha": alpha, "error": error}, ...]` in increasing alpha, starting
      at 0 and ending at 1.

    Raises:
      ValueError: the networks do not match (see `interpolate`), points < 2,
        or `evaluate` returns a non-finite error.
    """
    # Check before the first (possibly slow) evaluation, not inside the loop.
    _check_compatible(weights_a, weights_b)
    curve = []
    for alpha in interpolation_alphas(points):
        error = float(evaluate(interpolate(weights_a, weights_b, alpha)))
        if not np.isfinite(error):
            raise ValueError(f"evaluate returned error {error} at alpha {alpha}.")
        curve.append({"alpha": float(alpha), "error": error})
    return curve


def _checked(curve: Curve) -> tuple[np.ndarray, np.ndarray]:
    """The curve's alphas and errors, after checking it spans [0, 1] in order.

    Raises:
      ValueError: fewer than 2 points, alphas not strictly increasing, or the
        path does not start at alpha 0 and end at alpha 1.
    """
    if len(curve) < 2:
        raise ValueError(f"A curve needs at least its two endpoints, got {len(curve)} point(s).")
    alphas = np.array([float(point["alpha"]) for point in curve])
    errors = np.array([float(point["error"]) for point in curve])
    if np.any(np.diff(alphas) <= 0):
        raise ValueError(f"Curve alphas must be strictly increasing, got {alphas.tolist()}.")
    # The endpoints must be the two trained networks themselves, or the
    # barrier would be measured against the wrong baseline.
    if alphas[0] != 0.0 or alphas[-1] != 1.0:
        raise ValueError(f"Curve must run from alpha 0 to alpha 1, got {alphas[0]} to {alphas[-1]}.")
    return alphas, errors


def endpoint_errors(curve: Curve) -> tuple[float, float]:
    """The errors of the two networks themselves (alpha = 0 and alpha = 1).

    Args:
      curve: as returned by `error_curve`.

    Returns:
      (error of a, error of b).

    Raises:
      ValueError: see `_checked`.
    """
    _, errors = _checked(curve)
    return float(errors[0]), float(errors[-1])


def instability(curve: Curve) -> float:
    """Error barrier height: max error on the path minus the mean endpoint error.

    Never negative, since the maximum includes both endpoints. Frankle et al.
    call a network stable when this is approximately zero (they use 2%).

    Args:
      curve: as returned by `error_curve`.

    Returns:
      max(errors) - (error_a + error_b) / 2.

    Raises:
      ValueError: see `_checked`.
    """
    _, errors = _checked(curve)
    return float(errors.max() - (errors[0] + errors[-1]) / 2.0)


def lmc_summary(curve: Curve) -> dict[str, float | list[float]]:
    """A JSON-serializable summary of an error curve.

    Args:
      curve: as returned by `error_curve`.

    Returns:
      {"instability", "error_a", "error_b", "max_error"} as floats and
      {"alphas", "errors"} as lists of floats.

    Raises:
      ValueError: see `_checked`.
    """
    alphas, errors = _checked(curve)
    error_a, error_b = endpoint_errors(curve)
    return {
        "instability": instability(curve),
        "error_a": error_a,
        "error_b": error_b,
        "max_error": float(errors.max()),
        "alphas": [float(alpha) for alpha in alphas],
        "errors": [float(error) for error in errors],
    }
