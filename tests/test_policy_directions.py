"""Bundled scenarios move the bundled world in the directions the seeds argue about."""

from __future__ import annotations

import pytest
import xarray as xr

from rareflow.runs.runner import run_scenario
from rareflow.scenario import bundled_names

YEARS = range(2024, 2027)


@pytest.fixture(scope="module")
def baseline() -> xr.Dataset:
    return run_scenario("baseline", years=YEARS).result


@pytest.fixture(scope="module")
def october() -> xr.Dataset:
    return run_scenario("controls-2025-october", years=YEARS).result


def _outside_price(ds: xr.Dataset, element: str, year: int) -> float:
    price = ds.price.sel(stage="separation", element=element, year=year).max("origin")
    return float(price.sel(region=["USA", "JPN", "DEU"]).mean())


@pytest.mark.parametrize("element", ["Dy", "Tb"])
def test_october_controls_raise_heavy_prices_outside_china(
    baseline: xr.Dataset, october: xr.Dataset, element: str
) -> None:
    assert _outside_price(october, element, 2025) > _outside_price(baseline, element, 2025)


def test_october_controls_cut_demand_met_outside_china(
    baseline: xr.Dataset, october: xr.Dataset
) -> None:
    def outside_not_met(ds: xr.Dataset) -> float:
        """Demand neither served nor substituted: priced out (demand response) or short."""
        lost = (ds.demand_response + ds.shortfall).sel(year=2025)
        return float(lost.drop_sel(region="CHN").sum())

    def stock_release(ds: xr.Dataset) -> float:
        return float(ds.stockpile_release.sel(year=2025).drop_sel(region="CHN").sum())

    widened = outside_not_met(october) > outside_not_met(baseline)
    covered = stock_release(october) > stock_release(baseline)
    assert widened or covered


def test_identical_before_the_controls_start(baseline: xr.Dataset, october: xr.Dataset) -> None:
    assert _outside_price(october, "Dy", 2024) == pytest.approx(
        _outside_price(baseline, "Dy", 2024))


@pytest.mark.parametrize("name", bundled_names())
def test_every_bundled_scenario_runs_2024_2040_on_the_bundled_world(name: str) -> None:
    result = run_scenario(name, years=range(2024, 2041)).result
    assert list(result.year.values) == list(range(2024, 2041))
    assert result.attrs["skipped_policies"] == ""
