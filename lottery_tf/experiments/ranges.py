# TEMPORARY SHIM (issue 24): re-exports lottery_tf.config.ranges; removed once imports are updated.
from lottery_tf.config.ranges import *  # noqa: F401,F403
