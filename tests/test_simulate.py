"""The multi-year simulator: schedules, stocks carried between years, determinism, CLI."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from hypothesis_budget import SIMULATION, scaled
from rareflow.cli import main
from rareflow.data.loader import load_world
from rareflow.engine.balance import balance_residuals
from rareflow.engine.inputs import YearInputs
from rareflow.engine.market import Adjustments
from rareflow.engine.schedule import Schedule
from rareflow.engine.simulate import SimulationState, simulate
from rareflow.model.facilities import Facility
from rareflow.model.world import World
from rareflow.testing import random_world, tiny_world

YEARS = range(2024, 2031)


@pytest.fixture(scope="module")
def tiny_run() -> xr.Dataset:
    return simulate(tiny_world(), YEARS)


def test_result_has_a_year_dimension_and_balances_every_year(tiny_run: xr.Dataset) -> None:
    assert list(tiny_run.year.values) == list(YEARS)
    for node, residual in balance_residuals(tiny_run).items():
        assert float(abs(residual).max()) < 1e-6 * float(tiny_run.production.max()), node


def test_demand_grows_by_the_sector_growth_path(tiny_run: xr.Dataset) -> None:
    ev = tiny_run.demand.sel(sector="ev", region="CHN")
    # tiny world: EV demand grows 8 %/y from 2025.
    assert float(ev.sel(year=2030) / ev.sel(year=2024)) == pytest.approx(1.08**6)


def test_end_of_life_magnets_become_recycling_feed() -> None:
    world = tiny_world()
    sectors = tuple(
        s.model_copy(update={"collection_rate": 0.5, "lifetime_mean_years": 3.0,
                             "lifetime_sd_years": 1.0}) if s.id == "electronics" else s
        for s in world.sectors
    )
    collecting = world.model_copy(update={"sectors": sectors})
    base = simulate(world, YEARS)
    more = simulate(collecting, YEARS)
    assert float(more.scrap_available.sum()) > float(base.scrap_available.sum())
    assert float(more.magnets_in_use.sel(sector="electronics").sum()) > 0


def test_stockpile_inventory_is_conserved_across_years() -> None:
    world = tiny_world()

    class ReleaseAll:
        def declare(self, network):
            return None

        def adjust(self, inputs: YearInputs, state: SimulationState):
            return replace(inputs, stock=inputs.stock.assign(release_price=0.0)), Adjustments()

        def account(self, result, state):
            return result

        def finish(self, result):
            return result

    ds = simulate(world, YEARS, policy=ReleaseAll())
    level = ds.stockpile_level.sel(region="JPN", element="Dy")
    release = ds.stockpile_release.sel(region="JPN", element="Dy")
    initial = 200.0  # tiny world: Japan holds 200 t of Dy
    expected = initial - release.cumsum("year")
    np.testing.assert_allclose(level.values, expected.values, atol=1e-6)
    assert float(release.sel(year=2024)) == pytest.approx(initial)


def test_delays_shift_a_facility_schedule() -> None:
    world = load_world()
    on_time = Schedule().capacity(world, 2028)["mp_10x_magnets"]
    late = Schedule(delays={"mp_10x_magnets": 2}).capacity(world, 2028)["mp_10x_magnets"]
    assert on_time > 0  # the 10X plant starts in 2028 (MP/DoD, Jul 2025)
    assert late == 0
    assert Schedule().capacity(world, 2027)["mp_10x_magnets"] == 0


def reference_facility_capacity(schedule: Schedule, facility: Facility, year: int,
                                advance: float = 0.0) -> float:
    """The original scalar ``Schedule.facility_capacity``, kept verbatim."""
    delay = schedule.delays.get(facility.id, 0)
    ramp = schedule.ramp_factor.get(facility.id, 1.0)
    whole = int(np.floor(advance))
    part = advance - whole
    value = (1.0 - part) * facility.capacity_in(year, delay - whole, ramp)
    if part:
        value += part * facility.capacity_in(year, delay - whole - 1, ramp)
    value *= schedule.capacity_factor.get(facility.id, 1.0)
    return value + schedule.extra_capacity.get(facility.id, {}).get(year, 0.0)


def reference_capacity(schedule: Schedule, world: World, year: int) -> pd.Series:
    """The original per-facility ``Schedule.capacity``, kept verbatim."""
    values = {f.id: reference_facility_capacity(schedule, f, year) for f in world.facilities}
    return pd.Series(values, dtype=float)


def _varied_facilities(world: World, rng: np.random.Generator) -> World:
    """``world`` with some facilities closed, ending, anchored or ramping differently."""
    facilities = []
    for f in world.facilities:
        update: dict[str, object] = {}
        if rng.random() < 0.1:
            update["status"] = "closed"
        if rng.random() < 0.3:
            update["end_year"] = f.start_year + int(rng.integers(0, 15))
        if rng.random() < 0.3:
            years = rng.choice(np.arange(2010, 2045), int(rng.integers(1, 4)), replace=False)
            update["capacity_t"] = {int(y): float(rng.choice([0.0, rng.uniform(0, 1e4)]))
                                    for y in years}
        if rng.random() < 0.3:
            update["ramp_years"] = int(rng.integers(0, 15))
        facilities.append(f.model_copy(update=update))
    return world.model_copy(update={"facilities": tuple(facilities)})


def _random_schedule(world: World, rng: np.random.Generator) -> Schedule:
    ids = [f.id for f in world.facilities]
    picked = {name: [i for i in ids if rng.random() < share]
              for name, share in (("delay", 0.5), ("ramp", 0.5), ("factor", 0.3), ("extra", 0.2))}
    return Schedule(
        delays={i: int(rng.integers(-3, 7)) for i in picked["delay"]},
        ramp_factor={i: float(rng.choice([0.0, 0.5, 1.3, 2.0, rng.uniform(0.3, 3)]))
                     for i in picked["ramp"]},
        capacity_factor={i: float(rng.choice([0.0, 0.7, 1.0, 2.0])) for i in picked["factor"]},
        extra_capacity={i: {int(y): float(rng.uniform(0, 100))
                            for y in range(2020, 2045) if rng.random() < 0.3}
                        for i in picked["extra"]},
    )


@scaled(SIMULATION)
@given(seed=st.integers(0, 10_000))
def test_scheduled_capacities_equal_the_per_facility_arithmetic(seed: int) -> None:
    rng = np.random.default_rng(seed)
    world = _varied_facilities(load_world() if seed % 2 else random_world(seed, 4, 3, 3), rng)
    schedule = _random_schedule(world, rng)
    years = list(range(2015, 2046))
    capacities = schedule.capacities(world, years)
    for position, year in enumerate(years):
        got, want = capacities.series(position), reference_capacity(schedule, world, year)
        pd.testing.assert_series_equal(got, want, check_exact=True)
        np.testing.assert_array_equal(np.signbit(got.to_numpy()), np.signbit(want.to_numpy()))
    pd.testing.assert_series_equal(schedule.capacity(world, 2031),
                                   reference_capacity(schedule, world, 2031), check_exact=True)


@scaled(SIMULATION)
@given(seed=st.integers(0, 10_000))
def test_advanced_facility_capacity_equals_the_scalar_arithmetic(seed: int) -> None:
    rng = np.random.default_rng(seed)
    world = _varied_facilities(load_world() if seed % 2 else random_world(seed, 4, 3, 3), rng)
    schedule = _random_schedule(world, rng)
    for facility in world.facilities[:12]:
        advance = float(rng.choice([0.0, 1.0, 2.0, rng.uniform(0, 3), -rng.uniform(0, 2)]))
        for year in (2015, 2024, 2027, 2030, 2040):
            got = schedule.facility_capacity(facility, year, advance)
            want = reference_facility_capacity(schedule, facility, year, advance)
            assert got == want and np.signbit(got) == np.signbit(want)


def test_fractional_delays_are_left_to_the_facility_arithmetic() -> None:
    world = load_world()
    schedule = Schedule(delays={world.facilities[0].id: 1.5})  # type: ignore[dict-item]
    for year in (2024, 2026, 2030):
        pd.testing.assert_series_equal(schedule.capacity(world, year),
                                       reference_capacity(schedule, world, year),
                                       check_exact=True)


def test_same_inputs_give_byte_identical_results() -> None:
    first, second = simulate(tiny_world(), YEARS), simulate(tiny_world(), YEARS)
    assert first.identical(second)
    assert _netcdf_bytes(first) == _netcdf_bytes(second)


def _netcdf_bytes(ds: xr.Dataset) -> bytes:
    buffer = io.BytesIO()
    ds.to_netcdf(buffer, engine="scipy")
    return buffer.getvalue()


def test_run_command_simulates_stores_and_answers(tmp_path: Path) -> None:
    out = tmp_path / "baseline.nc"
    result = CliRunner().invoke(main, ["run", "baseline", "--years", "2024-2026", "--store",
                                       str(tmp_path / "runs"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "China share of mining 2024" in result.output
    assert "stored as run" in result.output
    saved = xr.open_dataset(out)
    assert list(saved.year.values) == [2024, 2025, 2026]
    listing = CliRunner().invoke(main, ["runs", "list", "--store", str(tmp_path / "runs")])
    assert "baseline" in listing.output


def test_run_command_reports_a_misspelt_scenario(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["run", "basline", "--store", str(tmp_path)])
    assert result.exit_code == 2
    assert "baseline" in result.output
