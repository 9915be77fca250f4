# TEMPORARY SHIM (issue 24): re-exports lottery_tf.config.files; removed once imports are updated.
from lottery_tf.config.files import *  # noqa: F401,F403
