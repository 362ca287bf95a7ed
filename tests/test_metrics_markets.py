"""shortfall, demand_response, prices, fiscal_cost."""

import math

import numpy as np
import pytest

from rareflow.metrics import demand_response, fiscal_cost, prices, shortfall
from rareflow.testing import empty_result, put, ship, synthetic_result

REGIONS = ["CHN", "USA", "JPN", "DEU"]


def test_shortfall_puts_defence_first():
    ds = empty_result([2026, 2027], REGIONS)
    put(ds, "shortfall", 5.0, year=2026, region="USA", sector="defence")
    put(ds, "shortfall", 7.0, year=2026, region="JPN", sector="defence")
    put(ds, "shortfall", 100.0, year=2026, region="USA", sector="ev")
    put(ds, "demand_response", 50.0, year=2026, region="USA", sector="defence")
    world = shortfall(ds)
    assert list(world["sector"].values) == [
        "defence", "ev", "wind", "electronics", "industrial_motors", "other"
    ]
    assert float(world.sel(year=2026, sector="defence")) == 12.0  # not the demand response
    us = shortfall(ds, "USA").sel(year=2026)
    np.testing.assert_array_equal(us.values[:2], [5.0, 100.0])
    group = shortfall(ds, ["USA", "JPN"]).sel(year=2026, sector="defence")
    assert float(group) == 12.0
    assert float(shortfall(ds, "USA").sel(year=2027, sector="defence")) == 0.0
    assert world.attrs["units"] == "t (magnet t or t REO)"
    assert world.name == "shortfall"


def test_demand_response_sums_regions_and_keeps_its_sign():
    ds = empty_result([2026], REGIONS)
    put(ds, "demand_response", 30.0, region="USA", sector="defence")
    put(ds, "demand_response", -10.0, region="JPN", sector="defence")  # cheap: more used
    put(ds, "shortfall", 4.0, region="USA", sector="defence")
    world = demand_response(ds)
    assert str(world["sector"].values[0]) == "defence"
    assert float(world.sel(year=2026, sector="defence")) == 20.0
    assert float(demand_response(ds, "JPN").sel(year=2026, sector="defence")) == -10.0
    assert world.attrs["units"] == "t (magnet t or t REO)"
    assert world.name == "demand_response"


def test_demand_splits_into_its_four_outcomes():
    ds = synthetic_result(1)
    parts = (ds["served"].sum("region") + ds["substituted"].sum("region")
             + demand_response(ds) + shortfall(ds))
    np.testing.assert_allclose(parts, ds["demand"].sum("region").sel(sector=parts["sector"]))


def test_shortfall_without_a_defence_sector_keeps_order():
    ds = empty_result([2026], REGIONS, sectors=["ev", "wind"])
    assert list(shortfall(ds)["sector"].values) == ["ev", "wind"]
    assert list(demand_response(ds)["sector"].values) == ["ev", "wind"]


def test_shortfall_names_a_missing_variable():
    ds = empty_result([2026], REGIONS).drop_vars("shortfall")
    with pytest.raises(KeyError, match="shortfall"):
        shortfall(ds)


@pytest.fixture
def priced():
    ds = empty_result([2030], REGIONS)
    at = {"year": 2030, "stage": "separation", "element": "NdPr"}
    put(ds, "price", 60.0, region="CHN", origin="china", **at)
    put(ds, "price", 0.0, region="CHN", origin="other", **at)
    put(ds, "price", 100.0, region="USA", origin="other", **at)
    put(ds, "price", 90.0, region="USA", origin="china", **at)
    put(ds, "price", 80.0, region="JPN", origin="other", **at)
    put(ds, "price", 500.0, region="DEU", origin="other", **at)
    put(ds, "consumption", 10.0, region="USA", **at)
    put(ds, "consumption", 30.0, region="JPN", **at)
    put(ds, "consumption", 1000.0, region="CHN", **at)
    return ds


def test_prices_inside_and_outside_china(priced):
    two_tier = prices(priced).sel(year=2030)
    assert list(two_tier["market"].values) == ["inside_china", "outside_china"]
    assert float(two_tier.sel(market="inside_china")) == 60.0
    # weights 10 (USA at 100), 30 (JPN at 80), 0 (DEU): (1000 + 2400) / 40
    assert float(two_tier.sel(market="outside_china")) == pytest.approx(85.0)
    assert two_tier.attrs["units"] == "USD/kg"


def test_prices_for_a_given_region_and_origin(priced):
    assert float(prices(priced, region="DEU").sel(year=2030, market="outside_china")) == 500.0
    by_origin = prices(priced, origin="china").sel(year=2030)
    assert float(by_origin.sel(market="inside_china")) == 60.0
    assert float(by_origin.sel(market="outside_china")) == pytest.approx((900.0 + 0.0) / 40.0)


def test_nan_duals_are_left_out_of_the_outside_mean(priced):
    put(priced, "price", float("nan"), region="JPN", stage="separation", element="NdPr")
    put(priced, "price", float("nan"), region="CHN", stage="separation", element="NdPr",
        origin="other")
    two_tier = prices(priced).sel(year=2030)
    assert float(two_tier.sel(market="inside_china")) == 60.0
    assert float(two_tier.sel(market="outside_china")) == 100.0  # only USA is priced
    put(priced, "price", float("nan"), stage="separation", element="NdPr")
    assert np.isnan(prices(priced).values).all()


def test_prices_with_no_consumption_outside_china_are_nan(priced):
    put(priced, "consumption", 0.0, stage="separation", element="NdPr")
    outside = prices(priced).sel(year=2030, market="outside_china")
    assert math.isnan(float(outside))


def test_fiscal_cost_sums_inclusive_years_by_instrument():
    ds = empty_result(list(range(2024, 2036)), ["USA"], instruments=["ndpr_floor", "offtake_10x"])
    put(ds, "fiscal_cost", 10.0, instrument="ndpr_floor")
    put(ds, "fiscal_cost", 2.5, instrument="offtake_10x", year=2030)
    cost = fiscal_cost(ds, 2025, 2034)
    assert float(cost.sel(instrument="ndpr_floor")) == 100.0
    assert float(cost.sel(instrument="offtake_10x")) == 2.5
    assert cost.attrs["units"] == "USD million"
    only = fiscal_cost(ds, 2020, 2024, instruments=["ndpr_floor"])
    assert only["instrument"].values.tolist() == ["ndpr_floor"]
    assert float(only.sum()) == 10.0
    with pytest.raises(ValueError, match="after"):
        fiscal_cost(ds, 2030, 2025)


def test_a_region_is_priced_by_the_origins_it_gets(priced):
    """heavy-ban 2026: China's balance of non-Chinese oxide carries the world price; a banned
    origin in the USA carries an arbitrary dual. Neither is what buyers there pay."""
    at = {"year": 2030, "element": "NdPr"}
    put(priced, "price", 75.0, region="CHN", origin="other", stage="separation", **at)
    put(priced, "production", 1000.0, stage="separation", region="CHN", origin="china", **at)
    put(priced, "production", 10.0, stage="separation", region="USA", origin="other", **at)
    ship(priced, "oxide", "DEU", "JPN", 20.0, origin="other", year=2030)
    ship(priced, "oxide", "CHN", "JPN", 10.0, origin="china", year=2030)
    put(priced, "price", 50.0, region="JPN", origin="china", stage="separation", **at)
    two_tier = prices(priced).sel(year=2030)
    assert float(two_tier.sel(market="inside_china")) == 60.0  # not max(60, 75)
    assert float(prices(priced, region="USA").sel(year=2030, market="outside_china")) == 100.0
    # JPN gets 20 other at 80 and 10 China-origin at 50 -> 70; DEU gets nothing -> max (500)
    assert float(prices(priced, region="JPN").sel(year=2030, market="outside_china")) == (
        pytest.approx(70.0))
    assert float(prices(priced, region="DEU").sel(year=2030, market="outside_china")) == 500.0
    # the outside mean: USA 10 t at 100, JPN 30 t at 70
    assert float(two_tier.sel(market="outside_china")) == pytest.approx((1000 + 2100) / 40)
