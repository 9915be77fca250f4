# TEMPORARY SHIM (issue 24): re-exports lottery_tf.storage.runs; removed once imports are updated.
from lottery_tf.storage.runs import *  # noqa: F401,F403
