"""Whether skipping a sparse level's zeros pays on this CPU, measured per level on real masks.

For each stored trunk level of a LeNet-style experiment (a chain of Dense
layers) it times one XLA-compiled training step (Adam, batch 60, gathered from
the in-memory training set as lottery_tf's trainer does) of three networks,
taking turns round after round:

  full    the full-width network (what a masked level computes today);
  narrow  the network without the input features and hidden units that no
          surviving weight connects forward (their weights get exactly zero
          gradient and nothing downstream reads them, so training is the same);
  sparse  the network with each kernel held as its surviving entries only
          (gather the inputs each entry reads, scale, sum per output unit).

and prints each one's speed-up over `full` at the level's mask.

  python scripts/benchmark_sparse_levels.py --experiment_dir=runs/lenet_300_100_mnist_<hash>
"""
import json
import os
import statistics
import time

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string("experiment_dir", None, "A stored experiment (its replicate_0 levels are read).")
flags.DEFINE_integer("steps", 300, "Training steps per timed segment.")
flags.DEFINE_integer("rounds", 5, "Timed rounds (one segment of each network per round).")
flags.DEFINE_integer("batch", 60, "Batch size.")
flags.DEFINE_list("levels", None, "Levels to measure (default every stored level).")
flags.DEFINE_string("json_out", "benchmark_sparse_levels.json", "Where to write the JSON results.")
flags.mark_flag_as_required("experiment_dir")


def surviving_widths(kernel_masks: list) -> list[int]:
    """Widths [inputs, hidden..., outputs] left once units no surviving weight leads on
    from are removed, last layer first (removing a unit can strand the ones feeding it)."""
    import numpy as np

    alive_out = np.ones(kernel_masks[-1].shape[1], bool)
    widths = [int(alive_out.sum())]
    for mask in reversed(kernel_masks):
        alive_in = mask[:, alive_out].any(axis=1)
        widths.insert(0, int(alive_in.sum()))
        alive_out = alive_in
    return widths


def chain_order(kernels: list) -> list:
    """The kernels of a Dense chain in forward order (each one's outputs feed the next).

    Raises:
      app.UsageError: they do not form one chain.
    """
    ordered = []
    rest = list(kernels)
    fed = {k.shape[1] for k in kernels}
    firsts = [k for k in rest if k.shape[0] not in fed]
    while firsts and len(firsts) == 1:
        ordered.append(firsts[0])
        rest = [k for k in rest if k is not firsts[0]]
        firsts = [k for k in rest if k.shape[0] == ordered[-1].shape[1]]
    if rest or not ordered:
        raise app.UsageError("The masks are not one chain of Dense layers (LeNet-style); "
                             "this benchmark measures those only.")
    return ordered


def _dense_chain(widths: list[int]):
    """A ReLU Dense chain of `widths` as (forward(x), trainable variables)."""
    import tf_keras as keras

    inputs = keras.Input((widths[0],))
    hidden = inputs
    for width in widths[1:-1]:
        hidden = keras.layers.Dense(width, activation="relu")(hidden)
    model = keras.Model(inputs, keras.layers.Dense(widths[-1])(hidden))
    return lambda x: model(x, training=True), model.trainable_variables


def _sparse_chain(kernel_masks: list):
    """The chain with each kernel held as its surviving entries only: a layer gathers
    the inputs each entry reads, scales them and sums them per output unit."""
    import numpy as np
    import tensorflow as tf

    layers = []
    for mask in kernel_masks:
        rows, cols = np.nonzero(mask.T)[::-1]  # grouped by output unit
        values = tf.Variable(tf.random.normal((len(rows),), stddev=0.05))
        layers.append((tf.constant(rows, tf.int32), tf.constant(cols, tf.int32), values,
                       tf.Variable(tf.zeros(mask.shape[1])), mask.shape[1]))

    def forward(x):
        for index, (rows, cols, values, bias, width) in enumerate(layers):
            products = tf.transpose(tf.gather(x, rows, axis=1) * values)
            x = tf.transpose(tf.math.unsorted_segment_sum(products, cols, width)) + bias
            if index < len(layers) - 1:
                x = tf.nn.relu(x)
        return x

    return forward, [v for layer in layers for v in layer[2:4]]


def _step_timer(network, width: int, batch: int, data):
    """A function timing `steps` XLA-compiled Adam steps of `network` = (forward, variables)
    on the first `width` input features."""
    import tensorflow as tf
    import tf_keras as keras

    forward, variables = network
    images, labels = data
    optimizer = keras.optimizers.Adam(1.2e-3)
    features = images[:, :width]

    @tf.function(jit_compile=True)
    def step(rows):
        x, y = tf.gather(features, rows), tf.gather(labels, rows)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(
                y, forward(x), from_logits=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=False))

    @tf.function(input_signature=[tf.TensorSpec([None, batch], tf.int32)])
    def loop(all_rows):
        for index in tf.range(tf.shape(all_rows)[0]):
            step(all_rows[index])

    def timed(steps: int, seed: int) -> float:
        rows = tf.random.stateless_uniform((steps, batch), (seed, 0), 0, images.shape[0], tf.int32)
        started = time.perf_counter()
        loop(rows)
        optimizer.iterations.numpy()
        return time.perf_counter() - started

    timed(20, 0)  # compile
    return timed


def main(argv):
    del argv
    import lottery_tf  # noqa: F401, I001  (sets the legacy-Keras switch before TensorFlow loads)
    import numpy as np
    import tensorflow as tf

    from lottery_tf.data.splits import load_splits
    from lottery_tf.storage import store

    dataset = store.read_json(os.path.join(FLAGS.experiment_dir, "config.json"))["config"]["dataset"]
    splits = load_splits(dataset["name"], dataset["data_dir"], dataset["validation_size"], verify=False)
    images = tf.constant(splits.train_x.reshape(len(splits.train_x), -1))
    data = (images, tf.constant(splits.train_y))
    replicate = os.path.join(FLAGS.experiment_dir, "replicate_0")
    levels = sorted(int(name.split("_")[1]) for name in os.listdir(replicate)
                    if name.startswith("level_") and os.path.exists(
                        os.path.join(replicate, name, "mask.npz")))
    results, level_kernels = [], []
    full_widths = None
    for level in levels:
        masks = store.load_arrays(os.path.join(replicate, f"level_{level}", "mask.npz"))
        kernels = chain_order([np.asarray(mask) for mask in masks.values()])
        if FLAGS.levels and str(level) not in FLAGS.levels:
            continue
        if full_widths is None:
            full_widths = [kernels[0].shape[0]] + [k.shape[1] for k in kernels]
        widths = surviving_widths(kernels)
        kept = sum(int(k.sum()) for k in kernels) / sum(k.size for k in kernels)
        results.append({"level": level, "percent_remaining": 100 * kept, "widths": widths})
        level_kernels.append(kernels)
    timers = {"full": _step_timer(_dense_chain(full_widths), full_widths[0], FLAGS.batch, data)}
    for result, kernels in zip(results, level_kernels, strict=True):
        level = result["level"]
        widths = result["widths"]
        timers[level, "narrow"] = _step_timer(_dense_chain(widths), widths[0], FLAGS.batch, data)
        timers[level, "sparse"] = _step_timer(_sparse_chain(kernels), full_widths[0], FLAGS.batch, data)
    seconds = {key: [] for key in timers}
    for round_index in range(FLAGS.rounds):
        for key, timed in timers.items():
            seconds[key].append(timed(FLAGS.steps, round_index + 1))
    full = statistics.median(seconds["full"])
    print(f"full network {full_widths}: {FLAGS.steps / full:.0f} it/s; speed-up over it of the "
          "same level trained without its dead units (narrow) or on sparse kernels (sparse):")
    print(f"{'level':>5} {'% left':>7}  {'surviving widths':<24} {'narrow':>7} {'sparse':>7}")
    for result in results:
        for kind in ("narrow", "sparse"):
            result[f"{kind}_speedup_ratio"] = full / statistics.median(seconds[result["level"], kind])
        print(f"{result['level']:>5} {result['percent_remaining']:>7.1f}  {str(result['widths']):<24} "
              f"{result['narrow_speedup_ratio']:>7.2f} {result['sparse_speedup_ratio']:>7.2f}")
    with open(FLAGS.json_out, "w") as handle:
        json.dump({"full_widths": full_widths, "full_it_per_s": FLAGS.steps / full,
                   "levels": results}, handle, indent=1)


if __name__ == "__main__":
    app.run(main)
