"""Warm starts of a re-used market from a reference run's bases (engine/warmstart.py)."""

from __future__ import annotations

import numpy as np
import pytest

from rareflow.data.loader import load_world
from rareflow.engine.market import MarketModel
from rareflow.engine.schedule import Schedule
from rareflow.engine.simulate import build_market, simulate
from rareflow.engine.warmstart import BasisRecorder, ReferenceBases, StartPolicy
from rareflow.model.world import World

YEARS = range(2024, 2030)


class IterationLog(StartPolicy):
    """Wraps a start policy and keeps each solve's iteration count."""

    def __init__(self, inner: StartPolicy) -> None:
        self.inner = inner
        self.iterations: list[int] = []

    def before_solve(self, model: MarketModel) -> None:
        self.inner.before_solve(model)

    def after_solve(self, model: MarketModel, iterations: int) -> None:
        self.iterations.append(iterations)
        self.inner.after_solve(model, iterations)


@pytest.fixture(scope="module")
def world() -> World:
    return load_world()


@pytest.fixture(scope="module")
def recorded(world: World) -> tuple[MarketModel, dict[int, object]]:
    market = build_market(world)
    recorder = BasisRecorder()
    market.start_policy = recorder
    simulate(world, YEARS, model=market)
    return market, dict(recorder.bases)


def test_recorder_keeps_one_basis_per_year(recorded: tuple[MarketModel, dict[int, object]]) -> None:
    _, bases = recorded
    assert sorted(bases) == list(YEARS)
    assert all(basis.valid for basis in bases.values())  # type: ignore[attr-defined]


def test_rerun_from_reference_needs_no_iterations(world: World, recorded) -> None:  # type: ignore[no-untyped-def]
    """The same run again starts every year at its optimal basis: zero simplex iterations."""
    market, bases = recorded
    starts = ReferenceBases(bases)
    log = IterationLog(starts)
    market.start_policy = log
    market.restart()
    starts.begin_draw()
    simulate(world, YEARS, model=market)
    assert log.iterations == [0] * len(YEARS)
    assert starts.following


def test_drifted_draw_stops_following_and_keeps_the_optimum(world: World, recorded) -> None:  # type: ignore[no-untyped-def]
    """A changed run leaves the reference after a costly year; its optimum is a cold run's."""
    market, bases = recorded
    big = max((f for f in world.facilities if f.stage == "separation"),
              key=lambda f: f.nameplate_t)
    schedule = Schedule(capacity_factor={big.id: 0.5})
    starts = ReferenceBases(bases, drift_iterations=1)
    log = IterationLog(starts)
    market.start_policy = log
    market.restart()
    starts.begin_draw()
    warm = simulate(world, YEARS, schedule=schedule, model=market)
    assert max(log.iterations) >= 1 and not starts.following
    cold = simulate(world, YEARS, schedule=schedule)
    np.testing.assert_allclose(warm.surplus.values[0], cold.surplus.values[0], rtol=1e-9)
    np.testing.assert_allclose(warm.surplus.values, cold.surplus.values, rtol=1e-4)
