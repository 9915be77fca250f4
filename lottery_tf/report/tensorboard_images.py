"""The report's figures as TensorBoard images, beside the curves they summarize.

They go to the experiment's logdir as the run `report`, at the step of the
last level reported, so a rerun as IMP goes on adds a newer image.
"""
import os
from collections.abc import Mapping

from matplotlib.figure import Figure

from lottery_tf.report.figures import encode

RUN = "report"


def write_figures(figures: Mapping[str, Figure], tensorboard_root: str, step: int) -> str:
    """Writes each figure as an image summary tagged with its stem; returns the run's folder."""
    import tensorflow as tf  # only here: the rest of the report runs without TensorFlow

    logdir = os.path.join(tensorboard_root, RUN)
    writer = tf.summary.create_file_writer(logdir)
    with writer.as_default():
        for stem, figure in figures.items():
            image = tf.io.decode_png(encode(figure, "png"), channels=4)
            tf.summary.image(stem, image[None], step=step)
    writer.close()
    return logdir
