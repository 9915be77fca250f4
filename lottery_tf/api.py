"""Lottery tickets inside an ordinary `model.fit`: the public Keras API.

    from lottery_tf import api as lt

    model = lt.wrap(model)                      # prune_low_magnitude, never pruning by itself
    rewind = lt.RewindCallback(step=0)          # weights at step k of the first training
    for level in range(levels + 1):
        if level:
            lt.prune(model, rate=0.2, output_rate=0.1)   # global magnitude ranking
            start = lt.rewind(model, rewind)             # survivors <- step-k weights, fresh optimizer
        recorder = lt.LevelRecorder(test_data=test)
        model.fit(..., callbacks=[lt.PruningStep(), rewind, recorder])
        lt.save_level(root, level, model, recorder, config={...})

See README.md ("Lottery tickets in your own model.fit") for the full script.
Internals live in `lottery_tf.fit`.
"""
from lottery_tf.fit.callbacks import LevelRecorder, PruningStep
from lottery_tf.fit.losses import SparseCrossEntropy
from lottery_tf.fit.pruning import get_masks, prune, set_masks
from lottery_tf.fit.rewinding import ResumableSchedule, RewindCallback, batches_from_step, rewind
from lottery_tf.fit.storing import experiment_config, save_level
from lottery_tf.fit.wrapping import is_wrapped, layer_kinds, wrap

__all__ = [
    "LevelRecorder", "PruningStep", "ResumableSchedule", "RewindCallback", "SparseCrossEntropy",
    "batches_from_step",
    "experiment_config", "get_masks", "is_wrapped", "layer_kinds", "prune", "rewind", "save_level",
    "set_masks", "wrap",
]
