"""Stored files get the mode the umask gives, like files any other program writes."""
import os
import stat

import numpy as np
import pytest

from lottery_tf.storage import store


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_store_files_honour_the_umask(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        store.write_json(str(tmp_path / "a.json"), {"x": 1})
        store.save_arrays(str(tmp_path / "b.npz"), {"w": np.zeros(3)})
        store.atomic_write_bytes(str(tmp_path / "c.png"), b"png")
    finally:
        os.umask(previous)
    for name in ("a.json", "b.npz", "c.png"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == mode, name
