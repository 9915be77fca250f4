"""Ctrl-C while a Trainer runs is held until the loop's next pause; a second one stops at once."""
import os
import signal
import threading

import pytest

from lottery_tf.training import interrupts
from lottery_tf.training.interrupts import DeferredInterrupt


def _ctrl_c():
    os.kill(os.getpid(), signal.SIGINT)


def test_the_first_sigint_waits_for_the_check_and_the_handler_is_restored():
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        with DeferredInterrupt():
            _ctrl_c()
            assert interrupts.requested()  # recorded, not raised: the work in hand goes on
            interrupts.raise_if_requested()
    assert signal.getsignal(signal.SIGINT) is before


def test_a_second_sigint_raises_at_once():
    with DeferredInterrupt():
        _ctrl_c()
        with pytest.raises(KeyboardInterrupt):
            _ctrl_c()
        assert not interrupts.requested()  # handled above


def test_one_arriving_after_the_last_check_raises_when_the_context_ends():
    with pytest.raises(KeyboardInterrupt):
        with DeferredInterrupt():
            _ctrl_c()


def test_nested_contexts_share_one_handler_and_the_outer_one_restores_it():
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        with DeferredInterrupt():
            _ctrl_c()  # before the inner context (a Trainer run) opens
            with DeferredInterrupt():
                interrupts.raise_if_requested()
    assert signal.getsignal(signal.SIGINT) is before
    assert not interrupts.requested()


def test_other_threads_keep_pythons_behaviour():
    handlers = []

    def run():
        with DeferredInterrupt():
            handlers.append(signal.getsignal(signal.SIGINT))

    before = signal.getsignal(signal.SIGINT)
    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert handlers == [before]  # no handler installed off the main thread
