"""Mixed precision: the tf_keras dtype policy models are built under.

Under `mixed_float16` / `mixed_bfloat16` layers compute in the low precision
while every variable (kernels, biases, BatchNorm statistics, tfmot's masks)
stays float32, so masks and stored weights are the same arrays as under
float32 and pruned weights stay exactly zero (their gradients are masked
before the optimizer sees them). The loss is computed in float32
(`losses.cross_entropy`); float16 adds loss scaling (`optimizers.make_optimizer`).
"""
import contextlib
from collections.abc import Iterator

import tf_keras as keras


@contextlib.contextmanager
def precision_policy(precision: str | None) -> Iterator[None]:
    """Builds layers created inside under `precision` (None: float32), then restores the policy.

    Args:
      precision: "float32", "mixed_float16", "mixed_bfloat16" or None.
    """
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(precision or "float32")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)
