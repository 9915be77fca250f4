"""Lottery tickets inside an ordinary `model.fit`: the internals of `lottery_tf.api`.

Each module does one job with the same code the command-line trainer uses:
`wrapping` (tfmot wrappers and layer kinds), `pruning` (masks between levels),
`rewinding` (the weights at step k and resuming from them), `callbacks`
(the pruning step, exact zeros, early-stop and TensorBoard recording) and
`storing` (the level files `report` and `export` read).
"""
