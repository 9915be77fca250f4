# TEMPORARY SHIM (issue 24): re-exports lottery_tf.storage.summaries; removed once imports are updated.
from lottery_tf.storage.summaries import *  # noqa: F401,F403
