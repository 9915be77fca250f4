"""Where a non-chief worker of a multi-worker run keeps its files.

Every worker runs the same program, and TensorFlow's collective ops need them to
take the same steps, checkpoints included; but only the chief may write the
results. Other workers therefore work in a private copy of the experiment,
taken before any worker starts (so a resumed run resumes the same level on
every worker) and deleted at the end unless the user named the folder.
"""
import contextlib
import tempfile

from lottery_tf.storage import files


@contextlib.contextmanager
def private_root(root: str, experiment: str, folder: str | None = None):
    """Yields a results root holding a copy of `<root>/<experiment>`.

    Args:
      root: the chief's results root.
      experiment: the experiment folder name to copy.
      folder: where to keep the copy (kept afterwards); None: a temporary folder.
    """
    scratch = folder or tempfile.mkdtemp(prefix="lottery_tf_worker_")
    source, target = files.join(root, experiment), files.join(scratch, experiment)
    files.rmtree(target)  # a copy from an earlier run is stale
    if files.isdir(source):  # the chief's root may be an object store: copy through gfile
        files.copy_tree(source, target, skip=(".lock", "tensorboard", "report"))
    try:
        yield scratch
    finally:
        if folder is None:
            files.rmtree(scratch)
