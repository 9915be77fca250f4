"""Lottery tickets inside an ordinary `model.fit`: the public Keras API.

IMP in one `fit`, every level stored under `root`:

    from lottery_tf import api as lt

    model = lt.wrap(model)                      # then compile as usual
    imp = lt.LotteryTicket(root="runs", levels=10, epochs_per_level=5, rate=0.2, rewind="500it")
    model.fit(x, y, epochs=imp.total_epochs, validation_split=0.1, callbacks=[imp])
    lt.report("runs")

The pieces it is made of stay public, for the loop written by hand:

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
from lottery_tf.fit.lottery_ticket import LotteryTicket
from lottery_tf.fit.pruning import get_masks, prune, set_masks
from lottery_tf.fit.reporting import report
from lottery_tf.fit.rewinding import ResumableSchedule, RewindCallback, batches_from_step, rewind
from lottery_tf.fit.storing import experiment_config, save_level
from lottery_tf.fit.wrapping import is_wrapped, layer_kinds, wrap

__all__ = [
    "LevelRecorder", "LotteryTicket", "PruningStep", "ResumableSchedule", "RewindCallback",
    "SparseCrossEntropy", "batches_from_step",
    "experiment_config", "get_masks", "is_wrapped", "layer_kinds", "prune", "report", "rewind", "save_level",
    "set_masks", "wrap",
]
