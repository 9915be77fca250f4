"""Did TFLite's XNNPACK delegate run a ticket's 1x1 convolutions sparse, and how fast was it?

XNNPACK takes its sparse path (NCHW layout, sparse-matrix kernels for 1x1
convolutions) only when all of these hold:
1. the converter stored weights sparse (`EXPERIMENTAL_SPARSITY`: a DENSIFY op
   per sparse weight), which makes the delegate ask XNNPACK for sparse inference;
2. the model fits the pattern (tfmot's `PruneForLatencyOnXNNPack` check: a 3x3
   stride-2 convolution on 3 channels starts the chain, a global average
   pooling ends it, only depthwise/1x1 convolutions and simple ops between);
3. more than 2/3 of the chain's 1x1 weights are zero;
4. the CPU build has sparse kernels worth using: on x86, XNNPACK keeps dense
   kernels whenever the CPU has AVX (its sparse kernels target SSE only).

XNNPACK does not report which path it took, so the evidence is indirect: the
sparse-format and plain-format models are run on the same inputs under
XNNPACK. Only the sparse hint differs between them; if the logits are
bit-identical, the same dense kernels ran. If they differ, other kernels ran.
"""
import dataclasses
import warnings

import numpy as np
import tensorflow as tf

# XNNPACK's threshold: sparse inference needs more than this fraction of zeros in the 1x1 weights.
SPARSE_ZERO_FRACTION = 2 / 3


@dataclasses.dataclass
class XnnpackComparison:
    """A ticket's sparse-format TFLite model against the dense network, both under XNNPACK.

    Attributes:
      dense_ms: median single-image invoke of the dense network (level 0, plain format).
      sparse_ms: the same of this level's sparse-format model.
      speedup: dense_ms / sparse_ms (above 1: the ticket runs faster).
      densify_ops: DENSIFY ops in the sparse-format model (weights stored sparse).
      pointwise_percent_zero: zeros in the model's 1x1 convolution weights, in percent
        (None: the model has none).
      model_problem: why the model does not fit XNNPACK's sparse pattern (tfmot's
        check), or None when it fits.
      cpu_has_avx: whether this CPU has AVX (None: not known).
      same_logits_as_dense_kernels: the sparse-format model's logits equal, bit for bit,
        those of the plain-format model of the same weights under XNNPACK.
      sparse_path: whether XNNPACK ran the sparse path (as far as the evidence tells).
      reason: the evidence in words.
    """

    dense_ms: float
    sparse_ms: float
    speedup: float
    densify_ops: int
    pointwise_percent_zero: float | None
    model_problem: str | None
    cpu_has_avx: bool | None
    same_logits_as_dense_kernels: bool
    sparse_path: bool
    reason: str


def _ops(content: bytes) -> tuple[tf.lite.Interpreter, list[dict]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # tf.lite.Interpreter's LiteRT notice
        interpreter = tf.lite.Interpreter(
            model_content=content,
            experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    # The only way TFLite's Python API lists a model's operators (private, no public twin).
    return interpreter, interpreter._get_ops_details()


def densify_ops(content: bytes) -> int:
    """How many DENSIFY ops a TFLite model has (one per weight stored in sparse format)."""
    return sum(op["op_name"] == "DENSIFY" for op in _ops(content)[1])


def pointwise_weights(content: bytes) -> list[np.ndarray]:
    """The filters of a plain-format TFLite model's 1x1 CONV_2D ops (after BatchNorm folding)."""
    interpreter, ops = _ops(content)
    interpreter.allocate_tensors()
    details = {tensor["index"]: tensor for tensor in interpreter.get_tensor_details()}
    filters = []
    for op in ops:
        if op["op_name"] != "CONV_2D":
            continue
        shape = tuple(details[op["inputs"][1]]["shape"])  # (out, height, width, in)
        if len(shape) == 4 and shape[1:3] == (1, 1):
            filters.append(interpreter.get_tensor(op["inputs"][1]))
    return filters


def cpu_has_avx(cpuinfo: str = "/proc/cpuinfo") -> bool | None:
    """Whether the CPU lists the AVX flag (None where /proc/cpuinfo is not readable)."""
    try:
        with open(cpuinfo) as file:
            for line in file:
                if line.startswith("flags"):
                    return "avx" in line.split(":", 1)[1].split()
    except OSError:
        return None
    return None


def _verdict(densify: int, percent_zero: float | None, problem: str | None, avx: bool | None,
             same: bool) -> tuple[bool, str]:
    if not same:
        return True, ("taken: the sparse-format model's logits differ from the plain-format model's "
                      "under XNNPACK, so other (sparse NCHW) kernels ran")
    if densify == 0:
        why = "the converter stored no weight in sparse format (no DENSIFY op), so XNNPACK got no sparse hint"
    elif problem is not None:
        why = f"the model does not fit XNNPACK's sparse pattern ({problem})"
    elif percent_zero is None or percent_zero <= 100 * SPARSE_ZERO_FRACTION:
        shown = "no 1x1 convolution" if percent_zero is None else f"{percent_zero:.1f}% zeros"
        why = f"XNNPACK needs more than 2/3 zeros in the 1x1 convolutions; this model has {shown}"
    elif avx:
        why = ("XNNPACK's x86 build keeps its dense kernels on CPUs with AVX (its sparse kernels "
               "target SSE only), and this CPU has AVX")
    else:
        why = "XNNPACK kept its dense kernels"
    return False, f"not taken: {why}; the logits are bit-identical to the plain-format model's"


def compare(dense_ms: float, sparse_ms: float, plain_content: bytes, sparse_content: bytes,
            plain_logits: np.ndarray, sparse_logits: np.ndarray,
            model_problem: str | None) -> XnnpackComparison:
    """Puts the timings and the evidence of the sparse path together.

    Args:
      dense_ms: the dense network's median single-image invoke under XNNPACK.
      sparse_ms: the sparse-format model's, likewise.
      plain_content: this level converted plainly (weights dense in the file).
      sparse_content: this level converted with `EXPERIMENTAL_SPARSITY`.
      plain_logits: logits of `plain_content` under XNNPACK on some inputs.
      sparse_logits: logits of `sparse_content` under XNNPACK on the same inputs.
      model_problem: tfmot's objection to the Keras model (None: it fits).

    Returns:
      The comparison.
    """
    filters = pointwise_weights(plain_content)
    total = sum(f.size for f in filters)
    percent_zero = None if not total else 100.0 * sum(int((f == 0).sum()) for f in filters) / total
    densify, avx = densify_ops(sparse_content), cpu_has_avx()
    same = bool(np.array_equal(plain_logits, sparse_logits))
    taken, reason = _verdict(densify, percent_zero, model_problem, avx, same)
    return XnnpackComparison(dense_ms=dense_ms, sparse_ms=sparse_ms, speedup=dense_ms / sparse_ms,
                             densify_ops=densify, pointwise_percent_zero=percent_zero,
                             model_problem=model_problem, cpu_has_avx=avx,
                             same_logits_as_dense_kernels=same, sparse_path=taken, reason=reason)
