"""tf.distribute strategies by name, and which process writes results.

Every strategy trains the same global batch (`training.batch_size` is split over
the replicas, and the learning rate is never rescaled), so a config means the
same experiment on a laptop CPU, a GPU box or a TPU slice.
"""
import dataclasses
import json
import os

import tensorflow as tf

from lottery_tf.errors import ConfigError

STRATEGIES = ("default", "one_device", "mirrored", "multi_worker", "tpu")


@dataclasses.dataclass(frozen=True)
class RuntimeSpec:
    """The runtime fields that choose and shape the strategy."""

    strategy: str = "default"
    cpu_devices: int | None = None
    tpu: str | None = None

    @classmethod
    def from_config(cls, runtime) -> "RuntimeSpec":
        return cls(runtime.strategy, runtime.get("cpu_devices"), runtime.get("tpu"))


def split_cpu(count: int) -> None:
    """Splits the host CPU into `count` logical devices (mirrored without GPUs).

    Raises:
      ConfigError: TensorFlow has already started, so its devices are fixed.
    """
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)])
    except RuntimeError as error:
        raise ConfigError("runtime.cpu_devices must be applied before TensorFlow starts; set it "
                          "on the command line or before any other TensorFlow call.") from error


def make_strategy(runtime: RuntimeSpec) -> tf.distribute.Strategy:
    """Builds the named strategy.

    - `default`: TensorFlow's no-op strategy.
    - `one_device`: the first GPU if any, else the CPU.
    - `mirrored`: every local GPU; without GPUs, `cpu_devices` logical CPUs.
    - `multi_worker`: MultiWorkerMirroredStrategy; the cluster comes from TF_CONFIG.
    - `tpu`: TPUStrategy on the TPU named by `runtime.tpu` ('' or 'local': this host's).

    Raises:
      ConfigError: unknown name, a missing TF_CONFIG, or no TPU where one was named.
    """
    name = runtime.strategy
    if name not in STRATEGIES:
        raise ConfigError(f"Unknown runtime.strategy {name!r}; choose one of {list(STRATEGIES)}.")
    if runtime.cpu_devices:
        if runtime.cpu_devices < 1:
            raise ConfigError(f"runtime.cpu_devices must be >= 1, got {runtime.cpu_devices}.")
        split_cpu(runtime.cpu_devices)
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "one_device":
        gpus = tf.config.list_logical_devices("GPU")
        return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")
    if name == "mirrored":
        devices = [d.name for d in tf.config.list_logical_devices("GPU")]
        return tf.distribute.MirroredStrategy(devices or [
            d.name for d in tf.config.list_logical_devices("CPU")])
    if name == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise ConfigError("runtime.strategy=multi_worker needs the TF_CONFIG environment variable "
                              "(cluster and task) in every worker process.")
        return tf.distribute.MultiWorkerMirroredStrategy()
    return _tpu_strategy(runtime.tpu)


def _tpu_strategy(address: str | None) -> tf.distribute.Strategy:
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(
            tpu="local" if address in (None, "") else address)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, OSError, tf.errors.OpError) as error:
        raise ConfigError(f"No TPU found at runtime.tpu={address!r} ({str(error).splitlines()[0]}); "
                          "name the TPU (its name or grpc:// address) or choose another "
                          "runtime.strategy.") from error
    return tf.distribute.TPUStrategy(resolver)


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes results: always, except a non-chief multi-worker task."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) or resolver is None:
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    if task_type in ("chief", None):
        return True
    # Without a "chief" task, worker 0 is the chief (TensorFlow's convention).
    cluster = json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
    return task_type == "worker" and task_id == 0 and "chief" not in cluster


def xla_supported(strategy: tf.distribute.Strategy) -> bool:
    """Whether the train and eval steps may be XLA-compiled under `strategy`.

    XLA places a CPU cluster on one device, so replicas on several CPU devices
    (or CPU workers, whose updates are merged across processes) train without it.
    """
    if strategy.num_replicas_in_sync == 1:
        return True
    device = tf.DeviceSpec.from_string(strategy.extended.worker_devices[0])
    return (device.device_type or "").upper() != "CPU"


def barrier(strategy: tf.distribute.Strategy) -> None:
    """Returns once every worker has reached it (multi-worker only: an all-reduce)."""
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return

    @tf.function
    def all_reduce():
        value = strategy.run(lambda: tf.constant(1.0))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)

    all_reduce().numpy()
