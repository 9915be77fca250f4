"""Loss and accuracy of a model on the validation and test splits."""
import tensorflow as tf
import tf_keras as keras

from lottery_tf.data import pipeline
from lottery_tf.training.losses import cross_entropy


class Evaluator:
    """Evaluates `model` on a split in large batches under a strategy.

    With one replica the split stays in memory, cut into batches once, and a
    single `tf.function` runs them all: a tf.data iterator per evaluation cost
    LeNet-300-100 twice the forward passes themselves. Several replicas
    read a distributed dataset, built once and reused.
    """

    def __init__(self, model: keras.Model, strategy: tf.distribute.Strategy, splits,
                 batch_size: int, jit_compile: bool = True):
        self.model = model
        self.strategy = strategy
        self.splits = splits
        self.batch_size = batch_size
        self._datasets = {}
        # XLA fuses tfmot's in-place masking into the forward pass.
        self._replica_sums = tf.function(self._replica_batch_sums, jit_compile=jit_compile)

        @tf.function
        def dataset_sums(dataset):
            # The whole pass in one graph: no Python between batches.
            total_loss, total_correct = tf.constant(0.0), tf.constant(0.0)
            for images, labels in dataset:
                loss, correct = self._distributed_batch_sums(images, labels)
                total_loss += loss
                total_correct += correct
            return total_loss, total_correct

        self._dataset_sums = dataset_sums

        @tf.function
        def tensor_sums(batches):
            total_loss, total_correct = tf.constant(0.0), tf.constant(0.0)
            for images, labels in batches:  # unrolled: a few large batches
                loss, correct = self._replica_sums(images, labels)
                total_loss += loss
                total_correct += correct
            return total_loss, total_correct

        self._tensor_sums = tensor_sums

    def _replica_batch_sums(self, images, labels):
        logits = self.model(images, training=False)
        loss = cross_entropy(labels, logits)  # plain: comparable across label smoothing
        correct = tf.cast(tf.equal(tf.argmax(logits, -1, output_type=labels.dtype), labels), tf.float32)
        return tf.reduce_sum(loss), tf.reduce_sum(correct)

    def _distributed_batch_sums(self, images, labels):
        loss, correct = self.strategy.run(self._replica_sums, args=(images, labels))
        total = self.strategy.reduce
        return (total(tf.distribute.ReduceOp.SUM, loss, axis=None),
                total(tf.distribute.ReduceOp.SUM, correct, axis=None))

    def _data(self, split: str):
        if split not in self._datasets and getattr(self.splits, "streamed", False):
            # Read from files at every pass, never cached: the split may not fit in memory.
            dataset = self.splits.eval_dataset(split, self.batch_size)
            self._datasets[split] = (self.strategy.experimental_distribute_dataset(dataset),
                                     self.splits.size(split))
        if split not in self._datasets:
            images, labels = getattr(self.splits, f"{split}_x"), getattr(self.splits, f"{split}_y")
            if self.strategy.num_replicas_in_sync == 1:
                # Sliced once here: slicing inside the pass copied the split every time.
                images, labels = pipeline.as_tensors(images, labels)
                data = [(images[start:start + self.batch_size], labels[start:start + self.batch_size])
                        for start in range(0, len(labels), self.batch_size)]
            else:
                dataset = pipeline.eval_dataset(images, labels, self.batch_size).cache()
                data = self.strategy.experimental_distribute_dataset(dataset)
            self._datasets[split] = (data, len(labels))
        return self._datasets[split]

    def evaluate(self, split: str) -> tuple[float, float]:
        """Mean loss and accuracy on the `val` or `test` split (NaN if it is empty)."""
        data, count = self._data(split)
        if count == 0:
            return float("nan"), float("nan")
        if isinstance(data, list):
            with self.strategy.scope():
                total_loss, total_correct = self._tensor_sums(data)
        else:
            total_loss, total_correct = self._dataset_sums(data)
        return float(total_loss) / count, float(total_correct) / count
