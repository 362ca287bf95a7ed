"""Bundled scenarios move the bundled world in the directions the seeds argue about."""

from __future__ import annotations

import pytest
import xarray as xr

from rareflow.runs.runner import run_scenario
from rareflow.scenario import bundled_names_of

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


def _china_price(ds: xr.Dataset, element: str, year: int) -> float:
    return float(ds.price.sel(stage="separation", element=element, year=year, region="CHN",
                              origin="china"))


@pytest.mark.parametrize("element", ["Dy", "Tb"])
@pytest.mark.parametrize("year", [2025, 2026])
def test_october_controls_lower_heavy_prices_inside_china_by_less_than_half(
    baseline: xr.Dataset, october: xr.Dataset, element: str, year: int
) -> None:
    # The oxide stuck in China depresses its price there, but holders and the state reserve
    # absorb it: no collapse to a few dollars as with fixed recipes and disposal only.
    before = _china_price(baseline, element, 2024)
    assert 0.5 * before < _china_price(october, element, year) < _china_price(baseline, element,
                                                                               year)


def test_baseline_has_no_two_tier_market(baseline: xr.Dataset) -> None:
    for element in ("NdPr", "Dy", "Tb"):
        for year in YEARS:
            assert _outside_price(baseline, element, year) == pytest.approx(
                _china_price(baseline, element, year), rel=0.02)


def test_october_controls_reduce_use_outside_china_by_price_not_by_rationing(
    baseline: xr.Dataset, october: xr.Dataset
) -> None:
    def outside(ds: xr.Dataset, name: str) -> float:
        return float(ds[name].sel(year=2025).drop_sel(region="CHN").sum())

    assert outside(october, "demand_response") > outside(baseline, "demand_response")
    assert outside(october, "shortfall") == pytest.approx(0.0, abs=1.0)


def test_identical_before_the_controls_start(baseline: xr.Dataset, october: xr.Dataset) -> None:
    assert _outside_price(october, "Dy", 2024) == pytest.approx(
        _outside_price(baseline, "Dy", 2024))


@pytest.mark.parametrize("name", bundled_names_of("2024"))
def test_every_bundled_scenario_runs_2024_2040_on_the_bundled_world(name: str) -> None:
    result = run_scenario(name, years=range(2024, 2041)).result
    assert list(result.year.values) == list(range(2024, 2041))
    assert result.attrs["skipped_policies"] == ""
