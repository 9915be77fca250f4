"""Where a non-chief worker of a multi-worker run keeps its files.

Every worker runs the same program, and TensorFlow's collective ops need them to
take the same steps, checkpoints included; but only the chief may write the
results. Other workers therefore work in a private copy of the experiment,
taken before any worker starts (so a resumed run resumes the same level on
every worker) and deleted at the end unless the user named the folder.
"""
import contextlib
import os
import shutil
import tempfile


@contextlib.contextmanager
def private_root(root: str, experiment: str, folder: str | None = None):
    """Yields a results root holding a copy of `<root>/<experiment>`.

    Args:
      root: the chief's results root.
      experiment: the experiment folder name to copy.
      folder: where to keep the copy (kept afterwards); None: a temporary folder.
    """
    scratch = folder or tempfile.mkdtemp(prefix="lottery_tf_worker_")
    source, target = os.path.join(root, experiment), os.path.join(scratch, experiment)
    shutil.rmtree(target, ignore_errors=True)  # a copy from an earlier run is stale
    if os.path.isdir(source):
        shutil.copytree(source, target, ignore=shutil.ignore_patterns(".lock", "tensorboard", "report"))
    try:
        yield scratch
    finally:
        if folder is None:
            shutil.rmtree(scratch, ignore_errors=True)
