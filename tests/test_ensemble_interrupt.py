"""Ctrl-C during an ensemble's batch commit: held until the commit is done, then raised."""

from __future__ import annotations

import os
import signal

import pytest

from rareflow.runs.ensemble.driver import _interrupt_after


def test_sigint_inside_a_commit_is_raised_after_it() -> None:
    # Python's own handler, as in a terminal (a suite started under nohup inherits SIGINT ignored)
    outer = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        finished = []
        with pytest.raises(KeyboardInterrupt), _interrupt_after():
            os.kill(os.getpid(), signal.SIGINT)
            finished.append("commit")  # the interrupt did not cut the commit short
        assert finished == ["commit"]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, outer)


def test_no_sigint_leaves_the_commit_and_handler_alone() -> None:
    before = signal.getsignal(signal.SIGINT)
    with _interrupt_after():
        pass
    assert signal.getsignal(signal.SIGINT) is before


def test_an_ignored_sigint_stays_ignored() -> None:
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with _interrupt_after():
            os.kill(os.getpid(), signal.SIGINT)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)
