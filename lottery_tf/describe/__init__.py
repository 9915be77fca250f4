"""The `describe` command: an experiment's pruned and dense weights, its first levels'
sparsity and an estimate of its time per level, before anyone spends hours on it.

- `weights.py`: one row per weight, pruned (kind, rate) or dense (and why).
- `levels.py`: the first levels' counts, by the pruning code itself.
- `timing.py`: the run's own training step timed, multiplied out per level.
- `description.py`: `describe`, all of it as plain data; `text.py` prints it.
"""
from lottery_tf.describe.description import Description, describe  # noqa: F401
from lottery_tf.describe.text import format_description  # noqa: F401
