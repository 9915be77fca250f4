"""Stored results: the one layer that reads and writes them, below training and experiments.

Every file goes through `tf.io.gfile`, so a results root may be a local folder or any
filesystem TensorFlow has (`gs://`, `s3://` with its plugin, `ram://` in tests).
`store` writes atomic, checksummed files; `paths` is the layout of an experiment;
`holders` and `lock` keep one writer per run (holder, heartbeat, re-read before
results are written); `crash_points` lets tests kill a process at named moments.
"""
