"""Shared helpers of the benchmarks: the world to measure, timers and target lines.

Benchmarks are plain scripts (not pytest tests): speed is measured here, never in unit tests.
Every script exposes ``main() -> list[Target]``; ``run_all.py`` runs them in one process and
prints one ``TARGET <name>: measured <x> (target <y>) PASS|FAIL`` line per target at the end --
unless the machine was busy when it started (:class:`MachineLoad`): then each line ends in
``NOT TRUSTWORTHY: machine busy (load X)`` instead of a verdict, so that a slow number on a
shared machine is not taken for a regression.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rareflow.engine.inputs import YearInputs
from rareflow.engine.market import Adjustments, MarketModel
from rareflow.engine.simulate import simulate
from rareflow.model.world import World

YEARS = range(2024, 2041)
#: 1-minute load average per usable core above which a machine is too busy for a verdict
#: (> 1.0 on 2 cores): other processes then take a share of the cores the targets assume.
BUSY_LOAD_PER_CORE = 0.5


@dataclass(frozen=True)
class Target:
    """One performance target: a measured value against its bound (or a skip with a reason)."""

    name: str
    measured: float | None
    target: float
    unit: str = ""
    higher_is_better: bool = False
    skipped: str | None = None
    #: The bound itself passes (``<=``) instead of ``<`` (for lower-is-better targets).
    at_most: bool = False
    #: How the value was obtained when that is not a plain measurement (e.g. "projected
    #: from 300 draws"); printed after the value.
    note: str = ""

    @property
    def passed(self) -> bool:
        """Whether the measurement meets the target (False when skipped)."""
        if self.measured is None:
            return False
        if self.higher_is_better:
            return self.measured >= self.target
        if self.at_most:
            return self.measured <= self.target
        return self.measured < self.target

    def line(self, untrusted: str | None = None) -> str:
        """The ``TARGET ...`` summary line; ``untrusted``: why it gets no PASS/FAIL verdict."""
        relation = ">= " if self.higher_is_better else "<= " if self.at_most else "< "
        bound = relation + _fmt(self.target, self.unit)
        if self.skipped is not None or self.measured is None:
            return f"TARGET {self.name}: SKIPPED (target {bound}): {self.skipped}"
        verdict = untrusted or ("PASS" if self.passed else "FAIL")
        note = f" [{self.note}]" if self.note else ""
        return f"TARGET {self.name}: measured {_fmt(self.measured, self.unit)}{note} " \
               f"(target {bound}) {verdict}"


@dataclass(frozen=True)
class MachineLoad:
    """The 1-minute load average and the usable cores when the benchmarks start."""

    load_1min: float
    cores: int

    @property
    def busy(self) -> bool:
        """Whether the load is above :data:`BUSY_LOAD_PER_CORE` per core."""
        return self.load_1min > BUSY_LOAD_PER_CORE * self.cores

    def untrusted(self, force: bool = False) -> str | None:
        """What replaces the PASS/FAIL verdicts: None on a quiet machine or with ``force``."""
        if force or not self.busy:
            return None
        return f"NOT TRUSTWORTHY: machine busy (load {self.load_1min:.2f})"

    def line(self) -> str:
        """``load: 1-minute average X on N usable cores (busy above Y)``."""
        return (f"load: 1-minute average {self.load_1min:.2f} on {self.cores} usable cores "
                f"(busy above {BUSY_LOAD_PER_CORE * self.cores:.1f})")


def machine_load() -> MachineLoad:
    """This machine's load now (``os.getloadavg``) and its usable cores."""
    return MachineLoad(os.getloadavg()[0], _usable_cores())


def _usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _fmt(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value:.1f} %"
    if unit == "x":
        return f"{value:.2f}x" if value < 10 else f"{value:.1f}x"
    if abs(value) >= 1000:
        return f"{value:,.0f} {unit}".rstrip()
    return f"{value:.3g} {unit}".rstrip()


def bundled_or_tiny_world() -> tuple[World, str]:
    """The bundled world when it loads, else the tiny test world; with a label saying which."""
    try:
        from rareflow.data.loader import load_world

        world = load_world()
        return world, f"bundled world ({world.provenance.name} {world.provenance.version})"
    except Exception as error:  # the bundled data is still being completed
        from rareflow.testing import tiny_world

        return tiny_world(), f"tiny world (bundled world did not load: {error!r:.120})"


def machine() -> str:
    """A one-line description of the machine the numbers come from."""
    cores = os.cpu_count()
    usable = _usable_cores()
    return (f"{platform.processor() or platform.machine()}, {usable} usable cores "
            f"({cores} online), Python {platform.python_version()}")


def median_time(function: Callable[[], object], repeat: int) -> tuple[float, list[float]]:
    """Median wall time of ``repeat`` calls of ``function`` (seconds), and all the times."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


class PhaseTimer:
    """Accumulates wall time per named phase."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time the body of a ``with`` block under ``name``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

    def add(self, name: str, seconds: float) -> None:
        """Add ``seconds`` to phase ``name``."""
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds


def header(title: str) -> None:
    """Print a section header."""
    print(f"\n=== {title} ===")


def record_year_lps(world: World) -> list[tuple[YearInputs, Adjustments | None]]:
    """The inputs of every year LP that ``simulate(world, YEARS)`` solves, in order.

    Benchmarks replay them so that competing strategies solve exactly the same LPs as a
    scenario run (demand growth, scrap from the stock model, carried stockpiles).
    """
    recorded: list[tuple[YearInputs, Adjustments | None]] = []

    class Recorder(MarketModel):
        def set_year(self, inputs: YearInputs, adjustments: Adjustments | None = None) -> None:
            recorded.append((inputs, adjustments))
            super().set_year(inputs, adjustments)

    simulate(world, YEARS, model=Recorder(world))
    return recorded
