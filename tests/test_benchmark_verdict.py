"""benchmarks/run_all.py gives no PASS/FAIL verdict on a busy machine (logic only, no timing)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from _common import MachineLoad, Target
from run_all import EXIT_NO_VERDICT, report

FAST = Target("scenario", 0.4, 1.0, "s")
SLOW = Target("ensemble", 5.0, 10.0, "draws/s", higher_is_better=True)


@pytest.mark.parametrize(("load", "cores", "busy"), [
    (0.3, 2, False), (1.0, 2, False), (1.01, 2, True), (3.9, 8, False), (4.1, 8, True),
])
def test_busy_above_half_a_load_per_core(load: float, cores: int, busy: bool) -> None:
    assert MachineLoad(load, cores).busy is busy


def test_quiet_machine_gets_verdicts(capsys: pytest.CaptureFixture[str]) -> None:
    assert report([FAST], MachineLoad(0.2, 2)) == 0
    assert report([FAST, SLOW], MachineLoad(0.2, 2)) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("PASS") and lines[-1].endswith("FAIL")


def test_busy_machine_gets_numbers_without_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    assert report([FAST, SLOW], MachineLoad(1.7, 2)) == EXIT_NO_VERDICT
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    for line in lines:
        assert line.endswith("NOT TRUSTWORTHY: machine busy (load 1.70)")
        assert "PASS" not in line and "FAIL" not in line
    assert "measured 5 draws/s" in lines[1]


def test_force_gives_verdicts_on_a_busy_machine(capsys: pytest.CaptureFixture[str]) -> None:
    assert report([FAST, SLOW], MachineLoad(1.7, 2), force=True) == 1
    assert capsys.readouterr().out.splitlines()[-1].endswith("FAIL")


def test_skipped_targets_stay_skipped() -> None:
    skipped = Target("big", None, 10.0, "s", skipped="no data")
    assert MachineLoad(9.0, 2).untrusted() is not None
    assert "SKIPPED" in skipped.line(MachineLoad(9.0, 2).untrusted())
