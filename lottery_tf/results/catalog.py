# TEMPORARY SHIM (issue 24): re-exports lottery_tf.storage.catalog; removed once imports are updated.
from lottery_tf.storage.catalog import *  # noqa: F401,F403
from lottery_tf.storage.catalog import _match, _numbered  # noqa: F401
