"""Every bundled scenario compiles and simulates 2024-2030 on ``tiny_world()``.

The tiny world has four regions (CHN, USA, AUS, JPN; group ``allies``) and generic facility
ids, so policies naming real facilities (``mp_10x_magnets``...) or groups it lacks (``EU``) are
left out with ``missing="skip"``; each skipped policy must be listed with the absent name.
"""

from __future__ import annotations

import pytest
import xarray as xr

from rareflow.engine.simulate import simulate
from rareflow.model.errors import DataError
from rareflow.model.world import World
from rareflow.policy import compile_policies, simulate_scenario
from rareflow.scenario import Scenario, bundled_names, bundled_names_of, load_scenario
from rareflow.scenario.world_check import valid_names
from rareflow.testing import tiny_world

YEARS = range(2024, 2031)


@pytest.fixture(scope="module")
def world() -> World:
    return tiny_world()


def test_library_is_bundled() -> None:
    assert {"baseline", "heavy-ban", "price-war", "crma-2030"} <= set(bundled_names())


@pytest.mark.parametrize("name", bundled_names_of("2024"))
def test_bundled_scenario_compiles_and_runs(name: str, world: World) -> None:
    scenario = load_scenario(name)
    program = compile_policies(scenario, world, missing="skip")
    valid = valid_names(world)
    absent = {
        policy.id: [ref.value for ref in policy.references() if ref.value not in valid[ref.kind]]
        for policy in scenario.policies
    }
    expected_skips = {pid for pid, names in absent.items() if names}
    assert {s.policy_id for s in program.skipped} == expected_skips
    for skipped in program.skipped:  # the reason names what the tiny world lacks
        assert all(value in skipped.reason for value in absent[skipped.policy_id])
    assert set(program.policy_ids) == {p.id for p in scenario.policies} - expected_skips

    ds = simulate(program.world, years=YEARS, policy=program)
    assert list(ds.year.values) == list(YEARS)
    assert ds.fiscal_cost.dims == ("year", "instrument")
    assert list(ds.fiscal_cost.instrument.values) == program.policy_ids
    assert ds.fiscal_cost.attrs["units"] == "USD million"
    assert bool(ds.price.notnull().any())


def test_heavy_ban_splits_dy_prices_from_2026(world: World) -> None:
    ds = simulate_scenario(load_scenario("heavy-ban"), world, range(2025, 2028))
    dy = ds.price.sel(stage="separation", element="Dy", origin="china")
    assert float(dy.sel(year=2027, region="USA")) > float(dy.sel(year=2027, region="CHN")) + 100
    assert float(ds.trade.sel(product=["oxide", "metal", "magnet"], exporter="CHN",
                              importer=["USA", "AUS", "JPN"], element=["Dy", "Tb"],
                              year=2027).sum()) == 0.0


def test_price_war_subsidy_is_bounded_and_costs_china(world: World) -> None:
    ds = simulate_scenario(load_scenario("price-war"), world, range(2025, 2028))
    cost = ds.fiscal_cost.sel(instrument="chn_price_war_magnet")
    assert float(cost.sel(year=2025)) == 0.0
    assert float(cost.sel(year=2027)) > 0.0


def test_simulate_scenario_reports_skips_and_attrs(world: World) -> None:
    scenario = load_scenario("mp-dod-2025")
    with pytest.raises(DataError, match=r"mp_10x_magnets|mp_mountain_pass"):
        simulate_scenario(scenario, world, [2024])
    ds = simulate_scenario(scenario, world, [2024, 2025], missing="skip")
    assert isinstance(ds, xr.Dataset)
    assert ds.attrs["scenario"] == "mp-dod-2025"
    assert ds.attrs["seed"] == 0
    assert "dod_mp_ndpr_floor" in ds.attrs["skipped_policies"]
    assert "mp_mountain_pass_separation" in ds.attrs["skipped_policies"]
    assert list(ds.fiscal_cost.instrument.values) == ["chn_tech_ban_2023"]


def test_simulate_scenario_applies_overrides(world: World) -> None:
    data = load_scenario("baseline").to_plain()
    data["overrides"] = {"facilities": {"us_sep": {"cancelled": True}},
                         "demand_growth": {"ev": {2025: 0.5}}}
    scenario = Scenario.model_validate(data)
    ds = simulate_scenario(scenario, world, [2024, 2025])
    assert float(ds.facility_capacity.sel(facility="us_sep").sum()) == 0.0
    plain = simulate(world, years=[2024, 2025])
    ratio = ds.demand.sel(sector="ev", region="USA") / plain.demand.sel(sector="ev", region="USA")
    assert float(ratio.sel(year=2025)) == pytest.approx(1.5 / 1.08)
